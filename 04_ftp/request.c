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

/* The requests. Part 2 added login, whose one field is "NAME|PASSWORD"
 * (the password last, so that it may contain '|'), and quota. */
static const struct {
    const char *word;
    enum command command;
    int fields; /* after the word: 0, 1 (NAME) or 2 (NUMBER|NAME) */
} commands[] = {
    {"get", CMD_GET, 2},     {"put", CMD_PUT, 2},   {"ls", CMD_LS, 1},
    {"cd", CMD_CD, 1},       {"pwd", CMD_PWD, 0},   {"delete", CMD_DELETE, 1},
    {"mkdir", CMD_MKDIR, 1}, {"quit", CMD_QUIT, 0}, {"login", CMD_LOGIN, 1},
    {"quota", CMD_QUOTA, 0},
};

/* Parse a request line of `len` bytes (without its '\n'): COMMAND, then
 * its fields, separated by '|'. The name comes last, so it may contain
 * '|' itself. Fills *req and returns NULL, or returns a message saying
 * what is wrong. `line` is changed: the '|' after each field becomes a
 * NUL. */
const char *
parse_request(char *line, size_t len, struct request *req)
{
    if (len == 0)
        return "empty line";
    if (has_control_bytes(line, len))
        return "control bytes in request";

    char *rest = strchr(line, '|');
    if (rest != NULL)
        *rest++ = '\0';
    size_t i = 0;
    while (i < sizeof commands / sizeof commands[0] &&
           strcmp(line, commands[i].word) != 0)
        i++;
    if (i == sizeof commands / sizeof commands[0])
        return "unknown command";

    req->command = commands[i].command;
    req->number = 0;
    req->name = "";
    if (commands[i].fields == 0)
        return rest == NULL ? NULL : "this command takes no arguments";
    if (rest == NULL && commands[i].fields == 1)
        return NULL; /* "ls" and "cd" alone: no name */
    if (rest == NULL)
        return "missing argument";
    if (commands[i].fields == 2) {
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
