/*
 * paths.c - keeping every client inside the served directory, ROOT.
 *
 * A client names files with paths like "docs/a.txt" or "../b". The
 * server must never let such a name reach a file outside ROOT, however
 * it is spelled. Two steps do it:
 *
 * 1. resolve_path() works on the text alone. It joins the session's
 *    current directory and the client's name, and removes "." and ".."
 *    the way a shell would. A name that would climb above ROOT is
 *    refused, and so are absolute names, control bytes, and the names
 *    reserved for unfinished uploads.
 * 2. open_beneath() opens the result one directory at a time, starting
 *    from a descriptor for ROOT, with O_NOFOLLOW: a symbolic link is
 *    never followed, so a link inside ROOT that points outside it (made
 *    by someone with a shell on the server) leads nowhere.
 *
 * Everything is opened relative to descriptors (openat()), never by a
 * path from "/": renaming a directory halfway cannot redirect us.
 * Linux 5.6 has a single call for step 2, openat2() with
 * RESOLVE_BENEATH, which also allows symbolic links that stay inside;
 * this version works on every POSIX system. See README for the limits.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

/* Join `cwd` ("" for ROOT itself, else like "a/b") and a client's
 * `name` into a normalised path relative to ROOT, written to `out`
 * ("" again for ROOT). Returns NULL, or a message saying why the name
 * is refused. */
const char *
resolve_path(const char *cwd, const char *name, char *out, size_t out_size)
{
    if (name[0] == '/')
        return "absolute names are not allowed: names are relative to "
               "the current directory";
    if (has_control_bytes(name, strlen(name)))
        return "control bytes in name";
    size_t len = strlen(cwd);
    if (len >= out_size)
        return "name too long";
    memcpy(out, cwd, len + 1);

    /* lab:begin resolve_path */
    while (*name != '\0') {
        size_t part = strcspn(name, "/");
        if (part == 2 && strncmp(name, "..", 2) == 0) {
            /* slide:begin dotdot */
            if (len == 0)
                return "outside the served directory";
            while (len > 0 && out[len - 1] != '/')
                len--; /* drop the last component ... */
            if (len > 0)
                len--; /* ... and the '/' before it */
            out[len] = '\0';
            /* slide:end dotdot */
        } else if (part == 0 || (part == 1 && name[0] == '.')) {
            /* "a//b" and "./a": nothing to add */
        } else if (strncmp(name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) == 0) {
            return "names starting with " PARTIAL_PREFIX " are reserved";
        } else {
            if (len + (len > 0) + part >= out_size)
                return "name too long";
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, name, part);
            len += part;
            out[len] = '\0';
        }
        name += part;
        if (*name == '/')
            name++;
    }
    /* lab:end resolve_path */
    return NULL;
}

/* Open `path` (as made by resolve_path) beneath root_fd, following no
 * symbolic link on the way. `flags` and `mode` are open()'s. Returns a
 * descriptor, or -1 with errno set: ELOOP where a symbolic link stood
 * in the way. */
int
open_beneath(int root_fd, const char *path, int flags, mode_t mode)
{
    /* lab:begin open_beneath */
    if (*path == '\0')
        return openat(root_fd, ".", flags, mode);

    int dir_fd = root_fd;
    for (;;) {
        size_t part = strcspn(path, "/");
        char name[MAX_PATH];
        memcpy(name, path, part);
        name[part] = '\0';
        path += part;

        /* slide:begin nofollow */
        int last = *path == '\0';
        int fd =
            last ? openat(dir_fd, name, flags | O_NOFOLLOW, mode)
                 : openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        /* slide:end nofollow */
        /* Asked for a directory, a symbolic link gives ENOTDIR rather
         * than ELOOP: say what really stood in the way. */
        struct stat st;
        if (fd < 0 && errno == ENOTDIR &&
            fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            errno = ELOOP;
        int saved_errno = errno;
        if (dir_fd != root_fd)
            close(dir_fd);
        errno = saved_errno;
        if (fd < 0 || last)
            return fd;
        dir_fd = fd;
        path++; /* the '/' */
    }
    /* lab:end open_beneath */
}

/* Open the directory that contains `path` (which must not be ""), and
 * point *last at the path's last component. Returns a descriptor, or -1
 * with errno set. */
int
open_parent(int root_fd, const char *path, const char **last)
{
    const char *slash = strrchr(path, '/');
    char parent[MAX_PATH];
    size_t parent_len = slash == NULL ? 0 : (size_t)(slash - path);
    memcpy(parent, path, parent_len);
    parent[parent_len] = '\0';
    *last = slash == NULL ? path : slash + 1;
    return open_beneath(root_fd, parent, O_RDONLY | O_DIRECTORY, 0);
}
