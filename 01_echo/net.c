/*
 * net.c - the small socket helpers that this stage's server and client
 * both use (see net.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* Python: sock.sendall(data)
 * send() may take fewer bytes than asked (a short write) when the
 * socket buffer is nearly full: loop until every byte is gone.
 * Returns 0, or -1 with errno set. */
int
send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0 && errno == EINTR) /* a signal came first: try again */
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
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

/* Is `s` a TCP port number, 0 to 65535, in plain decimal digits? */
int
is_port_number(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && n <= 65535;
}

/* Sending to a peer that has already closed its end raises SIGPIPE,
 * whose default action kills the whole process. Ignored, send() returns
 * -1 with errno EPIPE instead, and the program decides what to do: the
 * server drops that one client, the client reports the error. */
void
ignore_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}
