/*
 * users.c - part 2: who may use the file server. The users file, one
 * user per line, like /etc/passwd:
 *
 *     # name:hash:home:perm:quota
 *     alice:$6$rounds=100000$8vX...$Qk1...:alice:rw:104857600
 *
 * name is 1 to 32 of a-z, 0-9, _ and -; hash is crypt(3) of the
 * password (made by ftpuser, never typed by hand); home is a directory
 * below ROOT, which becomes the user's "/"; perm is rw, or ro for a
 * user who may only read; quota is how many bytes the user may store.
 *
 * What to look at: check_login(), which takes as long for a name that
 * does not exist as for one that does, and compares hashes without
 * stopping at the first difference; and hash_password(), which salts
 * every password with 16 random characters, so that two users with the
 * same password get different hashes.
 */

/* crypt() is not in POSIX's base, but in its X/Open System Interfaces
 * (XSI) option: _XOPEN_SOURCE asks <unistd.h> for it (musl, macOS). */
#define _XOPEN_SOURCE 700

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* glibc systems declare crypt() in <crypt.h> (from libxcrypt, whose
 * library -lcrypt the Makefile adds on Linux) and no longer in
 * <unistd.h>. Other systems may have no <crypt.h> at all. */
#if defined(__has_include)
#if __has_include(<crypt.h>)
#include <crypt.h>
#endif
#endif

#include "paths.h"
#include "proto.h"
#include "quota.h"
#include "users.h"

#define HASH_METHOD "$6$" /* SHA-512 crypt, in glibc, libxcrypt and musl */
#define SALT_CHARS 16     /* SHA-512 crypt's longest salt */

static const char *parse_user(char *line, struct user *user);
static const char *check_method(const char *hash, char *known, size_t size);
static const char *add_user(struct users *users, const struct user *user,
                            char *why, size_t why_size);

/*** The users file ***/

/* Read the users file into *users. Returns 0, or -1 after printing what
 * is wrong: "server: users.txt:3: quota is not a number". */
int
load_users(const char *file, struct users *users)
{
    users->list = NULL;
    users->count = 0;
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", program_name, file, strerror(errno));
        return -1;
    }

    char *line = NULL;
    size_t line_size = 0;
    unsigned long line_no = 0;
    const char *problem = NULL;
    char why[2 * MAX_PATH + 128]; /* a message naming two homes */
    char method[16] = "";         /* the last hash method crypt() knew */
    while (problem == NULL && getline(&line, &line_size, f) >= 0) {
        line_no++;
        const char *text = line + strspn(line, " \t\r\n");
        if (*text == '\0' || *text == '#')
            continue; /* a blank line, or a comment */
        struct user user;
        problem = parse_user(line, &user);
        if (problem == NULL)
            problem = check_method(user.hash, method, sizeof method);
        if (problem == NULL)
            problem = add_user(users, &user, why, sizeof why);
    }
    if (problem == NULL && ferror(f))
        problem = strerror(errno);
    free(line);
    fclose(f);

    if (problem != NULL) {
        fprintf(stderr, "%s: %s:%lu: %s\n", program_name, file, line_no,
                problem);
        free_users(users);
        return -1;
    }
    return 0;
}

/* Split a line "name:hash:home:perm:quota" into *user and check every
 * field. user->hash points into `line`, which is changed. Returns NULL,
 * or a message saying what is wrong. */
static const char *
parse_user(char *line, struct user *user)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *field[5];
    size_t count = 0;
    for (char *p = line; p != NULL; count++) {
        if (count == 5)
            return "more than 5 fields: expected name:hash:home:perm:quota";
        field[count] = p;
        p = strchr(p, ':');
        if (p != NULL)
            *p++ = '\0'; /* end this field; the next starts after ':' */
    }
    if (count < 5)
        return "fewer than 5 fields: expected name:hash:home:perm:quota";

    const char *problem = check_user_name(field[0]);
    if (problem != NULL)
        return problem;
    /* fits: check_user_name() said so */
    memcpy(user->name, field[0], strlen(field[0]) + 1);

    if (field[1][0] != '$')
        return "the password hash is not a crypt(3) string like "
               "$6$...: make it with ftpuser";
    user->hash = field[1];

    problem = check_home(field[2]);
    if (problem != NULL)
        return problem;
    memcpy(user->home, field[2], strlen(field[2]) + 1); /* checked too */

    if (strcmp(field[3], "ro") != 0 && strcmp(field[3], "rw") != 0)
        return "permission must be ro or rw";
    user->read_only = strcmp(field[3], "ro") == 0;

    if (parse_size(field[4], &user->quota) < 0)
        return "quota is not a number";
    return NULL;
}

/* Can this system's crypt(3) check `hash`? Each crypt method has its
 * own prefix: "$6$" (SHA-512), "$y$" (yescrypt), "$2b$" (bcrypt)...
 * macOS's crypt() knows none of them (only DES), and a damaged hash
 * matches nothing: either way nobody could log in, so say it at start.
 * One crypt() per method, remembered in `known`. Returns NULL, or what
 * is wrong. */
static const char *
check_method(const char *hash, char *known, size_t size)
{
    const char *end = strchr(hash + 1, '$');
    size_t len = end != NULL ? (size_t)(end - hash) + 1 : 0;
    if (len > 0 && len < size && strncmp(hash, known, len) == 0 &&
        known[len] == '\0')
        return NULL; /* checked already */
    /* cppcheck-suppress cryptCalled ; the server has no threads */
    const char *computed = crypt("", hash);
    if (len == 0 || computed == NULL || strncmp(computed, hash, len) != 0)
        return "crypt(3) here cannot check this hash: a method this "
               "system does not know (see USERS.md), or a damaged hash";
    if (len < size) {
        memcpy(known, hash, len);
        known[len] = '\0';
    }
    return NULL;
}

/* Is a user name 1 to USER_NAME_MAX of a-z, 0-9, '_' and '-'? Returns
 * NULL, or what is wrong. (Such a name is also safe as a file name, in
 * ROOT/.quota, and cannot contain the protocol's '|'.) */
const char *
check_user_name(const char *name)
{
    size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    if (len == 0 || name[len] != '\0' || len > USER_NAME_MAX)
        return "a user name is 1 to 32 of a-z, 0-9, _ and -";
    return NULL;
}

/* Is `home` a directory below ROOT, written plainly ("alice",
 * "staff/bob")? It goes through resolve_path(), as every name a client
 * sends does, and must come out unchanged: no leading '/', no "." or
 * "..", no empty part. ROOT itself is nobody's home, and neither is
 * ROOT/.quota, where the quota ledgers are. Returns NULL, or what is
 * wrong. */
const char *
check_home(const char *home)
{
    char resolved[MAX_PATH];
    if (home[0] == '\0' ||
        resolve_path("", home, resolved, sizeof resolved) != NULL ||
        strcmp(resolved, home) != 0)
        return "home must be a directory below ROOT, like alice or "
               "staff/alice (no leading /, no . or ..)";
    size_t n = strlen(QUOTA_DIR);
    if (strncmp(home, QUOTA_DIR, n) == 0 && (home[n] == '\0' || home[n] == '/'))
        return "home " QUOTA_DIR " is where the server keeps quotas";
    return NULL;
}

/* Is path `a` the directory `b`, or below it? */
static int
is_inside(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* Another user whose home is `user`'s, or above or below it, or NULL.
 * Each home must be its owner's alone: a user whose home held another's
 * could read and change that user's files, and the files below would
 * count against both quotas. */
const struct user *
home_clash(const struct users *users, const struct user *user)
{
    for (size_t i = 0; i < users->count; i++) {
        const struct user *other = &users->list[i];
        if (strcmp(other->name, user->name) != 0 &&
            (is_inside(other->home, user->home) ||
             is_inside(user->home, other->home)))
            return other;
    }
    return NULL;
}

/* Append a checked user to the list, unless the name is taken or the
 * homes overlap. Returns NULL, or why not (written to `why`). */
static const char *
add_user(struct users *users, const struct user *user, char *why,
         size_t why_size)
{
    const struct user *clash = home_clash(users, user);
    if (find_user(users, user->name) != NULL) {
        snprintf(why, why_size, "user %s is already defined", user->name);
        return why;
    }
    if (clash != NULL) {
        snprintf(why, why_size,
                 "home %s overlaps %s's home %s: each user needs a "
                 "home of their own",
                 user->home, clash->name, clash->home);
        return why;
    }
    struct user *grown =
        realloc(users->list, (users->count + 1) * sizeof *grown);
    char *hash = strdup(user->hash);
    if (grown != NULL)
        users->list = grown;
    if (grown == NULL || hash == NULL) {
        free(hash);
        return strerror(ENOMEM);
    }
    users->list[users->count] = *user;
    users->list[users->count].hash = hash;
    users->count++;
    return NULL;
}

void
free_users(struct users *users)
{
    for (size_t i = 0; i < users->count; i++)
        free(users->list[i].hash);
    free(users->list);
    users->list = NULL;
    users->count = 0;
}

const struct user *
find_user(const struct users *users, const char *name)
{
    for (size_t i = 0; i < users->count; i++)
        if (strcmp(users->list[i].name, name) == 0)
            return &users->list[i];
    return NULL;
}

/*** Homes ***/

/* Create `home` below root_fd if it is missing, and the directories
 * above it: mkdir -p, one directory at a time through open_parent(),
 * which follows no symbolic link. Sets *created if it made the home.
 * Returns 0, or -1 with errno set. */
static int
make_home(int root_fd, const char *home, int *created)
{
    char path[MAX_PATH];
    size_t len = strlen(home);
    memcpy(path, home, len + 1);
    *created = 0;
    for (size_t end = 1; end <= len; end++) {
        if (path[end] != '/' && path[end] != '\0')
            continue;
        path[end] = '\0'; /* path is now "staff", then "staff/bob" */
        const char *last;
        int dir_fd = open_parent(root_fd, path, &last);
        if (dir_fd < 0)
            return -1;
        int made = mkdirat(dir_fd, last, 0755);
        int err = errno;
        close(dir_fd);
        if (made < 0 && err != EEXIST) {
            errno = err;
            return -1;
        }
        *created = made == 0;
        path[end] = home[end];
    }
    /* Whatever was there already must be a directory, and no link. */
    int fd = open_beneath(root_fd, home, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Make every user's home that is missing. Returns 0, or -1 after
 * printing why. */
int
make_homes(int root_fd, const struct users *users)
{
    for (size_t i = 0; i < users->count; i++) {
        int created;
        if (make_home(root_fd, users->list[i].home, &created) < 0) {
            fprintf(stderr, "%s: home %s of user %s: %s\n", program_name,
                    users->list[i].home, users->list[i].name, strerror(errno));
            return -1;
        }
        if (created)
            fprintf(stderr, "created home %s\n", users->list[i].home);
    }
    return 0;
}

/*** Passwords ***/

/* Are two strings equal? Takes a time that depends on their lengths
 * only, never on where they first differ: strcmp() returns at the first
 * difference, and an attacker who can time many tries learns from it
 * how much of a guess was right. (Comparing salted hashes, that would
 * leak little; comparing secrets this way is a habit worth having.) */
static int
same_string(const char *a, const char *b)
{
    size_t len_a = strlen(a);
    size_t len_b = strlen(b);
    size_t len = len_a > len_b ? len_a : len_b;
    unsigned char diff = len_a != len_b;
    for (size_t i = 0; i < len; i++) {
        unsigned char x = i < len_a ? (unsigned char)a[i] : 0;
        unsigned char y = i < len_b ? (unsigned char)b[i] : 0;
        diff |= x ^ y; /* OR collects every difference; no early exit */
    }
    return diff == 0;
}

/* The user with this name and password, or NULL. crypt(3) hashes the
 * password with the salt and method written at the start of the stored
 * hash (its "setting"), and the result must equal the stored hash.
 * For a name that does not exist, a real user's hash is checked all the
 * same and the answer ignored: the reply then takes as long as for a
 * name that exists, and its timing does not tell which names do.
 * crypt() returns a static buffer: fine in a process per session. */
const struct user *
check_login(const struct users *users, const char *name, const char *password)
{
    if (users->count == 0)
        return NULL;
    const struct user *user = find_user(users, name);
    const char *hash = user != NULL ? user->hash : users->list[0].hash;
    /* cppcheck-suppress cryptCalled ; a process per session, no threads */
    const char *computed = crypt(password, hash);
    int match = computed != NULL && same_string(computed, hash);
    return user != NULL && match ? user : NULL;
}

/* Fill buf with random bytes from the kernel. Returns 0, or -1 with
 * errno set. */
static int
read_random(unsigned char *buf, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            errno = n == 0 ? EIO : errno;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    close(fd);
    return 0;
}

/* Hash a new password for the users file: SHA-512 crypt, with
 * HASH_ROUNDS rounds and a random salt. The rounds make each guess an
 * attacker tries cost as much as a login (about 50 ms); the salt makes
 * equal passwords hash differently, so that no table of hashes made in
 * advance helps. Returns a string to free(), or NULL with errno set. */
char *
hash_password(const char *password)
{
    /* crypt's alphabet: 64 characters, so random byte % 64 picks each
     * with the same chance (256 is a multiple of 64). */
    static const char alphabet[] = "./0123456789"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz";
    unsigned char random[SALT_CHARS];
    if (read_random(random, sizeof random) < 0)
        return NULL;
    char setting[64] = HASH_METHOD "rounds=" HASH_ROUNDS "$";
    size_t len = strlen(setting);
    for (size_t i = 0; i < sizeof random; i++)
        setting[len++] = alphabet[random[i] % 64];
    setting[len++] = '$';
    setting[len] = '\0';

    /* cppcheck-suppress cryptCalled ; ftpuser has no threads */
    const char *hash = crypt(password, setting);
    /* A crypt() without SHA-512 (macOS has only DES) returns NULL, a
     * failure string such as "*0", or a DES hash: none starts with $6$. */
    if (hash == NULL || strncmp(hash, HASH_METHOD, strlen(HASH_METHOD)) != 0) {
        errno = ENOSYS;
        return NULL;
    }
    return strdup(hash);
}
