/*
 * session_dirs.c - the server's directory commands: ls, cd, mkdir and
 * delete. Each opens what it works on with open_beneath() or
 * open_parent() (paths.c), one directory at a time from ROOT's
 * descriptor, so that no symbolic link can lead it out of ROOT.
 *
 * What to look at: do_cd(), which keeps the session's directory as a
 * path relative to ROOT and never calls chdir(); and do_ls(), which
 * hides the unfinished uploads and every name a line could not carry.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "proto.h"
#include "session.h"

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

int
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
int
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
int
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
int
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
