/* TODO (part 4, the client): connect to one of the addresses in `list`.
 *   - getaddrinfo() has made `list`: each entry (follow ai_next) has
 *     the family, type and protocol for socket(), and the address and
 *     its length for connect(). localhost is often both ::1 and
 *     127.0.0.1: try each entry in turn until one connects.
 *   - An entry whose socket() or connect() fails: close its socket (if
 *     any), keep errno, and try the next.
 *   - Leave the connected socket in `fd`; if none connected, fd is -1
 *     and errno says why the last one failed (the code below prints it).
 * Python: s = socket(AF_INET, SOCK_STREAM); s.connect((host, port)) */
int fd = -1;
fprintf(stderr, "%s: connect_to()'s loop is not written yet"
        " (LAB.md, part 4)\n", program_name);
errno = ENOSYS;
