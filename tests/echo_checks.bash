# tests/echo_checks.bash - checks of the echo protocol, shared by every
# stage that speaks it (01_echo, 02_persistent_server, 03_multiclient).
# Load it after helpers; set STAGE_DIR, and SERVER_NAME when the server
# program is not called "server". A check that talks to a server
# expects one started with start_server (SERVER_PORT, SERVER_LOG); it
# uses at most one client connection, because stage 01's server serves
# only one.

SERVER_NAME=${SERVER_NAME:-server}

# echo_via_devtcp HOST PORT IN OUT: send the file IN over a raw
# connection (bash's /dev/tcp, not our client) and read the echo into
# OUT. The writer runs in the background: the server echoes while we
# are still sending, and someone must read those echoes meanwhile.
echo_via_devtcp() {
    local size writer
    size=$(wc -c <"$3")
    tcp_open "$1" "$2" || return 1
    with_timeout 10 cat "$3" >&"$TCP_FD" 3>&- 4>&- &
    writer=$!
    with_timeout 10 head -c "$size" <&"$TCP_FD" >"$4" ||
        fail "sent $size bytes; $(wc -c <"$4") came back in $(scaled 10) s." \
            "Does the server drop the part of an echo that send() did not" \
            "take (a poll() server must keep it, and send it at POLLOUT)?" \
            "Or leave bytes unread and wait for more (as an edge-triggered" \
            "epoll loop that reads once per wakeup does)?"
    wait "$writer"
    tcp_close "$TCP_FD"
}

check_client_echoes_lines() { # HOST
    run run_client "$1" "$SERVER_PORT" <<<$'hello, echo\nsecond line'
    [ "$status" -eq 0 ] || fail "client exited $status: $output"
    [ "$output" = $'hello, echo\nsecond line' ] ||
        fail "echo differs: '$output'"
}

check_one_byte_devtcp() {
    local byte
    tcp_open 127.0.0.1 "$SERVER_PORT"
    printf 'x' >&"$TCP_FD"
    read -r -N 1 -t "$(scaled 5)" byte <&"$TCP_FD" ||
        fail "no echo of a single byte"
    tcp_close "$TCP_FD"
    [ "$byte" = x ]
}

check_binary_devtcp() {
    random_file "$BATS_TEST_TMPDIR/in" $((1024 * 1024))
    echo_via_devtcp 127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/in" \
        "$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

check_binary_client() {
    random_file "$BATS_TEST_TMPDIR/in" $((1024 * 1024))
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

# One "line" with no newline at all, longer than the socket buffers on
# both sides can hold (sized from this kernel's limits), so a client
# that sent it whole before reading any echo would deadlock with the
# server: both blocked in send().
check_huge_line_client() {
    local wmem rmem
    wmem=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem 2>/dev/null) ||
        wmem=4194304
    rmem=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_rmem 2>/dev/null) ||
        rmem=6291456
    head -c $((2 * wmem + 2 * rmem + 4 * 1024 * 1024)) /dev/zero |
        tr '\0' 'a' >"$BATS_TEST_TMPDIR/in"
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

# The server logs each client with the address it came from. A server
# whose IPv6 socket refuses IPv4 clients (IPV6_V6ONLY left on) still
# serves ::1, so a refusal at 127.0.0.1 is told apart from no server.
check_ipv4() {
    run run_client 127.0.0.1 "$SERVER_PORT" <<<$'hello, echo\nsecond line'
    if [[ "$status" -ne 0 && "$output" == *"Connection refused"* ]] &&
        have_ipv6 && (exec 5<>"/dev/tcp/::1/$SERVER_PORT") 2>/dev/null; then
        fail "127.0.0.1 was refused while ::1 is served: the server's" \
            "IPv6 socket takes no IPv4 clients. Turn IPV6_V6ONLY off" \
            "(setsockopt, before bind()) so that IPv4 clients reach it" \
            "as ::ffff:127.0.0.1."
    fi
    [ "$status" -eq 0 ] || fail "client exited $status: $output"
    [ "$output" = $'hello, echo\nsecond line' ] ||
        fail "echo differs: '$output'"
    grep -Eq '(^|:)127\.0\.0\.1\]?:[0-9]+ connected' "$SERVER_LOG" ||
        fail "server log shows no IPv4 client (no 'ADDRESS:PORT connected'" \
            "line with 127.0.0.1)"
}

check_ipv6() {
    check_client_echoes_lines ::1
    grep -q '^\[::1\]:[0-9]* connected' "$SERVER_LOG" ||
        fail "server log shows no IPv6 client"
}

# check_accepted HOST: a connection from HOST (bash's /dev/tcp, not our
# client) is accepted, and logged with the address it came from. It
# needs nothing of the server but its accept(). A server whose IPv6
# socket refuses IPv4 clients (IPV6_V6ONLY left on) still takes ::1, so
# a refusal at 127.0.0.1 is told apart from no server at all.
check_accepted() {
    local logged
    case $1 in
    *:*) logged="^\[$1\]:[0-9]+ connected" ;;
    *) logged="(^|:)${1//./\\.}\]?:[0-9]+ connected" ;;
    esac
    if ! { exec {TCP_FD}<>"/dev/tcp/$1/$SERVER_PORT"; } 2>/dev/null; then
        if [ "$1" = 127.0.0.1 ] && have_ipv6 &&
            (exec {probe}<>"/dev/tcp/::1/$SERVER_PORT") 2>/dev/null; then
            fail "127.0.0.1 was refused while ::1 is served: the server's" \
                "IPv6 socket takes no IPv4 clients. Turn IPV6_V6ONLY off" \
                "(setsockopt, before bind()) so that IPv4 clients reach it" \
                "as ::ffff:127.0.0.1."
        fi
        fail "could not connect to $1 port $SERVER_PORT"
    fi
    wait_until 5 log_reaches 1 "$logged" ||
        fail "connected from $1, but the server logged no" \
            "'ADDRESS:PORT connected' line with that address"
    tcp_close "$TCP_FD"
}

# check_disconnect_logged: a client sends a line, reads its echo and
# closes (bash's /dev/tcp). recv() then returns 0: the server must log
# the end of that client and be done with it.
check_disconnect_logged() {
    local line
    tcp_open 127.0.0.1 "$SERVER_PORT"
    printf 'bye\n' >&"$TCP_FD"
    read -r -t "$(scaled 5)" line <&"$TCP_FD" || fail "no echo of 'bye'"
    tcp_close "$TCP_FD"
    wait_until 5 log_reaches 1 ' disconnected$' ||
        fail "the client closed its end, and the server logged no" \
            "'PEER disconnected': recv() returning 0 means the client has" \
            "closed, and serve_client() must return then. (A loop that" \
            "goes on calling recv() gets 0 for ever, at full CPU.)"
}

check_usage_errors() {
    local args
    for args in "-x" "1 2" "70000" "abc" "-1"; do
        # shellcheck disable=SC2086 # split the arguments on purpose
        run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/$SERVER_NAME" \
            $args
        [ "$status" -eq 2 ] || fail "$SERVER_NAME $args: exit $status, not 2"
        [[ "$output" == *"usage: $SERVER_NAME"* ]] ||
            fail "$SERVER_NAME $args: $output"
    done
    for args in "-x" "a 1 b" "localhost 0" "localhost 70000" "localhost x"; do
        # shellcheck disable=SC2086
        run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" $args \
            </dev/null
        [ "$status" -eq 2 ] || fail "client $args: exit $status, not 2"
        [[ "$output" == *"usage: client"* ]] || fail "client $args: $output"
    done
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/$SERVER_NAME" -h
    [ "$status" -eq 0 ] || fail "$SERVER_NAME -h: exit $status"
    [[ "$output" == "usage: $SERVER_NAME"* ]] || fail "$SERVER_NAME -h: $output"
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" -h
    [ "$status" -eq 0 ] || fail "client -h: exit $status"
    [[ "$output" == "usage: client"* ]] || fail "client -h: $output"
    check_numeric_host
}

# A HOST of digits alone is a port with its host left out: getaddrinfo()
# would read 9001 as the IPv4 address 0.0.35.41.
check_numeric_host() {
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" 9001 \
        </dev/null
    [ "$status" -eq 2 ] ||
        fail "client 9001: exit $status, not 2 (a usage error: 9001 is" \
            "no host; getaddrinfo() takes it for 0.0.35.41): $output"
    [[ "$output" == *"hint: did you mean \`./client localhost 9001\`?"* ]] ||
        fail "client 9001: no hint: $output"
    [[ "$output" == *"usage: client"* ]] || fail "client 9001: $output"
}

check_port_in_use() {
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/$SERVER_NAME" \
        "$SERVER_PORT"
    [ "$status" -eq 1 ] || fail "exit $status, not 1: $output"
    [[ "$output" == *"bind: Address already in use"* ]] || fail "$output"
    [[ "$output" == *"hint: "*"$SERVER_PORT"* ]] || fail "no hint: $output"
}

# check_stop_signal SIGNAL: the server, waiting (asleep in accept() or
# recv()), ends with status 0 when sent SIGNAL.
check_stop_signal() {
    wait_until 5 _server_asleep ||
        fail "the server was not waiting when SIG$1 was to be sent: it" \
            "must block in accept() or recv() until a client comes" ||
        return 1
    kill -"$1" "$SERVER_PID" 2>/dev/null ||
        fail "the server exited before SIG$1 was sent" || return 1
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ] || fail "server exited $EXIT_STATUS after $1"
}

_server_asleep() {
    [ "$(proc_state "$SERVER_PID")" = S ]
}

check_stop_signal_mid_session() {
    tcp_open 127.0.0.1 "$SERVER_PORT"
    wait_until 5 log_reaches 1 ' connected$'
    check_stop_signal TERM
    tcp_close "$TCP_FD"
}

# SO_REUSEADDR: a server stopped while a client is connected closes its
# end first, so its side of the connection waits in TIME_WAIT for a
# minute or so. A new server must still be able to bind the same port.
check_restart_same_port() {
    local port=$SERVER_PORT line
    tcp_open 127.0.0.1 "$port"
    printf 'ping\n' >&"$TCP_FD"
    read -r -t "$(scaled 5)" line <&"$TCP_FD" || fail "no echo"
    stop_process "$SERVER_PID"
    tcp_close "$TCP_FD"
    if ! start_server "$STAGE_DIR/$SERVER_NAME" "$port" 2>/dev/null; then
        grep -q 'Address already in use' "$SERVER_LOG" &&
            fail "a new server could not bind port $port at once: Address" \
                "already in use. The old server's connection waits in" \
                "TIME_WAIT; set SO_REUSEADDR on the listening socket before" \
                "bind()."
        fail "a new server on port $port did not start: $(tail -n 3 "$SERVER_LOG")"
    fi
    [ "$SERVER_PORT" = "$port" ]
}

# No server at the port: the client says so, with a hint, and exits 1.
check_no_server() {
    local port=$SERVER_PORT
    stop_process "$SERVER_PID"
    run run_client 127.0.0.1 "$port" <<<"hello"
    [ "$status" -eq 1 ] || fail "client exited $status, not 1: $output"
    [[ "$output" == *"Connection refused"* ]] || fail "$output"
    [[ "$output" == *"hint: is the server running?"* ]] || fail "$output"
}

# On a terminal (script(1) makes one) the client prompts; with input
# from a pipe it prints the echoes and nothing else.
check_prompt_only_on_terminal() {
    command -v script >/dev/null || skip "script(1) is not installed"
    run with_timeout 10 script -qec \
        "${CLIENT_WRAPPER:-} '$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT" \
        /dev/null <<<"hi"
    [ "$status" -eq 0 ] || fail "client on a terminal: exit $status"
    [[ "$output" == *">>: "* ]] || fail "no prompt on a terminal: $output"
}

check_no_prompt_when_scripted() {
    run run_client 127.0.0.1 "$SERVER_PORT" <<<"hi"
    [ "$status" -eq 0 ] && [ "$output" = hi ] || fail "got: '$output'"
}

# reset_connection: send some bytes, read one byte of their echo, and
# close with the rest unread. Closing a socket with unread data makes
# the kernel send a reset (RST), not a polite FIN: the server's next
# recv() or send() fails with ECONNRESET or EPIPE. 32 KiB fits in the
# socket buffers both ways, so the write cannot block.
reset_connection() {
    local byte
    random_file "$BATS_TEST_TMPDIR/chunk" $((32 * 1024))
    tcp_open 127.0.0.1 "$SERVER_PORT"
    cat "$BATS_TEST_TMPDIR/chunk" >&"$TCP_FD"
    read -r -N 1 -t "$(scaled 5)" byte <&"$TCP_FD" || fail "no echo at all"
    tcp_close "$TCP_FD"
}

# kill_client_mid_message: a process that has sent half a message is
# killed (SIGKILL, no chance to clean up); the kernel closes its socket.
kill_client_mid_message() {
    local pid before
    before=$(log_count ' connected$')
    (
        exec {fd}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
        printf 'half a mess' >&"$fd"
        exec sleep 30
    ) 3>&- 4>&- &
    pid=$!
    disown "$pid" # bash would print a "Killed" notice for its job
    _test_pids+=("$pid")
    wait_until 5 log_reaches $((before + 1)) ' connected$'
    kill -KILL "$pid"
    wait_until 5 is_gone "$pid" || fail "the killed client is still running"
    _forget_pid "$pid"
}

# provoke_epipe: make the server send() to a client that has already
# closed its socket, so that send() fails with EPIPE, which raises
# SIGPIPE: unless the server ignores it, that kills the server. The
# server is stopped while the client sends and closes, so the client's
# kernel has nothing unread and says goodbye politely (FIN); the first
# echo then draws a reset, and the next send() meets EPIPE.
provoke_epipe() {
    random_file "$BATS_TEST_TMPDIR/chunk" $((32 * 1024))
    kill -STOP "$SERVER_PID"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    cat "$BATS_TEST_TMPDIR/chunk" >&"$TCP_FD"
    tcp_close "$TCP_FD"
    kill -CONT "$SERVER_PID"
    wait_until 5 _noticed_or_gone
    if is_gone "$SERVER_PID"; then
        wait_for_exit "$SERVER_PID" 1
        [ "$EXIT_STATUS" -ne 141 ] ||
            fail "SIGPIPE killed the server (exit status 141 = 128 + 13)." \
                "A send() to a connection the peer has closed raises SIGPIPE," \
                "and its default action ends the process. Ignore it" \
                "(ignore_sigpipe()), and send() fails with EPIPE instead."
    fi
    log_reaches 1 ' error: (send|recv): ' ||
        fail "the server did not log the closed connection (no" \
            "'PEER error: send: ...' line)"
}

_noticed_or_gone() {
    log_reaches 1 ' error: (send|recv): ' || is_gone "$SERVER_PID"
}

# The short-I/O shim (tests/shortio.c, built by make tools): every read
# and write on a TCP socket moves at most SHORTIO_MAX_BYTES, and every
# 4th call fails with EINTR, as on a slow network with signals about.
# On loopback send() practically always takes the whole buffer, so a
# send_all() without its loop passes every other test.
SHORTIO_LIB="$TOP/tests/shortio.so"

_need_shortio() {
    [ -z "${CHECK_VARIANT:-}" ] ||
        skip "make check-$CHECK_VARIANT runs its own wrapper, not the shim"
    [ -f "$SHORTIO_LIB" ] ||
        fail "tests/shortio.so is not built: run make tools (make test does)"
}

SHORT_IO_HINT="send() may take only part of a buffer: call it again for the rest (the loop in send_all()).
send() and recv() may fail with EINTR: call them again."

# check_short_writes_server: the server under the shim, a client that is
# not (bash's /dev/tcp): 64 KiB must come back whole.
check_short_writes_server() {
    _need_shortio
    local _server_wrapper=(env LD_PRELOAD="$SHORTIO_LIB" SHORTIO_MAX_BYTES=100)
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    random_file "$BATS_TEST_TMPDIR/in" $((64 * 1024))
    echo_via_devtcp 127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/in" \
        "$BATS_TEST_TMPDIR/out" 2>/dev/null || true
    _same_echo "the server's echo" "$SHORT_IO_HINT"
}

# check_short_io_client: the client under the shim, the server not.
check_short_io_client() {
    _need_shortio
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    random_file "$BATS_TEST_TMPDIR/in" $((64 * 1024))
    local _client_wrapper=(env LD_PRELOAD="$SHORTIO_LIB" SHORTIO_MAX_BYTES=100)
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || true
    _same_echo "the client's output" "$SHORT_IO_HINT
recv() may return fewer bytes than asked: call it again until the whole echo has come (recv_all()).
client's stderr: $(head -c 300 "$BATS_TEST_TMPDIR/err")"
}

_same_echo() { # WHAT HINT
    local want got
    touch "$BATS_TEST_TMPDIR/out"
    want=$(wc -c <"$BATS_TEST_TMPDIR/in")
    got=$(wc -c <"$BATS_TEST_TMPDIR/out")
    cmp -s "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" ||
        fail "with short reads and writes, $1 has $got of $want bytes" \
            "(or they differ)." "$2"
}

# The client, mid-session, loses its server: it says so and exits 1.
check_client_reports_lost_server() {
    local fifo="$BATS_TEST_TMPDIR/lines" writer client
    rm -f "$fifo"
    mkfifo "$fifo"
    run_client 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- &
    client=$!
    _test_pids+=("$client")
    exec {writer}>"$fifo"
    printf 'one\n' >&"$writer"
    wait_until 5 log_reaches 1 ' connected$'
    stop_process "$SERVER_PID"
    # The client may have gone already: then this write finds no reader
    # (EPIPE, with SIGPIPE ignored in a subshell, not the test's death).
    (trap '' PIPE && printf 'two\n') >&"$writer" 2>/dev/null || true
    exec {writer}>&-
    wait_for_exit "$client" 10
    [ "$EXIT_STATUS" -eq 1 ] || fail "the client exited $EXIT_STATUS, not 1"
    grep -Eq 'closed the connection|reset by peer|Broken pipe' \
        "$BATS_TEST_TMPDIR/err" || fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

# Started with fd 0 closed (./client HOST PORT <&-), the client behaves
# as with empty input: it connects, sends nothing, exits 0. Without
# /dev/null on fd 0, its socket takes fd 0, and getline() reads the
# socket: the client waits for ever for input from itself.
check_client_stdin_closed() {
    run with_fd_closed 0 5 "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" 127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 124 ] ||
        fail "client <&-: hung. Its socket took fd 0, the lowest free" \
            "number, and getline() read the socket (the classic mistake:" \
            "nothing open on fd 0; open /dev/null there first)"
    [ "$status" -eq 0 ] && [ -z "$output" ] ||
        fail "client <&-: exit $status, output '$output'; expected what" \
            "</dev/null gives: exit 0, no output"
}

# With fd 1 closed, the client's socket would take fd 1, and its echoes
# would go back into the socket; with /dev/null there they are thrown
# away, and the client succeeds.
check_client_stdout_closed() {
    run with_fd_closed 1 5 "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" 127.0.0.1 "$SERVER_PORT" <<<"into the void"
    [ "$status" -eq 0 ] && [ -z "$output" ] ||
        fail "client >&-: exit $status, stderr '$output'; expected what" \
            ">/dev/null gives: exit 0, nothing on stderr (fd 1 closed:" \
            "the socket took it)"
}

# A server started with fds 0 and 2 closed finds /dev/null there, not
# its listening socket, and serves as ever.
check_server_std_fds_closed() {
    start_server --closed-fds "$STAGE_DIR/$SERVER_NAME" 0
    local fd target
    for fd in 0 2; do
        target=$(readlink "/proc/$SERVER_PID/fd/$fd")
        [ "$target" = /dev/null ] ||
            fail "$SERVER_NAME started with fds 0 and 2 closed: fd $fd is" \
                "'$target', not /dev/null (a socket took the lowest free" \
                "number)"
    done
    check_client_echoes_lines 127.0.0.1
}

# Linux's accept() can fail with an error of the connection it took
# from the queue (ENETUNREACH: the client's network failed before the
# server accepted it). accept(2) says to call accept() again, as for
# EAGAIN; tests/acceptfail.so makes the first accept() fail so. The
# server logs it and serves the next client.
check_accept_error_retried() {
    local shim="$TOP/tests/acceptfail.so"
    [ -f "$shim" ] ||
        fail "tests/acceptfail.so is not built: make test builds it," \
            "or make tests/acceptfail.so" || return 1
    start_server "$(command -v env)" LD_PRELOAD="$shim" \
        "$STAGE_DIR/$SERVER_NAME" 0
    tcp_open 127.0.0.1 "$SERVER_PORT" # the connection accept() fails
    wait_until 5 log_reaches 1 '^acceptfail: ' ||
        fail "tests/acceptfail.so did not bite: no 'acceptfail:' line"
    tcp_close "$TCP_FD"
    wait_until 5 log_reaches 1 ': accept: Network is unreachable' ||
        fail "the failed accept() was not logged"
    local state="was still running"
    is_running "$SERVER_PID" || state="had exited"
    # The next client, through bash's /dev/tcp: all this needs of the
    # server is its accept().
    { exec {TCP_FD}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"; } 2>/dev/null &&
        wait_until 5 log_reaches 1 ' connected$' ||
        fail "after accept() failed with ENETUNREACH the server" \
            "$state, and the next client was not accepted. That error is" \
            "the new connection's, not the listener's: accept(2) says to" \
            "retry it like EAGAIN"
    tcp_close "$TCP_FD"
}
