/*
 * tests/fuzz/ftp_request.c - a libFuzzer target for stage 04's request
 * parser and path resolution, the code that reads whatever a client
 * sends before any file is touched.
 *
 * Each input is one request line. It is parsed with parse_request();
 * when that succeeds, its name is resolved with resolve_path() against a
 * few current directories, and the result is checked, not only for
 * crashes (the sanitizers see those) but for what must always hold: a
 * resolved path is relative, has no "." or ".." or empty component, no
 * control byte, no reserved name, and fits its buffer.
 *
 * Build and run: make fuzz (clang), or replay the corpus with any
 * compiler: make fuzz-replay. See tests/fuzz/Makefile.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "proto.h"

const char program_name[] = "fuzz"; /* net.c's messages need it */

static void
check(int ok, const char *what, const char *cwd, const char *path)
{
    if (!ok) {
        fprintf(stderr, "broken: %s (cwd \"%s\", resolved \"%s\")\n", what, cwd,
                path);
        abort();
    }
}

/* Everything that must be true of a path resolve_path() accepted. */
static void
check_resolved(const char *cwd, const char *path)
{
    size_t len = strlen(path);
    check(len < MAX_PATH, "too long", cwd, path);
    check(len == 0 || path[0] != '/', "absolute", cwd, path);
    check(!has_control_bytes(path, len), "control bytes", cwd, path);
    for (const char *part = path; len > 0 && *part != '\0';) {
        size_t n = strcspn(part, "/");
        check(n > 0, "empty component", cwd, path);
        check(!(n == 1 && part[0] == '.'), "'.' component", cwd, path);
        check(!(n == 2 && part[0] == '.' && part[1] == '.'), "'..' component",
              cwd, path);
        check(strncmp(part, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) != 0,
              "reserved name", cwd, path);
        part += n;
        if (*part == '/')
            part++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As session.c does: at most one line of MAX_LINE bytes. */
    char line[MAX_LINE];
    if (size >= sizeof line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';

    struct request req;
    if (parse_request(line, size, NULL, &req) != NULL)
        return 0;
    check(req.number >= 0, "negative number", "", req.name);

    static const char *const cwds[] = {"", "a", "a/b/c"};
    for (size_t i = 0; i < sizeof cwds / sizeof cwds[0]; i++) {
        char path[MAX_PATH];
        if (resolve_path(cwds[i], req.name, path, sizeof path) == NULL)
            check_resolved(cwds[i], path);
    }
    return 0;
}
