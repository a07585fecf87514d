/* TODO (part 2, echo): echo every byte the client sends until it
 * closes the connection.
 *   - recv() into a buffer of BUF_SIZE bytes, and send back exactly the
 *     bytes that came, with send_all() (part 3 makes it loop; never
 *     send() here). Any bytes: NUL included, not only lines (no '\0' is
 *     added: the buffer may be full). One recv() may return part of
 *     what the client sent, or several of its sends together: never
 *     assume more.
 *   - recv() returning 0 means the client closed: log "PEER
 *     disconnected" on stderr and return.
 *   - recv() failing with EINTR: call it again.
 *   - Any other failure of recv() or send_all(): log "PEER error: recv:
 *     REASON" (or "send:") on stderr and return. The client is gone;
 *     the server is not.
 * Python: data = conn.recv(1024); if not data: break; conn.sendall(data) */
(void)client_fd;
fprintf(stderr, "%s: serve_client() is not written yet (LAB.md, part 2)\n",
        peer);
