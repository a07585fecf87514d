/*
 * request.c - what a request line says: its command and fields, checked
 * and taken apart (PROTOCOL.md, "Requests"), and the numbers and names
 * in it. proto.c has already cut the line out of the stream; nothing
 * here touches a socket. The server parses requests, the client parses
 * numbers in replies; tests/fuzz/ feeds parse_request() garbage.
 */
#include <sys/types.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

/* Does s[0..len) hold a NUL, another control byte, or DEL? Such bytes
 * have no place in a command or a file name. */
int
has_control_bytes(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

/* Parse a size or offset: plain decimal digits, 0 to 2^63 - 1. Returns
 * 0, or -1 if `s` is not such a number. */
int
parse_size(const char *s, off_t *size)
{
    if (*s == '\0' || strlen(s) > 19) /* 2^63 - 1 has 19 digits */
        return -1;
    uint64_t n = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    if (n > INT64_MAX)
        return -1;
    *size = (off_t)n;
    return 0;
}

/* The requests, and how many fields each takes. */
static const struct command_word commands[] = {
    {"get", CMD_GET, 2},     {"put", CMD_PUT, 2},   {"ls", CMD_LS, 1},
    {"cd", CMD_CD, 1},       {"pwd", CMD_PWD, 0},   {"delete", CMD_DELETE, 1},
    {"mkdir", CMD_MKDIR, 1}, {"quit", CMD_QUIT, 0}, {NULL, 0, 0},
};

/* The entry for `word` in `table` (ended by a NULL word), or NULL. */
static const struct command_word *
find_word(const struct command_word *table, const char *word)
{
    for (; table != NULL && table->word != NULL; table++)
        if (strcmp(word, table->word) == 0)
            return table;
    return NULL;
}

/* Parse a request line of `len` bytes (without its '\n'): COMMAND, then
 * its fields, separated by '|'. The name comes last, so it may contain
 * '|' itself. `more`: more requests (a hook's, hooks.h), or NULL. Fills
 * *req and returns NULL, or returns a message saying what is wrong.
 * `line` is changed: the '|' after each field becomes a NUL. */
const char *
parse_request(char *line, size_t len, const struct command_word *more,
              struct request *req)
{
    if (len == 0)
        return "empty line";
    if (has_control_bytes(line, len))
        return "control bytes in request";

    char *rest = strchr(line, '|');
    if (rest != NULL)
        *rest++ = '\0';
    const struct command_word *c = find_word(commands, line);
    if (c == NULL)
        c = find_word(more, line);
    if (c == NULL)
        return "unknown command";

    req->command = c->command;
    req->number = 0;
    req->name = "";
    if (c->fields == 0)
        return rest == NULL ? NULL : "this command takes no arguments";
    if (rest == NULL && c->fields == 1)
        return NULL; /* "ls" and "cd" alone: no name */
    if (rest == NULL)
        return "missing argument";
    if (c->fields == 2) {
        char *name = strchr(rest, '|');
        if (name == NULL)
            return "missing argument";
        *name++ = '\0';
        if (parse_size(rest, &req->number) < 0)
            return "not a size: use 0 to 9223372036854775807";
        rest = name;
    }
    req->name = rest;
    return NULL;
}
