/*
 * 05_udp_raw/socktypes.c - which kinds of socket this system will make:
 * socket() tried for every family and type the Python article names,
 * with the error for each one refused, then a note on what each type
 * is for, and one type shown at work.
 *
 * socket(family, type, protocol) takes three choices:
 *   family    whose addresses: AF_UNIX (a path on this machine),
 *             AF_INET (IPv4), AF_INET6 (IPv6)
 *   type      how data moves: a stream, datagrams, raw packets...
 *   protocol  which protocol of that family gives that type; 0 picks
 *             the usual one (TCP for an INET stream, UDP for INET
 *             datagrams). Raw sockets have no usual one: we ask for
 *             ICMP, the protocol ping speaks.
 * A refusal says which choice the kernel does not have: EAFNOSUPPORT
 * (no such family), ESOCKTNOSUPPORT or EPROTOTYPE (not that type in
 * that family), EPROTONOSUPPORT (not that protocol), EPERM or EACCES
 * (not for you: raw sockets need root or CAP_NET_RAW).
 *
 * Run:   ./socktypes        (then as root: sudo ./socktypes)
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

const char program_name[] = "socktypes";

#define NAMED(x)                                                               \
    {                                                                          \
        x, #x                                                                  \
    } /* a constant and its name, for the table */

struct named {
    int value;
    const char *name;
};

static const struct named families[] = {
    NAMED(AF_UNIX),
    NAMED(AF_INET),
    NAMED(AF_INET6),
};

/* Each type, and what it is for. */
static const struct {
    int value;
    const char *name, *note;
} types[] = {
    {SOCK_STREAM, "SOCK_STREAM",
     "a reliable, ordered byte stream; no message boundaries (TCP)"},
    {SOCK_DGRAM, "SOCK_DGRAM",
     "datagrams, each one whole; may be lost, doubled, reordered (UDP)"},
    {SOCK_RAW, "SOCK_RAW",
     "whole packets, headers and all, to and from IP (ping, rawudp)"},
    {SOCK_RDM, "SOCK_RDM",
     "reliable datagrams, in any order; rare (Linux: TIPC, RDS)"},
    {SOCK_SEQPACKET, "SOCK_SEQPACKET",
     "datagrams on a connection: reliable, in order (AF_UNIX, SCTP)"},
};

/* The errors socket() may give here, by name: strerror() says what an
 * error means, but the name is what the manual pages and headers use.
 * Some are not in every system's <errno.h>. */
static const struct named errors[] = {
    NAMED(EAFNOSUPPORT),    NAMED(EPROTONOSUPPORT), NAMED(EPROTOTYPE),
#ifdef ESOCKTNOSUPPORT
    NAMED(ESOCKTNOSUPPORT),
#endif
#ifdef EPFNOSUPPORT
    NAMED(EPFNOSUPPORT),
#endif
    NAMED(EOPNOTSUPP),      NAMED(EPERM),           NAMED(EACCES),
    NAMED(EINVAL),          NAMED(EMFILE),          NAMED(ENFILE),
    NAMED(ENOBUFS),         NAMED(ENOMEM),
};

#define COUNT(array) (sizeof(array) / sizeof(array)[0])

static _Noreturn void usage(FILE *out, int status);
static void print_table(void);
static void print_notes(void);
static int show_seqpacket(void);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (optind < argc)
        usage(stderr, 2);

    print_table();
    print_notes();
    return show_seqpacket() < 0 ? 1 : 0;
}

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: socktypes [-h]\n");
    exit(status);
}

/*** The table ***/

/* The protocol to ask for: 0, "the usual one", except for a raw INET
 * socket, which has none and must name what it will carry. */
static int
protocol_for(int family, int type, const char **name)
{
    *name = "0";
    if (type == SOCK_RAW && family == AF_INET) {
        *name = "IPPROTO_ICMP";
        return IPPROTO_ICMP;
    }
    if (type == SOCK_RAW && family == AF_INET6) {
        *name = "IPPROTO_ICMPV6";
        return IPPROTO_ICMPV6;
    }
    return 0;
}

static const char *
type_name(int type)
{
    for (size_t i = 0; i < COUNT(types); i++)
        if (types[i].value == type)
            return types[i].name;
    return "another type";
}

/* One row per family and type: does socket() make one? A refusal shows
 * the error's name; the legend under the table says what each means. */
static void
print_table(void)
{
    int seen[COUNT(errors)] = {0}; /* which errors the legend explains */
    printf("%-9s %-15s %-15s %s\n", "family", "type", "protocol", "socket()");
    for (size_t f = 0; f < COUNT(families); f++) {
        for (size_t t = 0; t < COUNT(types); t++) {
            const char *proto_name;
            int proto =
                protocol_for(families[f].value, types[t].value, &proto_name);
            printf("%-9s %-15s %-15s ", families[f].name, types[t].name,
                   proto_name);

            int fd = socket(families[f].value, types[t].value, proto);
            if (fd < 0) {
                size_t e = 0;
                while (e < COUNT(errors) && errors[e].value != errno)
                    e++;
                if (e < COUNT(errors)) {
                    printf("no: %s\n", errors[e].name);
                    seen[e] = 1;
                } else {
                    printf("no: %s\n", strerror(errno));
                }
                continue;
            }

            /* Made, but of the type we asked for? SO_TYPE says. */
            int type;
            socklen_t len = sizeof type;
            if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
                type != types[t].value)
                printf("yes, but it is a %s socket\n", type_name(type));
            else
                printf("yes\n");
            close(fd);
        }
    }

    printf("\n");
    for (size_t e = 0; e < COUNT(errors); e++)
        if (seen[e])
            printf("%s: %s\n", errors[e].name, strerror(errors[e].value));
}

static void
print_notes(void)
{
    printf("\nWhat each type is for:\n");
    for (size_t t = 0; t < COUNT(types); t++)
        printf("%-15s %s\n", types[t].name, types[t].note);
}

/*** SOCK_SEQPACKET at work ***/

/* Three messages through a connected pair of AF_UNIX SOCK_SEQPACKET
 * sockets: each recv() returns one whole message, as with datagrams,
 * and once the sender has closed, recv() returns 0, the end, as with a
 * stream. Returns 0, or -1 after printing why. */
static int
show_seqpacket(void)
{
    static const char *const messages[] = {"one", "two", "three"};
    int pair[2];
    /* slide:begin socketpair */
    /* Python: a, b = socket.socketpair(AF_UNIX, SOCK_SEQPACKET) */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) < 0) {
        fprintf(stderr, "socktypes: socketpair: %s\n", strerror(errno));
        return -1;
    }
    /* slide:end socketpair */

    printf("\nAF_UNIX SOCK_SEQPACKET at work (a socketpair):\n");
    for (size_t i = 0; i < COUNT(messages); i++) {
        if (send(pair[0], messages[i], strlen(messages[i]), 0) < 0) {
            fprintf(stderr, "socktypes: send: %s\n", strerror(errno));
            return -1;
        }
        printf("  send(\"%s\")\n", messages[i]);
    }
    close(pair[0]); /* the sender leaves: the receiver will see the end */

    for (;;) {
        char buf[64];
        ssize_t n = recv(pair[1], buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "socktypes: recv: %s\n", strerror(errno));
            return -1;
        }
        printf("  recv() = %zd", n);
        if (n == 0) {
            printf(": the sender closed, the end (as in a stream)\n");
            break;
        }
        printf(": ");
        print_escaped(stdout, buf, (size_t)n);
        printf(", one whole message (as with datagrams)\n");
    }
    close(pair[1]);
    return 0;
}
