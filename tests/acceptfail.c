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
 * With ACCEPTFAIL=SIGCHLD it also ends a child of the program in the
 * middle: the first accept() that returns a connection closes it, sets
 * errno to ENETUNREACH, forks a child that exits at once, and returns
 * -1 only once the program's SIGCHLD handler has run (it calls
 * waitpid(), which this library watches; at most 5 s). A handler that
 * does not restore errno hands its own errno (ECHILD, from the waitpid()
 * that found no child left) to the code it interrupted, here the
 * server's reading of accept()'s error. It says
 *     acceptfail: accept() fails with ENETUNREACH while a child exits
 *
 * With ACCEPTFAIL=ENFILE it plays the whole system out of file
 * descriptors: the first accept() waits until a client is there, then
 * returns -1 with errno ENFILE without taking the connection, and says
 *     acceptfail: accept() fails with ENFILE (the system is out of fds)
 * ENFILE is the server's error, as EMFILE is, not the new connection's:
 * a server that stops for EMFILE alone and calls accept() again after
 * any other error goes on, and takes the waiting client.
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
#include <sys/wait.h>
#include <time.h>
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
static atomic_int waited;      /* 1 once the program called waitpid() */

/* Say what we did on stderr. A log line lost is no reason to change
 * the test. */
static void
say(const char *message)
{
    ssize_t ignored = write(STDERR_FILENO, message, strlen(message));
    (void)ignored;
}

/* The C library's function NAME, the next definition after ours, into
 * *real. dlsym() returns a void *, which POSIX (not ISO C) lets us turn
 * into a function pointer: memcpy does that without a cast the compiler
 * warns about. */
static void
find_real(void *real, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        abort(); /* no such function to pass calls to */
    memcpy(real, &sym, sizeof sym);
}

pid_t
waitpid(pid_t pid, int *stat_loc, int options)
{
    static pid_t (*real_waitpid)(pid_t, int *, int);
    if (real_waitpid == NULL)
        find_real(&real_waitpid, "waitpid");
    atomic_store(&waited, 1);
    return real_waitpid(pid, stat_loc, options);
}

/* Fail with ENETUNREACH while a child exits: see ACCEPTFAIL=SIGCHLD. */
static int
fail_while_child_exits(int client_fd)
{
    say("acceptfail: accept() fails with ENETUNREACH while a child exits\n");
    close(client_fd);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 5;
    errno = ENETUNREACH;
    /* Wait without a system call that could set errno (clock_gettime()
     * sets it only on failure) until the SIGCHLD handler has run. */
    if (child > 0) {
        do
            clock_gettime(CLOCK_MONOTONIC, &now);
        while (!atomic_load(&waited) &&
               (now.tv_sec < end.tv_sec ||
                (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
    }
    return -1;
}

int
accept(int fd, sockaddr_arg addr, socklen_t *restrict addr_len)
{
    /* The C library's accept(): the next definition after this one. */
    static int (*real_accept)(int, sockaddr_arg, socklen_t *restrict);
    if (real_accept == NULL)
        find_real(&real_accept, "accept");

    const char *mode = getenv("ACCEPTFAIL");
    int fail_errno = 0; /* the error of the modes that take no connection */
    if (mode != NULL && strcmp(mode, "EINTR") == 0)
        fail_errno = EINTR;
    else if (mode != NULL && strcmp(mode, "ENFILE") == 0)
        fail_errno = ENFILE;
    if (fail_errno != 0) {
        if (atomic_exchange(&failed_once, 1) != 0)
            return real_accept(fd, addr, addr_len);
        struct pollfd listener = {.fd = fd, .events = POLLIN};
        int ready;
        do
            ready = poll(&listener, 1, -1);
        while (ready < 0 && errno == EINTR);
        say(fail_errno == EINTR
                ? "acceptfail: accept() interrupted by a signal (EINTR)\n"
                : "acceptfail: accept() fails with ENFILE (the system is out "
                  "of fds)\n");
        errno = fail_errno;
        return -1;
    }

    int client_fd = real_accept(fd, addr, addr_len);
    if (client_fd < 0 || atomic_exchange(&failed_once, 1) != 0)
        return client_fd;
    if (mode != NULL && strcmp(mode, "SIGCHLD") == 0)
        return fail_while_child_exits(client_fd);

    say("acceptfail: accept() of a connection fails with ENETUNREACH\n");
    close(client_fd);
    errno = ENETUNREACH;
    return -1;
}
