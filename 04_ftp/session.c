/*
 * session.c - one client's session with the file server: read a
 * request line, carry it out, reply; again, until the client quits or
 * goes away. server.c forks a process for each session, so this code
 * serves exactly one client and keeps its state in one struct.
 *
 * What to look at: serve_session(), the loop; do_get() and do_put(),
 * where a "ready" line is followed by exactly SIZE raw bytes; and how
 * every name goes through resolve_path() and open_beneath() (paths.c)
 * before any file is touched.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "proto.h"
#include "session.h"

#define LOG_REQUEST_SIZE 120 /* bytes of a request shown in the log */

struct session {
    int fd;                         /* the client's socket */
    int root_fd;                    /* ROOT, the directory served */
    const char *peer;               /* the client's address, for the log */
    char cwd[MAX_PATH];             /* current directory, relative to ROOT */
    char request[LOG_REQUEST_SIZE]; /* the request, printable, for the log */
    struct reader in;               /* requests, and the data of uploads */
};

static int carry_out(struct session *s, const struct request *req);
static int reply(struct session *s, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Serve one client until it quits or disconnects. */
void
serve_session(int fd, int root_fd, const char *peer)
{
    struct session s;
    s.fd = fd;
    s.root_fd = root_fd;
    s.peer = peer;
    s.cwd[0] = '\0';
    reader_init(&s.in, fd);

    for (;;) {
        char line[MAX_LINE];
        ssize_t len = read_line(&s.in, line, sizeof line);
        if (len == LINE_EOF) {
            fprintf(stderr, "%s disconnected\n", peer);
            return;
        }
        if (len == LINE_ERROR) {
            fprintf(stderr, "%s error: connection lost mid-request\n", peer);
            return;
        }
        if (len == LINE_TOO_LONG) { /* where would the next line start? */
            snprintf(s.request, sizeof s.request, "(a line over %d bytes)",
                     MAX_LINE);
            reply(&s,
                  "error|line-too-long|a request line is at most %d "
                  "bytes; closing the connection",
                  MAX_LINE);
            return;
        }

        /* A printable copy for the log: the line may hold any bytes. */
        size_t i;
        for (i = 0; i < (size_t)len && i < sizeof s.request - 1; i++)
            s.request[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f
                               ? '?'
                               : line[i];
        s.request[i] = '\0';
        if (len == 0)
            snprintf(s.request, sizeof s.request, "(empty line)");

        struct request req;
        const char *problem = parse_request(line, (size_t)len, &req);
        if (problem != NULL) {
            if (reply(&s, "error|bad-request|%s", problem) < 0)
                return;
            continue;
        }
        if (carry_out(&s, &req) < 0 || req.command == CMD_QUIT)
            return;
    }
}

/*** Replies ***/

/* Send a reply line, and log it next to the request it answers.
 * Returns 0, or -1 when the connection is gone. */
static int
reply(struct session *s, const char *format, ...)
{
    char line[MAX_LINE];
    va_list args;
    va_start(args, format);
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
static int
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

static int do_get(struct session *s, off_t offset, const char *path);
static int do_put(struct session *s, off_t size, const char *path);
static int do_ls(struct session *s, const char *path);
static int do_cd(struct session *s, const char *path);
static int do_delete(struct session *s, const char *path);
static int do_mkdir(struct session *s, const char *path);

/* Check the request's name, then do what it asks. Returns 0 to go on
 * with the session, -1 when it must end (the connection is gone, or
 * the data stream can no longer be trusted). */
static int
carry_out(struct session *s, const struct request *req)
{
    char path[MAX_PATH];
    const char *refusal = resolve_path(s->cwd, req->name, path, sizeof path);
    if (refusal != NULL)
        return reply(s, "error|bad-path|%s", refusal);
    int needs_name = req->command == CMD_GET || req->command == CMD_PUT ||
                     req->command == CMD_DELETE || req->command == CMD_MKDIR;
    if (needs_name && path[0] == '\0')
        return reply(s, "error|bad-request|this command needs a name "
                        "inside the served directory");

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

/* get: "ready|SIZE|OFFSET", then bytes OFFSET..SIZE-1 of the file.
 * Python (the source article): conn.send("FileTransfer|get|ready|%s" %
 * size), then a loop sending 1 KiB at a time. */
static int
do_get(struct session *s, off_t offset, const char *path)
{
    /* O_NONBLOCK: opening a FIFO (a named pipe) for reading would
     * otherwise wait for a writer, for ever. It changes nothing for a
     * regular file, the only kind we send. */
    int fd = open_beneath(s->root_fd, path, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0)
        return reply_errno(s, errno);
    struct stat st;
    int result;
    if (fstat(fd, &st) < 0)
        result = reply_errno(s, errno);
    else if (S_ISDIR(st.st_mode))
        result = reply_errno(s, EISDIR);
    else if (!S_ISREG(st.st_mode))
        result = reply(s, "error|not-a-file|only regular files are sent");
    else if (offset > st.st_size)
        result = reply(s,
                       "error|bad-offset|offset %lld is past the end "
                       "of the file (%lld bytes)",
                       (long long)offset, (long long)st.st_size);
    else if (reply(s, "ready|%lld|%lld", (long long)st.st_size,
                   (long long)offset) < 0)
        result = -1;
    else if (send_file_data(s->fd, fd, offset, st.st_size - offset) < 0) {
        /* The client is owed bytes we cannot send: end the session. */
        fprintf(stderr, "%s error: sending /%s: %s\n", s->peer, path,
                strerror(errno));
        result = -1;
    } else {
        fprintf(stderr, "%s %s: sent %lld bytes\n", s->peer, s->request,
                (long long)(st.st_size - offset));
        result = 0;
    }
    close(fd);
    return result;
}

/* put: "ready|OFFSET" (the bytes of an earlier, interrupted upload the
 * server already has), then the client sends bytes OFFSET..SIZE-1.
 * They go to ".partial.NAME" beside NAME, which is renamed to NAME only
 * when all SIZE bytes are there: nobody ever sees a half-written NAME,
 * and rename() replaces an old NAME in one step. */
static int
do_put(struct session *s, off_t size, const char *path)
{
    const char *name;
    int dir_fd = open_parent(s->root_fd, path, &name);
    if (dir_fd < 0)
        return reply_errno(s, errno);
    char partial[MAX_PATH];
    snprintf(partial, sizeof partial, "%s%s", PARTIAL_PREFIX, name);

    int result = -1;
    struct stat st;
    int fd = -1;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode)) {
        result = reply_errno(s, EISDIR);
        goto close_dir;
    }
    fd = openat(dir_fd, partial, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK,
                0644);
    if (fd < 0 || fstat(fd, &st) < 0) {
        result = reply_errno(s, errno);
        goto close_files;
    }
    if (!S_ISREG(st.st_mode)) {
        result = reply(s, "error|not-a-file|%s is in the way", partial);
        goto close_files;
    }

    /* One upload of a name at a time: two clients writing into the same
     * partial file would mix their bytes. fcntl() locks belong to a
     * process, and each session is a process of its own. */
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    if (fcntl(fd, F_SETLK, &lock) < 0) {
        result = reply(s, "error|busy|another client is uploading this "
                          "name; try again later");
        goto close_files;
    }

    /* Resume an interrupted upload, or start again if it was longer. */
    off_t have = st.st_size <= size ? st.st_size : 0;
    if (ftruncate(fd, have) < 0 || lseek(fd, have, SEEK_SET) < 0) {
        result = reply_errno(s, errno);
        goto close_files;
    }
    if (reply(s, "ready|%lld", (long long)have) < 0)
        goto close_files;

    int received = recv_file_data(&s->in, fd, size - have, NULL, NULL);
    if (received == -1) { /* keep the partial file, for resuming */
        fprintf(stderr, "%s error: upload of /%s interrupted: %s\n", s->peer,
                path, errno != 0 ? strerror(errno) : "connection closed");
        goto close_files;
    }
    if (received == -2) {
        reply_errno(s, errno);
        goto close_files; /* the rest of the data is still coming: end */
    }
    /* fsync: the bytes are on disk before the name points at them, so
     * a crash cannot leave a finished-looking but empty file. */
    if (fsync(fd) < 0 || renameat(dir_fd, partial, dir_fd, name) < 0)
        result = reply_errno(s, errno);
    else
        result = reply(s, "ok|stored %lld bytes", (long long)size);

close_files:
    if (fd >= 0)
        close(fd);
close_dir:
    close(dir_fd);
    return result;
}

/* ls: "ok|COUNT", then one line per entry, "TYPE|SIZE|NAME", sorted by
 * name; TYPE is d (directory), f (file), l (symbolic link) or o
 * (other). Unfinished uploads, and names that a line cannot carry,
 * are not listed. */
struct entry {
    char type;
    off_t size;
    char *name;
};

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name,
                  ((const struct entry *)b)->name);
}

static int
do_ls(struct session *s, const char *path)
{
    int fd = open_beneath(s->root_fd, path, O_RDONLY | O_DIRECTORY, 0);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return reply_errno(s, err);
    }

    struct entry *entries = NULL;
    size_t count = 0, size = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        const char *name = d->d_name;
        struct stat st;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            strncmp(name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) == 0 ||
            has_control_bytes(name, strlen(name)) ||
            fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (count == size) {
            size = size == 0 ? 32 : 2 * size;
            struct entry *grown = realloc(entries, size * sizeof *grown);
            if (grown == NULL)
                break; /* list what we have */
            entries = grown;
        }
        entries[count].type = S_ISDIR(st.st_mode)   ? 'd'
                              : S_ISREG(st.st_mode) ? 'f'
                              : S_ISLNK(st.st_mode) ? 'l'
                                                    : 'o';
        entries[count].size = S_ISREG(st.st_mode) ? st.st_size : 0;
        entries[count].name = strdup(name);
        if (entries[count].name != NULL)
            count++;
    }
    closedir(dir);
    qsort(entries, count, sizeof *entries, by_name);

    int result = reply(s, "ok|%zu", count);
    for (size_t i = 0; i < count; i++) {
        if (result == 0)
            result = send_line(s->fd, "%c|%lld|%s", entries[i].type,
                               (long long)entries[i].size, entries[i].name);
        free(entries[i].name);
    }
    free(entries);
    return result;
}

/* cd: "ok|/NEW/DIRECTORY". The session's directory is a path relative
 * to ROOT, checked by opening it; there is no chdir(). */
static int
do_cd(struct session *s, const char *path)
{
    int fd = open_beneath(s->root_fd, path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return reply_errno(s, errno);
    close(fd);
    memmove(s->cwd, path, strlen(path) + 1); /* path may be s->cwd */
    return reply(s, "ok|/%s", s->cwd);
}

/* delete: a file, a symbolic link (not what it points to) or an empty
 * directory, and any unfinished upload of that name. */
static int
do_delete(struct session *s, const char *path)
{
    const char *name;
    int dir_fd = open_parent(s->root_fd, path, &name);
    if (dir_fd < 0)
        return reply_errno(s, errno);
    char partial[MAX_PATH];
    snprintf(partial, sizeof partial, "%s%s", PARTIAL_PREFIX, name);

    struct stat st;
    int err = 0;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        err = errno;
    else if (unlinkat(dir_fd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        err = errno;
    int had_partial = unlinkat(dir_fd, partial, 0) == 0;
    close(dir_fd);

    if (err == EEXIST) /* some systems say this for a non-empty directory */
        err = ENOTEMPTY;
    if (err != 0 && !(err == ENOENT && had_partial))
        return reply_errno(s, err);
    return reply(s, "ok|deleted /%s", path);
}

/* mkdir: a new, empty directory. */
static int
do_mkdir(struct session *s, const char *path)
{
    const char *name;
    int dir_fd = open_parent(s->root_fd, path, &name);
    if (dir_fd < 0)
        return reply_errno(s, errno);
    int err = mkdirat(dir_fd, name, 0755) < 0 ? errno : 0;
    close(dir_fd);
    if (err != 0)
        return reply_errno(s, err);
    return reply(s, "ok|created /%s", path);
}
