/* TODO (part 2, accept_loop): serve one client after another.
 *   The stub below is stage 01's server: it serves one client, then
 *   ends. Make it loop: accept the next client with accept_client(),
 *   serve it with serve_client(), close its socket, and go back to
 *   accept() for the next one. serve_client() returns when its client
 *   has left (recv() returned 0) or failed: the server goes on.
 *   - accept_client() returning -1: close listen_fd and return 1. It
 *     has retried the errors of a new connection (and EINTR) itself;
 *     any other failure (EMFILE: out of file descriptors) it has
 *     logged once, and calling it again would fail the same way at
 *     once, for ever, at full CPU.
 *   - Every client's socket is closed once it is served, however its
 *     client ended (end of file, a reset, a failed send): a server
 *     that forgets runs out of file descriptors after about a thousand
 *     clients (`ulimit -n`).
 * Python: while True: conn, addr = s.accept(); ...; conn.close() */
char peer[ADDR_STR_SIZE];
int client_fd = accept_client(listen_fd, peer, sizeof peer);
if (client_fd >= 0) {
    serve_client(client_fd, peer);
    close(client_fd);
}
close(listen_fd);
return client_fd < 0;
