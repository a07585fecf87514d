/*
 * server_users.c - part 2's server: the options it adds (-u USERS_FILE,
 * -w, -m), the users file read before the server listens, the limit on
 * sessions at once, and the table of hooks (hooks.h) through which part
 * 1's server calls part 2. A build with this file links it in place of
 * no_hooks.c.
 *
 * What to look at: server_hooks at the end, the whole of part 2's way
 * into part 1: each line names the point where part 1 calls in, and
 * the function of part 2 that answers.
 */
#include <sys/types.h>
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "proto.h"
#include "server_options.h"
#include "session.h"
#include "session_users.h"
#include "users.h"

#define DEFAULT_LOGIN_DELAY_MS 1000 /* -w */
#define DEFAULT_MAX_SESSIONS 100    /* -m */

const struct users *server_users;
int login_delay_ms = DEFAULT_LOGIN_DELAY_MS;
static const char *users_file; /* -u, or NULL: no users */
static int max_sessions = DEFAULT_MAX_SESSIONS;

/*** Options ***/

static void
usage(FILE *out)
{
    fprintf(out,
            "  -u USERS_FILE  clients log in as users of this file (see "
            "ftpuser),\n"
            "                 each in a home below ROOT (default: no "
            "users, no login)\n"
            "  -w MS          delay after a failed login, doubled each "
            "time (default %d)\n"
            "  -m MAX         at most MAX sessions at once (default %d)\n",
            DEFAULT_LOGIN_DELAY_MS, DEFAULT_MAX_SESSIONS);
}

static int
option(int letter, const char *arg)
{
    if (letter == 'u')
        users_file = arg;
    else if (letter == 'w')
        login_delay_ms = number_option(letter, arg, 0, 60000);
    else if (letter == 'm')
        max_sessions = number_option(letter, arg, 1, 100000);
    else
        return -1;
    return 0;
}

/*** The users ***/

/* With a users file (-u), every client logs in and works in a home of
 * their own below ROOT. Read the file, make the homes that are missing,
 * and hand the users to the sessions. Returns 0 (at once, without -u),
 * or -1 after printing what is wrong. */
static int
open_users(int root_fd)
{
    static struct users users; /* kept for the server's whole life */
    if (users_file == NULL)
        return 0;
    if (load_users(users_file, &users) < 0)
        return -1;
    if (users.count == 0) {
        fprintf(stderr, "server: %s: no users in it; add one with ftpuser\n",
                users_file);
        return -1;
    }
    if (make_homes(root_fd, &users) < 0)
        return -1;
    fprintf(stderr, "%zu users from %s\n", users.count, users_file);
    server_users = &users;
    return 0;
}

/*** The session limit ***/

/* Before a fork: a full server says so at once, rather than leave the
 * client waiting. The parent does it without forking: the line is
 * short enough to fit in the socket's send buffer, so send() returns at
 * once, whatever the client does. */
static int
admit(int client_fd, const char *peer, int running)
{
    if (running < max_sessions)
        return 1;
    fprintf(stderr, "%s turned away: %d sessions already\n", peer,
            max_sessions);
    send_line(client_fd,
              "error|busy|the server is full (session limit %d); try "
              "again later",
              max_sessions);
    return 0;
}

/*** Requests ***/

/* login's one field is "NAME|PASSWORD" (the password last, so that it
 * may contain '|'). */
static const struct command_word commands[] = {
    {"login", CMD_LOGIN, 1},
    {"quota", CMD_QUOTA, 0},
    {NULL, 0, 0},
};

static int
carry_out(struct session *s, const struct request *req)
{
    if (req->command == CMD_LOGIN)
        return do_login(s, req->name);
    return do_quota(s);
}

/*** The hooks ***/

const struct server_hooks server_hooks = {
    .option_letters = "u:w:m:",
    .synopsis = " [-u USERS_FILE] [-w MS] [-m MAX]",
    .usage = usage,
    .option = option,
    .start = open_users,           /* server.c, before listen() */
    .admit = admit,                /* server.c, before each fork */
    .commands = commands,          /* session.c, parse_request() */
    .carry_out = carry_out,        /* session.c, carry_out() */
    .refusal = access_refusal,     /* session.c, before each request */
    .before_upload = reserve_room, /* session_transfer.c, do_put() */
    .after_upload = release_room,  /* session_transfer.c, do_put() */
    .log_request = hide_password,  /* session.c, remember_request() */
};
