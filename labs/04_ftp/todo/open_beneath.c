/* TODO (part 2, jail): open `path` (made by resolve_path(), "" for the
 * top) beneath root_fd, following no symbolic link on the way.
 *   - "" opens root_fd's directory itself: openat(root_fd, ".", ...).
 *   - Otherwise go one component at a time with openat(), from root_fd:
 *     each directory on the way with O_RDONLY | O_DIRECTORY |
 *     O_NOFOLLOW, the last component with `flags` | O_NOFOLLOW and
 *     `mode`. Close each directory descriptor once the next is open
 *     (never root_fd, which is the caller's).
 *   - Why: a symbolic link planted under the top may point anywhere
 *     (/etc); opened by its whole path, the kernel would follow it out.
 *     With O_NOFOLLOW a link fails with ELOOP, except where O_DIRECTORY
 *     was asked for (every directory on the way, and the last component
 *     when `flags` has it, as cd and ls ask): there it fails with
 *     ENOTDIR. So after any openat() that fails with ENOTDIR, when
 *     fstatat(..., AT_SYMLINK_NOFOLLOW) says that name is a link
 *     (S_ISLNK), set errno to ELOOP instead, so the client is told
 *     "symbolic links are not followed".
 *   - Return the last descriptor, or -1 with errno set (keep the errno
 *     of the failed openat() across the close()).
 * The stub below opens the whole path at once, following every link. */
return openat(root_fd, *path == '\0' ? "." : path, flags, mode);
