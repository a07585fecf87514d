/*
 * proto.c - the file protocol's framing, shared by server and client:
 * a reader that frames control lines, and the loops that move exactly
 * COUNT bytes of file data. (What a request line says is request.c's.)
 *
 * The framing rule (PROTOCOL.md): a control message is one line ending
 * in '\n', at most MAX_LINE bytes; file data is exactly the number of
 * bytes the "ready" line announced. Neither side ever guesses where a
 * message ends from the size of a recv().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "proto.h"

/*** Reading ***/

void
reader_init(struct reader *r, int fd)
{
    r->fd = fd;
    r->start = r->end = 0;
    r->line_timeout_s = 0;
}

/* Refill an empty buffer with one recv(). Returns the bytes read, 0 at
 * end of stream, or -1 with errno set. */
static ssize_t
fill(struct reader *r)
{
    ssize_t n;
    do {
        n = recv(r->fd, r->buf, sizeof r->buf, 0);
    } while (n < 0 && errno == EINTR);
    r->start = 0;
    r->end = n > 0 ? (size_t)n : 0;
    return n;
}

/* Before waiting for more of a line that has begun, on a reader
 * with a line timeout (the server's -t): wait only until the line's
 * time is up. A client that sends a byte now and then, and never the
 * '\n', must not hold its session for ever; the socket's own timeout
 * (SO_RCVTIMEO) only bounds each silence. The first wait of a line starts its
 * clock (*deadline 0). Returns 0 when bytes have come or the reader has no
 * timeout, -1 when the time is up. */
static int
wait_for_rest(struct reader *r, double *deadline)
{
    if (r->line_timeout_s <= 0)
        return 0;
    if (*deadline == 0)
        *deadline = seconds_now() + r->line_timeout_s;
    return wait_readable(r->fd, *deadline) ? 0 : -1;
}

/* Read one control line into `line` (at most `size` bytes, '\n'
 * included), and return its length without the '\n', which is replaced
 * by a NUL. Bytes after the '\n' stay in the reader. Returns LINE_EOF
 * when the connection ends between lines, LINE_ERROR on a recv() error
 * or a connection that ends mid-line, and LINE_TOO_LONG when no '\n'
 * comes within `size` bytes (the stream cannot be trusted after that:
 * where would the next line start?), and LINE_TOO_SLOW when the
 * reader's line timeout ran out. */
ssize_t
read_line(struct reader *r, char *line, size_t size)
{
    /* lab:begin read_line */
    size_t len = 0;
    double deadline = 0; /* set once the line has begun */
    for (;;) {
        if (r->start == r->end) {
            if (len > 0 && wait_for_rest(r, &deadline) < 0)
                return LINE_TOO_SLOW;
            ssize_t n = fill(r);
            if (n == 0 && len == 0)
                return LINE_EOF;
            if (n <= 0)
                return LINE_ERROR;
        }
        /* slide:begin read_line */
        char c = r->buf[r->start++];
        if (c == '\n') {
            line[len] = '\0';
            return (ssize_t)len;
        }
        if (len == size - 1)
            return LINE_TOO_LONG; /* no room for this byte and the NUL */
        line[len++] = c;
        /* slide:end read_line */
    }
    /* lab:end read_line */
}

/* Read up to `len` bytes of data: first what the reader already holds
 * (the bytes that arrived with the last line: TCP's "sticky packets"),
 * then straight from the socket. Returns the bytes read, 0 at end of
 * stream, or -1 with errno set. */
ssize_t
read_some(struct reader *r, void *buf, size_t len)
{
    /* lab:begin read_some */
    /* slide:begin read_some */
    if (r->start < r->end) {
        size_t n = r->end - r->start;
        if (n > len)
            n = len;
        memcpy(buf, r->buf + r->start, n);
        r->start += n;
        return (ssize_t)n;
    }
    /* slide:end read_some */
    ssize_t n;
    do {
        n = recv(r->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    return n;
    /* lab:end read_some */
}

/*** Writing lines ***/

/* printf a control line, add its '\n', and send it all. Returns 0, or
 * -1 with errno set (EMSGSIZE when the line, '\n' included, would be
 * over MAX_LINE bytes). */
int
send_line(int fd, const char *format, ...)
{
    char line[MAX_LINE];
    va_list args;
    va_start(args, format);
    /* va_start() initialised args: clang 14's analyzer misses it. */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    int len = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (len < 0 || (size_t)len >= sizeof line) {
        errno = EMSGSIZE;
        return -1;
    }
    line[len] = '\n'; /* where vsnprintf() put the NUL */
    return send_all(fd, line, (size_t)len + 1);
}

/*** File data ***/

/* Send `count` bytes of a file, starting at `offset`, to a socket:
 * pread() a chunk, send_all() it, until all is sent. Returns 0, or -1
 * with errno set; a file shorter than promised gives EIO. Each system
 * call costs about the same whatever its size, so big chunks mean few
 * calls (FILE_BUF_SIZE, in proto.h, says how big, and SPEED.md why). */
int
send_file_data(int sock, int file_fd, off_t offset, off_t count)
{
    char buf[FILE_BUF_SIZE];
    while (count > 0) {
        size_t chunk = count > (off_t)sizeof buf ? sizeof buf : (size_t)count;
        ssize_t n = pread(file_fd, buf, chunk, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        if (send_all(sock, buf, (size_t)n) < 0)
            return -1;
        offset += n;
        count -= n;
    }
    return 0;
}

/* write() until all of buf is written: like send(), write() may take
 * less than asked. Returns 0, or -1 with errno set. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Receive exactly `count` bytes of file data and write them to file_fd
 * at its current offset, reporting progress if asked. Returns 0; -1 if
 * the connection failed (errno set, or 0 when it simply ended early);
 * -2 if writing the file failed (errno set).
 *
 * recv() into a buffer, write() the buffer out: each byte is copied
 * twice on the way, from the socket into `buf`, and from `buf` into
 * the file. read_some() hands over first the bytes that came with the
 * "ready" line; the loop never asks it for more than is still owed:
 * what comes after the file's last byte is the next message. */
int
recv_file_data(struct reader *r, int file_fd, off_t count,
               progress_fn *progress, void *progress_arg)
{
    /* lab:begin recv_file_data */
    off_t done = 0;
    char buf[FILE_BUF_SIZE];
    while (done < count) {
        size_t want = count - done > (off_t)sizeof buf ? sizeof buf
                                                       : (size_t)(count - done);
        ssize_t n = read_some(r, buf, want);
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        if (write_all(file_fd, buf, (size_t)n) < 0)
            return -2;
        done += n;
        if (progress != NULL)
            progress(done, progress_arg);
    }
    return 0;
    /* lab:end recv_file_data */
}

/*** Time ***/

/* Wait until there is something to read on `fd` (bytes, its end, or an
 * error for recv() to tell), or until seconds_now() reaches `deadline`.
 * Returns 1, or 0 when the time is up. */
int
wait_readable(int fd, double deadline)
{
    for (;;) {
        double left = deadline - seconds_now();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)(left * 1000) + 1);
        if (ready > 0 || (ready < 0 && errno != EINTR))
            return 1;
    }
}

/* Seconds on a clock that only goes forward (not the time of day, which
 * may jump): for timeouts and transfer rates. */
double
seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
