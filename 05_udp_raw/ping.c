/*
 * 05_udp_raw/ping.c - ICMP echo, as the system's ping does it, over
 * IPv4 (ICMP, RFC 792) and IPv6 (ICMPv6, RFC 4443): send an echo request
 * to HOST, wait for the echo reply, print its round-trip time and TTL,
 * and at the end a summary.
 *
 * ICMP is the Internet's own message protocol; it has no ports, so no
 * ordinary TCP or UDP socket can speak it. What to look at:
 *     open_icmp_socket()  Linux's unprivileged ICMP datagram socket
 *                         where the system allows it, else a raw socket
 *                         (root or CAP_NET_RAW); one for each IP
 *                         version, opened before root is given up
 *     send_request()      the echo request built by hand, and its
 *                         checksum: ours for ICMP (checksum.c), the
 *                         kernel's for ICMPv6
 *     is_our_reply()      the reply taken apart and checked: type,
 *                         identifier, sender, checksum, sequence number,
 *                         data
 *
 * Run:   sudo ./ping [-4 | -6] [-c COUNT] [-i INTERVAL] [-W TIMEOUT] HOST
 * Without -c it pings until Ctrl-C, then prints the summary. A request
 * that cannot be sent (no route to HOST, say) is reported, and the next
 * one is tried on time. Exit status: 0 if every request went out and
 * got its reply, 1 if a reply is missing (or on a fatal error), 2 if a
 * request could not be sent (as the system's ping) or on a usage error,
 * 77 if the system lets us open no ICMP socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
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
#define EXIT_NOT_SENT 2 /* a request could not be sent */

const char program_name[] = "ping";

/* What differs between ICMP over IPv4 and ICMPv6 over IPv6. */
struct icmp_version {
    int family;        /* AF_INET, AF_INET6 */
    int protocol;      /* IPPROTO_ICMP, IPPROTO_ICMPV6 */
    const char *name;  /* "ICMP", "ICMPv6" */
    const char *proto; /* the protocol's name in socket() calls */
    uint8_t echo_request, echo_reply; /* the message types */
};

static const struct icmp_version ICMP_V4 = {
    AF_INET,        IPPROTO_ICMP,      "ICMP",
    "IPPROTO_ICMP", ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY,
};
static const struct icmp_version ICMP_V6 = {
    AF_INET6,         IPPROTO_ICMPV6,      "ICMPv6",
    "IPPROTO_ICMPV6", ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY,
};

/* An ICMP socket of one IP version, or why there is none. */
struct icmp_socket {
    const struct icmp_version *icmp;
    int fd;             /* -1: none */
    int raw;            /* a raw socket, rather than a datagram socket */
    int datagram_errno; /* why socket(SOCK_DGRAM) failed, or 0 */
    int raw_errno;      /* why socket(SOCK_RAW) failed, or 0 */
};

struct pinger {
    const char *host;
    int family;              /* -4: AF_INET, -6: AF_INET6, else AF_UNSPEC */
    long count;              /* -c: requests to send; 0 = until Ctrl-C */
    double interval_s;       /* -i: from one request to the next */
    double timeout_s;        /* -W: how long to wait for each reply */
    struct icmp_socket sock; /* the one the target's IP version needs */
    uint16_t id; /* our identifier, in every request and its reply */
    struct sockaddr_storage target;
    socklen_t target_len;
    char target_ip[INET6_ADDRSTRLEN];
    unsigned long sent, received, not_sent;
    double rtt_min_ms, rtt_max_ms, rtt_sum_ms;
};

/* One packet as it arrived: the bytes, who sent it, and its TTL. */
struct packet {
    unsigned char bytes[DATAGRAM_MAX];
    size_t len;
    struct sockaddr_storage from;
    int ttl; /* -1 if unknown */
};

static volatile sig_atomic_t interrupted; /* set by Ctrl-C */

static void parse_args(int argc, char *argv[], struct pinger *p);
static void open_icmp_socket(struct icmp_socket *s);
static int choose_target(struct pinger *p, struct icmp_socket sockets[2]);
static void catch_interrupt(void);
static int send_request(struct pinger *p, uint16_t seq);
static int await_reply(struct pinger *p, uint16_t seq, double sent_at);
static ssize_t receive_packet(int fd, struct packet *pkt);
static int is_our_reply(const struct pinger *p, struct packet *pkt,
                        uint16_t seq, size_t *icmp_len);
static void pause_until(double when);
static int print_summary(const struct pinger *p);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    /* One line at a time, even into a pipe or a file, as it happens. */
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    struct pinger p;
    parse_args(argc, argv, &p);

    /* Hold root as briefly as possible: open the sockets, then give
     * root up, before reading a single name or packet. Which IP version
     * HOST needs is not known until its name is read: open a socket of
     * each version that -4 or -6 allows. */
    struct icmp_socket sockets[2] = {{&ICMP_V4, -1, 0, 0, 0},
                                     {&ICMP_V6, -1, 0, 0, 0}};
    for (int i = 0; i < 2; i++)
        if (p.family == AF_UNSPEC || p.family == sockets[i].icmp->family)
            open_icmp_socket(&sockets[i]);
    if (drop_privileges() < 0)
        return 1;
    int status = choose_target(&p, sockets);
    if (status != 0)
        return status;
    catch_interrupt();

    printf("PING %s (%s): %d data bytes, %s %s socket, id %u\n", p.host,
           p.target_ip, DATA_SIZE, p.sock.icmp->name,
           p.sock.raw ? "raw" : "datagram", (unsigned)p.id);
    for (long seq = 1; !interrupted && (p.count == 0 || seq <= p.count);
         seq++) {
        double sent_at = monotonic_now();
        /* A request that cannot be sent is reported, and the next one
         * is tried on time: a route may come back, as the system's ping
         * expects. */
        if (send_request(&p, (uint16_t)seq) == 0 &&
            await_reply(&p, (uint16_t)seq, sent_at) < 0)
            break;
        if (p.count == 0 || seq < p.count)
            pause_until(sent_at + p.interval_s);
    }
    return print_summary(&p);
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: ping [-h] [-4 | -6] [-c COUNT] [-i INTERVAL] [-W TIMEOUT] "
            "HOST\n"
            "  -4, -6       ping over IPv4 (ICMP) only, or IPv6 (ICMPv6) only\n"
            "  -c COUNT     send COUNT requests (default: until Ctrl-C)\n"
            "  -i INTERVAL  seconds from one request to the next "
            "(default %g)\n"
            "  -W TIMEOUT   seconds to wait for each reply (default %g)\n"
            "  HOST         a name, or an IPv4 or IPv6 address\n",
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
    p->family = AF_UNSPEC;
    p->interval_s = DEFAULT_INTERVAL_S;
    p->timeout_s = DEFAULT_TIMEOUT_S;

    int opt;
    while ((opt = getopt(argc, argv, "h46c:i:W:")) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout, 0);
        case '4':
        case '6':
            if (p->family != AF_UNSPEC) {
                fprintf(stderr, "ping: -4 and -6: choose one\n");
                usage(stderr, 2);
            }
            p->family = opt == '4' ? AF_INET : AF_INET6;
            break;
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
    /* getaddrinfo() would read a number alone as an IPv4 address (9001
     * is 0.0.35.41): whoever types one most likely means a port, which
     * ICMP does not have. */
    if (is_digits(p->host)) {
        fprintf(stderr,
                "ping: '%s' is a number, not a host name or address\n"
                "hint: ICMP has no ports; to ping this machine: ./ping "
                "localhost\n",
                p->host);
        usage(stderr, 2);
    }
}

/*** The sockets ***/

/* Open a socket that speaks s->icmp's version of ICMP: fd -1, and the
 * errors, if the system does not let us. Reports nothing: whether a
 * failure matters is known only once HOST is read. */
static void
open_icmp_socket(struct icmp_socket *s)
{
    const struct icmp_version *icmp = s->icmp;
#ifdef __linux__
    /* Linux's ICMP datagram socket ("ping socket"), for IPv4 and IPv6
     * alike: no privilege needed, but only the groups listed in
     * /proc/sys/net/ipv4/ping_group_range may open one ("1 0", the
     * kernel's default, lists none). It sends only echo requests, and
     * delivers only the replies that carry its identifier, without
     * their IP header. */
    s->fd = socket(icmp->family, SOCK_DGRAM, icmp->protocol);
    if (s->fd >= 0)
        return;
    s->datagram_errno = errno;
#endif

    /* A raw socket gets a copy of every ICMP packet that reaches this
     * host, and may send any packet at all: so it takes root, or the
     * capability CAP_NET_RAW. */
    s->fd = socket(icmp->family, SOCK_RAW, icmp->protocol);
    if (s->fd >= 0)
        s->raw = 1;
    else
        s->raw_errno = errno;
}

#ifdef __linux__
/* Make the kernel choose our identifier now. On this socket the
 * identifier is the socket's "port": bind() to port 0 picks a free
 * one, and getsockname() tells us which. Returns 0, or -1 after
 * printing why. */
static int
bind_datagram_socket(struct pinger *p)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    memset(&local, 0, sizeof local);
    local.ss_family = (sa_family_t)p->sock.icmp->family;
    socklen_t bind_len = p->sock.icmp->family == AF_INET
                             ? sizeof(struct sockaddr_in)
                             : sizeof(struct sockaddr_in6);
    if (bind(p->sock.fd, (struct sockaddr *)&local, bind_len) < 0 ||
        getsockname(p->sock.fd, (struct sockaddr *)&local, &len) < 0) {
        fprintf(stderr, "ping: bind: %s\n", strerror(errno));
        return -1;
    }
    if (local.ss_family == AF_INET)
        p->id = ntohs(((struct sockaddr_in *)&local)->sin_port);
    else
        p->id = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
    return 0;
}
#endif

/* Set up the socket we keep: ask for the TTL of each reply, and find
 * our identifier. Returns 0, or -1 after printing why. */
static int
set_up_socket(struct pinger *p)
{
    /* A socket that never sees the reply's IP header (an IPv6 socket,
     * raw or not, RFC 3542; Linux's datagram socket) can have the TTL,
     * which IPv6 calls the hop limit, passed beside each reply, as
     * ancillary data (see receive_packet()). */
    if (p->sock.icmp->family == AF_INET6) {
#ifdef IPV6_RECVHOPLIMIT
        int on = 1;
        setsockopt(p->sock.fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
#endif
    } else if (!p->sock.raw) {
#ifdef __linux__
        int on = 1;
        setsockopt(p->sock.fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
#endif
    }

#ifdef __linux__
    if (!p->sock.raw)
        return bind_datagram_socket(p);
#endif
    p->id = (uint16_t)getpid(); /* tells our replies from others' */
    return 0;
}

/* The socket of one address family, of the two: [0] IPv4, [1] IPv6. */
static struct icmp_socket *
socket_for(struct icmp_socket sockets[2], int family)
{
    return &sockets[family == AF_INET6 ? 1 : 0];
}

/* Say why there is no socket for HOST: `failed` is the one its first
 * address needed. Returns the exit status: EXIT_NOT_PERMITTED if the
 * system did not let us open one, 1 for any other reason. */
static int
report_no_socket(const struct icmp_socket *failed)
{
#ifdef __linux__
    fprintf(stderr, "ping: socket(SOCK_DGRAM, %s): %s\n", failed->icmp->proto,
            strerror(failed->datagram_errno));
#endif
    fprintf(stderr, "ping: socket(SOCK_RAW, %s): %s\n", failed->icmp->proto,
            strerror(failed->raw_errno));
    if (!is_permission_error(failed->raw_errno))
        return 1;
    fprintf(stderr,
            "hint: ICMP takes a privilege: run ping as root (sudo ./ping "
            "...), or give it\nthe capability once: sudo setcap "
            "cap_net_raw+ep ./ping. On Linux, members of the\ngroups in "
            "/proc/sys/net/ipv4/ping_group_range need neither.\n");
    return EXIT_NOT_PERMITTED;
}

/* Python: socket.getaddrinfo(host, None)[0]
 * Read HOST, and keep the socket of its IP version: the first of its
 * addresses, in the order getaddrinfo() prefers, for which we have a
 * socket. Closes the other socket. Returns 0, or the exit status after
 * printing why: EXIT_NOT_PERMITTED if the system let us open no socket
 * for HOST, 1 for any other failure. */
static int
choose_target(struct pinger *p, struct icmp_socket sockets[2])
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = p->family;
    hints.ai_socktype = SOCK_DGRAM; /* any type will do: one answer each */

    struct addrinfo *list;
    int err = getaddrinfo(p->host, NULL, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "ping: %s: %s\n", p->host, gai_strerror(err));
        return 1;
    }
    const struct addrinfo *chosen = NULL;
    for (const struct addrinfo *ai = list; ai != NULL && !chosen;
         ai = ai->ai_next)
        if (socket_for(sockets, ai->ai_family)->fd >= 0)
            chosen = ai;
    /* If none: the socket that HOST's first address would need. (A
     * getaddrinfo() that succeeds returns one address at least.) */
    const struct icmp_socket *failed =
        socket_for(sockets, list != NULL ? list->ai_family : AF_INET);
    p->sock.fd = -1;
    if (chosen != NULL) {
        memcpy(&p->target, chosen->ai_addr, chosen->ai_addrlen);
        p->target_len = chosen->ai_addrlen;
        p->sock = *socket_for(sockets, chosen->ai_family);
    }
    freeaddrinfo(list);
    for (int i = 0; i < 2; i++)
        if (sockets[i].fd >= 0 && sockets[i].fd != p->sock.fd)
            close(sockets[i].fd);

    if (chosen == NULL)
        return report_no_socket(failed);
    getnameinfo((struct sockaddr *)&p->target, p->target_len, p->target_ip,
                sizeof p->target_ip, NULL, 0, NI_NUMERICHOST);
    return set_up_socket(p) < 0 ? 1 : 0;
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

/* Build an echo request (RFC 792, RFC 4443) and send it. Returns 0, or
 * -1 after printing why. */
static int
send_request(struct pinger *p, uint16_t seq)
{
    unsigned char packet[sizeof(struct icmp_echo) + DATA_SIZE];
    struct icmp_echo header;
    header.type = p->sock.icmp->echo_request;
    header.code = 0;
    header.checksum = 0; /* 0 while the checksum is computed */
    header.identifier = htons(p->id);
    header.sequence = htons(seq);
    memcpy(packet, &header, sizeof header);
    fill_data(packet + sizeof header, DATA_SIZE, seq);

    /* ICMP's checksum covers the ICMP message alone, data included, and
     * is ours to compute: a raw socket sends our bytes as they are (the
     * datagram socket computes it again itself). ICMPv6's covers a
     * pseudo-header too, with the source address, which the kernel
     * picks as it sends: so for ICMPv6 the kernel always computes it,
     * on raw sockets too (RFC 3542, section 3.1), and we leave it 0. */
    if (p->sock.icmp->family == AF_INET) {
        header.checksum = htons(inet_checksum(packet, sizeof packet));
        memcpy(packet, &header, sizeof header);
    }

    /* Python: s.sendto(packet, (host, 0)) -- ICMP has no ports */
    if (sendto(p->sock.fd, packet, sizeof packet, 0,
               (struct sockaddr *)&p->target, p->target_len) < 0) {
        fprintf(stderr, "ping: sendto %s: icmp_seq=%u: %s\n", p->target_ip,
                (unsigned)seq, strerror(errno));
        p->not_sent++;
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
        set_receive_timeout(p->sock.fd, left); /* see net.c */

        ssize_t n = receive_packet(p->sock.fd, &pkt);
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
 * rather than its bytes, such as the TTL asked for with IP_RECVTTL, or
 * IPv6's hop limit, asked for with IPV6_RECVHOPLIMIT. Returns the
 * packet's length, or -1 with errno set. */
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
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
         c = CMSG_NXTHDR(&msg, c)) {
#ifdef __linux__
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
            memcpy(&pkt->ttl, CMSG_DATA(c), sizeof pkt->ttl);
#endif
#ifdef IPV6_HOPLIMIT
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
            memcpy(&pkt->ttl, CMSG_DATA(c), sizeof pkt->ttl);
#endif
    }
    return n;
}

/* Did this packet come from the host we ping? */
static int
is_from_target(const struct pinger *p, const struct packet *pkt)
{
    if (pkt->from.ss_family != p->target.ss_family)
        return 0;
    if (pkt->from.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&pkt->from)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)&p->target)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)&pkt->from)->sin6_addr,
                  &((const struct sockaddr_in6 *)&p->target)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

/* Is this packet the intact reply to our request seq? Skips, silently,
 * what is not a reply to us at all; reports a reply of ours that is
 * damaged, late, or not the one awaited. On a raw IPv4 socket, takes
 * the TTL from the IP header. Returns 1 (the ICMP message's length in
 * *icmp_len) or 0. */
static int
is_our_reply(const struct pinger *p, struct packet *pkt, uint16_t seq,
             size_t *icmp_len)
{
    unsigned char *icmp = pkt->bytes;
    size_t len = pkt->len;
    if (p->sock.raw && p->sock.icmp->family == AF_INET) {
        /* A raw IPv4 socket hands over the IP header too (RFC 791). Its
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

    /* lab:begin reply */
    struct icmp_echo header;
    if (len < sizeof header)
        return 0;
    memcpy(&header, icmp, sizeof header); /* copied: aligned to read */
    if (header.type != p->sock.icmp->echo_reply ||
        ntohs(header.identifier) != p->id || !is_from_target(p, pkt))
        return 0; /* a request, or another program's reply */

    /* ICMP's checksum is ours to check: a raw IPv4 socket receives the
     * packet before the kernel has checked it. ICMPv6's covers the
     * addresses too, and the kernel has checked it already: a reply
     * with a bad one never reaches us (nstat counts it, as
     * Icmp6InCsumErrors). */
    int checksum_ok =
        p->sock.icmp->family != AF_INET || inet_checksum(icmp, len) == 0;
    unsigned got_seq = ntohs(header.sequence);
    unsigned char expected[DATA_SIZE];
    fill_data(expected, sizeof expected, seq);
    if (!checksum_ok)
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
    /* lab:end reply */
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

/* Print the summary, and return the exit status it calls for. Only the
 * requests that went out count as transmitted; the others are counted
 * apart, as not sent. */
static int
print_summary(const struct pinger *p)
{
    unsigned long lost = p->sent - p->received;
    printf("\n--- %s ping statistics ---\n", p->host);
    printf("%lu packets transmitted, %lu received", p->sent, p->received);
    if (p->sent > 0)
        printf(", %lu%% packet loss", lost * 100 / p->sent);
    if (p->not_sent > 0)
        printf(", %lu not sent (send errors)", p->not_sent);
    printf("\n");
    if (p->received > 0)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", p->rtt_min_ms,
               p->rtt_sum_ms / (double)p->received, p->rtt_max_ms);

    if (p->not_sent > 0)
        return EXIT_NOT_SENT;
    return p->sent > 0 && p->received == p->sent ? 0 : 1;
}
