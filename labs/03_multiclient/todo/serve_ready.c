/* TODO (part 5, poll, advanced): serve client i, which poll() says is
 * ready, without ever blocking.
 *
 *     static void serve_ready_client(struct watch_list *list, size_t i)
 *
 *   - The client's socket, list->watch[i].fd, is non-blocking: recv()
 *     and send() return at once, failing with EAGAIN (or EWOULDBLOCK)
 *     when there is nothing to read or no room to send. EAGAIN and
 *     EINTR are not errors: there is simply nothing to do now.
 *   - recv() up to BUF_SIZE bytes. 0 means the client closed: log "PEER
 *     disconnected" and drop_client(list, i). A failure: log "PEER
 *     error: recv: REASON" and drop it.
 *   - Send the bytes back with one send(): it may take fewer than you
 *     give it. Keep the rest (list->client[i].unsent, unsent_len: at
 *     most BUF_SIZE bytes, malloc()ed) and watch the socket for POLLOUT
 *     instead of POLLIN (list->watch[i].events): stop reading from a
 *     client that does not take its echo. Never loop on send() until
 *     all is sent: a client that never reads would stop the server.
 *   - Called when the client has unsent bytes (poll() said POLLOUT):
 *     send what you can of them, and keep only the rest (move it to
 *     the front, or keep an offset: never send a byte twice); once all
 *     are sent, free them and watch for POLLIN again.
 *   - Out of memory, or a send() failure: log it and drop the client.
 * Write any helper functions you want above it. The stub below drops
 * every client. */
static void
serve_ready_client(struct watch_list *list, size_t i)
{
    fprintf(stderr, "%s: serve_ready_client() is not written yet"
            " (LAB.md, part 5)\n", list->client[i].peer);
    drop_client(list, i);
}
