#!/usr/bin/env bats
# Stage 01_echo: a 1:1 echo server. The lesson: socket, bind, listen,
# accept, connect, send, recv. The limitation: the server exits as soon
# as its one client leaves.
#
# The tests come in the order of the lab's parts (labs/01_echo/LAB.md):
# a "# lab: PART" line above a test names the part it grades, and the
# tests of a part need only that part and the ones before it: the
# server's tests talk to it with bash's /dev/tcp, not with our client.
# Untagged tests check what the lab hands out ready-made.

load helpers
load echo_checks
STAGE_DIR="$TOP/01_echo"
ECHO_LOST_HINT="Does serve_client() send back fewer bytes than recv() \
returned (a string's length, or a line), or stop before the client closes?"

start_stage_server() {
    start_server "$STAGE_DIR/server" 0
}

# lab: accept
@test "accept: a client at 127.0.0.1 is accepted and logged with its address" {
    start_stage_server
    check_accepted 127.0.0.1
}

# lab: accept
@test "accept: a client at ::1 is accepted and logged with its address" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    start_stage_server
    check_accepted ::1
}

# lab: accept
@test "accept: out of file descriptors (EMFILE): logged once, and the server exits 1" {
    check_accept_emfile
}

# lab: accept
@test "accept: interrupted by a signal (EINTR): accept() is called again" {
    check_accept_eintr_retried
}

# lab: accept
@test "accept: alone, a non-blocking listener, nobody waiting: -1 and EAGAIN, nothing logged; out of fds: -1 and EMFILE" {
    needs_our_server "it tests our net.c's accept_client() alone"
    check_accept_nonblock_quiet
}

# lab: echo
@test "echo: one byte is echoed (bash /dev/tcp, no client of ours)" {
    start_stage_server
    check_one_byte_devtcp
}

# lab: echo
@test "echo: 1 MiB of random binary data is echoed byte for byte (/dev/tcp)" {
    start_stage_server
    check_binary_devtcp
}

# lab: echo
@test "limitation: the server exits, status 0, once its client leaves" {
    start_stage_server
    check_disconnect_logged
    wait_for_exit "$SERVER_PID" 5 ||
        fail "the client has left, and the server still runs: stage 01's" \
            "server ends after its one client (main() returns)"
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS, not 0"

    # Nobody is listening any more: the next client is refused.
    ! (exec {probe}<>"/dev/tcp/127.0.0.1/$SERVER_PORT") 2>/dev/null ||
        fail "a second client was accepted: nobody should be listening"
}

# lab: echo
@test "echo: a client that resets the connection: recv()'s error logged, and the server exits 0" {
    start_stage_server
    check_reset_is_recv_error
    wait_for_exit "$SERVER_PID" 5
    check_client_dropped_at_error recv
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS, not 0"
}

# lab: echo
@test "echo: short reads and EINTR in recv() (sends untouched): 64 KiB come back whole" {
    check_short_io_echo 0 "serve_client(): recv() may return fewer bytes \
than asked, and may fail with EINTR: call it again, and send back exactly the \
n bytes that came. (send() is left whole here: send_all() is the next part.)"
}

# lab: echo
@test "echo: a full buffer, then a reset (AddressSanitizer build): nothing written past the buffer, nothing leaked" {
    needs_our_server "it builds our net.c with AddressSanitizer"
    check_echo_memory_asan
}

# lab: echo
@test "echo: 'PEER disconnected' is logged on stderr, at once" {
    needs_our_server "it reads our server's log lines"
    check_logs_on_stderr
}

# lab: echo
@test "echo: a client killed mid-message: the server exits 0" {
    start_stage_server
    kill_client_mid_message
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS, not 0"
}

# lab: echo
@test "echo: a client that closes before its echo is sent: EPIPE logged, not death by SIGPIPE" {
    start_stage_server
    check_send_error_logged
    wait_for_exit "$SERVER_PID" 5
    check_client_dropped_at_error send
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS, not 0"
}

# lab: echo
@test "SIGTERM ends a server in the middle of a session, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    start_stage_server
    check_stop_signal_mid_session
}

# lab: echo
@test "a server stopped mid-session restarts at once on the same port" {
    start_stage_server
    check_restart_same_port
}

# lab: send_all
@test "send_all: alone, with short writes and EINTR, it sends every byte" {
    needs_our_server "it tests our net.c's send_all() alone"
    check_send_all_alone
}

# lab: send_all
@test "short writes: the server echoes 64 KiB whole when send() takes a few bytes a call" {
    check_short_writes_blame
}

# lab: client
@test "client: lines come back exactly as they were sent" {
    start_stage_server
    check_client_echoes_lines 127.0.0.1
}

# lab: client
@test "client: no prompt and nothing but the echoes when scripted" {
    start_stage_server
    check_no_prompt_when_scripted
}

# lab: client
@test "client: a '>>: ' prompt on a terminal" {
    start_stage_server
    check_prompt_only_on_terminal
}

# lab: client
@test "client: IPv4, a server at 127.0.0.1" {
    start_stage_server
    check_ipv4
}

# lab: client
@test "client: IPv6, a server at ::1" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    start_stage_server
    check_ipv6
}

# lab: client
@test "client: a name that is ::1 (refused) then 127.0.0.1: the client tries the next address" {
    check_client_tries_each_address
}

# lab: client
@test "client: the socket of an address that failed is closed before the next is tried" {
    check_client_closes_failed_sockets
}

# lab: client
@test "client: 1 MiB of random binary data is echoed byte for byte" {
    start_stage_server
    check_binary_client
}

# lab: client
@test "client: short reads and writes: 64 KiB sent and read back whole" {
    check_short_io_client
}

# lab: client
@test "client: a server that sends more than the echo: recv_all() takes only the bytes missing" {
    check_client_takes_one_echo
}

# lab: client
@test "client: a line longer than all socket buffers does not deadlock" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    start_stage_server
    check_huge_line_client
}

# lab: client
@test "client: the server goes away mid-session: a clear message, exit 1" {
    start_stage_server
    check_client_reports_lost_server
}

# lab: client
@test "client: the server resets the connection: recv()'s error, exit 1" {
    start_stage_server
    check_client_reports_reset
}

# lab: client
@test "client: socket() fails (no IPv6, ::1): its error is reported, exit 1" {
    check_client_socket_fails
}

# lab: client
@test "client: getaddrinfo()'s list is freed, connected or refused (AddressSanitizer build)" {
    needs_our_client "it builds our client with AddressSanitizer"
    check_client_frees_addresses_asan
}

# lab: client
@test "client: no server at the port: a clear message, exit 1" {
    start_stage_server
    check_no_server
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    needs_our_server "it checks our programs' usage lines and exit statuses"
    check_usage_errors
}

# lab: accept
@test "a port already in use: a clear message and a hint, exit 1" {
    needs_our_server "it checks our server's error message and exit status"
    start_stage_server
    check_port_in_use
}

# lab: accept
@test "SIGTERM ends a server waiting for a client, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    start_stage_server
    check_stop_signal TERM
}

# lab: accept
@test "SIGINT (Ctrl-C) ends a server waiting for a client, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    start_stage_server
    check_stop_signal INT
}

# lab: client
@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the server takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    start_stage_server
    check_client_stdin_closed
    start_stage_server # stage 01's server serves one client only
    check_client_stdout_closed
    check_server_std_fds_closed
}

# lab: accept
@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    check_accept_error_retried
}
