/*
 * proto.h - the file protocol of stage 04 (written down in PROTOCOL.md),
 * as the server and the client both use it: control lines, requests,
 * and the raw file bytes that follow a "ready" line.
 */
#ifndef PROTO_H
#define PROTO_H

#include <sys/types.h>

#define MAX_LINE 1024     /* bytes in a control line, '\n' included */
#define READER_SIZE 65536 /* bytes one recv() may bring in */
/* bytes per read() or recv() of file data, chosen by measuring
 * (SPEED.md): 1 MiB moved a get as fast as the kernel's zero-copy calls
 * did, 64 KiB did not. The buffer lives on the stack of a program with
 * one thread (8 MiB of stack); a thread's stack may be smaller. `make
 * bench` also builds the stage with 64 KiB and with 1 KiB, the source
 * article's size. */
#ifndef FILE_BUF_SIZE
#define FILE_BUF_SIZE (1024 * 1024)
#endif
#define PARTIAL_PREFIX ".partial." /* unfinished uploads: see PROTOCOL.md */

/*** Reading: lines, and the bytes after them ***/

/* A buffered reader for one connection. TCP delivers a stream, not
 * messages: one recv() may return half a line, or a line and the first
 * bytes of the file behind it. The reader keeps whatever it has read
 * past the current message, for the next one. */
struct reader {
    int fd;
    size_t start, end;  /* buf[start..end) is read but not yet used */
    int line_timeout_s; /* 0, or how long a line may take from its
                           first byte to its '\n' (the server's -t) */
    char buf[READER_SIZE];
};

/* What read_line() returns besides a line length. */
enum { LINE_EOF = -1, LINE_ERROR = -2, LINE_TOO_LONG = -3, LINE_TOO_SLOW = -4 };

void reader_init(struct reader *r, int fd);
ssize_t read_line(struct reader *r, char *line, size_t size);
ssize_t read_some(struct reader *r, void *buf, size_t len);

/*** Writing lines ***/

int send_line(int fd, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*** Requests (request.c) ***/

enum command {
    CMD_GET,
    CMD_PUT,
    CMD_LS,
    CMD_CD,
    CMD_PWD,
    CMD_DELETE,
    CMD_MKDIR,
    CMD_QUIT,
    CMD_MORE /* and up: requests a hook adds (hooks.h) */
};

/* A request's word: its command, and how many fields follow it: 0, 1
 * (NAME) or 2 (NUMBER|NAME). */
struct command_word {
    const char *word;
    int command;
    int fields;
};

/* A request, parsed. `name` points into the line it came from. */
struct request {
    int command;      /* an enum command, or a hook's (CMD_MORE and up) */
    off_t number;     /* get: the offset to start at; put: the file size */
    const char *name; /* the path argument, "" when there is none */
};

const char *parse_request(char *line, size_t len,
                          const struct command_word *more, struct request *req);
int parse_size(const char *s, off_t *size);
int has_control_bytes(const char *s, size_t len);

/*** File data ***/

typedef void progress_fn(off_t done, void *arg);

int send_file_data(int sock, int file_fd, off_t offset, off_t count);
int recv_file_data(struct reader *r, int file_fd, off_t count,
                   progress_fn *progress, void *progress_arg);

/*** Time ***/

double seconds_now(void);
int wait_readable(int fd, double deadline);

#endif
