/*
 * 02_persistent_server/server.c - the echo server of stage 01, with one
 * change: when a client leaves, the server goes back to accept() and
 * waits for the next client instead of exiting.
 *
 * What to look at: the loop in main(). recv() returning 0 now ends one
 * client's session, not the server. Compare with stage 01:
 *     diff -u ../01_echo/server.c server.c
 * The limitation that remains: the loop serves one client at a time, so
 * a second client waits, unanswered, until the first one leaves.
 *
 * Run:   ./server [PORT]        (default 9002; 0 picks any free port)
 * Then:  ./client localhost 9002   in another terminal, or several.
 */
#include <sys/types.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9002"

const char program_name[] = "server";

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_signal_handlers();

    /* slide:begin main */
    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;

    /* New in stage 02: when a client leaves, accept the next one.
     * Python: while True: conn, addr = s.accept() */
    /* slide:begin clients */
    /* lab:begin accept_loop */
    for (;;) {
        char peer[ADDR_STR_SIZE];
        int client_fd = accept_client(listen_fd, peer, sizeof peer);
        /* -1: not one client's error (accept_client() retries those)
         * but the server's, such as EMFILE, which would come back at
         * once: it is logged; stop, status 1. */
        if (client_fd < 0) {
            close(listen_fd);
            return 1;
        }
        serve_client(client_fd, peer);
        close(client_fd);
    }
    /* lab:end accept_loop */
    /* slide:end clients */
    /* slide:end main */
}
