/*
 * session_users.h - part 2's server: what server_users.c (the options,
 * the users file, the hooks) and session_users.c (a session's login,
 * quota, and who may do what) share.
 */
#ifndef SESSION_USERS_H
#define SESSION_USERS_H

#include <stddef.h>
#include <sys/types.h>

#include "proto.h"
#include "session.h"
#include "users.h"

/* Part 2's requests, after part 1's (proto.h). */
enum { CMD_LOGIN = CMD_MORE, CMD_QUOTA };

/* server_users.c: what the options set. */
extern const struct users *server_users; /* NULL without -u: no login */
extern int login_delay_ms; /* after a failed login; doubles each time */

/* session_users.c */
const char *access_refusal(const struct session *s, const struct request *req);
int do_login(struct session *s, const char *name_and_password);
int do_quota(struct session *s);
int reserve_room(struct session *s, off_t need);
void release_room(struct session *s);
void hide_password(char *request, size_t size);

#endif
