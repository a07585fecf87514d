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
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9002"
#define BUF_SIZE 16384 /* bytes per recv(); any size works, see README */

static const char *parse_args(int argc, char *argv[]);
static void install_signal_handlers(void);
static int open_listener(const char *port);
static int bind_and_listen(const struct addrinfo *ai, const char **failed);
static int accept_client(int listen_fd, char *peer, size_t peer_size);
static void serve_client(int client_fd, const char *peer);

int
main(int argc, char *argv[])
{
    const char *port = parse_args(argc, argv);
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

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: server [-h] [PORT]\n"
                 "  PORT  TCP port to listen on (default " DEFAULT_PORT
                 "; 0 = any free port)\n");
    exit(status);
}

/* Returns the port to listen on, as a decimal string; exits 2 on a
 * usage error. */
static const char *
parse_args(int argc, char *argv[])
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (argc - optind > 1)
        usage(stderr, 2);
    if (argc - optind == 0)
        return DEFAULT_PORT;

    const char *port = argv[optind];
    if (!is_port_number(port)) {
        fprintf(stderr,
                "server: bad port '%s': use a number from 0 to "
                "65535\n",
                port);
        usage(stderr, 2);
    }
    return port;
}

/*** Signals ***/

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

/*** Listening ***/

/* Open a TCP socket listening on every local address at `port`, and
 * print "listening on ADDRESS:PORT". Returns the socket, or -1 after
 * printing why. */
static int
open_listener(const char *port)
{
    /* AI_PASSIVE with no host name: the wildcard addresses (:: and
     * 0.0.0.0) that accept connections to any local address. */
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    struct addrinfo *list;
    int err = getaddrinfo(NULL, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "server: getaddrinfo: %s\n", gai_strerror(err));
        return -1;
    }

    /* Try IPv6 first: one IPv6 socket hears IPv4 clients too (see
     * bind_and_listen). IPv4 alone is the fallback for systems without
     * IPv6. */
    int fd = -1;
    const char *failed = "getaddrinfo";
    const struct addrinfo *ai;
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            fd = bind_and_listen(ai, &failed);
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            fd = bind_and_listen(ai, &failed);
    freeaddrinfo(list);

    if (fd < 0) {
        fprintf(stderr, "server: %s: %s\n", failed, strerror(errno));
        if (errno == EADDRINUSE)
            fprintf(stderr,
                    "hint: is another server already using port "
                    "%s? Stop it, or pick another port (0 = any "
                    "free port).\n",
                    port);
        return -1;
    }

    /* With port 0 the kernel chose the port: ask it which. */
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    char addr[ADDR_STR_SIZE];
    if (getsockname(fd, (struct sockaddr *)&local, &local_len) < 0) {
        fprintf(stderr, "server: getsockname: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    format_address((struct sockaddr *)&local, local_len, addr, sizeof addr);
    printf("listening on %s\n", addr);
    fflush(stdout); /* a pipe or file would otherwise hold the line back */
    return fd;
}

/* Python: s = socket(AF_INET, SOCK_STREAM); s.bind(addr); s.listen(5)
 * Returns the listening socket, or -1 with errno set and *failed naming
 * the call that failed. */
static int
bind_and_listen(const struct addrinfo *ai, const char **failed)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        *failed = "socket";
        return -1;
    }

    /* Dual stack: with IPV6_V6ONLY off, IPv4 clients reach this IPv6
     * socket as ::ffff:a.b.c.d. Some systems refuse to turn it off; then
     * we serve IPv6 only, which is still correct, so the result is not
     * checked. */
    if (ai->ai_family == AF_INET6) {
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }

    /* SO_REUSEADDR: without it, restarting the server within a minute
     * or two of stopping it fails with "Address already in use", because
     * the old connections linger in TIME_WAIT.
     * SOMAXCONN: let the kernel queue as many not-yet-accepted clients
     * as it allows. Python's listen(5) makes a crowd of clients wait. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        *failed = "setsockopt SO_REUSEADDR";
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        *failed = "bind";
    else if (listen(fd, SOMAXCONN) < 0)
        *failed = "listen";
    else
        return fd;

    int saved_errno = errno; /* close() may change errno */
    close(fd);
    errno = saved_errno;
    return -1;
}

/*** One client ***/

/* Python: conn, addr = s.accept()
 * Waits for the next client. Returns its socket and writes its address
 * to `peer`; returns -1 after printing why on an error worth stopping
 * for. */
static int
accept_client(int listen_fd, char *peer, size_t peer_size)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept(listen_fd, (struct sockaddr *)&addr, &addr_len);
        if (fd >= 0) {
            format_address((struct sockaddr *)&addr, addr_len, peer, peer_size);
            fprintf(stderr, "%s connected\n", peer);
            return fd;
        }
        /* A client that gave up before we accepted it is not our
         * error: wait for the next one. */
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        fprintf(stderr, "server: accept: %s\n", strerror(errno));
        return -1;
    }
}

/* Echo every byte the client sends until it closes the connection. No
 * assumption is made about message boundaries: TCP delivers a stream,
 * and one recv() may return part of a send(), or several sends. */
static void
serve_client(int client_fd, const char *peer)
{
    char buf[BUF_SIZE];
    for (;;) {
        /* Python: data = conn.recv(1024) */
        ssize_t n = recv(client_fd, buf, sizeof buf, 0);
        if (n == 0) { /* Python: if not data: break */
            fprintf(stderr, "%s disconnected\n", peer);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "%s error: recv: %s\n", peer, strerror(errno));
            return;
        }
        if (send_all(client_fd, buf, (size_t)n) < 0) {
            fprintf(stderr, "%s error: send: %s\n", peer, strerror(errno));
            return;
        }
    }
}
