/*
 * bench/loadgen.c - a load generator for the echo servers of stages
 * 01-03, for `make bench` (bench/run.sh).
 *
 *   loadgen -c CONNS -d SECONDS [-s BYTES] HOST PORT
 *       opens CONNS connections, then for SECONDS keeps each one busy
 *       with echo round trips of BYTES bytes (default 64): send, wait for
 *       the whole echo, send again. Prints one line:
 *       conns=N requests=R rps=X p50_us=Y p99_us=Z
 *   loadgen -i CONNS HOST PORT
 *       opens CONNS connections, has each echo one message, prints
 *       "holding N" and keeps them open until stdin reaches its end:
 *       the caller measures the server meanwhile.
 *
 * One thread and poll(): the generator must not be the bottleneck it
 * measures, and it must hold thousands of connections.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGE 65536

struct conn {
    int fd;
    size_t sent, received; /* of the current round trip */
    double started;        /* when it was sent, seconds */
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
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* As many descriptors as the hard limit allows: 10,000 connections. */
static void
raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

static int
connect_once(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        die("socket");
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        die("connect");
    return fd;
}

/* One blocking round trip, to prove a connection is being served. */
static void
echo_once(int fd, const char *msg, size_t len)
{
    char buf[MAX_MESSAGE];
    if (send(fd, msg, len, 0) != (ssize_t)len)
        die("send");
    for (size_t got = 0; got < len;) {
        ssize_t n = recv(fd, buf, len - got, 0);
        if (n <= 0)
            die("recv");
        got += (size_t)n;
    }
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The busy mode: round trips on every connection for `seconds`. */
static void
run_load(struct conn *conns, int count, double seconds, const char *msg,
         size_t len)
{
    struct pollfd *watch = calloc((size_t)count, sizeof *watch);
    size_t lat_size = 1 << 20, lat_count = 0;
    double *latency = malloc(lat_size * sizeof *latency);
    if (watch == NULL || latency == NULL)
        die("malloc");
    char buf[MAX_MESSAGE];

    double start = now(), end = start + seconds;
    for (int i = 0; i < count; i++) {
        watch[i].fd = conns[i].fd;
        watch[i].events = POLLOUT;
        conns[i].sent = conns[i].received = 0;
    }
    while (now() < end) {
        int ready = poll(watch, (nfds_t)count, 100);
        if (ready < 0 && errno != EINTR)
            die("poll");
        for (int i = 0; i < count && ready > 0; i++) {
            struct conn *c = &conns[i];
            if (watch[i].revents == 0)
                continue;
            if (c->sent < len) {
                if (c->sent == 0)
                    c->started = now();
                ssize_t n = send(c->fd, msg + c->sent, len - c->sent, 0);
                if (n < 0)
                    die("send");
                c->sent += (size_t)n;
                if (c->sent == len)
                    watch[i].events = POLLIN;
                continue;
            }
            ssize_t n = recv(c->fd, buf, len - c->received, 0);
            if (n <= 0)
                die("recv");
            c->received += (size_t)n;
            if (c->received < len)
                continue;
            if (lat_count == lat_size) {
                lat_size *= 2;
                latency = realloc(latency, lat_size * sizeof *latency);
                if (latency == NULL)
                    die("realloc");
            }
            latency[lat_count++] = now() - c->started;
            c->sent = c->received = 0;
            watch[i].events = POLLOUT;
        }
    }
    double elapsed = now() - start;
    qsort(latency, lat_count, sizeof *latency, by_value);
    double p50 = lat_count ? latency[lat_count / 2] : 0;
    double p99 = lat_count ? latency[lat_count * 99 / 100] : 0;
    printf("conns=%d requests=%zu rps=%.0f p50_us=%.1f p99_us=%.1f\n", count,
           lat_count, (double)lat_count / elapsed, p50 * 1e6, p99 * 1e6);
    free(watch);
    free(latency);
}

static _Noreturn void
usage(void)
{
    fprintf(stderr, "usage: loadgen -c CONNS -d SECONDS [-s BYTES] HOST PORT\n"
                    "       loadgen -i CONNS HOST PORT\n");
    exit(2);
}

int
main(int argc, char *argv[])
{
    int count = 0, idle = 0, opt;
    double seconds = 0;
    size_t len = 64;
    while ((opt = getopt(argc, argv, "c:d:s:i:")) != -1) {
        if (opt == 'c')
            count = atoi(optarg);
        else if (opt == 'i') {
            count = atoi(optarg);
            idle = 1;
        } else if (opt == 'd')
            seconds = atof(optarg);
        else if (opt == 's')
            len = (size_t)atol(optarg);
        else
            usage();
    }
    if (argc - optind != 2 || count <= 0 || len == 0 || len > MAX_MESSAGE ||
        (!idle && seconds <= 0))
        usage();
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int err = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
    if (err != 0) {
        fprintf(stderr, "loadgen: %s\n", gai_strerror(err));
        return 1;
    }
    char msg[MAX_MESSAGE];
    memset(msg, 'x', len);

    struct conn *conns = calloc((size_t)count, sizeof *conns);
    if (conns == NULL)
        die("calloc");
    for (int i = 0; i < count; i++) {
        conns[i].fd = connect_once(ai);
        echo_once(conns[i].fd, msg, len); /* served, not just queued */
    }
    freeaddrinfo(ai);

    if (idle) {
        printf("holding %d\n", count);
        fflush(stdout);
        while (getchar() != EOF)
            ;
    } else {
        run_load(conns, count, seconds, msg, len);
    }
    for (int i = 0; i < count; i++)
        close(conns[i].fd);
    free(conns);
    return 0;
}
