/*
 * 03_multiclient/server_epoll.c - server_poll.c with Linux's epoll in
 * place of poll(). The loop is the same: one thread, every socket
 * non-blocking, wait until some are ready and handle those. What
 * changes is the waiting. poll() is handed every socket at every call,
 * and the loop scans them all for the few that are ready; here the
 * kernel keeps the set of watched sockets between calls (an epoll
 * instance, filled with epoll_ctl()), and epoll_wait() returns only
 * the sockets that are ready. With 10,000 idle clients and one busy
 * one, that is one socket per wakeup instead of 10,001 (see README).
 *
 * What to look at: main(), the event loop; watch(), the one place that
 * tells the kernel what to report; and the data pointer each event
 * carries back, which leads straight to its client's state. Compare:
 *     diff -u server_poll.c server_epoll.c
 * Level-triggered, like poll(): a socket is reported for as long as it
 * is ready. (README: edge-triggered, and its trap.) Linux only: the
 * Makefile builds it where <sys/epoll.h> exists.
 *
 * Run:   ./server_epoll [PORT]   (default 9003; 0 picks any free port)
 * Then:  ./client localhost 9003   in as many terminals as you like.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9003"
#define BUF_SIZE 16384       /* bytes per recv(), and most unsent */
#define ACCEPT_PAUSE_MS 1000 /* rest after running out of fds */
#define MAX_EVENTS 64        /* ready sockets taken per epoll_wait() */

const char program_name[] = "server_epoll";

/* One watched socket, a connected client or the listener, and the part
 * of its echo the client has not taken. The kernel hands this struct's
 * address back with each of its events (data.ptr): no parallel array. */
struct client {
    int fd;
    uint32_t events; /* what watch() last asked the kernel to report */
    char peer[ADDR_STR_SIZE];
    char *unsent; /* NULL, or unsent_len bytes still to send */
    size_t unsent_len;
    struct client *prev, *next; /* in the list of every socket */
};

/* Every socket the loop watches. The kernel keeps the set, in the
 * epoll instance epoll_fd; the server's own list is only for letting
 * go of them all (the kernel never hands the set back). The listener
 * is in the list too, last. */
struct watch_list {
    int epoll_fd;
    struct client *listener;
    struct client *first;
    long long resume_accept_ms; /* paused listener: when to resume */
};

static int wait_timeout(const struct watch_list *list);
static long long now_ms(void);
static int set_nonblocking(int fd);
static int watch(struct watch_list *list, int op, struct client *c,
                 uint32_t want);
static struct client *add_socket(struct watch_list *list, int fd,
                                 const char *peer);
static void drop_client(struct watch_list *list, struct client *c);
static int accept_new_clients(struct watch_list *list);
static void serve_ready_client(struct watch_list *list, struct client *c);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_signal_handlers();

    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;
    /* slide:begin epoll_create */
    /* The epoll instance: the kernel's set of watched sockets, kept
     * from one call to the next. (The argument is for flags: none.) */
    struct watch_list list = {epoll_create1(0), NULL, NULL, 0};
    /* slide:end epoll_create */
    if (list.epoll_fd < 0) {
        fprintf(stderr, "%s: epoll_create1: %s\n", program_name,
                strerror(errno));
        return 1;
    }
    if (set_nonblocking(listen_fd) < 0 ||
        (list.listener = add_socket(&list, listen_fd, "")) == NULL)
        return 1;

    for (;;) {
        /* slide:begin epoll_wait */
        /* Wait until at least one socket is ready: the heart of this
         * server. Only the ready ones come back, up to MAX_EVENTS (any
         * more are reported by the next call). */
        struct epoll_event ready[MAX_EVENTS];
        int count =
            epoll_wait(list.epoll_fd, ready, MAX_EVENTS, wait_timeout(&list));
        if (count < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: epoll_wait: %s\n", program_name,
                    strerror(errno));
            break;
        }
        /* slide:end epoll_wait */

        if (list.listener->events == 0 && wait_timeout(&list) == 0 &&
            watch(&list, EPOLL_CTL_MOD, list.listener, EPOLLIN) < 0) {
            fprintf(stderr, "%s: epoll_ctl: %s\n", program_name,
                    strerror(errno));
            break; /* the pause is over, but accepting cannot resume */
        }
        /* slide:begin epoll_dispatch */
        /* Each event brings back the pointer watch() gave the kernel.
         * Serving a client drops at most that one, and no socket comes
         * twice in `ready`: the pointers still to come stay valid. */
        for (int i = 0; i < count; i++) {
            struct client *c = ready[i].data.ptr;
            if (c != list.listener)
                serve_ready_client(&list, c);
            else if (accept_new_clients(&list) < 0)
                goto close_everything;
        }
        /* slide:end epoll_dispatch */
    }

close_everything:
    /* Only a fatal error ends the loop. Let go of everything. */
    while (list.first != NULL)
        drop_client(&list, list.first); /* the listener last */
    close(list.epoll_fd);
    return 1;
}

/*** The watch list ***/

/* Tell the kernel which events of c's socket to report (`want`): EPOLLIN
 * (readable), EPOLLOUT (writable) or none (0), with op EPOLL_CTL_ADD
 * for a new socket, EPOLL_CTL_MOD for one already watched. No EPOLLET:
 * level-triggered, so a socket with bytes left unread is reported
 * again by the next epoll_wait(). Returns 0, or -1 with errno set. */
/* slide:begin watch */
static int
watch(struct watch_list *list, int op, struct client *c, uint32_t want)
{
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = want;
    event.data.ptr = c; /* what epoll_wait() will hand back */
    if (epoll_ctl(list->epoll_fd, op, c->fd, &event) < 0)
        return -1;
    c->events = want;
    return 0;
}
/* slide:end watch */

/* Add a socket to watch for input. Returns its struct client, or NULL
 * after printing why. */
static struct client *
add_socket(struct watch_list *list, int fd, const char *peer)
{
    struct client *c = malloc(sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "%s: out of memory\n", program_name);
        return NULL;
    }
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->unsent = NULL;
    c->unsent_len = 0;
    if (watch(list, EPOLL_CTL_ADD, c, EPOLLIN) < 0) {
        fprintf(stderr, "%s: epoll_ctl: %s\n", program_name, strerror(errno));
        free(c);
        return NULL;
    }
    c->prev = NULL;
    c->next = list->first;
    if (list->first != NULL)
        list->first->prev = c;
    list->first = c;
    return c;
}

/* Stop watching a client, close it and forget it. */
static void
drop_client(struct watch_list *list, struct client *c)
{
    /* Out of the kernel's set first. close() alone takes it out only
     * when no other descriptor refers to the socket (after dup() or
     * fork() one may), and then events for it would keep coming. */
    epoll_ctl(list->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->unsent);
    if (c == list->first)
        list->first = c->next;
    else
        c->prev->next = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
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
    int listen_fd = list->listener->fd;
    for (;;) {
        char peer[ADDR_STR_SIZE];
        int fd = accept_client(listen_fd, peer, sizeof peer);
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (fd < 0 && is_temporary_accept_error(errno)) {
            list->resume_accept_ms = now_ms() + ACCEPT_PAUSE_MS;
            if (watch(list, EPOLL_CTL_MOD, list->listener, 0) == 0)
                return 0; /* paused */
            fprintf(stderr, "%s: epoll_ctl: %s\n", program_name,
                    strerror(errno));
            return -1;
        }
        if (fd < 0)
            return -1;
        if (set_nonblocking(fd) < 0 || add_socket(list, fd, peer) == NULL) {
            fprintf(stderr, "%s error: cannot serve this client\n", peer);
            close(fd);
        }
    }
}

/* How long epoll_wait() may wait, in milliseconds: for ever (-1), or,
 * while the listener is paused, until the pause is over. */
static int
wait_timeout(const struct watch_list *list)
{
    if (list->listener->events != 0)
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
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        fprintf(stderr, "%s: fcntl O_NONBLOCK: %s\n", program_name,
                strerror(errno));
        return -1;
    }
    return 0;
}

/*** Echoing ***/

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
 * "ready to send" (EPOLLOUT) instead of "ready to read" (EPOLLIN): no
 * more reading from it until it takes them. Returns 0, or -1 with errno
 * set. */
static int
keep_unsent(struct watch_list *list, struct client *c, const char *buf,
            size_t len)
{
    c->unsent = malloc(len);
    if (c->unsent == NULL)
        return -1;
    memcpy(c->unsent, buf, len);
    c->unsent_len = len;
    return watch(list, EPOLL_CTL_MOD, c, EPOLLOUT);
}

/* Client c is ready: readable, writable, closed, or in error. Do what
 * can be done without blocking, and drop it if it has gone. */
static void
serve_ready_client(struct watch_list *list, struct client *c)
{
    int fd = c->fd;

    if (c->unsent != NULL) { /* it was not taking its echo: try again */
        ssize_t n = send_some(fd, c->unsent, c->unsent_len);
        if (n < 0) {
            fprintf(stderr, "%s error: send: %s\n", c->peer, strerror(errno));
            drop_client(list, c);
        } else if ((size_t)n == c->unsent_len) {
            free(c->unsent);
            c->unsent = NULL;
            /* read from it again */
            if (watch(list, EPOLL_CTL_MOD, c, EPOLLIN) < 0) {
                fprintf(stderr, "%s error: epoll_ctl: %s\n", c->peer,
                        strerror(errno));
                drop_client(list, c);
            }
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
        drop_client(list, c);
        return;
    }

    ssize_t sent = send_some(fd, buf, (size_t)n);
    if (sent < 0) {
        fprintf(stderr, "%s error: send: %s\n", c->peer, strerror(errno));
        drop_client(list, c);
    } else if (sent < n &&
               keep_unsent(list, c, buf + sent, (size_t)(n - sent)) < 0) {
        fprintf(stderr, "%s error: cannot keep its echo: %s\n", c->peer,
                strerror(errno));
        drop_client(list, c);
    }
}
