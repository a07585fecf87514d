/*
 * tests/shortio.c - a test-only LD_PRELOAD shim that makes stream
 * sockets behave like a real network on a bad day: every read or write
 * on one moves between 1 and a few bytes, and every few calls one fails
 * with EINTR, as if a signal had come first. A program that assumes one
 * recv() returns one message, or that send() takes the whole buffer,
 * or that EINTR cannot happen, fails under it; loopback hides all three.
 *
 * What it shims: read, write, recv, send, recvfrom, sendto, readv,
 * writev, recvmsg, sendmsg, sendfile and splice, only on stream sockets (TCP,
 * and Unix stream sockets). Files, pipes and terminals pass through
 * untouched: on them short reads and EINTR are not what a lesson is
 * about, and a program may rightly assume a regular file reads whole.
 * Datagram sockets pass through too: a UDP datagram is never split.
 *
 * It sees only calls made through the C library's exported functions.
 * The library's own internal calls (stdio reading a socket opened with
 * fdopen(), for example) are not shimmed, nor are the __recv_chk()
 * family that _FORTIFY_SOURCE substitutes: build without it (check/run
 * does, with -U_FORTIFY_SOURCE).
 *
 * Build and use (make check does both; see check/run):
 *     make tests/shortio.so
 *     LD_PRELOAD=$PWD/tests/shortio.so ./server 0
 * Tune it with environment variables:
 *     SHORTIO_MAX_BYTES    the most bytes one call moves (default 3)
 *     SHORTIO_EINTR_EVERY  every Nth call that could block fails with
 *                          EINTR (default 4; 0 means never)
 *     SHORTIO_SEED         seed of the chunk sizes (default 1): a run is
 *                          repeatable, thread by thread
 *     SHORTIO_WRITES       0: leave every write untouched, cut reads
 *                          only (default 1: both), to test a reader
 *                          alone
 *     SHORTIO_EAGAIN_EVERY every Nth call on a non-blocking socket
 *                          fails with EAGAIN, as it does when the
 *                          buffer is full, or when poll() said "ready"
 *                          and nothing came after all (default 0:
 *                          never; the program must then simply wait
 *                          for the next "ready": only a level-triggered
 *                          poll() or epoll() says it again)
 */
#define _GNU_SOURCE /* RTLD_NEXT, from dlfcn.h */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#define DEFAULT_MAX_BYTES 3
#define DEFAULT_EINTR_EVERY 4

/* glibc, asked for _GNU_SOURCE, declares the address argument of
 * recvfrom() and sendto() with a "transparent union" type of its own,
 * and a definition must use the type its declaration uses. */
#ifdef __GLIBC__
typedef __SOCKADDR_ARG sockaddr_arg;
typedef __CONST_SOCKADDR_ARG const_sockaddr_arg;
#else
typedef struct sockaddr *restrict sockaddr_arg;
typedef const struct sockaddr *const_sockaddr_arg;
#endif

/*** The real functions ***/

/* The C library's functions, which ours call after deciding how much
 * to let through. RTLD_NEXT finds the next definition of the name after
 * this library: the real one. */
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, sockaddr_arg,
                                socklen_t *);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
                              const_sockaddr_arg, socklen_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
#ifdef __linux__
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, off64_t *, int, off64_t *, size_t,
                              unsigned int);
#endif
#ifdef __GLIBC__
static ssize_t (*real_sendfile64)(int, int, off64_t *, size_t);
#endif

static unsigned max_bytes = DEFAULT_MAX_BYTES;
static unsigned eintr_every = DEFAULT_EINTR_EVERY;
static unsigned eagain_every;
static uint32_t seed = 1;
static unsigned cut_writes = 1;

/* Point *real (a function pointer) at the C library's function `name`.
 * dlsym() returns a void *, which POSIX (not ISO C) lets us turn into a
 * function pointer: memcpy does that without a cast the compiler warns
 * about. */
static void
find_real(void *real, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        abort(); /* no such function: nothing sensible to fall back to */
    memcpy(real, &sym, sizeof sym);
}

#define FIND_REAL(name) find_real(&real_##name, #name)

/* The value of environment variable `name`, or `fallback` when it is
 * unset or not a number. */
static unsigned
env_number(const char *name, unsigned fallback)
{
    const char *text = getenv(name);
    if (text == NULL || *text == '\0')
        return fallback;
    char *end;
    unsigned long n = strtoul(text, &end, 10);
    return *end == '\0' && n <= 1000000 ? (unsigned)n : fallback;
}

/* Runs when the library is loaded, before main() and before any thread
 * exists, so the pointers are set once and only read afterwards. */
__attribute__((constructor)) static void
shortio_init(void)
{
    FIND_REAL(read);
    FIND_REAL(write);
    FIND_REAL(recv);
    FIND_REAL(send);
    FIND_REAL(recvfrom);
    FIND_REAL(sendto);
    FIND_REAL(readv);
    FIND_REAL(writev);
    FIND_REAL(recvmsg);
    FIND_REAL(sendmsg);
#ifdef __linux__
    FIND_REAL(sendfile);
    FIND_REAL(splice);
#endif
#ifdef __GLIBC__
    FIND_REAL(sendfile64);
#endif
    max_bytes = env_number("SHORTIO_MAX_BYTES", DEFAULT_MAX_BYTES);
    if (max_bytes == 0)
        max_bytes = 1;
    eintr_every = env_number("SHORTIO_EINTR_EVERY", DEFAULT_EINTR_EVERY);
    eagain_every = env_number("SHORTIO_EAGAIN_EVERY", 0);
    seed = env_number("SHORTIO_SEED", 1);
    cut_writes = env_number("SHORTIO_WRITES", 1);
}

/*** Deciding ***/

/* Is fd a stream socket? getsockopt() answers both questions at once:
 * it fails with ENOTSOCK on anything but a socket. The errno of that
 * failure is not the caller's business. */
static int
is_stream_socket(int fd)
{
    int saved_errno = errno;
    int type;
    socklen_t len = sizeof type;
    int is_stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
                    type == SOCK_STREAM;
    errno = saved_errno;
    return is_stream;
}

/* Called before each shortened write: turn off Nagle's algorithm on a
 * TCP socket. With every write a few bytes long, Nagle would hold each
 * one back until the peer acknowledged the one before, and the peer
 * delays its acknowledgements (by up to 40 ms on Linux): a line of 200
 * bytes would take seconds. That is timing, not what the shim tests.
 * (On a Unix stream socket this fails, harmlessly.) */
static void
no_nagle(int fd)
{
    int saved_errno = errno;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    errno = saved_errno;
}

/* Each thread has its own sequence of chunk sizes and its own count of
 * calls, so that threads do not share (and race on) any state. A
 * thread's sequence starts from the seed and the thread's number. */
static _Thread_local uint32_t random_state; /* 0: not started yet */
static _Thread_local unsigned call_count, eagain_count;
static atomic_uint threads_started;

/* xorshift32: a tiny pseudo-random generator, plenty for chunk sizes. */
static uint32_t
next_random(void)
{
    if (random_state == 0)
        random_state = (seed * 2654435761U) ^
                       (atomic_fetch_add(&threads_started, 1) + 0x9E3779B9U);
    if (random_state == 0)
        random_state = 1;
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return random_state;
}

/* How many of `len` bytes this call may move: 1 to max_bytes. */
static size_t
chunk(size_t len)
{
    size_t most = 1 + next_random() % max_bytes;
    return len < most ? len : most;
}

/* Should this call fail instead? With EINTR, only a call that could
 * block (a signal interrupts a wait): not one on a non-blocking socket,
 * nor one with MSG_DONTWAIT. Those may fail with EAGAIN instead, when
 * SHORTIO_EAGAIN_EVERY asks for it. */
static int
interrupt_now(int fd, int flags)
{
    if (eintr_every == 0 && eagain_every == 0)
        return 0;
    int saved_errno = errno;
    int fd_flags = fcntl(fd, F_GETFL);
    errno = saved_errno;
    int nonblocking =
        (flags & MSG_DONTWAIT) || (fd_flags >= 0 && (fd_flags & O_NONBLOCK));
    if (nonblocking) {
        if (eagain_every == 0 || ++eagain_count % eagain_every != 0)
            return 0;
        errno = EAGAIN;
        return 1;
    }
    if (eintr_every == 0 || fd_flags < 0 || ++call_count % eintr_every != 0)
        return 0;
    errno = EINTR;
    return 1;
}

/*** The shims ***/

/* Each shim passes the call through untouched unless fd is a stream
 * socket and some bytes are asked for; otherwise it may fail with
 * EINTR, and moves at most chunk() bytes.
 * The C library declares these functions with parameter names such as
 * __fd, which are reserved for it: ours differ on purpose. */
// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)

ssize_t
read(int fd, void *buf, size_t len)
{
    if (len == 0 || !is_stream_socket(fd))
        return real_read(fd, buf, len);
    if (interrupt_now(fd, 0))
        return -1;
    return real_read(fd, buf, chunk(len));
}

ssize_t
write(int fd, const void *buf, size_t len)
{
    if (!cut_writes || len == 0 || !is_stream_socket(fd))
        return real_write(fd, buf, len);
    no_nagle(fd);
    if (interrupt_now(fd, 0))
        return -1;
    return real_write(fd, buf, chunk(len));
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    if (len == 0 || !is_stream_socket(fd))
        return real_recv(fd, buf, len, flags);
    if (interrupt_now(fd, flags))
        return -1;
    return real_recv(fd, buf, chunk(len), flags);
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    if (!cut_writes || len == 0 || !is_stream_socket(fd))
        return real_send(fd, buf, len, flags);
    no_nagle(fd);
    if (interrupt_now(fd, flags))
        return -1;
    return real_send(fd, buf, chunk(len), flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, sockaddr_arg addr,
         socklen_t *addr_len)
{
    if (len == 0 || !is_stream_socket(fd))
        return real_recvfrom(fd, buf, len, flags, addr, addr_len);
    if (interrupt_now(fd, flags))
        return -1;
    return real_recvfrom(fd, buf, chunk(len), flags, addr, addr_len);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const_sockaddr_arg addr,
       socklen_t addr_len)
{
    if (!cut_writes || len == 0 || !is_stream_socket(fd))
        return real_sendto(fd, buf, len, flags, addr, addr_len);
    no_nagle(fd);
    if (interrupt_now(fd, flags))
        return -1;
    return real_sendto(fd, buf, chunk(len), flags, addr, addr_len);
}

/* The vector calls: only the first non-empty buffer moves, cut to
 * chunk() bytes. A short count is what they return on a real network
 * too. Returns that buffer, or one of length 0 if all are empty. */
static struct iovec
first_chunk(const struct iovec *iov, int count)
{
    struct iovec one = {NULL, 0};
    for (int i = 0; i < count; i++) {
        if (iov[i].iov_len > 0) {
            one.iov_base = iov[i].iov_base;
            one.iov_len = chunk(iov[i].iov_len);
            break;
        }
    }
    return one;
}

ssize_t
readv(int fd, const struct iovec *iov, int count)
{
    if (!is_stream_socket(fd))
        return real_readv(fd, iov, count);
    struct iovec one = first_chunk(iov, count);
    if (one.iov_len == 0)
        return real_readv(fd, iov, count);
    if (interrupt_now(fd, 0))
        return -1;
    return real_read(fd, one.iov_base, one.iov_len);
}

ssize_t
writev(int fd, const struct iovec *iov, int count)
{
    if (!cut_writes || !is_stream_socket(fd))
        return real_writev(fd, iov, count);
    struct iovec one = first_chunk(iov, count);
    if (one.iov_len == 0)
        return real_writev(fd, iov, count);
    no_nagle(fd);
    if (interrupt_now(fd, 0))
        return -1;
    return real_write(fd, one.iov_base, one.iov_len);
}

/* recvmsg() and sendmsg() keep their address and ancillary data; only
 * their buffers are cut down, as in readv() and writev(). */
ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (!is_stream_socket(fd))
        return real_recvmsg(fd, msg, flags);
    struct iovec one = first_chunk(msg->msg_iov, (int)msg->msg_iovlen);
    if (one.iov_len == 0)
        return real_recvmsg(fd, msg, flags);
    if (interrupt_now(fd, flags))
        return -1;
    struct iovec *all = msg->msg_iov;
    size_t all_len = msg->msg_iovlen;
    msg->msg_iov = &one; /* the caller's msghdr, restored below */
    msg->msg_iovlen = 1;
    ssize_t n = real_recvmsg(fd, msg, flags);
    msg->msg_iov = all;
    msg->msg_iovlen = all_len;
    return n;
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!cut_writes || !is_stream_socket(fd))
        return real_sendmsg(fd, msg, flags);
    struct iovec one = first_chunk(msg->msg_iov, (int)msg->msg_iovlen);
    if (one.iov_len == 0)
        return real_sendmsg(fd, msg, flags);
    no_nagle(fd);
    if (interrupt_now(fd, flags))
        return -1;
    struct msghdr cut = *msg;
    cut.msg_iov = &one;
    cut.msg_iovlen = 1;
    return real_sendmsg(fd, &cut, flags);
}

#ifdef __linux__
/* sendfile() to a socket: the file's bytes go out a few at a time. */
ssize_t
sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    if (!cut_writes || count == 0 || !is_stream_socket(out_fd))
        return real_sendfile(out_fd, in_fd, offset, count);
    no_nagle(out_fd);
    if (interrupt_now(out_fd, 0))
        return -1;
    return real_sendfile(out_fd, in_fd, offset, chunk(count));
}
#endif

#ifdef __linux__
/* splice() from or to a socket (one end is a pipe): a few bytes at a
 * time, as recv() and send() move them. */
ssize_t
splice(int in_fd, off64_t *in_off, int out_fd, off64_t *out_off, size_t len,
       unsigned int flags)
{
    int sock = is_stream_socket(in_fd) ? in_fd : out_fd;
    if (len == 0 || !is_stream_socket(sock) || (sock == out_fd && !cut_writes))
        return real_splice(in_fd, in_off, out_fd, out_off, len, flags);
    if (sock == out_fd)
        no_nagle(sock);
    if (interrupt_now(sock, (flags & SPLICE_F_NONBLOCK) ? MSG_DONTWAIT : 0))
        return -1;
    return real_splice(in_fd, in_off, out_fd, out_off, chunk(len), flags);
}
#endif

#ifdef __GLIBC__
/* What a program built with _FILE_OFFSET_BITS=64 calls for sendfile(). */
ssize_t
sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
    if (!cut_writes || count == 0 || !is_stream_socket(out_fd))
        return real_sendfile64(out_fd, in_fd, offset, count);
    no_nagle(out_fd);
    if (interrupt_now(out_fd, 0))
        return -1;
    return real_sendfile64(out_fd, in_fd, offset, chunk(count));
}
#endif
// NOLINTEND(readability-inconsistent-declaration-parameter-name)
