/* TODO (part 1, udp): send the datagram, and send it again while no
 * echo comes, 1 + c->retries tries in all; then give up.
 *   The stub below tries once. A datagram or its echo may be lost, and
 *   UDP never resends: the client must.
 *   - Each try: send_datagram(), and if it returns SENT, await_echo().
 *     Stop at the first outcome that is not NO_ECHO (ECHOED, FAILED or
 *     FATAL): that is the result.
 *   - Before each try but the first, print on stderr "client: datagram
 *     NUMBER: no echo within TIMEOUT s, sending it again (try K of
 *     TRIES)" (TIMEOUT with %g) and count it in t->resent.
 *   - No echo after the last try: "client: datagram NUMBER lost: no echo
 *     after TRIES tries" ("1 try" for one) on stderr. Never loop for
 *     ever: a server that is gone must not hang the client.
 *   Leave `result` holding the outcome: the code after this counts it.
 * Python: for attempt in range(1 + retries): s.sendto(...); try: ... */
enum outcome result = send_datagram(c, data, len, number);
if (result == SENT)
    result = await_echo(c, data, len, number);
