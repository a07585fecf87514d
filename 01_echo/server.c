/*
 * 01_echo/server.c - the smallest honest TCP server: it accepts one
 * client, sends back every byte that client sends, and exits when the
 * client closes the connection.
 *
 * What to look at: main() tells the whole story, and each step is one
 * function in net.c:
 *     open_listener()  socket() -> bind() -> listen()
 *     accept_client()  accept()
 *     serve_client()   recv() -> send_all() ... until recv() returns 0
 *
 * Run:   ./server [PORT]        (default 9001; 0 picks any free port)
 * Then:  ./client localhost 9001   in another terminal.
 */
#include <sys/types.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9001"

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

    /* Stage 01 serves exactly one client, then exits: see README. */
    /* slide:begin clients */
    char peer[ADDR_STR_SIZE];
    int client_fd = accept_client(listen_fd, peer, sizeof peer);
    if (client_fd < 0) {
        close(listen_fd);
        return 1;
    }
    serve_client(client_fd, peer);
    close(client_fd);
    /* slide:end clients */

    close(listen_fd);
    return 0;
    /* slide:end main */
}
