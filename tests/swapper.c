/*
 * tests/swapper.c - a test-only racer: swap two names again and again,
 * for a while, as someone with a shell on the server could, to catch a
 * program that checks a path and then opens it in a second step (the
 * swap lands between the two, and the open sees what the check did
 * not). A shell's `mv` takes a millisecond a call, far too slow to
 * land in a gap of a microsecond; this loop makes a million swaps a
 * second.
 *
 *     swapper SECONDS PATH1 PATH2
 *
 * On Linux renameat2(RENAME_EXCHANGE) swaps the two in one step, so a
 * directory and a symbolic link trade places with no moment where
 * either name is missing. Elsewhere (or where the file system refuses
 * it) three rename()s through PATH1.swap do the same with a gap. Exits
 * 0 after SECONDS, 1 if a rename fails, 2 on a usage error.
 */
#define _GNU_SOURCE /* syscall() and SYS_renameat2, on Linux */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#define RENAME_EXCHANGE_FLAG 2 /* linux/fs.h: RENAME_EXCHANGE */
#define SWAPS_PER_CLOCK 1000   /* swaps between two looks at the clock */

/* Seconds on a clock that only goes forward. */
static double
seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Swap a and b in one step: 0, or -1 with errno set. */
static int
exchange(const char *a, const char *b)
{
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
                        RENAME_EXCHANGE_FLAG);
#else
    (void)a;
    (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

/* Swap a and b through a third name: 0, or -1 with errno set. */
static int
three_renames(const char *a, const char *b, const char *spare)
{
    if (rename(a, spare) < 0 || rename(b, a) < 0 || rename(spare, b) < 0)
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    char *rest = NULL;
    long seconds = argc == 4 ? strtol(argv[1], &rest, 10) : 0;
    if (argc != 4 || *rest != '\0' || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "usage: swapper SECONDS PATH1 PATH2\n");
        return 2;
    }
    const char *a = argv[2], *b = argv[3];
    char spare[4096];
    snprintf(spare, sizeof spare, "%s.swap", a);
    double end = seconds_now() + (double)seconds;
    int one_step = 1;
    while (seconds_now() < end) {
        for (int i = 0; i < SWAPS_PER_CLOCK; i++) {
            if (one_step && exchange(a, b) < 0)
                one_step = 0; /* and from now on: */
            if (!one_step && three_renames(a, b, spare) < 0) {
                fprintf(stderr, "swapper: rename: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    return 0;
}
