/*
 * client_login.c - part 2: the client's login and quota commands, and
 * the table of hooks (hooks.h) that adds them, and get -r and put -r
 * (client_tree.c), to part 1's shell. A build with this file links it
 * in place of no_hooks.c.
 *
 * What to look at: cmd_login(), which reads a password the user did not
 * type on the command line with the terminal's echo off (password.c),
 * and wipes it from memory once sent; and ask_quota(), which put -r
 * uses to refuse a tree that cannot fit before sending any of it.
 */
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "client_users.h"
#include "hooks.h"
#include "password.h"
#include "proto.h"

/* The password of a login: the rest of the command's line, or else
 * read by read_password(). Returns 0, or -1 after saying why not. */
static int
login_password(const char *given, char *password, size_t size)
{
    int len = *given != '\0' ? snprintf(password, size, "%s", given)
                             : read_password("password: ", password, size);
    if (len >= 0 && (size_t)len < size)
        return 0;
    fprintf(stderr, "login: %s\n",
            len >= 0 || errno == EMSGSIZE ? "password too long"
                                          : "no password given");
    return -1;
}

/* login NAME [PASSWORD]: "login|NAME|PASSWORD". Without PASSWORD, it is
 * read from the terminal with echo off, or as the next line of the
 * script when the input is not a terminal (password.c). */
int
cmd_login(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "login NAME [PASSWORD]"))
        return FAILED;
    int name_len = (int)strcspn(arg, " \t");
    const char *given = arg + name_len + strspn(arg + name_len, " \t");
    char password[PASSWORD_MAX + 1];
    if (login_password(given, password, sizeof password) < 0)
        return FAILED;
    int sent = send_line(server->fd, "login|%.*s|%s", name_len, arg, password);
    memset(password, 0, sizeof password); /* no copy left lying around */
    if (sent < 0)
        return request_not_sent(server, "login", "password");
    return print_reply(server);
}

/* Send "quota" and read "ok|USED|LIMIT". A server without users answers
 * bad-request: then *limit is set to -1, meaning "no quota". Returns
 * DONE, FAILED or CONNECTION_LOST. */
int
ask_quota(struct reader *server, off_t *used, off_t *limit)
{
    if (send_line(server->fd, "quota") < 0)
        return request_not_sent(server, "quota", "");
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply, "bad-request");
    if (result != DONE)
        return result;
    *limit = -1;
    if (strncmp(reply, "error|", 6) == 0)
        return DONE;
    char *second = strchr(reply + 3, '|');
    if (second != NULL)
        *second++ = '\0';
    if (strncmp(reply, "ok|", 3) != 0 || second == NULL ||
        parse_size(reply + 3, used) < 0 || parse_size(second, limit) < 0) {
        fprintf(stderr, "client: unexpected reply '%s'\n", reply);
        return CONNECTION_LOST;
    }
    return DONE;
}

/* quota: how many bytes are stored, of how many allowed. */
int
cmd_quota(struct reader *server, const char *arg)
{
    (void)arg;
    off_t used = 0;
    off_t limit = -1;
    int result = ask_quota(server, &used, &limit);
    if (result == DONE && limit < 0) {
        fprintf(stderr, "quota: this server has no users, and no quotas\n");
        return FAILED;
    }
    if (result == DONE)
        printf("%lld of %lld bytes used, %lld free\n", (long long)used,
               (long long)limit, (long long)(used < limit ? limit - used : 0));
    return result;
}

/*** The hooks ***/

/* Looked up before part 1's commands: get and put replace part 1's. */
static const struct client_command commands[] = {
    {"get", cmd_get_tree, "get [-r] NAME",
     "download NAME here (-r: a directory)"},
    {"put", cmd_put_tree, "put [-r] FILE", "upload FILE (-r: a directory)"},
    {"login", cmd_login, "login NAME [PASSWORD]",
     "log in (no PASSWORD: asked, not shown)"},
    {"quota", cmd_quota, "quota", "bytes stored, and how many may be"},
};

const struct client_hooks client_hooks = {
    .commands = commands,
    .count = sizeof commands / sizeof commands[0],
};
