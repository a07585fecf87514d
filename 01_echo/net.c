/*
 * net.c - the socket building blocks of this stage's programs, in the
 * order a server uses them: read the port from the command line, open a
 * listening socket, accept a client, serve it; then what a client
 * needs to connect; then small helpers for both. server.c and client.c
 * hold each program's story (main) and call these.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define BUF_SIZE 16384 /* bytes per recv(); any size works, see README */

static int bind_and_listen(const struct addrinfo *ai, const char **failed);
static int is_new_connection_error(int err);
static int is_digits(const char *s);

/*** Servers ***/

static _Noreturn void
server_usage(FILE *out, int status, const char *default_port)
{
    fprintf(out,
            "usage: %s [-h] [PORT]\n"
            "  PORT  TCP port to listen on (default %s; 0 = any free port)\n",
            program_name, default_port);
    exit(status);
}

/* The command line every server of this stage takes: [-h] [PORT].
 * Returns the port to listen on, as a decimal string; exits 2 on a
 * usage error. */
const char *
parse_server_args(int argc, char *argv[], const char *default_port)
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1) {
        if (opt == 'h')
            server_usage(stdout, 0, default_port);
        server_usage(stderr, 2, default_port);
    }
    if (argc - optind > 1)
        server_usage(stderr, 2, default_port);
    if (argc - optind == 0)
        return default_port;

    const char *port = argv[optind];
    if (!is_port_number(port)) {
        fprintf(stderr, "%s: bad port '%s': use a number from 0 to 65535\n",
                program_name, port);
        server_usage(stderr, 2, default_port);
    }
    return port;
}

/* Open a TCP socket listening on every local address at `port`, and
 * print "listening on ADDRESS:PORT". Returns the socket, or -1 after
 * printing why. */
int
open_listener(const char *port)
{
    /* slide:begin listener_hints */
    /* AI_PASSIVE with no host name: the wildcard addresses (:: and
     * 0.0.0.0) that accept connections to any local address. */
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    struct addrinfo *list;
    int err = getaddrinfo(NULL, port, &hints, &list);
    /* slide:end listener_hints */
    if (err != 0) {
        fprintf(stderr, "%s: getaddrinfo: %s\n", program_name,
                gai_strerror(err));
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
        fprintf(stderr, "%s: %s: %s\n", program_name, failed, strerror(errno));
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
        fprintf(stderr, "%s: getsockname: %s\n", program_name, strerror(errno));
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
    /* slide:begin socket_call */
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        *failed = "socket";
        return -1;
    }
    /* slide:end socket_call */

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
    /* slide:begin bind_listen */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        *failed = "setsockopt SO_REUSEADDR";
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        *failed = "bind";
    else if (listen(fd, SOMAXCONN) < 0)
        *failed = "listen";
    else
        return fd;
    /* slide:end bind_listen */

    int saved_errno = errno; /* close() may change errno */
    close(fd);
    errno = saved_errno;
    return -1;
}

/* Python: conn, addr = s.accept()
 * Waits for the next client. Returns its socket and writes its address
 * to `peer`, or returns -1 with errno set: EAGAIN when the socket is
 * non-blocking and nobody is waiting, otherwise after printing why.
 * EINTR and the errors of the new connection are retried here; any
 * other error is the server's own (EMFILE: out of descriptors), and
 * would come back at once: the caller decides (stages 01 and 02 exit
 * 1; stage 03 waits, see is_temporary_accept_error()). */
int
accept_client(int listen_fd, char *peer, size_t peer_size)
{
    /* lab:begin accept */
    for (;;) {
        /* slide:begin accept */
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept(listen_fd, (struct sockaddr *)&addr, &addr_len);
        if (fd >= 0) {
            format_address((struct sockaddr *)&addr, addr_len, peer, peer_size);
            fprintf(stderr, "%s connected\n", peer);
            return fd;
        }
        /* slide:end accept */
        if (errno == EINTR)
            continue;
        /* The connection's error, not the listener's: that client is
         * lost, the next one may be fine. */
        if (is_new_connection_error(errno)) {
            fprintf(stderr,
                    "%s: accept: %s (a client's connection failed before "
                    "it was accepted; accepting the next)\n",
                    program_name, strerror(errno));
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            fprintf(stderr, "%s: accept: %s\n", program_name, strerror(errno));
        return -1;
    }
    /* lab:end accept */
}

/* Does accept()'s error belong to the connection it took from the
 * queue rather than to the listening socket? ECONNABORTED: the client
 * gave up (a reset) before we accepted it. The others: Linux's accept()
 * passes on a network error already pending on the new connection (its
 * client's network went down, a router said "unreachable"), and
 * accept(2) tells TCP servers to treat these like EAGAIN and call
 * accept() again. Exiting on them would let one client's broken route
 * stop the server. (EHOSTDOWN and ENONET are not in POSIX.) */
static int
is_new_connection_error(int err)
{
    switch (err) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
        return 1;
    default:
        return 0;
    }
}

/* Should a server wait and call accept() again after this error? Out
 * of file descriptors (EMFILE: this process's limit, see `ulimit -n`;
 * ENFILE: the whole system's) or of kernel memory (ENOBUFS, ENOMEM), a
 * server must never retry at once (it would spin at full CPU: the
 * waiting client is still there). Stage 03's servers, which hold other
 * clients, use it to wait until clients leave rather than exit and
 * drop them all. The servers of stages 01 and 02 hold no other client:
 * they log the error once and exit 1. */
int
is_temporary_accept_error(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* Echo every byte the client sends until it closes the connection. No
 * assumption is made about message boundaries: TCP delivers a stream,
 * and one recv() may return part of a send(), or several sends. */
void
serve_client(int client_fd, const char *peer)
{
    /* lab:begin serve_client */
    char buf[BUF_SIZE];
    for (;;) {
        /* slide:begin serve_loop */
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
        /* slide:end serve_loop */
    }
    /* lab:end serve_client */
}

/*** Clients ***/

/* Python: s = socket(AF_INET, SOCK_STREAM); s.connect((host, port))
 * Tries every address `host` resolves to, in the order getaddrinfo()
 * prefers, until one accepts. Returns the socket, or -1 after printing
 * why. */
int
connect_to(const char *host, const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* IPv4 or IPv6, whichever the name has */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;

    struct addrinfo *list;
    int err = getaddrinfo(host, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "%s: %s: %s\n", program_name, host, gai_strerror(err));
        return -1;
    }

    /* lab:begin connect_loop */
    /* slide:begin connect_loop */
    int fd = -1;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        int saved_errno = errno; /* close() may change errno */
        close(fd);
        fd = -1;
        errno = saved_errno;
    }
    /* slide:end connect_loop */
    /* lab:end connect_loop */
    freeaddrinfo(list);

    if (fd < 0) {
        fprintf(stderr, "%s: connect to %s port %s: %s\n", program_name, host,
                port, strerror(errno));
        if (errno == ECONNREFUSED)
            fprintf(stderr,
                    "hint: is the server running? Start it with "
                    "./server %s\n",
                    port);
    }
    return fd;
}

/* Is `host` a port rather than a host: digits alone, such as "9001"?
 * getaddrinfo() would take it for an IPv4 address written as a single
 * number (9001 is 0.0.35.41), an old form nobody means today: whoever
 * types `./client 9001` means the port and left out the host. Returns
 * 1 after saying so, with the command meant; 0 for any other host. */
int
is_port_not_host(const char *host)
{
    if (!is_digits(host))
        return 0;
    fprintf(stderr,
            "%s: '%s' is a number, not a host name or address\n"
            "hint: did you mean `./%s localhost %s`?\n",
            program_name, host, program_name, host);
    return 1;
}

/*** Both ***/

/* Make sure fds 0, 1 and 2 are open: call it first thing in main().
 * The kernel gives each new descriptor the lowest number free, so in a
 * program started with one of them closed (`./client <&-`), the first
 * socket would become its stdin, stdout or stderr: getline() would read
 * the program's own socket, and printf() would write into it. /dev/null
 * takes each closed one instead: reading it gives end of file at once,
 * writing to it throws the bytes away. Exits 1 if even that fails. */
void
open_standard_fds(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue; /* open */
        /* The fds below this one are open by now, so the lowest free
         * number is this one: open() returns it. */
        if (open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) != fd)
            exit(1);
    }
}

/* Python: sock.sendall(data)
 * send() may take fewer bytes than asked (a short write) when the
 * socket buffer is nearly full: loop until every byte is gone.
 * Returns 0, or -1 with errno set. */
int
send_all(int fd, const void *buf, size_t len)
{
    /* lab:begin send_all */
    /* slide:begin send_all */
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0 && errno == EINTR) /* a signal came first: try again */
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
    /* slide:end send_all */
    /* lab:end send_all */
}

/* Write "ADDRESS:PORT" for a socket address to `out`, IPv6 addresses in
 * brackets: "127.0.0.1:9001", "[::1]:9001". */
void
format_address(const struct sockaddr *sa, socklen_t sa_len, char *out,
               size_t out_size)
{
    char host[64]; /* a numeric IPv6 address, with a %scope if any */
    char port[6];  /* "65535" + NUL */
    int err = getnameinfo(sa, sa_len, host, sizeof host, port, sizeof port,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err != 0)
        snprintf(out, out_size, "(unknown address: %s)", gai_strerror(err));
    else if (sa->sa_family == AF_INET6)
        snprintf(out, out_size, "[%s]:%s", host, port);
    else
        snprintf(out, out_size, "%s:%s", host, port);
}

/* Is `s` decimal digits alone, one or more? */
static int
is_digits(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* Is `s` a TCP port number, 0 to 65535, in plain decimal digits? */
int
is_port_number(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && n <= 65535;
}

/* Sending to a peer that has already closed its end raises SIGPIPE,
 * whose default action kills the whole process. Ignored, send() returns
 * -1 with errno EPIPE instead, and the program decides what to do: the
 * server drops that one client, the client reports the error. */
/* slide:begin ignore_sigpipe */
void
ignore_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}
/* slide:end ignore_sigpipe */

/* SIGINT (Ctrl-C) and SIGTERM (kill) mean "stop now": exit with status
 * 0, as a deliberate stop rather than a crash. _exit() is one of the few
 * calls a signal handler may make safely (exit() and printf() are not).
 * It ends the whole process, every thread of it, and the kernel closes
 * our sockets for us. */
static void
on_stop_signal(int sig)
{
    (void)sig;
    _exit(0);
}

/* The signal handling a server starts with: SIGPIPE ignored, so that a
 * vanished client cannot kill it, and a clean exit on SIGINT or
 * SIGTERM. */
void
install_signal_handlers(void)
{
    ignore_sigpipe();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
