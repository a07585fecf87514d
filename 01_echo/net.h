/*
 * net.h - the small socket helpers that this stage's server and client
 * both use. Each stage has its own identical copy, so that a stage
 * directory builds and reads on its own.
 */
#ifndef NET_H
#define NET_H

#include <sys/types.h>
#include <sys/socket.h>

/* Room for "[" + an IPv6 address with a %scope + "]:" + "65535" + NUL. */
#define ADDR_STR_SIZE 80

int send_all(int fd, const void *buf, size_t len);
void format_address(const struct sockaddr *sa, socklen_t sa_len, char *out,
                    size_t out_size);
int is_port_number(const char *s);
void ignore_sigpipe(void);

#endif
