/*
 * users.h - part 2: the users file, and checking a password (users.c).
 */
#ifndef USERS_H
#define USERS_H

#include <sys/types.h>

#include "paths.h"

#define USER_NAME_MAX 32     /* characters in a user name */
#define HASH_ROUNDS "100000" /* SHA-512 crypt's work factor: see users.c */

/* One line of the users file: name:hash:home:perm:quota. */
struct user {
    char name[USER_NAME_MAX + 1];
    char *hash;          /* crypt(3) of the password, salt included */
    char home[MAX_PATH]; /* relative to ROOT: "alice", "staff/bob" */
    int read_only;       /* perm "ro": get, ls, cd, pwd and quota only */
    off_t quota;         /* bytes the user may store */
};

struct users {
    struct user *list;
    size_t count;
};

/* Each program defines its name, for messages like "server: ...". net.h
 * declares it too, for the programs that use sockets; users.c and
 * ftpuser.c do not include net.h. */
// NOLINTNEXTLINE(readability-redundant-declaration)
extern const char program_name[];

int load_users(const char *file, struct users *users);
void free_users(struct users *users);
const struct user *find_user(const struct users *users, const char *name);
const struct user *home_clash(const struct users *users,
                              const struct user *user);
const struct user *check_login(const struct users *users, const char *name,
                               const char *password);
int make_homes(int root_fd, const struct users *users);

/* For ftpuser, which writes the file. */
const char *check_user_name(const char *name);
const char *check_home(const char *home);
char *hash_password(const char *password);

#endif
