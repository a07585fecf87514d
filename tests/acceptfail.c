/*
 * tests/acceptfail.c - a test-only LD_PRELOAD library that makes one
 * accept() fail the way Linux's can: with a network error that belongs
 * to the connection it took from the queue, not to the listening
 * socket. Linux's accept() passes on such an error pending on the new
 * connection (its client's network went down, a router answered "no
 * route"), and accept(2) tells TCP servers to treat ENETDOWN, EPROTO,
 * ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP and
 * ENETUNREACH like EAGAIN: call accept() again. A server that exits
 * instead is stopped by one client whose route broke. Loopback never
 * does this on its own, so the tests need this library to see it.
 *
 * What it does: the first accept() that returns a connection closes
 * that connection (its client sees it end at once) and returns -1 with
 * errno ENETUNREACH, and says so on stderr:
 *     acceptfail: accept() of a connection fails with ENETUNREACH
 * Every later accept() passes through untouched.
 *
 * With ACCEPTFAIL=EINTR it plays a signal instead: the first accept()
 * waits until a client is there, then returns -1 with errno EINTR, as
 * if a signal had come first, without taking the connection (the
 * client waits in the queue for the next call), and says
 *     acceptfail: accept() interrupted by a signal (EINTR)
 *
 * Build and use (make test builds it):
 *     make tests/acceptfail.so
 *     LD_PRELOAD=$PWD/tests/acceptfail.so ./server 0
 */
#define _GNU_SOURCE /* RTLD_NEXT, from dlfcn.h */
#include <sys/types.h>
#include <sys/socket.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc, asked for _GNU_SOURCE, declares the address argument of
 * accept() with a "transparent union" type of its own, and a definition
 * must use the type its declaration uses. */
#ifdef __GLIBC__
typedef __SOCKADDR_ARG sockaddr_arg;
#else
typedef struct sockaddr *restrict sockaddr_arg;
#endif

static atomic_int failed_once; /* 1 once the one failure has happened */

/* Say what we did on stderr. A log line lost is no reason to change
 * the test. */
static void
say(const char *message)
{
    ssize_t ignored = write(STDERR_FILENO, message, strlen(message));
    (void)ignored;
}

int
accept(int fd, sockaddr_arg addr, socklen_t *restrict addr_len)
{
    /* The C library's accept(): the next definition after this one.
     * dlsym() returns a void *, which POSIX (not ISO C) lets us turn
     * into a function pointer: memcpy does that without a cast the
     * compiler warns about. */
    static int (*real_accept)(int, sockaddr_arg, socklen_t *restrict);
    if (real_accept == NULL) {
        void *sym = dlsym(RTLD_NEXT, "accept");
        if (sym == NULL)
            abort(); /* no accept() to pass calls to */
        memcpy(&real_accept, &sym, sizeof sym);
    }

    const char *mode = getenv("ACCEPTFAIL");
    if (mode != NULL && strcmp(mode, "EINTR") == 0) {
        if (atomic_exchange(&failed_once, 1) != 0)
            return real_accept(fd, addr, addr_len);
        struct pollfd listener = {.fd = fd, .events = POLLIN};
        int ready;
        do
            ready = poll(&listener, 1, -1);
        while (ready < 0 && errno == EINTR);
        say("acceptfail: accept() interrupted by a signal (EINTR)\n");
        errno = EINTR;
        return -1;
    }

    int client_fd = real_accept(fd, addr, addr_len);
    if (client_fd < 0 || atomic_exchange(&failed_once, 1) != 0)
        return client_fd;

    say("acceptfail: accept() of a connection fails with ENETUNREACH\n");
    close(client_fd);
    errno = ENETUNREACH;
    return -1;
}
