/*
 * tests/proto_harness.c - runs recv_file_data() of stage 04's proto.c
 * on its own, for what a test over TCP cannot afford to show. A test
 * builds it with the stage's proto.c and net.c (the student's, in a lab):
 *     cc -std=c11 -D_POSIX_C_SOURCE=200809L -I 04_ftp -o proto_harness \
 *         tests/proto_harness.c 04_ftp/proto.c 04_ftp/net.c
 *
 *   proto_harness recv_big
 *       recv_file_data() of 2 GiB + 64 KiB (past 2^31 - 1, the largest
 *       int) from one end of a Unix stream socket pair into /dev/null; a
 *       child process sends those bytes, then the line "next", then
 *       closes. Prints "recv_file_data: RESULT LAST-PROGRESS NEXT-LINE"
 *       on stdout (RESULT 0, the last progress 2147549184 and the line
 *       "next" when all is well) and exits 0 then, 1 otherwise. A
 *       socket pair moves 2 GiB in well under a second: no disk, no TCP.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

#define BIG_COUNT (((off_t)1 << 31) + (off_t)64 * 1024) /* 2 GiB + 64 KiB */

const char program_name[] = "proto_harness";

static int run_recv_big(void);

int
main(int argc, char *argv[])
{
    if (argc == 2 && strcmp(argv[1], "recv_big") == 0)
        return run_recv_big();
    fprintf(stderr, "usage: proto_harness recv_big\n");
    return 2;
}

/* The sending side: `count` bytes of zeros, then "next\n", then the end
 * of the stream. */
static void
send_big(int fd, off_t count)
{
    static char zeros[1024 * 1024];
    while (count > 0) {
        size_t chunk =
            count > (off_t)sizeof zeros ? sizeof zeros : (size_t)count;
        ssize_t n = send(fd, zeros, chunk, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            _exit(1); /* the receiver has gone: it stopped early */
        count -= n;
    }
    (void)send(fd, "next\n", 5, MSG_NOSIGNAL);
    _exit(0);
}

/* progress_fn: keep the last count, and whether it ever went down. */
struct progress_seen {
    off_t last;
    int went_down;
};

static void
see_progress(off_t done, void *arg)
{
    struct progress_seen *seen = arg;
    if (done < seen->last)
        seen->went_down = 1;
    seen->last = done;
}

static int
run_recv_big(void)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
        perror("proto_harness: socketpair");
        return 2;
    }
    int sink = open("/dev/null", O_WRONLY);
    if (sink < 0) {
        perror("proto_harness: /dev/null");
        close(pair[0]);
        close(pair[1]);
        return 2;
    }
    pid_t sender = fork();
    if (sender < 0) {
        perror("proto_harness: fork");
        close(sink);
        close(pair[0]);
        close(pair[1]);
        return 2;
    }
    if (sender == 0) {
        close(pair[0]);
        send_big(pair[1], BIG_COUNT);
    }
    close(pair[1]);

    static struct reader r; /* 64 KiB: not on the stack */
    reader_init(&r, pair[0]);
    struct progress_seen seen = {0, 0};
    int result = recv_file_data(&r, sink, BIG_COUNT, see_progress, &seen);
    char line[MAX_LINE];
    ssize_t len = result == 0 ? read_line(&r, line, sizeof line) : -1;
    if (len < 0)
        strcpy(line, "(none)");

    close(pair[0]); /* a sender still sending stops (EPIPE) */
    close(sink);
    waitpid(sender, NULL, 0);
    printf("recv_file_data: %d %lld%s %s\n", result, (long long)seen.last,
           seen.went_down ? " (went down)" : "", line);
    return result == 0 && seen.last == BIG_COUNT && !seen.went_down &&
                   strcmp(line, "next") == 0
               ? 0
               : 1;
}
