# tests/echo_checks.bash - checks of the echo protocol, shared by every
# stage that speaks it (01_echo, 02_persistent_server, 03_multiclient).
# Load it after helpers; set STAGE_DIR, and SERVER_NAME when the server
# program is not called "server". A check that talks to a server
# expects one started with start_server (SERVER_PORT, SERVER_LOG); it
# uses at most one client connection, because stage 01's server serves
# only one.

SERVER_NAME=${SERVER_NAME:-server}

# What echo_via_devtcp says when bytes are lost: a stage sets
# ECHO_LOST_HINT to the likely mistakes of its own lesson.
POLL_ECHO_LOST_HINT="Does the server drop the part of an echo that send() did not \
take (a poll() server must keep it, and send it at POLLOUT)? Or leave bytes \
unread and wait for more (as an edge-triggered epoll loop that reads once per \
wakeup does)?"

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
            "${ECHO_LOST_HINT:-$POLL_ECHO_LOST_HINT}"
    wait "$writer"
    tcp_close "$TCP_FD"
}

check_client_echoes_lines() { # HOST
    run run_client "$1" "$SERVER_PORT" <<<$'hello, echo\nsecond line'
    [ "$status" -eq 0 ] || fail "client exited $status: $output"
    [ "$output" = $'hello, echo\nsecond line' ] ||
        fail "echo differs: sent $(printf %q $'hello, echo\nsecond line\n')," \
            "got back $(printf %q "$output")"
}

# same_echo IN OUT: the file OUT holds exactly the bytes of IN; else
# fail, saying how the echo differs: how many bytes came back, and the
# first byte that differs.
same_echo() {
    cmp -s "$1" "$2" && return 0
    local sent got diff at want came
    sent=$(wc -c <"$1")
    got=$(wc -c <"$2")
    diff=$(cmp -l "$1" "$2" 2>/dev/null | head -n 1)
    if [ -z "$diff" ]; then # OUT is the start of IN
        fail "the echo stops short: $sent bytes sent, $got came back," \
            "the same as the first $got sent"
        return 1
    fi
    read -r at want came <<<"$diff"
    fail "the echo differs: $sent bytes sent, $got came back; byte $at" \
        "was $(_byte_name "$want"), and came back as $(_byte_name "$came")." \
        "An echo sends back every byte it receives, unchanged (whitespace," \
        "newlines and NULs too)"
}

_byte_name() { # OCTAL (as cmp -l prints it)
    local code=$((8#$1))
    case $code in
    10) echo "0x0a (a newline)" ;;
    32) echo "0x20 (a space)" ;;
    9 | 13 | 11 | 12) printf '0x%02x (whitespace)\n' "$code" ;;
    *) printf '0x%02x\n' "$code" ;;
    esac
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
        "$BATS_TEST_TMPDIR/out" ||
        same_echo "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" || return 1
    same_echo "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

check_binary_client() {
    random_file "$BATS_TEST_TMPDIR/in" $((1024 * 1024))
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out"
    same_echo "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
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
    local status=0
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out" || status=$?
    ((status != 124)) ||
        fail "the client, sent a line of $(wc -c <"$BATS_TEST_TMPDIR/in")" \
            "bytes, did not finish in $(scaled 20) s: a client that sends a" \
            "whole line before it reads any echo blocks in send() while the" \
            "server blocks in send() too, both buffers full. Send a piece," \
            "read its echo, then the next (client.c's CHUNK_SIZE)." ||
        return 1
    same_echo "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
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
    foreign_server ||
        grep -Eq '(^|:)127\.0\.0\.1\]?:[0-9]+ connected' "$SERVER_LOG" ||
        fail "server log shows no IPv4 client (no 'ADDRESS:PORT connected'" \
            "line with 127.0.0.1)$(_cut_address_note)"
}

# _cut_address_note: when the log's first "... connected" line names no
# whole address, a note that the peer buffer may be too small.
_cut_address_note() {
    local line
    line=$(grep -m 1 ' connected$' "$SERVER_LOG" 2>/dev/null) || return 0
    [[ "$line" =~ \]:[0-9]+\ connected$|^[0-9.]+:[0-9]+\ connected$ ]] && return 0
    printf "; it logged '%s': an address cut short? The buffer main()" "$line"
    printf ' gives accept_client() must hold ADDR_STR_SIZE bytes, and its'
    printf ' size must be given right (not sizeof of a pointer)'
}

# (A foreign server may listen on IPv4 alone: then this skips. ss
# tells, where a connection would take stage 01's one client.)
check_ipv6() {
    if foreign_server &&
        [ -z "$(ss -Hltn6 "( sport = :$SERVER_PORT )" 2>/dev/null)" ]; then
        skip "the server does not listen on IPv6 (no IPv6 socket on its port)"
    fi
    check_client_echoes_lines ::1
    foreign_server || grep -q '^\[::1\]:[0-9]* connected' "$SERVER_LOG" ||
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
    if foreign_server; then # its log is not ours: see it take the client
        wait_until 5 connected_reaches 1 ||
            fail "connected from $1, and the server did not accept()"
        tcp_close "$TCP_FD"
        return
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
    if foreign_server; then # its log is not ours: see it close its end
        wait_until 5 server_closed_or_gone ||
            fail "the client closed its end, and the server kept its end" \
                "open: recv() returning 0 means the client has closed"
        return
    fi
    wait_until 5 log_reaches 1 ' disconnected$' ||
        fail "the client closed its end, and the server logged no" \
            "'PEER disconnected': recv() returning 0 means the client has" \
            "closed, and serve_client() must return then. (A loop that" \
            "goes on calling recv() gets 0 for ever, at full CPU.) Or is" \
            "the line printed to stdout? It is buffered, and shows only when" \
            "the server exits: log on stderr."
}

check_usage_errors() {
    local args
    needs_our_client "it checks our programs' usage lines and exit statuses"
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
    needs_our_client "it checks our client's usage line and hint"
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
    needs_our_client "the '>>: ' prompt is our client's own"
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
    before=$(connected_count)
    (
        exec {fd}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
        printf 'half a mess' >&"$fd"
        exec sleep 30
    ) 3>&- 4>&- &
    pid=$!
    disown "$pid" # bash would print a "Killed" notice for its job
    _test_pids+=("$pid")
    wait_until 5 connected_reaches $((before + 1))
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
    stop_now "$SERVER_PID"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    cat "$BATS_TEST_TMPDIR/chunk" >&"$TCP_FD"
    tcp_close "$TCP_FD"
    kill -CONT "$SERVER_PID"
    if foreign_server; then # its log is not ours: see it close its end
        wait_until 5 server_closed_or_gone
    else
        wait_until 5 _noticed_or_gone ||
            fail "a client sent 32 KiB and closed its socket at once, its" \
                "echo unread; in 5 s the server logged" \
                "no 'PEER error: send: ...' (or recv) line$(_logged_note ' disconnected$')." \
                "Sending the echo to a closed connection fails (ECONNRESET," \
                "then EPIPE): try to send it, and log the failure. (A poll()" \
                "server that drops a client on POLLHUP or POLLERR before it" \
                "reads and sends never sees that error)" || return 1
    fi
    if is_gone "$SERVER_PID"; then
        wait_for_exit "$SERVER_PID" 1
        [ "$EXIT_STATUS" -ne 141 ] ||
            fail "SIGPIPE killed the server (exit status 141 = 128 + 13)." \
                "A send() to a connection the peer has closed raises SIGPIPE," \
                "and its default action ends the process. Ignore it" \
                "(ignore_sigpipe()), and send() fails with EPIPE instead."
    fi
    foreign_server && return 0
    log_reaches 1 ' error: (send|recv): ' ||
        fail "the server did not log the closed connection (no" \
            "'PEER error: send: ...' line)"
}

_noticed_or_gone() {
    log_reaches 1 ' error: (send|recv): ' || is_gone "$SERVER_PID"
}

# The short-I/O shim: SHORTIO_LIB and _need_shortio (tests/helpers.bash).
# On loopback send() practically always takes the whole buffer, so a
# send_all() without its loop passes every other test.
SHORT_IO_HINT="send() may take only part of a buffer: call it again for the rest (the loop in send_all()).
send() and recv() may fail with EINTR: call them again."

# _short_io_round WRITES: the server under the shim (its writes cut too
# when WRITES is 1), a client that is not (bash's /dev/tcp), 64 KiB sent
# to it; its echo in $BATS_TEST_TMPDIR/out.
_short_io_round() {
    _need_shortio
    local _server_wrapper=(env LD_PRELOAD="$SHORTIO_LIB" SHORTIO_MAX_BYTES=100
        SHORTIO_WRITES="$1")
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    random_file "$BATS_TEST_TMPDIR/in" $((64 * 1024))
    echo_via_devtcp 127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/in" \
        "$BATS_TEST_TMPDIR/out" 2>/dev/null || true
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

# check_client_takes_one_echo: a server that sends back every byte
# twice (tests/net_harness.c echo_twice), so that more than one echo
# waits; the client's reads cut to 1-3 bytes (the shim). Two lines of
# 64 bytes: each recv_all() must take exactly 64 bytes, so the client
# prints line 1 twice (its echo, then its copy, taken as line 2's).
# A recv_all() that asks recv() for `len` bytes at every turn, not for
# the `len - got` still missing, takes bytes of the next echo, and on a
# full 16 KiB chunk writes past its buffer.
check_client_takes_one_echo() {
    _need_shortio
    build_harness ||
        fail "tests/net_harness.c did not build with net.c:" \
            "$(head -c 600 "$BATS_TEST_TMPDIR/harness.err")" || return 1
    start_server "$HARNESS" echo_twice
    local one two
    one=$(printf '%063d' 1)
    two=$(printf '%063d' 2)
    printf '%s\n%s\n' "$one" "$two" >"$BATS_TEST_TMPDIR/lines"
    printf '%s\n%s\n' "$one" "$one" >"$BATS_TEST_TMPDIR/in"
    local _client_wrapper=(env LD_PRELOAD="$SHORTIO_LIB" SHORTIO_WRITES=0)
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/lines" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || true
    cmp -s "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" ||
        fail "a server that sends more than the echo (each byte twice)," \
            "reads cut short: the client, given two lines of 64 bytes," \
            "must print line 1 twice (64 bytes per recv_all(), the copy" \
            "taken for line 2's echo); it printed" \
            "$(wc -c <"$BATS_TEST_TMPDIR/out") bytes that differ. Does" \
            "recv_all() ask recv() for len bytes at every turn, not for the" \
            "len - got still missing? Then it takes bytes that are not this" \
            "echo's, and with a 16 KiB line writes past its buffer." \
            "client's stderr: $(head -c 200 "$BATS_TEST_TMPDIR/err")"
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
    wait_until 5 connected_reaches 1
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

# check_client_reports_reset: the server is killed with the client's
# line unread, so its kernel resets the connection (RST): the
# client's recv() fails with ECONNRESET, and the client must say so
# ("client: recv: Connection reset by peer") and exit 1. A recv_all()
# that returns 0 (or what it got) on an error makes the client say
# that the server closed the connection, which it did not. Then the
# same after part of an echo (_client_reports_reset_after_part).
check_client_reports_reset() {
    local fifo="$BATS_TEST_TMPDIR/lines" writer client
    rm -f "$fifo"
    mkfifo "$fifo"
    run_client 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- &
    client=$!
    _test_pids+=("$client")
    exec {writer}>"$fifo"
    wait_until 5 connected_reaches 1 ||
        fail "the client did not connect" || return 1
    stop_now "$SERVER_PID"
    printf 'one\n' >&"$writer"
    # Wait until 'one' waits, unread, in the server's socket.
    wait_until 10 _server_has_unread ||
        fail "the client's line never reached the server's socket" \
            "(the client $(is_running "$client" && echo runs ||
                echo has exited); it said '$(head -c 200 \
                "$BATS_TEST_TMPDIR/err")'; ss: '$(ss -Htn state established \
                "( sport = :$SERVER_PORT )" 2>&1 | head -n 2)')" ||
        return 1
    kill -KILL "$SERVER_PID"
    wait_for_exit "$client" 10
    exec {writer}>&-
    grep -q 'recv: Connection reset by peer' "$BATS_TEST_TMPDIR/err" ||
        fail "the server reset the connection (it was killed with a line" \
            "unread): the client's recv() failed with ECONNRESET, and the" \
            "client said '$(head -c 200 "$BATS_TEST_TMPDIR/err")'. When" \
            "recv() returns -1, recv_all() returns -1 (errno set), and the" \
            "client says 'client: recv: Connection reset by peer'; fewer" \
            "bytes than asked means the server closed, which it did not." ||
        return 1
    [ "$EXIT_STATUS" -eq 1 ] || fail "the client exited $EXIT_STATUS, not 1" ||
        return 1
    _client_reports_reset_after_part
}

# _client_reports_reset_after_part: a server that sends back half of
# the line, then resets the connection (tests/net_harness.c
# echo_half_reset). recv() gives those bytes, then fails with
# ECONNRESET: recv_all() must return -1 still, not the count it got.
_client_reports_reset_after_part() {
    needs_our_client "it reads our client's error message"
    build_harness ||
        fail "tests/net_harness.c did not build with net.c:" \
            "$(head -c 600 "$BATS_TEST_TMPDIR/harness.err")" || return 1
    start_server "$HARNESS" echo_half_reset || return 1
    local status=0
    run_client 127.0.0.1 "$SERVER_PORT" <<<"hello, world" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
    grep -q 'recv: Connection reset by peer' "$BATS_TEST_TMPDIR/err" ||
        fail "a server sent back half of the line, then reset the" \
            "connection (tests/net_harness.c echo_half_reset), and the" \
            "client said '$(head -c 200 "$BATS_TEST_TMPDIR/err")'. recv()" \
            "gave 6 bytes, then failed with ECONNRESET: recv_all() returns" \
            "-1 then, whatever it got before; returning the bytes it got" \
            "says the server closed, which it did not." || return 1
    [ "$status" -eq 1 ] || fail "the client exited $status, not 1"
}

_server_has_unread() {
    local q
    q=$(ss -Htn state established "( sport = :$SERVER_PORT )" 2>/dev/null |
        awk '{ print $1; exit }')
    [ "${q:-0}" -gt 0 ]
}

# check_client_socket_fails: the client under tests/ipv4only.so, where
# socket(AF_INET6) fails (EAFNOSUPPORT), asked for ::1: it has no
# address left, and must say why the last one failed: "Address family
# not supported by protocol". A loop that goes on to connect() on the
# -1 of the failed socket() says "Bad file descriptor" instead.
check_client_socket_fails() {
    needs_our_client "it reads our client's error message"
    [ -f "$TOP/tests/ipv4only.so" ] ||
        fail "tests/ipv4only.so is not built: make test builds it" ||
        return 1
    run with_timeout 10 env LD_PRELOAD="$TOP/tests/ipv4only.so" \
        "$STAGE_DIR/client" ::1 9 </dev/null
    [ "$status" -eq 1 ] && [[ "$output" == *"Address family not supported"* ]] ||
        fail "socket() failed for ::1 (no IPv6 here: EAFNOSUPPORT), and the" \
            "client exited $status, saying '$output'. Expected exit 1 and" \
            "'client: connect to ::1 port 9: Address family not supported by" \
            "protocol'. When socket() fails, go on to the next address" \
            "(continue): connect() on fd -1 fails with EBADF and hides why."
}

# Started with fd 0 closed (./client HOST PORT <&-), the client behaves
# as with empty input: it connects, sends nothing, exits 0. Without
# /dev/null on fd 0, its socket takes fd 0, and getline() reads the
# socket: the client waits for ever for input from itself.
check_client_stdin_closed() {
    needs_our_client "it starts our client with fds 0-2 closed"
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
    needs_our_client "it starts our client with fds 0-2 closed"
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
    start_with_acceptfail ENETUNREACH "$STAGE_DIR/$SERVER_NAME" 0
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

### The echo lab's checks (stages 01 and 02): each names the helper at
### fault, so that a mistake costs the part it was made in.

# build_harness [SANITIZER]: build tests/net_harness.c with the stage's
# net.c (the student's, in a lab), with -fsanitize=SANITIZER if given;
# sets HARNESS. Fails when the compiler cannot (no sanitizer runtime).
build_harness() {
    local flags=(-O1 -g)
    [ -z "${1:-}" ] || flags+=(-fsanitize="$1" -fno-omit-frame-pointer)
    HARNESS="$BATS_TEST_TMPDIR/net_harness${1:+_$1}"
    "${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L "${flags[@]}" \
        -I "$STAGE_DIR" -o "$HARNESS" "$TOP/tests/net_harness.c" \
        "$STAGE_DIR/net.c" 2>"$BATS_TEST_TMPDIR/harness.err"
}

# check_send_all_alone: send_all() alone, under the short-I/O shim, on
# a Unix stream socket pair (tests/net_harness.c): 64 KiB must reach
# the other end whole, and send_all() return 0; then, on a socket whose
# other end is closed, send_all() must return -1 with errno EPIPE.
check_send_all_alone() {
    _need_shortio
    build_harness ||
        fail "tests/net_harness.c did not build with net.c:" \
            "$(head -c 600 "$BATS_TEST_TMPDIR/harness.err")" || return 1
    random_file "$BATS_TEST_TMPDIR/in" $((64 * 1024))
    local status=0
    with_timeout 20 env LD_PRELOAD="$SHORTIO_LIB" SHORTIO_MAX_BYTES=100 \
        "$HARNESS" send_all <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
    [ "$status" -eq 0 ] ||
        fail "send_all() alone, with short writes and EINTR, returned -1," \
            "or not 0 (net.h: it returns 0 once every byte is sent), or" \
            "did not return (exit $status:" \
            "$(head -c 200 "$BATS_TEST_TMPDIR/err"))." "$SHORT_IO_HINT" ||
        return 1
    _same_echo "what send_all() alone delivered" "$SHORT_IO_HINT" || return 1
    local got
    got=$(with_timeout 10 "$HARNESS" send_all_closed 2>&1) ||
        fail "send_all() to a socket whose other end is closed did not" \
            "return (exit $?): send() fails with EPIPE there, for ever;" \
            "on -1 return -1 at once, do not count it as bytes sent." ||
        return 1
    [ "$got" = "send_all: -1 EPIPE" ] ||
        fail "send_all() to a socket whose other end is closed: expected" \
            "-1 with errno EPIPE (send() fails so), got '$got'. When send()" \
            "returns -1 (errno not EINTR), send_all() returns -1, errno as" \
            "send() left it: the caller logs it."
}

# check_short_writes_blame: the server under the shim (reads and
# writes cut short, EINTR), 64 KiB must come back whole; when not, say
# whether send_all() alone works, and so whether serve_client() is at
# fault (it calls send() itself, or does not retry recv() on EINTR).
check_short_writes_blame() {
    _short_io_round 1
    cmp -s "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" && return 0
    if (BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR/alone && mkdir "$BATS_TEST_TMPDIR" &&
        check_send_all_alone) >/dev/null 2>&1; then
        _same_echo "the server's echo" "send_all() alone sends every byte \
(test 'send_all: alone ...'): the bytes are lost in serve_client(). Does it \
call send() itself instead of send_all()? Does it give up when recv() fails \
with EINTR, instead of calling recv() again?"
    else
        _same_echo "the server's echo" "$SHORT_IO_HINT"
    fi
}

# check_short_io_echo WRITES HINT: the server under the shim, its reads
# cut short and failing with EINTR now and then, its writes too when
# WRITES is 1 (0: sends untouched, for a stage whose send_all() is the
# student's next part). 64 KiB must come back whole.
check_short_io_echo() {
    _short_io_round "$1"
    _same_echo "the server's echo" "$2$(_logged_note ' error: ')"
}

# _logged_note REGEX: the first line of the server's log matching REGEX,
# as " (its log: '...')", to end a message with; nothing when none.
_logged_note() {
    local said
    said=$(grep -m 1 -E -- "$1" "$SERVER_LOG" 2>/dev/null) || return 0
    printf " (its log: '%s')" "$said"
}

# check_echo_memory_asan: serve_client() alone (tests/net_harness.c
# serve_one), built with AddressSanitizer: a first recv() that fills the
# whole buffer (the server is stopped while 32 KiB wait for it), then a
# reset; then, in a second run, a client that closes with its echo
# unread, so that send() fails. Nothing may be written past the buffer,
# and nothing allocated for the client may be left when the server
# exits, whichever way serve_client() returned.
check_echo_memory_asan() {
    build_harness address ||
        skip "the compiler cannot build with -fsanitize=address here"
    local _server_wrapper=(env
        ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0)
    start_server "$HARNESS" serve_one
    local byte
    random_file "$BATS_TEST_TMPDIR/chunk" $((32 * 1024))
    stop_now "$SERVER_PID"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    cat "$BATS_TEST_TMPDIR/chunk" >&"$TCP_FD"
    kill -CONT "$SERVER_PID"
    read -r -N 1 -t "$(scaled 10)" byte <&"$TCP_FD" || true
    tcp_close "$TCP_FD" # unread echo: a reset
    wait_for_exit "$SERVER_PID" 10 || return 1
    grep -q 'LeakSanitizer: detected memory leaks' "$SERVER_LOG" &&
        fail "memory allocated for the client was never freed: after a" \
            "reset, serve_client() returned without free(). Free it on every" \
            "way out (an error too, not only end of file), or use a buffer" \
            "on the stack."
    if grep -q 'AddressSanitizer' "$SERVER_LOG"; then
        grep -Eq 'WRITE of size|stack-buffer-overflow' "$SERVER_LOG" &&
            fail "serve_client() wrote past the end of its buffer when" \
                "recv() filled it (AddressSanitizer:" \
                "'$(grep -m 1 -o 'AddressSanitizer: [a-z-]*' "$SERVER_LOG")')." \
                "The likely mistake: buf[n] = '\\0' after recv() of sizeof buf" \
                "bytes, a habit from strings. The echo sends exactly the n" \
                "bytes that came and needs no NUL. (Or recv() asks for more" \
                "than the buffer holds.)"
        fail "serve_client(), built with AddressSanitizer, broke memory:" \
            "$(grep -m 1 'AddressSanitizer' "$SERVER_LOG")"
    fi
    [ "$EXIT_STATUS" -eq 0 ] ||
        fail "serve_client() alone (tests/net_harness.c serve_one) exited" \
            "$EXIT_STATUS after a full buffer and a reset: $(tail -n 3 "$SERVER_LOG")" ||
        return 1

    # Then the other way out: the client sends 32 KiB and closes before
    # reading any echo (as in provoke_epipe), so send_all() fails.
    start_server "$HARNESS" serve_one || return 1
    stop_now "$SERVER_PID"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    cat "$BATS_TEST_TMPDIR/chunk" >&"$TCP_FD"
    tcp_close "$TCP_FD"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$SERVER_PID" 10 || return 1
    grep -q 'LeakSanitizer: detected memory leaks' "$SERVER_LOG" &&
        fail "memory allocated for the client was never freed: its client" \
            "closed with the echo unread, send() failed ($(grep -m 1 -o \
                'error: [a-z]*: .*' "$SERVER_LOG")), and serve_client()" \
            "returned without free(). Free it on every way out (a failed" \
            "send too, not only end of file and recv()), or use a buffer" \
            "on the stack."
    [ "$EXIT_STATUS" -eq 0 ] ||
        fail "serve_client() alone (tests/net_harness.c serve_one) exited" \
            "$EXIT_STATUS after a failed send: $(tail -n 3 "$SERVER_LOG")"
}

# check_reset_is_recv_error: a client reads part of its echo and closes
# with the rest unread: the kernel sends a reset (RST). The server has
# sent the whole echo and waits in recv(), so recv() is what fails
# (ECONNRESET): the log must say "PEER error: recv: ...". A server that
# hands recv()'s -1 on to send_all() logs "error: send: Bad address".
check_reset_is_recv_error() {
    local got
    tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
    printf 'hello\n' >&"$TCP_FD"
    # bash reads a socket a byte at a time: the '\n' stays unread.
    read -r -N 5 -t "$(scaled 5)" got <&"$TCP_FD" ||
        fail "no echo of 'hello'$(stub_note)" || return 1
    tcp_close "$TCP_FD"
    if foreign_server; then # its log is not ours: see it close its end
        wait_until 5 server_closed_or_gone ||
            fail "a client reset its connection, and the server kept its" \
                "end open: recv() fails then (ECONNRESET): close it"
        return
    fi
    wait_until 5 log_reaches 1 ' error: ' ||
        fail "a client reset its connection (it closed with its echo" \
            "unread), and the server logged no 'PEER error: recv: ...'." \
            "recv() fails then (ECONNRESET): log it on stderr and return" \
            "from serve_client()." || return 1
    log_reaches 1 ' error: recv: ' ||
        fail "a reset must show as recv()'s failure ('PEER error: recv:" \
            "Connection reset by peer'); the log says" \
            "'$(grep -m 1 ' error: ' "$SERVER_LOG")'. Does serve_client()" \
            "go on to send() when recv() returned -1? Check n < 0 before" \
            "sending n bytes."
}

# check_client_dropped_at_error KIND: after "PEER error: KIND: ..."
# (KIND recv or send) serve_client() returns: once the server is done
# with the client (gone, or asleep in accept()), nothing more about it
# is logged, no other error and no "disconnected".
check_client_dropped_at_error() {
    ! foreign_server || return 0 # (its log is not ours)
    wait_until 5 _gone_or_asleep || true
    local after
    after=$(sed -n "/ error: $1: /,\$p" "$SERVER_LOG" | sed 1d |
        grep -m 1 -E ' (error: .*|disconnected)$') || true
    [ -z "$after" ] && return 0
    if [ "$1" = recv ]; then
        fail "recv() failed (the log says 'PEER error: recv: ...'), and" \
            "serve_client() went on: the log then says '$after'. After" \
            "logging recv()'s error, return: n is -1, and sending n bytes" \
            "sends (size_t)-1 of them."
    else
        fail "send_all() failed (the log says 'PEER error: send: ...')," \
            "and serve_client() went on to recv() again: the log then says" \
            "'$after'. After logging send()'s error, return."
    fi
}

_gone_or_asleep() {
    is_gone "$SERVER_PID" || _server_asleep
}

# check_error_ends_client_only KIND: after "PEER error: KIND: ...", the
# server (stage 02's, its loop written or still the stub) either waits
# in accept() or, with the stub, has exited 0 once serve_client()
# returned. exit() in serve_client() ends every client's server.
check_error_ends_client_only() {
    wait_until 5 _gone_or_asleep || true
    is_gone "$SERVER_PID" || return 0
    wait_for_exit "$SERVER_PID" 1 || return 1
    [ "$EXIT_STATUS" -eq 0 ] ||
        fail "$1() failed for one client, and the server exited" \
            "$EXIT_STATUS: serve_client() must log the error and return" \
            "(the client is gone; the server is not), not exit() or" \
            "abort(). $(tail -n 2 "$SERVER_LOG")"
}

# check_returns_at_eof: after its client's end of file (recv() == 0),
# serve_client() logs one "disconnected" and returns: the server then
# exits (stage 01, or stage 02 with its loop still a stub) or waits,
# asleep, in accept(). A loop that goes on after recv() returned 0 gets
# 0 for ever, at full CPU.
check_returns_at_eof() {
    check_disconnect_logged || return 1
    wait_until 5 _done_with_client ||
        fail "the client has left ('disconnected' is logged), and the" \
            "server is still busy 5 s later (state $(proc_state "$SERVER_PID")):" \
            "serve_client() must return when recv() returns 0, not go on" \
            "calling recv()" || return 1
    [ "$(log_count ' disconnected$')" -eq 1 ] ||
        fail "one client left, and the server logged 'disconnected'" \
            "$(log_count ' disconnected$') times: after recv() returned 0," \
            "serve_client() went on (continue?) instead of returning"
}

_done_with_client() {
    is_gone "$SERVER_PID" || [ "$(log_count ' disconnected$')" -gt 1 ] ||
        _server_asleep
}

# check_logs_on_stderr: the server's "PEER disconnected" comes on
# stderr, at once. On stdout, to a file or a pipe, printf()'s line waits
# in a buffer until the server exits: a stage-02 server never does.
check_logs_on_stderr() {
    local err="$BATS_TEST_TMPDIR/server.stderr" line
    local _server_wrapper=(sh -c 'exec "$@" 2>"$0"' "$err")
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
    printf 'bye\n' >&"$TCP_FD"
    read -r -t "$(scaled 5)" line <&"$TCP_FD" ||
        fail "no echo of 'bye'$(stub_note)" || return 1
    tcp_close "$TCP_FD"
    if wait_until 5 grep -q ' disconnected$' "$err"; then
        # The last thing logged: a line, '\n' and all, or the next line
        # (the next client's 'connected') would be glued to it.
        [ -z "$(tail -c 1 "$err")" ] ||
            fail "'PEER disconnected' was logged without its '\\n': the" \
                "next line logged would join it ('...disconnected[...]:PORT" \
                "connected'). End each log line with \\n."
        return
    fi
    wait_until 1 is_gone "$SERVER_PID" || true
    grep -q ' disconnected$' "$SERVER_LOG" &&
        fail "'PEER disconnected' came on stdout, not stderr. stdout to a" \
            "file or a pipe is buffered: its lines show only when the" \
            "buffer fills or the server exits, and a server that serves" \
            "client after client never exits. Log with fprintf(stderr, ...)."
    fail "the client closed, and no 'PEER disconnected' came on the" \
        "server's stderr within $(scaled 5) s. (printf() to stdout is" \
        "buffered: log with fprintf(stderr, ...).)$(stub_note)"
}

# check_send_error_logged: the server must send() to a client that has
# closed (see provoke_epipe): send_all() fails, and the log must say
# "PEER error: send: ...". A server that ignores send_all()'s -1 goes
# on to recv() as if nothing had happened.
check_send_error_logged() {
    provoke_epipe || return 1
    ! foreign_server || return 0 # (its log is not ours)
    log_reaches 1 ' error: send: ' ||
        fail "send() to a client that had closed failed, and the log has" \
            "no 'PEER error: send: ...' (it says" \
            "'$(grep -m 1 ' error: ' "$SERVER_LOG")'). Check what" \
            "send_all() returns: on -1, log the error and return from" \
            "serve_client()."
}

# check_accept_emfile: out of file descriptors (EMFILE), accept()
# fails, and fails again at once if called again (Linux takes the new
# descriptor's number before it waits for a client). That is not the
# new connection's error: accept_client() logs "PROGRAM: accept: Too
# many open files" once and returns -1, and the server exits 1. A
# server that calls accept() again at once spins at full CPU and fills
# its log. The server is started with a limit of 4: fds 0-2 and its
# listening socket. Then the same for ENFILE (_check_accept_enfile).
check_accept_emfile() {
    skip_under valgrind "valgrind itself needs descriptors under so low a limit"
    command -v prlimit >/dev/null || skip "prlimit(1) is not installed"
    start_server --nofile 4 "$STAGE_DIR/$SERVER_NAME" 0
    local lines
    wait_until 5 _gone_or_flooding || true
    lines=$(log_count ': accept: ')
    if is_running "$SERVER_PID"; then
        if ((lines > 1)); then
            fail "accept() failed with EMFILE (Too many open files), and" \
                "was called again at once: $lines 'accept:' lines so far," \
                "at full CPU, and every retry fails the same. Only an" \
                "error of the new connection (is_new_connection_error()," \
                "EINTR) is retried: log any other once, return -1, and the" \
                "server exits 1."
        fi
        fail "the server, out of file descriptors (a limit of 4: fds 0-2" \
            "and its listener), still runs $(scaled 5) s later ($lines" \
            "'accept:' lines in its log). accept() fails with EMFILE: only" \
            "an error of the new connection is retried; log any other once," \
            "return -1, and the server exits 1."
    fi
    wait_for_exit "$SERVER_PID" 1
    ((lines >= 1)) ||
        fail "accept() failed with EMFILE, and the log has no" \
            "'server: accept: Too many open files' line" || return 1
    log_reaches 1 ': accept: Too many open files' ||
        fail "accept() failed with EMFILE; the log says" \
            "'$(grep -m 1 ': accept: ' "$SERVER_LOG")'" || return 1
    ((lines == 1)) ||
        fail "accept()'s failure was logged $lines times, not once" || return 1
    [ "$EXIT_STATUS" -eq 1 ] ||
        fail "accept() failed with EMFILE and the server exited" \
            "$EXIT_STATUS, not 1: a failure to serve is an error (exit 1)," \
            "not a normal end (break, or return 0?)" || return 1
    _check_accept_enfile
}

# _check_accept_enfile: accept() fails with ENFILE, the whole system out
# of file descriptors (tests/acceptfail.so, ACCEPTFAIL=ENFILE), while a
# client waits. Like EMFILE, it is the server's error, not the new
# connection's: logged once, and the server exits 1. Code that stops
# for EMFILE alone and calls accept() again after any other error
# takes the waiting client instead, and spins while ENFILE lasts.
_check_accept_enfile() {
    start_with_acceptfail ENFILE "$STAGE_DIR/$SERVER_NAME" 0 || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
    wait_until 5 log_reaches 1 '^acceptfail: ' ||
        fail "tests/acceptfail.so did not bite: no 'acceptfail:' line" ||
        return 1
    wait_until 5 is_gone "$SERVER_PID" ||
        fail "accept() failed with ENFILE (Too many open files in system:" \
            "the whole system is out of descriptors), and the server went" \
            "on$(_logged_note ' connected$'). ENFILE, ENOBUFS and ENOMEM are" \
            "the server's errors, as EMFILE is: only an error of the new" \
            "connection (is_new_connection_error(), EINTR) is retried. Does" \
            "the code stop for EMFILE alone, and call accept() again after" \
            "any other error?" || return 1
    tcp_close "$TCP_FD"
    wait_for_exit "$SERVER_PID" 1
    local lines
    lines=$(log_count ': accept: ')
    ((lines == 1)) ||
        fail "accept()'s ENFILE was logged $lines times, not once" ||
        return 1
    [ "$EXIT_STATUS" -eq 1 ] ||
        fail "accept() failed with ENFILE and the server exited" \
            "$EXIT_STATUS, not 1"
}

# check_accept_nonblock_quiet: accept_client() alone (tests/net_harness.c
# accept_nonblock) on a non-blocking listener nobody connects to, as
# stage 03's poll and epoll servers call it: net.h says it returns -1
# with errno EAGAIN and logs nothing (EAGAIN is "nobody is waiting",
# not an error). Then (accept_emfile) with a client waiting and no
# descriptor left: -1 with errno EMFILE, which those servers read.
check_accept_nonblock_quiet() {
    build_harness ||
        fail "tests/net_harness.c did not build with net.c:" \
            "$(head -c 600 "$BATS_TEST_TMPDIR/harness.err")" || return 1
    local got said
    with_timeout 10 "$HARNESS" accept_nonblock >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" ||
        fail "accept_client() on a non-blocking listener with nobody" \
            "waiting did not return (or the harness failed):" \
            "$(head -c 200 "$BATS_TEST_TMPDIR/err")" || return 1
    got=$(grep '^accept_client: ' "$BATS_TEST_TMPDIR/out")
    [ "$got" = "accept_client: -1 EAGAIN" ] ||
        fail "accept_client() on a non-blocking listener with nobody" \
            "waiting: expected -1 with errno EAGAIN, got '$got'." || return 1
    said=$(grep -v '^listening on ' "$BATS_TEST_TMPDIR/err" | head -n 1)
    [ -z "$said" ] ||
        fail "accept_client() logged '$said' when accept() said EAGAIN" \
            "(a non-blocking listener, nobody waiting). EAGAIN is no error" \
            "but \"nobody is waiting\": return -1 without a word. Log only" \
            "when errno is neither EAGAIN nor EWOULDBLOCK (stage 03's poll" \
            "and epoll servers would log at every turn)." || return 1
    got=$(with_timeout 10 "$HARNESS" accept_emfile 2>/dev/null |
        grep '^accept_client: ')
    [ "$got" = "accept_client: -1 EMFILE" ] ||
        fail "accept_client() alone, a client waiting and no descriptor" \
            "left for it (EMFILE): expected -1 with errno EMFILE, got" \
            "'$got'. net.h: -1 with errno set, as accept() left it; the" \
            "caller reads errno (stage 03's servers wait on EMFILE). Does" \
            "something between accept() and the return change errno (errno" \
            "= 0, another call that fails)? Save it and put it back."
}

_gone_or_flooding() {
    is_gone "$SERVER_PID" || log_reaches 50 ': accept: '
}

# check_accept_eintr_retried: accept() interrupted by a signal (EINTR,
# tests/acceptfail.so with ACCEPTFAIL=EINTR) is called again: the
# client that waits is accepted, and nothing is logged about it.
check_accept_eintr_retried() {
    start_with_acceptfail EINTR "$STAGE_DIR/$SERVER_NAME" 0
    tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
    wait_until 5 log_reaches 1 '^acceptfail: ' ||
        fail "tests/acceptfail.so did not bite: no 'acceptfail:' line" ||
        return 1
    wait_until 5 log_reaches 1 ' connected$' ||
        fail "accept() failed with EINTR (a signal came while it waited)," \
            "and the waiting client was never accepted$(_logged_note \
                ': accept: '). EINTR is no error: call accept() again."
    tcp_close "$TCP_FD"
}

# The client's connect loop, against a name that resolves to ::1 and
# then 127.0.0.1 (a private /etc/hosts, bind-mounted in a user and
# mount namespace of the client's own: "${WITH_HOSTS[@]}" CMD...),
# while the server listens on IPv4 alone (tests/ipv4only.so takes IPv6
# away from it): ::1 refuses, 127.0.0.1 serves. Then the client loses
# IPv6 too: socket() fails for ::1, and it must go on to 127.0.0.1.
# Skips where namespaces or ::1 are missing.
BOTH_NAME=sockstep-both

_need_both_name() {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    command -v unshare >/dev/null || skip "unshare(1) is not installed"
    [ -f "$TOP/tests/ipv4only.so" ] ||
        fail "tests/ipv4only.so is not built: make test builds it" ||
        return 1
    HOSTS_FILE="$BATS_TEST_TMPDIR/hosts"
    printf '::1 %s\n127.0.0.1 %s\n' "$BOTH_NAME" "$BOTH_NAME" >"$HOSTS_FILE"
    WITH_HOSTS=(unshare -rm sh -c 'mount --bind "$0" /etc/hosts && exec "$@"'
        "$HOSTS_FILE")
    local first
    first=$("${WITH_HOSTS[@]}" getent ahosts "$BOTH_NAME" 2>/dev/null) ||
        skip "no private /etc/hosts: unshare -rm (user and mount" \
            "namespaces) is not allowed here"
    [ "${first%% *}" = ::1 ] ||
        skip "getaddrinfo() here puts ${first%% *} first, not ::1"
}

_start_ipv4_only_server() {
    local _server_wrapper=(env LD_PRELOAD="$TOP/tests/ipv4only.so")
    start_server "$STAGE_DIR/$SERVER_NAME" 0 || return 1
    grep -q '^listening on 0\.0\.0\.0:' "$SERVER_LOG" ||
        fail "tests/ipv4only.so did not bite: $(head -n 1 "$SERVER_LOG")"
}

check_client_tries_each_address() {
    needs_our_client "it runs our client in namespaces of its own"
    _need_both_name || return 1
    _start_ipv4_only_server || return 1
    run with_timeout 10 "${WITH_HOSTS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" "$BOTH_NAME" "$SERVER_PORT" <<<"hi"
    [ "$status" -eq 0 ] && [ "$output" = hi ] ||
        fail "$BOTH_NAME is ::1, refused (the server listens on IPv4" \
            "only), then 127.0.0.1, served; the client exited $status:" \
            "'$output'. connect_to() must try the next address when" \
            "connect() fails: does its loop stop after the first?" ||
        return 1
    # The same name on a client without IPv6 (tests/ipv4only.so):
    # socket() fails for ::1, and 127.0.0.1 is still there to try. (A
    # new server: stage 01's ends with its first client.)
    _start_ipv4_only_server || return 1
    run with_timeout 10 "${WITH_HOSTS[@]}" env \
        LD_PRELOAD="$TOP/tests/ipv4only.so" "$STAGE_DIR/client" \
        "$BOTH_NAME" "$SERVER_PORT" <<<"hi"
    [ "$status" -eq 0 ] && [ "$output" = hi ] ||
        fail "$BOTH_NAME is ::1 then 127.0.0.1; on a client without IPv6" \
            "(tests/ipv4only.so) socket() fails for ::1 (EAFNOSUPPORT), and" \
            "the client exited $status: '$output'. When socket() fails, go" \
            "on to the next address (continue), as when connect() fails:" \
            "does the loop stop (break) at the first socket() that fails?"
}

# The same name, with the client allowed one descriptor beyond fds
# 0-2: the socket of the refused ::1 must be closed before 127.0.0.1's
# is opened, or socket() fails with EMFILE.
check_client_closes_failed_sockets() {
    needs_our_client "it runs our client under a descriptor limit"
    skip_under valgrind "valgrind keeps descriptors of its own"
    _need_both_name || return 1
    _start_ipv4_only_server || return 1
    run with_timeout 10 "${WITH_HOSTS[@]}" sh -c \
        'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- && exec prlimit --nofile=4:4 "$@"' \
        sh "${_client_wrapper[@]}" "$STAGE_DIR/client" "$BOTH_NAME" \
        "$SERVER_PORT" <<<"hi"
    [ "$status" -eq 0 ] && [ "$output" = hi ] ||
        fail "with one descriptor to spare (fds 0-2 open, a limit of 4)," \
            "the client could not connect to $BOTH_NAME (::1 refused," \
            "then 127.0.0.1): exit $status, '$output'. Close the socket of" \
            "an address that failed before trying the next: each one" \
            "left open is a descriptor lost."
}

# check_client_frees_addresses_asan: the client, built with
# AddressSanitizer, connects to the server at 127.0.0.1, then to a port
# where nobody listens: getaddrinfo()'s list must be freed on both
# paths (LeakSanitizer at exit). A connect_to() that walks the list
# with `list = list->ai_next`, or returns from inside its loop, leaks.
check_client_frees_addresses_asan() {
    local client="$BATS_TEST_TMPDIR/client_asan" port
    "${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -O0 -g \
        -fsanitize=address -fno-omit-frame-pointer -o "$client" \
        "$STAGE_DIR/client.c" "$STAGE_DIR/net.c" 2>/dev/null ||
        skip "the compiler cannot build with -fsanitize=address here"
    start_stage_server
    port=$SERVER_PORT
    run with_timeout 20 env ASAN_OPTIONS=detect_leaks=1 "$client" \
        127.0.0.1 "$port" <<<"hi"
    [[ "$output" != *"LeakSanitizer: detected memory leaks"* ]] ||
        fail "connected at once, the client leaked what getaddrinfo()" \
            "returned (LeakSanitizer: '$(grep -m 1 SUMMARY <<<"$output")')." \
            "connect_to() must reach freeaddrinfo(list) with the list's" \
            "first entry: does its loop return from inside, or move" \
            "\`list\` itself along (list = list->ai_next)? Walk it with a" \
            "second pointer." || return 1
    [ "$status" -eq 0 ] && [ "$output" = hi ] ||
        fail "the client built with AddressSanitizer: exit $status, '$output'" ||
        return 1
    stop_process "$SERVER_PID"
    run with_timeout 20 env ASAN_OPTIONS=detect_leaks=1 "$client" \
        127.0.0.1 "$port" <<<"hi"
    [[ "$output" != *"LeakSanitizer: detected memory leaks"* ]] ||
        fail "no server (every address refused), the client leaked what" \
            "getaddrinfo() returned (LeakSanitizer:" \
            "'$(grep -m 1 SUMMARY <<<"$output")'). connect_to() must reach" \
            "freeaddrinfo(list) with the list's first entry: does its loop" \
            "move \`list\` itself along (list = list->ai_next), so that it" \
            "is NULL at the end? Walk it with a second pointer."
}

# check_accept_loop_leaks_asan: the stage's whole server, built with
# AddressSanitizer, serves 3 clients; then its descriptor limit is
# lowered (prlimit) to the descriptors it holds, so that, after a 4th
# client, accept() fails with EMFILE and the server exits 1. At exit,
# LeakSanitizer reports memory allocated per client and never freed.
check_accept_loop_leaks_asan() {
    skip_under valgrind "valgrind and AddressSanitizer do not mix"
    command -v prlimit >/dev/null || skip "prlimit(1) is not installed"
    local server="$BATS_TEST_TMPDIR/${SERVER_NAME}_asan" i line lowest
    "${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g \
        -fsanitize=address -fno-omit-frame-pointer -o "$server" \
        "$STAGE_DIR/$SERVER_NAME.c" "$STAGE_DIR/net.c" 2>/dev/null ||
        skip "the compiler cannot build with -fsanitize=address here"
    local _server_wrapper=(env ASAN_OPTIONS=detect_leaks=1)
    start_server "$server" 0
    for i in 1 2 3 4; do
        if ((i == 4)); then
            # Asleep in accept(), which holds the next descriptor
            # already: the limit bites at the accept() after this one.
            wait_until 5 _server_asleep || true
            lowest=$(_lowest_free_fd "$SERVER_PID")
            prlimit --pid "$SERVER_PID" --nofile="$lowest:$lowest" ||
                fail "prlimit could not lower the server's limit" || return 1
        fi
        tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
        printf 'client %s\n' "$i" >&"$TCP_FD"
        read -r -t "$(scaled 5)" line <&"$TCP_FD" ||
            fail "no echo for client $i" || return 1
        tcp_close "$TCP_FD"
        wait_until 5 log_reaches "$i" ' disconnected$' ||
            fail "client $i left, and the server logged no 'disconnected'" ||
            return 1
    done
    wait_for_exit "$SERVER_PID" 10 || return 1
    grep -q 'LeakSanitizer: detected memory leaks' "$SERVER_LOG" &&
        fail "memory allocated for each client was never freed" \
            "(LeakSanitizer, when the server exited after 4 clients:" \
            "'$(grep -m 1 'SUMMARY' "$SERVER_LOG")', allocated at" \
            "'$(grep -m 1 -E '#1 ' "$SERVER_LOG" | sed 's/^ *#1 0x[0-9a-f]* //')')." \
            "Free what the loop allocates for a client once it is served," \
            "or keep it on the stack."
    log_reaches 1 ': accept: Too many open files' ||
        fail "the server, its descriptor limit lowered, did not stop with" \
            "'accept: Too many open files': $(tail -n 2 "$SERVER_LOG")"
}

# _lowest_free_fd PID: the number the process's next descriptor gets.
_lowest_free_fd() {
    local fd n=0
    local -A open=()
    for fd in "/proc/$1/fd/"*; do
        open[${fd##*/}]=1
    done
    while [ -n "${open[$n]:-}" ]; do
        n=$((n + 1))
    done
    echo "$n"
}
