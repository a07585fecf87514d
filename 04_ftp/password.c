/*
 * password.c - part 2: read a password. From a terminal, with the
 * terminal's echo turned off, so that it appears neither on the screen
 * nor in the scrollback; from a pipe or a file, as one line of standard
 * input, so that scripts and tests can give it. Shared by ftpuser,
 * which sets passwords, and client, which logs in.
 *
 * What to look at: how termios turns echo off and back on, and how a
 * Ctrl-C at the prompt cannot leave the terminal silent.
 */
#include <sys/types.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"

/* The signals that may end the program while echo is off. */
static const int stop_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
#define STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])

static struct termios saved_termios; /* the terminal as we found it */
static struct sigaction saved_actions[STOP_SIGNALS];

/* A signal while echo is off would leave the terminal without echo
 * after the program died: put it back first, then die of the signal
 * (SA_RESETHAND below has already restored its default action; raise()
 * takes effect as soon as this handler returns). tcsetattr() and
 * raise() are both safe in a signal handler. */
static void
restore_terminal(int sig)
{
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    raise(sig);
}

/* Turn the terminal's echo off (1) or back on (0). Returns 0, or -1. */
static int
set_echo_off(int off)
{
    if (!off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        for (size_t i = 0; i < STOP_SIGNALS; i++)
            sigaction(stop_signals[i], &saved_actions[i], NULL);
        return 0;
    }
    if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_terminal;
    sa.sa_flags = SA_RESETHAND; /* once: then the default action */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &sa, &saved_actions[i]);

    /* TCSAFLUSH: drop anything typed ahead, before echo went off. */
    struct termios quiet = saved_termios;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    return tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
}

/* Read a password into buf: at most size - 1 bytes, without the
 * newline. On a terminal, show `prompt` (on stderr) and read with echo
 * off; otherwise read the next line of stdin, with no prompt. Returns
 * the password's length, or -1: at the end of input, on an error, or
 * with errno EMSGSIZE for a line that does not fit. */
int
read_password(const char *prompt, char *buf, size_t size)
{
    int on_terminal = isatty(STDIN_FILENO);
    if (on_terminal) {
        if (set_echo_off(1) < 0)
            return -1;
        /* Only now the prompt: what is typed after it is not shown. */
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    char *line = fgets(buf, (int)size, stdin);
    if (on_terminal) {
        set_echo_off(0);
        fprintf(stderr, "\n"); /* the Enter key was not echoed either */
    }
    if (line == NULL)
        return -1;

    size_t len = strcspn(buf, "\n");
    if (buf[len] != '\n' && !feof(stdin)) {
        int c; /* too long: skip the rest of the line */
        do
            c = getchar();
        while (c != EOF && c != '\n');
        errno = EMSGSIZE;
        return -1;
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--; /* a line from a file written on Windows */
    buf[len] = '\0';
    return (int)len;
}
