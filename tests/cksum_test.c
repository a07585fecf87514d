/*
 * tests/cksum_test.c - checks 05_udp_raw/checksum.c, the Internet
 * checksum, against known values and against its definition.
 *
 * tests/05_udp_raw.bats builds and runs it:
 *     cc -I 05_udp_raw tests/cksum_test.c 05_udp_raw/checksum.c
 * It prints the first failed checks, then "N checks, N failed", and,
 * when some failed, a hint: the classic mistake whose sums
 * ones_complement_sum() gives, on small inputs made to tell them apart
 * and on random ones; or, when it gives no such mistake's sums, one
 * small input with the sum expected and the sum that came. Exits 1 if
 * any failed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "packet.h"

#define FAILURES_SHOWN 8 /* the first ones say enough */

static int checks, failures;

static void
expect(const char *what, unsigned got, unsigned want)
{
    checks++;
    if (got != want) {
        failures++;
        if (failures <= FAILURES_SHOWN)
            printf("FAIL %s: got 0x%04x, want 0x%04x\n", what, got, want);
    }
}

/* A different implementation, straight from RFC 1071's description:
 * add every 16-bit word into a wide accumulator, fold the carries at
 * the end, complement. */
static uint16_t
reference_checksum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += i % 2 == 0 ? (uint64_t)p[i] << 8 : p[i];
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The right sum and the classic mistakes, each as the sum it gives
 * (not complemented), for any running sum. */
enum mistake {
    NONE, /* the right sum */
    NO_CARRY,
    FOLDED_ONCE,
    MOD_FFFF,
    SUM_IGNORED,
    ODD_BYTE_LOW,
    ODD_BYTE_DROPPED,
    BYTES_SWAPPED,
    NOTHING
};

static uint16_t
mistaken_sum(enum mistake m, uint16_t sum, const uint8_t *p, size_t len)
{
    if (m == NOTHING)
        return sum;
    uint64_t total = m == SUM_IGNORED ? 0 : sum;
    for (size_t i = 0; i + 1 < len; i += 2)
        total += m == BYTES_SWAPPED ? (unsigned)p[i + 1] << 8 | p[i]
                                    : (unsigned)p[i] << 8 | p[i + 1];
    if (len % 2 == 1 && m != ODD_BYTE_DROPPED)
        total += m == ODD_BYTE_LOW || m == BYTES_SWAPPED
                     ? p[len - 1]
                     : (uint64_t)p[len - 1] << 8;
    switch (m) {
    case NO_CARRY: /* the carries out of bit 15 lost */
        return (uint16_t)total;
    case FOLDED_ONCE: /* the fold's own carry then lost */
        return (uint16_t)((total & 0xffff) + (total >> 16));
    case MOD_FFFF: /* 0 where the sum is 0xffff */
        return (uint16_t)(total % 0xffff);
    default:
        while (total > 0xffff)
            total = (total & 0xffff) + (total >> 16);
        return (uint16_t)total;
    }
}

static uint32_t random_state = 2463534242u; /* fixed: repeatable runs */

static uint8_t
random_byte(void)
{
    random_state ^= random_state << 13; /* xorshift32 */
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return (uint8_t)random_state;
}

static void
known_values(void)
{
    /* RFC 1071, section 3: the sum of these four words is 0xddf2. */
    static const uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03,
                                      0xf4, 0xf5, 0xf6, 0xf7};
    expect("RFC 1071 example, sum", ones_complement_sum(0, rfc1071, 8), 0xddf2);
    expect("RFC 1071 example, checksum", inet_checksum(rfc1071, 8), 0x220d);

    /* An IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, 115 bytes)
     * whose checksum is 0xb861; with it in place, the check gives 0. */
    uint8_t ip[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                    0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    expect("IPv4 header", inet_checksum(ip, sizeof ip), 0xb861);
    ip[10] = 0xb8;
    ip[11] = 0x61;
    expect("IPv4 header, verified", inet_checksum(ip, sizeof ip), 0);
    ip[15] ^= 0x04; /* one flipped bit */
    expect("IPv4 header, one bit flipped", inet_checksum(ip, sizeof ip) != 0,
           1);

    /* Edge cases: nothing at all; odd lengths (a zero byte is added);
     * carries out of the top bit, which come back in at the bottom. */
    static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0xff, 0xff,
                                    0xff, 0xff, 0x00, 0x01};
    expect("no bytes", inet_checksum(bytes, 0), 0xffff);
    expect("one byte 01", inet_checksum(bytes, 1), 0xfeff);
    expect("01 02 03", inet_checksum(bytes, 3), 0xfbfd);
    expect("ff ff ff ff", inet_checksum(bytes + 3, 4), 0x0000);
    expect("ff ff 00 01 (carry)", inet_checksum(bytes + 5, 4), 0xfffe);

    /* A datagram from 127.0.0.1 port 4242 to 127.0.0.1 port 47278,
     * "forged hello", as rawudp built it and Linux accepted it: UDP's
     * checksum summed in three pieces, pseudo-header first. */
    static const uint8_t pseudo[] = {127, 0, 0, 1, 127, 0, 0, 1, 0, 17, 0, 20};
    static const uint8_t udp[] = {0x10, 0x92, 0xb8, 0xae, 0x00, 0x14, 0x00,
                                  0x00, 'f',  'o',  'r',  'g',  'e',  'd',
                                  ' ',  'h',  'e',  'l',  'l',  'o'};
    uint16_t sum = ones_complement_sum(0, pseudo, sizeof pseudo);
    sum = ones_complement_sum(sum, udp, 8);
    sum = ones_complement_sum(sum, udp + 8, sizeof udp - 8);
    expect("UDP with pseudo-header", (uint16_t)~sum, 0x0804);
}

static void
against_the_definition(void)
{
    static uint8_t data[4096];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(random_byte() << 4 | random_byte() >> 4);
        for (size_t i = 0; i < len; i++)
            data[i] = random_byte();
        char what[64];
        snprintf(what, sizeof what, "random %zu bytes, round %d", len, round);

        /* The same as the reference... */
        expect(what, inet_checksum(data, len), reference_checksum(data, len));

        /* ...in one piece or in two, split at an even offset... */
        size_t split = (len / 2) & ~(size_t)1;
        uint16_t sum = ones_complement_sum(0, data, split);
        sum = ones_complement_sum(sum, data + split, len - split);
        expect(what, (uint16_t)~sum, inet_checksum(data, len));

        /* ...and stored in a message, the message then checks as 0. */
        if (len >= 4 && len % 2 == 0) {
            data[2] = data[3] = 0;
            uint16_t c = inet_checksum(data, len);
            data[2] = (uint8_t)(c >> 8);
            data[3] = (uint8_t)c;
            expect(what, inet_checksum(data, len), 0);
        }
    }
}

/* Small inputs, each made to tell some mistakes from the right sum. */
struct probe {
    uint16_t sum;
    uint8_t bytes[8];
    size_t len;
};

static const struct probe probes[] = {
    {0x0000, {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 8}, /* carries */
    {0x0000, {0xff, 0xff, 0xff, 0xff, 0x00, 0x01}, 6}, /* the fold carries */
    {0x0000, {0xff, 0xff}, 2},                         /* a sum of 0xffff */
    {0x1234, {0x00, 0x01}, 2},                         /* a running sum */
    {0xffff, {0x00, 0x02}, 2},       /* a running sum that carries */
    {0x0000, {0x01, 0x02, 0x03}, 3}, /* an odd length */
};

#define PROBES (sizeof probes / sizeof probes[0])

/* Does ones_complement_sum() give, on every probe and on random data
 * with random running sums, the sum that mistake m gives? */
static int
looks_like(enum mistake m)
{
    for (size_t i = 0; i < PROBES; i++) {
        const struct probe *t = &probes[i];
        if (ones_complement_sum(t->sum, t->bytes, t->len) !=
            mistaken_sum(m, t->sum, t->bytes, t->len))
            return 0;
    }
    static uint8_t data[1024];
    random_state = 88172645u;
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)random_byte() * 4 + round % 4;
        uint16_t sum = (uint16_t)(random_byte() << 8 | random_byte());
        for (size_t i = 0; i < len; i++)
            data[i] = random_byte();
        if (ones_complement_sum(sum, data, len) !=
            mistaken_sum(m, sum, data, len))
            return 0;
    }
    return 1;
}

/* After a failure: name the classic mistake whose sums
 * ones_complement_sum() gives, all of them; if none, show one small
 * input, with the sum expected and the sum that came. */
static void
diagnose(void)
{
    static const char *const hints[] = {
        [NO_CARRY] = "the sum without its end-around carry: a carry out "
                     "of bit 15 must be added back in at bit 0 "
                     "(total = (total & 0xffff) + (total >> 16))",
        [FOLDED_ONCE] = "the carries folded in once, at the end: that "
                        "addition can carry out of bit 15 again. Fold after "
                        "every addition, or until the sum fits in 16 bits",
        [MOD_FFFF] = "the sum taken modulo 0xffff: that gives 0 where "
                     "one's-complement addition gives 0xffff. Fold the "
                     "carries in, (total & 0xffff) + (total >> 16)",
        [SUM_IGNORED] = "the running sum ignored: the sum starts from the "
                        "`sum` argument, not from 0, or a message summed "
                        "in pieces (UDP's pseudo-header first) comes out "
                        "wrong",
        [ODD_BYTE_LOW] = "an odd last byte taken as the low half of its "
                         "word: it is the high half, padded with a zero byte",
        [ODD_BYTE_DROPPED] = "an odd last byte left out: it counts, as the "
                             "high half of a word padded with a zero byte",
        [BYTES_SWAPPED] = "16-bit words read in the machine's byte order: "
                          "the first byte of each pair is the high half "
                          "(network byte order)",
        [NOTHING] = "nothing added: ones_complement_sum() returns its sum "
                    "argument as it came (the stub?)",
    };
    for (enum mistake m = NO_CARRY; m <= NOTHING; m++) {
        if (looks_like(m)) {
            printf("hint: this looks like %s\n", hints[m]);
            return;
        }
    }
    for (size_t i = 0; i < PROBES; i++) {
        const struct probe *t = &probes[i];
        uint16_t got = ones_complement_sum(t->sum, t->bytes, t->len);
        uint16_t want = mistaken_sum(NONE, t->sum, t->bytes, t->len);
        if (got == want)
            continue;
        printf("hint: no classic mistake gives these sums; one input: "
               "ones_complement_sum(0x%04x, {",
               (unsigned)t->sum);
        for (size_t j = 0; j < t->len; j++)
            printf("%s0x%02x", j == 0 ? "" : ", ", (unsigned)t->bytes[j]);
        printf("}, %zu) should be 0x%04x, and is 0x%04x (RFC 1071, "
               "section 4.1)\n",
               t->len, (unsigned)want, (unsigned)got);
        return;
    }
    printf("hint: no classic mistake gives these sums, and small inputs "
           "sum right: see the failed checks above, and RFC 1071, "
           "section 4.1\n");
}

int
main(void)
{
    known_values();
    against_the_definition();
    printf("%d checks, %d failed\n", checks, failures);
    if (failures > 0)
        diagnose();
    return failures == 0 ? 0 : 1;
}
