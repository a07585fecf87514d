/*
 * net.h - the helpers in net.c that this stage's programs share:
 * keeping fds 0 to 2 open, reading numbers from the command line,
 * addresses, receive timeouts, giving up root, a clock, and printing
 * bytes so a person can read them. The echo stages' net.c is about TCP
 * connections; this one serves datagrams and raw packets. Where a
 * function does the same job (open_standard_fds, format_address,
 * is_port_number, is_port_not_host), its code is theirs.
 */
#ifndef NET_H
#define NET_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>

/* Room for "[" + an IPv6 address with a %scope + "]:" + "65535" + NUL. */
#define ADDR_STR_SIZE 80

/* UDP's length field has 16 bits, so no datagram is longer than this
 * (IPv4 leaves room for 65507 bytes of data, IPv6 for 65527). */
#define DATAGRAM_MAX 65535

/* How ping and rawudp exit when the system does not let them open their
 * socket, so that a test can tell "not permitted" from "broken" (77 is
 * what automake's test drivers read as "skipped"). */
#define EXIT_NOT_PERMITTED 77

/* Each program defines its name, for messages like "client: recv: ...". */
extern const char program_name[];

/* Command line */
void open_standard_fds(void);
int is_digits(const char *s);
int is_port_number(const char *s);
int parse_count(const char *s, long min, long max, long *out);
int parse_seconds(const char *s, double *out);

/* Addresses */
int is_port_not_host(const char *host);
void format_address(const struct sockaddr *sa, socklen_t sa_len, char *out,
                    size_t out_size);
int resolve_ipv4(const char *host, struct sockaddr_in *out);

/* Sockets and privileges */
int set_receive_timeout(int fd, double seconds);
int is_permission_error(int err);
int drop_privileges(void);

/* Time and output */
double monotonic_now(void);
void print_escaped(FILE *out, const void *data, size_t len);
/* escape_into() writes at most 4 characters a byte (\xff), and quotes */
#define ESCAPED_SIZE(len) (4 * (len) + 2)
size_t escape_into(char *out, const void *data, size_t len);
size_t escaped_width(const void *data, size_t len);

#endif
