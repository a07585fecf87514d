/*
 * session.h - one client's session with the file server (session.c).
 */
#ifndef SESSION_H
#define SESSION_H

#include "users.h"

/* Part 2: what the server's options add to every session. */
struct session_options {
    const struct users *users; /* NULL without -u: no login, as in part 1 */
    int login_delay_ms;        /* after a failed login; doubles each time */
    int idle_timeout_s;        /* close a session silent this long; 0: never */
};

void serve_session(int fd, int root_fd, const char *peer,
                   const struct session_options *options);

#endif
