/*
 * 05_udp_raw/rawudp.c - a UDP datagram built by hand, IPv4 header and
 * all, and sent through a raw socket with IP_HDRINCL: the kernel sends
 * our header instead of writing its own, so the source port can be any
 * we like. (Linux still fills in a few of its fields: the total length
 * and the header checksum always, the id and the source address when
 * they are 0; see build_ipv4() and raw(7).)
 *
 * Every UDP program so far let the kernel write the headers. This one
 * writes them itself, field by field (packet.h draws them), with both
 * checksums: the IPv4 header's own, and UDP's, which also covers a
 * "pseudo-header" of addresses that is never sent. It prints the
 * packet, then sends it. Send it to the stage's server and watch its
 * log: the datagram arrives from the port we chose, and the server
 * sends its echo there.
 *
 * What to look at: build_udp() and build_ipv4() in the order the
 * packet is built (inside out), and main(), which opens the raw
 * socket first and gives up root at once.
 *
 * -n shows what IP_HDRINCL is for by leaving it off: the same bytes go
 * through a raw UDP socket, the kernel writes its own IPv4 header in
 * front of ours, and show_what_arrived() prints the packet as it came
 * back (to this host only): two IPv4 headers. The server logs nothing.
 *
 * Run:   sudo ./rawudp [-n] [-s SOURCE_PORT] [HOST [PORT [MESSAGE]]]
 *        (default: source port 4242, to 127.0.0.1 port 9005)
 * Exit status: 0 sent, 1 on an error, 2 on a usage error, 77 if the
 * system does not let us open a raw socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "packet.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "9005"
#define DEFAULT_SOURCE_PORT "4242"
#define DEFAULT_MESSAGE "hello from a hand-made packet\n"
#define TTL 64 /* hops before a router drops the packet: a common default */
#define HEADERS_SIZE (sizeof(struct ipv4_header) + sizeof(struct udp_header))
#define MESSAGE_MAX (65535 - HEADERS_SIZE) /* IPv4's total length: 16 bits */
#define ARRIVAL_WAIT_S 1.0 /* how long -n waits to see its packet come back */

const char program_name[] = "rawudp";

struct datagram {
    const char *host, *message;
    uint16_t source_port, destination_port;
    struct sockaddr_in source, destination;
    int header_included; /* IP_HDRINCL on; -n turns it off */
};

static void parse_args(int argc, char *argv[], struct datagram *d);
static int open_raw_socket(int *fd, int header_included);
static int find_source_address(struct datagram *d);
static size_t build_packet(const struct datagram *d, unsigned char *packet);
static void describe_packet(const unsigned char *packet, size_t len);
static void print_hex(const unsigned char *bytes, size_t len);
static int show_what_arrived(int fd, const unsigned char *packet, size_t len);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    struct datagram d;
    parse_args(argc, argv, &d);

    /* Hold root as briefly as possible: open the socket, then give root
     * up, before reading a single name. */
    int fd;
    int status = open_raw_socket(&fd, d.header_included);
    if (status != 0)
        return status;
    if (drop_privileges() < 0 || resolve_ipv4(d.host, &d.destination) < 0 ||
        find_source_address(&d) < 0)
        return 1;

    static unsigned char packet[HEADERS_SIZE + MESSAGE_MAX];
    size_t len = build_packet(&d, packet);
    describe_packet(packet, len);

    /* Python: s.sendto(packet, (host, 0))
     * The address only tells the kernel where to route the packet; what
     * goes out is our header and data, with the few IPv4 fields Linux
     * fills in (see build_ipv4()). */
    if (sendto(fd, packet, len, 0, (struct sockaddr *)&d.destination,
               sizeof d.destination) < 0) {
        fprintf(stderr, "rawudp: sendto: %s\n", strerror(errno));
        return 1;
    }
    if (d.header_included)
        printf("sent %zu bytes to %s port %u, from port %u\n", len, d.host,
               (unsigned)d.destination_port, (unsigned)d.source_port);
    else
        printf("sent %zu bytes to %s without IP_HDRINCL: the kernel writes "
               "its own IPv4 header in front of them\n",
               len, d.host);
    status = d.header_included ? 0 : show_what_arrived(fd, packet, len);
    close(fd);
    return status;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: rawudp [-hn] [-s SOURCE_PORT] [HOST [PORT [MESSAGE]]]\n"
            "  -n              no IP_HDRINCL: a raw UDP socket, where the "
            "kernel writes\n"
            "                  its own IPv4 header in front of ours\n"
            "  -s SOURCE_PORT  the source port to write in the UDP header "
            "(default " DEFAULT_SOURCE_PORT ")\n"
            "  HOST            where to send: a name or an IPv4 address "
            "(default " DEFAULT_HOST ")\n"
            "  PORT            the destination UDP port (default " DEFAULT_PORT
            ")\n"
            "  MESSAGE         the datagram's data (default: a greeting)\n");
    exit(status);
}

static uint16_t
port_or_usage(const char *s)
{
    if (!is_port_number(s) || strcmp(s, "0") == 0) {
        fprintf(stderr, "rawudp: bad port '%s': use a number from 1 to 65535\n",
                s);
        usage(stderr, 2);
    }
    return (uint16_t)strtol(s, NULL, 10);
}

static void
parse_args(int argc, char *argv[], struct datagram *d)
{
    memset(d, 0, sizeof *d);
    d->host = DEFAULT_HOST;
    d->message = DEFAULT_MESSAGE;
    d->source_port = port_or_usage(DEFAULT_SOURCE_PORT);
    d->destination_port = port_or_usage(DEFAULT_PORT);
    d->header_included = 1;

    int opt;
    while ((opt = getopt(argc, argv, "hns:")) != -1) {
        if (opt == 'h')
            usage(stdout, 0);
        else if (opt == 'n')
            d->header_included = 0;
        else if (opt == 's')
            d->source_port = port_or_usage(optarg);
        else
            usage(stderr, 2);
    }
    int args = argc - optind;
    if (args > 3)
        usage(stderr, 2);
    if (args >= 1)
        d->host = argv[optind];
    if (is_port_not_host(d->host))
        usage(stderr, 2);
    if (args >= 2)
        d->destination_port = port_or_usage(argv[optind + 1]);
    if (args == 3)
        d->message = argv[optind + 2];
    if (strlen(d->message) > MESSAGE_MAX) {
        fprintf(stderr, "rawudp: the message is too long: at most %zu bytes\n",
                MESSAGE_MAX);
        usage(stderr, 2);
    }
}

/*** Sockets ***/

/* A raw socket for sending IPv4 packets whose header we write.
 * IPPROTO_RAW: we send only; IP_HDRINCL: our data starts with the IP
 * header (Linux implies it for IPPROTO_RAW, other systems need it said).
 * Without header_included (-n), a raw socket of protocol UDP with the
 * option off: the kernel then writes an IPv4 header of its own, for
 * protocol 17, in front of whatever we send; and this socket also
 * receives a copy of every UDP packet that reaches this host.
 * Anyone with a raw socket can send any packet with any sender's
 * address, so it takes root or CAP_NET_RAW. Returns 0 with the socket
 * in *fd, or the exit status after printing why: EXIT_NOT_PERMITTED if
 * we lack the privilege, 1 for any other failure. */
static int
open_raw_socket(int *fd, int header_included)
{
    int protocol = header_included ? IPPROTO_RAW : IPPROTO_UDP;
    *fd = socket(AF_INET, SOCK_RAW, protocol);
    if (*fd < 0) {
        fprintf(stderr, "rawudp: socket(SOCK_RAW, %s): %s\n",
                header_included ? "IPPROTO_RAW" : "IPPROTO_UDP",
                strerror(errno));
        if (!is_permission_error(errno))
            return 1;
        fprintf(stderr, "hint: raw sockets need root or CAP_NET_RAW: run it "
                        "as root (sudo ./rawudp ...),\nor give it the "
                        "capability once: sudo setcap cap_net_raw+ep "
                        "./rawudp\n");
        return EXIT_NOT_PERMITTED;
    }

    /* Set even when 0, the default: which one it is, is the lesson. */
    int on = header_included;
    if (setsockopt(*fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) < 0) {
        fprintf(stderr, "rawudp: setsockopt IP_HDRINCL: %s\n", strerror(errno));
        close(*fd);
        return 1;
    }
    return 0;
}

/* We write the source address ourselves, and the UDP checksum depends
 * on it: ask the kernel which address it would send from. connect() on
 * a UDP socket sends nothing; it only picks the route, and with it our
 * address, which getsockname() then reports. Returns 0, or -1 after
 * printing why. */
static int
find_source_address(struct datagram *d)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof d->source;
    d->destination.sin_port = htons(d->destination_port);
    if (fd < 0 ||
        connect(fd, (struct sockaddr *)&d->destination, sizeof d->destination) <
            0 ||
        getsockname(fd, (struct sockaddr *)&d->source, &len) < 0) {
        fprintf(stderr, "rawudp: finding our address toward %s: %s\n", d->host,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    d->destination.sin_port = 0; /* a raw socket has no ports */
    return 0;
}

/*** The packet ***/

/* The UDP header and data, at `udp`, with the UDP checksum (RFC 768).
 * The checksum covers a pseudo-header (both addresses, the protocol,
 * the length), then the header with checksum 0, then the data. Returns
 * the UDP length: header + data. */
static size_t
build_udp(const struct datagram *d, unsigned char *udp)
{
    size_t data_len = strlen(d->message);
    size_t udp_len = sizeof(struct udp_header) + data_len;

    struct udp_header header;
    header.source_port = htons(d->source_port);
    header.destination_port = htons(d->destination_port);
    header.length = htons((uint16_t)udp_len);
    header.checksum = 0;
    memcpy(udp, &header, sizeof header);
    memcpy(udp + sizeof header, d->message, data_len);

    /* slide:begin pseudo_header */
    struct udp_pseudo_header pseudo;
    pseudo.source = d->source.sin_addr.s_addr; /* already network order */
    pseudo.destination = d->destination.sin_addr.s_addr;
    pseudo.zero = 0;
    pseudo.protocol = IPPROTO_UDP;
    pseudo.udp_length = header.length;

    uint16_t sum = ones_complement_sum(0, &pseudo, sizeof pseudo);
    sum = ones_complement_sum(sum, udp, udp_len);
    uint16_t checksum = (uint16_t)~sum;
    /* 0 in this field means "no checksum" (allowed in IPv4): a real
     * result of 0 is sent as 0xffff, its equal in one's complement. */
    /* cppcheck-suppress knownConditionTrueFalse ; 0 when sum is 0xffff */
    header.checksum = htons(checksum == 0 ? 0xffff : checksum);
    /* slide:end pseudo_header */
    memcpy(udp, &header, sizeof header);
    return udp_len;
}

/* The IPv4 header in front of `data_len` bytes of UDP, with its
 * checksum (RFC 791), which covers the header only.
 *
 * Linux rewrites two of these fields whatever we write (raw(7)): the
 * total length and the header checksum; and it fills in the id and the
 * source address when we leave them 0. We compute them all anyway: an
 * IPv4 header is not whole without them (RFC 791), what Linux fills in
 * is Linux's own (raw sockets are not portable, says raw(7)), and since
 * ours are right, the kernel writes the same values back: the packet
 * printed is the packet sent, byte for byte.
 *
 * The id is this process's ID, so it, and with it the header checksum,
 * differ at every run; the UDP checksum does not cover them. */
static void
build_ipv4(const struct datagram *d, unsigned char *packet, size_t data_len)
{
    struct ipv4_header ip;
    ip.version_ihl = 4 << 4 | sizeof ip / 4; /* IPv4, 5 words: no options */
    ip.tos = 0;
    ip.total_length = htons((uint16_t)(sizeof ip + data_len));
    ip.id = htons((uint16_t)getpid()); /* any but 0: we send no fragments */
    ip.flags_offset = 0;
    ip.ttl = TTL;
    ip.protocol = IPPROTO_UDP;
    ip.checksum = 0;
    ip.source = d->source.sin_addr.s_addr;
    ip.destination = d->destination.sin_addr.s_addr;
    ip.checksum = htons(inet_checksum(&ip, sizeof ip));
    memcpy(packet, &ip, sizeof ip);
}

/* The whole packet, built inside out: the UDP part first, since the
 * IPv4 header needs its length. Returns the packet's length. */
static size_t
build_packet(const struct datagram *d, unsigned char *packet)
{
    size_t udp_len = build_udp(d, packet + sizeof(struct ipv4_header));
    build_ipv4(d, packet, udp_len);
    return sizeof(struct ipv4_header) + udp_len;
}

/* Print the packet: its headers field by field, then every byte in
 * hex, as `tcpdump -X` would show it. */
static void
describe_packet(const unsigned char *packet, size_t len)
{
    struct ipv4_header ip;
    struct udp_header udp;
    memcpy(&ip, packet, sizeof ip);
    memcpy(&udp, packet + sizeof ip, sizeof udp);
    char from[INET_ADDRSTRLEN], to[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip.source, from, sizeof from);
    inet_ntop(AF_INET, &ip.destination, to, sizeof to);

    printf("IPv4 header, %zu bytes: version %u, header length %u, total "
           "length %u,\n  id %u, ttl %u, protocol %u (UDP), checksum 0x%04x, "
           "%s -> %s\n",
           sizeof ip, (ip.version_ihl & 0xf0u) >> 4,
           (ip.version_ihl & 0x0fu) * 4u, ntohs(ip.total_length), ntohs(ip.id),
           ip.ttl, ip.protocol, ntohs(ip.checksum), from, to);
    printf("UDP header, %zu bytes: source port %u, destination port %u, "
           "length %u,\n  checksum 0x%04x\n",
           sizeof udp, ntohs(udp.source_port), ntohs(udp.destination_port),
           ntohs(udp.length), ntohs(udp.checksum));
    printf("data, %zu bytes: ", len - HEADERS_SIZE);
    print_escaped(stdout, packet + HEADERS_SIZE, len - HEADERS_SIZE);
    printf("\n\n");
    print_hex(packet, len);
}

/* Every byte in hex, 16 a row, with the printable ones beside them. */
static void
print_hex(const unsigned char *bytes, size_t len)
{
    for (size_t row = 0; row < len; row += 16) {
        printf("%04zx ", row);
        for (size_t i = row; i < row + 16; i++)
            if (i < len)
                printf(" %02x", bytes[i]);
            else
                printf("   ");
        printf("  ");
        for (size_t i = row; i < row + 16 && i < len; i++)
            putchar(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.');
        printf("\n");
    }
}

/*** -n: what the kernel made of it ***/

/* Our raw UDP socket receives a copy of every UDP packet that reaches
 * this host, IPv4 header included: when we sent to this host, ours
 * among them. Wait up to ARRIVAL_WAIT_S for the one that ends with the
 * `len` bytes we sent, and print it whole: the kernel's header, then
 * ours. The receiving UDP reads our IPv4 header as a UDP header (ports
 * 17664 and our total length), so the server we meant never hears of
 * it. Returns 0 when it came, 1 when it did not. */
static int
show_what_arrived(int fd, const unsigned char *packet, size_t len)
{
    static unsigned char buf[65535];
    double deadline = monotonic_now() + ARRIVAL_WAIT_S;
    for (;;) {
        double left = deadline - monotonic_now();
        if (left <= 0 || set_receive_timeout(fd, left) < 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        size_t header_len = (size_t)(buf[0] & 0x0fu) * 4u;
        if ((size_t)n != header_len + len ||
            memcmp(buf + header_len, packet, len) != 0)
            continue; /* someone else's UDP packet */
        printf("\narrived, %zd bytes: the kernel's IPv4 header (%zu bytes, "
               "protocol %u), then all of ours:\n",
               n, header_len, (unsigned)buf[9]);
        print_hex(buf, (size_t)n);
        return 0;
    }
    printf("\nnothing came back within %.0f s: only a packet sent to this "
           "host comes back to us\n",
           ARRIVAL_WAIT_S);
    return 1;
}
