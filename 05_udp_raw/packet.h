/*
 * packet.h - the packet headers that ping and rawudp write and read
 * themselves, and that sniff reads, drawn as their RFCs draw them, and
 * the Internet checksum that guards each of them (checksum.c).
 *
 * Every multi-byte field is in network byte order (big-endian) on the
 * wire: store with htons()/htonl(), read with ntohs()/ntohl(). The
 * structs are our own rather than the system's <netinet/ip.h>, whose
 * struct ip and struct icmp differ between systems (and on glibc need
 * _DEFAULT_SOURCE); here every field is a plain fixed-width integer.
 * The compiler adds no padding between them (each field sits at a
 * multiple of its size), and the _Static_asserts below prove it.
 */
#ifndef PACKET_H
#define PACKET_H

#include <stddef.h>
#include <stdint.h>

/* An Ethernet frame's header (IEEE 802.3; 14 bytes), the first thing a
 * link-layer socket (sniff) reads. On Linux's loopback interface both
 * addresses are zero. */
struct ethernet_header {
    uint8_t destination[6];
    uint8_t source[6];
    uint16_t type; /* what follows: 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP */
};

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

/* RFC 791, the IPv4 header without options (20 bytes):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------+-------+---------------+-------------------------------+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-------+-------+---------------+-----+-------------------------+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +---------------+---------------+-----+-------------------------+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +---------------+---------------+-------------------------------+
 *  |                       Source Address                          |
 *  +---------------------------------------------------------------+
 *  |                    Destination Address                        |
 *  +---------------------------------------------------------------+
 */
struct ipv4_header {
    uint8_t version_ihl;   /* version 4 << 4 | header length in 32-bit words */
    uint8_t tos;           /* type of service; 0 = ordinary */
    uint16_t total_length; /* header + data, in bytes */
    uint16_t id;           /* identifies the fragments of one datagram */
    uint16_t flags_offset; /* don't/more fragments, fragment offset */
    uint8_t ttl;           /* routers left before the packet is dropped */
    uint8_t protocol;      /* what the data is: 1 ICMP, 6 TCP, 17 UDP */
    uint16_t checksum;     /* of the header only */
    uint32_t source;
    uint32_t destination;
};

/* RFC 8200, the IPv6 header (40 bytes), without the extension headers
 * that may follow it. */
struct ipv6_header {
    uint32_t version_class_flow; /* version 6 << 28, traffic class, flow */
    uint16_t payload_length;     /* what follows this header, in bytes */
    uint8_t next_header;         /* as IPv4's protocol: 6 TCP, 17 UDP... */
    uint8_t hop_limit;           /* IPv4's TTL */
    uint8_t source[16];
    uint8_t destination[16];
};

/* RFC 9293, the TCP header without options (20 bytes):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+-------------------------------+
 *  |          Source Port          |       Destination Port        |
 *  +-------------------------------+-------------------------------+
 *  |                        Sequence Number                        |
 *  +---------------------------------------------------------------+
 *  |                    Acknowledgment Number                      |
 *  +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset|  Rsrvd|W|C|R|C|S|S|Y|I|            Window             |
 *  |       |       |R|E|G|K|H|T|N|N|                               |
 *  +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-------------------------------+-------------------------------+
 */
struct tcp_header {
    uint16_t source_port;
    uint16_t destination_port;
    uint32_t seq;      /* the number of this segment's first byte */
    uint32_t ack;      /* the next byte expected from the other side */
    uint8_t offset;    /* header length in 32-bit words, << 4 */
    uint8_t flags;     /* the TCP_* bits below */
    uint16_t window;   /* how many more bytes the sender can take */
    uint16_t checksum; /* over a pseudo-header, this header, the data */
    uint16_t urgent;
};

#define TCP_FIN 0x01 /* no more data from the sender */
#define TCP_SYN 0x02 /* synchronize: the first segment each way */
#define TCP_RST 0x04 /* reset: the connection is gone */
#define TCP_PSH 0x08 /* push: hand the data to the application now */
#define TCP_ACK 0x10 /* the ack field is valid */
#define TCP_URG 0x20
#define TCP_ECE 0x40 /* congestion (ECN) echo */
#define TCP_CWR 0x80 /* congestion window reduced */

/* RFC 768, the UDP header (8 bytes). */
struct udp_header {
    uint16_t source_port;
    uint16_t destination_port;
    uint16_t length;   /* header + data, in bytes */
    uint16_t checksum; /* over a pseudo-header, this header, the data */
};

/* RFC 768: the pseudo-header that the UDP checksum also covers. It is
 * never sent: it binds the datagram to its addresses, so that one
 * delivered to the wrong host fails its checksum. */
struct udp_pseudo_header {
    uint32_t source;
    uint32_t destination;
    uint8_t zero;
    uint8_t protocol;    /* 17, UDP */
    uint16_t udp_length; /* the same as the UDP header's length */
};

/* RFC 792, an ICMP echo request or echo reply (8 bytes, then data).
 * ICMPv6's echo (RFC 4443, section 4) has the same fields in the same
 * places; only the types differ, and what the checksum covers: ICMP's,
 * the ICMP message alone; ICMPv6's, a pseudo-header of IPv6 addresses
 * too, so the kernel computes it (RFC 3542, section 3.1). */
struct icmp_echo {
    uint8_t type;        /* 8 echo request, 0 echo reply (ICMPv6: 128, 129) */
    uint8_t code;        /* 0 */
    uint16_t checksum;   /* over the whole ICMP message, data included */
    uint16_t identifier; /* which ping process this is */
    uint16_t sequence;   /* which request of that process */
};

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

_Static_assert(sizeof(struct ethernet_header) == 14, "Ethernet: 14 bytes");
_Static_assert(sizeof(struct ipv4_header) == 20, "IPv4 header: 20 bytes");
_Static_assert(sizeof(struct ipv6_header) == 40, "IPv6 header: 40 bytes");
_Static_assert(sizeof(struct tcp_header) == 20, "TCP header: 20 bytes");
_Static_assert(sizeof(struct udp_header) == 8, "UDP header: 8 bytes");
_Static_assert(sizeof(struct udp_pseudo_header) == 12, "pseudo: 12 bytes");
_Static_assert(sizeof(struct icmp_echo) == 8, "ICMP echo: 8 bytes");

/* The Internet checksum (RFC 1071), in checksum.c. Results are numbers
 * in host byte order: store them with htons(). */
uint16_t ones_complement_sum(uint16_t sum, const void *data, size_t len);
uint16_t inet_checksum(const void *data, size_t len);

#endif
