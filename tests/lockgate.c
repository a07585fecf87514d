/*
 * tests/lockgate.c - a test-only LD_PRELOAD library that holds a
 * process back at the moment it asks for an fcntl() lock, until the
 * test lets it go. It forces an interleaving of two uploads of one name
 * that loopback would almost never show, the put race
 * (tests/04_ftp.bats):
 *
 *   1. A second upload opens .partial.NAME, which the first is writing
 *      and holds locked; it is held back here, before asking for the
 *      lock.
 *   2. The first upload ends: it renames .partial.NAME to NAME and
 *      closes it, which lets go of its lock.
 *   3. The test opens the gate: the second asks for its lock, on what
 *      is now the finished NAME, and gets it.
 *
 * A server that then trusts its lock truncates NAME and writes into it;
 * a correct one sees that .partial.NAME no longer names the file it
 * locked, and answers busy. Holding back the first uploader's rename
 * would not do: the second's lock follows its open at once, and
 * F_SETLK does not wait, so it would only ever find the lock taken.
 *
 * With LOCKGATE_DIR set, in the first process that asks for a write
 * lock with F_SETLK (the one that creates LOCKGATE_DIR/first), the call
 * goes through at once. Every later one writes "lockgate: PID waits" to
 * stderr and waits until LOCKGATE_DIR/open exists (at most
 * LOCKGATE_MAX_S seconds), then asks for its lock. Every other call of
 * fcntl() passes straight through, and without LOCKGATE_DIR, all do.
 *
 * Build and use (make test builds it):
 *     make tests/lockgate.so
 *     LD_PRELOAD=$PWD/tests/lockgate.so LOCKGATE_DIR=/tmp/gate ./server 0
 */
#define _GNU_SOURCE /* RTLD_NEXT, from dlfcn.h */
#include <sys/types.h>
#include <sys/stat.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCKGATE_MAX_S 20 /* the longest a process is held back */

static int (*real_fcntl)(int, int, ...);

/* Does LOCKGATE_DIR/name exist? Or, with `create`, is this the call
 * that made it? */
static int
gate_file(const char *dir, const char *name, int create)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!create)
        return access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* Hold this process back until the test opens the gate. */
static void
wait_at_gate(const char *dir)
{
    fprintf(stderr, "lockgate: %ld waits\n", (long)getpid());
    struct timespec tick = {0, 10L * 1000 * 1000}; /* 10 ms */
    for (long ticks = 0; ticks < LOCKGATE_MAX_S * 100L; ticks++) {
        if (gate_file(dir, "open", 0))
            return;
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "lockgate: %ld gave up waiting\n", (long)getpid());
}

/* fcntl() takes a third argument of a type that depends on the command,
 * or none: like the C library's own fcntl(), read it as a pointer,
 * which is as wide as any of them, and hand it on. */
int
fcntl(int fd, int cmd, ...)
{
    va_list args;
    va_start(args, cmd);
    void *arg = va_arg(args, void *);
    va_end(args);
    if (real_fcntl == NULL) {
        void *sym = dlsym(RTLD_NEXT, "fcntl");
        if (sym == NULL)
            abort();
        memcpy(&real_fcntl, &sym, sizeof sym); /* see tests/shortio.c */
    }

    const char *dir = getenv("LOCKGATE_DIR");
    const struct flock *lock = arg;
    int saved_errno = errno;
    if (dir != NULL && cmd == F_SETLK && lock->l_type == F_WRLCK &&
        !gate_file(dir, "first", 1))
        wait_at_gate(dir);
    errno = saved_errno;
    return real_fcntl(fd, cmd, arg);
}
