/*
 * bench/blast.c - the loopback baseline for `make bench`: how fast can
 * this machine move a file through a TCP connection at all?
 *
 *   blast FILE            the reader discards what it receives
 *   blast -o OUT FILE     the reader write()s it to OUT, as a get must
 *
 * Listens on 127.0.0.1, forks a reader that connects and receives
 * everything (64 KiB recv()s), and sends FILE to it with sendfile(),
 * with nothing else in the way: no protocol, no progress, one file.
 * Prints: bytes=N seconds=S mbps=M (megabytes, 10^6, a second).
 * Linux-only (sendfile), like the measurement it is the baseline for.
 */
#define _GNU_SOURCE /* sendfile() is a Linux call */
#include <sys/types.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
    fprintf(stderr, "blast: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The reader: connect, receive until the end; discard what arrives,
 * or write it all to `out` when that is not -1. */
static void
drain(const struct sockaddr_in *addr, int out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr))
        die("connect");
    static char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        for (ssize_t done = 0, w; out >= 0 && done < n; done += w)
            if ((w = write(out, buf + done, (size_t)(n - done))) < 0)
                die("write");
    if (out >= 0 && close(out) < 0)
        die("close");
    _exit(n < 0);
}

int
main(int argc, char *argv[])
{
    int out = -1;
    if (argc == 4 && strcmp(argv[1], "-o") == 0) {
        out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0)
            die(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: blast [-o OUT] FILE\n");
        return 2;
    }
    int file = open(argv[1], O_RDONLY);
    struct stat st;
    if (file < 0 || fstat(file, &st) < 0)
        die(argv[1]);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) < 0 ||
        listen(listener, 1) < 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
        die("listen");

    pid_t reader = fork();
    if (reader < 0)
        die("fork");
    if (reader == 0)
        drain(&addr, out);
    if (out >= 0)
        close(out);
    int sock = accept(listener, NULL, NULL);
    if (sock < 0)
        die("accept");

    double start = now();
    off_t offset = 0;
    while (offset < st.st_size)
        if (sendfile(sock, file, &offset, (size_t)(st.st_size - offset)) < 0 &&
            errno != EINTR)
            die("sendfile");
    close(sock);
    int status;
    waitpid(reader, &status, 0);
    double seconds = now() - start;
    printf("bytes=%lld seconds=%.3f mbps=%.0f\n", (long long)st.st_size,
           seconds, (double)st.st_size / seconds / 1e6);
    return status != 0;
}
