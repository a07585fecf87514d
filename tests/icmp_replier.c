/*
 * tests/icmp_replier.c - a test-only ICMP echo responder that can answer
 * one request with a reply longer than the request, which no nftables
 * rule can make (a rule changes bytes, it cannot add any). Run it in a
 * network namespace whose kernel answers no ping itself
 * (net.ipv4.icmp_echo_ignore_all = 1), with the right to open a raw
 * socket there (root, or the namespace's own root).
 *
 * Run:   icmp_replier LONG_SEQ EXTRA COUNT
 * It prints "ready" once its raw socket is open, then answers COUNT
 * echo requests (ICMP type 8) as the kernel would: the same identifier,
 * sequence number and data, type 0, from the address pinged. The reply
 * to sequence number LONG_SEQ carries EXTRA more bytes after the data,
 * its checksum right. Exits 0 after COUNT replies, 1 on an error, and
 * after 30 s in any case (alarm()).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PACKET_MAX 65536 /* bytes: any IPv4 packet */
#define ECHO_REQUEST 8
#define ECHO_REPLY 0

static unsigned char packet[PACKET_MAX];
static unsigned char reply[PACKET_MAX];

/* RFC 1071: the ones' complement of the ones' complement sum. */
static uint16_t
checksum(const unsigned char *p, size_t len)
{
    uint32_t sum = 0;
    for (; len > 1; p += 2, len -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (len == 1)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

int
main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: icmp_replier LONG_SEQ EXTRA COUNT\n");
        return 2;
    }
    long long_seq = strtol(argv[1], NULL, 10);
    size_t extra = (size_t)strtoul(argv[2], NULL, 10);
    long count = strtol(argv[3], NULL, 10);
    alarm(30);

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        perror("icmp_replier: socket");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    while (count > 0) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, packet, sizeof packet, 0,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            perror("icmp_replier: recvfrom");
            return 1;
        }
        size_t ip_len = (size_t)(packet[0] & 0x0f) * 4;
        if ((size_t)n < ip_len + 8 || packet[ip_len] != ECHO_REQUEST)
            continue; /* not a request: our own replies come here too */
        size_t len = (size_t)n - ip_len;
        long seq = packet[ip_len + 6] << 8 | packet[ip_len + 7];
        size_t more = seq == long_seq ? extra : 0;
        if (len + more > sizeof reply)
            more = sizeof reply - len;

        memcpy(reply, packet + ip_len, len);
        memset(reply + len, 0xa5, more);
        reply[0] = ECHO_REPLY;
        reply[2] = reply[3] = 0;
        uint16_t sum = checksum(reply, len + more);
        reply[2] = (unsigned char)(sum >> 8);
        reply[3] = (unsigned char)(sum & 0xff);
        if (sendto(fd, reply, len + more, 0, (struct sockaddr *)&from,
                   from_len) < 0) {
            perror("icmp_replier: sendto");
            return 1;
        }
        count--;
    }
    close(fd);
    return 0;
}
