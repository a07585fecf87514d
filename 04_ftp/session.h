/*
 * session.h - one client's session with the file server. server.c
 * starts one per client, with serve_session() (session.c: the loop of
 * request and reply). The commands are carried out in
 * session_transfer.c (get, put) and session_dirs.c (ls, cd, mkdir,
 * delete).
 */
#ifndef SESSION_H
#define SESSION_H

#include <sys/types.h>

#include "paths.h"
#include "proto.h"

void serve_session(int fd, int root_fd, const char *peer, int idle_timeout_s);

/*** Shared by the session's files ***/

#define LOG_REQUEST_SIZE 120 /* bytes of a request shown in the log */

/* A session's state: one client, served by one process. */
struct session {
    int fd;                         /* the client's socket */
    int root_fd;                    /* ROOT, the directory served */
    const char *peer;               /* the client's address, for the log */
    char cwd[MAX_PATH];             /* current directory, relative to ROOT */
    char request[LOG_REQUEST_SIZE]; /* the request, printable, for the log */
    struct reader in;               /* requests, and the data of uploads */
    int idle_timeout_s;             /* the server's -t; 0: none */
};

/* session.c: replies. Each returns 0, or -1 when the connection is
 * gone. */
int reply(struct session *s, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int reply_errno(struct session *s, int err);

/* session.c: after a reply that ends the session while the client is
 * still sending, read and drop what comes, for at most `seconds` or
 * `max_bytes`, so that closing does not destroy the reply. A line that
 * cannot be read: LINE_LINGER_*; an upload's data after an error reply
 * (session_transfer.c): UPLOAD_LINGER_S, and all of it. */
void close_gently(int fd, double seconds, size_t max_bytes);
#define LINE_LINGER_S 1.0
#define LINE_LINGER_BYTES ((size_t)1024 * 1024)
#define UPLOAD_LINGER_S 5.0

/* The commands. Each replies, and returns 0 to go on with the session,
 * -1 when it must end (the connection is gone, or the data stream can
 * no longer be trusted). `path` has been through resolve_path(). */
int do_get(struct session *s, off_t offset, const char *path);
int do_put(struct session *s, off_t size, const char *path);
int do_ls(struct session *s, const char *path);
int do_cd(struct session *s, const char *path);
int do_delete(struct session *s, const char *path);
int do_mkdir(struct session *s, const char *path);

#endif
