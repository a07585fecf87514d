/*
 * client_requests.c - the client's half of a request: send one line,
 * read one reply line (PROTOCOL.md), and tell an error reply from the
 * answer. And the commands that are nothing more than that: cd, pwd,
 * delete, mkdir, quit, and ls, whose reply is a count and then that
 * many lines.
 *
 * What to look at: read_reply(), the one place that turns
 * "error|CODE|MESSAGE" into a message for the user; and
 * request_not_sent(), which reads the line a server may have sent
 * before it closed the connection.
 */
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "proto.h"

/*** Talking to the server ***/

/* Read the reply line to a request. Prints an error reply ("error|CODE|
 * MESSAGE") as "error: MESSAGE (CODE)", unless CODE is `allowed` (NULL:
 * none is). Returns DONE with the line in `reply` (an allowed error
 * too), FAILED for an error reply, CONNECTION_LOST. */
int
read_reply(struct reader *server, char *reply, size_t size, const char *allowed)
{
    ssize_t len = read_line(server, reply, size);
    if (len < 0) {
        fprintf(stderr, "client: %s\n",
                len == LINE_EOF        ? "the server closed the connection"
                : len == LINE_TOO_LONG ? "reply line too long"
                                       : strerror(errno));
        return CONNECTION_LOST;
    }
    size_t allowed_len = allowed != NULL ? strlen(allowed) : 0;
    if (allowed != NULL && strncmp(reply, "error|", 6) == 0 &&
        strncmp(reply + 6, allowed, allowed_len) == 0 &&
        reply[6 + allowed_len] == '|')
        return DONE;
    if (strncmp(reply, "error|", 6) == 0) {
        char *code = reply + 6;
        char *message = strchr(code, '|');
        if (message != NULL)
            *message++ = '\0';
        fprintf(stderr, "error: %s (%s)\n", message ? message : "", code);
        return FAILED;
    }
    return DONE;
}

/* After send_line() failed. EMSGSIZE: the request would have been
 * longer than a line may be; the session goes on (FAILED). Anything else:
 * the connection is gone (CONNECTION_LOST), but the server may have said
 * why before it closed ("error|busy|..." to a client it turns away,
 * "error|timeout|..."): that line may still be waiting, so read it. */
int
request_not_sent(struct reader *server, const char *command, const char *name)
{
    if (errno != EMSGSIZE) {
        char reply[MAX_LINE];
        read_reply(server, reply, sizeof reply, NULL);
        return CONNECTION_LOST;
    }
    fprintf(stderr, "%s: %s: name too long for a request line\n", command,
            name);
    return FAILED;
}

/* Read the reply to a request, and print its text: TEXT of "ok|TEXT".
 * Returns as read_reply(). */
int
print_reply(struct reader *server)
{
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply, NULL);
    if (result == DONE)
        printf("%s\n", strncmp(reply, "ok|", 3) == 0 ? reply + 3 : reply);
    return result;
}

/* Send a request with one name, and print the text of its reply: what
 * cd, pwd, delete and mkdir need. */
static int
simple_request(struct reader *server, const char *request, const char *arg)
{
    int sent = *arg == '\0' ? send_line(server->fd, "%s", request)
                            : send_line(server->fd, "%s|%s", request, arg);
    if (sent < 0)
        return request_not_sent(server, request, arg);
    return print_reply(server);
}

/* A command that needs an argument, given none: say how to use it, and
 * return 1. */
int
needs_arg(const char *arg, const char *usage)
{
    if (*arg == '\0')
        fprintf(stderr, "usage: %s\n", usage);
    return *arg == '\0';
}

/*** Commands that are one request ***/

int
cmd_cd(struct reader *server, const char *arg)
{
    return simple_request(server, "cd", arg);
}

int
cmd_pwd(struct reader *server, const char *arg)
{
    (void)arg;
    return simple_request(server, "pwd", "");
}

int
cmd_delete(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "delete NAME"))
        return FAILED;
    return simple_request(server, "delete", arg);
}

int
cmd_mkdir(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "mkdir DIR"))
        return FAILED;
    return simple_request(server, "mkdir", arg);
}

int
cmd_quit(struct reader *server, const char *arg)
{
    (void)arg;
    char reply[MAX_LINE];
    if (send_line(server->fd, "quit") < 0)
        return request_not_sent(server, "quit", "");
    return read_reply(server, reply, sizeof reply, NULL);
}

/*** ls: a count, then the entries ***/

/* Ask for a listing of DIR ("" for the current directory): "ls|DIR",
 * and its reply "ok|COUNT". Returns DONE with *count set (the caller
 * must then read COUNT entries), FAILED, or CONNECTION_LOST. */
int
request_listing(struct reader *server, const char *dir, off_t *count)
{
    int sent = *dir == '\0' ? send_line(server->fd, "ls")
                            : send_line(server->fd, "ls|%s", dir);
    if (sent < 0)
        return request_not_sent(server, "ls", dir);
    char line[MAX_LINE];
    int result = read_reply(server, line, sizeof line, NULL);
    if (result != DONE)
        return result;
    if (parse_size(line + 3, count) < 0) {
        fprintf(stderr, "client: unexpected reply '%s'\n", line);
        return CONNECTION_LOST; /* we no longer know where replies end */
    }
    return DONE;
}

/* Read one line of a listing, "TYPE|SIZE|NAME", into `line`; e->name
 * points into it. Returns DONE, FAILED for a line that is not an entry
 * (skip it), or CONNECTION_LOST. */
int
read_entry(struct reader *server, char *line, size_t size, struct entry *e)
{
    if (read_line(server, line, size) < 0) {
        fprintf(stderr, "client: the listing was cut short\n");
        return CONNECTION_LOST;
    }
    char *name =
        line[0] != '\0' && line[1] == '|' ? strchr(line + 2, '|') : NULL;
    if (name == NULL)
        return FAILED;
    *name++ = '\0';
    e->type = line[0];
    e->name = name;
    return parse_size(line + 2, &e->size) < 0 ? FAILED : DONE;
}

/* ls: "ok|COUNT", then COUNT lines "TYPE|SIZE|NAME". */
int
cmd_ls(struct reader *server, const char *arg)
{
    off_t count;
    int result = request_listing(server, arg, &count);
    for (off_t i = 0; result == DONE && i < count; i++) {
        char line[MAX_LINE];
        struct entry e;
        int got = read_entry(server, line, sizeof line, &e);
        if (got == CONNECTION_LOST)
            return got;
        if (got != DONE)
            continue;
        if (e.type == 'f')
            printf("%12lld  %s\n", (long long)e.size, e.name);
        else
            printf("%12s  %s%s\n", "-", e.name,
                   e.type == 'd'   ? "/"
                   : e.type == 'l' ? "@"
                                   : "");
    }
    return result;
}
