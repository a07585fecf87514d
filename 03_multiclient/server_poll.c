/*
 * 03_multiclient/server_poll.c - the echo server, every client served by
 * one thread: poll() waits until any of the sockets is ready, and the
 * loop handles whichever are. No call ever blocks, so no client can
 * hold up another. This is the design of nginx, Redis and Node.js,
 * with epoll or kqueue instead of poll: server_epoll.c is this server
 * with epoll, and README says why it matters.
 *
 * What to look at: main(), the event loop; serve_ready_client(), which
 * reads and echoes without blocking; and `unsent`, the echo bytes a
 * client has not taken yet. While a client has unsent bytes the server
 * stops reading from it, so a client that sends without reading can
 * cost the server at most BUF_SIZE bytes, however much it sends.
 *
 * Run:   ./server_poll [PORT]   (default 9003; 0 picks any free port)
 * Then:  ./client localhost 9003   in as many terminals as you like.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9003"
#define BUF_SIZE 16384       /* bytes per recv(), and most unsent */
#define ACCEPT_PAUSE_MS 1000 /* rest after running out of fds */
#define LISTENER 0           /* the listening socket's slot */

const char program_name[] = "server_poll";

/* One connected client, and the part of its echo it has not taken. */
struct client {
    char peer[ADDR_STR_SIZE];
    char *unsent; /* NULL, or unsent_len bytes still to send */
    size_t unsent_len;
};

/* Every socket the loop watches. poll() takes an array of struct pollfd,
 * so the clients' other state sits in a parallel array: client[i]
 * belongs to watch[i]. Slot 0 is the listening socket. Both arrays
 * grow as needed: there is no fixed limit on the number of clients. */
struct watch_list {
    struct pollfd *watch;
    struct client *client;
    size_t count, size;
    long long resume_accept_ms; /* paused listener: when to resume */
};

static int poll_timeout(const struct watch_list *list);
static long long now_ms(void);
static int set_nonblocking(int fd);
static int add_socket(struct watch_list *list, int fd, const char *peer);
static void drop_client(struct watch_list *list, size_t i);
static int accept_new_clients(struct watch_list *list);
static void serve_ready_client(struct watch_list *list, size_t i);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_signal_handlers();

    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;
    struct watch_list list = {NULL, NULL, 0, 0, 0};
    if (set_nonblocking(listen_fd) < 0 ||
        add_socket(&list, listen_fd, "") < 0) {
        free(list.watch); /* one of them may have been allocated */
        free(list.client);
        return 1;
    }

    for (;;) {
        /* slide:begin poll_wait */
        /* Wait until at least one socket is ready: the heart of this
         * server. */
        if (poll(list.watch, list.count, poll_timeout(&list)) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: poll: %s\n", program_name, strerror(errno));
            break;
        }
        /* slide:end poll_wait */

        if (list.watch[LISTENER].events == 0 && poll_timeout(&list) == 0)
            list.watch[LISTENER].events = POLLIN; /* the pause is over */
        /* slide:begin poll_dispatch */
        if ((list.watch[LISTENER].revents & POLLIN) &&
            accept_new_clients(&list) < 0)
            break;

        /* From the end down: dropping client i moves the last client
         * into slot i, and that one has already had its turn. */
        for (size_t i = list.count - 1; i > LISTENER; i--)
            if (list.watch[i].revents != 0)
                serve_ready_client(&list, i);
        /* slide:end poll_dispatch */
    }

    /* Only a fatal error ends the loop. Let go of everything. */
    while (list.count > 0)
        drop_client(&list, list.count - 1); /* the listener last */
    free(list.watch);
    free(list.client);
    return 1;
}

/*** The watch list ***/

/* Add a socket to watch for input. Returns 0, or -1 after printing
 * why. */
static int
add_socket(struct watch_list *list, int fd, const char *peer)
{
    if (list->count == list->size) {
        size_t new_size = list->size == 0 ? 64 : 2 * list->size;
        struct pollfd *watch =
            realloc(list->watch, new_size * sizeof *list->watch);
        if (watch != NULL)
            list->watch = watch;
        struct client *client =
            realloc(list->client, new_size * sizeof *list->client);
        if (client != NULL)
            list->client = client;
        if (watch == NULL || client == NULL) {
            fprintf(stderr, "%s: out of memory\n", program_name);
            return -1;
        }
        list->size = new_size;
    }
    size_t i = list->count++;
    list->watch[i].fd = fd;
    list->watch[i].events = POLLIN;
    list->watch[i].revents = 0; /* not ready until the next poll() */
    snprintf(list->client[i].peer, sizeof list->client[i].peer, "%s", peer);
    list->client[i].unsent = NULL;
    list->client[i].unsent_len = 0;
    return 0;
}

/* Close client i and forget it: the last client moves into its slot. */
static void
drop_client(struct watch_list *list, size_t i)
{
    close(list->watch[i].fd);
    free(list->client[i].unsent);
    list->count--;
    list->watch[i] = list->watch[list->count];
    list->client[i] = list->client[list->count];
}

/*** Accepting ***/

/* Accept every client waiting (the listening socket is non-blocking:
 * accept() says EAGAIN when nobody is left). Out of descriptors, stop
 * watching the listener for ACCEPT_PAUSE_MS; the clients waiting stay
 * queued in the kernel, and the loop serves the others meanwhile.
 * Returns 0, or -1 on an error that should stop the server. */
static int
accept_new_clients(struct watch_list *list)
{
    int listen_fd = list->watch[LISTENER].fd;
    for (;;) {
        char peer[ADDR_STR_SIZE];
        int fd = accept_client(listen_fd, peer, sizeof peer);
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (fd < 0 && is_temporary_accept_error(errno)) {
            list->watch[LISTENER].events = 0; /* pause */
            list->resume_accept_ms = now_ms() + ACCEPT_PAUSE_MS;
            return 0;
        }
        if (fd < 0)
            return -1;
        if (set_nonblocking(fd) < 0 || add_socket(list, fd, peer) < 0) {
            fprintf(stderr, "%s error: cannot serve this client\n", peer);
            close(fd);
        }
    }
}

/* How long poll() may wait, in milliseconds: for ever (-1), or, while
 * the listener is paused, until the pause is over. */
static int
poll_timeout(const struct watch_list *list)
{
    if (list->watch[LISTENER].events != 0)
        return -1;
    long long left = list->resume_accept_ms - now_ms();
    return left > 0 ? (int)left : 0;
}

/* Milliseconds on a clock that only moves forward (the time of day can
 * jump when someone sets it). */
static long long
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/* Make recv(), send() and accept() on fd return at once, with errno
 * EAGAIN, instead of waiting. Returns 0, or -1 after printing why. */
static int
set_nonblocking(int fd)
{
    /* slide:begin set_nonblocking */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        fprintf(stderr, "%s: fcntl O_NONBLOCK: %s\n", program_name,
                strerror(errno));
        return -1;
    }
    return 0;
    /* slide:end set_nonblocking */
}

/*** Echoing ***/

/* lab:begin serve_ready */
/* Send what the kernel takes now. Returns the bytes sent (maybe 0), or
 * -1 on a real error; EAGAIN means "socket buffer full", not an
 * error. */
static ssize_t
send_some(int fd, const char *buf, size_t len)
{
    ssize_t n = send(fd, buf, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return n;
}

/* Keep the echo bytes the kernel did not take, and watch the client for
 * "ready to send" (POLLOUT) instead of "ready to read" (POLLIN): no more
 * reading from it until it takes them. Returns 0, or -1 when out of
 * memory. */
static int
keep_unsent(struct watch_list *list, size_t i, const char *buf, size_t len)
{
    struct client *c = &list->client[i];
    c->unsent = malloc(len);
    if (c->unsent == NULL)
        return -1;
    memcpy(c->unsent, buf, len);
    c->unsent_len = len;
    list->watch[i].events = POLLOUT;
    return 0;
}

/* Client i is ready: readable, writable, closed, or in error. Do what
 * can be done without blocking, and drop it if it has gone. */
static void
serve_ready_client(struct watch_list *list, size_t i)
{
    struct client *c = &list->client[i];
    int fd = list->watch[i].fd;

    if (c->unsent != NULL) { /* it was not taking its echo: try again */
        ssize_t n = send_some(fd, c->unsent, c->unsent_len);
        if (n < 0) {
            fprintf(stderr, "%s error: send: %s\n", c->peer, strerror(errno));
            drop_client(list, i);
        } else if ((size_t)n == c->unsent_len) {
            free(c->unsent);
            c->unsent = NULL;
            list->watch[i].events = POLLIN; /* read from it again */
        } else {
            memmove(c->unsent, c->unsent + n, c->unsent_len - (size_t)n);
            c->unsent_len -= (size_t)n;
        }
        return;
    }

    char buf[BUF_SIZE];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* nothing there after all */
    if (n <= 0) {
        if (n == 0)
            fprintf(stderr, "%s disconnected\n", c->peer);
        else
            fprintf(stderr, "%s error: recv: %s\n", c->peer, strerror(errno));
        drop_client(list, i);
        return;
    }

    ssize_t sent = send_some(fd, buf, (size_t)n);
    if (sent < 0) {
        fprintf(stderr, "%s error: send: %s\n", c->peer, strerror(errno));
        drop_client(list, i);
    } else if (sent < n &&
               keep_unsent(list, i, buf + sent, (size_t)(n - sent)) < 0) {
        fprintf(stderr, "%s error: out of memory\n", c->peer);
        drop_client(list, i);
    }
}
/* lab:end serve_ready */
