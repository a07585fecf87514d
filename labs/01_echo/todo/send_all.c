/* TODO (part 3, send_all): send all `len` bytes of `buf`.
 *   The stub below calls send() once, and that is the bug to fix:
 *   send() may take fewer bytes than asked (a short write) when the
 *   socket's buffer is nearly full. Loopback almost never does it, a
 *   real network does: the test "short writes" makes it happen.
 *   - Call send() again for the rest, until no byte is left.
 *   - send() failing with EINTR (a signal came first): try again.
 *   - Any other failure: return -1, with errno as send() left it.
 *   - Return 0 once every byte is sent.
 * Python: sock.sendall(data) */
return send(fd, buf, len, 0) < 0 ? -1 : 0;
