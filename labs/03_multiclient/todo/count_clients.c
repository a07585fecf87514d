/* TODO (part 2, count): add `change` (+1 when a client's thread
 * starts, -1 when it ends) to clients_now, and log the new count as
 * "clients now: N" on stderr.
 *   - Every client's thread calls this, at the same time as the others.
 *     `clients_now += change` is three steps (load, add, store): two
 *     threads that load the same value lose one change. Hold
 *     clients_lock (pthread_mutex_lock() and pthread_mutex_unlock())
 *     around every use of clients_now, and log while you hold it:
 *     a thread that logs after unlocking may log its count after a
 *     later thread's, and the last line would not be the count.
 *   - The tests build the server with ThreadSanitizer, which reports
 *     any unlocked use, even one that lost nothing this time. */
(void)change;
(void)clients_now;
(void)clients_lock;
