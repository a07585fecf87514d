/*
 * paths.h - keeping every client inside the served directory (paths.c).
 */
#ifndef PATHS_H
#define PATHS_H

#include <sys/types.h>

#include "proto.h"

/* Bytes in a path relative to ROOT, its NUL included: short enough that
 * every reply that names one ("ok|created /PATH") fits in a line. */
#define MAX_PATH 1000

const char *resolve_path(const char *cwd, const char *name, char *out,
                         size_t out_size);
int open_beneath(int root_fd, const char *path, int flags, mode_t mode);
int open_parent(int root_fd, const char *path, const char **last);

#endif
