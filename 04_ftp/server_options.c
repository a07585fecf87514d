/*
 * server_options.c - the server's command line: getopt() flags, each
 * checked, then the port. A usage error prints the usage and exits 2.
 *
 * Part 1 needs only -d ROOT and PORT. Part 2 adds -u USERS_FILE (users
 * who log in), -w (the delay after a failed login), -t (the idle
 * timeout) and -m (the most sessions at once).
 */
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net.h"
#include "server_options.h"

#define DEFAULT_PORT "9004"
#define DEFAULT_ROOT "ftp_root"
#define DEFAULT_LOGIN_DELAY_MS 1000 /* part 2: -w */
#define DEFAULT_IDLE_TIMEOUT_S 300  /* part 2: -t */
#define DEFAULT_MAX_SESSIONS 100    /* part 2: -m */

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: server [-h] [-d ROOT] [-u USERS_FILE] [-w MS] "
            "[-t SECONDS] [-m MAX] [PORT]\n"
            "  -d ROOT        directory to serve (default ./" DEFAULT_ROOT
            ", created if missing)\n"
            "  -u USERS_FILE  clients log in as users of this file (see "
            "ftpuser),\n"
            "                 each in a home below ROOT (default: no "
            "users, no login)\n"
            "  -w MS          delay after a failed login, doubled each "
            "time (default %d)\n"
            "  -t SECONDS     close a session silent this long, or slower "
            "than this\n"
            "                 to send a request line (default %d; 0 = "
            "never)\n"
            "  -m MAX         at most MAX sessions at once (default %d)\n"
            "  PORT           TCP port to listen on (default " DEFAULT_PORT
            "; 0 = any free port)\n",
            DEFAULT_LOGIN_DELAY_MS, DEFAULT_IDLE_TIMEOUT_S,
            DEFAULT_MAX_SESSIONS);
    exit(status);
}

/* The number given to option -`letter`, from `min` to `max`; a usage
 * error (exit 2) if it is not one. */
static int
number_option(int letter, const char *arg, int min, int max)
{
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 || n < min ||
        n > max) {
        fprintf(stderr, "server: -%c %s: use a number from %d to %d\n", letter,
                arg, min, max);
        usage(stderr, 2);
    }
    return (int)n;
}

/* Fill *opt from the command line, the defaults first. */
void
parse_options(int argc, char *argv[], struct options *opt)
{
    *opt = (struct options){
        .root = DEFAULT_ROOT,
        .port = DEFAULT_PORT,
        .max_sessions = DEFAULT_MAX_SESSIONS,
        .session = {.login_delay_ms = DEFAULT_LOGIN_DELAY_MS,
                    .idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S},
    };
    int c;
    while ((c = getopt(argc, argv, "hd:u:w:t:m:")) != -1) {
        if (c == 'd')
            opt->root = optarg;
        else if (c == 'u')
            opt->users_file = optarg;
        else if (c == 'w')
            opt->session.login_delay_ms = number_option(c, optarg, 0, 60000);
        else if (c == 't')
            opt->session.idle_timeout_s = number_option(c, optarg, 0, 86400);
        else if (c == 'm')
            opt->max_sessions = number_option(c, optarg, 1, 100000);
        else
            usage(c == 'h' ? stdout : stderr, c == 'h' ? 0 : 2);
    }
    if (argc - optind > 1)
        usage(stderr, 2);
    if (argc - optind == 1)
        opt->port = argv[optind];
    if (!is_port_number(opt->port)) {
        fprintf(stderr,
                "server: bad port '%s': use a number from 0 to "
                "65535\n",
                opt->port);
        usage(stderr, 2);
    }
}
