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
 * where it stopped when the same command is given again. A hook
 * (hooks.h) may add commands.
 *
 * What to look at: main(), the shell, and the table of commands below
 * it: a command is a word and the function that runs it.
 *
 * Run:   ./client [HOST [PORT]]    (default localhost 9004)
 */
#include <sys/types.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "hooks.h"
#include "net.h"
#include "proto.h"

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT "9004"

const char program_name[] = "client";

static void parse_args(int argc, char *argv[], const char **host,
                       const char **port);
static int run_command(struct reader *server, char *line, int *quit);
static int server_spoke_first(struct reader *server);

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
        int result = server_spoke_first(&server) ? CONNECTION_LOST
                     : quit                      ? cmd_quit(&server, "")
                            : run_command(&server, line, &quit);
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

/* Has the server said something we did not ask for? It does only to
 * end the session, and then closes: "error|timeout|..." to a client
 * silent for longer than its -t, "error|busy|..." to a client it turns
 * away. Say so, rather than take that line for the reply to the next
 * command. Returns 1 if the session is over. */
static int
server_spoke_first(struct reader *server)
{
    if (server->start < server->end) { /* left over from the last reply */
        fprintf(stderr,
                "client: %zu bytes from the server that no reply "
                "accounts for\n",
                server->end - server->start);
        return 1;
    }
    struct pollfd p = {.fd = server->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0; /* nothing waiting: the session goes on */
    char line[MAX_LINE];
    ssize_t len = read_line(server, line, sizeof line);
    if (len >= 0 && strncmp(line, "error|", 6) == 0) {
        char *code = line + 6;
        char *message = strchr(code, '|');
        if (message != NULL)
            *message++ = '\0';
        fprintf(stderr, "client: the server ended the session: %s (%s)\n",
                message != NULL ? message : "", code);
    } else if (len >= 0) {
        fprintf(stderr, "client: unexpected line from the server: '%s'\n",
                line);
    } else {
        fprintf(stderr, "client: the server closed the connection\n");
    }
    return 1;
}

/*** Commands ***/

static int cmd_help(struct reader *server, const char *arg);

static const struct client_command commands[] = {
    {"get", cmd_get, "get NAME", "download NAME here"},
    {"put", cmd_put, "put FILE", "upload FILE"},
    {"ls", cmd_ls, "ls [DIR]", "list a directory on the server"},
    {"cd", cmd_cd, "cd [DIR]", "change directory on the server"},
    {"pwd", cmd_pwd, "pwd", "show the server's current directory"},
    {"delete", cmd_delete, "delete NAME", "delete a file or empty directory"},
    {"mkdir", cmd_mkdir, "mkdir DIR", "make a directory"},
    {"help", cmd_help, "help", "this list"},
    {"quit", cmd_quit, "quit", "leave (so does end of input)"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The command `word` names: a hook's first (it may replace ours). */
static const struct client_command *
find_command(const char *word)
{
    for (size_t i = 0; i < client_hooks.count; i++)
        if (strcmp(word, client_hooks.commands[i].word) == 0)
            return &client_hooks.commands[i];
    for (size_t i = 0; i < N_COMMANDS; i++)
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

/* Is `word` one of our own commands? */
static int
ours(const char *word)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(word, commands[i].word) == 0)
            return 1;
    return 0;
}

/* help: our commands (as a hook may have replaced them), then the
 * commands a hook adds. */
static int
cmd_help(struct reader *server, const char *arg)
{
    (void)server;
    (void)arg;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct client_command *c = find_command(commands[i].word);
        printf("  %-22s %s\n", c->usage, c->help);
    }
    for (size_t i = 0; i < client_hooks.count; i++) {
        const struct client_command *c = &client_hooks.commands[i];
        if (!ours(c->word))
            printf("  %-22s %s\n", c->usage, c->help);
    }
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
