/*
 * 05_udp_raw/client.c - sends each line it reads to the UDP echo server
 * as one datagram, and prints the echo that comes back.
 *
 * What is new since the TCP client: a datagram may be lost, and nobody
 * says so. The client waits for each echo only so long (a receive
 * timeout, the C side of Python's settimeout()), sends the datagram
 * again a few times, and in the end reports what was lost. What to look
 * at:
 *     echo_datagram()     the retry loop
 *     await_echo()        the timeout, and which datagrams count as
 *                         the echo: the same bytes, from the server
 *     receive_datagram()  recvmsg(), and MSG_TRUNC: the echo did not fit
 *     open_client()       -c: a connect()ed UDP socket, so that the
 *                         kernel reports "nobody listens there"
 *                         (ECONNREFUSED) instead of letting us wait
 *
 * Run:   ./client [-c] [-r RETRIES] [-t SECONDS] [-b BYTES] [HOST [PORT]]
 *        (default localhost 9005, 3 retries, 1 second)
 * On a terminal it shows a ">>: " prompt; with input from a pipe or a
 * file it prints only the echoes. Each line, its '\n' included, is one
 * datagram, and the exit status says whether every one came back.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9005"
#define DEFAULT_RETRIES 3
#define DEFAULT_TIMEOUT_S 1.0
#define RETRIES_MAX 100

const char program_name[] = "client";

/* The socket, where it sends, and how patiently. */
struct udp_client {
    const char *host, *port;
    int connected;    /* -c: the socket is connect()ed to the server */
    long retries;     /* -r: how many times to resend a datagram */
    double timeout_s; /* -t: how long to wait for each echo */
    size_t buf_size;  /* -b: bytes the receive buffer holds */
    int fd;
    struct sockaddr_storage server; /* where datagrams go, echoes come from */
    socklen_t server_len;
};

/* What became of the datagrams. */
struct tally {
    unsigned long datagrams, echoed, lost, failed, resent;
};

/* What became of one datagram, or of one try to send it. */
enum outcome {
    SENT,    /* on its way */
    ECHOED,  /* its echo came back, and was printed */
    NO_ECHO, /* not within the timeout */
    FAILED,  /* it cannot be echoed whole: too long, or truncated */
    FATAL    /* the socket failed: stop */
};

static void parse_args(int argc, char *argv[], struct udp_client *c);
static int open_client(struct udp_client *c);
static enum outcome echo_datagram(const struct udp_client *c, const char *data,
                                  size_t len, struct tally *t);
static enum outcome send_datagram(const struct udp_client *c, const char *data,
                                  size_t len, unsigned long number);
static enum outcome await_echo(const struct udp_client *c, const char *data,
                               size_t len, unsigned long number);
static ssize_t receive_datagram(int fd, char *buf, size_t size,
                                struct sockaddr_storage *from, int *truncated);
static int same_address(const struct sockaddr_storage *a,
                        const struct sockaddr_storage *b);
static int print_tally(const struct tally *t);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    struct udp_client c;
    parse_args(argc, argv, &c);
    if (open_client(&c) < 0)
        return 1;

    /* Prompt only for a person at a terminal, never into a script. */
    int interactive = isatty(STDIN_FILENO);
    struct tally t = {0, 0, 0, 0, 0};
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    for (;;) {
        if (interactive) {
            printf(">>: ");
            fflush(stdout);
        }
        /* Python: msg = input(">>: ") -- but getline() keeps every
         * byte, '\n' and NUL included: the datagram is the whole line. */
        len = getline(&line, &line_cap, stdin);
        if (len < 0)
            break;
        if (echo_datagram(&c, line, (size_t)len, &t) == FATAL)
            break;
    }
    if (interactive && len < 0)
        printf("\n"); /* leave the shell's prompt on a line of its own */
    int status = print_tally(&t);
    if (ferror(stdin)) {
        fprintf(stderr, "client: reading input: %s\n", strerror(errno));
        status = 1;
    }
    free(line);
    close(c.fd);

    if (fflush(stdout) != 0) {
        fprintf(stderr, "client: writing output: %s\n", strerror(errno));
        status = 1;
    }
    return status;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: client [-h] [-c] [-r RETRIES] [-t SECONDS] [-b BYTES] "
            "[HOST [PORT]]\n"
            "  -c          connect() the socket: learn at once when nobody "
            "listens\n"
            "  -r RETRIES  resend a datagram up to RETRIES times (default %d)\n"
            "  -t SECONDS  wait this long for each echo, e.g. 0.5 "
            "(default %g)\n"
            "  -b BYTES    receive into a buffer of BYTES bytes "
            "(default %d)\n"
            "  HOST        server name or address (default " DEFAULT_HOST ")\n"
            "  PORT        server's UDP port (default " DEFAULT_PORT ")\n",
            DEFAULT_RETRIES, DEFAULT_TIMEOUT_S, DATAGRAM_MAX);
    exit(status);
}

static _Noreturn void
bad_option(char opt, const char *value, const char *expected)
{
    fprintf(stderr, "client: bad -%c value '%s': use %s\n", opt, value,
            expected);
    usage(stderr, 2);
}

static void
parse_args(int argc, char *argv[], struct udp_client *c)
{
    memset(c, 0, sizeof *c);
    c->host = DEFAULT_HOST;
    c->port = DEFAULT_PORT;
    c->retries = DEFAULT_RETRIES;
    c->timeout_s = DEFAULT_TIMEOUT_S;
    c->buf_size = DATAGRAM_MAX;
    c->fd = -1;

    int opt;
    long n;
    while ((opt = getopt(argc, argv, "hcr:t:b:")) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout, 0);
        case 'c':
            c->connected = 1;
            break;
        case 'r':
            if (parse_count(optarg, 0, RETRIES_MAX, &c->retries) < 0)
                bad_option('r', optarg, "a number from 0 to 100");
            break;
        case 't':
            if (parse_seconds(optarg, &c->timeout_s) < 0)
                bad_option('t', optarg, "seconds, more than 0, such as 0.5");
            break;
        case 'b':
            if (parse_count(optarg, 1, DATAGRAM_MAX, &n) < 0)
                bad_option('b', optarg, "a number from 1 to 65535");
            c->buf_size = (size_t)n;
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (argc - optind > 2)
        usage(stderr, 2);
    if (argc - optind >= 1)
        c->host = argv[optind];
    if (argc - optind == 2)
        c->port = argv[optind + 1];
    if (is_port_not_host(c->host))
        usage(stderr, 2);
    if (!is_port_number(c->port) || strcmp(c->port, "0") == 0) {
        fprintf(stderr, "client: bad port '%s': use a number from 1 to 65535\n",
                c->port);
        usage(stderr, 2);
    }
}

/*** The socket ***/

/* Python: s = socket(AF_INET, SOCK_DGRAM), and with -c s.connect(addr)
 * Open a UDP socket for the first of the server's addresses that gets
 * one. A UDP connect() sends nothing: it only records the peer in our
 * kernel, which from then on sends there by default, accepts datagrams
 * from there only, and reports the ICMP errors that come back. So,
 * unlike TCP's, it cannot tell whether a server is there, and there is
 * no reason to try the next address. Returns 0, or -1 after printing
 * why. */
static int
open_client(struct udp_client *c)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* IPv4 or IPv6, whichever the name has */
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;

    struct addrinfo *list;
    int err = getaddrinfo(c->host, c->port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "client: %s: %s\n", c->host, gai_strerror(err));
        return -1;
    }

    const char *failed = "socket";
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (c->fd < 0)
            continue;
        if (!c->connected || connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            memcpy(&c->server, ai->ai_addr, ai->ai_addrlen);
            c->server_len = ai->ai_addrlen;
            break;
        }
        failed = "connect";
        int saved_errno = errno; /* close() may change errno */
        close(c->fd);
        c->fd = -1;
        errno = saved_errno;
    }
    freeaddrinfo(list);

    if (c->fd < 0) {
        fprintf(stderr, "client: %s: %s\n", failed, strerror(errno));
        return -1;
    }
    return 0;
}

/* Report a failed socket call, with a hint for the one error a
 * learner meets here: ECONNREFUSED on a connected socket. */
static void
report_socket_error(const struct udp_client *c, const char *call)
{
    fprintf(stderr, "client: %s: %s\n", call, strerror(errno));
    if (errno == ECONNREFUSED)
        fprintf(stderr,
                "hint: nothing receives on UDP port %s at %s: its kernel "
                "answered\nwith ICMP \"port unreachable\". Is the server "
                "running? Start it with ./server %s\n",
                c->port, c->host, c->port);
}

/*** Echo ***/

/* Send one datagram and wait for its echo. When none comes within the
 * timeout, send it again, up to c->retries times: the datagram or its
 * echo may have been lost on the way, and UDP itself never resends.
 * Prints the echo, reports what went wrong, and counts the outcome in
 * *t. Returns ECHOED, NO_ECHO (lost), FAILED, or FATAL. */
static enum outcome
echo_datagram(const struct udp_client *c, const char *data, size_t len,
              struct tally *t)
{
    unsigned long number = ++t->datagrams;
    /* lab:begin retry */
    long tries = 1 + c->retries;
    enum outcome result = NO_ECHO;
    /* slide:begin retry */
    for (long try = 1; try <= tries && result == NO_ECHO; try++) {
        if (try > 1) {
            fprintf(stderr,
                    "client: datagram %lu: no echo within %g s, "
                    "sending it again (try %ld of %ld)\n",
                    number, c->timeout_s, try, tries);
            t->resent++;
        }
        result = send_datagram(c, data, len, number);
        if (result == SENT)
            result = await_echo(c, data, len, number);
    }
    /* slide:end retry */
    if (result == NO_ECHO)
        fprintf(stderr, "client: datagram %lu lost: no echo after %ld %s\n",
                number, tries, tries == 1 ? "try" : "tries");
    /* lab:end retry */

    if (result == ECHOED)
        t->echoed++;
    else if (result == FAILED || result == FATAL)
        t->failed++;
    else if (result == NO_ECHO)
        t->lost++;
    return result;
}

/* Python: s.sendto(data, addr), or s.send(data) once connected.
 * A datagram goes out whole or not at all: there is no short write to
 * loop over, as send_all() must for TCP. Returns SENT, FAILED (too long
 * for one datagram) or FATAL. */
static enum outcome
send_datagram(const struct udp_client *c, const char *data, size_t len,
              unsigned long number)
{
    ssize_t n;
    do {
        if (c->connected)
            n = send(c->fd, data, len, 0);
        else
            n = sendto(c->fd, data, len, 0, (const struct sockaddr *)&c->server,
                       c->server_len);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return SENT;

    if (errno == EMSGSIZE) {
        fprintf(stderr,
                "client: datagram %lu: %zu bytes is too long for one UDP "
                "datagram: %s\n",
                number, len, strerror(errno));
        return FAILED;
    }
    report_socket_error(c, c->connected ? "send" : "sendto");
    return FATAL;
}

/* Wait up to c->timeout_s for the echo of `data`, and print it. Only a
 * datagram that holds exactly the bytes sent counts, and without -c it
 * must also come from the server's address: anyone may send to our
 * port. Anything else is reported and skipped; often it is a late echo
 * of an earlier datagram, one we had given up on and sent again.
 * Returns ECHOED, NO_ECHO, FAILED (the echo came back truncated) or
 * FATAL. */
static enum outcome
await_echo(const struct udp_client *c, const char *data, size_t len,
           unsigned long number)
{
    static char echo[DATAGRAM_MAX];
    /* lab:begin await_echo */
    double deadline = monotonic_now() + c->timeout_s;
    for (;;) {
        /* The timeout restarts with every recv(): give each one only
         * what is left, or a stream of stray datagrams could keep us
         * waiting for ever. */
        double left = deadline - monotonic_now();
        if (left <= 0)
            return NO_ECHO;
        if (set_receive_timeout(c->fd, left) < 0) {
            report_socket_error(c, "setsockopt SO_RCVTIMEO");
            return FATAL;
        }

        struct sockaddr_storage from;
        int truncated;
        ssize_t n =
            receive_datagram(c->fd, echo, c->buf_size, &from, &truncated);
        if (n < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue; /* timed out, or a signal: the top of the loop says */
        if (n < 0) {
            report_socket_error(c, "recv");
            return FATAL;
        }

        if (!c->connected && !same_address(&from, &c->server)) {
            char addr[ADDR_STR_SIZE];
            format_address((struct sockaddr *)&from, sizeof from, addr,
                           sizeof addr);
            fprintf(stderr,
                    "client: ignoring %zd bytes from %s: not the "
                    "server\n",
                    n, addr);
        } else if (!truncated && (size_t)n == len &&
                   memcmp(echo, data, len) == 0) {
            fwrite(echo, 1, len, stdout);
            return ECHOED;
        } else if (truncated && (size_t)n < len &&
                   memcmp(echo, data, (size_t)n) == 0) {
            fprintf(stderr,
                    "client: datagram %lu: echo truncated: %zd of %zu bytes "
                    "(the receive buffer holds %zu; see -b)\n",
                    number, n, len, c->buf_size);
            return FAILED;
        } else {
            fprintf(stderr,
                    "client: datagram %lu: ignoring %zd bytes that are not "
                    "its echo (a late echo of an earlier datagram?)\n",
                    number, n);
        }
    }
    /* lab:end await_echo */
}

/* Python: data, addr = s.recvfrom(bufsize)
 * Receive one datagram into buf, and its sender's address into *from.
 * recvmsg() rather than recvfrom(), because it also reports, in
 * msg_flags, when the datagram was longer than the buffer (MSG_TRUNC):
 * a datagram is read whole or cut short, never in parts, and the bytes
 * that did not fit are gone. Returns the number of bytes in buf, or -1
 * with errno set. */
static ssize_t
// NOLINTNEXTLINE(readability-non-const-parameter): recvmsg() fills buf
receive_datagram(int fd, char *buf, size_t size, struct sockaddr_storage *from,
                 int *truncated)
{
    /* slide:begin recvmsg */
    struct iovec part = {buf, size};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(from, 0, sizeof *from);
    msg.msg_name = from;
    msg.msg_namelen = sizeof *from;
    msg.msg_iov = &part;
    msg.msg_iovlen = 1;

    ssize_t n = recvmsg(fd, &msg, 0);
    *truncated = n >= 0 && (msg.msg_flags & MSG_TRUNC) != 0;
    /* slide:end recvmsg */
    return n;
}

/* Are a and b the same IP address and port? */
static int
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port &&
               x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return 0;
}

/*** Summary ***/

/* Print what became of the datagrams, like ping's summary. Returns the
 * exit status: 0 if every datagram was echoed, 1 otherwise. */
static int
print_tally(const struct tally *t)
{
    fprintf(stderr,
            "client: %lu datagram%s, %lu echoed, %lu lost, %lu failed, "
            "%lu resent\n",
            t->datagrams, t->datagrams == 1 ? "" : "s", t->echoed, t->lost,
            t->failed, t->resent);
    return t->echoed == t->datagrams ? 0 : 1;
}
