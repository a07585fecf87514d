/*
 * server_options.c - the server's command line: getopt() flags, each
 * checked, then the port. A usage error prints the usage and exits 2.
 * -d ROOT and PORT say what to serve and where; -t SECONDS how long a
 * client may stay silent. A hook (hooks.h) may add options.
 */
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hooks.h"
#include "net.h"
#include "server_options.h"

#define DEFAULT_PORT "9004"
#define DEFAULT_ROOT "ftp_root"
#define DEFAULT_IDLE_TIMEOUT_S 300

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out,
            "usage: server [-h] [-d ROOT] [-t SECONDS]%s [PORT]\n"
            "  -d ROOT        directory to serve (default ./" DEFAULT_ROOT
            ", created if missing)\n"
            "  -t SECONDS     close a session silent this long, or slower "
            "than this\n"
            "                 to send a request line (default %d; 0 = "
            "never)\n",
            server_hooks.synopsis != NULL ? server_hooks.synopsis : "",
            DEFAULT_IDLE_TIMEOUT_S);
    if (server_hooks.usage != NULL)
        server_hooks.usage(out);
    fprintf(out, "  PORT           TCP port to listen on (default " DEFAULT_PORT
                 "; 0 = any free port)\n");
    exit(status);
}

/* The number given to option -`letter`, from `min` to `max`; a usage
 * error (exit 2) if it is not one. */
int
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
    *opt = (struct options){.root = DEFAULT_ROOT,
                            .port = DEFAULT_PORT,
                            .idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S};
    char letters[64];
    snprintf(letters, sizeof letters, "hd:t:%s", server_hooks.option_letters);
    int c;
    while ((c = getopt(argc, argv, letters)) != -1) {
        if (c == 'd')
            opt->root = optarg;
        else if (c == 't')
            opt->idle_timeout_s = number_option(c, optarg, 0, 86400);
        else if (c == 'h' || c == '?' || server_hooks.option == NULL ||
                 server_hooks.option(c, optarg) < 0)
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
