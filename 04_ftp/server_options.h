/*
 * server_options.h - the server's command line (server_options.c).
 */
#ifndef SERVER_OPTIONS_H
#define SERVER_OPTIONS_H

struct options {
    const char *root;   /* -d: the directory to serve */
    const char *port;   /* PORT; "0": any free port */
    int idle_timeout_s; /* -t: close a session silent this long; 0: never */
};

void parse_options(int argc, char *argv[], struct options *opt);
int number_option(int letter, const char *arg, int min, int max);

#endif
