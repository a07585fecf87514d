/*
 * 04_ftp/client.c - the file server's client: an interactive shell with
 * a ">>: " prompt on a terminal, a script runner when its input is a
 * file or a pipe (then its exit status says whether every command
 * worked).
 *
 * Commands: get NAME, put FILE, ls [DIR], cd [DIR], pwd, delete NAME,
 * mkdir DIR, help, quit. Each sends one request line and reads one
 * reply line (PROTOCOL.md); get and put move the file's bytes in
 * between. An interrupted get or put resumes where it stopped when the
 * same command is given again.
 *
 * Part 2 (users) adds login NAME [PASSWORD] and quota, and get -r and
 * put -r, which move a whole directory tree with the commands above:
 * the section "Part 2" at the end.
 *
 * What to look at: get_file(), which never writes outside the current
 * directory, whatever name it asked for, and reads the bytes that came
 * with the "ready" line from the same reader as the line itself.
 *
 * Run:   ./client [HOST [PORT]]    (default localhost 9004)
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "password.h"
#include "proto.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9004"
#define PROGRESS_STEP (1 << 20) /* bytes sent between progress updates */
#define LOCAL_PATH_SIZE 4096    /* bytes in a local path: Linux's PATH_MAX */

const char program_name[] = "client";

/* What every command returns. */
enum { DONE = 0, FAILED = 1, CONNECTION_LOST = -1 };

struct client_command {
    const char *word;
    int (*run)(struct reader *server, const char *arg);
    const char *usage, *help;
};

static const struct client_command *find_command(const char *word);
static const char *recursive_arg(const char *arg);
static int get_tree(struct reader *server, const char *arg);
static int put_tree(struct reader *server, const char *arg);
static void parse_args(int argc, char *argv[], const char **host,
                       const char **port);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *host = DEFAULT_HOST;
    const char *port = DEFAULT_PORT;
    parse_args(argc, argv, &host, &port);
    ignore_sigpipe(); /* see net.c: report a closed server, don't die */

    int fd = connect_to(host, port);
    if (fd < 0)
        return 1;
    static struct reader server; /* 64 KiB: not on the stack */
    reader_init(&server, fd);

    /* One line at a time, even into a pipe: results (stdout) and errors
     * (stderr) then appear in the order they happened. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int interactive = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t line_cap = 0;
    int status = 0, result = DONE;
    for (;;) {
        if (interactive) {
            printf(">>: "); /* Python: raw_input(">>:") */
            fflush(stdout);
        }
        ssize_t len = getline(&line, &line_cap, stdin);
        if (len < 0) { /* end of input: say goodbye */
            result = find_command("quit")->run(&server, "");
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char *word = line + strspn(line, " \t");
        if (*word == '\0')
            continue;
        char *arg = word + strcspn(word, " \t");
        if (*arg != '\0')
            *arg++ = '\0';
        arg += strspn(arg, " \t"); /* the rest of the line, spaces and all */

        const struct client_command *cmd = find_command(word);
        if (cmd == NULL) {
            fprintf(stderr, "unknown command '%s': type help\n", word);
            status = 1;
            continue;
        }
        result = cmd->run(&server, arg);
        if (result != DONE)
            status = 1;
        if (result == CONNECTION_LOST || strcmp(word, "quit") == 0)
            break;
    }
    free(line);
    close(fd);
    if (result != DONE || fflush(stdout) != 0)
        status = 1;
    return status;
}

/*** Talking to the server ***/

/* Read the reply line to a request. Prints an error reply ("error|CODE|
 * MESSAGE") as "error: MESSAGE (CODE)", unless CODE is `allowed` (NULL:
 * none is). Returns DONE with the line in `reply` (an allowed error
 * too), FAILED for an error reply, CONNECTION_LOST. */
static int
read_reply_allowing(struct reader *server, char *reply, size_t size,
                    const char *allowed)
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

static int
read_reply(struct reader *server, char *reply, size_t size)
{
    return read_reply_allowing(server, reply, size, NULL);
}

/* After send_line() failed. EMSGSIZE: the request would have been
 * longer than a line may be; the session goes on (FAILED). Anything else:
 * the connection is gone (CONNECTION_LOST), but the server may have said
 * why before it closed ("error|busy|..." to a client it turns away,
 * "error|timeout|..."): that line may still be waiting, so read it. */
static int
request_not_sent(struct reader *server, const char *command, const char *name)
{
    if (errno != EMSGSIZE) {
        char reply[MAX_LINE];
        read_reply(server, reply, sizeof reply);
        return CONNECTION_LOST;
    }
    fprintf(stderr, "%s: %s: name too long for a request line\n", command,
            name);
    return FAILED;
}

/* Send a request with one name and print the text of its "ok|TEXT"
 * reply: what cd, pwd, delete and mkdir need. */
static int
simple_request(struct reader *server, const char *request, const char *arg)
{
    int sent = *arg == '\0' ? send_line(server->fd, "%s", request)
                            : send_line(server->fd, "%s|%s", request, arg);
    if (sent < 0)
        return request_not_sent(server, request, arg);
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply);
    if (result == DONE)
        printf("%s\n", strncmp(reply, "ok|", 3) == 0 ? reply + 3 : reply);
    return result;
}

static int
cmd_cd(struct reader *server, const char *arg)
{
    return simple_request(server, "cd", arg);
}

static int
cmd_pwd(struct reader *server, const char *arg)
{
    (void)arg;
    return simple_request(server, "pwd", "");
}

static int
needs_arg(const char *arg, const char *usage)
{
    if (*arg == '\0')
        fprintf(stderr, "usage: %s\n", usage);
    return *arg == '\0';
}

static int
cmd_delete(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "delete NAME"))
        return FAILED;
    return simple_request(server, "delete", arg);
}

static int
cmd_mkdir(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "mkdir DIR"))
        return FAILED;
    return simple_request(server, "mkdir", arg);
}

static int
cmd_quit(struct reader *server, const char *arg)
{
    (void)arg;
    char reply[MAX_LINE];
    if (send_line(server->fd, "quit") < 0)
        return request_not_sent(server, "quit", "");
    return read_reply(server, reply, sizeof reply);
}

/* Ask for a listing of DIR ("" for the current directory): "ls|DIR",
 * and its reply "ok|COUNT". Returns DONE with *count set (the caller
 * must then read COUNT entries), FAILED, or CONNECTION_LOST. */
static int
request_listing(struct reader *server, const char *dir, off_t *count)
{
    int sent = *dir == '\0' ? send_line(server->fd, "ls")
                            : send_line(server->fd, "ls|%s", dir);
    if (sent < 0)
        return request_not_sent(server, "ls", dir);
    char line[MAX_LINE];
    int result = read_reply(server, line, sizeof line);
    if (result != DONE)
        return result;
    if (parse_size(line + 3, count) < 0) {
        fprintf(stderr, "client: unexpected reply '%s'\n", line);
        return CONNECTION_LOST; /* we no longer know where replies end */
    }
    return DONE;
}

/* One entry of a listing. */
struct entry {
    char type; /* d, f, l or o: see PROTOCOL.md */
    off_t size;
    const char *name;
};

/* Read one line of a listing, "TYPE|SIZE|NAME", into `line`; e->name
 * points into it. Returns DONE, FAILED for a line that is not an entry
 * (skip it), or CONNECTION_LOST. */
static int
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
static int
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

/*** Progress bar ***/

struct tree; /* part 2: get -r and put -r */

/* Shown on a terminal only, at most ten times a second. */
struct progress {
    const char *name;
    off_t total, start;      /* start: bytes we had before this transfer */
    double started, shown;   /* seconds, on a monotonic clock */
    const struct tree *tree; /* part 2: the whole tree's progress, or NULL */
    int visible;             /* stderr is a terminal (asked once, not per
                                chunk: a system call each time adds up) */
};

static void show_tree_progress(const struct progress *p, off_t have);

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
progress_begin(struct progress *p, const char *name, off_t start, off_t total,
               const struct tree *tree)
{
    p->name = name;
    p->start = start;
    p->total = total;
    p->started = now();
    p->shown = 0;
    p->tree = tree;
    p->visible = isatty(STDERR_FILENO);
}

/* progress_fn for recv_file_data: `done` counts this transfer's bytes. */
static void
progress_show(off_t done, void *arg)
{
    struct progress *p = arg;
    double t = now();
    off_t have = p->start + done;
    if (!p->visible || (t - p->shown < 0.1 && have < p->total))
        return;
    p->shown = t;
    if (p->tree != NULL) {
        show_tree_progress(p, have);
        return;
    }
    int percent = p->total > 0 ? (int)(100 * have / p->total) : 100;
    char bar[21];
    for (int i = 0; i < 20; i++)
        bar[i] = i < percent / 5 ? '#' : '.';
    bar[20] = '\0';
    double mib = 1024.0 * 1024.0;
    double rate = t > p->started ? (double)done / (t - p->started) : 0;
    fprintf(stderr, "\r%-24.24s %3d%% [%s] %.1f/%.1f MiB %.1f MiB/s ", p->name,
            percent, bar, (double)have / mib, (double)p->total / mib,
            rate / mib);
    if (have == p->total)
        fprintf(stderr, "\n");
}

/*** get and put ***/

/* The file name a download is saved under: the last component of the
 * name asked for, so that nothing is ever written outside the current
 * directory, whatever the name. Returns NULL if there is no usable
 * name (".", "..", or a name ending in '/'). */
static const char *
local_name(const char *remote)
{
    const char *slash = strrchr(remote, '/');
    const char *name = slash != NULL ? slash + 1 : remote;
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return NULL;
    return name;
}

/* Download `remote` into the local file `local`: the bytes go to
 * LOCAL.part, renamed to LOCAL once complete. A LOCAL.part left by an
 * interrupted get is resumed: we ask for the bytes from its length on.
 * `tree`: part 2's get -r, which shows its own progress and summary. */
static int
get_file(struct reader *server, const char *remote, const char *local,
         const struct tree *tree)
{
    char partial[LOCAL_PATH_SIZE];
    snprintf(partial, sizeof partial, "%s.part", local);
    struct stat st;
    off_t offset = stat(partial, &st) == 0 ? st.st_size : 0;

    /* Python: sock.send("FileTransfer|get|%s" % name) */
    if (send_line(server->fd, "get|%lld|%s", (long long)offset, remote) < 0)
        return request_not_sent(server, "get", remote);
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply);
    if (result != DONE)
        return result;
    off_t size, start;
    char *fields = reply + strlen("ready|");
    char *second = strchr(fields, '|');
    if (strncmp(reply, "ready|", 6) != 0 || second == NULL)
        second = NULL;
    else
        *second++ = '\0';
    if (second == NULL || parse_size(fields, &size) < 0 ||
        parse_size(second, &start) < 0 || start != offset) {
        fprintf(stderr, "client: unexpected reply '%s'\n", reply);
        return CONNECTION_LOST;
    }

    /* From here on the server sends exactly size - offset bytes, and we
     * must read them all, whatever happens to our file. O_NOFOLLOW: a
     * symbolic link in the way is not written through. */
    int fd = open(partial, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
    if (fd < 0 || ftruncate(fd, offset) < 0 ||
        lseek(fd, offset, SEEK_SET) < 0) {
        fprintf(stderr, "get: %s: %s\n", partial, strerror(errno));
        return CONNECTION_LOST; /* those bytes are on their way */
    }
    if (offset > 0)
        printf("resuming %s at byte %lld\n", local, (long long)offset);
    struct progress bar;
    progress_begin(&bar, local, offset, size, tree);
    progress_show(0, &bar);
    int received =
        recv_file_data(server, fd, size - offset, progress_show, &bar);
    int err = errno;
    if (close(fd) < 0 && received == 0) {
        received = -2;
        err = errno;
    }
    if (received < 0) {
        fprintf(stderr, "\nget: %s: %s\n",
                received == -2 ? partial : "connection",
                err != 0 ? strerror(err) : "closed by the server");
        fprintf(stderr, "get: %s kept; get %s again to resume\n", partial,
                remote);
        return CONNECTION_LOST;
    }
    if (rename(partial, local) < 0) {
        fprintf(stderr, "get: rename %s: %s\n", partial, strerror(errno));
        return FAILED;
    }
    if (tree == NULL)
        printf("received %s (%lld bytes)\n", local, (long long)size);
    return DONE;
}

/* get NAME: download NAME into the current directory, under its last
 * component, so that nothing is ever written outside the current
 * directory, whatever the name. get -r DIR: part 2. */
static int
cmd_get(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "get [-r] NAME"))
        return FAILED;
    const char *dir = recursive_arg(arg);
    if (dir != NULL)
        return get_tree(server, dir);
    const char *name = local_name(arg);
    if (name == NULL) {
        fprintf(stderr, "get: '%s' does not name a file\n", arg);
        return FAILED;
    }
    return get_file(server, arg, name, NULL);
}

/* Upload the local file `local` as `remote`: announce its size; the
 * server answers with how many bytes of an earlier, interrupted upload
 * it already has, and we send the rest. `tree`: as for get_file(). */
static int
put_file(struct reader *server, const char *local, const char *remote,
         const struct tree *tree)
{
    int fd = open(local, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "put: %s: %s\n", local,
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return FAILED;
    }

    int result = CONNECTION_LOST;
    char reply[MAX_LINE];
    off_t offset;
    if (send_line(server->fd, "put|%lld|%s", (long long)st.st_size, remote) <
        0) {
        result = request_not_sent(server, "put", remote);
        goto close_file;
    }
    result = read_reply(server, reply, sizeof reply);
    if (result != DONE)
        goto close_file;
    if (strncmp(reply, "ready|", 6) != 0 ||
        parse_size(reply + 6, &offset) < 0 || offset > st.st_size) {
        fprintf(stderr, "client: unexpected reply '%s'\n", reply);
        result = CONNECTION_LOST;
        goto close_file;
    }
    if (offset > 0)
        printf("resuming %s at byte %lld\n", remote, (long long)offset);

    struct progress bar;
    progress_begin(&bar, remote, offset, st.st_size, tree);
    progress_show(0, &bar);
    for (off_t sent = 0; offset + sent < st.st_size;) {
        off_t chunk = st.st_size - offset - sent;
        if (chunk > PROGRESS_STEP)
            chunk = PROGRESS_STEP;
        if (send_file_data(server->fd, fd, offset + sent, chunk) < 0) {
            fprintf(stderr, "\nput: %s: %s\n", remote, strerror(errno));
            break; /* the server may have said why: read its reply */
        }
        sent += chunk;
        progress_show(sent, &bar);
    }
    result = read_reply(server, reply, sizeof reply);
    if (result == DONE && tree == NULL)
        printf("sent %s (%lld bytes)\n", remote, (long long)st.st_size);

close_file:
    close(fd);
    return result;
}

/* put FILE: the server names the file after FILE's last component.
 * put -r DIR: part 2. */
static int
cmd_put(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "put [-r] FILE"))
        return FAILED;
    const char *dir = recursive_arg(arg);
    if (dir != NULL)
        return put_tree(server, dir);
    const char *name = local_name(arg);
    if (name == NULL) {
        fprintf(stderr, "put: %s: not a regular file\n", arg);
        return FAILED;
    }
    return put_file(server, arg, name, NULL);
}

/*** Commands ***/

static int cmd_help(struct reader *server, const char *arg);
static int cmd_login(struct reader *server, const char *arg);
static int cmd_quota(struct reader *server, const char *arg);

static const struct client_command commands[] = {
    {"get", cmd_get, "get [-r] NAME", "download NAME here (-r: a directory)"},
    {"put", cmd_put, "put [-r] FILE", "upload FILE (-r: a directory)"},
    {"ls", cmd_ls, "ls [DIR]", "list a directory on the server"},
    {"cd", cmd_cd, "cd [DIR]", "change directory on the server"},
    {"pwd", cmd_pwd, "pwd", "show the server's current directory"},
    {"delete", cmd_delete, "delete NAME", "delete a file or empty directory"},
    {"mkdir", cmd_mkdir, "mkdir DIR", "make a directory"},
    {"login", cmd_login, "login NAME [PASSWORD]",
     "log in (no PASSWORD: asked, not shown)"},
    {"quota", cmd_quota, "quota", "bytes stored, and how many may be"},
    {"help", cmd_help, "help", "this list"},
    {"quit", cmd_quit, "quit", "leave (so does end of input)"},
};

static int
cmd_help(struct reader *server, const char *arg)
{
    (void)server;
    (void)arg;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-22s %s\n", commands[i].usage, commands[i].help);
    return DONE;
}

static const struct client_command *
find_command(const char *word)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(word, commands[i].word) == 0)
            return &commands[i];
    return NULL;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: client [-h] [HOST [PORT]]\n"
                 "  HOST  server name or address (default " DEFAULT_HOST ")\n"
                 "  PORT  server port (default " DEFAULT_PORT ")\n"
                 "Commands are read from standard input; type help.\n");
    exit(status);
}

static void
parse_args(int argc, char *argv[], const char **host, const char **port)
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (argc - optind > 2)
        usage(stderr, 2);
    if (argc - optind >= 1)
        *host = argv[optind];
    if (argc - optind == 2)
        *port = argv[optind + 1];
    if (is_port_not_host(*host))
        usage(stderr, 2);
    if (!is_port_number(*port) || strcmp(*port, "0") == 0) {
        fprintf(stderr,
                "client: bad port '%s': use a number from 1 to "
                "65535\n",
                *port);
        usage(stderr, 2);
    }
}

/*** Part 2: login, quota, and whole directory trees ***/

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
static int
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
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply);
    if (result == DONE)
        printf("%s\n", strncmp(reply, "ok|", 3) == 0 ? reply + 3 : reply);
    return result;
}

/* Send "quota" and read "ok|USED|LIMIT". A server without users answers
 * bad-request: then *limit is set to -1, meaning "no quota". Returns
 * DONE, FAILED or CONNECTION_LOST. */
static int
ask_quota(struct reader *server, off_t *used, off_t *limit)
{
    if (send_line(server->fd, "quota") < 0)
        return request_not_sent(server, "quota", "");
    char reply[MAX_LINE];
    int result =
        read_reply_allowing(server, reply, sizeof reply, "bad-request");
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
static int
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

/* What get -r and put -r move: directories and regular files, each
 * directory listed before what it holds. */
struct tree_entry {
    char *path; /* below the top of the tree: "a.txt", "sub/b.txt" */
    char type;  /* 'd' or 'f' */
    off_t size;
};

struct tree {
    struct tree_entry *entries;
    size_t count, capacity;
    int files, files_done;   /* regular files: all, and those moved */
    off_t bytes, bytes_done; /* their sizes */
};

/* "-r DIR" gives DIR; anything else NULL (a plain get or put). */
static const char *
recursive_arg(const char *arg)
{
    if (strncmp(arg, "-r", 2) != 0 ||
        (arg[2] != '\0' && arg[2] != ' ' && arg[2] != '\t'))
        return NULL;
    return arg + 2 + strspn(arg + 2, " \t");
}

/* Copy the DIR of a -r command to `dir` without the trailing '/' that
 * shell completion adds, and return its last component: the name the
 * tree gets at the other end. NULL, after saying why, if there is none
 * (".", "..", "/"). */
static const char *
tree_top(const char *command, const char *arg, char *dir, size_t size)
{
    if (*arg == '\0') {
        fprintf(stderr, "usage: %s -r DIR\n", command);
        return NULL;
    }
    snprintf(dir, size, "%s", arg);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    const char *top = local_name(dir);
    if (top == NULL)
        fprintf(stderr, "%s: '%s' does not name a directory\n", command, arg);
    return top;
}

/* Write the path A/B to buf (A alone when B is "", B alone when A is
 * ""). Returns DONE, or FAILED after saying that it is too long. */
static int
join_path(char *buf, size_t size, const char *a, const char *b)
{
    int len = snprintf(buf, size, "%s%s%s", a, *a && *b ? "/" : "", b);
    if (len < 0 || (size_t)len >= size) {
        fprintf(stderr, "client: %s/%s: path too long\n", a, b);
        return FAILED;
    }
    return DONE;
}

/* Add REL/NAME to the tree. Returns DONE, or FAILED after saying why
 * (a path too long for a request line; out of memory). */
static int
tree_add(struct tree *tree, const char *rel, const char *name, char type,
         off_t size)
{
    char path[MAX_LINE];
    if (join_path(path, sizeof path, rel, name) != DONE)
        return FAILED;
    if (tree->count == tree->capacity) {
        size_t capacity = tree->capacity == 0 ? 64 : 2 * tree->capacity;
        struct tree_entry *grown =
            realloc(tree->entries, capacity * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "client: out of memory\n");
            return FAILED;
        }
        tree->entries = grown;
        tree->capacity = capacity;
    }
    struct tree_entry *e = &tree->entries[tree->count];
    if ((e->path = strdup(path)) == NULL) {
        fprintf(stderr, "client: out of memory\n");
        return FAILED;
    }
    e->type = type;
    e->size = size;
    tree->count++;
    if (type == 'f') {
        tree->files++;
        tree->bytes += size;
    }
    return DONE;
}

static void
free_tree(struct tree *tree)
{
    for (size_t i = 0; i < tree->count; i++)
        free(tree->entries[i].path);
    free(tree->entries);
}

/* The progress bar of a tree: "[3/10 files, 45%] NAME", on one line
 * redrawn. `have`: bytes of the current file. */
static void
show_tree_progress(const struct progress *p, off_t have)
{
    const struct tree *t = p->tree;
    off_t done = t->bytes_done + have;
    int percent = t->bytes > 0 ? (int)(100 * done / t->bytes)
                               : 100 * t->files_done / t->files;
    fprintf(stderr, "\r[%d/%d files, %3d%%] %-40.40s", t->files_done + 1,
            t->files, percent, p->name);
}

/* After a tree: end the progress line, and say what was done. */
static int
tree_summary(const struct tree *tree, const char *done, const char *top,
             int result)
{
    if (isatty(STDERR_FILENO) && tree->files > 0)
        fprintf(stderr, "\n");
    if (result == DONE)
        printf("%s %s: %d file%s, %lld bytes\n", done, top, tree->files,
               tree->files == 1 ? "" : "s", (long long)tree->bytes);
    else
        fprintf(stderr, "stopped after %d of %d files\n", tree->files_done,
                tree->files);
    return result;
}

/* put -r: list the local directory TOP/REL into the tree. Symbolic
 * links are skipped, never followed: a link to /etc inside the tree
 * must not send /etc. lstat() tells a link from what it points to. */
static int
list_local_dir(struct tree *tree, const char *top, const char *rel)
{
    char dir[LOCAL_PATH_SIZE];
    if (join_path(dir, sizeof dir, top, rel) != DONE)
        return FAILED;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort); /* sorted by name */
    if (n < 0) {
        fprintf(stderr, "put: %s: %s\n", dir, strerror(errno));
        return FAILED;
    }
    int result = DONE;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[LOCAL_PATH_SIZE];
        struct stat st;
        if (result != DONE || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0) {
            /* nothing to add */
        } else if (join_path(path, sizeof path, dir, name) != DONE) {
            result = FAILED;
        } else if (lstat(path, &st) < 0) {
            fprintf(stderr, "put: %s: %s\n", path, strerror(errno));
            result = FAILED;
        } else if (S_ISLNK(st.st_mode)) {
            fprintf(stderr, "put: skipping symbolic link %s\n", path);
        } else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "put: skipping %s: not a regular file\n", path);
        } else if (has_control_bytes(name, strlen(name))) {
            fprintf(stderr,
                    "put: skipping %s: control characters in "
                    "its name\n",
                    path);
        } else {
            result = tree_add(tree, rel, name, S_ISDIR(st.st_mode) ? 'd' : 'f',
                              st.st_size);
        }
        free(names[i]);
    }
    free(names);
    return result;
}

/* Make a directory on the server for put -r; one that is already there
 * is fine. */
static int
remote_mkdir(struct reader *server, const char *path)
{
    if (send_line(server->fd, "mkdir|%s", path) < 0)
        return request_not_sent(server, "mkdir", path);
    char reply[MAX_LINE];
    return read_reply_allowing(server, reply, sizeof reply, "exists");
}

/* put -r DIR: send a local directory tree, named after DIR's last
 * component in the server's current directory. First the whole tree is
 * listed, then the quota asked: a tree that cannot fit is refused
 * before anything is sent. The server checks each file again as it
 * comes (another session may use the room meanwhile); a put that fails
 * stops the tree, and leaves no half-written file (part 1's put is
 * atomic). */
static int
put_tree(struct reader *server, const char *arg)
{
    char dir[LOCAL_PATH_SIZE];
    const char *top = tree_top("put", arg, dir, sizeof dir);
    struct stat st;
    if (top == NULL)
        return FAILED;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "put: %s: %s\n", dir,
                errno == ENOENT ? strerror(errno) : "not a directory");
        return FAILED;
    }

    /* Breadth first: the list grows as its directories are read. */
    struct tree tree = {NULL, 0, 0, 0, 0, 0, 0};
    int result = list_local_dir(&tree, dir, "");
    for (size_t i = 0; result == DONE && i < tree.count; i++)
        if (tree.entries[i].type == 'd')
            result = list_local_dir(&tree, dir, tree.entries[i].path);

    off_t used = 0;
    off_t limit = -1; /* no quota */
    if (result == DONE)
        result = ask_quota(server, &used, &limit);
    if (result == DONE && limit >= 0 && tree.bytes > limit - used) {
        fprintf(stderr,
                "put: %s does not fit: %lld bytes to send, %lld of "
                "%lld bytes free\n",
                dir, (long long)tree.bytes,
                (long long)(used < limit ? limit - used : 0), (long long)limit);
        result = FAILED;
    }

    if (result == DONE)
        result = remote_mkdir(server, top);
    for (size_t i = 0; result == DONE && i < tree.count; i++) {
        const struct tree_entry *e = &tree.entries[i];
        char local[LOCAL_PATH_SIZE];
        char remote[MAX_LINE];
        if (join_path(local, sizeof local, dir, e->path) != DONE ||
            join_path(remote, sizeof remote, top, e->path) != DONE)
            result = FAILED;
        else if (e->type == 'd')
            result = remote_mkdir(server, remote);
        else
            result = put_file(server, local, remote, &tree);
        if (result == DONE && e->type == 'f') {
            tree.files_done++;
            tree.bytes_done += e->size;
        }
    }
    tree_summary(&tree, "sent", top, result);
    free_tree(&tree);
    return result;
}

/* get -r: list the server's directory DIR/REL into the tree. Every
 * entry's name must be a plain name (no '/', not . or ..): a server that
 * sent "../../.bashrc" must not make us write outside the tree. Links
 * are skipped: the server would not follow them anyway. */
static int
list_remote_dir(struct reader *server, struct tree *tree, const char *dir,
                const char *rel)
{
    char path[MAX_LINE];
    off_t count = 0; /* no listing comes after an error reply */
    if (join_path(path, sizeof path, dir, rel) != DONE)
        return FAILED;
    int result = request_listing(server, path, &count);
    for (off_t i = 0; i < count && result != CONNECTION_LOST; i++) {
        char line[MAX_LINE];
        struct entry e;
        int got = read_entry(server, line, sizeof line, &e);
        if (got == CONNECTION_LOST)
            return got; /* every line of the listing must be read */
        if (got != DONE || result != DONE)
            continue;
        if (local_name(e.name) != e.name) /* a '/', ".", "..", or "" */
            fprintf(stderr, "get: skipping '%s' in %s: not a plain name\n",
                    e.name, path);
        else if (e.type == 'l')
            fprintf(stderr, "get: skipping symbolic link %s/%s\n", path,
                    e.name);
        else if (e.type != 'd' && e.type != 'f')
            fprintf(stderr, "get: skipping %s/%s: not a regular file\n", path,
                    e.name);
        else
            result = tree_add(tree, rel, e.name, e.type, e.size);
    }
    return result;
}

/* Make a local directory for get -r, or use the one already there if
 * it is a real directory: not a symbolic link, which could lead the
 * download anywhere. */
static int
make_local_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0755) == 0)
        return DONE;
    if (errno != EEXIST) {
        fprintf(stderr, "get: mkdir %s: %s\n", path, strerror(errno));
        return FAILED;
    }
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return DONE;
    fprintf(stderr, "get: %s is in the way: not a directory\n", path);
    return FAILED;
}

/* get -r DIR: fetch a directory tree from the server into DIR's last
 * component here, with part 1's commands: ls to list it, then get for
 * each file. */
static int
get_tree(struct reader *server, const char *arg)
{
    char dir[MAX_LINE];
    const char *top = tree_top("get", arg, dir, sizeof dir);
    if (top == NULL)
        return FAILED;

    struct tree tree = {NULL, 0, 0, 0, 0, 0, 0};
    int result = list_remote_dir(server, &tree, dir, "");
    for (size_t i = 0; result == DONE && i < tree.count; i++)
        if (tree.entries[i].type == 'd')
            result = list_remote_dir(server, &tree, dir, tree.entries[i].path);

    if (result == DONE)
        result = make_local_dir(top);
    for (size_t i = 0; result == DONE && i < tree.count; i++) {
        const struct tree_entry *e = &tree.entries[i];
        char local[LOCAL_PATH_SIZE];
        char remote[MAX_LINE];
        if (join_path(local, sizeof local, top, e->path) != DONE ||
            join_path(remote, sizeof remote, dir, e->path) != DONE)
            result = FAILED;
        else if (e->type == 'd')
            result = make_local_dir(local);
        else
            result = get_file(server, remote, local, &tree);
        if (result == DONE && e->type == 'f') {
            tree.files_done++;
            tree.bytes_done += e->size;
        }
    }
    tree_summary(&tree, "received", top, result);
    free_tree(&tree);
    return result;
}
