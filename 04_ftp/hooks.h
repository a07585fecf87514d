/*
 * hooks.h - the one door in this program for code built on top of it.
 * The server and the client call the hooks below at a few fixed
 * points. no_hooks.c leaves every hook empty (NULL), and an empty hook
 * is skipped: that is the program as the README teaches it, and what
 * `make part1` builds. A build that adds features links a file that
 * fills the tables instead of no_hooks.c (the Makefile says which).
 */
#ifndef HOOKS_H
#define HOOKS_H

#include <sys/types.h>
#include <stddef.h>
#include <stdio.h>

struct session;
struct request;
struct command_word;
struct client_command;

/*** The server ***/

struct server_hooks {
    /* More command-line options: their getopt() letters ("u:w:m:"),
     * their words in the usage's first line, what prints their lines
     * below it, and what each does (0, or -1 for a usage error). */
    const char *option_letters;
    const char *synopsis;
    void (*usage)(FILE *out);
    int (*option)(int letter, const char *arg);
    /* Once ROOT is open, before listen(): 0, or -1 to stop the server. */
    int (*start)(int root_fd);
    /* In the parent, before it forks a session for a new client, with
     * the number of sessions running: 1 to go ahead, 0 if the hook has
     * turned the client away. */
    int (*admit)(int client_fd, const char *peer, int running);
    /* More requests: a table ended by a NULL word, and what carries
     * them out (their numbers are CMD_MORE and up). */
    const struct command_word *commands;
    int (*carry_out)(struct session *s, const struct request *req);
    /* Before every request: NULL to go ahead, or the reply refusing it. */
    const char *(*refusal)(const struct session *s, const struct request *req);
    /* Before a put's data, for `need` more bytes: 1 to go ahead, or what
     * the reply refusing it returned (0, or -1); and after the data,
     * whatever happened to it. */
    int (*before_upload)(struct session *s, off_t need);
    void (*after_upload)(struct session *s);
    /* Rewrite the copy of a request that the log shows. */
    void (*log_request)(char *request, size_t size);
};

extern const struct server_hooks server_hooks;

/*** The client ***/

struct client_hooks {
    /* More commands for the shell, looked up before its own (a command
     * here may replace one of them): `count` of them. */
    const struct client_command *commands;
    size_t count;
};

extern const struct client_hooks client_hooks;

#endif
