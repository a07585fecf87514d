/*
 * 05_udp_raw/boundaries.c - the same messages sent over TCP and over
 * UDP, one send() each, and what the receiving side's recv() calls
 * return, side by side.
 *
 * TCP carries a stream of bytes: the receiver gets the bytes in order,
 * but not the boundaries between the sends, so three messages may come
 * out of one recv(), glued together. This is stage 04's "sticky
 * packets" (粘包) problem, which framing solves. UDP carries datagrams:
 * each recv() returns exactly one send(), never two and never half.
 *
 * Everything happens in this one process, over loopback (127.0.0.1):
 * a TCP connection to itself and a pair of UDP sockets. Every message is
 * sent before anything is read, as when a receiver is busy while its
 * sender keeps sending.
 *
 * Run:   ./boundaries [MESSAGE...]    (default: one two three)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define MESSAGES_MAX 16
#define TOTAL_MAX 16384 /* bytes in all messages together; see main() */
#define UDP_WAIT_S 1.0  /* how long to wait for a datagram on loopback */
#define ROWS_MAX 32     /* reads the table shows; any more are counted */

const char program_name[] = "boundaries";

/* What the receiving side's recv() calls returned, in order: pieces of
 * one buffer. For TCP, the last one is the end of the stream (0). */
struct reads {
    size_t count; /* recv() calls, all of them */
    const char *data[ROWS_MAX];
    size_t len[ROWS_MAX];
    char buf[TOTAL_MAX];
};

static int parse_args(int argc, char *argv[], const char **messages);
static int send_all(int fd, const void *buf, size_t len);
static int through_tcp(const char **messages, int count, struct reads *tcp);
static int through_udp(const char **messages, int count, struct reads *udp);
static void record_read(struct reads *r, const char *data, size_t len);
static void print_side_by_side(const char **messages, int count,
                               const struct reads *tcp,
                               const struct reads *udp);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *messages[MESSAGES_MAX] = {"one", "two", "three"};
    int count = parse_args(argc, argv, messages);

    /* At most TOTAL_MAX bytes: far less than any socket buffer holds,
     * so every send() completes before anything is read. */
    static struct reads tcp, udp;
    if (through_tcp(messages, count, &tcp) < 0 ||
        through_udp(messages, count, &udp) < 0)
        return 1;

    print_side_by_side(messages, count, &tcp, &udp);
    return 0;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: boundaries [-h] [MESSAGE...]\n"
                 "  MESSAGE  up to 16 messages, 16384 bytes in all "
                 "(default: one two three)\n");
    exit(status);
}

/* [-h] [MESSAGE...]: puts the messages in `messages` (leaving the
 * defaults if none are given) and returns how many there are. */
static int
parse_args(int argc, char *argv[], const char **messages)
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    int count = argc - optind;
    if (count == 0)
        return 3;
    if (count > MESSAGES_MAX)
        usage(stderr, 2);

    size_t total = 0;
    for (int i = 0; i < count; i++) {
        messages[i] = argv[optind + i];
        total += strlen(messages[i]);
    }
    if (total > TOTAL_MAX) {
        fprintf(stderr,
                "boundaries: the messages are too long: %zu bytes, "
                "at most %d in all\n",
                total, TOTAL_MAX);
        usage(stderr, 2);
    }
    return count;
}

/*** The two sockets ***/

/* Print "boundaries: CALL: reason" and return -1. */
static int
failed(const char *call)
{
    fprintf(stderr, "boundaries: %s: %s\n", call, strerror(errno));
    return -1;
}

/* A socket of `type` bound to 127.0.0.1 and a port the kernel picks;
 * its address goes to *addr. Returns the socket, or -1 after printing
 * why. */
static int
bind_loopback(int type, struct sockaddr_in *addr)
{
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 */
    addr->sin_port = 0;                             /* any free port */
    socklen_t len = sizeof *addr;

    int fd = socket(AF_INET, type, 0);
    if (fd < 0)
        return failed("socket");
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        failed("bind");
        close(fd);
        return -1;
    }
    return fd;
}

/* Send each message with one send() on a TCP connection, end the
 * stream, then read until the end, recording what each recv()
 * returned. Returns 0, or -1 after printing why. */
static int
through_tcp(const char **messages, int count, struct reads *tcp)
{
    struct sockaddr_in addr;
    int listener = bind_loopback(SOCK_STREAM, &addr);
    if (listener < 0)
        return -1;
    int sender = socket(AF_INET, SOCK_STREAM, 0);
    int receiver = -1;
    int status = -1;
    if (sender < 0 || listen(listener, 1) < 0 ||
        connect(sender, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        (receiver = accept(listener, NULL, NULL)) < 0) {
        failed("connecting to ourselves");
        goto close_sockets;
    }

    /* One send() per message: send_all() loops only in the rare case
     * that send() takes part of one. */
    for (int i = 0; i < count; i++)
        if (send_all(sender, messages[i], strlen(messages[i])) < 0) {
            failed("send");
            goto close_sockets;
        }
    shutdown(sender, SHUT_WR); /* the end of the stream: recv() gets 0 */

    size_t used = 0;
    for (;;) {
        ssize_t n = recv(receiver, tcp->buf + used, sizeof tcp->buf - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            failed("recv");
            goto close_sockets;
        }
        record_read(tcp, tcp->buf + used, (size_t)n);
        used += (size_t)n;
        if (n == 0)
            break;
    }
    status = 0;

close_sockets:
    close(listener);
    if (sender >= 0)
        close(sender);
    if (receiver >= 0)
        close(receiver);
    return status;
}

/* Python: sock.sendall(data)
 * send() may take fewer bytes than asked (a short write) when the
 * socket buffer is nearly full: loop until every byte is gone.
 * Returns 0, or -1 with errno set. (The echo stages' own.) */
static int
send_all(int fd, const void *buf, size_t len)
{
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
}

/* Send each message with one sendto() from one UDP socket to another,
 * then recv() one datagram per message. Returns 0, or -1 after printing
 * why. */
static int
through_udp(const char **messages, int count, struct reads *udp)
{
    struct sockaddr_in addr;
    int receiver = bind_loopback(SOCK_DGRAM, &addr);
    if (receiver < 0)
        return -1;
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    int status = -1;
    if (sender < 0 || set_receive_timeout(receiver, UDP_WAIT_S) < 0) {
        failed("socket");
        goto close_sockets;
    }

    for (int i = 0; i < count; i++)
        if (sendto(sender, messages[i], strlen(messages[i]), 0,
                   (struct sockaddr *)&addr, sizeof addr) < 0) {
            failed("sendto");
            goto close_sockets;
        }

    /* One recv() per datagram, each into all the room that is left: it
     * still returns one datagram, never more. (UDP has no end of stream
     * to wait for: one more recv() would wait for another datagram.) */
    size_t used = 0;
    while (udp->count < (size_t)count) {
        ssize_t n = recv(receiver, udp->buf + used, sizeof udp->buf - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            failed("recv"); /* EAGAIN: a datagram was lost, even here */
            goto close_sockets;
        }
        record_read(udp, udp->buf + used, (size_t)n);
        used += (size_t)n;
    }
    status = 0;

close_sockets:
    close(receiver);
    if (sender >= 0)
        close(sender);
    return status;
}

/* Note what one recv() returned: `len` bytes at `data`, in r->buf. */
static void
record_read(struct reads *r, const char *data, size_t len)
{
    if (r->count < ROWS_MAX) {
        r->data[r->count] = data;
        r->len[r->count] = len;
    }
    r->count++;
}

/*** The table ***/

/* Print what read i returned, such as 11 bytes "onetwothree", padded
 * to `width` characters; a read that did not happen is blank. For TCP,
 * 0 bytes means the end of the stream; for UDP, an empty datagram. */
static void
print_read(const struct reads *r, size_t i, int is_stream, int width)
{
    int printed = 0;
    int shown = i < r->count && i < ROWS_MAX;
    if (shown && r->len[i] == 0 && is_stream)
        printed = printf("0 bytes: end of stream");
    else if (shown) {
        printed = printf("%zu byte%s ", r->len[i], r->len[i] == 1 ? "" : "s");
        print_escaped(stdout, r->data[i], r->len[i]);
        printed += (int)escaped_width(r->data[i], r->len[i]);
    }
    if (width > printed)
        printf("%*s", width - printed, "");
}

/*
 *         TCP (SOCK_STREAM)        UDP (SOCK_DGRAM)
 * recv 1  11 bytes "onetwothree"   3 bytes "one"
 * recv 2  0 bytes: end of stream   3 bytes "two"
 * recv 3                           5 bytes "three"
 */
static void
print_side_by_side(const char **messages, int count, const struct reads *tcp,
                   const struct reads *udp)
{
    printf("%d message%s, one send() each:", count, count == 1 ? "" : "s");
    for (int i = 0; i < count; i++) {
        putchar(' ');
        print_escaped(stdout, messages[i], strlen(messages[i]));
    }
    printf("\n\n");

    /* cppcheck reads tcp->count as 0 and calls the two conditions on
     * tcp_rows below "always false": it does not follow through_tcp(). */
    size_t tcp_rows = tcp->count < ROWS_MAX ? tcp->count : ROWS_MAX;
    int width = (int)strlen("0 bytes: end of stream");
    /* cppcheck-suppress knownConditionTrueFalse */
    for (size_t i = 0; i < tcp_rows; i++) {
        int w = snprintf(NULL, 0, "%zu bytes ", tcp->len[i]) +
                (int)escaped_width(tcp->data[i], tcp->len[i]);
        if (w > width)
            width = w;
    }
    width += 3; /* between the columns */

    printf("        %-*s%s\n", width, "TCP (SOCK_STREAM)", "UDP (SOCK_DGRAM)");
    /* cppcheck-suppress knownConditionTrueFalse */
    size_t rows = tcp_rows > udp->count ? tcp_rows : udp->count;
    for (size_t i = 0; i < rows; i++) {
        printf("recv %-2zu ", i + 1);
        print_read(tcp, i, 1, i < udp->count ? width : 0);
        print_read(udp, i, 0, 0);
        printf("\n");
    }
    if (tcp->count > ROWS_MAX)
        printf("...     and %zu more recv()s, the last one the end of "
               "stream\n",
               tcp->count - ROWS_MAX);

    /* The last TCP read returned 0: the end, not a message. */
    size_t tcp_reads = tcp->count - 1;
    printf("\nTCP: %d send()%s, %zu recv()%s with data: %s\n", count,
           count == 1 ? "" : "s", tcp_reads, tcp_reads == 1 ? "" : "s",
           tcp_reads == (size_t)count
               ? "the boundaries happened to survive, but TCP "
                 "promises nothing of the kind."
               : "a byte stream keeps no boundaries.");
    printf("UDP: %d send()%s, %zu recv()%s: one datagram each, the "
           "boundaries kept.\n",
           count, count == 1 ? "" : "s", udp->count,
           udp->count == 1 ? "" : "s");
}
