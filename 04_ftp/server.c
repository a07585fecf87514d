/*
 * 04_ftp/server.c - a file server: clients list, download, upload and
 * delete files in one directory tree, ROOT, over the protocol written
 * down in PROTOCOL.md.
 *
 * What to look at: main() is stage 03's server_fork with a file
 * protocol in place of the echo: open ROOT, listen, and for each client
 * a process of its own (see README for why), which runs serve_session()
 * in session.c. The children, their reaping and the signals below
 * main() are server_fork's. The command line is in server_options.c,
 * the protocol's framing in proto.c, and the defence against names that
 * try to leave ROOT in paths.c.
 *
 * Run:   ./server [-d ROOT] [-t SECONDS] [PORT]   (default ROOT
 *        ./ftp_root, created if missing; -t 300; default PORT 9004; 0
 *        picks any free port; ./server -h lists all)
 * Then:  ./client localhost 9004   in another terminal.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "net.h"
#include "proto.h"
#include "server_options.h"
#include "session.h"

const char program_name[] = "server";

static int open_root(const char *root);
static int sessions_running(void);
static void fork_session(int listen_fd, int client_fd, int root_fd,
                         const char *peer, int idle_timeout_s);
static void install_fork_signal_handlers(void);
static void block_signals(int block);
static int remember_child(pid_t pid);
static void become_child(void);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    struct options opt;
    parse_options(argc, argv, &opt); /* server_options.c */
    install_fork_signal_handlers();

    int root_fd = open_root(opt.root);
    if (root_fd < 0)
        return 1;
    if (server_hooks.start != NULL && server_hooks.start(root_fd) < 0)
        return 1;
    int listen_fd = open_listener(opt.port);
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

        if (server_hooks.admit == NULL ||
            server_hooks.admit(client_fd, peer, sessions_running()))
            fork_session(listen_fd, client_fd, root_fd, peer,
                         opt.idle_timeout_s);

        /* The parent: the child has its own copy of the client's
         * socket. Closing ours does not end the connection (that
         * happens when the last copy closes), and without it each
         * client would leak a descriptor here. */
        close(client_fd);
    }
}

/*** ROOT ***/

/* Open the directory to serve, creating it if missing. Every file a
 * client names is opened relative to this descriptor (paths.c).
 * Returns it, or -1 after printing why. */
static int
open_root(const char *root)
{
    if (mkdir(root, 0755) == 0)
        fprintf(stderr, "created %s\n", root);
    else if (errno != EEXIST) {
        fprintf(stderr, "server: mkdir %s: %s\n", root, strerror(errno));
        return -1;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        fprintf(stderr, "server: %s: %s\n", root, strerror(errno));
        return -1;
    }
    fprintf(stderr, "serving %s\n", root);
    return fd;
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

/* How many sessions (children) are running, for a hook (hooks.h). */
static int
sessions_running(void)
{
    int running = 0;
    block_signals(1); /* the table is the signal handlers' too */
    for (size_t i = 0; i < children_size; i++)
        running += children[i] != 0;
    block_signals(0);
    return running;
}

/* Start a child to serve the client; the parent goes back to accept().
 * The child is a copy of the parent, sockets included. It serves this
 * one client and never accepts, so it closes its copy of the listening
 * socket. */
static void
fork_session(int listen_fd, int client_fd, int root_fd, const char *peer,
             int idle_timeout_s)
{
    /* Our signal handlers read the table of children: keep them out
     * until the new child is in it. */
    block_signals(1);
    pid_t pid = fork();
    if (pid == 0) {
        become_child();
        close(listen_fd);
        serve_session(client_fd, root_fd, peer, idle_timeout_s);
        close(client_fd);
        _exit(0); /* not exit(): see become_child() */
    }
    if (pid < 0)
        fprintf(stderr, "%s error: fork: %s\n", peer, strerror(errno));
    else if (remember_child(pid) < 0)
        fprintf(stderr, "%s: out of memory for the table of children\n",
                program_name);
    block_signals(0);
}

/*** Signals ***/

/* SIGCHLD: one or more children have exited. Until the parent collects
 * ("reaps") a child's exit status with waitpid(), the child stays in
 * the process table as a zombie. One SIGCHLD may stand for several
 * exits, so reap in a loop until none is left; WNOHANG makes waitpid()
 * return 0 instead of waiting for children still running. waitpid() may
 * set errno, which the code this handler interrupted may be about to
 * read: save and restore it. */
static void
on_child_exit(int sig)
{
    (void)sig;
    int saved_errno = errno;
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
        for (size_t i = 0; i < children_size; i++)
            if (children[i] == pid)
                children[i] = 0;
    }
    errno = saved_errno;
}

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
