/*
 * 04_ftp/ftpuser.c - part 2: add a user to the file server's users
 * file, or change one, without writing password hashes by hand.
 *
 * What to look at: main() reads the password (with the terminal's echo
 * off: password.c), hashes it with a fresh random salt (hash_password()
 * in users.c), and replaces the users file in one step, the way the
 * server stores an upload: a new file beside the old, then rename().
 *
 * Run:   ./ftpuser -f users.txt [-d HOME] [-q BYTES] [-r | -w] NAME
 *        (asks for NAME's password twice on a terminal; reads one line
 *        of standard input otherwise: echo secret | ./ftpuser ...)
 * Then:  ./server -u users.txt
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "password.h"
#include "proto.h"
#include "users.h"

#define DEFAULT_QUOTA 104857600 /* bytes: 100 MiB */

const char program_name[] = "ftpuser";

struct options {
    const char *file;  /* -f: the users file */
    const char *home;  /* -d, or NULL: keep (new user: NAME) */
    const char *quota; /* -q, or NULL: keep (new user: DEFAULT_QUOTA) */
    int read_only;     /* -r: 1, -w: 0, neither: -1 (keep; new: rw) */
    const char *name;
};

static void parse_args(int argc, char *argv[], struct options *opt);
static int make_entry(const struct users *users, const struct options *opt,
                      struct user *user);
static int set_password(struct user *user);
static int write_users_file(const char *file, const struct user *user);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    struct options opt = {NULL, NULL, NULL, -1, NULL};
    parse_args(argc, argv, &opt);

    /* The users already there. A file with a bad line is not rewritten:
     * load_users() says where the line is, to fix it by hand. */
    struct users users = {NULL, 0};
    if (access(opt.file, F_OK) == 0 && load_users(opt.file, &users) < 0)
        return 1;
    int is_new = find_user(&users, opt.name) == NULL;

    /* The new line: the old one's fields, changed by the options, and
     * the new password's hash. */
    struct user user;
    int status = 1;
    if (make_entry(&users, &opt, &user) < 0 || set_password(&user) < 0)
        goto free_users;

    if (write_users_file(opt.file, &user) == 0) {
        printf("%s %s in %s: home %s, %s, quota %lld bytes\n",
               is_new ? "added" : "updated", user.name, opt.file, user.home,
               user.read_only ? "ro" : "rw", (long long)user.quota);
        status = 0;
    }
    free(user.hash);
free_users:
    free_users(&users);
    return status;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: ftpuser [-h] -f USERS_FILE [-d HOME] [-q BYTES] "
            "[-r | -w] NAME\n"
            "  Add user NAME to USERS_FILE (created if missing), or change "
            "them.\n"
            "  The password is read from the terminal (twice, not shown),\n"
            "  or as one line of standard input when that is not a "
            "terminal.\n"
            "  -d HOME   home directory, relative to the server's ROOT\n"
            "            (new users: NAME)\n"
            "  -q BYTES  quota: bytes the user may store (new users: %d)\n"
            "  -r, -w    read-only, or read-write (new users: -w)\n"
            "Options not given keep their value for an existing user.\n",
            DEFAULT_QUOTA);
    exit(status);
}

static void
parse_args(int argc, char *argv[], struct options *opt)
{
    int c;
    while ((c = getopt(argc, argv, "hf:d:q:rw")) != -1) {
        if (c == 'f')
            opt->file = optarg;
        else if (c == 'd')
            opt->home = optarg;
        else if (c == 'q')
            opt->quota = optarg;
        else if (c == 'r' || c == 'w')
            opt->read_only = c == 'r';
        else
            usage(c == 'h' ? stdout : stderr, c == 'h' ? 0 : 2);
    }
    if (opt->file == NULL || argc - optind != 1)
        usage(stderr, 2);
    opt->name = argv[optind];
}

/* Fill *user (all but the hash) for opt->name: an existing user's
 * fields, or a new user's defaults, then what the options change.
 * Returns 0, or -1 after printing what is wrong. */
static int
make_entry(const struct users *users, const struct options *opt,
           struct user *user)
{
    const char *problem = check_user_name(opt->name);
    if (problem != NULL) {
        fprintf(stderr, "ftpuser: %s: %s\n", opt->name, problem);
        return -1;
    }
    const struct user *old = find_user(users, opt->name);
    if (old != NULL) {
        *user = *old;
    } else {
        snprintf(user->name, sizeof user->name, "%s", opt->name);
        snprintf(user->home, sizeof user->home, "%s", opt->name);
        user->read_only = 0;
        user->quota = DEFAULT_QUOTA;
    }

    if (opt->home != NULL && (problem = check_home(opt->home)) != NULL) {
        fprintf(stderr, "ftpuser: -d %s: %s\n", opt->home, problem);
        return -1;
    }
    if (opt->home != NULL)
        snprintf(user->home, sizeof user->home, "%s", opt->home);
    if (opt->quota != NULL && parse_size(opt->quota, &user->quota) < 0) {
        fprintf(stderr, "ftpuser: -q %s: the quota is a number of bytes\n",
                opt->quota);
        return -1;
    }
    if (opt->read_only >= 0)
        user->read_only = opt->read_only;

    const struct user *clash = home_clash(users, user);
    if (clash != NULL) {
        fprintf(stderr,
                "ftpuser: home %s overlaps %s's home %s: each user needs "
                "a home of their own (-d)\n",
                user->home, clash->name, clash->home);
        return -1;
    }
    return 0;
}

static int ask_password(const char *name, char *password, size_t size);

/* Ask for the new password, and set user->hash to its hash. Returns 0,
 * or -1 after printing why not. */
static int
set_password(struct user *user)
{
    char password[PASSWORD_MAX + 1];
    if (ask_password(user->name, password, sizeof password) < 0)
        return -1;
    user->hash = hash_password(password);
    memset(password, 0, sizeof password); /* no copy left lying around */
    if (user->hash == NULL) {
        fprintf(stderr, "ftpuser: cannot hash the password: %s\n",
                errno == ENOSYS ? "this system's crypt(3) has no SHA-512 "
                                  "($6$); see USERS.md"
                                : strerror(errno));
        return -1;
    }
    return 0;
}

/* Read the new password: twice on a terminal, to catch a typing
 * mistake nobody could see. Returns 0, or -1 after printing why. */
static int
ask_password(const char *name, char *password, size_t size)
{
    char prompt[64 + USER_NAME_MAX];
    snprintf(prompt, sizeof prompt, "password for %s: ", name);
    int len = read_password(prompt, password, size);
    if (len < 0) {
        if (errno == EMSGSIZE)
            fprintf(stderr, "ftpuser: password too long (at most %d bytes)\n",
                    PASSWORD_MAX);
        else
            fprintf(stderr, "ftpuser: no password given\n");
        return -1;
    }
    if (len == 0 || has_control_bytes(password, (size_t)len)) {
        fprintf(stderr, "ftpuser: %s\n",
                len == 0 ? "the password is empty"
                         : "control characters cannot be sent in a "
                           "login line: use printable ones");
        return -1;
    }
    if (isatty(STDIN_FILENO)) {
        char again[PASSWORD_MAX + 1];
        int same = read_password("again: ", again, sizeof again) >= 0 &&
                   strcmp(password, again) == 0;
        memset(again, 0, sizeof again);
        if (!same) {
            fprintf(stderr, "ftpuser: the passwords differ; nothing "
                            "changed\n");
            return -1;
        }
    }
    return 0;
}

/*** Writing the users file ***/

/* Is `line` the users file's line for user `name`? */
static int
is_line_of(const char *line, const char *name)
{
    size_t len = strlen(name);
    return strncmp(line, name, len) == 0 && line[len] == ':';
}

/* One line of the users file. */
static void
print_user(FILE *out, const struct user *user)
{
    fprintf(out, "%s:%s:%s:%s:%lld\n", user->name, user->hash, user->home,
            user->read_only ? "ro" : "rw", (long long)user->quota);
}

/* Write the users file again with `user`'s line in place of its old
 * one, or added at the end; every other line, comments included, stays
 * as it was. The text goes to a new file beside the old one (mode 0600:
 * password hashes are for the server's eyes), which rename() then puts
 * in the old one's place in one step: a crash or a full disk never
 * leaves half a users file. Returns 0, or -1 after printing why. */
static int
write_users_file(const char *file, const struct user *user)
{
    size_t tmp_size = strlen(file) + sizeof ".XXXXXX";
    char *tmp = malloc(tmp_size);
    if (tmp == NULL) {
        fprintf(stderr, "ftpuser: %s\n", strerror(errno));
        return -1;
    }
    snprintf(tmp, tmp_size, "%s.XXXXXX", file);
    int fd = mkstemp(tmp); /* creates it, mode 0600, with a unique name */
    FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
    if (out == NULL) {
        fprintf(stderr, "ftpuser: %s: %s\n", fd < 0 ? tmp : file,
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return -1;
    }

    FILE *in = fopen(file, "r"); /* NULL: a new file */
    if (in == NULL)
        fprintf(out, "# users of the sockstep file server (04_ftp), one a "
                     "line: name:hash:home:perm:quota\n");
    char *line = NULL;
    size_t line_size = 0;
    ssize_t len = 0;
    int replaced = 0;
    int ends_in_newline = 1;
    while (in != NULL && (len = getline(&line, &line_size, in)) >= 0) {
        if (!is_line_of(line, user->name)) {
            fputs(line, out);
            ends_in_newline = line[len - 1] == '\n';
        } else if (!replaced) {
            print_user(out, user);
            replaced = ends_in_newline = 1;
        }
    }
    if (!replaced) {
        if (!ends_in_newline)
            fputc('\n', out);
        print_user(out, user);
    }
    free(line);

    /* fflush and fsync: the new file's bytes are on disk before rename()
     * makes it the users file. */
    int ok = !(in != NULL && ferror(in)) && fflush(out) == 0 &&
             fsync(fileno(out)) == 0;
    int err = errno;
    if (fclose(out) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (in != NULL)
        fclose(in);
    if (ok && rename(tmp, file) < 0) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        fprintf(stderr, "ftpuser: writing %s: %s\n", file, strerror(err));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}
