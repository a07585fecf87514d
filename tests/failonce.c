/*
 * tests/failonce.c - a test-only LD_PRELOAD library that makes one
 * pthread_create() or one fork() fail, as they do when the system runs
 * out of processes, threads or memory (EAGAIN). A server that starts a
 * thread or a process per client must survive it: log it, close that
 * client's socket, free what it meant for the thread, and go on
 * serving the others. Nothing on a test machine makes these calls fail
 * on their own, so the tests need this library to see that.
 *
 * What it does, with FAILONCE=pthread_create (or FAILONCE=fork) in the
 * environment: the first call of that function returns EAGAIN (fork():
 * -1 with errno EAGAIN) without starting anything, and says so on
 * stderr:
 *     failonce: pthread_create() fails with EAGAIN
 * For pthread_create() it remembers the argument the thread would have
 * got; when the program free()s that very pointer, it says so too:
 *     failonce: the failed thread's argument is freed
 * Every other call passes through untouched.
 *
 * Build and use (make test builds it):
 *     make tests/failonce.so
 *     FAILONCE=fork LD_PRELOAD=$PWD/tests/failonce.so ./server_fork 0
 */
#define _GNU_SOURCE /* RTLD_NEXT, from dlfcn.h */
#include <sys/types.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fail_what = ""; /* FAILONCE: the function to fail */
static atomic_int failed_once;     /* 1 once the one failure happened */
static _Atomic(void *) failed_arg; /* the thread's argument, until freed */
static void (*real_free)(void *);  /* set before main() */

/* say(MESSAGE): one line on stderr, in one write(). */
#define say(message) say_text((message), sizeof(message) - 1)

static void
say_text(const char *text, size_t len)
{
    int saved_errno = errno;
    ssize_t ignored = write(STDERR_FILENO, text, len);
    (void)ignored; /* a log line lost is no reason to change the test */
    errno = saved_errno;
}

/* dlsym() returns a void *, which POSIX (not ISO C) lets us turn into a
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

/* Runs when the library is loaded, before main() and any thread. */
__attribute__((constructor)) static void
failonce_init(void)
{
    find_real(&real_free, "free");
    const char *what = getenv("FAILONCE");
    if (what != NULL)
        fail_what = what;
}

/* Is this the call of `name` to fail? Only the first, and only if
 * FAILONCE names it. */
static int
fail_now(const char *name)
{
    return strcmp(fail_what, name) == 0 &&
           atomic_exchange(&failed_once, 1) == 0;
}

int
pthread_create(pthread_t *restrict newthread,
               const pthread_attr_t *restrict attr,
               void *(*start_routine)(void *), void *restrict arg)
{
    static int (*real_create)(pthread_t *restrict,
                              const pthread_attr_t *restrict, void *(*)(void *),
                              void *restrict);
    if (fail_now("pthread_create")) {
        atomic_store(&failed_arg, arg);
        say("failonce: pthread_create() fails with EAGAIN\n");
        return EAGAIN; /* pthread functions return the error number */
    }
    if (real_create == NULL)
        find_real(&real_create, "pthread_create");
    return real_create(newthread, attr, start_routine, arg);
}

pid_t
fork(void)
{
    static pid_t (*real_fork)(void);
    if (fail_now("fork")) {
        say("failonce: fork() fails with EAGAIN\n");
        errno = EAGAIN;
        return -1;
    }
    if (real_fork == NULL)
        find_real(&real_fork, "fork");
    return real_fork();
}

void
free(void *ptr)
{
    if (ptr != NULL && atomic_load(&failed_arg) == ptr &&
        atomic_exchange(&failed_arg, NULL) == ptr)
        say("failonce: the failed thread's argument is freed\n");
    if (real_free != NULL)
        real_free(ptr);
    /* else: a free() from dlsym(), before we know the real one. Its
     * memory stays allocated: harmless, and only at start-up. */
}
