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
 *
 * Part 2 (users) hooks in at a few places, each marked "Part 2": an
 * idle timeout, a check before carry_out() of who may do what, login
 * and quota, and a quota check in do_put(). A server without a users
 * file passes none of them, so part 1 reads the same without them. The
 * section "Part 2: users" at the end holds their code.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"
#include "proto.h"
#include "quota.h"
#include "session.h"
#include "users.h"

#define LOG_REQUEST_SIZE 120 /* bytes of a request shown in the log */
#define MAX_LOGIN_FAILURES 3 /* part 2: then the session is closed */

struct session {
    int fd;                         /* the client's socket */
    int root_fd;                    /* ROOT, the directory served */
    const char *peer;               /* the client's address, for the log */
    char cwd[MAX_PATH];             /* current directory, relative to ROOT */
    char request[LOG_REQUEST_SIZE]; /* the request, printable, for the log */
    struct reader in;               /* requests, and the data of uploads */

    /* Part 2: users. After a login, root_fd is the user's home. */
    const struct session_options *options;
    const struct user *user; /* who logged in; NULL before, or anonymous */
    int ledger_fd;           /* the user's quota reservations (quota.c) */
    int login_failures;
};

static void remember_request(struct session *s, const char *line, size_t len);
static void close_gently(int fd);
static int carry_out(struct session *s, const struct request *req);
static void set_idle_timeout(int fd, int seconds);
static void hide_password(char *request, size_t size);
static int reply(struct session *s, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Serve one client until it quits or disconnects. */
void
serve_session(int fd, int root_fd, const char *peer,
              const struct session_options *options)
{
    struct session s;
    s.fd = fd;
    s.root_fd = root_fd;
    s.peer = peer;
    s.cwd[0] = '\0';
    reader_init(&s.in, fd);
    /* Part 2: no user yet; a client that says nothing is not kept. */
    s.options = options;
    s.user = NULL;
    s.ledger_fd = -1;
    s.login_failures = 0;
    set_idle_timeout(fd, options->idle_timeout_s);

    for (;;) {
        char line[MAX_LINE];
        errno = 0;
        ssize_t len = read_line(&s.in, line, sizeof line);
        if (len == LINE_EOF) {
            fprintf(stderr, "%s disconnected\n", peer);
            return;
        }
        if (len == LINE_ERROR && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Part 2: the idle timeout (SO_RCVTIMEO) ran out. */
            snprintf(s.request, sizeof s.request, "(silence)");
            reply(&s, "error|timeout|no request for %d second%s; closing",
                  options->idle_timeout_s,
                  options->idle_timeout_s == 1 ? "" : "s");
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
            close_gently(fd);
            return;
        }

        remember_request(&s, line, (size_t)len); /* for the log */

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

/* End a connection whose client is still sending, without losing the
 * reply just sent. Closing a socket with unread bytes in it makes the
 * kernel send a reset (RST) instead of a polite FIN, and a reset can
 * destroy the reply on its way. So: say we are done (shutdown(SHUT_WR)
 * sends the FIN after the reply), then read and drop what the client
 * still sends, for at most LINGER_BYTES or a second, and only then let
 * the caller close. */
#define LINGER_BYTES ((size_t)1024 * 1024)
static void
close_gently(int fd)
{
    struct timeval one_second = {1, 0};
    char buf[4096];
    ssize_t n;
    size_t dropped = 0;
    shutdown(fd, SHUT_WR);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &one_second, sizeof one_second);
    do {
        n = recv(fd, buf, sizeof buf, 0);
        dropped += n > 0 ? (size_t)n : 0;
    } while ((n > 0 || (n < 0 && errno == EINTR)) && dropped < LINGER_BYTES);
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
    hide_password(s->request, sizeof s->request); /* part 2 */
}

/* Send a reply line, and log it next to the request it answers.
 * Returns 0, or -1 when the connection is gone. */
static int
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
static const char *access_refusal(const struct session *s,
                                  enum command command);
static int do_login(struct session *s, const char *name_and_password);
static int do_quota(struct session *s);
static int reserve_room(struct session *s, off_t need);

/* Check the request's name, then do what it asks. Returns 0 to go on
 * with the session, -1 when it must end (the connection is gone, or
 * the data stream can no longer be trusted). */
static int
carry_out(struct session *s, const struct request *req)
{
    /* Part 2: may this session do this? And login, whose field is a
     * name and a password, not a path. */
    const char *refused = access_refusal(s, req->command);
    if (refused != NULL)
        return reply(s, "%s", refused);
    if (req->command == CMD_LOGIN)
        return do_login(s, req->name);

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
    case CMD_QUOTA: /* part 2 */
        return do_quota(s);
    case CMD_LOGIN: /* part 2: done above */
        break;
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
    /* slide:begin ready_then_data */
    else if (reply(s, "ready|%lld|%lld", (long long)st.st_size,
                   (long long)offset) < 0)
        result = -1;
    /* slide:end ready_then_data */
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
    int room = 0; /* part 2: 1 once the quota has room reserved */
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
    /* Part 2: room in the user's quota for the bytes to come, or a
     * refusal before any of them is sent. */
    room = reserve_room(s, size - have);
    if (room <= 0) {
        if (have == 0) /* an empty partial file is no use for resuming */
            unlinkat(dir_fd, partial, 0);
        result = room; /* refused: 0, or -1 if the reply failed */
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
    /* slide:begin atomic_put */
    /* fsync: the bytes are on disk before the name points at them, so
     * a crash cannot leave a finished-looking but empty file. */
    if (fsync(fd) < 0 || renameat(dir_fd, partial, dir_fd, name) < 0)
        result = reply_errno(s, errno);
    else
        result = reply(s, "ok|stored %lld bytes", (long long)size);
    /* slide:end atomic_put */

close_files:
    /* Part 2: the upload is over; its bytes are on disk, or never will
     * be. Either way the disk, not the reservation, counts them now. */
    if (room > 0 && s->user != NULL && quota_release(s->ledger_fd) < 0)
        fprintf(stderr, "%s error: quota ledger: %s\n", s->peer,
                strerror(errno));
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
    if (count > 0) /* qsort(NULL, 0, ...) is undefined behaviour */
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
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        unlinkat(dir_fd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
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

/*** Part 2: users ***/

/* The reply refusing this command to this session, or NULL if it may
 * go ahead. Without a users file, as in part 1, nothing is refused.
 * With one, nothing but login and quit before a login, and nothing that
 * writes for a read-only user. */
static const char *
access_refusal(const struct session *s, enum command command)
{
    if (s->options->users == NULL)
        return NULL;
    if (s->user == NULL)
        return command == CMD_LOGIN || command == CMD_QUIT
                   ? NULL
                   : "error|login-required|log in first";
    int writes =
        command == CMD_PUT || command == CMD_DELETE || command == CMD_MKDIR;
    if (writes && s->user->read_only)
        return "error|denied|read-only account";
    return NULL;
}

/* Sleep for `ms` milliseconds, even if a signal interrupts. */
static void
sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    int slept;
    do /* nanosleep() sets `left` to what is left when interrupted */
        slept = nanosleep(&left, &left);
    while (slept < 0 && errno == EINTR);
}

/* A failed login: wait, then reply. The wait doubles with each failure
 * (the server's -w, then twice, then four times that), and the third
 * failure closes the session. Guessing passwords through one
 * connection is then slow; through many at once, the server's session
 * limit (-m) bounds how many guesses run in parallel. The reply comes
 * only after the wait, so a client cannot learn the answer sooner. */
static int
login_failed(struct session *s)
{
    s->login_failures++;
    sleep_ms((long)s->options->login_delay_ms << (s->login_failures - 1));
    if (s->login_failures < MAX_LOGIN_FAILURES)
        return reply(s, "error|login-failed|wrong name or password");
    reply(s, "error|login-failed|too many failures; closing");
    return -1;
}

/* Make the user's home the session's root: open it beneath ROOT with
 * open_beneath() and put its descriptor where ROOT's was. All of part 1
 * then works unchanged inside the home: "/" in every reply is the home,
 * and resolve_path() and open_beneath() keep the session in it exactly
 * as they kept anonymous sessions in ROOT. ROOT's descriptor is closed:
 * from now on this process holds no way up to other users' homes. */
static int
enter_home(struct session *s, const struct user *user)
{
    int home_fd =
        open_beneath(s->root_fd, user->home, O_RDONLY | O_DIRECTORY, 0);
    int ledger_fd = home_fd < 0 ? -1 : open_ledger(s->root_fd, user->name);
    if (ledger_fd < 0) {
        int err = errno;
        if (home_fd >= 0)
            close(home_fd);
        fprintf(stderr, "%s error: home of %s: %s\n", s->peer, user->name,
                strerror(err));
        return reply(s, "error|io-error|cannot open your home: %s",
                     strerror(err));
    }
    close(s->root_fd);
    s->root_fd = home_fd;
    s->ledger_fd = ledger_fd;
    s->user = user;
    return reply(s, "ok|welcome %s", user->name);
}

/* login|NAME|PASSWORD: "ok|welcome NAME", and the session moves into
 * NAME's home. A wrong name and a wrong password get the same answer,
 * after the same work (check_login() in users.c): a client cannot tell
 * which names exist. */
static int
do_login(struct session *s, const char *name_and_password)
{
    if (s->options->users == NULL)
        return reply(s, "error|bad-request|this server has no users: no "
                        "login needed");
    if (s->user != NULL)
        return reply(s, "error|bad-request|already logged in as %s",
                     s->user->name);
    const char *bar = strchr(name_and_password, '|');
    if (bar == NULL)
        return reply(s, "error|bad-request|use login|NAME|PASSWORD");

    /* A name too long for any user is checked as "": no such user. */
    char name[USER_NAME_MAX + 1] = "";
    size_t len = (size_t)(bar - name_and_password);
    if (len < sizeof name) {
        memcpy(name, name_and_password, len);
        name[len] = '\0';
    }
    const struct user *user = check_login(s->options->users, name, bar + 1);
    if (user == NULL)
        return login_failed(s);
    return enter_home(s, user);
}

/* quota: "ok|USED|LIMIT", in bytes. USED counts the files in the home
 * and the room the user's other sessions have reserved for uploads
 * still running (quota.c). */
static int
do_quota(struct session *s)
{
    if (s->user == NULL)
        return reply(s, "error|bad-request|this server has no users, and "
                        "no quotas");
    off_t used;
    if (quota_used(s->ledger_fd, s->root_fd, &used) < 0)
        return reply_errno(s, errno);
    return reply(s, "ok|%lld|%lld", (long long)used, (long long)s->user->quota);
}

/* Before an upload of `need` more bytes: reserve room for them in the
 * user's quota, or refuse. Returns 1 to go on (room reserved, or no
 * quota at all), or what the refusal's reply() returned: 0, or -1 when
 * the connection is gone. */
static int
reserve_room(struct session *s, off_t need)
{
    if (s->user == NULL)
        return 1;
    off_t used;
    int fits =
        quota_reserve(s->ledger_fd, s->root_fd, s->user->quota, need, &used);
    if (fits < 0)
        return reply_errno(s, errno);
    if (fits == 0)
        return reply(s,
                     "error|quota-exceeded|%lld bytes do not fit: %lld "
                     "of %lld bytes used",
                     (long long)need, (long long)used,
                     (long long)s->user->quota);
    return 1;
}

/* Close a session whose client sends nothing for `seconds` (0: never).
 * SO_RCVTIMEO makes a recv() that waits longer fail with EAGAIN (the C
 * side of Python's conn.settimeout(seconds), which raises
 * socket.timeout instead). SO_SNDTIMEO does the same for a send() to a
 * client that has stopped reading: it could otherwise hold its session,
 * and a slot of the server's limit, for ever. */
static void
set_idle_timeout(int fd, int seconds)
{
    if (seconds <= 0)
        return;
    struct timeval limit = {seconds, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0)
        fprintf(stderr, "%s: setsockopt SO_RCVTIMEO: %s\n", program_name,
                strerror(errno));
}

/* The log shows every request, but never a password: the one in
 * "login|NAME|PASSWORD" becomes "********". */
static void
hide_password(char *request, size_t size)
{
    if (strncmp(request, "login|", 6) != 0)
        return;
    char *bar = strchr(request + 6, '|');
    char *password = bar != NULL ? bar + 1 : request + 6;
    snprintf(password, size - (size_t)(password - request), "********");
}
