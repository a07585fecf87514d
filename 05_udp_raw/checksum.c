/*
 * checksum.c - the Internet checksum (RFC 1071), which guards the IPv4
 * header and every ICMP, UDP and TCP message.
 *
 * The sender adds up the message as 16-bit numbers in one's-complement
 * arithmetic (a carry out of the top bit comes back in at the bottom)
 * with the checksum field set to 0, and stores the complement of the
 * sum there. The receiver adds up the message as it arrived, checksum
 * included: an intact message sums to 0xffff, whose complement is 0.
 * Cheap to compute, and it catches any single flipped bit; it misses,
 * for example, two 16-bit words swapped.
 *
 * Used by ping.c and rawudp.c; tests/cksum_test.c checks it against
 * known values.
 */
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* Add `len` bytes to a running one's-complement sum. Each pair of bytes
 * is one 16-bit number, its first byte the high half (network byte
 * order, so the result is the same on any machine); an odd last byte
 * is padded with a zero byte. Start with sum 0. To sum a message in
 * pieces (UDP's pseudo-header, header and data), pass each piece's
 * result on to the next: every piece but the last must have an even
 * length. */
uint16_t
ones_complement_sum(uint16_t sum, const void *data, size_t len)
{
    /* lab:begin checksum */
    const uint8_t *p = data;
    /* slide:begin ones_complement */
    uint32_t total = sum;
    for (size_t i = 0; i + 1 < len; i += 2) {
        total += (uint32_t)p[i] << 8 | p[i + 1];
        total = (total & 0xffff) + (total >> 16); /* end-around carry */
    }
    if (len % 2 == 1) {
        total += (uint32_t)p[len - 1] << 8;
        total = (total & 0xffff) + (total >> 16);
    }
    return (uint16_t)total;
    /* slide:end ones_complement */
    /* lab:end checksum */
}

/* The checksum of a message: the complement of its sum. Computed with
 * the checksum field 0, it is the value to store there; computed over
 * a message that holds its checksum, it is 0 if the message is
 * intact. */
uint16_t
inet_checksum(const void *data, size_t len)
{
    return (uint16_t)~ones_complement_sum(0, data, len);
}
