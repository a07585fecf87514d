/*
 * client_transfer.c - the client's get and put: a request line, a
 * "ready" reply, then exactly SIZE raw bytes of file data, read from
 * the same reader as the reply line (the file's first bytes may have
 * come with it).
 *
 * What to look at: get_file(), which never writes outside the current
 * directory, whatever name it asked for, writes into .partial.NAME
 * until the last byte is there (the name the server gives an unfinished
 * upload), and resumes a .partial.NAME left by an earlier, interrupted
 * get; put_file(), whose server says how much of an interrupted upload
 * it already has.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"

#define PROGRESS_STEP (1 << 20) /* bytes sent between progress updates */

/* The file name a download is saved under: the last component of the
 * name asked for, so that nothing is ever written outside the current
 * directory, whatever the name. Returns NULL if there is no usable
 * name (".", "..", or a name ending in '/'). */
const char *
local_name(const char *remote)
{
    const char *slash = strrchr(remote, '/');
    const char *name = slash != NULL ? slash + 1 : remote;
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return NULL;
    return name;
}

/*** get ***/

/* get NAME: download NAME into the current directory, under its last
 * component. */
int
cmd_get(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "get NAME"))
        return FAILED;
    const char *name = local_name(arg);
    if (name == NULL) {
        fprintf(stderr, "get: '%s' does not name a file\n", arg);
        return FAILED;
    }
    return get_file(server, arg, name, NULL);
}

/* Ask for `remote` from byte `offset` on, "get|OFFSET|NAME", and read
 * the reply, "ready|SIZE|OFFSET". Returns DONE with *size set, FAILED
 * for an error reply, or CONNECTION_LOST. */
static int
request_download(struct reader *server, const char *remote, off_t offset,
                 off_t *size)
{
    /* Python: sock.send("FileTransfer|get|%s" % name) */
    if (send_line(server->fd, "get|%lld|%s", (long long)offset, remote) < 0)
        return request_not_sent(server, "get", remote);
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply, NULL);
    if (result != DONE)
        return result;
    off_t start;
    char *fields = reply + strlen("ready|");
    char *second =
        strncmp(reply, "ready|", 6) == 0 ? strchr(fields, '|') : NULL;
    if (second != NULL)
        *second++ = '\0';
    if (second == NULL || parse_size(fields, size) < 0 ||
        parse_size(second, &start) < 0 || start != offset) {
        fprintf(stderr, "client: unexpected reply '%s'\n", reply);
        return CONNECTION_LOST;
    }
    return DONE;
}

/* Download `remote` into the local file `local` (DIR/NAME, or NAME):
 * the bytes go to DIR/.partial.NAME, renamed to LOCAL once complete. A
 * .partial.NAME left by an interrupted get is resumed: we ask for the
 * bytes from its length on. `own`: NULL, or a progress line of the
 * caller's own (struct progress_line). */
int
get_file(struct reader *server, const char *remote, const char *local,
         const struct progress_line *own)
{
    char partial[LOCAL_PATH_SIZE];
    const char *slash = strrchr(local, '/');
    int dir_len = slash != NULL ? (int)(slash + 1 - local) : 0;
    snprintf(partial, sizeof partial, "%.*s" PARTIAL_PREFIX "%s", dir_len,
             local, local + dir_len);
    struct stat st;
    off_t offset = stat(partial, &st) == 0 ? st.st_size : 0;
    off_t size = 0;
    int result = request_download(server, remote, offset, &size);
    if (result != DONE)
        return result;

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
    progress_begin(&bar, local, offset, size, own);
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
    if (own == NULL)
        printf("received %s (%lld bytes)\n", local, (long long)size);
    return DONE;
}

/*** put ***/

/* put FILE: the server names the file after FILE's last component. */
int
cmd_put(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "put FILE"))
        return FAILED;
    const char *name = local_name(arg);
    if (name == NULL) {
        fprintf(stderr, "put: %s: not a regular file\n", arg);
        return FAILED;
    }
    return put_file(server, arg, name, NULL);
}

/* Announce an upload of `size` bytes as `remote`, "put|SIZE|NAME", and
 * read the reply, "ready|OFFSET": how many bytes of an earlier,
 * interrupted upload the server already has. Returns DONE with *offset
 * set, FAILED for an error reply, or CONNECTION_LOST. */
static int
request_upload(struct reader *server, const char *remote, off_t size,
               off_t *offset)
{
    if (send_line(server->fd, "put|%lld|%s", (long long)size, remote) < 0)
        return request_not_sent(server, "put", remote);
    char reply[MAX_LINE];
    int result = read_reply(server, reply, sizeof reply, NULL);
    if (result != DONE)
        return result;
    if (strncmp(reply, "ready|", 6) != 0 || parse_size(reply + 6, offset) < 0 ||
        *offset > size) {
        fprintf(stderr, "client: unexpected reply '%s'\n", reply);
        return CONNECTION_LOST;
    }
    return DONE;
}

/* Upload the local file `local` as `remote`: the bytes the server does
 * not have yet, then its reply. `own`: as for get_file(). */
int
put_file(struct reader *server, const char *local, const char *remote,
         const struct progress_line *own)
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
    off_t offset = 0;
    int result = request_upload(server, remote, st.st_size, &offset);
    if (result != DONE)
        goto close_file;
    if (offset > 0)
        printf("resuming %s at byte %lld\n", remote, (long long)offset);

    struct progress bar;
    progress_begin(&bar, remote, offset, st.st_size, own);
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
    char reply[MAX_LINE];
    result = read_reply(server, reply, sizeof reply, NULL);
    if (result == DONE && own == NULL)
        printf("sent %s (%lld bytes)\n", remote, (long long)st.st_size);

close_file:
    close(fd);
    return result;
}
