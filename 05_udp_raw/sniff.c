/*
 * 05_udp_raw/sniff.c - a packet sniffer: every frame that crosses one
 * network interface (default lo), one line each, as `tcpdump -n` prints
 * them; with -w, also saved to a pcap file that tcpdump and Wireshark
 * read. Linux only: it reads the link layer through an AF_PACKET socket.
 *
 * The raw sockets of ping and rawudp sit on top of IP: the kernel hands
 * them an IP packet of one protocol. An AF_PACKET socket sits below IP:
 * it gets a copy of every frame the interface sends or receives, whole,
 * link-layer header first, whatever protocol it carries. Reading one is
 * reading the headers as they nest, outside in: Ethernet, then IPv4 or
 * IPv6, then TCP, UDP or ICMP, then the data (packet.h draws each one).
 *
 * What to look at: open_capture() (the socket, bound to one interface),
 * capture() (the loop: one recvfrom() per frame, and the copy on lo
 * that we skip), print_frame() and the print_* helpers it calls (the
 * headers, outside in), and write_pcap_header()/write_pcap_record()
 * (the file format: one header, then a header per packet).
 *
 * Run:   sudo ./sniff [-A] [-c COUNT] [-t SECONDS] [-i INTERFACE]
 *                     [-p PROTOCOL] [-P PORT] [-w FILE]
 *        or, without root, in a network namespace of your own:
 *        unshare -rn sh -c 'ip link set lo up; ./sniff -c 4 &
 *                           sleep 1; ./ping -c 2 127.0.0.1; wait'
 * It stops after COUNT packets, after SECONDS, or at Ctrl-C, and says
 * on stderr how many packets it captured. Exit status: 0 when it
 * stopped for one of those reasons, 1 on an error, 2 on a usage error,
 * 77 if the system does not let us open the socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <net/if.h>
#include <netpacket/packet.h>
#endif

#include "net.h"
#include "packet.h"

const char program_name[] = "sniff";

#ifdef __linux__

#define DEFAULT_INTERFACE "lo"
#define SNAPLEN 262144 /* bytes kept of each frame: tcpdump's default */
#define COUNT_MAX 1000000000L
#define DATA_SHOWN 64 /* bytes of data that -A prints, at most */
#define FLOWS 64      /* TCP directions whose first seq we remember */

/* Constants of <linux/if_ether.h> and <linux/if_arp.h>, written here
 * because those kernel headers are not everywhere a C library is. */
#define ETH_P_ALL_FRAMES 0x0003    /* ETH_P_ALL: frames of every protocol */
#define ARPHRD_ETHERNET 1          /* ARPHRD_ETHER */
#define ARPHRD_LOOPBACK_DEVICE 772 /* ARPHRD_LOOPBACK: lo */

/* pcap's link type for frames that begin with an Ethernet header. */
#define LINKTYPE_ETHERNET 1

struct options {
    const char *interface, *file;
    long count;     /* stop after this many packets; 0: never */
    double seconds; /* stop after this long; 0: never */
    int protocol;   /* IPPROTO_TCP, _UDP, _ICMP (ICMPv6 too), or -1 */
    long port;      /* a TCP or UDP port, either way; -1: any */
    int show_data;  /* -A */
};

/* One direction of a TCP connection, and the sequence number it began
 * at: seq and ack are printed relative to it, as tcpdump does. */
struct flow {
    uint8_t source[16], destination[16];
    uint16_t source_port, destination_port;
    uint32_t first_seq;
    int used;
};

/* A frame taken apart, outside in, by decode_frame(): what the filter
 * looks at, and what print_packet() prints. */
struct packet {
    uint16_t ethertype;  /* what the Ethernet header says follows */
    int family;          /* AF_INET, AF_INET6; 0 when not IP */
    const char *problem; /* why we could not read it all, or NULL */
    uint8_t source[16], destination[16]; /* IPv4's take 4 bytes */
    int protocol;                        /* IPPROTO_TCP, ...; -1 when not IP */
    long source_port, destination_port;  /* -1 when not TCP or UDP */
    const unsigned char *transport;      /* the TCP, UDP or ICMP header */
    size_t transport_len;                /* it and its data, in bytes */
    size_t header_len;                   /* TCP's or UDP's header, in bytes */
};

static volatile sig_atomic_t stop_signal; /* set by SIGINT or SIGTERM */
static struct flow flows[FLOWS];
static size_t next_flow; /* the slot to reuse when all are taken */

static void parse_args(int argc, char *argv[], struct options *o);
static int open_capture(const char *interface, int *fd);
static FILE *open_pcap(const char *file);
static int capture(int fd, FILE *pcap, const struct options *o);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    struct options o;
    parse_args(argc, argv, &o);

    /* Open the socket, which takes the privilege, then give root up
     * before the first frame from the network is read. */
    int fd;
    int status = open_capture(o.interface, &fd);
    if (status != 0)
        return status;
    if (drop_privileges() < 0)
        return 1;
    FILE *pcap = NULL;
    if (o.file != NULL && (pcap = open_pcap(o.file)) == NULL)
        return 1;

    /* One line a packet, as it comes, even into a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    fprintf(stderr, "sniff: listening on %s%s\n", o.interface,
            o.file != NULL ? ", writing pcap" : "");
    status = capture(fd, pcap, &o);

    if (pcap != NULL && fclose(pcap) != 0) {
        fprintf(stderr, "sniff: writing %s: %s\n", o.file, strerror(errno));
        status = 1;
    }
    close(fd);
    return status;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(
        out,
        "usage: sniff [-hA] [-c COUNT] [-t SECONDS] [-i INTERFACE] "
        "[-p PROTOCOL]\n"
        "             [-P PORT] [-w FILE]\n"
        "  -A            print each packet's data too (at most %d "
        "bytes)\n"
        "  -c COUNT      stop after COUNT packets\n"
        "  -t SECONDS    stop after SECONDS\n"
        "  -i INTERFACE  the interface to listen on (default " DEFAULT_INTERFACE
        ")\n"
        "  -p PROTOCOL   only tcp, udp or icmp (ICMPv6 too)\n"
        "  -P PORT       only TCP and UDP packets from or to PORT\n"
        "  -w FILE       also write the packets to FILE, in pcap format\n",
        DATA_SHOWN);
    exit(status);
}

static int
protocol_number(const char *name)
{
    if (strcmp(name, "tcp") == 0)
        return IPPROTO_TCP;
    if (strcmp(name, "udp") == 0)
        return IPPROTO_UDP;
    if (strcmp(name, "icmp") == 0)
        return IPPROTO_ICMP;
    fprintf(stderr, "sniff: unknown protocol '%s': use tcp, udp or icmp\n",
            name);
    usage(stderr, 2);
}

static void
parse_args(int argc, char *argv[], struct options *o)
{
    memset(o, 0, sizeof *o);
    o->interface = DEFAULT_INTERFACE;
    o->protocol = -1;
    o->port = -1;

    int opt;
    while ((opt = getopt(argc, argv, "hAc:t:i:p:P:w:")) != -1) {
        if (opt == 'h') {
            usage(stdout, 0);
        } else if (opt == 'A') {
            o->show_data = 1;
        } else if (opt == 'c') {
            if (parse_count(optarg, 1, COUNT_MAX, &o->count) < 0) {
                fprintf(stderr, "sniff: bad count '%s'\n", optarg);
                usage(stderr, 2);
            }
        } else if (opt == 't') {
            if (parse_seconds(optarg, &o->seconds) < 0) {
                fprintf(stderr, "sniff: bad time '%s'\n", optarg);
                usage(stderr, 2);
            }
        } else if (opt == 'i') {
            o->interface = optarg;
        } else if (opt == 'p') {
            o->protocol = protocol_number(optarg);
        } else if (opt == 'P') {
            if (parse_count(optarg, 1, 65535, &o->port) < 0) {
                fprintf(stderr, "sniff: bad port '%s'\n", optarg);
                usage(stderr, 2);
            }
        } else if (opt == 'w') {
            o->file = optarg;
        } else {
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);
}

/*** The socket ***/

/* An AF_PACKET socket of type SOCK_RAW: each recvfrom() returns one
 * frame, its link-layer header included (SOCK_DGRAM would strip it).
 * The protocol ETH_P_ALL asks for frames of every protocol, in network
 * byte order like every number on the wire. bind() narrows it to one
 * interface: unbound, it would hear them all. Since such a socket sees
 * everyone's traffic, it takes root or CAP_NET_RAW: in a network
 * namespace of your own (unshare -rn), you have it. Returns 0 with the
 * socket in *fd, or the exit status after printing why. */
static int
open_capture(const char *interface, int *fd)
{
    /* slide:begin packet_socket */
    *fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL_FRAMES));
    /* slide:end packet_socket */
    if (*fd < 0) {
        fprintf(stderr, "sniff: socket(AF_PACKET, SOCK_RAW): %s\n",
                strerror(errno));
        if (!is_permission_error(errno))
            return 1;
        fprintf(stderr, "hint: capturing takes root or CAP_NET_RAW: sudo "
                        "./sniff, or a network namespace\nof your own, "
                        "where you are root: unshare -rn\n");
        return EXIT_NOT_PERMITTED;
    }

    /* slide:begin bind_interface */
    struct sockaddr_ll where;
    memset(&where, 0, sizeof where);
    where.sll_family = AF_PACKET;
    where.sll_protocol = htons(ETH_P_ALL_FRAMES);
    where.sll_ifindex = (int)if_nametoindex(interface);
    /* slide:end bind_interface */
    if (where.sll_ifindex == 0) {
        fprintf(stderr,
                "sniff: no interface named '%s' (`ip link` lists "
                "them)\n",
                interface);
        close(*fd);
        return 1;
    }
    socklen_t len = sizeof where;
    if (bind(*fd, (struct sockaddr *)&where, sizeof where) < 0 ||
        getsockname(*fd, (struct sockaddr *)&where, &len) < 0) {
        fprintf(stderr, "sniff: bind to %s: %s\n", interface, strerror(errno));
        close(*fd);
        return 1;
    }

    /* We read Ethernet headers, and write pcap's Ethernet link type: an
     * interface whose frames begin with anything else (a tunnel's, with
     * no link header at all) is not for us. */
    if (where.sll_hatype != ARPHRD_ETHERNET &&
        where.sll_hatype != ARPHRD_LOOPBACK_DEVICE) {
        fprintf(stderr,
                "sniff: %s does not carry Ethernet frames (its "
                "hardware type is %u):\nthis sniffer reads those "
                "only\n",
                interface, (unsigned)where.sll_hatype);
        close(*fd);
        return 1;
    }
    return 0;
}

/*** The pcap file ***/

/* A pcap file is one file header, then for each packet a record header
 * and the bytes of the frame. Every field is in the writer's byte
 * order: the magic number tells a reader which one it was. */
struct pcap_file_header {
    uint32_t magic;         /* 0xa1b2c3d4: times in microseconds */
    uint16_t version_major; /* 2 */
    uint16_t version_minor; /* 4 */
    int32_t thiszone;       /* 0: times are UTC */
    uint32_t sigfigs;       /* 0 */
    uint32_t snaplen;       /* no record holds more bytes than this */
    uint32_t linktype;      /* what each frame begins with */
};

struct pcap_record_header {
    uint32_t seconds, microseconds; /* when it was captured (UTC) */
    uint32_t captured_length;       /* bytes that follow in the file */
    uint32_t original_length;       /* bytes the frame had */
};

_Static_assert(sizeof(struct pcap_file_header) == 24, "pcap: 24 bytes");
_Static_assert(sizeof(struct pcap_record_header) == 16, "record: 16 bytes");

/* Write `len` bytes and push them to the file at once, so that a reader
 * (tcpdump -r) sees every packet so far, and a full disk is reported at
 * the packet it stopped. Returns 0, or -1 with errno set. */
static int
write_now(FILE *out, const void *data, size_t len)
{
    if (fwrite(data, 1, len, out) != len || fflush(out) != 0)
        return -1;
    return 0;
}

/* Create `file` and write pcap's file header. Returns the stream, or
 * NULL after printing why. */
static FILE *
open_pcap(const char *file)
{
    FILE *out = fopen(file, "wb");
    if (out == NULL) {
        fprintf(stderr, "sniff: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    /* slide:begin pcap_header */
    struct pcap_file_header header;
    header.magic = 0xa1b2c3d4;
    header.version_major = 2;
    header.version_minor = 4;
    header.thiszone = 0;
    header.sigfigs = 0;
    header.snaplen = SNAPLEN;
    header.linktype = LINKTYPE_ETHERNET;
    /* slide:end pcap_header */
    if (write_now(out, &header, sizeof header) < 0) {
        fprintf(stderr, "sniff: writing %s: %s\n", file, strerror(errno));
        fclose(out);
        return NULL;
    }
    return out;
}

/* One packet: its record header, then the bytes kept of it. */
static int
write_pcap_record(FILE *out, const struct timespec *when,
                  const unsigned char *frame, size_t captured, size_t length)
{
    struct pcap_record_header record;
    record.seconds = (uint32_t)when->tv_sec;
    record.microseconds = (uint32_t)(when->tv_nsec / 1000);
    record.captured_length = (uint32_t)captured;
    record.original_length = (uint32_t)length;
    if (write_now(out, &record, sizeof record) < 0)
        return -1;
    return write_now(out, frame, captured);
}

/*** Taking a frame apart, outside in ***/

static void decode_ipv4(const unsigned char *p, size_t len, struct packet *k);
static void decode_ipv6(const unsigned char *p, size_t len, struct packet *k);
static void decode_transport(const unsigned char *p, size_t len,
                             struct packet *k);

/* The Ethernet header says what comes next: the IP header, which says
 * what comes next: TCP, UDP or ICMP, which carries the data. */
static void
decode_frame(const unsigned char *frame, size_t len, struct packet *k)
{
    memset(k, 0, sizeof *k);
    k->protocol = -1;
    k->source_port = k->destination_port = -1;
    struct ethernet_header eth;
    if (len < sizeof eth) {
        k->problem = "too short for Ethernet";
        return;
    }
    /* slide:begin decode_frame */
    memcpy(&eth, frame, sizeof eth);
    k->ethertype = ntohs(eth.type);
    if (k->ethertype == ETHERTYPE_IPV4)
        decode_ipv4(frame + sizeof eth, len - sizeof eth, k);
    else if (k->ethertype == ETHERTYPE_IPV6)
        decode_ipv6(frame + sizeof eth, len - sizeof eth, k);
    else
        k->transport_len = len - sizeof eth; /* ARP, or another */
    /* slide:end decode_frame */
}

/* IPv4: the header's length is in the header (IHL, in 32-bit words: it
 * may carry options), and so is the whole packet's, which says where
 * the data ends. */
static void
decode_ipv4(const unsigned char *p, size_t len, struct packet *k)
{
    struct ipv4_header ip;
    k->family = AF_INET;
    if (len < sizeof ip) {
        k->problem = "truncated";
        return;
    }
    memcpy(&ip, p, sizeof ip);
    /* slide:begin ipv4_lengths */
    size_t header_len = (size_t)(ip.version_ihl & 0x0fu) * 4;
    size_t total = ntohs(ip.total_length);
    if (header_len < sizeof ip || total < header_len || total > len) {
        k->problem = "bad header length";
        return;
    }
    /* slide:end ipv4_lengths */
    memcpy(k->source, &ip.source, 4);
    memcpy(k->destination, &ip.destination, 4);
    k->protocol = ip.protocol;
    decode_transport(p + header_len, total - header_len, k);
}

/* IPv6: a fixed header of 40 bytes, and the length of what follows.
 * (An extension header, rare on lo, is shown as the protocol it is.) */
static void
decode_ipv6(const unsigned char *p, size_t len, struct packet *k)
{
    struct ipv6_header ip;
    k->family = AF_INET6;
    if (len < sizeof ip) {
        k->problem = "truncated";
        return;
    }
    memcpy(&ip, p, sizeof ip);
    size_t payload = ntohs(ip.payload_length);
    if (payload > len - sizeof ip) {
        k->problem = "bad payload length";
        return;
    }
    memcpy(k->source, ip.source, 16);
    memcpy(k->destination, ip.destination, 16);
    k->protocol = ip.next_header;
    decode_transport(p + sizeof ip, payload, k);
}

/* TCP and UDP: the ports, and where the data begins (TCP's header may
 * carry options: its length is in it). ICMP: nothing to do here. */
static void
decode_transport(const unsigned char *p, size_t len, struct packet *k)
{
    k->transport = p;
    k->transport_len = len;
    if (k->protocol == IPPROTO_TCP) {
        struct tcp_header tcp;
        if (len < sizeof tcp) {
            k->problem = "truncated";
            return;
        }
        memcpy(&tcp, p, sizeof tcp);
        k->header_len = (size_t)(tcp.offset >> 4) * 4;
        k->source_port = ntohs(tcp.source_port);
        k->destination_port = ntohs(tcp.destination_port);
    } else if (k->protocol == IPPROTO_UDP) {
        struct udp_header udp;
        k->header_len = sizeof udp;
        if (len < sizeof udp) {
            k->problem = "truncated";
            return;
        }
        memcpy(&udp, p, sizeof udp);
        k->source_port = ntohs(udp.source_port);
        k->destination_port = ntohs(udp.destination_port);
    }
    if (k->header_len > len)
        k->problem = "bad header length";
}

/* Does the packet pass -p and -P? ICMPv6 counts as icmp. */
static int
passes(const struct packet *k, const struct options *o)
{
    int protocol = k->protocol == IPPROTO_ICMPV6 ? IPPROTO_ICMP : k->protocol;
    if (o->protocol >= 0 && protocol != o->protocol)
        return 0;
    return o->port < 0 || k->source_port == o->port ||
           k->destination_port == o->port;
}

/*** Printing a packet, as tcpdump -n does ***/

static void print_tcp(const struct packet *k);
static void print_icmp(const struct packet *k);

/* "127.0.0.1" or "::1", and with a port "127.0.0.1.9001" or "::1.9001",
 * as tcpdump writes them. */
static void
print_endpoint(int family, const uint8_t *address, long port)
{
    char text[INET6_ADDRSTRLEN];
    inet_ntop(family, address, text, sizeof text);
    printf(port >= 0 ? "%s.%ld" : "%s", text, port);
}

/* -A: the data, quoted, with the bytes that are not printable escaped
 * (net.c's print_escaped()), at most DATA_SHOWN of them. */
static void
print_data(const unsigned char *data, size_t len)
{
    printf(": ");
    print_escaped(stdout, data, len > DATA_SHOWN ? DATA_SHOWN : len);
    if (len > DATA_SHOWN)
        printf("...");
}

/* One line: the time, the addresses (and ports), then what the
 * transport header says. */
static void
print_packet(const struct timespec *when, const struct packet *k, int show_data)
{
    struct tm local;
    localtime_r(&when->tv_sec, &local);
    printf("%02d:%02d:%02d.%06ld ", local.tm_hour, local.tm_min, local.tm_sec,
           when->tv_nsec / 1000);
    if (k->family == 0) {
        if (k->problem != NULL)
            printf("[%s]\n", k->problem);
        else if (k->ethertype == ETHERTYPE_ARP)
            printf("ARP, length %zu\n", k->transport_len);
        else
            printf("ethertype 0x%04x, length %zu\n", k->ethertype,
                   k->transport_len);
        return;
    }
    printf("%s ", k->family == AF_INET ? "IP" : "IP6");
    if (k->protocol < 0) {
        printf("[%s]\n", k->problem);
        return;
    }
    print_endpoint(k->family, k->source, k->source_port);
    printf(" > ");
    print_endpoint(k->family, k->destination, k->destination_port);
    printf(": ");
    if (k->problem != NULL)
        printf("[%s]", k->problem);
    else if (k->protocol == IPPROTO_TCP)
        print_tcp(k);
    else if (k->protocol == IPPROTO_UDP)
        printf("UDP, length %zu", k->transport_len - k->header_len);
    else if (k->protocol == IPPROTO_ICMP || k->protocol == IPPROTO_ICMPV6)
        print_icmp(k);
    else
        printf("ip-proto-%d, length %zu", k->protocol, k->transport_len);
    if (show_data && k->problem == NULL && k->transport_len > k->header_len &&
        k->header_len > 0)
        print_data(k->transport + k->header_len,
                   k->transport_len - k->header_len);
    printf("\n");
}

/* The flow of one direction of a TCP connection: the one remembered,
 * or a new one that starts at `first_seq` when `create` (at a SYN, the
 * connection's first seq; otherwise the first we happened to see). */
static struct flow *
find_flow(const struct packet *k, int reverse, int create, uint32_t first_seq)
{
    const uint8_t *from = reverse ? k->destination : k->source;
    const uint8_t *to = reverse ? k->source : k->destination;
    long from_port = reverse ? k->destination_port : k->source_port;
    long to_port = reverse ? k->source_port : k->destination_port;
    for (size_t i = 0; i < FLOWS; i++) {
        struct flow *f = &flows[i];
        if (f->used && f->source_port == from_port &&
            f->destination_port == to_port &&
            memcmp(f->source, from, 16) == 0 &&
            memcmp(f->destination, to, 16) == 0) {
            if (create)
                f->first_seq = first_seq; /* a SYN: a new connection */
            return f;
        }
    }
    if (!create)
        return NULL;
    struct flow *f = &flows[next_flow]; /* the oldest, when all are used */
    next_flow = (next_flow + 1) % FLOWS;
    memcpy(f->source, from, 16);
    memcpy(f->destination, to, 16);
    f->source_port = (uint16_t)from_port;
    f->destination_port = (uint16_t)to_port;
    f->first_seq = first_seq;
    f->used = 1;
    return f;
}

/* TCP: the flags in tcpdump's letters and order ("S" SYN, "F" FIN,
 * "P" PSH, "R" RST, "." ACK), the sequence numbers of the data, the
 * ack, the window, and the data's length. The numbers are relative,
 * as tcpdump's are: the SYN is 0, and the first byte of data is 1 (a
 * SYN, and a FIN, take one number each). tcpdump prints a SYN's own seq
 * in full; we print 0. */
static void
print_tcp(const struct packet *k)
{
    static const struct {
        uint8_t bit;
        char letter;
    } flag_letters[] = {
        {TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
        {TCP_ACK, '.'}, {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'},
    };
    struct tcp_header tcp;
    memcpy(&tcp, k->transport, sizeof tcp);
    uint32_t seq = ntohl(tcp.seq), ack = ntohl(tcp.ack);
    size_t data_len = k->transport_len - k->header_len;

    struct flow *mine = find_flow(k, 0, (tcp.flags & TCP_SYN) != 0, seq);
    if (mine == NULL) /* joined mid-connection: call this byte 1 */
        mine = find_flow(k, 0, 1, seq - 1);
    const struct flow *theirs = find_flow(k, 1, 0, 0);

    printf("Flags [");
    for (size_t i = 0; i < sizeof flag_letters / sizeof flag_letters[0]; i++)
        if (tcp.flags & flag_letters[i].bit)
            putchar(flag_letters[i].letter);
    printf("]");
    uint32_t relative = seq - mine->first_seq;
    if (data_len > 0)
        printf(", seq %" PRIu32 ":%" PRIu32, relative,
               relative + (uint32_t)data_len);
    else if (tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST))
        printf(", seq %" PRIu32, relative);
    if (tcp.flags & TCP_ACK)
        printf(", ack %" PRIu32,
               theirs != NULL ? ack - theirs->first_seq : ack);
    printf(", win %u, length %zu", (unsigned)ntohs(tcp.window), data_len);
}

/* ICMP and ICMPv6: the type and code, named where we know them, and the
 * length of the whole ICMP message, as tcpdump prints it. */
static void
print_icmp(const struct packet *k)
{
    int v4 = k->protocol == IPPROTO_ICMP;
    const char *name = v4 ? "ICMP" : "ICMP6";
    struct icmp_echo icmp; /* type and code begin every ICMP message */
    if (k->transport_len < sizeof icmp) {
        printf("%s [truncated]", name);
        return;
    }
    memcpy(&icmp, k->transport, sizeof icmp);
    int request = icmp.type == (v4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST);
    int reply = icmp.type == (v4 ? ICMP_ECHO_REPLY : ICMPV6_ECHO_REPLY);
    /* "Destination unreachable": type 3, ICMPv6's 1; and its code for
     * "port unreachable": 3, ICMPv6's 4 (RFC 792, RFC 4443). */
    int unreachable = icmp.type == (v4 ? 3 : 1);
    int port = icmp.code == (v4 ? 3 : 4);
    if (request || reply)
        printf("%s echo %s, id %u, seq %u", name, request ? "request" : "reply",
               (unsigned)ntohs(icmp.identifier),
               (unsigned)ntohs(icmp.sequence));
    else if (unreachable)
        printf("%s %s unreachable, code %u", name,
               port ? "port" : "destination", (unsigned)icmp.code);
    else
        printf("%s type %u, code %u", name, (unsigned)icmp.type,
               (unsigned)icmp.code);
    printf(", length %zu", k->transport_len);
}

/*** The capture loop ***/

/* SIGINT (Ctrl-C) and SIGTERM end the capture: the handler notes it,
 * and the loop ends at once. The two are blocked except while the loop
 * waits in pselect(), so that one cannot slip in between the check and
 * the wait and be missed. */
static void
note_stop(int signo)
{
    stop_signal = signo;
}

static void
catch_stop_signals(sigset_t *waiting_mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, waiting_mask);
}

/* Wait until a frame can be read, up to the deadline (0: none). Returns
 * 1 when one can, 0 when time is up or a signal came. */
static int
wait_for_frame(int fd, double deadline, const sigset_t *waiting_mask)
{
    for (;;) {
        struct timespec left, *limit = NULL;
        if (deadline > 0) {
            double s = deadline - monotonic_now();
            if (s <= 0)
                return 0;
            left.tv_sec = (time_t)s;
            left.tv_nsec = (long)((s - (double)left.tv_sec) * 1e9);
            limit = &left;
        }
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        int ready = pselect(fd + 1, &readable, NULL, NULL, limit, waiting_mask);
        if (stop_signal)
            return 0;
        if (ready > 0)
            return 1;
    }
}

/* Read frames until COUNT, SECONDS or a signal, printing (and writing)
 * each that passes the filter. Returns the exit status. */
static int
capture(int fd, FILE *pcap, const struct options *o)
{
    static unsigned char frame[SNAPLEN];
    sigset_t waiting_mask;
    catch_stop_signals(&waiting_mask);
    double deadline = o->seconds > 0 ? monotonic_now() + o->seconds : 0;
    long packets = 0;

    while ((o->count == 0 || packets < o->count) &&
           wait_for_frame(fd, deadline, &waiting_mask)) {
        /* One frame per call; MSG_TRUNC makes n its whole length, even
         * when the buffer held less. The address says where it went:
         * on lo, what this host sends it also receives, so each packet
         * comes twice, going out (PACKET_OUTGOING) and coming in. Keep
         * the one coming in. (Elsewhere a frame sent is seen once.) */
        /* slide:begin capture_loop */
        struct sockaddr_ll from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, frame, sizeof frame, MSG_TRUNC,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            fprintf(stderr, "sniff: recvfrom: %s%s\n", strerror(errno),
                    errno == ENETDOWN ? " (has the interface gone away?)" : "");
            return 1;
        }
        if (from.sll_pkttype == PACKET_OUTGOING &&
            from.sll_hatype == ARPHRD_LOOPBACK_DEVICE)
            continue;
        /* slide:end capture_loop */
        struct timespec when; /* when we read it, close to its arrival */
        clock_gettime(CLOCK_REALTIME, &when);
        size_t length = (size_t)n;
        size_t captured = length < sizeof frame ? length : sizeof frame;

        struct packet k;
        decode_frame(frame, captured, &k);
        if (!passes(&k, o))
            continue;
        print_packet(&when, &k, o->show_data);
        if (pcap != NULL &&
            write_pcap_record(pcap, &when, frame, captured, length) < 0) {
            fprintf(stderr, "sniff: writing %s: %s\n", o->file,
                    strerror(errno));
            return 1;
        }
        packets++;
    }
    fprintf(stderr, "sniff: %ld packet%s captured\n", packets,
            packets == 1 ? "" : "s");
    return 0;
}

#else /* not Linux */

int
main(void)
{
    open_standard_fds();
    fprintf(stderr, "sniff: AF_PACKET sockets are Linux's, and this system "
                    "has none:\nBSD and macOS capture through /dev/bpf "
                    "instead (tcpdump does); run sniff on Linux or WSL\n");
    return 1;
}

#endif
