/*
 * 04_ftp/client.c - the file server's client: an interactive shell with
 * a ">>: " prompt on a terminal, a script runner when its input is a
 * file or a pipe (then its exit status says whether every command
 * worked). Its skeleton is stage 03's client: connect, then a line of
 * input at a time; what a line does is now a command, not an echo.
 *
 * Commands: get NAME, put FILE, ls [DIR], cd [DIR], pwd, delete NAME,
 * mkdir DIR, help, quit. Each sends one request line and reads one
 * reply line (PROTOCOL.md): client_requests.c. get and put move the
 * file's bytes in between (client_transfer.c), with a progress line on
 * a terminal (client_progress.c). An interrupted get or put resumes
 * where it stopped when the same command is given again.
 *
 * Part 2 (users) adds login NAME [PASSWORD] and quota
 * (client_login.c), and get -r and put -r, which move a whole
 * directory tree with the commands above (client_tree.c).
 *
 * What to look at: main(), the shell, and the table of commands below
 * it: a command is a word and the function that runs it.
 *
 * Run:   ./client [HOST [PORT]]    (default localhost 9004)
 */
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "net.h"
#include "proto.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9004"

const char program_name[] = "client";

static void parse_args(int argc, char *argv[], const char **host,
                       const char **port);
static int run_command(struct reader *server, char *line, int *quit);

int
main(int argc, char *argv[])
{
    open_standard_fds(); /* see net.c: no socket may take fd 0, 1 or 2 */
    const char *host = DEFAULT_HOST;
    const char *port = DEFAULT_PORT;
    parse_args(argc, argv, &host, &port);
    ignore_sigpipe(); /* see net.c: report a closed server, don't die */

    int fd = connect_to(host, port);
    if (fd < 0)
        return 1;
    static struct reader server; /* 64 KiB: not on the stack */
    reader_init(&server, fd);

    /* Prompt only for a person at a terminal, never into a script. One
     * line of output at a time, even into a pipe: results (stdout) and
     * errors (stderr) then appear in the order they happened. */
    int interactive = isatty(STDIN_FILENO);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *line = NULL;
    size_t line_cap = 0;
    int status = 0;
    for (;;) {
        if (interactive) {
            printf(">>: "); /* Python: raw_input(">>:") */
            fflush(stdout);
        }
        ssize_t len = getline(&line, &line_cap, stdin);
        int quit = len < 0; /* the end of the input says goodbye */
        int result =
            quit ? cmd_quit(&server, "") : run_command(&server, line, &quit);
        if (result != DONE)
            status = 1;
        if (quit || result == CONNECTION_LOST)
            break;
    }
    free(line);
    close(fd);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}

/*** Commands ***/

struct client_command {
    const char *word;
    int (*run)(struct reader *server, const char *arg);
    const char *usage, *help;
};

static int cmd_help(struct reader *server, const char *arg);

static const struct client_command commands[] = {
    {"get", cmd_get, "get [-r] NAME", "download NAME here (-r: a directory)"},
    {"put", cmd_put, "put [-r] FILE", "upload FILE (-r: a directory)"},
    {"ls", cmd_ls, "ls [DIR]", "list a directory on the server"},
    {"cd", cmd_cd, "cd [DIR]", "change directory on the server"},
    {"pwd", cmd_pwd, "pwd", "show the server's current directory"},
    {"delete", cmd_delete, "delete NAME", "delete a file or empty directory"},
    {"mkdir", cmd_mkdir, "mkdir DIR", "make a directory"},
    {"login", cmd_login, "login NAME [PASSWORD]",
     "log in (no PASSWORD: asked, not shown)"},
    {"quota", cmd_quota, "quota", "bytes stored, and how many may be"},
    {"help", cmd_help, "help", "this list"},
    {"quit", cmd_quit, "quit", "leave (so does end of input)"},
};

static const struct client_command *
find_command(const char *word)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(word, commands[i].word) == 0)
            return &commands[i];
    return NULL;
}

/* Run one line of input: its first word names the command, the rest of
 * the line (spaces and all) is the command's argument. Sets *quit after
 * quit. Returns DONE (an empty line too), FAILED or CONNECTION_LOST. */
static int
run_command(struct reader *server, char *line, int *quit)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *word = line + strspn(line, " \t");
    if (*word == '\0')
        return DONE;
    char *arg = word + strcspn(word, " \t");
    if (*arg != '\0')
        *arg++ = '\0';
    arg += strspn(arg, " \t");

    const struct client_command *cmd = find_command(word);
    if (cmd == NULL) {
        fprintf(stderr, "unknown command '%s': type help\n", word);
        return FAILED;
    }
    *quit = cmd->run == cmd_quit;
    return cmd->run(server, arg);
}

static int
cmd_help(struct reader *server, const char *arg)
{
    (void)server;
    (void)arg;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-22s %s\n", commands[i].usage, commands[i].help);
    return DONE;
}

/*** Command line ***/

static _Noreturn void
usage(FILE *out, int status)
{
    fprintf(out, "usage: client [-h] [HOST [PORT]]\n"
                 "  HOST  server name or address (default " DEFAULT_HOST ")\n"
                 "  PORT  server port (default " DEFAULT_PORT ")\n"
                 "Commands are read from standard input; type help.\n");
    exit(status);
}

static void
parse_args(int argc, char *argv[], const char **host, const char **port)
{
    int opt;
    while ((opt = getopt(argc, argv, "h")) != -1)
        usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
    if (argc - optind > 2)
        usage(stderr, 2);
    if (argc - optind >= 1)
        *host = argv[optind];
    if (argc - optind == 2)
        *port = argv[optind + 1];
    if (is_port_not_host(*host))
        usage(stderr, 2);
    if (!is_port_number(*port) || strcmp(*port, "0") == 0) {
        fprintf(stderr,
                "client: bad port '%s': use a number from 1 to "
                "65535\n",
                *port);
        usage(stderr, 2);
    }
}
