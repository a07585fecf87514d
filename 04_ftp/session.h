/*
 * session.h - one client's session with the file server (session.c).
 */
#ifndef SESSION_H
#define SESSION_H

void serve_session(int fd, int root_fd, const char *peer);

#endif
