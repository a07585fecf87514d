#!/usr/bin/env bats
# Stage 03_multiclient: many clients at once, three ways: a thread per
# client (server), a process per client (server_fork), and one thread
# watching every client (server_poll with poll(), and on Linux
# server_epoll with epoll). Every test runs against every server.
# The lesson is stage 02's limitation reversed: nobody waits for anybody.

load helpers
load echo_checks

STAGE_DIR="$TOP/03_multiclient"

# The servers under test. server_epoll is Linux-only (its Makefile builds
# it where <sys/epoll.h> exists); on Linux it must be there.
SERVERS=(server server_fork server_poll)
[ "$(uname -s)" != Linux ] || SERVERS+=(server_epoll)

# for_each_server CHECK [--nofile N]: start each server in turn (with a
# descriptor limit if asked) and run CHECK against it. The server's
# name is printed first: bats shows it when the test fails.
for_each_server() {
    local check=$1
    shift
    for SERVER_NAME in "${SERVERS[@]}"; do
        echo "# $SERVER_NAME"
        start_server "$@" "$STAGE_DIR/$SERVER_NAME" 0
        "$check"
        stop_process "$SERVER_PID"
    done
}

# echo_once FD TEXT: send one line on a raw connection and read its echo.
echo_once() {
    local line
    printf '%s\n' "$2" >&"$1"
    read -r -t "$(scaled 5)" line <&"$1" || fail "no echo of '$2'"
    [ "$line" = "$2" ] || fail "sent '$2', got '$line'"
}

# Stage 02's limitation, reversed: an idle client (connected, silent)
# and a served one (connected, done talking) delay nobody.
check_second_client_served_while_first_connected() {
    local idle a b
    tcp_open 127.0.0.1 "$SERVER_PORT"
    idle=$TCP_FD
    tcp_open 127.0.0.1 "$SERVER_PORT"
    a=$TCP_FD
    echo_once "$a" "from A"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    b=$TCP_FD
    echo_once "$b" "from B" # A and the idle client are still connected
    echo_once "$a" "A again"
    tcp_close "$idle"
    tcp_close "$a"
    tcp_close "$b"
}

# 100 clients connect first, all at once; then each sends its own 8 KiB
# of random bytes, and each must get back exactly its own bytes while
# all 100 are still connected. (A one-at-a-time server answers the
# first and leaves 99 waiting.) 8 KiB fits in the socket buffers, so
# sending before reading cannot block.
check_hundred_clients_at_once() {
    local i fds=()
    for i in $(seq 100); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
        random_file "$BATS_TEST_TMPDIR/in.$i" 8192
    done
    for i in $(seq 100); do
        cat "$BATS_TEST_TMPDIR/in.$i" >&"${fds[i - 1]}"
    done
    for i in $(seq 100); do
        with_timeout 10 head -c 8192 <&"${fds[i - 1]}" \
            >"$BATS_TEST_TMPDIR/out.$i"
        cmp "$BATS_TEST_TMPDIR/in.$i" "$BATS_TEST_TMPDIR/out.$i" ||
            fail "client $i got the wrong bytes back"
    done
    for i in $(seq 100); do
        tcp_close "${fds[i - 1]}"
    done
}

# A client that sends a lot and never reads its echo. The server must
# stop reading from it (so the sender blocks: `timeout` has to stop
# it) rather than keep the echo in memory, and must go on serving
# others. 64 MiB is far more than the socket buffers on both sides hold
# (a few MiB on Linux), so a server that buffered without limit would
# take it all, and grow by as much.
check_non_reader_delays_nobody() {
    local rss_before rss_after flood status
    rss_before=$(proc_status "$SERVER_PID" VmRSS)
    tcp_open 127.0.0.1 "$SERVER_PORT"
    flood=$TCP_FD
    status=0
    with_timeout 3 head -c $((64 * 1024 * 1024)) /dev/zero \
        >&"$flood" || status=$?
    [ "$status" -eq 124 ] ||
        fail "the server took 64 MiB from a client that never reads"

    tcp_open 127.0.0.1 "$SERVER_PORT"
    echo_once "$TCP_FD" "still served"
    tcp_close "$TCP_FD"

    rss_after=$(proc_status "$SERVER_PID" VmRSS)
    ((rss_after - rss_before < 8192)) ||
        fail "server RSS grew from $rss_before kB to $rss_after kB"

    # Now the client reads its echo, and stays. Once the server has sent
    # everything it must go back to waiting for input, and sleep. (Short
    # I/O would take minutes to move these megabytes: not under it.)
    if [ "${CHECK_VARIANT:-}" != shortio ]; then
        local reader
        with_timeout 60 cat <&"$flood" >/dev/null 3>&- 4>&- &
        reader=$!
        _test_pids+=("$reader")
        wait_until 20 server_is_idle ||
            fail "the client reads its echo now, but the server never went" \
                "quiet (last $IDLE_TICKS ticks in 0.5 s). Does it wait for" \
                "'ready to send' (POLLOUT, EPOLLOUT) with nothing left to" \
                "send? A socket with room in its buffer is always ready, so" \
                "the loop spins. Or it never sends the rest it kept."
        stop_process "$reader"
    fi
    tcp_close "$flood"
}

# server_is_idle: did the server use (almost) no CPU over half a second?
# The ticks it used are left in IDLE_TICKS. (A busy loop burns ~50.)
server_is_idle() {
    local before
    before=$(cpu_ticks "$SERVER_PID")
    sleep 0.5
    IDLE_TICKS=$(($(cpu_ticks "$SERVER_PID") - before))
    ((IDLE_TICKS < 5))
}

# 200 connections come and go; then the server holds exactly the file
# descriptors, threads and children it held before.
check_resources_back_to_baseline() {
    local fds threads i
    fds=$(fd_count "$SERVER_PID")
    threads=$(proc_status "$SERVER_PID" Threads)
    for i in $(seq 200); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        echo_once "$TCP_FD" "connection $i"
        tcp_close "$TCP_FD"
    done
    wait_until 10 log_reaches 200 ' disconnected$' ||
        fail "$(log_count ' disconnected$') of 200 disconnections logged"
    wait_until 5 server_fds_are "$fds" ||
        fail "fds: $(fd_count "$SERVER_PID") now, $fds before"
    # (Under ThreadSanitizer, make check-tsan, the runtime adds a thread
    # of its own at the first pthread_create(): SERVER_RUNTIME_THREADS.)
    threads=$((threads + ${SERVER_RUNTIME_THREADS:-0}))
    wait_until 5 server_threads_at_most "$threads" ||
        fail "threads: $(proc_status "$SERVER_PID" Threads) now, $threads expected"
    wait_until 5 server_has_no_children ||
        fail "children left: $(child_pids "$SERVER_PID")" \
            "($(zombie_count "$SERVER_PID") zombies)"
}

# The conditions check_resources_back_to_baseline waits for. wait_until
# runs a command again and again; a "$(...)" among its arguments would
# be counted once, before the first try.
server_fds_are() {
    [ "$(fd_count "$SERVER_PID")" -eq "$1" ]
}

server_threads_at_most() {
    [ "$(proc_status "$SERVER_PID" Threads)" -le "$1" ]
}

server_has_no_children() {
    [ -z "$(child_pids "$SERVER_PID")" ]
}

check_resets_do_not_stop_server() {
    local i
    for i in 1 2 3 4 5; do
        reset_connection
    done
    kill_client_mid_message
    is_running "$SERVER_PID"
    check_client_echoes_lines 127.0.0.1
}

# SIGTERM while clients are connected: exit 0, and no process of the
# server's left behind (threads end with their process; children must
# be stopped by the parent).
check_sigterm_with_clients() {
    local fds=() i children
    for i in 1 2 3; do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
        echo_once "$TCP_FD" "client $i"
    done
    children=$(child_pids "$SERVER_PID")
    check_stop_signal TERM
    for i in $children; do
        wait_until 5 is_gone "$i" || fail "child $i outlived the server"
    done
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
}

# Run out of file descriptors: limited to 16 (0-2 and the listener
# leave 12 for clients, 11 beside server_epoll's epoll instance), the
# server gets 20 connections. It must neither
# die nor spin at full CPU while the extra clients wait; when some leave,
# the waiting ones are served. (server_fork's parent keeps no client
# sockets, so it never runs out: its children each have their own.)
check_out_of_descriptors() {
    local fds=() i before after
    for i in $(seq 20); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
    done
    if [ "$SERVER_NAME" != server_fork ]; then
        wait_until 5 log_reaches 1 'accept: Too many open files' ||
            fail "no 'Too many open files' in the log"
    fi

    # A busy loop would burn ~100 ticks a second; waiting burns ~0.
    before=$(cpu_ticks "$SERVER_PID")
    sleep 2
    after=$(cpu_ticks "$SERVER_PID")
    ((after - before < 100)) ||
        fail "the server used $((after - before)) CPU ticks in 2 s idle"
    is_running "$SERVER_PID" || fail "the server died"

    for i in $(seq 0 9); do
        tcp_close "${fds[i]}"
    done
    echo_once "${fds[19]}" "the last client is served"
    for i in $(seq 10 19); do
        tcp_close "${fds[i]}"
    done
}

# The one-argument checks, as commands for for_each_server.
check_sigterm() { check_stop_signal TERM; }
check_sigint() { check_stop_signal INT; }
check_lines() { check_client_echoes_lines 127.0.0.1; }
check_survives_epipe() {
    provoke_epipe
    is_running "$SERVER_PID" || fail "the server died (SIGPIPE?)"
    check_client_echoes_lines 127.0.0.1
}

@test "lesson: B gets its echo while A (and an idle client) stay connected" {
    for_each_server check_second_client_served_while_first_connected
}

@test "100 clients at once, each gets back exactly its own random bytes" {
    for_each_server check_hundred_clients_at_once
}

@test "a client that sends but never reads: blocked, costs no memory, delays nobody, no CPU once it reads" {
    for_each_server check_non_reader_delays_nobody
}

@test "after 200 connections: fds, threads and children back to baseline, no zombies" {
    for_each_server check_resources_back_to_baseline
}

@test "resets and killed clients during an echo do not stop the server" {
    for_each_server check_resets_do_not_stop_server
}

@test "out of file descriptors: the server neither dies nor spins, and catches up" {
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    for_each_server check_out_of_descriptors --nofile 16
}

@test "SIGTERM with clients connected: exit 0, no child or thread left" {
    for_each_server check_sigterm_with_clients
}

@test "SIGTERM ends a waiting server, exit 0" {
    for_each_server check_sigterm
}

@test "SIGINT (Ctrl-C) ends a waiting server, exit 0" {
    for_each_server check_sigint
}

@test "1 MiB of random binary data is echoed byte for byte (/dev/tcp)" {
    for_each_server check_binary_devtcp
}

@test "1 MiB of random binary data is echoed byte for byte (client)" {
    for_each_server check_binary_client
}

@test "client: a line longer than all socket buffers does not deadlock" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    for_each_server check_huge_line_client
}

@test "client: lines come back exactly as they were sent" {
    for_each_server check_lines
}

@test "client: no prompt and nothing but the echoes when scripted" {
    for_each_server check_no_prompt_when_scripted
}

@test "client: a '>>: ' prompt on a terminal" {
    for_each_server check_prompt_only_on_terminal
}

@test "one byte is echoed (bash /dev/tcp, no client of ours)" {
    for_each_server check_one_byte_devtcp
}

@test "IPv4: a client at 127.0.0.1 is served" {
    for_each_server check_ipv4
}

@test "IPv6: a client at ::1 is served" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    for_each_server check_ipv6
}

@test "a port already in use: a clear message and a hint, exit 1" {
    for_each_server check_port_in_use
}

@test "a server stopped mid-session restarts at once on the same port" {
    for_each_server check_restart_same_port
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    local SERVER_NAME
    for SERVER_NAME in "${SERVERS[@]}"; do
        check_usage_errors
    done
}

@test "client: no server at the port: a clear message, exit 1" {
    for_each_server check_no_server
}

@test "a client that closes before its echo is sent: EPIPE, not death by SIGPIPE" {
    for_each_server check_survives_epipe
}

@test "client: the server goes away mid-session: a clear message, exit 1" {
    for_each_server check_client_reports_lost_server
}

@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the servers takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    SERVER_NAME=server
    start_server "$STAGE_DIR/server" 0
    check_client_stdin_closed
    check_client_stdout_closed
    for SERVER_NAME in "${SERVERS[@]}"; do
        echo "# $SERVER_NAME"
        check_server_std_fds_closed
        stop_process "$SERVER_PID"
    done
}

@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    for SERVER_NAME in "${SERVERS[@]}"; do
        echo "# $SERVER_NAME"
        check_accept_error_retried
        is_running "$SERVER_PID" || fail "$SERVER_NAME exited"
        stop_process "$SERVER_PID"
    done
}
