/*
 * session_transfer.c - the server's get and put: a "ready" line, then
 * exactly SIZE raw bytes of file data (PROTOCOL.md), in each direction.
 *
 * What to look at: do_get(), whose reply line is followed by the bytes
 * at once, with no confirmation in between; and do_put(), which writes
 * into ".partial.NAME" and renames it to NAME only when every byte is
 * on disk, so that nobody ever sees half a file, and an interrupted
 * upload resumes where it stopped. Two uploads of one name at once are
 * kept apart by a lock, and lock_upload() shows the trap in that.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "paths.h"
#include "proto.h"
#include "session.h"

/*** get ***/

/* get: "ready|SIZE|OFFSET", then bytes OFFSET..SIZE-1 of the file.
 * Python (the source article): conn.send("FileTransfer|get|ready|%s" %
 * size), then a loop sending 1 KiB at a time. */
int
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

/*** put ***/

/* One upload: the bytes of NAME go to .partial.NAME beside it. */
struct upload {
    int dir_fd;             /* the directory NAME is in */
    const char *name;       /* NAME, the last component of the path */
    char partial[MAX_PATH]; /* ".partial.NAME" */
    int fd;                 /* the partial file, locked; -1 until then */
    off_t size;             /* the whole file's size */
    off_t have;             /* its bytes already there, from an earlier
                               upload that was cut off */
};

static int open_partial(struct session *s, struct upload *up);
static int receive_upload(struct session *s, struct upload *up,
                          const char *path);

/* put: "ready|HAVE", then the client sends bytes HAVE..SIZE-1, which go
 * to ".partial.NAME"; it is renamed to NAME only when all SIZE bytes are
 * there: nobody ever sees a half-written NAME, and rename() replaces an
 * old NAME in one step. */
int
do_put(struct session *s, off_t size, const char *path)
{
    struct upload up = {.size = size, .fd = -1};
    up.dir_fd = open_parent(s->root_fd, path, &up.name);
    if (up.dir_fd < 0)
        return reply_errno(s, errno);
    snprintf(up.partial, sizeof up.partial, "%s%s", PARTIAL_PREFIX, up.name);

    int result = open_partial(s, &up);
    if (up.fd >= 0) {
        /* A hook may refuse the bytes before any of them is sent (0, or
         * -1 if the refusal could not be sent). */
        int go = server_hooks.before_upload == NULL
                     ? 1
                     : server_hooks.before_upload(s, size - up.have);
        if (go > 0) {
            result = receive_upload(s, &up, path);
            if (server_hooks.after_upload != NULL)
                server_hooks.after_upload(s);
        } else {
            if (up.have == 0) /* an empty file is no use for resuming */
                unlinkat(up.dir_fd, up.partial, 0);
            result = go;
        }
        close(up.fd);
    }
    close(up.dir_fd);
    return result;
}

static int lock_upload(int fd, const struct upload *up, struct stat *st);

/* Open the upload's partial file (creating it if missing), locked for
 * this session alone, and set up->have. Returns 0 with up->fd set, or
 * what the reply saying why not returned, with up->fd still -1. */
static int
open_partial(struct session *s, struct upload *up)
{
    /* A directory cannot be replaced, and a symbolic link is neither
     * followed nor replaced (PROTOCOL.md: Names). */
    struct stat st;
    if (fstatat(up->dir_fd, up->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
        return reply_errno(s, S_ISDIR(st.st_mode) ? EISDIR : ELOOP);
    /* Nor is what stands as .partial.NAME, unless it is a file: a named
     * pipe there would fail the open (ENXIO), or take the bytes away. */
    if (fstatat(up->dir_fd, up->partial, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return reply(s, "error|not-a-file|%s is in the way", up->partial);
    int fd = openat(up->dir_fd, up->partial,
                    O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0)
        return reply_errno(s, errno);

    int result;
    if (!lock_upload(fd, up, &st)) {
        result = reply(s, "error|busy|another client is uploading this "
                          "name; try again later");
    } else if (!S_ISREG(st.st_mode)) {
        result = reply(s, "error|not-a-file|%s is in the way", up->partial);
    } else {
        /* Resume an interrupted upload, or start again if it was
         * longer than this one. */
        up->have = st.st_size <= up->size ? st.st_size : 0;
        if (ftruncate(fd, up->have) == 0 &&
            lseek(fd, up->have, SEEK_SET) == up->have) {
            up->fd = fd;
            return 0;
        }
        result = reply_errno(s, errno);
    }
    close(fd);
    return result;
}

/* One upload of a name at a time: two clients writing into the same
 * partial file would mix their bytes. fcntl() locks belong to a
 * process, and each session is a process of its own. Returns 1 when
 * the lock on `fd` is ours, with *st the locked file's; 0 when another
 * session holds it, or held it a moment ago. */
static int
lock_upload(int fd, const struct upload *up, struct stat *st)
{
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    if (fcntl(fd, F_SETLK, &lock) < 0)
        return 0;

    /* slide:begin same_file */
    /* The trap: between our openat() and our lock, another session may
     * have finished this very upload: renamed the file to NAME, and
     * closed it, which let go of its lock. Ours is then on NAME itself,
     * a finished file, which the upload would truncate. So the lock
     * counts only if .partial.NAME still names the file we locked: the
     * same device and inode. */
    struct stat named;
    if (fstat(fd, st) < 0 ||
        fstatat(up->dir_fd, up->partial, &named, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return named.st_dev == st->st_dev && named.st_ino == st->st_ino;
    /* slide:end same_file */
}

/* The rest of a put, once the partial file is ours: "ready|HAVE", the
 * bytes, then the file under its name. Returns as do_put(). */
static int
receive_upload(struct session *s, struct upload *up, const char *path)
{
    if (reply(s, "ready|%lld", (long long)up->have) < 0)
        return -1;
    int received =
        recv_file_data(&s->in, up->fd, up->size - up->have, NULL, NULL);
    if (received == -1) { /* keep the partial file, for resuming */
        fprintf(stderr, "%s error: upload of /%s interrupted: %s\n", s->peer,
                path, errno != 0 ? strerror(errno) : "connection closed");
        return -1;
    }
    if (received == -2) {
        reply_errno(s, errno);
        /* The rest of the data is still coming: all of it is read and
         * dropped, for UPLOAD_LINGER_S seconds at most. */
        close_gently(s->fd, UPLOAD_LINGER_S, SIZE_MAX);
        return -1;
    }
    /* slide:begin atomic_put */
    /* fsync: the bytes are on disk before the name points at them, so
     * a crash cannot leave a finished-looking but empty file. */
    if (fsync(up->fd) < 0 ||
        renameat(up->dir_fd, up->partial, up->dir_fd, up->name) < 0)
        return reply_errno(s, errno);
    return reply(s, "ok|stored %lld bytes", (long long)up->size);
    /* slide:end atomic_put */
}
