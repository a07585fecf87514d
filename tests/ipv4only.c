/*
 * tests/ipv4only.c - a test-only LD_PRELOAD library that makes a
 * program believe this system has no IPv6: socket(AF_INET6, ...) fails
 * with EAFNOSUPPORT, as on a kernel built without it. A server then
 * falls back to an IPv4 socket (0.0.0.0), so that ::1 is refused while
 * 127.0.0.1 is served: what a client meets when a name resolves to
 * both and the server listens on IPv4 alone. The client's test needs
 * that to see whether connect_to() tries the next address.
 *
 * Build and use (make test builds it):
 *     make tests/ipv4only.so
 *     LD_PRELOAD=$PWD/tests/ipv4only.so ./server 0
 */
#define _GNU_SOURCE /* RTLD_NEXT, from dlfcn.h */
#include <sys/types.h>
#include <sys/socket.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The C library declares socket() with parameter names such as
 * __domain, which are reserved for it: ours differ on purpose. */
// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)
int
socket(int family, int type, int protocol)
{
    /* The C library's socket(), the next definition after this one
     * (memcpy: see tests/acceptfail.c). */
    static int (*real_socket)(int, int, int);
    if (real_socket == NULL) {
        void *sym = dlsym(RTLD_NEXT, "socket");
        if (sym == NULL)
            abort();
        memcpy(&real_socket, &sym, sizeof sym);
    }
    if (family == AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return real_socket(family, type, protocol);
}
// NOLINTEND(readability-inconsistent-declaration-parameter-name)
