#!/usr/bin/env bats
# Stage 01_echo: a 1:1 echo server. The lesson: socket, bind, listen,
# accept, connect, send, recv. The limitation: the server exits as soon
# as its one client leaves.

load helpers
load echo_checks
STAGE_DIR="$TOP/01_echo"

start_stage_server() {
    start_server "$STAGE_DIR/server" 0
}

@test "client: lines come back exactly as they were sent" {
    start_stage_server
    check_client_echoes_lines 127.0.0.1
}

@test "client: no prompt and nothing but the echoes when scripted" {
    start_stage_server
    check_no_prompt_when_scripted
}

@test "client: a '>>: ' prompt on a terminal" {
    start_stage_server
    check_prompt_only_on_terminal
}

@test "one byte is echoed (bash /dev/tcp, no client of ours)" {
    start_stage_server
    check_one_byte_devtcp
}

@test "1 MiB of random binary data is echoed byte for byte (/dev/tcp)" {
    start_stage_server
    check_binary_devtcp
}

@test "1 MiB of random binary data is echoed byte for byte (client)" {
    start_stage_server
    check_binary_client
}

@test "client: a line longer than all socket buffers does not deadlock" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    start_stage_server
    check_huge_line_client
}

@test "IPv4: a client at 127.0.0.1 is served" {
    start_stage_server
    check_ipv4
}

@test "IPv6: a client at ::1 is served" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    start_stage_server
    check_ipv6
}

@test "limitation: the server exits, status 0, once its client leaves" {
    start_stage_server
    check_client_echoes_lines 127.0.0.1
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ]
    grep -q ' disconnected$' "$SERVER_LOG"

    # Nobody is listening any more: the next client is refused.
    run run_client 127.0.0.1 "$SERVER_PORT" <<<"anyone there?"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Connection refused"* ]]
}

@test "a client that resets the connection: logged, and the server exits 0" {
    start_stage_server
    reset_connection
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ]
    grep -Eq ' error: (recv|send): ' "$SERVER_LOG"
}

@test "a client killed mid-message: the server exits 0" {
    start_stage_server
    kill_client_mid_message
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ]
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    check_usage_errors
}

@test "a port already in use: a clear message and a hint, exit 1" {
    start_stage_server
    check_port_in_use
}

@test "a server stopped mid-session restarts at once on the same port" {
    start_stage_server
    check_restart_same_port
}

@test "SIGTERM ends a server waiting for a client, exit 0" {
    start_stage_server
    check_stop_signal TERM
}

@test "SIGINT (Ctrl-C) ends a server waiting for a client, exit 0" {
    start_stage_server
    check_stop_signal INT
}

@test "SIGTERM ends a server in the middle of a session, exit 0" {
    start_stage_server
    check_stop_signal_mid_session
}

@test "client: no server at the port: a clear message, exit 1" {
    start_stage_server
    check_no_server
}

@test "a client that closes before its echo is sent: EPIPE, not death by SIGPIPE" {
    start_stage_server
    provoke_epipe
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS (141 = SIGPIPE)"
}

@test "client: the server goes away mid-session: a clear message, exit 1" {
    start_stage_server
    check_client_reports_lost_server
}

@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the server takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    start_stage_server
    check_client_stdin_closed
    start_stage_server # stage 01's server serves one client only
    check_client_stdout_closed
    check_server_std_fds_closed
}

@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    check_accept_error_retried
    wait_for_exit "$SERVER_PID" 5 # after its one client, as ever
    [ "$EXIT_STATUS" -eq 0 ] || fail "the server exited $EXIT_STATUS"
}
