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
 * What to look at: cmd_get(), which never writes outside the current
 * directory, whatever name it asked for, and reads the bytes that came
 * with the "ready" line from the same reader as the line itself.
 *
 * Run:   ./client [HOST [PORT]]    (default localhost 9004)
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "proto.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9004"
#define PROGRESS_STEP (1 << 20) /* bytes sent between progress updates */

const char program_name[] = "client";

/* What every command returns. */
enum { DONE = 0, FAILED = 1, CONNECTION_LOST = -1 };

struct client_command {
    const char *word;
    int (*run)(struct reader *server, const char *arg);
    const char *help;
};

static const struct client_command *find_command(const char *word);
static void parse_args(int argc, char *argv[], const char **host,
                       const char **port);

int
main(int argc, char *argv[])
{
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
 * MESSAGE") as "error: MESSAGE (CODE)". Returns DONE with the line in
 * `reply`, FAILED for an error reply, CONNECTION_LOST. */
static int
read_reply(struct reader *server, char *reply, size_t size)
{
    ssize_t len = read_line(server, reply, size);
    if (len < 0) {
        fprintf(stderr, "client: %s\n",
                len == LINE_EOF        ? "the server closed the connection"
                : len == LINE_TOO_LONG ? "reply line too long"
                                       : strerror(errno));
        return CONNECTION_LOST;
    }
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

/* Send a request with one name and print the text of its "ok|TEXT"
 * reply: what cd, pwd, delete and mkdir need. */
static int
simple_request(struct reader *server, const char *request, const char *arg)
{
    int sent = *arg == '\0' ? send_line(server->fd, "%s", request)
                            : send_line(server->fd, "%s|%s", request, arg);
    if (sent < 0)
        return errno == EMSGSIZE ? FAILED : CONNECTION_LOST;
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
        return CONNECTION_LOST;
    return read_reply(server, reply, sizeof reply);
}

/* ls: "ok|COUNT", then COUNT lines "TYPE|SIZE|NAME". */
static int
cmd_ls(struct reader *server, const char *arg)
{
    int sent = *arg == '\0' ? send_line(server->fd, "ls")
                            : send_line(server->fd, "ls|%s", arg);
    if (sent < 0)
        return errno == EMSGSIZE ? FAILED : CONNECTION_LOST;
    char line[MAX_LINE];
    int result = read_reply(server, line, sizeof line);
    off_t count;
    if (result != DONE)
        return result;
    if (parse_size(line + 3, &count) < 0) {
        fprintf(stderr, "client: unexpected reply '%s'\n", line);
        return CONNECTION_LOST; /* we no longer know where replies end */
    }
    for (off_t i = 0; i < count; i++) {
        if (read_line(server, line, sizeof line) < 0) {
            fprintf(stderr, "client: the listing was cut short\n");
            return CONNECTION_LOST;
        }
        char type = line[0];
        char *size = line + 2;
        char *name = strchr(size, '|');
        if (name == NULL || line[1] != '|')
            continue;
        *name++ = '\0';
        if (type == 'f')
            printf("%12s  %s\n", size, name);
        else
            printf("%12s  %s%s\n", "-", name,
                   type == 'd'   ? "/"
                   : type == 'l' ? "@"
                                 : "");
    }
    return DONE;
}

/*** Progress bar ***/

/* Shown on a terminal only, at most ten times a second. */
struct progress {
    const char *name;
    off_t total, start;    /* start: bytes we had before this transfer */
    double started, shown; /* seconds, on a monotonic clock */
};

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
progress_begin(struct progress *p, const char *name, off_t start, off_t total)
{
    p->name = name;
    p->start = start;
    p->total = total;
    p->started = now();
    p->shown = 0;
}

/* progress_fn for recv_file_data: `done` counts this transfer's bytes. */
static void
progress_show(off_t done, void *arg)
{
    struct progress *p = arg;
    double t = now();
    off_t have = p->start + done;
    if (!isatty(STDERR_FILENO) || (t - p->shown < 0.1 && have < p->total))
        return;
    p->shown = t;
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

/* get NAME: the bytes go to NAME.part in the current directory, renamed
 * to NAME once complete. A NAME.part left by an interrupted get is
 * resumed: we ask for the bytes from its length on. */
static int
cmd_get(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "get NAME"))
        return FAILED;
    const char *name = local_name(arg);
    if (name == NULL) {
        fprintf(stderr, "get: '%s' does not name a file\n", arg);
        return FAILED;
    }
    char partial[MAX_LINE];
    snprintf(partial, sizeof partial, "%s.part", name);
    struct stat st;
    off_t offset = stat(partial, &st) == 0 ? st.st_size : 0;

    /* Python: sock.send("FileTransfer|get|%s" % name) */
    if (send_line(server->fd, "get|%lld|%s", (long long)offset, arg) < 0)
        return errno == EMSGSIZE ? FAILED : CONNECTION_LOST;
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
     * must read them all, whatever happens to our file. */
    int fd = open(partial, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || ftruncate(fd, offset) < 0 ||
        lseek(fd, offset, SEEK_SET) < 0) {
        fprintf(stderr, "get: %s: %s\n", partial, strerror(errno));
        return CONNECTION_LOST; /* those bytes are on their way */
    }
    if (offset > 0)
        printf("resuming %s at byte %lld\n", name, (long long)offset);
    struct progress bar;
    progress_begin(&bar, name, offset, size);
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
        fprintf(stderr, "get: %s kept; get %s again to resume\n", partial, arg);
        return CONNECTION_LOST;
    }
    if (rename(partial, name) < 0) {
        fprintf(stderr, "get: rename %s: %s\n", partial, strerror(errno));
        return FAILED;
    }
    printf("received %s (%lld bytes)\n", name, (long long)size);
    return DONE;
}

/* put FILE: announce its size; the server answers with how many bytes
 * of an earlier, interrupted upload it already has, and we send the
 * rest. The server names the file after FILE's last component. */
static int
cmd_put(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "put FILE"))
        return FAILED;
    const char *name = local_name(arg);
    int fd = open(arg, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || name == NULL || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "put: %s: %s\n", arg,
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return FAILED;
    }

    int result = CONNECTION_LOST;
    char reply[MAX_LINE];
    off_t offset;
    if (send_line(server->fd, "put|%lld|%s", (long long)st.st_size, name) < 0) {
        result = errno == EMSGSIZE ? FAILED : CONNECTION_LOST;
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
        printf("resuming %s at byte %lld\n", name, (long long)offset);

    struct progress bar;
    progress_begin(&bar, name, offset, st.st_size);
    progress_show(0, &bar);
    for (off_t sent = 0; offset + sent < st.st_size;) {
        off_t chunk = st.st_size - offset - sent;
        if (chunk > PROGRESS_STEP)
            chunk = PROGRESS_STEP;
        if (send_file_data(server->fd, fd, offset + sent, chunk) < 0) {
            fprintf(stderr, "\nput: %s: %s\n", name, strerror(errno));
            break; /* the server may have said why: read its reply */
        }
        sent += chunk;
        progress_show(sent, &bar);
    }
    result = read_reply(server, reply, sizeof reply);
    if (result == DONE)
        printf("sent %s (%lld bytes)\n", name, (long long)st.st_size);

close_file:
    close(fd);
    return result;
}

/*** Commands ***/

static int cmd_help(struct reader *server, const char *arg);

static const struct client_command commands[] = {
    {"get", cmd_get, "get NAME      download NAME into this directory"},
    {"put", cmd_put, "put FILE      upload FILE"},
    {"ls", cmd_ls, "ls [DIR]      list a directory on the server"},
    {"cd", cmd_cd, "cd [DIR]      change directory on the server"},
    {"pwd", cmd_pwd, "pwd           show the server's current directory"},
    {"delete", cmd_delete, "delete NAME   delete a file or empty directory"},
    {"mkdir", cmd_mkdir, "mkdir DIR     make a directory"},
    {"help", cmd_help, "help          this list"},
    {"quit", cmd_quit, "quit          leave (so does end of input)"},
};

static int
cmd_help(struct reader *server, const char *arg)
{
    (void)server;
    (void)arg;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %s\n", commands[i].help);
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
    if (!is_port_number(*port) || strcmp(*port, "0") == 0) {
        fprintf(stderr,
                "client: bad port '%s': use a number from 1 to "
                "65535\n",
                *port);
        usage(stderr, 2);
    }
}
