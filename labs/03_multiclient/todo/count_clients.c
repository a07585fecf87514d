/* TODO (part 2, count): add `change` (+1 when a client's thread
 * starts, -1 when it ends) to clients_now, and log the new count as
 * "clients now: N" on stderr.
 *   - Every client's thread calls this, at the same time as the others.
 *     `clients_now += change` is three steps (load, add, store): two
 *     threads that load the same value lose one change. Hold
 *     clients_lock (pthread_mutex_lock() and pthread_mutex_unlock())
 *     around every use of clients_now, and log the value you read
 *     under the lock, not clients_now after it.
 *   - The tests build the server with ThreadSanitizer, which reports
 *     any unlocked use, even one that lost nothing this time. */
(void)change;
(void)clients_now;
(void)clients_lock;
