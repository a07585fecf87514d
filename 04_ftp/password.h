/*
 * password.h - part 2: reading a password without showing it
 * (password.c), for ftpuser and client.
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stddef.h>

#define PASSWORD_MAX 256 /* bytes in a password */

int read_password(const char *prompt, char *buf, size_t size);

#endif
