/* TODO (part 4, the client): receive exactly `len` bytes into `buf`.
 *   - recv() returns what has arrived so far, which may be less than
 *     asked: call it again for the rest, until `len` bytes are in.
 *   - recv() returning 0: the server closed. Return how many bytes came
 *     (fewer than `len`).
 *   - recv() failing with EINTR: call it again; any other failure:
 *     return -1, with errno as recv() left it.
 *   - Return `len` when every byte has come. */
(void)fd;
(void)buf;
(void)len;
fprintf(stderr, "%s: recv_all() is not written yet (LAB.md, part 4)\n",
        program_name);
errno = ENOSYS;
return -1;
