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
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9002"

const char program_name[] = "server";

static void install_signal_handlers(void);

int
main(int argc, char *argv[])
{
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_signal_handlers();

    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;

    /* New in stage 02: when a client leaves, accept the next one.
     * Python: while True: conn, addr = s.accept() */
    for (;;) {
        char peer[ADDR_STR_SIZE];
        int client_fd = accept_client(listen_fd, peer, sizeof peer);
        if (client_fd < 0) {
            close(listen_fd);
            return 1;
        }
        serve_client(client_fd, peer);
        close(client_fd);
    }
}

/* SIGINT (Ctrl-C) and SIGTERM (kill) mean "stop now": exit with status
 * 0, as a deliberate stop rather than a crash. _exit() is one of the few
 * calls a signal handler may make safely (exit() and printf() are not);
 * the kernel closes our sockets for us. */
static void
on_stop_signal(int sig)
{
    (void)sig;
    _exit(0);
}

static void
install_signal_handlers(void)
{
    ignore_sigpipe(); /* see net.c: a vanished client must not kill us */

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
