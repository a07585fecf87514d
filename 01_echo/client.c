/*
 * 01_echo/client.c - connects to the echo server, sends each line it
 * reads, and prints the echo that comes back.
 *
 * What to look at: echo_line(), which never assumes that one recv()
 * returns everything one send() sent; and connect_to() in net.c, which
 * tries every address a name resolves to (localhost is both ::1 and
 * 127.0.0.1).
 *
 * Run:   ./client [HOST [PORT]]    (default localhost 9001)
 * On a terminal it shows a ">>: " prompt; with input from a pipe or a
 * file it prints only the echoes, and its exit status says whether
 * every line came back.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9001"
#define CHUNK_SIZE 16384 /* bytes sent before reading their echo back */

const char program_name[] = "client";

static void parse_args(int argc, char *argv[], const char **host,
                       const char **port);
static int echo_line(int fd, const char *line, size_t len);
static ssize_t recv_all(int fd, void *buf, size_t len);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *host = DEFAULT_HOST;
    const char *port = DEFAULT_PORT;
    parse_args(argc, argv, &host, &port);
    ignore_sigpipe(); /* see net.c: report a closed server, don't die */

    int fd = connect_to(host, port);
    if (fd < 0)
        return 1;

    /* Prompt only for a person at a terminal, never into a script. */
    int interactive = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int status = 0;
    for (;;) {
        if (interactive) {
            printf(">>: ");
            fflush(stdout);
        }
        /* Python: msg = raw_input(">>:") -- but getline() keeps every
         * byte, '\n' and NUL included, so binary input survives. */
        len = getline(&line, &line_cap, stdin);
        if (len < 0)
            break;
        if (echo_line(fd, line, (size_t)len) < 0) {
            status = 1;
            break;
        }
    }
    if (interactive && len < 0)
        printf("\n"); /* leave the shell's prompt on a line of its own */
    if (ferror(stdin)) {
        fprintf(stderr, "client: reading input: %s\n", strerror(errno));
        status = 1;
    }
    free(line);
    close(fd);

    if (fflush(stdout) != 0) {
        fprintf(stderr, "client: writing output: %s\n", strerror(errno));
        status = 1;
    }
    return status;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: client [-h] [HOST [PORT]]\n"
                 "  HOST  server name or address (default " DEFAULT_HOST ")\n"
                 "  PORT  server port (default " DEFAULT_PORT ")\n");
    exit(status);
}

static void
parse_args(int argc, char *argv[], const char **host, const char **port)
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (argc - optind > 2)
        usage(stderr, 2);
    if (argc - optind >= 1)
        *host = argv[optind];
    if (argc - optind == 2)
        *port = argv[optind + 1];
    if (is_port_not_host(*host))
        usage(stderr, 2);
    if (!is_port_number(*port) || strcmp(*port, "0") == 0) {
        fprintf(stderr,
                "client: bad port '%s': use a number from 1 to "
                "65535\n",
                *port);
        usage(stderr, 2);
    }
}

/*** Echo ***/

/* Send one line and print its echo; returns 0, or -1 after printing
 * why. The line goes out in chunks of at most CHUNK_SIZE bytes, and
 * each chunk's echo is read before the next is sent. Sending a huge line
 * in one go would deadlock: the server would stop reading while it
 * waits for us to take its echoes, and we would not read any echo until
 * the server had taken our whole line. */
static int
echo_line(int fd, const char *line, size_t len)
{
    char echo[CHUNK_SIZE];
    while (len > 0) {
        size_t chunk = len < sizeof echo ? len : sizeof echo;
        if (send_all(fd, line, chunk) < 0) { /* Python: s.sendall(msg) */
            fprintf(stderr, "client: send: %s\n", strerror(errno));
            return -1;
        }
        ssize_t got = recv_all(fd, echo, chunk); /* Python: s.recv(1024) */
        if (got < 0) {
            fprintf(stderr, "client: recv: %s\n", strerror(errno));
            return -1;
        }
        if ((size_t)got < chunk) {
            fprintf(stderr, "client: the server closed the connection\n");
            return -1;
        }
        fwrite(echo, 1, chunk, stdout);
        line += chunk;
        len -= chunk;
    }
    return 0;
}

/* Receive exactly `len` bytes: recv() returns whatever has arrived so
 * far, which may be less than asked. Returns `len`, or fewer if the
 * server closed the connection first, or -1 with errno set. */
static ssize_t
recv_all(int fd, void *buf, size_t len)
{
    /* lab:begin recv_all */
    char *p = buf;
    /* slide:begin recv_all */
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    /* slide:end recv_all */
    return (ssize_t)got;
    /* lab:end recv_all */
}
