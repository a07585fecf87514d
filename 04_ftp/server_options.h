/*
 * server_options.h - the server's command line (server_options.c).
 */
#ifndef SERVER_OPTIONS_H
#define SERVER_OPTIONS_H

#include "session.h"

struct options {
    const char *root;               /* -d: the directory to serve */
    const char *port;               /* PORT; "0": any free port */
    const char *users_file;         /* part 2: -u, or NULL: no users */
    int max_sessions;               /* part 2: -m */
    struct session_options session; /* part 2: -w, -t (users: later) */
};

void parse_options(int argc, char *argv[], struct options *opt);

#endif
