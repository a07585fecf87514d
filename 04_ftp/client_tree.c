/*
 * client_tree.c - part 2: get -r and put -r, which move a whole tree of
 * directories and regular files with part 1's commands alone: ls and
 * get to fetch one, mkdir and put to send one. The client does the
 * walking; the server needs nothing new.
 *
 * What to look at: list_local_dir() and list_remote_dir(), which skip
 * symbolic links on both sides and refuse a server's name that would
 * lead outside the tree; and put_tree(), which asks the quota first and
 * refuses a tree that cannot fit before anything is sent.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_users.h"
#include "proto.h"

/* What get -r and put -r move: directories and regular files, each
 * directory listed before what it holds. */
struct tree_entry {
    char *path; /* below the top of the tree: "a.txt", "sub/b.txt" */
    char type;  /* 'd' or 'f' */
    off_t size;
};

/* How far a tree has got: its regular files, and their sizes. */
struct tree_progress {
    int files, files_done;   /* all, and those moved */
    off_t bytes, bytes_done; /* their sizes */
};

struct tree {
    struct tree_entry *entries;
    size_t count, capacity;
    struct tree_progress progress; /* its files and bytes, and how many
                                      of them have been moved */
};

/* The progress line of a whole tree, in place of each file's (struct
 * progress_line, client.h): "[3/10 files,  45%] NAME"; `have` counts
 * the bytes of the file in flight. tree_summary() ends it. */
static void
draw_tree_line(const char *name, off_t have, const void *arg, char *line,
               size_t size, int width)
{
    const struct tree_progress *t = arg;
    off_t done = t->bytes_done + have;
    int percent = t->bytes > 0 ? (int)(100.0 * (double)done / (double)t->bytes)
                               : 100 * t->files_done / t->files;
    int len = snprintf(line, size, "[%d/%d files, %3d%%] ", t->files_done + 1,
                       t->files, percent);
    if (len < 0 || (size_t)len >= size)
        return;
    snprintf(line + len, size - (size_t)len, "%.*s",
             fitting_bytes(name, width - len), name);
}

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
        tree->progress.files++;
        tree->progress.bytes += size;
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

/* After a tree: end the progress line, and say what was done. */
static int
tree_summary(const struct tree *tree, const char *done, const char *top,
             int result)
{
    const struct tree_progress *t = &tree->progress;
    if (isatty(STDERR_FILENO) && t->files > 0)
        fprintf(stderr, "\n");
    if (result == DONE)
        printf("%s %s: %d file%s, %lld bytes\n", done, top, t->files,
               t->files == 1 ? "" : "s", (long long)t->bytes);
    else
        fprintf(stderr, "stopped after %d of %d files\n", t->files_done,
                t->files);
    return result;
}

/* put -r: list the local directory TOP/REL into the tree. Symbolic
 * links are skipped, never followed: a link to /etc inside the tree
 * must not send /etc. lstat() tells a link from what it points to.
 * An unfinished download (.partial.NAME, client_transfer.c) is skipped
 * too: the server keeps such names for its own unfinished uploads. */
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
        } else if (strncmp(name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) ==
                   0) { /* an unfinished get's: a name the server refuses */
            fprintf(stderr, "put: skipping %s: an unfinished file\n", path);
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
    return read_reply(server, reply, sizeof reply, "exists");
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
    struct tree tree = {NULL, 0, 0, {0, 0, 0, 0}};
    int result = list_local_dir(&tree, dir, "");
    for (size_t i = 0; result == DONE && i < tree.count; i++)
        if (tree.entries[i].type == 'd')
            result = list_local_dir(&tree, dir, tree.entries[i].path);

    off_t used = 0;
    off_t limit = -1; /* no quota */
    if (result == DONE)
        result = ask_quota(server, &used, &limit);
    if (result == DONE && limit >= 0 && tree.progress.bytes > limit - used) {
        fprintf(stderr,
                "put: %s does not fit: %lld bytes to send, %lld of "
                "%lld bytes free\n",
                dir, (long long)tree.progress.bytes,
                (long long)(used < limit ? limit - used : 0), (long long)limit);
        result = FAILED;
    }

    if (result == DONE)
        result = remote_mkdir(server, top);
    const struct progress_line line = {draw_tree_line, &tree.progress};
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
            result = put_file(server, local, remote, &line);
        if (result == DONE && e->type == 'f') {
            tree.progress.files_done++;
            tree.progress.bytes_done += e->size;
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

    struct tree tree = {NULL, 0, 0, {0, 0, 0, 0}};
    int result = list_remote_dir(server, &tree, dir, "");
    for (size_t i = 0; result == DONE && i < tree.count; i++)
        if (tree.entries[i].type == 'd')
            result = list_remote_dir(server, &tree, dir, tree.entries[i].path);

    if (result == DONE)
        result = make_local_dir(top);
    const struct progress_line line = {draw_tree_line, &tree.progress};
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
            result = get_file(server, remote, local, &line);
        if (result == DONE && e->type == 'f') {
            tree.progress.files_done++;
            tree.progress.bytes_done += e->size;
        }
    }
    tree_summary(&tree, "received", top, result);
    free_tree(&tree);
    return result;
}

/* get [-r] NAME and put [-r] FILE, in place of part 1's get and put
 * (client_login.c's table of hooks): -r moves a tree, anything else is
 * part 1's command. */
int
cmd_get_tree(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "get [-r] NAME"))
        return FAILED;
    const char *dir = recursive_arg(arg);
    return dir != NULL ? get_tree(server, dir) : cmd_get(server, arg);
}

int
cmd_put_tree(struct reader *server, const char *arg)
{
    if (needs_arg(arg, "put [-r] FILE"))
        return FAILED;
    const char *dir = recursive_arg(arg);
    return dir != NULL ? put_tree(server, dir) : cmd_put(server, arg);
}
