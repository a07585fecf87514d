/*
 * 03_multiclient/server_fork.c - the echo server, one process per
 * client: after accept(), fork() makes a copy of the server, the copy
 * (the child) serves that one client and exits, and the original (the
 * parent) goes straight back to accept(). The classic Unix design of
 * inetd and early Apache; Python's ForkingTCPServer.
 *
 * What to look at: start_child(), where each process closes the socket
 * it does not need; on_child_exit(), which reaps children so that none is left
 * a zombie; and the table of children, which lets the parent stop them
 * all when it is stopped itself.
 *
 * Run:   ./server_fork [PORT]   (default 9003; 0 picks any free port)
 * Then:  ./client localhost 9003   in as many terminals as you like,
 * and watch the processes with: ps --forest -C server_fork
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define DEFAULT_PORT "9003"

const char program_name[] = "server_fork";

static void install_fork_signal_handlers(void);
static void block_signals(int block);
static int remember_child(pid_t pid);
static void become_child(void);
static pid_t start_child(int listen_fd, int client_fd, const char *peer);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *port = parse_server_args(argc, argv, DEFAULT_PORT);
    install_fork_signal_handlers();

    int listen_fd = open_listener(port);
    if (listen_fd < 0)
        return 1;

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

        /* Our signal handlers read the table of children: keep them
         * out until the new child is in it. */
        block_signals(1);
        pid_t pid = start_child(listen_fd, client_fd, peer);
        if (pid > 0 && remember_child(pid) < 0)
            fprintf(stderr, "%s: out of memory for the table of children\n",
                    program_name);
        block_signals(0);
    }
}

/* Fork a child that serves the client and exits; the parent goes on.
 * Returns the child's PID in the parent, or -1 after printing why. */
static pid_t
start_child(int listen_fd, int client_fd, const char *peer)
{
    /* lab:begin fork */
    /* slide:begin fork */
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: a copy of the parent, sockets included. It serves
         * this one client and never accepts, so it closes its copy of
         * the listening socket. */
        become_child();
        close(listen_fd);
        serve_client(client_fd, peer);
        close(client_fd); /* (_exit() would close it too) */
        _exit(0);         /* not exit(): see become_child() */
    }
    /* slide:end fork */
    if (pid < 0)
        fprintf(stderr, "%s error: fork: %s\n", peer, strerror(errno));

    /* The parent: the child has its own copy of the client's socket.
     * Closing ours does not end the connection (that happens when the
     * last copy closes), and without it each client would leak a
     * descriptor here. */
    close(client_fd);
    return pid;
    /* lab:end fork */
}

/*** Children ***/

/* The PIDs of the children still running; 0 marks a free slot. The
 * parent needs them to stop its children when it is stopped (a child
 * serving a client would otherwise carry on alone). Both signal
 * handlers use the table, so main() changes it only with those signals
 * blocked. */
static pid_t *children;
static size_t children_size;

/* Record a new child. Returns 0, or -1 when out of memory. */
static int
remember_child(pid_t pid)
{
    for (size_t i = 0; i < children_size; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return 0;
        }
    }
    size_t new_size = children_size == 0 ? 64 : 2 * children_size;
    pid_t *grown = realloc(children, new_size * sizeof *grown);
    if (grown == NULL)
        return -1;
    memset(grown + children_size, 0,
           (new_size - children_size) * sizeof *grown);
    grown[children_size] = pid;
    children = grown;
    children_size = new_size;
    return 0;
}

/* A child has exited and been reaped: free its slot. Called from the
 * SIGCHLD handler. */
static void
forget_child(pid_t pid)
{
    for (size_t i = 0; i < children_size; i++)
        if (children[i] == pid)
            children[i] = 0;
}

/*** Signals ***/

/* SIGCHLD: one or more children have exited. Until the parent collects
 * ("reaps") a child's exit status with waitpid(), the child stays in
 * the process table as a zombie. One SIGCHLD may stand for several
 * exits, so reap in a loop until none is left; WNOHANG makes waitpid()
 * return 0 instead of waiting for children still running. waitpid() may
 * set errno, which the code this handler interrupted may be about to
 * read: save and restore it. */
/* slide:begin reap */
static void
on_child_exit(int sig)
{
    (void)sig;
    /* lab:begin reap */
    int saved_errno = errno;
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        forget_child(pid);
    errno = saved_errno;
    /* lab:end reap */
}
/* slide:end reap */

/* SIGINT (Ctrl-C) and SIGTERM (kill) mean "stop now", for the children
 * too: send each one SIGTERM, then exit with status 0. kill() and
 * _exit() are both safe in a signal handler. */
static void
stop_children_and_exit(int sig)
{
    (void)sig;
    for (size_t i = 0; i < children_size; i++)
        if (children[i] > 0)
            kill(children[i], SIGTERM);
    _exit(0);
}

/* net.c's handlers (SIGPIPE ignored, exit on SIGINT and SIGTERM), with
 * two changes for a parent of children: reap them, and stop them. */
static void
install_fork_signal_handlers(void)
{
    install_signal_handlers();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);

    /* SA_RESTART: a system call that SIGCHLD interrupts (accept(), in
     * the parent) resumes instead of failing with EINTR. SA_NOCLDSTOP:
     * no SIGCHLD when a child is merely stopped (Ctrl-Z). */
    sa.sa_handler = on_child_exit;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);

    sa.sa_handler = stop_children_and_exit;
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Block (1) or unblock (0) the three signals whose handlers read the
 * table of children. A blocked signal is not lost: it waits, and is
 * delivered as soon as it is unblocked. */
static void
block_signals(int block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* In a new child: the parent's handlers are not for it. It has no
 * children of its own (its copy of the table lists its brothers and
 * sisters), and SIGINT or SIGTERM should simply end it: net.c's
 * handlers, as in every program here. Then let signals in.
 * A child ends with _exit(), not exit(): exit() would also flush the
 * stdio buffers it copied from the parent, printing their contents a
 * second time, and run the parent's atexit() handlers again. */
static void
become_child(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    install_signal_handlers();
    block_signals(0);
}
