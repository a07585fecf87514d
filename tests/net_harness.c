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
 *   net_harness accept_emfile
 *       accept_client() with a client waiting and no descriptor left for
 *       it (RLIMIT_NOFILE lowered): prints "accept_client: RESULT
 *       ERRNO-NAME" on stdout; net.h's contract is -1 with errno set
 *       (EMFILE here), which stage 03's servers read to decide whether
 *       to wait (is_temporary_accept_error()).
 *   net_harness echo_twice
 *       a server of one client that sends back every byte it receives
 *       twice: more than the client asked for. open_listener(0), then
 *       accept(), recv() and send() of its own: only the client is
 *       tested, whose recv_all() must take exactly one echo's bytes.
 *   net_harness echo_half_reset
 *       a server of one client that sends back the first half of the
 *       first line it receives, then resets the connection (SO_LINGER
 *       of 0: close() sends RST): the client gets part of an echo, then
 *       ECONNRESET, and must report the reset, not a close.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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
static int run_accept_emfile(void);
static int run_echo_twice(void);
static int run_echo_half_reset(void);

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
    if (argc == 2 && strcmp(argv[1], "accept_emfile") == 0)
        return run_accept_emfile();
    if (argc == 2 && strcmp(argv[1], "echo_twice") == 0)
        return run_echo_twice();
    if (argc == 2 && strcmp(argv[1], "echo_half_reset") == 0)
        return run_echo_half_reset();
    fprintf(stderr, "usage: net_harness send_all|send_all_closed|serve_one|"
                    "accept_nonblock|accept_emfile|echo_twice|"
                    "echo_half_reset\n");
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

static int
run_accept_emfile(void)
{
    open_standard_fds();
    int listen_fd = open_listener("0");
    if (listen_fd < 0)
        return 1;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    if (getsockname(listen_fd, (struct sockaddr *)&addr, &addr_len) < 0) {
        perror("net_harness: getsockname");
        return 2;
    }
    /* The listener is on the wildcard address: connect to loopback. */
    if (addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&addr)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&addr)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int client = socket(addr.ss_family, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&addr, addr_len) < 0) {
        perror("net_harness: connect");
        return 2;
    }
    /* The connection waits in the queue; no descriptor is left for it. */
    int highest = listen_fd > client ? listen_fd : client;
    struct rlimit lim = {(rlim_t)highest + 1, (rlim_t)highest + 1};
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0) {
        perror("net_harness: setrlimit");
        return 2;
    }
    char peer[ADDR_STR_SIZE];
    int fd = accept_client(listen_fd, peer, sizeof peer);
    int saved_errno = errno;
    printf("accept_client: %d %s\n", fd,
           fd >= 0                 ? "-"
           : saved_errno == EMFILE ? "EMFILE"
           : saved_errno == 0      ? "errno-0"
                                   : strerror(saved_errno));
    close(client);
    close(listen_fd);
    return 0;
}

/* Send all `len` bytes with send() alone (not the stage's send_all()). */
static int
send_whole(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* For the modes that are a server of one client of their own: listen
 * on a free port (open_listener() says which), and accept that client.
 * Returns its socket, *listen_fd set; -1 after saying why. */
static int
serve_one_client(int *listen_fd)
{
    open_standard_fds();
    ignore_sigpipe();
    *listen_fd = open_listener("0");
    if (*listen_fd < 0)
        return -1;
    int fd;
    do
        fd = accept(*listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        perror("net_harness: accept");
    return fd;
}

static int
run_echo_twice(void)
{
    int listen_fd;
    int fd = serve_one_client(&listen_fd);
    if (fd < 0)
        return 1;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        int copies = 0; /* each chunk goes back twice */
        while (copies < 2 && send_whole(fd, buf, (size_t)n) == 0)
            copies++;
        if (copies < 2)
            break;
    }
    close(fd);
    close(listen_fd);
    return 0;
}

/* echo_half_reset: see the header comment. */
static int
run_echo_half_reset(void)
{
    int listen_fd;
    int fd = serve_one_client(&listen_fd);
    if (fd < 0)
        return 1;
    /* The whole first line (the client's writes may come a few bytes
     * at a time, under the short-I/O shim): a reset while the client
     * still sends would fail its send(), not its recv(). */
    char buf[4096] = "";
    size_t n = 0;
    while (n < sizeof buf && memchr(buf, '\n', n) == NULL) {
        ssize_t got = recv(fd, buf + n, sizeof buf - n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (n > 1)
        send_whole(fd, buf, n / 2);
    /* A linger of 0 s: close() drops what is unsent and sends RST. */
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
    close(listen_fd);
    return 0;
}
