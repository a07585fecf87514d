/* TODO (part 1, udp): wait for the echo of `data`, and print it.
 *   The stub below is the naive client: one recvfrom() that waits for
 *   ever, and takes whatever comes, from whoever sent it, as the echo.
 *   UDP loses datagrams without a word, and anyone may send to our port.
 *   - Wait c->timeout_s seconds in all, not per receive: compute a
 *     deadline with monotonic_now(), and before each receive give
 *     set_receive_timeout() (net.c) only the time left (if that fails:
 *     report_socket_error(c, "setsockopt SO_RCVTIMEO"), return FATAL).
 *     Nothing left: return NO_ECHO (echo_datagram() decides whether to
 *     resend).
 *   - Receive with receive_datagram() into `echo`, at most c->buf_size
 *     bytes. -1 with EAGAIN or EWOULDBLOCK (the timeout) or EINTR: go
 *     round again. Any other failure: report_socket_error(c, "recv")
 *     and return FATAL (on a -c socket, ECONNREFUSED: nobody listens).
 *     0 is no failure: an empty datagram, which is not the echo.
 *   - Without -c (c->connected 0), a datagram whose sender is not
 *     c->server (same_address()) is not the echo: print "client:
 *     ignoring N bytes from ADDR: not the server" on stderr (ADDR from
 *     format_address()) and wait on.
 *   - Exactly the len bytes of `data`, not truncated: write them to
 *     stdout and return ECHOED.
 *   - Truncated to fewer bytes than len, and the n bytes that came are
 *     the start of `data`:
 *     "client: datagram NUMBER: echo truncated: N of LEN bytes (the
 *     receive buffer holds SIZE; see -b)" on stderr, return FAILED.
 *   - Anything else (a late echo of an earlier datagram): "client:
 *     datagram NUMBER: ignoring N bytes that are not its echo (a late
 *     echo of an earlier datagram?)" on stderr, and wait on.
 * Python: s.settimeout(t); data, addr = s.recvfrom(bufsize) */
(void)data;
(void)len;
(void)number;
(void)same_address; /* yours to call */
struct sockaddr_storage from;
int truncated;
ssize_t n = receive_datagram(c->fd, echo, c->buf_size, &from, &truncated);
if (n < 0) {
    report_socket_error(c, "recv");
    return FATAL;
}
fwrite(echo, 1, (size_t)n, stdout);
return ECHOED;
