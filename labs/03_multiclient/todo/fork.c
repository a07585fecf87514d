/* TODO (part 3, fork): serve the client in a child process; the parent
 * returns at once, to accept the next client.
 *   - fork() makes a copy of this process, every descriptor included.
 *     It returns 0 in the child, the child's PID in the parent, and -1
 *     on failure (log "PEER error: fork: REASON").
 *   - The child: call become_child() first (the parent's signal
 *     handlers are not for it), close its copy of listen_fd (it never
 *     accepts), serve_client(), close client_fd, and end with _exit(0),
 *     not exit() (see become_child()). It never returns from here.
 *   - The parent: close its copy of client_fd. The connection lives on
 *     in the child (it ends when the last copy is closed); a parent that
 *     keeps its copies runs out of descriptors. Return the child's PID,
 *     or -1 if fork() failed.
 * Python: socketserver.ForkingTCPServer.
 * The stub below serves the client in the parent: one at a time. */
(void)listen_fd;
(void)become_child;
serve_client(client_fd, peer);
close(client_fd);
return -1;
