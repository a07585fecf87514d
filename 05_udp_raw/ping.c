/*
 * 05_udp_raw/ping.c - ICMP echo, as the system's ping does it: send an
 * echo request to HOST, wait for the echo reply, print its round-trip
 * time and TTL, and at the end a summary.
 *
 * ICMP (RFC 792) is the Internet's own message protocol; it has no
 * ports, so no ordinary TCP or UDP socket can speak it. What to look at:
 *     open_icmp_socket()  Linux's unprivileged ICMP datagram socket
 *                         where the system allows it, else a raw socket
 *                         (root or CAP_NET_RAW), root given up at once
 *     send_request()      the ICMP header built by hand, and its
 *                         checksum (checksum.c)
 *     is_our_reply()      the reply taken apart and checked: checksum,
 *                         type, identifier, sequence number, data
 *
 * Run:   sudo ./ping [-c COUNT] [-i INTERVAL] [-W TIMEOUT] HOST
 * Without -c it pings until Ctrl-C, then prints the summary. Exit
 * status: 0 if every request got its reply, 1 if not (or on an error),
 * 2 on a usage error, 77 if the system lets us open no ICMP socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "packet.h"

#define DATA_SIZE 56 /* bytes after the ICMP header: 64 in all, as usual */
#define DEFAULT_INTERVAL_S 1.0
#define DEFAULT_TIMEOUT_S 2.0
#define COUNT_MAX 1000000

const char program_name[] = "ping";

struct pinger {
    const char *host;
    long count;        /* -c: requests to send; 0 = until Ctrl-C */
    double interval_s; /* -i: from one request to the next */
    double timeout_s;  /* -W: how long to wait for each reply */
    int fd;
    int raw;     /* a raw socket: replies come with their IP header */
    uint16_t id; /* our identifier, in every request and its reply */
    struct sockaddr_in target;
    char target_ip[INET_ADDRSTRLEN];
    unsigned long sent, received;
    double rtt_min_ms, rtt_max_ms, rtt_sum_ms;
};

/* One packet as it arrived: the bytes, who sent it, and its TTL. */
struct packet {
    unsigned char bytes[DATAGRAM_MAX];
    size_t len;
    struct sockaddr_in from;
    int ttl; /* -1 if unknown */
};

static volatile sig_atomic_t interrupted; /* set by Ctrl-C */

static void parse_args(int argc, char *argv[], struct pinger *p);
static int open_icmp_socket(struct pinger *p);
static void catch_interrupt(void);
static int send_request(struct pinger *p, uint16_t seq);
static int await_reply(struct pinger *p, uint16_t seq, double sent_at);
static ssize_t receive_packet(int fd, struct packet *pkt);
static int is_our_reply(const struct pinger *p, struct packet *pkt,
                        uint16_t seq, size_t *icmp_len);
static void pause_until(double when);
static void print_summary(const struct pinger *p);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    /* One line at a time, even into a pipe or a file, as it happens. */
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    struct pinger p;
    parse_args(argc, argv, &p);

    /* Hold root as briefly as possible: open the socket, then give
     * root up, before reading a single name or packet. */
    int status = open_icmp_socket(&p);
    if (status != 0)
        return status;
    if (drop_privileges() < 0 || resolve_ipv4(p.host, &p.target) < 0)
        return 1;
    inet_ntop(AF_INET, &p.target.sin_addr, p.target_ip, sizeof p.target_ip);
    catch_interrupt();

    printf("PING %s (%s): %d data bytes, %s socket, id %u\n", p.host,
           p.target_ip, DATA_SIZE, p.raw ? "raw" : "ICMP datagram",
           (unsigned)p.id);
    for (long seq = 1; !interrupted && (p.count == 0 || seq <= p.count);
         seq++) {
        double sent_at = monotonic_now();
        if (send_request(&p, (uint16_t)seq) < 0 ||
            await_reply(&p, (uint16_t)seq, sent_at) < 0)
            break;
        if (p.count == 0 || seq < p.count)
            pause_until(sent_at + p.interval_s);
    }
    print_summary(&p);
    return p.sent > 0 && p.received == p.sent ? 0 : 1;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: ping [-h] [-c COUNT] [-i INTERVAL] [-W TIMEOUT] HOST\n"
            "  -c COUNT     send COUNT requests (default: until Ctrl-C)\n"
            "  -i INTERVAL  seconds from one request to the next "
            "(default %g)\n"
            "  -W TIMEOUT   seconds to wait for each reply (default %g)\n"
            "  HOST         a name or an IPv4 address\n",
            DEFAULT_INTERVAL_S, DEFAULT_TIMEOUT_S);
    exit(status);
}

static _Noreturn void
bad_option(char opt, const char *value, const char *expected)
{
    fprintf(stderr, "ping: bad -%c value '%s': use %s\n", opt, value, expected);
    usage(stderr, 2);
}

static void
parse_args(int argc, char *argv[], struct pinger *p)
{
    memset(p, 0, sizeof *p);
    p->interval_s = DEFAULT_INTERVAL_S;
    p->timeout_s = DEFAULT_TIMEOUT_S;
    p->fd = -1;

    int opt;
    while ((opt = getopt(argc, argv, "hc:i:W:")) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout, 0);
        case 'c':
            if (parse_count(optarg, 1, COUNT_MAX, &p->count) < 0)
                bad_option('c', optarg, "a number from 1 to 1000000");
            break;
        case 'i':
            if (parse_seconds(optarg, &p->interval_s) < 0)
                bad_option('i', optarg, "seconds, more than 0, such as 0.2");
            break;
        case 'W':
            if (parse_seconds(optarg, &p->timeout_s) < 0)
                bad_option('W', optarg, "seconds, more than 0, such as 0.5");
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (argc - optind != 1)
        usage(stderr, 2);
    p->host = argv[optind];
}

/*** The socket ***/

#ifdef __linux__
/* Make the kernel choose our identifier now, and ask for each reply's
 * TTL. Returns 0, or 1 after printing why. */
static int
set_up_datagram_socket(struct pinger *p)
{
    /* On this socket the identifier is the socket's "port": bind() to
     * port 0 picks a free one, and getsockname() tells us which. */
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    if (bind(p->fd, (struct sockaddr *)&local, sizeof local) < 0 ||
        getsockname(p->fd, (struct sockaddr *)&local, &len) < 0) {
        fprintf(stderr, "ping: bind: %s\n", strerror(errno));
        return 1;
    }
    p->id = ntohs(local.sin_port);

    /* We never see the reply's IP header here, so ask the kernel to
     * pass its TTL along with each reply (see receive_packet()). */
    int on = 1;
    setsockopt(p->fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    return 0;
}
#endif

/* Open a socket that speaks ICMP. Returns 0, or the exit status after
 * printing why: EXIT_NOT_PERMITTED if the system does not let us, 1 for
 * any other failure. */
static int
open_icmp_socket(struct pinger *p)
{
#ifdef __linux__
    /* Linux's ICMP datagram socket ("ping socket"): no privilege
     * needed, but only the groups listed in
     * /proc/sys/net/ipv4/ping_group_range may open one ("1 0", the
     * kernel's default, lists none). It sends only echo requests, and
     * delivers only the replies that carry its identifier, without
     * their IP header. */
    p->fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (p->fd >= 0)
        return set_up_datagram_socket(p);
    int datagram_errno = errno;
#endif

    /* A raw socket gets a copy of every ICMP packet that reaches this
     * host, and may send any packet at all: so it takes root, or the
     * capability CAP_NET_RAW. */
    p->fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (p->fd >= 0) {
        p->raw = 1;
        p->id = (uint16_t)getpid(); /* tells our replies from others' */
        return 0;
    }
    int raw_errno = errno;

#ifdef __linux__
    fprintf(stderr, "ping: socket(SOCK_DGRAM, IPPROTO_ICMP): %s\n",
            strerror(datagram_errno));
#endif
    fprintf(stderr, "ping: socket(SOCK_RAW, IPPROTO_ICMP): %s\n",
            strerror(raw_errno));
    if (!is_permission_error(raw_errno))
        return 1;
    fprintf(stderr,
            "hint: ICMP takes a privilege: run ping as root (sudo ./ping "
            "...), or give it\nthe capability once: sudo setcap "
            "cap_net_raw+ep ./ping. On Linux, members of the\ngroups in "
            "/proc/sys/net/ipv4/ping_group_range need neither.\n");
    return EXIT_NOT_PERMITTED;
}

/* Ctrl-C ends the pinging, not the program: the summary still gets
 * printed. Without SA_RESTART, a recvmsg() or nanosleep() under way
 * returns at once, with EINTR, and the loop in main() sees the flag. */
static void
on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void
catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/*** Echo request ***/

/* The data of request seq: printable bytes, different for each
 * request, which the reply must bring back unchanged. */
static void
fill_data(unsigned char *data, size_t len, uint16_t seq)
{
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)('!' + (seq + i) % 94);
}

/* Build an ICMP echo request (RFC 792) and send it. Returns 0, or -1
 * after printing why. */
static int
send_request(struct pinger *p, uint16_t seq)
{
    unsigned char packet[sizeof(struct icmp_echo) + DATA_SIZE];
    struct icmp_echo header;
    header.type = ICMP_ECHO_REQUEST;
    header.code = 0;
    header.checksum = 0; /* 0 while the checksum is computed */
    header.identifier = htons(p->id);
    header.sequence = htons(seq);
    memcpy(packet, &header, sizeof header);
    fill_data(packet + sizeof header, DATA_SIZE, seq);

    /* The checksum covers the whole message, data included. (The
     * datagram socket computes it again itself; a raw socket sends our
     * bytes exactly as they are.) */
    header.checksum = htons(inet_checksum(packet, sizeof packet));
    memcpy(packet, &header, sizeof header);

    /* Python: s.sendto(packet, (host, 0)) -- ICMP has no ports */
    if (sendto(p->fd, packet, sizeof packet, 0, (struct sockaddr *)&p->target,
               sizeof p->target) < 0) {
        fprintf(stderr, "ping: sendto %s: %s\n", p->target_ip, strerror(errno));
        return -1;
    }
    p->sent++;
    return 0;
}

/*** Echo reply ***/

/* Wait (up to the timeout) for the reply to request seq, and print it.
 * Every other packet is skipped: on a raw socket that means every ICMP
 * packet this host receives, our own requests among them when we ping
 * ourselves. Returns 1 if the reply came, 0 if not, -1 on an error or
 * Ctrl-C. */
static int
await_reply(struct pinger *p, uint16_t seq, double sent_at)
{
    static struct packet pkt;
    double deadline = sent_at + p->timeout_s;
    for (;;) {
        double left = deadline - monotonic_now();
        if (left <= 0) {
            printf("no reply to icmp_seq=%u within %g s\n", (unsigned)seq,
                   p->timeout_s);
            return 0;
        }
        set_receive_timeout(p->fd, left); /* see net.c */

        ssize_t n = receive_packet(p->fd, &pkt);
        double rtt_ms = (monotonic_now() - sent_at) * 1000;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue; /* timed out: the top of the loop says so */
        if (n < 0 && errno == EINTR && !interrupted)
            continue;
        if (n < 0) {
            if (!interrupted)
                fprintf(stderr, "ping: recvmsg: %s\n", strerror(errno));
            return -1;
        }

        size_t icmp_len;
        if (!is_our_reply(p, &pkt, seq, &icmp_len))
            continue;
        printf("%zu bytes from %s: icmp_seq=%u ", icmp_len, p->target_ip,
               (unsigned)seq);
        if (pkt.ttl >= 0)
            printf("ttl=%d ", pkt.ttl);
        else
            printf("ttl=? ");
        printf("time=%.3f ms\n", rtt_ms);

        if (p->received == 0 || rtt_ms < p->rtt_min_ms)
            p->rtt_min_ms = rtt_ms;
        if (p->received == 0 || rtt_ms > p->rtt_max_ms)
            p->rtt_max_ms = rtt_ms;
        p->rtt_sum_ms += rtt_ms;
        p->received++;
        return 1;
    }
}

/* Python: data, addr = s.recvfrom(65535), plus the TTL on the side.
 * recvmsg() also returns "ancillary data": facts about the packet
 * rather than its bytes, such as the TTL asked for with IP_RECVTTL.
 * Returns the packet's length, or -1 with errno set. */
static ssize_t
receive_packet(int fd, struct packet *pkt)
{
    union { /* aligned for struct cmsghdr, with room for one int */
        struct cmsghdr header;
        unsigned char bytes[64];
    } control;
    struct iovec part = {pkt->bytes, sizeof pkt->bytes};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &pkt->from;
    msg.msg_namelen = sizeof pkt->from;
    msg.msg_iov = &part;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;

    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0)
        return -1;
    pkt->len = (size_t)n;
    pkt->ttl = -1;
#ifdef __linux__
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
         c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
            memcpy(&pkt->ttl, CMSG_DATA(c), sizeof pkt->ttl);
#endif
    return n;
}

/* Is this packet the intact reply to our request seq? Skips, silently,
 * what is not a reply to us at all; reports a reply of ours that is
 * damaged, late, or not the one awaited. On a raw socket, takes the
 * TTL from the IP header. Returns 1 (the ICMP message's length in
 * *icmp_len) or 0. */
static int
is_our_reply(const struct pinger *p, struct packet *pkt, uint16_t seq,
             size_t *icmp_len)
{
    unsigned char *icmp = pkt->bytes;
    size_t len = pkt->len;
    if (p->raw) {
        /* A raw socket hands over the IP header too (RFC 791). Its
         * length, in 32-bit words, is in the low half of byte 0. */
        struct ipv4_header ip;
        if (len < sizeof ip)
            return 0;
        memcpy(&ip, icmp, sizeof ip);
        size_t header_len = (size_t)(ip.version_ihl & 0x0fu) * 4;
        if (header_len < sizeof ip || header_len > len)
            return 0;
        pkt->ttl = ip.ttl;
        icmp += header_len;
        len -= header_len;
    }

    struct icmp_echo header;
    if (len < sizeof header)
        return 0;
    memcpy(&header, icmp, sizeof header); /* copied: aligned to read */
    if (header.type != ICMP_ECHO_REPLY || ntohs(header.identifier) != p->id ||
        pkt->from.sin_addr.s_addr != p->target.sin_addr.s_addr)
        return 0; /* a request, or another program's reply */

    unsigned got_seq = ntohs(header.sequence);
    unsigned char expected[DATA_SIZE];
    fill_data(expected, sizeof expected, seq);
    if (inet_checksum(icmp, len) != 0)
        printf("icmp_seq=%u: bad checksum, reply ignored\n", got_seq);
    else if (got_seq != seq)
        printf("icmp_seq=%u: not the reply to icmp_seq=%u (a late one?), "
               "ignored\n",
               got_seq, (unsigned)seq);
    else if (len != sizeof header + DATA_SIZE ||
             memcmp(icmp + sizeof header, expected, DATA_SIZE) != 0)
        printf("icmp_seq=%u: the data came back changed, reply ignored\n",
               got_seq);
    else {
        *icmp_len = len;
        return 1;
    }
    return 0;
}

/* Sleep until `when` on the monotonic clock, or until Ctrl-C. */
static void
pause_until(double when)
{
    double left = when - monotonic_now();
    if (left <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)left;
    ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL); /* EINTR: Ctrl-C, main() sees the flag */
}

/*** Summary ***/

static void
print_summary(const struct pinger *p)
{
    unsigned long lost = p->sent - p->received;
    printf("\n--- %s ping statistics ---\n", p->host);
    printf("%lu packets transmitted, %lu received, %lu%% packet loss\n",
           p->sent, p->received, p->sent > 0 ? lost * 100 / p->sent : 0);
    if (p->received > 0)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", p->rtt_min_ms,
               p->rtt_sum_ms / (double)p->received, p->rtt_max_ms);
}
