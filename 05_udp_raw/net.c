/*
 * net.c - the small helpers this stage's programs share: fds 0 to 2
 * kept open, numbers and ports from the command line, addresses, the
 * receive timeout, giving up root after opening a raw socket, a clock
 * for timeouts and round trips, and a printer that shows any bytes, NUL
 * and all. The socket calls that make each program's lesson are in
 * that program's file.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define SECONDS_MAX 86400.0 /* the longest timeout or interval: a day */

/*** Command line ***/

/* Make sure fds 0, 1 and 2 are open: call it first thing in main().
 * The kernel gives each new descriptor the lowest number free, so in a
 * program started with one of them closed (`./client <&-`), the first
 * socket would become its stdin, stdout or stderr: getline() would read
 * the program's own socket, and printf() would write into it. /dev/null
 * takes each closed one instead: reading it gives end of file at once,
 * writing to it throws the bytes away. Exits 1 if even that fails. */
void
open_standard_fds(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue; /* open */
        /* The fds below this one are open by now, so the lowest free
         * number is this one: open() returns it. */
        if (open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) != fd)
            exit(1);
    }
}

/* Is `s` decimal digits alone, one or more? */
int
is_digits(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* Is `s` a port number, 0 to 65535, in plain decimal digits? */
int
is_port_number(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && n <= 65535;
}

/* Read a whole number from min to max, in plain decimal digits, into
 * *out. Returns 0, or -1 if `s` is anything else. */
int
parse_count(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || n < min ||
        n > max)
        return -1;
    *out = n;
    return 0;
}

/* Read a duration in seconds, such as "2" or "0.25", into *out: more
 * than 0, at most a day. Returns 0, or -1 if `s` is anything else. */
int
parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double t = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !(t > 0) || t > SECONDS_MAX)
        return -1; /* !(t > 0) is also true for "nan" */
    *out = t;
    return 0;
}

/*** Addresses ***/

/* Is `host` a port rather than a host: digits alone, such as "9001"?
 * getaddrinfo() would take it for an IPv4 address written as a single
 * number (9001 is 0.0.35.41), an old form nobody means today: whoever
 * types `./client 9001` means the port and left out the host. Returns
 * 1 after saying so, with the command meant; 0 for any other host. */
int
is_port_not_host(const char *host)
{
    if (!is_digits(host))
        return 0;
    fprintf(stderr,
            "%s: '%s' is a number, not a host name or address\n"
            "hint: did you mean `./%s localhost %s`?\n",
            program_name, host, program_name, host);
    return 1;
}

/* Write "ADDRESS:PORT" for a socket address to `out`, IPv6 addresses in
 * brackets: "127.0.0.1:9001", "[::1]:9001". */
void
format_address(const struct sockaddr *sa, socklen_t sa_len, char *out,
               size_t out_size)
{
    char host[64]; /* a numeric IPv6 address, with a %scope if any */
    char port[6];  /* "65535" + NUL */
    int err = getnameinfo(sa, sa_len, host, sizeof host, port, sizeof port,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err != 0)
        snprintf(out, out_size, "(unknown address: %s)", gai_strerror(err));
    else if (sa->sa_family == AF_INET6)
        snprintf(out, out_size, "[%s]:%s", host, port);
    else
        snprintf(out, out_size, "%s:%s", host, port);
}

/* Python: socket.gethostbyname(host)
 * The IPv4 address of `host`, for rawudp, which writes the IPv4 header
 * itself (IP_HDRINCL is IPv4's): an IPv6 address is no use to it.
 * Returns 0, or -1 after printing why. */
int
resolve_ipv4(const char *host, struct sockaddr_in *out)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM; /* any type will do: one answer each */

    struct addrinfo *list;
    int err = getaddrinfo(host, NULL, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "%s: %s: %s\n", program_name, host, gai_strerror(err));
        fprintf(stderr,
                "hint: %s speaks IPv4 only: give it a name that has an "
                "IPv4 address,\nor an address such as 127.0.0.1\n",
                program_name);
        return -1;
    }
    memcpy(out, list->ai_addr, sizeof *out);
    freeaddrinfo(list);
    return 0;
}

/*** Sockets and privileges ***/

/* Python: s.settimeout(seconds)
 * From now on a recv() on fd that waits longer than `seconds` gives up:
 * it returns -1 with errno EAGAIN (or EWOULDBLOCK). Each call waits
 * that long again: a caller with a deadline sets what is left before
 * each recv(). Returns 0, or -1 with errno set. */
int
set_receive_timeout(int fd, double seconds)
{
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1; /* 0 would mean "wait for ever" */
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Did socket() fail because we lack a privilege (EPERM: raw sockets
 * need root or CAP_NET_RAW; EACCES: Linux's ICMP datagram sockets are
 * for the groups the system allows), rather than for another reason? */
int
is_permission_error(int err)
{
    return err == EPERM || err == EACCES;
}

/* A program installed setuid root (chown root ping; chmod u+s ping)
 * runs as its user with the effective user ID of root, which it needs
 * only to open its raw socket. Once that is open, give root up for
 * good: then a bug in the code that parses packets from the network
 * cannot be made to act as root. For a process running as root,
 * setuid() sets the real, effective and saved IDs all three, so there
 * is no way back; the group goes first, while we may still change it.
 * Run by root itself (sudo), there is nobody else to become, and the
 * program stays root. Returns 0, or -1 after printing why. */
int
drop_privileges(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (setgid(gid) < 0 || setuid(uid) < 0) {
        fprintf(stderr, "%s: giving up root: %s\n", program_name,
                strerror(errno));
        return -1;
    }
    if (uid != 0 && setuid(0) == 0) { /* never trust, check */
        fprintf(stderr, "%s: giving up root: still root\n", program_name);
        return -1;
    }
    return 0;
}

/*** Time and output ***/

/* Seconds on a clock that only moves forward (the time of day can
 * jump when someone sets it), for timeouts and round-trip times. */
double
monotonic_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* How byte c looks inside a C string literal: printable ASCII as it
 * is, \" \\ \n \r \t, and any other byte as \xHH. Returns `out`. */
static const char *
escape_byte(unsigned char c, char out[5])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    }
    if (c < 0x80 && isprint(c)) {
        out[0] = (char)c; /* by hand: snprintf() for one byte is slow */
        out[1] = '\0';
    } else {
        snprintf(out, 5, "\\x%02x", c);
    }
    return out;
}

/* Print bytes in double quotes, as C would write them, so that a NUL,
 * a newline or a byte of binary data is visible, and one log line stays
 * one line: "hello\n", "\x00\xff". */
void
print_escaped(FILE *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    char buf[5];
    putc('"', out);
    for (size_t i = 0; i < len; i++)
        fputs(escape_byte(p[i], buf), out);
    putc('"', out);
}

/* The same as print_escaped(), into `out` instead of a stream: for a
 * program that builds a whole line before it writes it. `out` needs
 * room for ESCAPED_SIZE(len) bytes. Returns the characters written; no
 * NUL is added. */
size_t
escape_into(char *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    char buf[5];
    size_t used = 0;
    out[used++] = '"';
    for (size_t i = 0; i < len; i++)
        for (const char *e = escape_byte(p[i], buf); *e != '\0'; e++)
            out[used++] = *e;
    out[used++] = '"';
    return used;
}

/* How many characters print_escaped() prints for these bytes, quotes
 * included: to line up a table. */
size_t
escaped_width(const void *data, size_t len)
{
    const unsigned char *p = data;
    char buf[5];
    size_t width = 2;
    for (size_t i = 0; i < len; i++)
        width += strlen(escape_byte(p[i], buf));
    return width;
}
