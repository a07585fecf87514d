#!/usr/bin/env bats
# Stage 02_persistent_server: the accept loop. The lesson: recv() == 0
# ends one client, not the server. The limitation: one client at a
# time; a second client waits until the first leaves.
#
# A "# lab: PART" line above a test names the part of the lab
# (labs/02_persistent_server/LAB.md) it grades: "echo" for what one
# client needs, "accept_loop" for what needs a second. Untagged tests
# check what the lab hands out ready-made.

load helpers
load echo_checks
STAGE_DIR="$TOP/02_persistent_server"
ECHO_LOST_HINT="Does serve_client() send back fewer bytes than recv() \
returned (a string's length, or a line), or stop before the client closes?"

setup() {
    start_server "$STAGE_DIR/server" 0
}

# echo_once FD TEXT: send one line on a raw connection and read its echo.
echo_once() {
    local line
    printf '%s\n' "$2" >&"$1"
    read -r -t "$(scaled 5)" line <&"$1" || fail "no echo of '$2'"
    [ "$line" = "$2" ] || fail "sent '$2', got '$line'"
}

# lab: accept_loop
@test "lesson: 20 clients in sequence each get their own echo" {
    local i
    for i in $(seq 20); do
        run run_client 127.0.0.1 "$SERVER_PORT" <<<"client $i"
        if ((i > 1 && status != 0)) && wait_until 2 is_gone "$SERVER_PID"; then
            fail "the server ended after client $((i - 1)): stage 02's" \
                "main() must go back to accept() for the next client, in a" \
                "loop. (client $i: exit $status, '$output')"
        fi
        if ((i > 1 && status == 124)); then
            fail "client $i waited in vain (timed out): the server never" \
                "came back to accept() after client $((i - 1)) left. When" \
                "recv() returns 0 the client has closed: serve_client()" \
                "must return then"
        fi
        [ "$status" -eq 0 ] && [ "$output" = "client $i" ] ||
            fail "client $i: exit $status, output '$output'"
    done
    foreign_server || [ "$(log_count ' disconnected$')" -eq 20 ] ||
        fail "$(log_count ' disconnected$') 'disconnected' lines for 20 clients"
    is_running "$SERVER_PID" || fail "the server has exited"
}

# lab: accept_loop
@test "lesson: 5000 clients in a row are all served: the accept loop has no bound" {
    # A loop of 1000 (or 1024, or 4096) turns looks endless in a test of
    # twenty clients. Through bash's /dev/tcp, 5000 take well under a
    # second on loopback, in a bash of their own (bats traces every
    # command it runs itself, which is slower).
    run bash -c '
        for ((i = 1; i <= 5000; i++)); do
            { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null ||
                { echo "client $i could not connect"; exit 1; }
            printf "client %d\n" "$i" >&"$fd"
            read -r -t "$2" line <&"$fd" || { echo "client $i got no echo"; exit 1; }
            [ "$line" = "client $i" ] ||
                { echo "client $i: sent \"client $i\", got \"$line\""; exit 1; }
            exec {fd}>&-
        done' - "$SERVER_PORT" "$(scaled 5)"
    ((status == 0)) ||
        fail "$output: the server served fewer than 5000 clients, then" \
            "stopped. Its accept loop must have no bound: for (;;), not a" \
            "count of turns."
    is_running "$SERVER_PID" || fail "the server has exited after 5000 clients"
}

# lab: echo
@test "echo: a client that closes is logged 'disconnected'" {
    check_disconnect_logged
}

# lab: echo
@test "echo: after the client's end of file, serve_client() returns (one 'disconnected')" {
    needs_our_server "it counts our server's 'disconnected' lines"
    check_returns_at_eof
}

# lab: echo
@test "echo: 'PEER disconnected' is logged on stderr, at once" {
    needs_our_server "it reads our server's log lines"
    check_logs_on_stderr
}

# lab: echo
@test "echo: a client that resets the connection: recv()'s error is logged" {
    check_reset_is_recv_error
    check_client_dropped_at_error recv || return 1
    check_error_ends_client_only recv
}

# lab: echo
@test "echo: a client that closes before its echo is sent: send()'s error is logged" {
    check_send_error_logged
    check_client_dropped_at_error send || return 1
    check_error_ends_client_only send
}

# lab: echo
@test "echo: short reads and writes, and EINTR: 64 KiB come back whole" {
    check_short_io_echo 1 "serve_client(): send back exactly the bytes \
that came with send_all() (one send() may take only part of them), and call \
recv() again when it fails with EINTR."
}

# lab: echo
@test "echo: a full buffer, then a reset (AddressSanitizer build): nothing written past the buffer, nothing leaked" {
    needs_our_server "it builds our net.c with AddressSanitizer"
    check_echo_memory_asan
}

# Two clients from 127.0.0.1, one after the other: the log names each
# by its whole address, "[::ffff:127.0.0.1]:PORT" (24 bytes at most),
# as accept_client() writes it into the buffer main() gives it.
# lab: accept_loop
@test "accept loop: each client is logged by its whole address" {
    needs_our_server "it reads our server's log lines"
    local i line
    for i in 1 2; do
        tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
        echo_once "$TCP_FD" "client $i"
        tcp_close "$TCP_FD"
        wait_until 5 log_reaches "$i" ' disconnected$' ||
            fail "client $i left, and the server logged no" \
                "'PEER disconnected'$(stub_note)" || return 1
    done
    while IFS= read -r line; do
        [[ "$line" =~ ^(\[::ffff:127\.0\.0\.1\]|127\.0\.0\.1):[0-9]+\ (dis)?connected$ ]] ||
            fail "the log names a client '${line% *}', not its whole" \
                "address ('[::ffff:127.0.0.1]:PORT'): the buffer main()" \
                "gives accept_client() is too small, or its size is wrong" \
                "(sizeof of a pointer is 8). Give it char" \
                "peer[ADDR_STR_SIZE] and sizeof peer." || return 1
    done < <(grep -E ' (dis)?connected$' "$SERVER_LOG")
}

# lab: accept_loop
@test "lesson: the server goes on after its client leaves" {
    check_disconnect_logged
    ! wait_until 1 is_gone "$SERVER_PID" ||
        fail "the server exited when its client left: recv() returning 0" \
            "ends that client, not the server; main() goes back to" \
            "accept() for the next"
}

# lab: accept_loop
@test "a client that resets the connection ends that client only" {
    reset_connection
    foreign_server || wait_until 5 log_reaches 1 ' error: (recv|send): ' ||
        true
    server_survived "a client reset its connection"
    foreign_server || log_reaches 1 ' error: (recv|send): ' ||
        fail "the reset was not logged: no 'error: recv: ...' (or send)"
    check_client_echoes_lines 127.0.0.1
}

# lab: accept_loop
@test "a client killed mid-message ends that client only" {
    kill_client_mid_message
    server_survived "a client was killed mid-message"
    check_client_echoes_lines 127.0.0.1
}

# lab: accept_loop
@test "after 200 connections the server's fd count is back at its baseline" {
    local baseline i
    baseline=$(fd_count "$SERVER_PID")
    for i in $(seq 200); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        echo_once "$TCP_FD" "connection $i"
        tcp_close "$TCP_FD"
    done
    # The server closes the last client's socket once it reads its EOF.
    # It closes the socket just after logging that: wait for both.
    if foreign_server; then # its log is not ours
        wait_until 5 server_closed_or_gone || true
    else
        wait_until 5 log_reaches 200 ' disconnected$'
    fi
    wait_until 5 server_fds_are "$baseline" ||
        fail "the server keeps a file descriptor for every client:" \
            "$(fd_count "$SERVER_PID") open now, $baseline at the start." \
            "Close each client's socket once it is served."
}

# lab: accept_loop
@test "after 20 resets the server's fd count is back at its baseline" {
    needs_our_server "it counts our server's error lines"
    local baseline i
    baseline=$(fd_count "$SERVER_PID")
    for i in $(seq 20); do
        check_reset_is_recv_error >/dev/null 2>&1 || true
    done
    wait_until 5 log_reaches 20 ' error: ' ||
        fail "20 clients reset their connections; the server logged" \
            "$(log_count ' error: ') errors"
    wait_until 5 server_fds_are "$baseline" ||
        fail "after 20 clients reset their connections, the server has" \
            "$(fd_count "$SERVER_PID") file descriptors open, $baseline at" \
            "the start. Close each client's socket in main() once" \
            "serve_client() returns, however the client ended (an error" \
            "too, not only end of file)."
}

# lab: accept_loop
@test "accept() out of file descriptors (EMFILE): logged once, and the server exits 1" {
    check_accept_emfile
}

# lab: accept_loop
@test "accept_loop: nothing allocated per client is left behind (AddressSanitizer build)" {
    needs_our_server "it builds our server with AddressSanitizer"
    check_accept_loop_leaks_asan
}

# For wait_until, which runs it again and again (a "$(...)" among its
# arguments would be counted once, before the first try).
server_fds_are() {
    [ "$(fd_count "$SERVER_PID")" -eq "$1" ]
}

# lab: accept_loop
@test "limitation: B gets no echo while A is connected, and gets it when A leaves" {
    local a b line
    tcp_open 127.0.0.1 "$SERVER_PORT"
    a=$TCP_FD
    echo_once "$a" "from A"

    # B's connection is complete (the kernel queues it until accept()),
    # but the server is busy in A's recv() loop: nobody reads B's line.
    tcp_open 127.0.0.1 "$SERVER_PORT"
    b=$TCP_FD
    printf 'from B\n' >&"$b"
    if read -r -t 1 line <&"$b"; then
        fail "B was answered ('$line') while A was still connected"
    fi
    foreign_server || [ "$(log_count ' connected$')" -eq 1 ] ||
        fail "B was accepted early"

    # A leaves: the loop goes back to accept(), and B is served.
    tcp_close "$a"
    read -r -t "$(scaled 5)" line <&"$b" || fail "B still has no echo"
    [ "$line" = "from B" ]
    tcp_close "$b"
}

# lab: echo
@test "client: lines come back exactly as they were sent" {
    check_client_echoes_lines 127.0.0.1
}

# lab: echo
@test "client: no prompt and nothing but the echoes when scripted" {
    check_no_prompt_when_scripted
}

# lab: echo
@test "client: a '>>: ' prompt on a terminal" {
    check_prompt_only_on_terminal
}

# lab: echo
@test "one byte is echoed (bash /dev/tcp, no client of ours)" {
    check_one_byte_devtcp
}

# lab: echo
@test "1 MiB of random binary data is echoed byte for byte (/dev/tcp)" {
    check_binary_devtcp
}

# lab: echo
@test "1 MiB of random binary data is echoed byte for byte (client)" {
    check_binary_client
}

# lab: echo
@test "client: short reads and writes: 64 KiB sent and read back whole" {
    check_short_io_client
}

# lab: echo
@test "client: a name that is ::1 (refused) then 127.0.0.1: the client tries the next address" {
    check_client_tries_each_address
}

# lab: echo
@test "client: the socket of an address that failed is closed before the next is tried" {
    check_client_closes_failed_sockets
}

@test "send_all: alone, with short writes and EINTR, it sends every byte" {
    needs_our_server "it tests our net.c's send_all() alone"
    check_send_all_alone
}

# lab: echo
@test "client: a line longer than all socket buffers does not deadlock" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    check_huge_line_client
}

# lab: echo
@test "IPv4: a client at 127.0.0.1 is served" {
    check_ipv4
}

# lab: echo
@test "IPv6: a client at ::1 is served" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    check_ipv6
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    needs_our_server "it checks our programs' usage lines and exit statuses"
    check_usage_errors
}

@test "a port already in use: a clear message and a hint, exit 1" {
    needs_our_server "it checks our server's error message and exit status"
    check_port_in_use
}

# lab: echo
@test "a server stopped mid-session restarts at once on the same port" {
    check_restart_same_port
}

@test "SIGTERM ends a server waiting for a client, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    check_stop_signal TERM
}

@test "SIGINT (Ctrl-C) ends a server waiting for a client, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    check_stop_signal INT
}

# lab: echo
@test "SIGTERM ends a server in the middle of a session, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    check_stop_signal_mid_session
}

@test "client: no server at the port: a clear message, exit 1" {
    check_no_server
}

# lab: accept_loop
@test "a client that closes before its echo is sent: EPIPE, not death by SIGPIPE" {
    provoke_epipe
    is_running "$SERVER_PID" || fail "the server died, status unknown"
    check_client_echoes_lines 127.0.0.1
}

# lab: echo
@test "client: the server goes away mid-session: a clear message, exit 1" {
    check_client_reports_lost_server
}

# lab: accept_loop
@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the server takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    check_client_stdin_closed
    check_client_stdout_closed
    check_server_std_fds_closed
}

# lab: accept_loop
@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    check_accept_error_retried
    is_running "$SERVER_PID" || fail "the server exited"
}
