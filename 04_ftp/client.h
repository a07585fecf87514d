/*
 * client.h - what the client's files share: client.c (the shell and its
 * table of commands), client_requests.c (a request and its reply),
 * client_transfer.c (get and put) and client_progress.c (the progress
 * line).
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <sys/types.h>

#include "proto.h"

#define LOCAL_PATH_SIZE 4096 /* bytes in a local path: Linux's PATH_MAX */

/* What every command returns. */
enum { DONE = 0, FAILED = 1, CONNECTION_LOST = -1 };

/* A command of the shell (client.c): its word, the function that runs
 * it, and its line in `help`. */
struct client_command {
    const char *word;
    int (*run)(struct reader *server, const char *arg);
    const char *usage, *help;
};

/*** client_requests.c: talking to the server ***/

/* Each command of the shell gets the connection and the rest of its
 * line ("" when there is none), and returns DONE, FAILED or
 * CONNECTION_LOST. */
int cmd_ls(struct reader *server, const char *arg);
int cmd_cd(struct reader *server, const char *arg);
int cmd_pwd(struct reader *server, const char *arg);
int cmd_delete(struct reader *server, const char *arg);
int cmd_mkdir(struct reader *server, const char *arg);
int cmd_quit(struct reader *server, const char *arg);

int read_reply(struct reader *server, char *reply, size_t size,
               const char *allowed);
int request_not_sent(struct reader *server, const char *command,
                     const char *name);
int print_reply(struct reader *server);
int needs_arg(const char *arg, const char *usage);
int request_listing(struct reader *server, const char *dir, off_t *count);

/* One entry of a listing. */
struct entry {
    char type; /* d, f, l or o: see PROTOCOL.md */
    off_t size;
    const char *name;
};

int read_entry(struct reader *server, char *line, size_t size, struct entry *e);

/*** client_transfer.c: get and put ***/

/* A progress line of the caller's own, drawn in place of the file's
 * (NULL: the file's). draw() writes into `line` what to show once
 * `have` of the file's bytes are done, in at most `width` columns; arg
 * is the caller's. With one, get_file() and put_file() leave the
 * "received ..."/"sent ..." line to the caller too. */
struct progress_line {
    void (*draw)(const char *name, off_t have, const void *arg, char *line,
                 size_t size, int width);
    const void *arg;
};

const char *local_name(const char *remote);
int get_file(struct reader *server, const char *remote, const char *local,
             const struct progress_line *own);
int put_file(struct reader *server, const char *local, const char *remote,
             const struct progress_line *own);

int cmd_get(struct reader *server, const char *arg);
int cmd_put(struct reader *server, const char *arg);

/*** client_progress.c: the progress line ***/

/* Shown on a terminal only, at most ten times a second. */
struct progress {
    const char *name;
    off_t total, start;    /* start: bytes we had before this transfer */
    double started, shown; /* seconds, on a monotonic clock */
    int visible;           /* stderr is a terminal (asked once, not per
                              chunk: a system call each time adds up) */
    int drawn;             /* columns the last line drawn took */
    const struct progress_line *own; /* or NULL */
};

void progress_begin(struct progress *p, const char *name, off_t start,
                    off_t total, const struct progress_line *own);
void progress_show(off_t done, void *arg); /* a progress_fn (proto.h) */
int fitting_bytes(const char *name, int columns);

#endif
