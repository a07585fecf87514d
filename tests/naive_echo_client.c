/*
 * tests/naive_echo_client.c - a test-only program with the classic
 * beginner's bug: it sends a message with one send() and reads the echo
 * with one recv(), as if TCP kept message boundaries. On a quiet
 * loopback that almost always works, which is why the bug survives.
 * It exists to prove that the short-I/O shim (shortio.c) catches the
 * bug: check/shortio.bats runs it with the shim and without.
 *
 * Run:   naive_echo_client HOST PORT MESSAGE
 * It prints what came back, and exits 0 if that was MESSAGE, 1 if not.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE 4096 /* bytes for the echo: more than any test message */

static int connect_to(const char *host, const char *port);

int
main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: naive_echo_client HOST PORT MESSAGE\n");
        return 2;
    }
    const char *message = argv[3];
    size_t len = strlen(message);
    int fd = connect_to(argv[1], argv[2]);
    if (fd < 0)
        return 1;

    /* The bug, twice: the return value of send() is not looped on, and
     * one recv() is taken to be the whole echo. */
    char echo[BUF_SIZE];
    ssize_t sent = send(fd, message, len, 0);
    ssize_t got = sent < 0 ? -1 : recv(fd, echo, sizeof echo, 0);
    if (got < 0) {
        perror("naive_echo_client: send or recv");
        close(fd);
        return 1;
    }
    close(fd);

    fwrite(echo, 1, (size_t)got, stdout);
    putchar('\n');
    return (size_t)got == len && memcmp(echo, message, len) == 0 ? 0 : 1;
}

/* Connect to the first address of host that accepts. Returns the
 * socket, or -1 after printing why. */
static int
connect_to(const char *host, const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    struct addrinfo *list;
    int err = getaddrinfo(host, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "naive_echo_client: %s: %s\n", host, gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0;
         ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        perror("naive_echo_client: connect");
    return fd;
}
