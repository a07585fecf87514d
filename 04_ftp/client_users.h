/*
 * client_users.h - part 2's client: what client_login.c (login, quota,
 * and the table of hooks that adds part 2's commands to the shell) and
 * client_tree.c (get -r, put -r) share.
 */
#ifndef CLIENT_USERS_H
#define CLIENT_USERS_H

#include <sys/types.h>

#include "proto.h"

int cmd_login(struct reader *server, const char *arg);
int cmd_quota(struct reader *server, const char *arg);
int ask_quota(struct reader *server, off_t *used, off_t *limit);

int cmd_get_tree(struct reader *server, const char *arg);
int cmd_put_tree(struct reader *server, const char *arg);

#endif
