/*
 * session.c - one client's session with the file server: read a
 * request line, carry it out, reply; again, until the client quits or
 * goes away. server.c forks a process for each session, so this code
 * serves exactly one client and keeps its state in one struct.
 *
 * What to look at: serve_session(), the loop, and read_request(),
 * which reads each request as one framed line (proto.c) and says why
 * when it cannot; carry_out(), where every name goes through
 * resolve_path() (paths.c) before the command that will touch a file
 * is called: do_get() and do_put() in session_transfer.c, the
 * directory commands in session_dirs.c. And set_idle_timeout(): a
 * client that says nothing, or says it too slowly, is not kept.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "net.h"
#include "paths.h"
#include "proto.h"
#include "session.h"

static void start_session(struct session *s, int fd, int root_fd,
                          const char *peer, int idle_timeout_s);
static ssize_t read_request(struct session *s, char *line, size_t size);
static int carry_out(struct session *s, const struct request *req);

/* Serve one client until it quits or disconnects. */
void
serve_session(int fd, int root_fd, const char *peer, int idle_timeout_s)
{
    struct session s;
    start_session(&s, fd, root_fd, peer, idle_timeout_s);

    for (;;) {
        char line[MAX_LINE];
        ssize_t len = read_request(&s, line, sizeof line);
        if (len < 0)
            return; /* the client left, or was told why it must */

        struct request req;
        const char *problem =
            parse_request(line, (size_t)len, server_hooks.commands, &req);
        if (problem != NULL) {
            if (reply(&s, "error|bad-request|%s", problem) < 0)
                return;
            continue;
        }
        if (carry_out(&s, &req) < 0 || req.command == CMD_QUIT)
            return;
    }
}

static void set_idle_timeout(struct session *s);

static void
start_session(struct session *s, int fd, int root_fd, const char *peer,
              int idle_timeout_s)
{
    s->fd = fd;
    s->root_fd = root_fd;
    s->peer = peer;
    s->cwd[0] = '\0'; /* the top of ROOT */
    reader_init(&s->in, fd);
    s->idle_timeout_s = idle_timeout_s;
    set_idle_timeout(s);
}

/* Close a session whose client sends nothing for the server's -t
 * seconds (0: never). SO_RCVTIMEO makes a recv() that waits longer fail
 * with EAGAIN (the C side of Python's conn.settimeout(seconds), which
 * raises socket.timeout instead). SO_SNDTIMEO does the same for a
 * send() to a client that has stopped reading: it could otherwise hold
 * its session, and its process, for ever. And a request line must
 * arrive whole within the same time of its first byte (the reader's
 * line timeout, proto.c): SO_RCVTIMEO alone would let a client that
 * sends a byte now and then hold its session for ever. */
static void
set_idle_timeout(struct session *s)
{
    int seconds = s->idle_timeout_s;
    if (seconds <= 0)
        return;
    s->in.line_timeout_s = seconds;
    struct timeval limit = {seconds, 0};
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0 ||
        setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0)
        fprintf(stderr, "%s: setsockopt SO_RCVTIMEO: %s\n", program_name,
                strerror(errno));
}

/*** Requests ***/

static void remember_request(struct session *s, const char *line, size_t len);

/* Read the next request line into `line`. Returns its length, or -1
 * when the session must end: the client has gone, or the line cannot be
 * read, and a reply has said why. */
static ssize_t
read_request(struct session *s, char *line, size_t size)
{
    errno = 0;
    ssize_t len = read_line(&s->in, line, size);
    if (len >= 0) {
        remember_request(s, line, (size_t)len); /* for the log */
        return len;
    }
    int t = s->idle_timeout_s;
    if (len == LINE_EOF) {
        fprintf(stderr, "%s disconnected\n", s->peer);
    } else if (len == LINE_ERROR && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        /* The idle timeout (SO_RCVTIMEO) ran out. */
        snprintf(s->request, sizeof s->request, "(silence)");
        reply(s, "error|timeout|no request for %d second%s; closing", t,
              t == 1 ? "" : "s");
    } else if (len == LINE_ERROR) { /* errno 0: closed, the line cut short */
        fprintf(stderr, "%s error: connection lost mid-request: %s\n", s->peer,
                errno != 0 ? strerror(errno) : "closed by the client");
    } else if (len == LINE_TOO_LONG) { /* where would the next line start? */
        snprintf(s->request, sizeof s->request, "(a line over %d bytes)",
                 MAX_LINE);
        reply(s,
              "error|line-too-long|a request line is at most %d "
              "bytes; closing the connection",
              MAX_LINE);
        close_gently(s->fd, LINE_LINGER_S, LINE_LINGER_BYTES);
    } else { /* LINE_TOO_SLOW, a line that trickles in */
        snprintf(s->request, sizeof s->request, "(a line still unfinished)");
        reply(s,
              "error|timeout|a request line must arrive within %d "
              "second%s of its first byte; closing",
              t, t == 1 ? "" : "s");
        close_gently(s->fd, LINE_LINGER_S, LINE_LINGER_BYTES);
    }
    return -1;
}

/* End a connection whose client is still sending, without losing the
 * reply just sent. Closing a socket with unread bytes in it makes the
 * kernel send a reset (RST) instead of a polite FIN, and a reset can
 * destroy the reply on its way. So: say we are done (shutdown(SHUT_WR)
 * sends the FIN after the reply), then read and drop what the client
 * still sends, for at most `max_bytes` or `seconds` in all (a client
 * that trickles must not keep us here), and only then let the caller
 * close. */
void
close_gently(int fd, double seconds, size_t max_bytes)
{
    double deadline = seconds_now() + seconds;
    char buf[64 * 1024];
    size_t dropped = 0;
    shutdown(fd, SHUT_WR);
    while (dropped < max_bytes && wait_readable(fd, deadline)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            break; /* the client has closed too, or is gone */
        dropped += n > 0 ? (size_t)n : 0;
    }
}

/*** Replies ***/

/* Keep a printable copy of the request, for the log lines of its
 * replies: the line may hold any bytes. */
static void
remember_request(struct session *s, const char *line, size_t len)
{
    size_t i;
    for (i = 0; i < len && i < sizeof s->request - 1; i++) {
        unsigned char c = (unsigned char)line[i];
        s->request[i] = line[i];
        if (c < 0x20 || c == 0x7f)
            s->request[i] = '?';
    }
    s->request[i] = '\0';
    if (len == 0)
        snprintf(s->request, sizeof s->request, "(empty line)");
    if (server_hooks.log_request != NULL)
        server_hooks.log_request(s->request, sizeof s->request);
}

/* Send a reply line, and log it next to the request it answers. */
int
reply(struct session *s, const char *format, ...)
{
    char line[MAX_LINE];
    va_list args;
    va_start(args, format);
    /* va_start() initialised args: clang 14's analyzer misses it. */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    fprintf(stderr, "%s %s -> %s\n", s->peer, s->request, line);
    if (send_line(s->fd, "%s", line) < 0) {
        fprintf(stderr, "%s error: send: %s\n", s->peer, strerror(errno));
        return -1;
    }
    return 0;
}

/* Reply with the error a failed system call left in `err`. */
int
reply_errno(struct session *s, int err)
{
    const char *code;
    switch (err) {
    case ENOENT:
        code = "not-found";
        break;
    case ELOOP:
        return reply(s, "error|bad-path|symbolic links are not followed");
    case ENOTDIR:
        code = "not-a-directory";
        break;
    case EISDIR:
        code = "is-a-directory";
        break;
    case EEXIST:
        code = "exists";
        break;
    case ENOTEMPTY:
        code = "not-empty";
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        code = "denied";
        break;
    case ENAMETOOLONG:
        code = "bad-path";
        break;
    default:
        code = "io-error";
    }
    return reply(s, "error|%s|%s", code, strerror(err));
}

/*** Commands ***/

/* Check the request's name, then do what it asks. Returns 0 to go on
 * with the session, -1 when it must end. */
static int
carry_out(struct session *s, const struct request *req)
{
    /* The hooks (hooks.h): a refusal, and the requests of a hook's own,
     * whose fields are not paths. */
    const char *refused =
        server_hooks.refusal != NULL ? server_hooks.refusal(s, req) : NULL;
    if (refused != NULL)
        return reply(s, "%s", refused);
    if (req->command >= CMD_MORE)
        return server_hooks.carry_out(s, req);

    char path[MAX_PATH];
    const char *refusal = resolve_path(s->cwd, req->name, path, sizeof path);
    if (refusal != NULL)
        return reply(s, "error|bad-path|%s", refusal);
    int needs_name = req->command == CMD_GET || req->command == CMD_PUT ||
                     req->command == CMD_DELETE || req->command == CMD_MKDIR;
    if (needs_name && req->name[0] == '\0')
        return reply(s, "error|bad-request|this command needs a name");
    if (needs_name && path[0] == '\0') /* ".", "sub/..": the top */
        return reply(s, "error|bad-path|the top directory itself cannot "
                        "be fetched, replaced, made or deleted");

    switch (req->command) {
    case CMD_GET:
        return do_get(s, req->number, path);
    case CMD_PUT:
        return do_put(s, req->number, path);
    case CMD_LS:
        return do_ls(s, path);
    case CMD_CD:
        return do_cd(s, req->name[0] == '\0' ? "" : path);
    case CMD_PWD:
        return reply(s, "ok|/%s", s->cwd);
    case CMD_DELETE:
        return do_delete(s, path);
    case CMD_MKDIR:
        return do_mkdir(s, path);
    case CMD_QUIT:
        return reply(s, "ok|bye");
    }
    return reply(s, "error|bad-request|unknown command");
}
