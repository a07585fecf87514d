/* TODO (part 1, accept): wait for the next client; return its socket.
 *   - accept() on listen_fd returns a new socket, for one client, and
 *     fills in that client's address: give it a struct
 *     sockaddr_storage (room for IPv4 and IPv6) and its length.
 *   - Then write the address into `peer` with format_address(), log
 *     "PEER connected" on stderr, and return the new socket.
 *   - accept() failing with EINTR (a signal came first): call it
 *     again. Failing with an error of the new connection, not of the
 *     listener (is_new_connection_error() says which): log
 *     "PROGRAM: accept: REASON" and call it again.
 *   - Any other failure (EMFILE: out of file descriptors, ENOBUFS...):
 *     log "PROGRAM: accept: REASON" once (not for EAGAIN and
 *     EWOULDBLOCK) and return -1, errno set; the server then exits 1.
 *     Calling accept() again would fail the same way, at full CPU.
 *   (PROGRAM is program_name: "server". REASON is strerror(errno).)
 * Python: conn, addr = s.accept() */
(void)listen_fd;
(void)peer;
(void)peer_size;
(void)is_new_connection_error;
fprintf(stderr, "%s: accept_client() is not written yet (LAB.md, part 1)\n",
        program_name);
errno = ENOSYS;
return -1;
