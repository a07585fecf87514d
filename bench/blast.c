/*
 * bench/blast.c - the loopback baseline for `make bench`: how fast can
 * this machine move a file through a TCP connection at all?
 *
 *   blast FILE            the reader discards what it receives
 *   blast -o OUT FILE     the reader write()s it to OUT, as a get must
 *   blast -g PORT NAME    no sender of its own: ask the stage 04 server
 *                         on 127.0.0.1:PORT for NAME (get|0|NAME, as
 *                         04_ftp/PROTOCOL.md says) and discard the bytes,
 *                         to time the server's send path alone
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

/* -g: one get from a stage 04 server, the file's bytes discarded by the
 * same 64 KiB recv() loop as drain()'s. Returns main()'s exit status. */
static int
get_and_discard(const char *port, const char *name)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)atoi(port));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&addr, sizeof addr))
        die("connect");

    double start = now();
    char line[1024];
    int len = snprintf(line, sizeof line, "get|0|%s\n", name);
    if (len < 0 || (size_t)len >= sizeof line ||
        send(fd, line, (size_t)len, 0) != len)
        die("send");
    /* The reply line, a byte at a time: what follows it is the data. */
    size_t got = 0;
    while (got < sizeof line - 1 && (got == 0 || line[got - 1] != '\n'))
        if (recv(fd, line + got, 1, 0) != 1)
            die("recv");
        else
            got++;
    line[got] = '\0';
    long long size, offset;
    if (sscanf(line, "ready|%lld|%lld", &size, &offset) != 2) {
        fprintf(stderr, "blast: the server said: %s", line);
        return 1;
    }
    static char buf[65536];
    long long left = size - offset;
    ssize_t n = 1;
    while (left > 0 && (n = recv(fd, buf, sizeof buf, 0)) > 0)
        left -= n;
    if (left > 0)
        die("recv");
    double seconds = now() - start;
    close(fd);
    printf("bytes=%lld seconds=%.3f mbps=%.0f\n", size - offset, seconds,
           (double)(size - offset) / seconds / 1e6);
    return 0;
}

int
main(int argc, char *argv[])
{
    if (argc == 4 && strcmp(argv[1], "-g") == 0)
        return get_and_discard(argv[2], argv[3]);
    int out = -1;
    if (argc == 4 && strcmp(argv[1], "-o") == 0) {
        out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0)
            die(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: blast [-o OUT] FILE | blast -g PORT NAME\n");
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
