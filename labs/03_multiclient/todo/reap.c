/* TODO (part 4, reap): collect the exit status of every child that has
 * exited, so that none is left a zombie.
 *   - waitpid(-1, NULL, WNOHANG) reaps one exited child and returns its
 *     PID; it returns 0 when the children left are still running (that
 *     is what WNOHANG asks), and -1 when there is none at all.
 *   - One SIGCHLD may stand for several exits (signals do not queue):
 *     reap in a loop until waitpid() returns 0 or -1.
 *   - For each PID reaped, call forget_child(pid): the parent's table
 *     of children, which it uses to stop them all, must not keep it.
 *   - waitpid() may set errno, which the code this handler interrupted
 *     may be about to read: save errno first and restore it last.
 * Until this is written, every child that exits stays a zombie. */
(void)forget_child;
