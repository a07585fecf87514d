/* TODO (part 1, thread): start a thread that serves the client, and
 * return at once, so that main() goes back to accept().
 *   - pthread_create() runs client_thread(client) in a new thread:
 *     `client` is this client's own copy of its socket and address
 *     (main() reuses its variables for the next client at once).
 *   - Make the thread detached (pthread_attr_setdetachstate() with
 *     PTHREAD_CREATE_DETACHED, or pthread_detach()): nobody joins it,
 *     and a joinable thread never joined leaks, like a zombie process.
 *   - Return 0. If pthread_create() fails, log "PEER error:
 *     pthread_create: REASON", free(client) and return -1 (main()
 *     then closes the socket). pthread functions return the error
 *     number; they do not set errno: strerror(err).
 * Python: socketserver.ThreadingTCPServer does this for each client.
 * The stub below serves the client right here, in the main thread: one
 * client at a time, like stage 02. */
client_thread(client);
return 0;
