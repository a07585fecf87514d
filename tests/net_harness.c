/*
 * tests/net_harness.c - runs one helper of a stage's net.c on its own,
 * so that a test can tell which helper is at fault. A test builds it
 * with the stage's net.c (the student's, in a lab):
 *     cc -std=c11 -D_POSIX_C_SOURCE=200809L -I STAGE -o net_harness \
 *         tests/net_harness.c STAGE/net.c
 *
 *   net_harness send_all <IN >OUT
 *       send_all() the bytes of IN on one end of a Unix stream socket
 *       pair; a child process reads the other end into OUT. Exits 1 if
 *       send_all() returned -1, or anything but 0 (net.h: 0 or -1).
 *       Under the short-I/O shim this tests send_all() alone, without
 *       any echo around it.
 *   net_harness send_all_closed
 *       send_all() 64 KiB on a socket whose other end is closed (and
 *       SIGPIPE ignored): prints "send_all: RESULT ERRNO-NAME" on
 *       stdout; net.h's contract is -1 with errno set (EPIPE here).
 *   net_harness serve_one
 *       a server of one client: open_listener(0), accept_client(),
 *       serve_client(), then exit 0 (stage 01's main). Built with a
 *       sanitizer, it tests serve_client() alone, whatever the stage's
 *       main() does.
 *   net_harness accept_nonblock
 *       accept_client() on a non-blocking listener nobody connects to
 *       (stage 03's poll and epoll servers call it so): prints
 *       "accept_client: RESULT ERRNO-NAME" on stdout; net.h's contract
 *       is -1 with EAGAIN, and nothing on stderr.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define MAX_INPUT (4 * 1024 * 1024) /* bytes send_all is given, at most */

const char program_name[] = "net_harness";

static int run_send_all(void);
static int run_serve_one(void);
static int run_accept_nonblock(void);
static int run_send_all_closed(void);

int
main(int argc, char *argv[])
{
    if (argc == 2 && strcmp(argv[1], "send_all") == 0)
        return run_send_all();
    if (argc == 2 && strcmp(argv[1], "serve_one") == 0)
        return run_serve_one();
    if (argc == 2 && strcmp(argv[1], "accept_nonblock") == 0)
        return run_accept_nonblock();
    if (argc == 2 && strcmp(argv[1], "send_all_closed") == 0)
        return run_send_all_closed();
    fprintf(stderr, "usage: net_harness send_all|send_all_closed|serve_one|"
                    "accept_nonblock\n");
    return 2;
}

/* Copy everything fd `from` gives to stdout, until end of file. */
static void
copy_to_stdout(int from)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return;
    }
}

static int
run_send_all(void)
{
    static char input[MAX_INPUT];
    size_t len = fread(input, 1, sizeof input, stdin);

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
        perror("net_harness: socketpair");
        return 2;
    }
    ignore_sigpipe();
    pid_t reader = fork();
    if (reader < 0) {
        perror("net_harness: fork");
        return 2;
    }
    if (reader == 0) {
        close(pair[0]);
        copy_to_stdout(pair[1]);
        fflush(stdout);
        _exit(0);
    }
    close(pair[1]);
    int result = send_all(pair[0], input, len);
    int saved_errno = errno;
    close(pair[0]); /* the reader sees end of file */
    waitpid(reader, NULL, 0);
    if (result < 0) {
        fprintf(stderr, "net_harness: send_all() returned -1: %s\n",
                strerror(saved_errno));
        return 1;
    }
    if (result != 0) {
        fprintf(stderr, "net_harness: send_all() returned %d, not 0\n", result);
        return 1;
    }
    return 0;
}

static int
run_send_all_closed(void)
{
    static char data[64 * 1024];
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
        perror("net_harness: socketpair");
        return 2;
    }
    ignore_sigpipe();
    close(pair[1]);
    int result = send_all(pair[0], data, sizeof data);
    int saved_errno = errno;
    printf("send_all: %d %s\n", result,
           result >= 0            ? "-"
           : saved_errno == EPIPE ? "EPIPE"
                                  : strerror(saved_errno));
    close(pair[0]);
    return 0;
}

static int
run_serve_one(void)
{
    open_standard_fds();
    install_signal_handlers();
    int listen_fd = open_listener("0");
    if (listen_fd < 0)
        return 1;
    char peer[ADDR_STR_SIZE];
    int client_fd = accept_client(listen_fd, peer, sizeof peer);
    if (client_fd < 0) {
        close(listen_fd);
        return 1;
    }
    serve_client(client_fd, peer);
    close(client_fd);
    close(listen_fd);
    return 0;
}

static int
run_accept_nonblock(void)
{
    open_standard_fds();
    int listen_fd = open_listener("0");
    if (listen_fd < 0)
        return 1;
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        perror("net_harness: fcntl O_NONBLOCK");
        return 2;
    }
    char peer[ADDR_STR_SIZE];
    int fd = accept_client(listen_fd, peer, sizeof peer);
    int saved_errno = errno;
    fflush(stderr);
    int again = fd < 0 && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
    printf("accept_client: %d %s\n", fd,
           again    ? "EAGAIN"
           : fd < 0 ? strerror(saved_errno)
                    : "-");
    close(listen_fd);
    return 0;
}
