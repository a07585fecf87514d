/*
 * net.h - the socket building blocks in net.c, shared by this stage's
 * programs. Each echo stage has its own identical copy, so that a stage
 * directory builds and reads on its own.
 */
#ifndef NET_H
#define NET_H

#include <sys/types.h>
#include <sys/socket.h>

/* Room for "[" + an IPv6 address with a %scope + "]:" + "65535" + NUL. */
#define ADDR_STR_SIZE 80

/* Each program defines its name, for messages like "server: bind: ...". */
extern const char program_name[];

/* Servers */
const char *parse_server_args(int argc, char *argv[], const char *default_port);
int open_listener(const char *port);
int accept_client(int listen_fd, char *peer, size_t peer_size);
int is_temporary_accept_error(int err);
void serve_client(int client_fd, const char *peer);

/* Clients */
int connect_to(const char *host, const char *port);
int is_port_not_host(const char *host);

/* Both */
void open_standard_fds(void);
int send_all(int fd, const void *buf, size_t len);
void format_address(const struct sockaddr *sa, socklen_t sa_len, char *out,
                    size_t out_size);
int is_port_number(const char *s);
void ignore_sigpipe(void);
void install_signal_handlers(void);

#endif
