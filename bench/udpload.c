/*
 * bench/udpload.c - a load generator for UDP echo servers (stage 05's
 * server, and the Python loop bench/udp_echo.py), for `make bench`
 * (bench/peers.sh).
 *
 *   udpload -c CLIENTS -d SECONDS [-w WINDOW] [-s BYTES] HOST PORT
 *       CLIENTS sockets, each connect()ed to the server, each with
 *       WINDOW datagrams (default 1) of BYTES bytes (default 64) in
 *       flight: a new one goes out as each echo comes back, for
 *       SECONDS. A client that hears nothing for LOSS_TIMEOUT_S counts
 *       its datagrams in flight as lost and sends them again. Prints:
 *       clients=N echoes=E rps=X p50_us=Y p99_us=Z lost=L
 *
 * With one datagram in flight per client, a fast server often finds
 * nothing waiting, sleeps, and is woken for the next datagram: on a
 * virtual machine the wake-ups cost more than the echo, and a slower
 * server, which finds datagrams queued, can look faster. A window of a
 * few datagrams keeps the server busy, so that its own speed shows.
 *
 * One thread and poll(), like loadgen.c: the generator must not be the
 * bottleneck it measures.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DATAGRAM 65507 /* bytes of data in one UDP datagram over IPv4 */
#define LOSS_TIMEOUT_S 0.2 /* an echo later than this is taken as lost */
#define MAX_WINDOW 64      /* datagrams in flight per client, at most */

/* Loopback keeps a socket's datagrams in order: the next echo answers
 * the oldest datagram in flight. */
struct client {
    int fd;
    int in_flight;
    int oldest;                 /* index in sent_at[] of the oldest */
    double sent_at[MAX_WINDOW]; /* seconds, when each went out */
    double heard_at;            /* the last echo, or the first send */
};

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    fprintf(stderr, "udpload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Each datagram starts with a count of those sent before it, so that no
 * two in a row are alike: stage 05's server logs a datagram that
 * repeats the one before it from the same peer as a copy (a resend),
 * and a load of identical datagrams would double its log. */
static void
send_one(struct client *c, char *msg, size_t len)
{
    static unsigned long sent;
    memcpy(msg, &sent, len < sizeof sent ? len : sizeof sent);
    sent++;
    if (send(c->fd, msg, len, 0) < 0 && errno != ECONNREFUSED)
        die("send");
    c->sent_at[(c->oldest + c->in_flight++) % MAX_WINDOW] = now();
}

static void
run_load(struct client *clients, int count, int window, double seconds,
         char *msg, size_t len)
{
    struct pollfd *watch = calloc((size_t)count, sizeof *watch);
    size_t lat_size = 1 << 20, lat_count = 0, lost = 0;
    double *latency = malloc(lat_size * sizeof *latency);
    if (watch == NULL || latency == NULL)
        die("malloc");
    static char buf[MAX_DATAGRAM];

    double start = now(), end = start + seconds;
    for (int i = 0; i < count; i++) {
        watch[i].fd = clients[i].fd;
        watch[i].events = POLLIN;
        for (int w = 0; w < window; w++)
            send_one(&clients[i], msg, len);
        clients[i].heard_at = now();
    }
    for (double t = start; t < end; t = now()) {
        int ready = poll(watch, (nfds_t)count, 10);
        if (ready < 0 && errno != EINTR)
            die("poll");
        t = now();
        for (int i = 0; i < count; i++) {
            struct client *c = &clients[i];
            if (watch[i].revents == 0) {
                if (t - c->heard_at > LOSS_TIMEOUT_S) {
                    lost += (size_t)c->in_flight;
                    c->in_flight = 0;
                    for (int w = 0; w < window; w++)
                        send_one(c, msg, len);
                    c->heard_at = t;
                }
                continue;
            }
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0 && errno != ECONNREFUSED)
                die("recv");
            if (n != (ssize_t)len)
                continue; /* not our echo: the loss timeout resends */
            if (lat_count == lat_size) {
                lat_size *= 2;
                latency = realloc(latency, lat_size * sizeof *latency);
                if (latency == NULL)
                    die("realloc");
            }
            if (c->in_flight == 0)
                continue; /* a late echo of one counted as lost */
            latency[lat_count++] = t - c->sent_at[c->oldest];
            c->oldest = (c->oldest + 1) % MAX_WINDOW;
            c->in_flight--;
            c->heard_at = t;
            send_one(c, msg, len);
        }
    }
    double elapsed = now() - start;
    qsort(latency, lat_count, sizeof *latency, by_value);
    double p50 = lat_count ? latency[lat_count / 2] : 0;
    double p99 = lat_count ? latency[lat_count * 99 / 100] : 0;
    printf("clients=%d echoes=%zu rps=%.0f p50_us=%.0f p99_us=%.0f lost=%zu\n",
           count, lat_count, (double)lat_count / elapsed, p50 * 1e6, p99 * 1e6,
           lost);
    free(watch);
    free(latency);
}

static _Noreturn void
usage(void)
{
    fprintf(stderr, "usage: udpload -c CLIENTS -d SECONDS [-w WINDOW] "
                    "[-s BYTES] HOST PORT\n");
    exit(2);
}

int
main(int argc, char *argv[])
{
    int count = 0, window = 1, opt;
    double seconds = 0;
    size_t len = 64;
    while ((opt = getopt(argc, argv, "c:d:s:w:")) != -1) {
        if (opt == 'c')
            count = atoi(optarg);
        else if (opt == 'w')
            window = atoi(optarg);
        else if (opt == 'd')
            seconds = atof(optarg);
        else if (opt == 's')
            len = (size_t)atol(optarg);
        else
            usage();
    }
    if (argc - optind != 2 || count <= 0 || seconds <= 0 || len == 0 ||
        len > MAX_DATAGRAM || window < 1 || window > MAX_WINDOW)
        usage();

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    int err = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
    if (err != 0) {
        fprintf(stderr, "udpload: %s\n", gai_strerror(err));
        return 1;
    }
    static char msg[MAX_DATAGRAM];
    memset(msg, 'x', len);

    struct client *clients = calloc((size_t)count, sizeof *clients);
    if (clients == NULL)
        die("calloc");
    for (int i = 0; i < count; i++) {
        clients[i].fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        /* connect(): recv() then takes only the server's datagrams */
        if (clients[i].fd < 0 ||
            connect(clients[i].fd, ai->ai_addr, ai->ai_addrlen) < 0)
            die("socket");
    }
    freeaddrinfo(ai);

    run_load(clients, count, window, seconds, msg, len);
    for (int i = 0; i < count; i++)
        close(clients[i].fd);
    free(clients);
    return 0;
}
