/* TODO (part 1, framing): read up to `len` bytes of file data.
 *   - If the reader holds bytes not yet used (r->start < r->end), copy
 *     up to `len` of them to `buf`, advance r->start past them, and
 *     return how many: they came in with the last line (one recv() read
 *     the "ready" line and the file's first bytes), and they are the
 *     file's first bytes. Skip them and the file comes out short.
 *   - Only when the reader is empty: recv() straight into `buf`, at
 *     most `len` bytes (never more: what comes after the file belongs
 *     to the next message), again on EINTR.
 *   - Return the bytes read, 0 at end of stream, or -1 with errno set,
 *     as recv() does. */
(void)r;
(void)buf;
(void)len;
errno = ENOSYS;
return -1;
