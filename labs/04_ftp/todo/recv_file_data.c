/* TODO (part 1, framing): receive exactly `count` bytes of file data
 * into file_fd.
 *   - Loop until `count` bytes have come: read_some() into a buffer of
 *     FILE_BUF_SIZE bytes, never asking for more than are still owed
 *     (the bytes after the file are the next line), then write them all
 *     to file_fd with write_all() (above: write() too may take less).
 *   - After each write, if `progress` is not NULL, call
 *     progress(DONE, progress_arg), DONE the bytes received so far.
 *   - read_some() returning 0 (the peer closed early) or -1: return -1,
 *     with errno 0 for the early close: a short file is an error, never
 *     a success. write_all() failing: return -2 (errno as it left it).
 *   - Return 0 once all `count` bytes are written; count 0 is no error.
 *   (FILE_BUF_SIZE is 1 MiB: 04_ftp/SPEED.md says how it was chosen.) */
(void)r;
(void)file_fd;
(void)count;
(void)progress;
(void)progress_arg;
(void)write_all; /* yours to call */
errno = ENOSYS;
return -1;
