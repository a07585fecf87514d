/* TODO (part 1, framing): cut one line out of the stream.
 *   The reader's bytes not yet used are r->buf[r->start .. r->end).
 *   Take them one at a time, advancing r->start; when none are left,
 *   fill(r) (above) refills the buffer with one recv() and returns what
 *   recv() returned.
 *   - The '\n': replace it by a NUL at line[len] and return len (the
 *     line's length without it). The bytes after the '\n' stay in the
 *     buffer: they are the next line, or the file data behind a
 *     "ready" line (粘包, sticky packets). Never throw them away, and
 *     never ask recv() for bytes before the buffer is empty.
 *   - Other bytes go to line[len++]. When `size` - 1 bytes are in and
 *     the next one is not the '\n', return LINE_TOO_LONG.
 *   - fill() returning 0 before the line's first byte: LINE_EOF (the
 *     peer closed between lines). Returning 0 mid-line, or -1:
 *     LINE_ERROR.
 *   - The line timeout (the server's -t, its idle timeout):
 *     before calling fill() for a line that has begun (len > 0), call
 *     wait_for_rest(r, &deadline), with `double deadline = 0;` set once
 *     per line; if it returns -1, return LINE_TOO_SLOW.
 * Python: like sock.makefile().readline(), which buffers the same way */
(void)r;
(void)line;
(void)size;
(void)fill;          /* yours to call */
(void)wait_for_rest; /* yours to call (the server's -t) */
fprintf(stderr, "read_line() is not written yet (LAB.md, part 1)\n");
errno = ENOSYS;
return LINE_ERROR;
