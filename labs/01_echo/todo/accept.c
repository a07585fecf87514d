/* TODO (part 1, accept): wait for the next client and return its
 * socket.
 *   - accept() on listen_fd gives a new socket for one client, and that
 *     client's address: pass it a struct sockaddr_storage (big enough
 *     for IPv4 and IPv6) and its length.
 *   - On success, write the address into `peer` with format_address(),
 *     log "PEER connected" on stderr, and return the new socket.
 *   - When accept() fails with EINTR (a signal came first) or
 *     ECONNABORTED (the client gave up while it waited), call it again.
 *   - Any other failure: print "server: accept: REASON" on stderr
 *     (strerror), except for EAGAIN/EWOULDBLOCK, and return -1 with errno
 *     set.
 * Python: conn, addr = s.accept() */
(void)listen_fd;
(void)peer;
(void)peer_size;
fprintf(stderr, "%s: accept_client() is not written yet (LAB.md, part 1)\n",
        program_name);
errno = ENOSYS;
return -1;
