/*
 * quota.c - part 2: a user stores at most their quota of bytes.
 *
 * How much a user stores is measured, not remembered: the sizes of all
 * the regular files under their home, unfinished uploads included (they
 * are on disk too). There is no counter to keep in step: a delete frees
 * space at once, and so does an administrator's rm.
 *
 * Measuring is not enough while uploads run. Two sessions of one user
 * (two processes: server.c forks one per client) could each measure 600
 * bytes free and each accept a 600-byte file. So before an upload
 * starts, its session reserves the bytes to come in the user's ledger,
 * ROOT/.quota/NAME, a text file of lines "PID BYTES", and every session
 * counts the others' reservations as used. The ledger is read and
 * changed only under an fcntl() lock on it, one session at a time:
 * fcntl() locks work between processes (a mutex in memory would not:
 * the sessions share none). A reservation whose process has died
 * (kill(pid, 0) fails with ESRCH) no longer counts, and the next rewrite
 * drops it: a session killed mid-upload cannot hold space for ever.
 *
 * This is conservative: while an upload runs, the bytes it has already
 * written count twice (measured on disk, and still reserved), so a user
 * close to the quota may be refused a little early, until it ends. The
 * stored bytes can never exceed the quota.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quota.h"

/* The largest off_t: 64 bits, as request.c's parse_size() assumes. */
#define BYTES_MAX ((off_t)INT64_MAX)

static off_t bytes_in_home(int home_fd);
static off_t bytes_under(int dir_fd);
static int lock_ledger(int fd, short type);
static off_t read_ledger(int fd, char **text, size_t *len);
static int write_ledger(int fd, const char *text, size_t len, off_t add);
static int unlock_ledger(int fd, char *text, int result);

/* Open (creating it if missing) the ledger of a user's reservations,
 * ROOT/.quota/NAME. No user can reach it: every home is a directory
 * below ROOT other than .quota, and a session cannot leave its home.
 * Returns a descriptor, or -1 with errno set. */
int
open_ledger(int root_fd, const char *user_name)
{
    if (mkdirat(root_fd, QUOTA_DIR, 0700) < 0 && errno != EEXIST)
        return -1;
    int dir_fd =
        openat(root_fd, QUOTA_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (dir_fd < 0)
        return -1;
    int fd = openat(dir_fd, user_name, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    int saved_errno = errno;
    close(dir_fd);
    errno = saved_errno;
    return fd;
}

/* How many bytes the user uses: stored under their home, plus what the
 * uploads of their other sessions have reserved. Returns 0 with *used
 * set, or -1 with errno set. */
int
quota_used(int ledger_fd, int home_fd, off_t *used)
{
    if (lock_ledger(ledger_fd, F_RDLCK) < 0)
        return -1;
    char *text = NULL;
    size_t len;
    off_t reserved = read_ledger(ledger_fd, &text, &len);
    off_t stored = reserved < 0 ? -1 : bytes_in_home(home_fd);
    if (stored >= 0)
        *used = stored > BYTES_MAX - reserved ? BYTES_MAX : stored + reserved;
    return unlock_ledger(ledger_fd, text, stored < 0 ? -1 : 0);
}

/* An upload of `need` more bytes is about to start: reserve them for
 * this process if they fit in `quota`. Returns 1 if they did (call
 * quota_release() when the upload ends, however it ends), 0 if they do
 * not fit, and -1 with errno set on an error. *used is set to the bytes
 * used before this upload. */
int
quota_reserve(int ledger_fd, int home_fd, off_t quota, off_t need, off_t *used)
{
    if (lock_ledger(ledger_fd, F_WRLCK) < 0)
        return -1;
    /* Read, measured, decided and written under the lock: no other
     * session of this user can reserve anything in between. */
    char *text = NULL;
    size_t len;
    off_t reserved = read_ledger(ledger_fd, &text, &len);
    off_t stored = reserved < 0 ? -1 : bytes_in_home(home_fd);
    int result = -1;
    if (stored >= 0) {
        *used = stored > BYTES_MAX - reserved ? BYTES_MAX : stored + reserved;
        if (need > quota - *used)
            result = 0; /* does not fit */
        else if (write_ledger(ledger_fd, text, len, need) == 0)
            result = 1;
    }
    return unlock_ledger(ledger_fd, text, result);
}

/* The upload has ended: remove this process's reservation (the bytes
 * it stored are now counted on disk). Returns 0, or -1 with errno set. */
int
quota_release(int ledger_fd)
{
    if (lock_ledger(ledger_fd, F_WRLCK) < 0)
        return -1;
    char *text = NULL;
    size_t len;
    int result = -1;
    if (read_ledger(ledger_fd, &text, &len) >= 0 &&
        write_ledger(ledger_fd, text, len, 0) == 0)
        result = 0;
    return unlock_ledger(ledger_fd, text, result);
}

/*** Measuring ***/

/* The bytes stored under the home. bytes_under() takes over the
 * descriptor it is given (fdopendir() does), so it gets one of its own:
 * the session keeps home_fd. */
static off_t
bytes_in_home(int home_fd)
{
    return bytes_under(openat(home_fd, ".", O_RDONLY | O_DIRECTORY));
}

/* The bytes in the regular files under the directory open as dir_fd,
 * at any depth. Symbolic links are not followed (a link to a big file
 * elsewhere costs its owner nothing, and cannot lead out of the home).
 * Closes dir_fd. Returns the sum, or -1 with errno set. */
static off_t
bytes_under(int dir_fd) // NOLINT(misc-no-recursion): a tree is recursive
{
    DIR *dir = dir_fd < 0 ? NULL : fdopendir(dir_fd);
    if (dir == NULL) {
        int saved_errno = errno;
        if (dir_fd >= 0)
            close(dir_fd);
        errno = saved_errno;
        return -1;
    }
    off_t total = 0;
    struct dirent *d;
    /* cppcheck-suppress readdirCalled ; one thread: readdir() is fine */
    while (total >= 0 && (d = readdir(dir)) != NULL) {
        struct stat st;
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) /* ENOENT: deleted meanwhile */
                total = -1;
            continue;
        }
        off_t bytes = 0;
        if (S_ISREG(st.st_mode))
            bytes = st.st_size;
        else if (S_ISDIR(st.st_mode))
            bytes = bytes_under(openat(dirfd(dir), d->d_name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        if (bytes < 0 && errno != ENOENT)
            total = -1; /* fail closed: no upload without a measure */
        else if (bytes > 0)
            total = bytes > BYTES_MAX - total ? BYTES_MAX : total + bytes;
    }
    int saved_errno = errno;
    closedir(dir);
    errno = saved_errno;
    return total;
}

/*** The ledger ***/

/* Lock the whole ledger: F_WRLCK to change it, F_RDLCK to read it;
 * F_UNLCK unlocks. F_SETLKW waits while another session holds a lock
 * that conflicts. Beware an fcntl() trap: closing *any* descriptor of
 * the file drops all of the process's locks on it, so the session opens
 * its ledger once and keeps that descriptor. Returns 0, or -1. */
static int
lock_ledger(int fd, short type)
{
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = type;
    lock.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    while (fcntl(fd, F_SETLKW, &lock) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* The end of every locked step: free read_ledger()'s text and unlock,
 * keeping the errno of whatever failed before. Returns `result`. */
static int
unlock_ledger(int fd, char *text, int result)
{
    int saved_errno = errno;
    free(text);
    lock_ledger(fd, F_UNLCK);
    errno = saved_errno;
    return result;
}

/* Does process `pid` exist? kill() with signal 0 sends nothing, but
 * checks: ESRCH means no such process (EPERM: it exists, someone
 * else's). */
static int
is_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* Read the ledger (locked by the caller). Returns the bytes reserved by
 * the other live sessions, or -1 with errno set. *text is set to a
 * buffer to free(), holding its first *len bytes the lines worth
 * keeping: the other live sessions' reservations. */
static off_t
read_ledger(int fd, char **text, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        return -1;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return -1;
        }
        if (n == 0)
            break; /* shorter than fstat() said: use what is there */
        got += (size_t)n;
    }
    buf[got] = '\0';

    /* Keep the lines of other live sessions, moving them to the front
     * of buf: what is kept is never longer than what was read. */
    off_t reserved = 0;
    size_t kept = 0;
    for (char *line = buf; *line != '\0';) {
        size_t line_len = strcspn(line, "\n");
        char *next = line + line_len + (line[line_len] == '\n');
        line[line_len] = '\0';
        char *end;
        errno = 0;
        long pid = strtol(line, &end, 10);
        long long bytes = *end == ' ' ? strtoll(end + 1, &end, 10) : -1;
        if (errno == 0 && *end == '\0' && pid > 0 && bytes >= 0 &&
            pid != (long)getpid() && is_alive(pid)) {
            reserved =
                bytes > BYTES_MAX - reserved ? BYTES_MAX : reserved + bytes;
            memmove(buf + kept, line, line_len);
            kept += line_len;
            buf[kept++] = '\n';
        }
        line = next;
    }
    *text = buf;
    *len = kept;
    return reserved;
}

/* write() at an offset until all of buf is written: unlike proto.c's
 * write_all(), it leaves the file offset alone (read_ledger() uses
 * pread() for the same reason). Returns 0, or -1 with errno set. */
static int
pwrite_all(int fd, const char *buf, size_t len, off_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

/* Rewrite the ledger (locked by the caller) with the lines kept by
 * read_ledger(), and, if `add` > 0, a reservation of `add` bytes for
 * this process. The new text goes over the old, then the file is cut to
 * its length: a session killed half-way leaves extra lines behind
 * (counted: conservative), never fewer. Returns 0, or -1. */
static int
write_ledger(int fd, const char *text, size_t len, off_t add)
{
    char mine[48]; /* "PID BYTES\n": two 64-bit numbers at most */
    int mine_len = 0;
    if (add > 0)
        mine_len = snprintf(mine, sizeof mine, "%ld %lld\n", (long)getpid(),
                            (long long)add);
    if (pwrite_all(fd, text, len, 0) < 0 ||
        pwrite_all(fd, mine, (size_t)mine_len, (off_t)len) < 0 ||
        ftruncate(fd, (off_t)(len + (size_t)mine_len)) < 0)
        return -1;
    return 0;
}
