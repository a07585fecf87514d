/*
 * 05_udp_raw/server.c - a UDP echo server: every datagram that arrives
 * goes straight back to whoever sent it.
 *
 * What is new since the TCP servers of stages 01-03: no listen(), no
 * accept(), no connection and no per-client anything. One socket
 * serves everybody: recvfrom() returns one whole datagram together with
 * the address it came from, and sendto() sends the echo to that
 * address. Compare main() with 01_echo/server.c's main() and
 * 01_echo/net.c's serve_client() (this stage's net.c has none).
 *
 * The log has one line per datagram, the format the tests read:
 *     PEER sent N bytes: "PAYLOAD"
 * with the payload escaped as C would write it (escape_into() in
 * net.c), and only when it is at most LOG_PAYLOAD_MAX bytes long. A
 * datagram that is the same as the one before it, from the same peer,
 * gets a second line, which counts the copies (count_copies()):
 *     PEER: the same datagram again, copy 2: echoed again
 * -q turns the log off, to measure the echo alone (`make bench` does).
 *
 * Run:   ./server [-q] [PORT]   (default 9005; 0 picks any free port)
 * Then:  ./client localhost 9005   in another terminal.
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

#define DEFAULT_PORT "9005"
#define LOG_PAYLOAD_MAX 64 /* bytes: longer payloads are logged by size */
/* bytes in a log line: the address, " sent 65535 bytes: ", the payload
 * escaped, and the newline */
#define LOG_LINE_SIZE (ADDR_STR_SIZE + 20 + ESCAPED_SIZE(LOG_PAYLOAD_MAX) + 1)

const char program_name[] = "server";

static const char *parse_args(int argc, char *argv[], int *quiet);
static void install_signal_handlers(void);
static int open_udp_server(const char *port);
static void log_datagram(const struct sockaddr *peer, socklen_t peer_len,
                         const char *data, size_t len);
static unsigned count_copies(const struct sockaddr *peer, socklen_t peer_len,
                             const char *data, size_t len);
static void send_echo(int fd, const char *data, size_t len,
                      const struct sockaddr *peer, socklen_t peer_len);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    int quiet = 0;       /* -q: no line per datagram */
    const char *port = parse_args(argc, argv, &quiet);
    install_signal_handlers();

    int fd = open_udp_server(port);
    if (fd < 0)
        return 1;

    /* Room for the largest datagram there is, so that none is ever cut
     * short (see the client's -b option for what that looks like). */
    static char buf[DATAGRAM_MAX];
    for (;;) {
        /* slide:begin recvfrom */
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        /* Python: data, addr = s.recvfrom(65535)
         * One call, one whole datagram. 0 bytes is an empty datagram,
         * not the end of anything: UDP has no connection to end. */
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer,
                             &peer_len);
        /* slide:end recvfrom */
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "server: recvfrom: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
        if (!quiet)
            log_datagram((struct sockaddr *)&peer, peer_len, buf, (size_t)n);

        send_echo(fd, buf, (size_t)n, (struct sockaddr *)&peer, peer_len);
    }
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: server [-hq] [PORT]\n"
                 "  -q    quiet: no log line per datagram (for measuring)\n"
                 "  PORT  UDP port to receive on (default " DEFAULT_PORT
                 "; 0 = any free port)\n");
    exit(status);
}

/* [-hq] [PORT]: returns the port, as a decimal string, and sets *quiet
 * for -q; exits 2 on a usage error. */
static const char *
parse_args(int argc, char *argv[], int *quiet)
{
    int opt;
    while ((opt = getopt(argc, argv, "hq")) != -1)
        if (opt == 'q')
            *quiet = 1;
        else
            usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (argc - optind > 1)
        usage(stderr, 2);
    if (argc - optind == 0)
        return DEFAULT_PORT;
    if (!is_port_number(argv[optind])) {
        fprintf(stderr, "server: bad port '%s': use a number from 0 to 65535\n",
                argv[optind]);
        usage(stderr, 2);
    }
    return argv[optind];
}

/*** Signals ***/

/* SIGINT (Ctrl-C) and SIGTERM (kill) mean "stop now": exit with status
 * 0, as a deliberate stop rather than a crash. _exit() is one of the few
 * calls a signal handler may make safely (exit() and printf() are not),
 * and the kernel closes our socket for us. */
static void
on_stop_signal(int sig)
{
    (void)sig;
    _exit(0);
}

/* No SIGPIPE to ignore here, unlike the TCP servers: it comes from
 * writing to a closed connection, and UDP has no connections. */
static void
install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/*** The socket ***/

/* Python: s = socket(AF_INET6, SOCK_DGRAM); s.bind(("::", port))
 * Returns the socket, or -1 with errno set and *failed naming the call
 * that failed. */
static int
bind_udp(const struct addrinfo *ai, const char **failed)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        *failed = "socket";
        return -1;
    }

    /* Dual stack, as in the TCP servers: with IPV6_V6ONLY off, IPv4
     * clients reach this IPv6 socket as ::ffff:a.b.c.d. If the system
     * refuses, we serve IPv6 only, which is still correct. */
    if (ai->ai_family == AF_INET6) {
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }

    /* No SO_REUSEADDR, unlike the TCP servers: UDP has no TIME_WAIT to
     * wait out, and on Linux the option would let a second server bind
     * this same port, the two then splitting the datagrams between
     * them without a word. Without it, the second one gets EADDRINUSE. */
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;

    *failed = "bind";
    int saved_errno = errno; /* close() may change errno */
    close(fd);
    errno = saved_errno;
    return -1;
}

/* Open a UDP socket on every local address at `port`, and print
 * "listening on ADDRESS:PORT" (nothing listens in UDP, but the line is
 * the one every stage's server prints). Returns the socket, or -1 after
 * printing why. */
static int
open_udp_server(const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    struct addrinfo *list;
    int err = getaddrinfo(NULL, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "server: getaddrinfo: %s\n", gai_strerror(err));
        return -1;
    }

    /* IPv6 first (one socket for both), IPv4 alone as the fallback. */
    int fd = -1;
    const char *failed = "getaddrinfo";
    const struct addrinfo *ai;
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            fd = bind_udp(ai, &failed);
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            fd = bind_udp(ai, &failed);
    freeaddrinfo(list);

    if (fd < 0) {
        fprintf(stderr, "server: %s: %s\n", failed, strerror(errno));
        if (errno == EADDRINUSE)
            fprintf(stderr,
                    "hint: is another server already using UDP port %s? "
                    "Stop it, or pick another port (0 = any free port).\n",
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

/*** The log ***/

/* One line per datagram: who sent it, how big it was, and, if short,
 * what it said: [::ffff:127.0.0.1]:40512 sent 6 bytes: "hello\n"
 * The line is built whole in `line`, then written with one write():
 * one system call per datagram, and a line that reaches a log file in
 * one piece, even when another program writes to the same file. (The
 * first version printed it through stdio piece by piece, a call per
 * byte of payload, and echoed half as many datagrams a second:
 * 05_udp_raw/NOTES.md, "Measured".) */
static void
log_datagram(const struct sockaddr *peer, socklen_t peer_len, const char *data,
             size_t len)
{
    char addr[ADDR_STR_SIZE];
    format_address(peer, peer_len, addr, sizeof addr);
    char line[LOG_LINE_SIZE];
    int used =
        snprintf(line, sizeof line, "%s sent %zu byte%s%s", addr, len,
                 len == 1 ? "" : "s", len <= LOG_PAYLOAD_MAX ? ": " : "");
    if (used < 0 || (size_t)used >= sizeof line)
        return; /* cannot happen: LOG_LINE_SIZE has room for it all */
    if (len <= LOG_PAYLOAD_MAX)
        used += (int)escape_into(line + used, data, len);
    line[used++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)used) < 0)
        return; /* a log line lost is no reason to stop echoing */

    unsigned copy = count_copies(peer, peer_len, data, len);
    if (copy > 1) {
        used = snprintf(line, sizeof line,
                        "%s: the same datagram again, copy %u: echoed again\n",
                        addr, copy);
        if (used > 0 && (size_t)used < sizeof line &&
            write(STDERR_FILENO, line, (size_t)used) < 0)
            return;
    }
}

/* A client that hears no echo in time sends its datagram again. When
 * the first copy was not lost (only its echo was, or was late), the
 * server receives the datagram twice and does its work twice: harmless
 * for an echo, not for "add 10 euros to my account". The server cannot
 * tell a resend from a new datagram with the same bytes (type the same
 * line twice: it counts a copy); only something in the datagram can,
 * such as exercise 1's sequence number. What it can do is notice, and
 * say so: it remembers the last datagram and who sent it. Returns how
 * many times in a row that datagram has now come: 1 for a new one. */
static unsigned
count_copies(const struct sockaddr *peer, socklen_t peer_len, const char *data,
             size_t len)
{
    static struct sockaddr_storage last_peer;
    static socklen_t last_peer_len; /* 0: nothing remembered yet */
    static char last[DATAGRAM_MAX];
    static size_t last_len;
    static unsigned copies;

    /* recvfrom() fills in the same bytes for the same peer, so the
     * addresses can be compared as bytes. */
    if (peer_len == last_peer_len && memcmp(peer, &last_peer, peer_len) == 0 &&
        len == last_len && memcmp(data, last, len) == 0)
        return ++copies;

    memcpy(&last_peer, peer, peer_len);
    last_peer_len = peer_len;
    memcpy(last, data, len);
    last_len = len;
    return copies = 1;
}

/*** The echo ***/

/* Python: s.sendto(data, addr)
 * A datagram goes out whole or not at all: no send_all() loop, only a
 * retry if a signal came first. A failure concerns this one peer, so
 * it is logged, and the server goes on. */
static void
send_echo(int fd, const char *data, size_t len, const struct sockaddr *peer,
          socklen_t peer_len)
{
    ssize_t sent;
    do
        sent = sendto(fd, data, len, 0, peer, peer_len);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        char addr[ADDR_STR_SIZE];
        format_address(peer, peer_len, addr, sizeof addr);
        fprintf(stderr, "%s error: sendto: %s\n", addr, strerror(errno));
    }
}
