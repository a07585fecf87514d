/*
 * 03_multiclient/server.c - the echo server of stage 02, serving every
 * client at once: each client gets a thread of its own, and the main
 * thread goes straight back to accept(). This is what Python's
 * SocketServer.ThreadingTCPServer does for you.
 *
 * What to look at: main(), start_client_thread(), and count_clients(),
 * where threads share a variable. Compare:
 *     diff -u ../02_persistent_server/server.c server.c
 * serve_client() (net.c) is unchanged: it still blocks in recv(), but
 * now it blocks only its own thread. The other two ways to serve many
 * clients are server_fork.c (a process per client) and server_poll.c
 * (one thread watching every client with poll()).
 *
 * Run:   ./server [PORT]        (default 9003; 0 picks any free port)
 * Then:  ./client localhost 9003   in as many terminals as you like.
 */
#include <sys/types.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9003"

const char program_name[] = "server";

static int start_client_thread(int client_fd, const char *peer);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_signal_handlers();

    /* slide:begin main */
    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;

    /* When a client leaves, accept the next one.
     * Python: while True: conn, addr = s.accept() */
    /* slide:begin clients */
    for (;;) {
        char peer[ADDR_STR_SIZE];
        int client_fd = accept_client(listen_fd, peer, sizeof peer);
        if (client_fd < 0 && is_temporary_accept_error(errno)) {
            sleep(1); /* out of descriptors: let some clients leave */
            continue;
        }
        if (client_fd < 0) {
            close(listen_fd);
            return 1;
        }
        /* New in stage 03: a thread serves the client, and this loop
         * goes straight back to accept() for the next one. */
        if (start_client_thread(client_fd, peer) != 0)
            close(client_fd);
    }
    /* slide:end clients */
    /* slide:end main */
}

/*** One thread per client ***/

/* What a client's thread needs. main() reuses its variables for the
 * next client at once, so each thread gets a copy of its own. */
struct client {
    int fd;
    char peer[ADDR_STR_SIZE];
};

/* How many clients are being served now, logged as each one comes and
 * goes. Every client's thread changes it, and the threads run at the
 * same time: without the mutex two of them could read the same old
 * value, and one change would be lost (`clients_now++` is a load, an
 * add and a store). */
static int clients_now;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;

/* Add change (+1 or -1) to the count, and log the new count. The log
 * line is written under the lock too: otherwise a thread could count
 * 1, another 0, and the 0 be logged first. */
/* slide:begin count_clients */
static void
count_clients(int change)
{
    /* lab:begin count_clients */
    pthread_mutex_lock(&clients_lock);
    clients_now += change;
    fprintf(stderr, "clients now: %d\n", clients_now);
    pthread_mutex_unlock(&clients_lock);
    /* lab:end count_clients */
}
/* slide:end count_clients */

/* The body of each client's thread: serve, close, free, and end. */
/* slide:begin client_thread */
static void *
client_thread(void *arg)
{
    struct client *client = arg;
    count_clients(+1);
    serve_client(client->fd, client->peer);
    close(client->fd);
    free(client);
    count_clients(-1);
    return NULL;
}
/* slide:end client_thread */

/* Start a detached thread that serves the client. Detached: nobody will
 * pthread_join() it, so its resources are freed as soon as it ends
 * (a joinable thread that is never joined leaks, like a zombie process).
 * Returns 0, or -1 after printing why; the caller then closes the
 * client's socket. */
static int
start_client_thread(int client_fd, const char *peer)
{
    struct client *client = malloc(sizeof *client);
    if (client == NULL) {
        fprintf(stderr, "%s error: out of memory\n", peer);
        return -1;
    }
    client->fd = client_fd;
    snprintf(client->peer, sizeof client->peer, "%s", peer);

    /* lab:begin start_thread */
    /* slide:begin thread_start */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int err = pthread_create(&thread, &attr, client_thread, client);
    pthread_attr_destroy(&attr);
    /* slide:end thread_start */
    if (err != 0) { /* pthread functions return the error, not errno */
        fprintf(stderr, "%s error: pthread_create: %s\n", peer, strerror(err));
        free(client);
        return -1;
    }
    return 0;
    /* lab:end start_thread */
}
