#!/usr/bin/env bats
# Stage 05_udp_raw: datagrams and raw sockets. The lessons: UDP keeps
# each message whole but may lose it, so the client times out and
# retries; a connected UDP socket hears "port unreachable"; ping and
# rawudp build packets by hand, checksums included; socket() knows
# several families and types. Tests that need root (network
# namespaces, nftables, raw sockets, another user) skip with the reason
# when run as a normal user.

bats_require_minimum_version 1.5.0 # run --separate-stderr
load helpers
STAGE_DIR="$TOP/05_udp_raw"

# The user and group "nobody", by number, and a command prefix that runs
# a program as nobody, without supplementary groups.
NOBODY=65534
AS_NOBODY=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)

start_stage_server() {
    start_server "$STAGE_DIR/server" 0
}

teardown() {
    helpers_teardown
    if [ -n "${NOBODY_DIR:-}" ]; then
        rm -rf "$NOBODY_DIR"
    fi
}

need_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root: $1"
}

# copy_for_nobody PROG: a copy of PROG that the user nobody can run
# (the checkout may sit in a directory nobody cannot enter, such as
# /root), in NOBODY_DIR, which teardown removes; its path is in COPY.
# Call it plainly, not in $(...): a subshell's NOBODY_DIR would be lost
# to teardown.
copy_for_nobody() {
    if [ -z "${NOBODY_DIR:-}" ]; then
        NOBODY_DIR=$(mktemp -d /tmp/sockstep05.XXXXXX)
        chmod 755 "$NOBODY_DIR"
    fi
    COPY="$NOBODY_DIR/$1"
    cp "$STAGE_DIR/$1" "$COPY"
    chmod 755 "$COPY"
}

# udp_open HOST PORT: a connected UDP socket from bash's /dev/udp (no
# client of ours); its fd is in UDP_FD. Each write to it is one
# datagram.
udp_open() {
    exec {UDP_FD}<>"/dev/udp/$1/$2"
}

udp_close() {
    local fd=$1
    exec {fd}>&-
}

# read_datagram FD: one read() on the socket, which returns one
# datagram, whatever the size of the buffer (64 KiB here).
read_datagram() {
    with_timeout 5 dd bs=65536 count=1 status=none <&"$1"
}

# lines N: "datagram 1" ... "datagram N", one a line.
lines() {
    local i
    for i in $(seq "$1"); do
        echo "datagram $i"
    done
}

### A network namespace of the test's own ###

# new_netns: a network namespace of this test's own, with only a
# loopback interface, held open by a sleeping process (NETNS_PID). As
# root, a plain network namespace; as anyone else, one inside a user
# namespace of their own (unshare -r), where they are root, where the
# system allows it. IN_NETNS is the command prefix that runs a program
# in it (as root there). The namespace vanishes with the last process
# inside it, so teardown, which stops every process the test started,
# cleans it up.
new_netns() {
    if ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null; then
        skip "unshare and nsenter (util-linux) are not installed"
    fi
    command -v ip >/dev/null || skip "ip (iproute2) is not installed"
    local unshare=(unshare -n) enter=(-n)
    if [ "$(id -u)" -ne 0 ]; then
        unshare=(unshare -r -n)
        enter=(-U -n --preserve-credentials)
    fi
    "${unshare[@]}" true 2>/dev/null ||
        skip "needs root, or user namespaces, to make a network namespace"

    "${_pdeathsig[@]}" "${unshare[@]}" sleep 600 </dev/null >/dev/null \
        2>&1 3>&- 4>&- &
    NETNS_PID=$!
    _test_pids+=("$NETNS_PID")
    IN_NETNS=("$(command -v nsenter)" -t "$NETNS_PID" "${enter[@]}")
    # Until unshare() has run, the process is still in our namespace:
    # entering it then would change the network of the whole machine.
    wait_until 5 _in_another_netns "$NETNS_PID" ||
        fail "no new network namespace within $(scaled 5) s"
    "${IN_NETNS[@]}" ip link set lo up
}

_in_another_netns() {
    [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

# netns_nft RULESET: load an nftables ruleset into the namespace;
# skips when nftables is missing or does not work on this kernel.
netns_nft() {
    command -v nft >/dev/null ||
        skip "nft is not installed (apt-get install nftables)"
    "${IN_NETNS[@]}" nft list ruleset >/dev/null 2>&1 ||
        skip "nftables does not work here (no nf_tables in the kernel?)"
    "${IN_NETNS[@]}" nft -f - <<<"$1"
}

# nft_dropped: how many packets the rule with a counter has dropped.
nft_dropped() {
    "${IN_NETNS[@]}" nft list ruleset |
        sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

start_netns_server() {
    start_server "${IN_NETNS[@]}" "$STAGE_DIR/server" 0
}

# Drop the 1st, 4th, 7th... datagram that reaches the server's port:
# numgen counts the packets the rule sees, 0, 1, 2, 0, 1, 2... and the
# ones counted 0 are dropped. (netem, which loses packets at random, is
# missing from some kernels, this one among them; and a fixed pattern
# makes exact checks possible.)
drop_every_third_to_server() {
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                udp dport $SERVER_PORT numgen inc mod 3 0 counter drop
            }
        }"
}

### UDP echo ###

@test "client: each line is one datagram, echoed exactly; the server logs each" {
    start_stage_server
    run --separate-stderr run_client 127.0.0.1 "$SERVER_PORT" \
        <<<$'hello, udp\nsecond line'
    [ "$status" -eq 0 ] || fail "client exited $status: $stderr"
    [ "$output" = $'hello, udp\nsecond line' ] || fail "echo: '$output'"
    [[ "$stderr" == *"client: 2 datagrams, 2 echoed, 0 lost, 0 failed, 0 resent"* ]] ||
        fail "summary: $stderr"
    ! foreign_server || return 0 # (its log is not ours)
    wait_until 5 log_reaches 2 ' sent '
    [ "$(log_count '^\[::ffff:127\.0\.0\.1\]:[0-9]+ sent 11 bytes: "hello, udp\\n"$')" -eq 1 ]
    [ "$(log_count '^\[::ffff:127\.0\.0\.1\]:[0-9]+ sent 12 bytes: "second line\\n"$')" -eq 1 ]
}

@test "server -q: every datagram is echoed, none is logged" {
    start_server "$STAGE_DIR/server" -q 0
    run --separate-stderr run_client 127.0.0.1 "$SERVER_PORT" <<<$'one\ntwo'
    [ "$status" -eq 0 ] && [ "$output" = $'one\ntwo' ] ||
        fail "with -q: exit $status, echo '$output': $stderr"
    # The server logs a datagram before it echoes it: with both echoes
    # back, a line for each would be in the log by now.
    [ "$(log_count ' sent ')" -eq 0 ] ||
        fail "-q should log no datagram; the log:" "$(tail -n 20 "$SERVER_LOG")"
}

@test "IPv6: a client at ::1 is answered" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    start_stage_server
    run --separate-stderr run_client ::1 "$SERVER_PORT" <<<"over IPv6"
    [ "$status" -eq 0 ] && [ "$output" = "over IPv6" ] ||
        fail "exit $status, '$output': $stderr"
    foreign_server || wait_until 5 log_reaches 1 '^\[::1\]:[0-9]+ sent 10 bytes'
}

@test "binary data, NULs included, comes back byte for byte (client)" {
    start_stage_server
    random_file "$BATS_TEST_TMPDIR/in" $((64 * 1024))
    run_client 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
        fail "client failed: $(cat "$BATS_TEST_TMPDIR/err")"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
    # Random bytes hold a newline every 256 bytes or so: many datagrams.
    foreign_server || wait_until 5 log_reaches 100 ' sent '
}

@test "a datagram with NUL and 0xff bytes, through bash's /dev/udp (no client of ours)" {
    start_stage_server
    udp_open 127.0.0.1 "$SERVER_PORT"
    printf 'a\0b\xff\n' >&"$UDP_FD"
    read_datagram "$UDP_FD" >"$BATS_TEST_TMPDIR/echo"
    udp_close "$UDP_FD"
    printf 'a\0b\xff\n' | cmp - "$BATS_TEST_TMPDIR/echo"
    foreign_server || wait_until 5 log_reaches 1 ' sent 5 bytes: "a\\x00b\\xff\\n"$'
}

@test "lesson: three sends are three datagrams, each read whole" {
    start_stage_server
    udp_open 127.0.0.1 "$SERVER_PORT"
    printf 'one' >&"$UDP_FD"
    printf 'two' >&"$UDP_FD"
    printf 'three' >&"$UDP_FD"
    # Each read could take 64 KiB, yet each returns exactly one echo.
    [ "$(read_datagram "$UDP_FD")" = one ]
    [ "$(read_datagram "$UDP_FD")" = two ]
    [ "$(read_datagram "$UDP_FD")" = three ]
    udp_close "$UDP_FD"
    foreign_server || [ "$(log_count ' sent ')" -eq 3 ]
}

@test "boundaries: TCP glues three sends together, UDP keeps three datagrams" {
    run with_timeout 10 "${_client_wrapper[@]}" \
        "$STAGE_DIR/boundaries" one two three
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    [[ "$output" == *"UDP: 3 send()s, 3 recv()s"* ]] || fail "$output"
    # The short-I/O shim of make check-shortio splits every TCP read, as
    # a real network may: the TCP column is then the shim's, not Linux's.
    [ "${CHECK_VARIANT:-}" != shortio ] || return 0
    # TCP: the same bytes, in order, but all in one read (on Linux, all
    # three sends arrive before the first recv(), which takes them all).
    # UDP: one read per send, whatever was still waiting.
    [[ "$output" == *'recv 1  11 bytes "onetwothree"   3 bytes "one"'* ]] ||
        fail "$output"
    [[ "$output" == *'recv 2  0 bytes: end of stream   3 bytes "two"'* ]] ||
        fail "$output"
    [[ "$output" == *'recv 3                           5 bytes "three"'* ]] ||
        fail "$output"
    [[ "$output" == *"TCP: 3 send()s, 1 recv() with data"* ]] || fail "$output"
}

# lab: udp
@test "truncation: an echo longer than the receive buffer is reported, exit 1" {
    start_stage_server
    head -c 100 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/in"
    run --separate-stderr run_client -b 16 127.0.0.1 "$SERVER_PORT" \
        <"$BATS_TEST_TMPDIR/in"
    [ "$status" -eq 1 ] && [ -z "$output" ] ||
        fail "an echo cut to 16 of its 100 bytes (-b 16) was taken for" \
            "the echo (exit $status): a datagram that did not fit is" \
            "truncated (receive_datagram() says so, MSG_TRUNC), and the" \
            "rest is gone; stdout: '$output'; stderr: $stderr"
    [[ "$stderr" == *"datagram 1: echo truncated: 16 of 100 bytes (the receive buffer holds 16; see -b)"* ]] ||
        fail "$stderr"
    [[ "$stderr" == *"1 datagram, 0 echoed, 0 lost, 1 failed, 0 resent"* ]] &&
        [ "$(grep -c 'echo truncated' <<<"$stderr")" -eq 1 ] ||
        fail "after a truncated echo, the client sent the datagram again" \
            "(or counted it lost): a truncated echo is final, the same" \
            "datagram comes back truncated each time. await_echo()" \
            "returns FAILED, and echo_datagram() stops at the first" \
            "outcome that is not NO_ECHO. Expected '1 datagram, 0" \
            "echoed, 0 lost, 1 failed, 0 resent'; stderr: $stderr"
    # The limit, at N-1, N and N+1: an echo of 100 bytes fits a buffer
    # of 100 bytes exactly.
    local size
    for size in 99 100 101; do
        run --separate-stderr run_client -b "$size" 127.0.0.1 \
            "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in"
        if [ "$size" -eq 99 ]; then
            [ "$status" -eq 1 ] && [ -z "$output" ] &&
                [[ "$stderr" == *"echo truncated: 99 of 100 bytes"* ]] ||
                fail "-b 99, a 100-byte echo: exit $status; stdout" \
                    "'$output'; stderr: $stderr"
        else
            [ "$status" -eq 0 ] && [ "$output" = "$(cat "$BATS_TEST_TMPDIR/in")" ] ||
                fail "-b $size, a 100-byte echo: it fits, yet exit" \
                    "$status: an echo that fills the buffer exactly is" \
                    "whole; only MSG_TRUNC (receive_datagram()'s" \
                    "*truncated) says it was cut. stderr: $stderr"
        fi
    done
}

@test "a line too long for one datagram is refused (EMSGSIZE); the next one goes" {
    start_stage_server
    { head -c 70000 /dev/zero | tr '\0' x; echo; echo short; } \
        >"$BATS_TEST_TMPDIR/in"
    run --separate-stderr run_client 127.0.0.1 "$SERVER_PORT" \
        <"$BATS_TEST_TMPDIR/in"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$output" = short ] || fail "output: $output"
    [[ "$stderr" == *"datagram 1: 70001 bytes is too long for one UDP datagram: Message too long"* ]] ||
        fail "$stderr"
}

# line_of BYTES: a line of that many bytes, its newline included.
line_of() {
    head -c $(($1 - 1)) /dev/zero | tr '\0' u
    echo
}

# The UDP length field has 16 bits: 65,535 bytes of header and data.
# IPv4's total length field counts its 20-byte header as well, leaving
# 65,507 bytes of data; IPv6's payload length does not count its header,
# leaving 65,527 (the README's numbers).
@test "the largest datagram: 65,507 bytes of data over IPv4, 65,527 over IPv6" {
    start_stage_server
    local host max
    for host in 127.0.0.1 ::1; do
        max=65507
        if [ "$host" = ::1 ]; then
            have_ipv6 || continue
            max=65527
        fi
        line_of "$max" >"$BATS_TEST_TMPDIR/in"
        run_client -r 0 "$host" "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in" \
            >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
            fail "$host: $max bytes: $(cat "$BATS_TEST_TMPDIR/err")"
        cmp -s "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" ||
            fail "$host: the $max-byte echo differs"
        run --separate-stderr run_client -r 0 "$host" "$SERVER_PORT" \
            < <(line_of $((max + 1)))
        [[ "$stderr" == *"$((max + 1)) bytes is too long for one UDP datagram"* ]] ||
            fail "$host: $((max + 1)) bytes: $stderr"
    done
}

# (The stubs of part udp pass this test already: their one receive
# fails at once. It is part udp's, for what the part must keep: a
# failed receive is FATAL, neither waited out nor sent again.)
# lab: udp
@test "connected (-c), no server: ECONNREFUSED at once, with a hint, exit 1" {
    start_stage_server
    local port=$SERVER_PORT
    stop_process "$SERVER_PID"
    # With 4 tries of 10 s, only the ICMP error can end it within 5 s.
    run with_timeout 5 "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -c -t 10 127.0.0.1 "$port" \
        <<<"anyone there?"
    [ "$status" -ne 124 ] ||
        fail "the kernel said 'nobody listens' (ECONNREFUSED), and the" \
            "client still waited after 5 s: a receive that fails with" \
            "anything but EAGAIN, EWOULDBLOCK or EINTR is no timeout;" \
            "await_echo() reports it (report_socket_error(c, \"recv\"))" \
            "and returns FATAL. The output: $output"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"client: recv: Connection refused"* ]] || fail "$output"
    [[ "$output" == *"hint: nothing receives on UDP port $port"* ]] ||
        fail "$output"
    [ "$(grep -c 'recv: Connection refused' <<<"$output")" -eq 1 ] &&
        [[ "$output" == *"1 datagram, 0 echoed, 0 lost, 1 failed, 0 resent"* ]] ||
        fail "after ECONNREFUSED (FATAL) the client sent the datagram" \
            "again: echo_datagram() stops at the first outcome that is" \
            "not NO_ECHO, and FATAL ends the client. The output: $output"
}

# lab: udp
@test "not connected, no server: nobody says so; the client times out, retries, reports the loss" {
    start_stage_server
    local port=$SERVER_PORT
    stop_process "$SERVER_PID"
    # strace counts the receives: each wait sleeps in a few, not
    # thousands (where strace can trace).
    local tracer=() calls
    # (Not under make check: valgrind traces on its own, and
    # LeakSanitizer refuses to run under ptrace.)
    if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null &&
        [ -z "${CHECK_VARIANT:-}" ]; then
        tracer=(strace -qq -e trace=recvmsg,recvfrom,recv -o "$BATS_TEST_TMPDIR/trace")
    fi
    # 3 tries of 0.2 s: 5 s is plenty, unless the client waits for ever.
    run --separate-stderr with_timeout 5 "${tracer[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -t 0.2 -r 2 127.0.0.1 "$port" <<<"anyone there?"
    [ "$status" -ne 124 ] ||
        fail "no server, and the client still waited after 5 s: no echo" \
            "will ever come, so" \
            "await_echo() must stop waiting at the timeout" \
            "(-t 0.2; set_receive_timeout(), SO_RCVTIMEO) and return" \
            "NO_ECHO. stderr: $stderr"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [[ "$stderr" == *"datagram 1: no echo within 0.2 s, sending it again (try 2 of 3)"* ]] ||
        fail "no echo within the timeout, and the client" \
            "did not send the datagram again" \
            "(-r 2: two resends): UDP never resends, the client must" \
            "(echo_datagram()). stderr: $stderr"
    [[ "$stderr" == *"datagram 1: no echo within 0.2 s, sending it again (try 3 of 3)"* ]] ||
        fail "$stderr"
    [[ "$stderr" == *"datagram 1 lost: no echo after 3 tries"* ]] || fail "$stderr"
    [[ "$stderr" == *"1 datagram, 0 echoed, 1 lost, 0 failed, 2 resent"* ]] ||
        fail "$stderr" || return 1
    ((${#tracer[@]})) || return 0
    calls=$(grep -c 'recv' "$BATS_TEST_TMPDIR/trace")
    ((calls <= 12)) ||
        fail "3 waits of 0.2 s for an echo that never came took $calls" \
            "receives (strace): the client spun at full CPU instead of" \
            "sleeping in recvmsg(). Each receive must wait for the time" \
            "left: is it rounded to whole seconds ((int)left: 0 for 0.2 s," \
            "which set_receive_timeout() makes 1 microsecond)?"
}

# The server is stopped (SIGSTOP) while the client sends datagram 1, so
# the client gives up on its first try and sends it again; then the
# server goes on and echoes both copies. The first echo answers
# datagram 1; the second arrives while the client waits for datagram
# 2's echo, and must not be taken for it.
# lab: udp
@test "a late echo of an earlier datagram is not taken for the current one" {
    start_stage_server
    lines 2 >"$BATS_TEST_TMPDIR/in"
    stop_now "$SERVER_PID"
    with_timeout 20 "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -t 1 -r 1 127.0.0.1 "$SERVER_PORT" \
        <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- &
    local client=$!
    _test_pids+=("$client")
    wait_for_line "$BATS_TEST_TMPDIR/err" 'sending it again' 5 ||
        fail "no resend: $(cat "$BATS_TEST_TMPDIR/err")"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$client" 10
    [ "$EXIT_STATUS" -eq 0 ] || fail "exit $EXIT_STATUS: $(cat "$BATS_TEST_TMPDIR/err")"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
    grep -q 'datagram 2: ignoring 11 bytes that are not its echo' \
        "$BATS_TEST_TMPDIR/err" ||
        fail "while it waited for datagram 2's echo, the late second echo" \
            "of datagram 1 came, and the client did not say 'datagram 2:" \
            "ignoring 11 bytes that are not its echo': await_echo() must" \
            "report it and wait on. stderr: $(cat "$BATS_TEST_TMPDIR/err")"
    grep -q '2 datagrams, 2 echoed, 0 lost, 0 failed, 1 resent$' \
        "$BATS_TEST_TMPDIR/err" ||
        fail "datagram 2's echo came, yet the client sent it again or" \
            "gave it up: the late echo of datagram 1 ended the wait" \
            "(await_echo() returned NO_ECHO). A datagram that is not the" \
            "echo is reported and skipped, and the wait goes on, within" \
            "the same deadline. Expected '2 datagrams, 2 echoed, 0 lost," \
            "0 failed, 1 resent'; stderr: $(cat "$BATS_TEST_TMPDIR/err")"
    foreign_server || [ "$(log_count ' sent 11 bytes: "datagram 1\\n"')" -eq 2 ]
}

# start_waiting_client ARG...: start the client in the background, in
# the test's namespace if it has one, to send the one line "datagram 1"
# (with ARG... as its options and server); wait until its first
# sendto() has bound its socket to a port. Sets CLIENT_PID and
# CLIENT_PORT; its stdout and stderr go to $BATS_TEST_TMPDIR/out and
# err. Started directly, so that $! is the client's PID (nsenter execs
# it); teardown stops it if it does not end by itself.
start_waiting_client() {
    command -v ss >/dev/null || skip "ss (iproute2) is not installed"
    "${IN_NETNS[@]}" "${_client_wrapper[@]}" "$STAGE_DIR/client" "$@" \
        <<<"datagram 1" >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- &
    CLIENT_PID=$!
    _test_pids+=("$CLIENT_PID")
    wait_until 5 _client_has_port ||
        fail "the client's socket got no port: $("${IN_NETNS[@]}" ss -Huanp)"
    CLIENT_PORT=$(_client_port)
}

# The client's port: the 4th column of ss, "0.0.0.0:PORT", on the line
# of the client's socket.
_client_port() {
    "${IN_NETNS[@]}" ss -Huanp | awk -v pid="pid=$CLIENT_PID," \
        'index($0, pid) { sub(/.*:/, "", $4); print $4 }'
}

_client_has_port() {
    [ -n "$(_client_port)" ]
}

# client_err: the end of the client's stderr, for a message.
client_err() {
    tail -n 5 "$BATS_TEST_TMPDIR/err"
}

# Without -c, anyone may send to the client's port. While the client
# waits for its echo (the server is stopped), another socket sends it
# the very bytes it waits for: they are not from the server, so they do
# not count. The client, stopped and continued meanwhile, waits on.
# Then the server goes on, and its echo does.
# lab: udp
@test "a datagram from anyone but the server is not taken for the echo" {
    start_stage_server
    stop_now "$SERVER_PID"
    start_waiting_client -t 5 -r 0 127.0.0.1 "$SERVER_PORT"
    udp_open 127.0.0.1 "$CLIENT_PORT"
    printf 'datagram 1\n' >&"$UDP_FD"
    udp_close "$UDP_FD"
    stranger_done() {
        grep -q 'not the server' "$BATS_TEST_TMPDIR/err" || is_gone "$CLIENT_PID"
    }
    wait_until 5 stranger_done
    if ! grep -q 'not the server' "$BATS_TEST_TMPDIR/err"; then
        fail "a datagram from another socket, not from the server, was" \
            "taken for the echo: the server is stopped and has sent" \
            "nothing. Without -c anyone may send to the client's port:" \
            "await_echo() must compare the sender's address with the" \
            "server's (same_address()) and say 'ignoring N bytes from" \
            "ADDR: not the server'. stdout: '$(cat "$BATS_TEST_TMPDIR/out")';" \
            "stderr: $(client_err)"
    fi
    # Stopped and continued (as Ctrl-Z and fg do), the client's
    # recvmsg() returns EINTR: that is no failure.
    stop_now "$CLIENT_PID"
    client_stopped() {
        [ "$(proc_state "$CLIENT_PID")" = T ]
    }
    wait_until 5 client_stopped || fail "the client did not stop"
    kill -CONT "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$CLIENT_PID" 10
    ! grep -q 'Interrupted system call' "$BATS_TEST_TMPDIR/err" ||
        fail "stopped and continued (SIGSTOP, SIGCONT: Ctrl-Z and fg)," \
            "the client's receive failed with EINTR, and the client" \
            "gave up: EINTR is no failure, await_echo() goes round" \
            "again (as for EAGAIN). stderr: $(client_err)"
    [ "$EXIT_STATUS" -eq 0 ] || fail "exit $EXIT_STATUS: $(client_err)"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = "datagram 1" ]
    grep -q '^client: ignoring 11 bytes from 127\.0\.0\.1:[0-9]*: not the server$' \
        "$BATS_TEST_TMPDIR/err" || fail "$(client_err)"
}

# The same stranger in disguise: in the test's own network namespace,
# nftables makes its datagram come from 127.0.0.2 and from the server's
# own port. Only the address tells it from the server: a client that
# compares the ports alone takes it for the echo (as one that compares
# the addresses alone fails the test above).
# lab: udp
@test "a datagram from anyone but the server: from its port at another address, it is not the echo either" {
    new_netns
    start_netns_server
    stop_now "$SERVER_PID"
    start_waiting_client -t 5 -r 0 127.0.0.1 "$SERVER_PORT"
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                udp dport $CLIENT_PORT udp sport != $SERVER_PORT ip saddr set 127.0.0.2 udp sport set $SERVER_PORT
            }
        }"
    "${IN_NETNS[@]}" bash -c 'exec 5<>"/dev/udp/127.0.0.1/$0" &&
        printf "datagram 1\n" >&5' "$CLIENT_PORT"
    disguised_done() {
        grep -q 'not the server' "$BATS_TEST_TMPDIR/err" || is_gone "$CLIENT_PID"
    }
    wait_until 5 disguised_done
    ! grep -q 'not the server' "$BATS_TEST_TMPDIR/err" ||
        grep -q "^client: ignoring 11 bytes from 127\.0\.0\.2:$SERVER_PORT: not the server\$" \
            "$BATS_TEST_TMPDIR/err" ||
        fail "a datagram from 127.0.0.2:$SERVER_PORT was ignored, but the" \
            "client named another sender: $(grep -m 1 'not the server' \
                "$BATS_TEST_TMPDIR/err"). Format the address the datagram" \
            "came from (recvmsg()'s), not the server's." || return 1
    grep -q 'not the server' "$BATS_TEST_TMPDIR/err" ||
        fail "a datagram from 127.0.0.2, sent from the server's port" \
            "($SERVER_PORT), was taken for the echo: the server, at" \
            "127.0.0.1, is stopped and has sent nothing. A datagram is the" \
            "server's only when both its address and its port are: compare" \
            "the whole address (same_address()), not the port alone." \
            "stdout: '$(cat "$BATS_TEST_TMPDIR/out")'; stderr: $(client_err)" ||
        return 1
    kill -CONT "$SERVER_PID"
    wait_for_exit "$CLIENT_PID" 10
    [ "$EXIT_STATUS" -eq 0 ] || fail "exit $EXIT_STATUS: $(client_err)"
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = "datagram 1" ]
}

# A stranger sends the waiting client a datagram every 0.3 s for 6 s.
# -t 1 is the whole wait, not the wait for each datagram: the client
# gives up after 1 s, whatever comes meanwhile. (3 s is a bound for
# correctness, with a wide margin, not a speed goal: a timeout that
# restarts with each datagram lasts until the stranger stops, 7 s.)
# lab: udp
@test "the timeout is for the whole wait: stray datagrams do not prolong it" {
    start_stage_server
    stop_now "$SERVER_PID"
    local started=$EPOCHREALTIME elapsed_ms i
    start_waiting_client -t 1 -r 0 127.0.0.1 "$SERVER_PORT"
    udp_open 127.0.0.1 "$CLIENT_PORT"
    for i in $(seq 20); do
        is_running "$CLIENT_PID" || break
        printf 'stray\n' >&"$UDP_FD" 2>/dev/null || break
        sleep 0.3
    done
    udp_close "$UDP_FD"
    wait_for_exit "$CLIENT_PID" 10
    kill -CONT "$SERVER_PID" # (a stopped server would not stop at SIGTERM)
    elapsed_ms=$(((${EPOCHREALTIME/./} - ${started/./}) / 1000))
    ((elapsed_ms < $(scaled 3000))) ||
        fail "with -t 1 the client waited $elapsed_ms ms for its echo," \
            "while a stranger sent it a datagram every 0.3 s: the" \
            "timeout restarted with every datagram. -t is for the whole" \
            "wait: a deadline, monotonic_now() + c->timeout_s, and" \
            "before each receive a timeout of only the time left." \
            "stderr: $(client_err)"
    [ "$EXIT_STATUS" -eq 1 ] || fail "exit $EXIT_STATUS: $(client_err)"
    grep -q 'datagram 1 lost: no echo after 1 try$' "$BATS_TEST_TMPDIR/err" &&
        grep -q 'ignoring 6 bytes from 127\.0\.0\.1:[0-9]*: not the server$' \
            "$BATS_TEST_TMPDIR/err" || fail "$(client_err)" || return 1

    # One stray, 1 s into a wait of 2 s: the receive after it may wait
    # only the second left. A receive timeout set once, to the whole 2
    # s, lasts until 3 s. (Only a late stray lengthens the wait: a
    # scheduler's delay can make it miss, never fail the right code.)
    stop_now "$SERVER_PID"
    start_waiting_client -t 2 -r 0 127.0.0.1 "$SERVER_PORT"
    started=$EPOCHREALTIME
    sleep 1
    udp_open 127.0.0.1 "$CLIENT_PORT"
    printf 'stray\n' >&"$UDP_FD" 2>/dev/null || true
    udp_close "$UDP_FD"
    wait_for_exit "$CLIENT_PID" 10
    kill -CONT "$SERVER_PID"
    elapsed_ms=$(((${EPOCHREALTIME/./} - ${started/./}) / 1000))
    ((elapsed_ms < $(scaled 2700))) ||
        fail "with -t 2 the client waited $elapsed_ms ms for its echo, a" \
            "stray datagram 1 s in: the receive after the stray waited" \
            "the whole 2 s again. Before each receive, give" \
            "set_receive_timeout() the time left (the deadline minus" \
            "monotonic_now()), not c->timeout_s: is the receive timeout" \
            "set once, before the loop? stderr: $(client_err)"
    [ "$EXIT_STATUS" -eq 1 ] || fail "exit $EXIT_STATUS: $(client_err)"
}

# Datagrams from the server's address and port that are not the echo:
# nftables gives every datagram to the client's port the server's
# source port (mending the UDP checksum), so that these come "from the
# server" while it is stopped. The client waits for the 11 bytes
# "datagram 1\n", with a buffer of 12 (-b 12), and gets 10 of them
# (N-1), the 11 and one more (N+1, which fills the buffer), 11 others
# (N), and 13 others (cut to 12, but not the start of the data, so not
# a truncated echo): none of them is the echo. Then an empty datagram,
# 0 bytes (sent by perl, which Debian always has: a shell cannot send
# one): a datagram like any other, not an end of stream, nor an error,
# nor the echo. It comes while the client is stopped, so that its
# receive, continued, fails with EINTR first: errno still says EINTR
# when recvmsg() returns the empty datagram, 0, which sets no errno.
# Last, a second client, with a buffer of exactly 11 bytes (-b 11), gets
# 12 bytes cut to 11 that are the 11 sent: cut, so longer than the
# data; the echo, 11 bytes, would fit whole. Not its echo, nor its echo
# truncated (that is fewer bytes than sent: n < len).
_skipped_reaches() {
    [ "$(grep -c 'not its echo' "$BATS_TEST_TMPDIR/err")" -ge "$1" ] ||
        is_gone "$CLIENT_PID"
}

# lab: udp
@test "from the server, only exactly the bytes sent are the echo: not fewer, not more, not others" {
    new_netns
    start_netns_server
    stop_now "$SERVER_PID"
    start_waiting_client -t 10 -r 0 -b 12 127.0.0.1 "$SERVER_PORT"
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                udp dport $CLIENT_PORT udp sport != $SERVER_PORT udp sport set $SERVER_PORT
            }
        }"
    local data bytes what skipped=0
    for data in 'datagram 1' 'datagram 1\nX' 'datagram 2\n' 'datagram 2\nXY'; do
        # One write(), one datagram: cat writes the file whole (bash's
        # printf would write each line apart).
        printf '%b' "$data" >"$BATS_TEST_TMPDIR/data"
        "${IN_NETNS[@]}" bash -c 'cat "$1" >"/dev/udp/127.0.0.1/$2"' \
            sh "$BATS_TEST_TMPDIR/data" "$CLIENT_PORT"
        bytes=$(wc -c <"$BATS_TEST_TMPDIR/data")
        case $bytes in
        10) what="10 bytes, the start of the 11 sent (n <= len?)" ;;
        12) what="12 bytes, the 11 sent and one more (only len bytes compared?)" ;;
        11) what="11 bytes, but not those sent" ;;
        *) what="13 bytes, cut to 12 by -b 12, that are not the start of the 11 sent (a truncated datagram is the echo truncated only if its bytes are the start of the data)" ;;
        esac
        skipped=$((skipped + 1))
        ((bytes <= 12)) || bytes=12 # what the buffer holds
        wait_until 5 _skipped_reaches "$skipped" &&
            [ "$(grep 'not its echo' "$BATS_TEST_TMPDIR/err" | sed -n "${skipped}p")" = \
                "client: datagram 1: ignoring $bytes bytes that are not its echo (a late echo of an earlier datagram?)" ] ||
            fail "the client waits for its 11 bytes, 'datagram 1\\n'," \
                "and a datagram from the server with $what was not" \
                "skipped: only exactly the len bytes sent, not truncated," \
                "are the echo. Anything else, await_echo() reports" \
                "('ignoring N bytes that are not its echo') and waits on." \
                "stdout: '$(cat "$BATS_TEST_TMPDIR/out")'; stderr: $(client_err)"
    done
    stop_now "$CLIENT_PID"
    client_stopped() {
        [ "$(proc_state "$CLIENT_PID")" = T ]
    }
    wait_until 5 client_stopped || fail "the client did not stop"
    "${IN_NETNS[@]}" perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
            PeerPort => $ARGV[0], Proto => "udp") or die "socket: $!\n";
        defined $s->send("") or die "send: $!\n";' "$CLIENT_PORT"
    kill -CONT "$CLIENT_PID"
    wait_until 5 _skipped_reaches 5 &&
        [ "$(grep 'not its echo' "$BATS_TEST_TMPDIR/err" | sed -n 5p)" = \
            "client: datagram 1: ignoring 0 bytes that are not its echo (a late echo of an earlier datagram?)" ] ||
        fail "the client waits for its 11 bytes, and an empty datagram (0" \
            "bytes) came from the server: it was not reported ('ignoring" \
            "0 bytes that are not its echo'). In UDP, recv() returning 0" \
            "is an empty datagram, not an end of stream nor a failure:" \
            "only n < 0 is (n <= 0 taken for a failure, or for a timeout" \
            "with a stale errno?). stdout: '$(cat "$BATS_TEST_TMPDIR/out")';" \
            "stderr: $(client_err)"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$CLIENT_PID" 10
    [ "$EXIT_STATUS" -eq 0 ] && [ "$(cat "$BATS_TEST_TMPDIR/out")" = "datagram 1" ] ||
        fail "the client skipped the datagrams that are not its echo, but" \
            "then did not take the echo that came after them (exit" \
            "$EXIT_STATUS): a datagram that is not the echo must not end" \
            "the wait (await_echo() returned NO_ECHO?); it waits on," \
            "within the same deadline (-t 10 here). stdout:" \
            "'$(cat "$BATS_TEST_TMPDIR/out")'; stderr: $(client_err)"

    stop_now "$SERVER_PID"
    start_waiting_client -t 10 -r 0 -b 11 127.0.0.1 "$SERVER_PORT"
    "${IN_NETNS[@]}" nft add rule inet sockstep input udp dport "$CLIENT_PORT" \
        udp sport != "$SERVER_PORT" udp sport set "$SERVER_PORT"
    printf 'datagram 1\nX' >"$BATS_TEST_TMPDIR/data"
    "${IN_NETNS[@]}" bash -c 'cat "$1" >"/dev/udp/127.0.0.1/$2"' \
        sh "$BATS_TEST_TMPDIR/data" "$CLIENT_PORT"
    wait_until 5 _skipped_reaches 1 &&
        [ "$(grep 'not its echo' "$BATS_TEST_TMPDIR/err")" = \
            "client: datagram 1: ignoring 11 bytes that are not its echo (a late echo of an earlier datagram?)" ] ||
        fail "with -b 11, the client waits for its 11 bytes, and 12 bytes" \
            "came from the server, cut to 11 that are the 11 sent: longer" \
            "than the data, so not its echo, and not its echo truncated" \
            "either: the echo, 11 bytes, fits -b 11 whole. An echo is" \
            "truncated only when fewer bytes than sent came (n < len, not" \
            "n <= len). stdout: '$(cat "$BATS_TEST_TMPDIR/out")';" \
            "stderr: $(client_err)"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$CLIENT_PID" 10
    [ "$EXIT_STATUS" -eq 0 ] && [ "$(cat "$BATS_TEST_TMPDIR/out")" = "datagram 1" ] ||
        fail "-b 11: exit $EXIT_STATUS; stdout '$(cat "$BATS_TEST_TMPDIR/out")';" \
            "stderr: $(client_err)"
}

@test "client: no prompt and nothing but the echoes on stdout when scripted" {
    start_stage_server
    run --separate-stderr run_client 127.0.0.1 "$SERVER_PORT" <<<"hi"
    [ "$status" -eq 0 ] && [ "$output" = hi ] || fail "got: '$output'"
}

@test "client: a '>>: ' prompt on a terminal" {
    command -v script >/dev/null || skip "script(1) is not installed"
    start_stage_server
    run with_timeout 10 script -qec \
        "'$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT" /dev/null <<<"hi"
    [ "$status" -eq 0 ] || fail "client on a terminal: exit $status"
    [[ "$output" == *">>: "* ]] || fail "no prompt on a terminal: $output"
}

# As in the TCP stages: started with fd 0 closed, the client acts as
# with empty input; its socket must not become its stdin.
@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the server takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    start_server --closed-fds "$STAGE_DIR/server" 0
    local fd
    for fd in 0 2; do
        [ "$(readlink "/proc/$SERVER_PID/fd/$fd")" = /dev/null ] ||
            fail "server: fd $fd is $(readlink "/proc/$SERVER_PID/fd/$fd")"
    done
    run with_fd_closed 0 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" \
        127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 124 ] ||
        fail "client <&-: hung; its socket took fd 0, and getline() read it"
    [ "$status" -eq 0 ] &&
        [ "$output" = "client: 0 datagrams, 0 echoed, 0 lost, 0 failed, 0 resent" ] ||
        fail "client <&-: exit $status, '$output'"
}

@test "a port already in use: a clear message and a hint, exit 1" {
    needs_our_server "it checks our server's error message and exit status"
    start_stage_server
    run with_timeout 5 "${_server_wrapper[@]}" \
        "$STAGE_DIR/server" "$SERVER_PORT"
    [ "$status" -eq 1 ] || fail "exit $status, not 1: $output"
    [[ "$output" == *"server: bind: Address already in use"* ]] || fail "$output"
    [[ "$output" == *"hint: "*"UDP port $SERVER_PORT"* ]] || fail "$output"
}

@test "SIGTERM and SIGINT end the server, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    local sig
    for sig in TERM INT; do
        start_stage_server
        kill -"$sig" "$SERVER_PID"
        wait_for_exit "$SERVER_PID" 5
        [ "$EXIT_STATUS" -eq 0 ] || fail "server exited $EXIT_STATUS after $sig"
    done
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    needs_our_server "it checks our programs' usage lines and exit statuses"
    local prog
    check_usage() { # PROG ARGS...: exit 2 and the usage line
        wrapper_of "$1"
        run with_timeout 5 "${WRAP[@]}" "$STAGE_DIR/$1" "${@:2}" </dev/null
        [ "$status" -eq 2 ] || fail "$*: exit $status, not 2: $output"
        [[ "$output" == *"usage: $1"* ]] || fail "$*: $output"
    }
    check_usage server -x
    check_usage server 1 2
    check_usage server 70000
    check_usage server abc
    check_usage client -x
    check_usage client a 1 b
    check_usage client localhost 0
    check_usage client -r -1
    check_usage client -r abc
    check_usage client -r 101
    check_usage client -t 0
    check_usage client -t -1
    check_usage client -t nan
    check_usage client -t abc
    check_usage client -b 0
    check_usage client -b 65536
    check_usage ping
    check_usage ping a b
    check_usage ping -c 0 localhost
    check_usage ping -i 0 localhost
    check_usage ping -W x localhost
    check_usage rawudp -s 0
    check_usage rawudp -s abc
    check_usage rawudp 127.0.0.1 0
    check_usage rawudp a 1 b c
    check_usage boundaries -x
    check_usage boundaries $(seq 17)
    check_usage socktypes extra
    check_usage ping -4 -6 localhost
    # A HOST of digits alone: a port with its host left out (9005 would
    # be the IPv4 address 0.0.35.45).
    # ...and the largest values taken: no usage error.
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" \
        -r 100 -b 65535 127.0.0.1 9 </dev/null
    [ "$status" -eq 0 ] || fail "client -r 100 -b 65535: exit $status: $output"
    check_usage client 9005
    [[ "$output" == *"hint: did you mean \`./client localhost 9005\`?"* ]] ||
        fail "client 9005: $output"
    check_usage rawudp 9005
    [[ "$output" == *"hint: did you mean \`./rawudp localhost 9005\`?"* ]] ||
        fail "rawudp 9005: $output"
    check_usage ping 9005
    [[ "$output" == *"hint: ICMP has no ports"* ]] || fail "ping 9005: $output"
    for prog in server client boundaries ping rawudp socktypes; do
        wrapper_of "$prog"
        run with_timeout 5 "${WRAP[@]}" "$STAGE_DIR/$prog" -h
        [ "$status" -eq 0 ] || fail "$prog -h: exit $status"
        [[ "$output" == "usage: $prog"* ]] || fail "$prog -h: $output"
    done
}

### Loss and retry, in a network namespace that drops datagrams ###

# lab: udp
@test "lost datagrams (every 3rd dropped), no retries: exactly those reported lost, exit 1" {
    new_netns
    start_netns_server
    drop_every_third_to_server
    lines 9 >"$BATS_TEST_TMPDIR/in"
    run --separate-stderr with_timeout 10 \
        "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -r 0 -t 0.5 \
        127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in"
    [ "$status" -ne 124 ] ||
        fail "the client still waited after 10 s: a lost datagram gets" \
            "no echo, and only the timeout (-t 0.5) ends the wait." \
            "stderr: $stderr"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$output" = "$(lines 9 | sed '1d;4d;7d')" ] || fail "echoes: $output"
    [ "$(grep -c ' lost: ' <<<"$stderr")" -eq 3 ] || fail "$stderr"
    local n
    for n in 1 4 7; do
        [[ "$stderr" == *"datagram $n lost: no echo after 1 try"* ]] ||
            fail "datagram $n not reported lost: $stderr"
    done
    [[ "$stderr" == *"client: 9 datagrams, 6 echoed, 3 lost, 0 failed, 0 resent"* ]] ||
        fail "$stderr"
    [ "$(nft_dropped)" -eq 3 ]
    foreign_server || [ "$(log_count ' sent ')" -eq 6 ]
}

# lab: udp
@test "lost datagrams (every 3rd dropped), with retries: every one comes back, exit 0" {
    new_netns
    start_netns_server
    drop_every_third_to_server
    lines 9 >"$BATS_TEST_TMPDIR/in"
    run --separate-stderr with_timeout 10 \
        "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -r 2 -t 0.5 \
        127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/in"
    [ "$status" -ne 124 ] ||
        fail "the client still waited after 10 s: a lost datagram gets" \
            "no echo, and only the timeout (-t 0.5) ends the wait." \
            "stderr: $stderr"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$output" = "$(lines 9)" ] || fail "echoes: $output"
    # Packets 1, 4, 7, 10, 13 are dropped: the first tries of datagrams
    # 1, 3, 5, 7 and 9. Each is sent again, and its second try passes.
    local n
    for n in 1 3 5 7 9; do
        [[ "$stderr" == *"datagram $n: no echo within 0.5 s, sending it again (try 2 of 3)"* ]] ||
            fail "datagram $n not resent: $stderr"
    done
    [[ "$stderr" == *"client: 9 datagrams, 9 echoed, 0 lost, 0 failed, 5 resent"* ]] ||
        fail "$stderr"
    [ "$(nft_dropped)" -eq 5 ]
    foreign_server || [ "$(log_count ' sent ')" -eq 9 ]
}

### The Internet checksum ###

# lab: checksum
@test "the Internet checksum: known values (RFC 1071 and others) and its definition" {
    local cc=${CC:-cc}
    command -v "$cc" >/dev/null || skip "no C compiler ($cc)"
    "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic \
        -I"$STAGE_DIR" -o "$BATS_TEST_TMPDIR/cksum_test" \
        "$TOP/tests/cksum_test.c" "$STAGE_DIR/checksum.c"
    run with_timeout 10 "$BATS_TEST_TMPDIR/cksum_test"
    [ "$status" -eq 0 ] && [[ "$output" == *" checks, 0 failed" ]] ||
        fail "ones_complement_sum() (checksum.c) fails" \
            "$(sed -n 's/^\([0-9]*\) checks, \([0-9]*\) failed$/\2 of its \1 checks/p' \
                <<<"$output");" \
            "$(sed -n 's/^hint: //p' <<<"$output")." "The checks: $output"
}

### ping ###

# check_not_own_requests: after `run ping`, were ping's own requests
# counted as replies? Then each reply comes one request late.
check_not_own_requests() {
    [[ "$output" != *"icmp_seq=1: not the reply to icmp_seq=2"* ]] ||
        fail "ping counted another message for reply 1, and reply 1 came" \
            "while it waited for reply 2: most likely its own echo" \
            "request, which a raw socket receives too when we ping" \
            "ourselves. is_our_reply() must take only an echo reply" \
            "(p->sock.icmp->echo_reply). The output: $output"
}

# check_changed_ignored SEQ HOW... -- WHY...: after `run ping`, did ping
# say reply SEQ came back changed, and not count it? Else fail: "reply
# SEQ came HOW, and ping did not say '...': WHY", and the output.
check_changed_ignored() {
    local seq=$1 said how=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        how+=("$1")
        shift
    done
    shift # the --
    said="icmp_seq=$seq: the data came back changed, reply ignored"
    [[ "$output" == *"$said"* ]] && [[ "$output" != *"icmp_seq=$seq ttl="* ]] ||
        fail "reply $seq came ${how[*]}, and ping did not say '$said':" \
            "$@" "The output: $output"
}

# check_three_replies [ADDRESS]: after `run ping -c 3 ADDRESS` (default
# 127.0.0.1), three replies with their TTL and time, and a summary with
# no loss.
check_three_replies() {
    check_not_own_requests
    [ "$status" -eq 0 ] ||
        fail "ping exited $status, not 0: it did not take the 3 replies" \
            "as its own (is_our_reply()). The output: $output"
    local seq address=${1:-127.0.0.1}
    for seq in 1 2 3; do
        [[ "$output" =~ "64 bytes from $address: icmp_seq=$seq ttl=64 time="[0-9.]+" ms" ]] ||
            fail "no reply $seq: $output"
    done
    [[ "$output" == *"3 packets transmitted, 3 received, 0% packet loss"* ]] ||
        fail "$output"
    [[ "$output" =~ "rtt min/avg/max = "[0-9.]+/[0-9.]+/[0-9.]+" ms" ]] ||
        fail "$output"
}

# lab: reply
@test "ping -c 3 127.0.0.1: three replies, checked, and the summary, exit 0" {
    run with_timeout 10 "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -c 3 -i 0.2 127.0.0.1
    [ "$status" -ne 77 ] ||
        skip "this user may open no ICMP socket here (exit 77): run as root"
    check_three_replies
}

# lab: reply
@test "ping through a raw socket (root, own namespace)" {
    new_netns # whose ping_group_range is "1 0": no datagram sockets
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -c 3 -i 0.2 127.0.0.1
    [[ "$output" == *"56 data bytes, ICMP raw socket"* ]] || fail "$output"
    check_three_replies
}

# lab: reply
@test "ping through an ICMP datagram socket, as nobody (Linux ping_group_range)" {
    [ "$(uname -s)" = Linux ] || skip "ICMP datagram sockets are Linux's"
    need_root "running ping as another user"
    new_netns
    local ping
    copy_for_nobody ping
    ping=$COPY
    # /proc/sys/net shows the namespace of the process that opens it.
    "${IN_NETNS[@]}" sh -c \
        "echo $NOBODY $NOBODY >/proc/sys/net/ipv4/ping_group_range"
    run with_timeout 10 "${IN_NETNS[@]}" \
        "${AS_NOBODY[@]}" \
        "$ping" -c 3 -i 0.2 127.0.0.1
    [[ "$output" == *"56 data bytes, ICMP datagram socket"* ]] || fail "$output"
    check_three_replies
}

@test "ping without permission: a clear message and a hint, exit 77" {
    need_root "running ping as another user"
    new_netns # ping_group_range "1 0", and nobody may open raw sockets
    local ping
    copy_for_nobody ping
    ping=$COPY
    run with_timeout 10 "${IN_NETNS[@]}" \
        "${AS_NOBODY[@]}" \
        "$ping" -c 1 127.0.0.1
    [ "$status" -eq 77 ] || fail "exit $status: $output"
    [[ "$output" == *"ping: socket(SOCK_RAW, IPPROTO_ICMP): Operation not permitted"* ]] ||
        fail "$output"
    [[ "$output" == *"hint: "*"setcap cap_net_raw+ep"* ]] || fail "$output"
}

# lab: reply
@test "ping installed setuid root gives up root once its socket is open" {
    need_root "installing ping setuid root"
    new_netns # no datagram sockets here: it must use a raw socket
    local ping pid
    copy_for_nobody ping
    ping=$COPY
    chown 0:0 "$ping"
    chmod 4755 "$ping"
    "${IN_NETNS[@]}" \
        "${AS_NOBODY[@]}" \
        "$ping" -c 100 -i 0.1 127.0.0.1 >"$BATS_TEST_TMPDIR/out" 2>&1 \
        3>&- 4>&- &
    pid=$!
    _test_pids+=("$pid")
    wait_for_line "$BATS_TEST_TMPDIR/out" 'icmp_seq=1 |^ping: ' 5 >/dev/null ||
        fail "no reply: $(cat "$BATS_TEST_TMPDIR/out")"
    if grep -q 'SOCK_RAW.*Operation not permitted' "$BATS_TEST_TMPDIR/out"; then
        skip "the setuid bit has no effect in $NOBODY_DIR (nosuid mount?)"
    fi
    grep -q '^64 bytes from 127.0.0.1: icmp_seq=1 ' "$BATS_TEST_TMPDIR/out" ||
        fail "$(cat "$BATS_TEST_TMPDIR/out")"
    # Real, effective, saved and file-system IDs: nobody, all four.
    [ "$(proc_status "$pid" Uid)" = $NOBODY ] # proc_status prints the first
    awk '$1 == "Uid:" || $1 == "Gid:" {
             for (i = 2; i <= 5; i++) if ($i != '$NOBODY') exit 1
         }' "/proc/$pid/status" || fail "$(grep -E '^(Uid|Gid):' "/proc/$pid/status")"
    stop_process "$pid"
}

# Eight replies are changed on their way, before any socket sees them
# (nftables mends the checksum of a field it rewrites, but not of raw
# bytes, @th), and ping must count none of them:
#   2  its checksum set to 0 (to 1 if 0 was right): damaged;
#   3  renumbered icmp_seq=9: late, the reply to another request;
#   4  another identifier: another ping's reply;
#   5  type 13 (a timestamp request), not an echo reply, though with our
#      identifier, sequence number and data;
#   6  the last two 16-bit words of its data swapped (data bytes 52-55):
#      changed, with a checksum that is still right (the sum does not
#      depend on the order); the last, so that a comparison of only the
#      first bytes (sizeof a pointer, say) misses it;
#   7  from 127.0.0.2: another host's reply;
#   8  cut to its 8-byte header, none of its 56 data bytes: the IP
#      length set to 28 as it leaves, so the receiving kernel trims it,
#      and its checksum set to the one of those 8 bytes, for which the
#      identifier must be known before ping starts: it is ping's PID on
#      a raw socket, so ping waits on a fifo while the rules are loaded;
#   9  of type 13, and with a bad checksum: none of ours, skipped
#      without a word, not reported as a bad checksum (its rules come
#      first, before reply 3 is renumbered 9).
# A raw socket receives them all: only the checks in is_our_reply()
# stop them.
# lab: reply
@test "ping checks each reply: type, identifier, sender, checksum, sequence number, data" {
    new_netns # ping_group_range "1 0": a raw socket
    local gate=$BATS_TEST_TMPDIR/gate pid id sum
    mkfifo "$gate"
    "${IN_NETNS[@]}" sh -c 'read -r go <"$1" && shift && exec "$@"' sh \
        "$gate" "${_client_wrapper[@]}" "$STAGE_DIR/ping" -c 9 -i 0.1 \
        -W 0.5 127.0.0.1 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- 4>&- &
    pid=$!
    _test_pids+=("$pid")
    id=$((pid & 0xffff))
    # Reply 8's sum: type and code 0, id, sequence 8.
    sum=$((id + 8))
    sum=$(((sum & 0xffff) + (sum >> 16)))
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                icmp type echo-reply icmp sequence 9 icmp checksum 0 @th,16,16 set 1 icmp type set 13 accept
                icmp type echo-reply icmp sequence 9 @th,16,16 set 0 icmp type set 13
                icmp type echo-reply icmp sequence 2 icmp checksum 0 @th,16,16 set 1 accept
                icmp type echo-reply icmp sequence 2 @th,16,16 set 0
                icmp type echo-reply icmp sequence 3 icmp sequence set 9
                icmp type echo-reply icmp sequence 4 icmp id 0 icmp id set 1 accept
                icmp type echo-reply icmp sequence 4 icmp id set 0
                icmp type echo-reply icmp sequence 5 icmp type set 13
                icmp type echo-reply icmp sequence 6 @th,480,32 set 0x5d5e5b5c
                icmp type echo-reply icmp sequence 7 ip saddr set 127.0.0.2
            }
            chain output {
                type filter hook output priority 0;
                icmp type echo-reply icmp sequence 8 ip length set 28 @th,16,16 set $((~sum & 0xffff))
            }
        }"
    with_timeout 5 sh -c 'echo go >"$1"' sh "$gate" ||
        fail "ping did not start: $(cat "$BATS_TEST_TMPDIR/out")"
    wait_for_exit "$pid" 20
    status=$EXIT_STATUS
    output=$(cat "$BATS_TEST_TMPDIR/out")
    check_not_own_requests
    [[ "$output" == *"56 data bytes, ICMP raw socket, id $id"* ]] ||
        fail "not a raw socket with the identifier $id (the PID): $output"
    [[ "$output" == *"icmp_seq=1 ttl=64"* ]] || fail "no reply 1: $output"
    [[ "$output" == *"icmp_seq=2: bad checksum, reply ignored"* ]] &&
        [[ "$output" != *"icmp_seq=2 ttl="* ]] ||
        fail "reply 2 came with a bad checksum, and ping did not say" \
            "'icmp_seq=2: bad checksum, reply ignored': is_our_reply()" \
            "must check the checksum (inet_checksum() of the whole ICMP" \
            "message is 0 if it is intact). The output: $output"
    [[ "$output" == *"icmp_seq=9: not the reply to icmp_seq=3"* ]] &&
        [[ "$output" != *"icmp_seq=3 ttl="* ]] ||
        fail "reply 3 came renumbered icmp_seq=9, and ping did not say" \
            "'icmp_seq=9: not the reply to icmp_seq=3': is_our_reply()" \
            "must check the sequence number (a late reply is another" \
            "request's). The output: $output"
    [[ "$output" == *"no reply to icmp_seq=4 within 0.5 s"* ]] ||
        fail "reply 4 came with another identifier, another ping's reply," \
            "and ping took it for its own: is_our_reply()" \
            "must skip a reply whose identifier is not ours" \
            "(p->id). The output: $output"
    [[ "$output" == *"no reply to icmp_seq=5 within 0.5 s"* ]] ||
        fail "a message of type 13, not an echo reply (type 0), came" \
            "with our identifier, sequence number 5 and data, and ping" \
            "did not skip it: is_our_reply() must take only type" \
            "p->sock.icmp->echo_reply, not anything but a request" \
            "(type != echo_request lets every other type in). The" \
            "output: $output"
    check_changed_ignored 6 "with the last two words of its data swapped" \
        "(its checksum still right: the sum ignores their order)" -- \
        "is_our_reply() must compare the data with what fill_data()" \
        "writes for seq, all DATA_SIZE bytes (not sizeof a pointer, nor" \
        "the first few)."
    [[ "$output" == *"no reply to icmp_seq=7 within 0.5 s"* ]] ||
        fail "reply 7 came from 127.0.0.2, and ping counted it as" \
            "127.0.0.1's: is_our_reply() must skip a reply that is not" \
            "from the host we ping (is_from_target()). The output: $output"
    check_changed_ignored 8 "cut to its 8-byte header, none of its 56" \
        "data bytes (its checksum right)" -- \
        "the data must be DATA_SIZE bytes, all compared; comparing" \
        "len - 8 bytes, the length never checked, takes a cut reply;" \
        "and a header alone is a reply too (len < sizeof header" \
        "skips only what is shorter)."
    [[ "$output" == *"no reply to icmp_seq=9 within 0.5 s"* ]] &&
        [[ "$output" != *"icmp_seq=9: bad checksum"* ]] ||
        fail "a message of type 13 with a bad checksum came with our" \
            "identifier and sequence number 9, and ping said it had a bad" \
            "checksum. Not an echo reply, it is none of ours: skip it" \
            "without a word, as the type, identifier and sender checks" \
            "do; check the checksum only after them. The output: $output"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"9 packets transmitted, 1 received, 88% packet loss"* ]] ||
        fail "$output"
}

# A reply longer than the request: no nftables rule can add bytes, so
# the kernel of the namespace is told to answer no ping, and
# tests/icmp_replier answers instead, reply 2 with 8 bytes more.
# lab: reply
@test "ping checks each reply: one 8 bytes longer than its request is not counted" {
    new_netns
    local replier=$TOP/tests/icmp_replier ready
    [ -x "$replier" ] || fail "$replier is not built: run make test"
    "${IN_NETNS[@]}" sh -c 'echo 1 >/proc/sys/net/ipv4/icmp_echo_ignore_all' ||
        skip "cannot stop the namespace's kernel from answering pings"
    coproc replier { "${IN_NETNS[@]}" "$replier" 2 8 3 2>&1 3>&- 4>&-; }
    _test_pids+=("$replier_PID")
    read -r -t "$(scaled 5)" ready <&"${replier[0]}" && [ "$ready" = ready ] ||
        fail "tests/icmp_replier did not start: '$ready'"
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -4 -c 3 -i 0.1 -W 0.5 127.0.0.1
    [[ "$output" == *"icmp_seq=1 ttl="* && "$output" == *"icmp_seq=3 ttl="* ]] ||
        fail "replies 1 and 3, exactly as the requests, were not counted:" \
            "$output"
    check_changed_ignored 2 "with its 56 data bytes and 8 more" \
        "(its checksum right)" -- \
        "the reply must be exactly as long as the request," \
        "len == sizeof header + DATA_SIZE (len >= ... takes a longer one)."
    [ "$status" -eq 1 ] || fail "exit $status (2 of 3 replies): $output"
}

# lab: reply
@test "ping counts what is lost: every 3rd request dropped, 33% loss, exit 1" {
    new_netns
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                icmp type echo-request numgen inc mod 3 0 counter drop
            }
        }"
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -c 3 -i 0.1 -W 0.5 127.0.0.1
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"no reply to icmp_seq=1 within 0.5 s"* ]] || fail "$output"
    [[ "$output" == *"icmp_seq=2 ttl=64"* ]] || fail "$output"
    [[ "$output" == *"icmp_seq=3 ttl=64"* ]] || fail "$output"
    [[ "$output" == *"3 packets transmitted, 2 received, 33% packet loss"* ]] ||
        fail "$output"
}

# netns_has_ipv6: has the test's namespace the IPv6 loopback, ::1?
netns_has_ipv6() {
    "${IN_NETNS[@]}" grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null
}

# lab: reply
@test "ping -6: ::1 through an ICMPv6 raw socket (root, own namespace)" {
    new_netns
    netns_has_ipv6 || skip "no IPv6 loopback (::1) in a new namespace here"
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -c 3 -i 0.2 ::1
    [[ "$output" == *"PING ::1 (::1): 56 data bytes, ICMPv6 raw socket"* ]] ||
        fail "$output"
    check_three_replies ::1
    # -4 and -6 allow one version only (this system's /etc/hosts decides
    # whether localhost has both, so addresses here).
    run with_timeout 10 "${_client_wrapper[@]}" "$STAGE_DIR/ping" -4 ::1
    [ "$status" -eq 1 ] || fail "-4 ::1: exit $status: $output"
    [[ "$output" == "ping: ::1: "* ]] || fail "-4 ::1: $output"
    run with_timeout 10 "${_client_wrapper[@]}" "$STAGE_DIR/ping" -6 127.0.0.1
    [ "$status" -eq 1 ] || fail "-6 127.0.0.1: exit $status: $output"
}

# lab: reply
@test "ping ::1 through an ICMPv6 datagram socket, as nobody (Linux ping_group_range)" {
    [ "$(uname -s)" = Linux ] || skip "ICMP datagram sockets are Linux's"
    need_root "running ping as another user"
    new_netns
    netns_has_ipv6 || skip "no IPv6 loopback (::1) in a new namespace here"
    local ping
    copy_for_nobody ping
    ping=$COPY
    # The IPv4 setting governs ICMPv6 datagram sockets too.
    "${IN_NETNS[@]}" sh -c \
        "echo $NOBODY $NOBODY >/proc/sys/net/ipv4/ping_group_range"
    run with_timeout 10 "${IN_NETNS[@]}" "${AS_NOBODY[@]}" \
        "$ping" -c 3 -i 0.2 ::1
    [[ "$output" == *"56 data bytes, ICMPv6 datagram socket"* ]] ||
        fail "$output"
    check_three_replies ::1
}

# As for IPv4 above, but ICMPv6's checksum is the kernel's to check: the
# reply with a changed byte never reaches ping (the kernel drops it and
# counts it in Icmp6InCsumErrors), so it is simply missing. Reply 4 is
# cut to 4 bytes as it leaves (the payload length set to 4, the checksum
# set to the one of those 4 bytes: type 129, code 0, and the
# pseudo-header of ::1, ::1, length 4, next header 58): shorter than an
# echo header, yet a raw ICMPv6 socket receives it (a raw ICMP socket
# over IPv4 would not); it is no reply, skipped without a word.
# lab: reply
@test "ping checks each ICMPv6 reply: a renumbered one is not counted, a corrupted one never arrives" {
    new_netns
    netns_has_ipv6 || skip "no IPv6 loopback (::1) in a new namespace here"
    netns_nft "
        table inet sockstep {
            chain input {
                type filter hook input priority 0;
                icmpv6 type echo-reply icmpv6 sequence 2 @th,64,8 set 0x41
                icmpv6 type echo-reply icmpv6 sequence 3 icmpv6 sequence set 9
            }
            chain output {
                type filter hook output priority 0;
                icmpv6 type echo-reply icmpv6 sequence 4 ip6 length set 4 @th,16,16 set 0x7ebf
            }
        }"
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/ping" -c 4 -i 0.1 -W 0.5 ::1
    check_not_own_requests
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"icmp_seq=1 ttl=64"* ]] || fail "$output"
    [[ "$output" == *"no reply to icmp_seq=2 within 0.5 s"* ]] ||
        fail "a corrupted ICMPv6 reply was taken: $output"
    [[ "$output" == *"icmp_seq=9: not the reply to icmp_seq=3"* ]] ||
        fail "$output"
    [[ "$output" == *"no reply to icmp_seq=4 within 0.5 s"* ]] &&
        [ "$(grep -c 'icmp_seq=4' <<<"$output")" -eq 1 ] ||
        fail "reply 4 came cut to 4 bytes, shorter than an ICMP echo" \
            "header (8 bytes): no reply at all, to be skipped without a" \
            "word (is_our_reply() returns 0 when len < sizeof header," \
            "before it reads the header). The output: $output"
    [[ "$output" == *"4 packets transmitted, 1 received, 75% packet loss"* ]] ||
        fail "$output"
}

# No route (a namespace with loopback alone): each sendto() fails. ping
# says so for each request, goes on, and its summary counts them as not
# sent rather than transmitted; exit 2, as the system's ping.
@test "ping with no route: each request reported and not counted as sent, exit 2" {
    new_netns
    local host
    for host in 192.0.2.1 2001:db8::1; do # documentation addresses
        [ "$host" = 192.0.2.1 ] || netns_has_ipv6 || continue
        run --separate-stderr with_timeout 10 "${IN_NETNS[@]}" \
            "${_client_wrapper[@]}" "$STAGE_DIR/ping" -c 2 -i 0.1 "$host"
        [ "$status" -eq 2 ] || fail "$host: exit $status: $output $stderr"
        [[ "$stderr" == *"ping: sendto $host: icmp_seq=1: Network is unreachable"*"ping: sendto $host: icmp_seq=2: Network is unreachable"* ]] ||
            fail "$host: stopped at the first send error? $stderr"
        [[ "$output" == *"0 packets transmitted, 0 received, 2 not sent (send errors)"* ]] ||
            fail "$host: the summary: $output"
    done
}

### rawudp ###

# In a namespace of its own, where even a normal user may be root (see
# new_netns), and where nothing else sends to port 4242.
# lab: checksum
@test "rawudp: the server logs exactly the payload, from the forged source port" {
    needs_our_server "it reads our server's log of what came"
    new_netns
    start_netns_server
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/rawudp" -s 4242 127.0.0.1 "$SERVER_PORT" "forged hello"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    [[ "$output" == *"sent 40 bytes to 127.0.0.1 port $SERVER_PORT, from port 4242"* ]] ||
        fail "$output"
    wait_until 5 log_reaches 1 ' sent '
    [ "$(log_count ' sent ')" -eq 1 ]
    [ "$(log_count '^\[::ffff:127\.0\.0\.1\]:4242 sent 12 bytes: "forged hello"$')" -eq 1 ] ||
        fail "$(cat "$SERVER_LOG")"

    # An empty datagram is still a datagram (for TCP, reading 0 bytes
    # would mean the end): the server logs it and carries on.
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/rawudp" -s 4343 127.0.0.1 "$SERVER_PORT" ""
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    wait_until 5 log_reaches 1 ':4343 sent 0 bytes: ""$'
    server_survived "an empty datagram"
}

@test "rawudp without permission: a clear message and a hint, exit 77" {
    need_root "switching to another user"
    local rawudp
    copy_for_nobody rawudp
    rawudp=$COPY
    run with_timeout 10 "${AS_NOBODY[@]}" "$rawudp" 127.0.0.1 9
    [ "$status" -eq 77 ] || fail "exit $status: $output"
    [[ "$output" == *"rawudp: socket(SOCK_RAW, IPPROTO_RAW): Operation not permitted"* ]] ||
        fail "$output"
    [[ "$output" == *"hint: raw sockets need root or CAP_NET_RAW"* ]] || fail "$output"
}

### socktypes ###

@test "socktypes: a row for every family and type, and SOCK_SEQPACKET at work" {
    run with_timeout 10 "${_client_wrapper[@]}" "$STAGE_DIR/socktypes"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    local family type
    for family in AF_UNIX AF_INET AF_INET6; do
        for type in SOCK_STREAM SOCK_DGRAM SOCK_RAW SOCK_RDM SOCK_SEQPACKET; do
            [ "$(grep -cE "^$family +$type +[A-Z_0-9]+ +(yes|no: E[A-Z]+)" <<<"$output")" -eq 1 ] ||
                fail "no row for $family $type: $output"
        done
    done
    [[ "$output" =~ "AF_INET   SOCK_STREAM     0               yes" ]] || fail "$output"
    [[ "$output" =~ "AF_INET   SOCK_DGRAM      0               yes" ]] || fail "$output"
    [[ "$output" =~ "AF_UNIX   SOCK_STREAM     0               yes" ]] || fail "$output"
    [[ "$output" == *'recv() = 5: "three", one whole message'* ]] || fail "$output"
    [[ "$output" == *"recv() = 0: the sender closed"* ]] || fail "$output"
    if [ "$(uname -s)" = Linux ]; then
        [[ "$output" =~ "AF_UNIX   SOCK_SEQPACKET  0               yes" ]] || fail "$output"
        [[ "$output" =~ "AF_UNIX   SOCK_RDM        0               no: ESOCKTNOSUPPORT" ]] ||
            fail "$output"
        [[ "$output" =~ "AF_UNIX   SOCK_RAW        0               yes, but it is a SOCK_DGRAM socket" ]] ||
            fail "$output"
    fi
}

# strace shows every socket() call and what the kernel answered; each
# row of the table must say the same.
@test "socktypes: each row matches what socket() returned (strace)" {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
    # (LeakSanitizer, in a sanitizer build, refuses to run under ptrace.)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        run with_timeout 10 strace -e trace=socket \
        -o "$BATS_TEST_TMPDIR/trace" "$STAGE_DIR/socktypes"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    local family type proto result call calls=0
    while read -r family type proto result; do
        [ -n "$family" ] || break # the table ends at the first blank line
        [[ "$family" == AF_* ]] || continue
        calls=$((calls + 1))
        # strace pads before " = RESULT", and names protocol 0 of the
        # INET families IPPROTO_IP: undo both.
        call=$(sed -n "${calls}p" "$BATS_TEST_TMPDIR/trace" | tr -s ' ' |
            sed 's/, IPPROTO_IP)/, 0)/')
        [[ "$call" == "socket($family, $type, $proto) = "* ]] ||
            fail "row $calls: $family $type $proto; strace: $call"
        if [[ "$result" == yes* ]]; then
            [[ "$call" =~ \)\ =\ [0-9]+$ ]] || fail "says yes: $call"
        else
            [[ "$call" == *" = -1 ${result#no: } "* ]] || fail "says $result: $call"
        fi
    done <<<"$output"
    [ "$calls" -eq 15 ] || fail "$calls rows"
    [ "$(grep -c '^socket(' "$BATS_TEST_TMPDIR/trace")" -eq 15 ]
}

@test "socktypes: raw sockets for root, EPERM for anyone else" {
    need_root "switching to another user"
    local socktypes
    run with_timeout 10 "${_client_wrapper[@]}" "$STAGE_DIR/socktypes"
    [[ "$output" != *"SOCK_RAW        IPPROTO_ICMP    no: EPERM"* ]] ||
        skip "even root may not open raw sockets here (no CAP_NET_RAW)"
    [[ "$output" =~ "AF_INET   SOCK_RAW        IPPROTO_ICMP    yes" ]] || fail "$output"
    copy_for_nobody socktypes
    socktypes=$COPY
    run with_timeout 10 "${AS_NOBODY[@]}" "$socktypes"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    [[ "$output" =~ "AF_INET   SOCK_RAW        IPPROTO_ICMP    no: EPERM" ]] ||
        fail "$output"
    if have_ipv6; then
        [[ "$output" =~ "AF_INET6  SOCK_RAW        IPPROTO_ICMPV6  no: EPERM" ]] ||
            fail "$output"
    fi
}

### The server's side of a retry ###

# A resend whose first copy was not lost reaches the server twice, and
# the server does the work twice. Its log counts the copies: a datagram
# the same as the one before it, from the same peer, gets a second line
# "PEER: the same datagram again, copy N". Another peer, or other bytes,
# start the count again.
# lab: udp
@test "server: a resent datagram is logged as a copy, counted; another peer's or other bytes are not" {
    needs_our_server "it reads our server's log of copies"
    start_stage_server
    # The retry, as it happens: the server is stopped while the client
    # waits, so the client resends; then the server receives both.
    stop_now "$SERVER_PID"
    with_timeout 20 "${_client_wrapper[@]}" \
        "$STAGE_DIR/client" -t 1 -r 1 127.0.0.1 "$SERVER_PORT" \
        <<<"pay 10" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- 4>&- &
    local client=$!
    _test_pids+=("$client")
    wait_for_line "$BATS_TEST_TMPDIR/err" 'sending it again' 5 ||
        fail "no resend: $(cat "$BATS_TEST_TMPDIR/err")"
    kill -CONT "$SERVER_PID"
    wait_for_exit "$client" 10
    [ "$EXIT_STATUS" -eq 0 ] || fail "exit $EXIT_STATUS: $(cat "$BATS_TEST_TMPDIR/err")"
    wait_until 5 log_reaches 1 ': the same datagram again, copy 2: echoed again$'
    [ "$(log_count ' sent 7 bytes: "pay 10\\n"$')" -eq 2 ] ||
        fail "the server should log both copies" "$(tail -n 20 "$SERVER_LOG")"
    [ "$(log_count '^\[::ffff:127\.0\.0\.1\]:[0-9]+: the same datagram again, copy 2: echoed again$')" -eq 1 ] ||
        fail "the second copy is not counted as one (count_copies())" \
            "$(tail -n 20 "$SERVER_LOG")"

    # Three in a row from one socket are copies 2 and 3; other bytes
    # start again at 1, and so do the same bytes from another socket.
    udp_open 127.0.0.1 "$SERVER_PORT"
    local first=$UDP_FD
    printf 'x' >&"$first"
    printf 'x' >&"$first"
    printf 'x' >&"$first"
    printf 'y' >&"$first"
    udp_open 127.0.0.1 "$SERVER_PORT"
    printf 'y' >&"$UDP_FD"
    printf 'z' >&"$UDP_FD" # the last: once it is logged, so is every line before
    wait_until 5 log_reaches 1 ' sent 1 byte: "z"$'
    udp_close "$first"
    udp_close "$UDP_FD"
    [ "$(log_count ': the same datagram again, copy 3: echoed again$')" -eq 1 ] &&
        [ "$(log_count ': the same datagram again, copy [0-9]+')" -eq 3 ] ||
        fail "expected copies 2 and 3 of \"x\" (and copy 2 of \"pay 10\"), and" \
            "no copy for \"y\" from another peer: the last datagram and its" \
            "peer must both match" "$(tail -n 20 "$SERVER_LOG")"
}

### rawudp -n: what IP_HDRINCL changes ###

# Without IP_HDRINCL (a raw UDP socket), the kernel writes its own IPv4
# header in front of ours: 20 bytes more, protocol 17, and our header
# after it as data. The receiving UDP reads our IPv4 header as its UDP
# header, so the server logs nothing. In a namespace of its own, where
# no other UDP packet comes by.
# lab: checksum
@test "rawudp -n: without IP_HDRINCL the kernel's header comes first, ours after it, and the server logs nothing" {
    needs_our_server "it reads our server's log of what came"
    new_netns
    start_netns_server
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/rawudp" -n -s 4242 127.0.0.1 "$SERVER_PORT" "forged hello"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    [[ "$output" == *"sent 40 bytes to 127.0.0.1 without IP_HDRINCL"* ]] ||
        fail "$output"
    [[ "$output" == *"arrived, 60 bytes: the kernel's IPv4 header (20 bytes, protocol 17), then all of ours:"* ]] ||
        fail "the packet did not come back 20 bytes longer: is IP_HDRINCL" \
            "really off, on a socket of protocol IPPROTO_UDP?" "$output"
    # The kernel's header says 60 bytes (0x3c); ours, 40 (0x28), follows.
    [[ "$output" =~ $'\n'"0000  45 00 00 3c " ]] && [[ "$output" =~ $'\n'"0010  7f 00 00 01 45 00 00 28 " ]] ||
        fail "expected the kernel's header (total length 60), then ours" \
            "(total length 40) at byte 20: $output"

    # A datagram sent the usual way comes after: once the server has
    # logged it, it would have logged the first too.
    run with_timeout 10 "${IN_NETNS[@]}" "${_client_wrapper[@]}" \
        "$STAGE_DIR/rawudp" -s 4343 127.0.0.1 "$SERVER_PORT" "after"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    wait_until 5 log_reaches 1 ':4343 sent 5 bytes: "after"$'
    [ "$(log_count ' sent ')" -eq 1 ] ||
        fail "without IP_HDRINCL the server must hear nothing of the first" \
            "packet" "$(tail -n 20 "$SERVER_LOG")"
}

### sniff: the packets themselves ###

need_tcpdump() {
    command -v tcpdump >/dev/null ||
        skip "tcpdump is not installed (apt-get install tcpdump)"
}

# start_sniff ARG...: sniff on the namespace's lo, in the background;
# its lines go to SNIFF_OUT, its messages to SNIFF_ERR; returns once it
# says it is listening (or fails, if it exits first).
start_sniff() {
    SNIFF_OUT=$BATS_TEST_TMPDIR/sniff.out
    SNIFF_ERR=$BATS_TEST_TMPDIR/sniff.err
    "${_pdeathsig[@]}" "${IN_NETNS[@]}" "$STAGE_DIR/sniff" "$@" \
        </dev/null >"$SNIFF_OUT" 2>"$SNIFF_ERR" 3>&- 4>&- &
    SNIFF_PID=$!
    _test_pids+=("$SNIFF_PID")
    wait_until 10 _sniff_listening_or_gone ||
        fail "sniff said nothing within $(scaled 10) s"
    grep -q '^sniff: listening on ' "$SNIFF_ERR" ||
        fail "sniff exited before listening:" "$(cat "$SNIFF_ERR")"
}

_sniff_listening_or_gone() {
    grep -q '^sniff: listening on ' "$SNIFF_ERR" || is_gone "$SNIFF_PID"
}

# sniff_marker: a UDP datagram to port 9 (discard) that sniff's filter
# lets through. Packets on lo are seen in the order they are sent, so
# once sniff has printed it, it has printed everything sent before.
sniff_marker() {
    "${IN_NETNS[@]}" bash -c 'echo end >/dev/udp/127.0.0.1/9' || true
    wait_until 5 grep -q ' > 127\.0\.0\.1\.9: UDP, length 4' "$SNIFF_OUT" ||
        fail "sniff never printed the marker datagram:" "$(cat "$SNIFF_OUT")"
}

# stop_sniff: SIGTERM, as Ctrl-C would; it must exit 0 and say how
# many packets it captured.
stop_sniff() {
    kill -TERM "$SNIFF_PID"
    wait_for_exit "$SNIFF_PID" 5
    [ "$EXIT_STATUS" -eq 0 ] ||
        fail "sniff exited $EXIT_STATUS after SIGTERM:" "$(cat "$SNIFF_ERR")"
}

# comparable: a packet line of sniff or of tcpdump -n, without what the
# two print differently: the time, TCP's seq and ack (tcpdump prints a
# SYN's in full), its options, the text of an ICMP message. What stays:
# who sent it to whom, TCP's flags, and the length.
comparable() {
    sed -E -e 's/^[0-9:.]+ //' \
        -e 's/^(IP6? [^ ]+ > [^ ]+) (Flags \[[^]]*\])?.* length ([0-9]+).*/\1 \2 length \3/'
}

@test "sniff: a TCP exchange, one line a packet; tcpdump reads the pcap, and agrees: packets, flags, lengths" {
    need_tcpdump
    new_netns
    local pcap=$BATS_TEST_TMPDIR/exchange.pcap
    start_sniff -w "$pcap" -t 30
    # boundaries connects to itself over TCP, sends "one", "two",
    # "three", and closes; then three datagrams.
    run with_timeout 10 "${IN_NETNS[@]}" "$STAGE_DIR/boundaries"
    [ "$status" -eq 0 ] || fail "boundaries: exit $status: $output"
    sniff_marker
    stop_sniff
    local lines
    lines=$(wc -l <"$SNIFF_OUT")
    grep -qx "sniff: $lines packets captured" "$SNIFF_ERR" ||
        fail "expected 'sniff: $lines packets captured':" "$(cat "$SNIFF_ERR")"

    # lo shows each packet twice, going out and coming in: one line each.
    [ "$(grep -c 'Flags \[S\]' "$SNIFF_OUT")" -eq 1 ] ||
        fail "expected one SYN (is lo's outgoing copy skipped?):" \
            "$(cat "$SNIFF_OUT")"
    grep -q 'Flags \[S\.\], seq 0, ack 1, ' "$SNIFF_OUT" ||
        fail "no SYN-ACK with relative numbers (seq 0, ack 1):" "$(cat "$SNIFF_OUT")"
    [ "$(grep -c 'Flags \[F\.\]' "$SNIFF_OUT")" -eq 2 ] ||
        fail "expected a FIN each way:" "$(cat "$SNIFF_OUT")"
    # The client's data: 11 bytes in all ("onetwothree"), from byte 1.
    local data
    data=$(awk '/Flags \[P\.\]/ { sum += $NF } END { print sum }' "$SNIFF_OUT")
    [ "$data" = 11 ] || fail "expected 11 bytes of data, saw $data:" "$(cat "$SNIFF_OUT")"
    grep -q 'Flags \[P\.\], seq 1:' "$SNIFF_OUT" ||
        fail "the first byte of data is not numbered 1:" "$(cat "$SNIFF_OUT")"
    [ "$(grep -c ': UDP, length ' "$SNIFF_OUT")" -eq 4 ] ||
        fail "expected 3 datagrams and the marker:" "$(cat "$SNIFF_OUT")"

    run --separate-stderr tcpdump -n -r "$pcap"
    [ "$status" -eq 0 ] || fail "tcpdump -r: exit $status:" "$stderr"
    [[ "$output" != *"truncated"* ]] || fail "tcpdump: $output"
    diff -u <(comparable <"$SNIFF_OUT") <(comparable <<<"$output") ||
        fail "sniff's lines (-) and tcpdump's (+) disagree"
}

@test "sniff -A shows the data; -p and -P keep only what they name" {
    new_netns
    start_sniff -A -p udp -t 30
    run with_timeout 10 "${IN_NETNS[@]}" "$STAGE_DIR/boundaries"
    [ "$status" -eq 0 ] || fail "boundaries: exit $status: $output"
    sniff_marker # all of boundaries' packets came before it
    stop_sniff
    local out
    out=$(cat "$SNIFF_OUT")
    [[ "$out" != *Flags* ]] || fail "-p udp let TCP through:" "$out"
    [ "$(grep -c ': UDP, length ' "$SNIFF_OUT")" -eq 4 ] ||
        fail "expected boundaries' 3 datagrams and the marker:" "$out"
    [[ "$out" == *'UDP, length 3: "one"'* ]] || fail "no data shown (-A):" "$out"

    start_sniff -P 9 -t 30
    run with_timeout 10 "${IN_NETNS[@]}" "$STAGE_DIR/boundaries"
    sniff_marker
    stop_sniff
    [ "$(wc -l <"$SNIFF_OUT")" -eq 1 ] ||
        fail "-P 9 let through more than the datagram to port 9:" \
            "$(cat "$SNIFF_OUT")"
}

@test "sniff stops after -c COUNT packets, and after -t SECONDS with none, exit 0" {
    new_netns
    start_sniff -c 3
    run with_timeout 10 "${IN_NETNS[@]}" "$STAGE_DIR/boundaries"
    wait_for_exit "$SNIFF_PID" 5
    [ "$EXIT_STATUS" -eq 0 ] || fail "exit $EXIT_STATUS:" "$(cat "$SNIFF_ERR")"
    [ "$(wc -l <"$SNIFF_OUT")" -eq 3 ] || fail "$(cat "$SNIFF_OUT")"
    grep -qx 'sniff: 3 packets captured' "$SNIFF_ERR" || fail "$(cat "$SNIFF_ERR")"

    run --separate-stderr with_timeout 10 "${IN_NETNS[@]}" \
        "$STAGE_DIR/sniff" -t 0.3
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ -z "$output" ] || fail "no packet, yet: $output"
    [[ "$stderr" == *"sniff: 0 packets captured" ]] || fail "$stderr"
}

@test "sniff: an unknown interface, a file it cannot write, a full disk: a clear error, exit 1" {
    new_netns
    run --separate-stderr with_timeout 10 "${IN_NETNS[@]}" \
        "$STAGE_DIR/sniff" -i nosuch0 -t 1
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ -z "$output" ] || fail "stdout: $output"
    [ "$stderr" = "sniff: no interface named 'nosuch0' (\`ip link\` lists them)" ] ||
        fail "$stderr"

    run --separate-stderr with_timeout 10 "${IN_NETNS[@]}" \
        "$STAGE_DIR/sniff" -w "$BATS_TEST_TMPDIR/no/such/dir.pcap" -t 1
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$stderr" = "sniff: $BATS_TEST_TMPDIR/no/such/dir.pcap: No such file or directory" ] ||
        fail "$stderr"

    # /dev/full takes nothing: the pcap's own header already fails.
    run --separate-stderr with_timeout 10 "${IN_NETNS[@]}" \
        "$STAGE_DIR/sniff" -w /dev/full -t 1
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ -z "$output" ] || fail "stdout: $output"
    [ "$stderr" = "sniff: writing /dev/full: No space left on device" ] ||
        fail "$stderr"
}

@test "sniff: the interface goes away: a clear error, exit 1" {
    new_netns
    "${IN_NETNS[@]}" ip link add sniff0 type veth peer name sniff1 2>/dev/null ||
        skip "no veth interfaces in this kernel"
    "${IN_NETNS[@]}" ip link set sniff0 up
    start_sniff -i sniff0 -t 30
    "${IN_NETNS[@]}" ip link del sniff0
    wait_for_exit "$SNIFF_PID" 5
    [ "$EXIT_STATUS" -eq 1 ] || fail "exit $EXIT_STATUS:" "$(cat "$SNIFF_ERR")"
    grep -qx 'sniff: recvfrom: Network is down (has the interface gone away?)' \
        "$SNIFF_ERR" || fail "$(cat "$SNIFF_ERR")"
}

@test "sniff without permission: a clear message and a hint, exit 77" {
    need_root "switching to another user"
    local sniff
    copy_for_nobody sniff
    sniff=$COPY
    # As nobody, outside any namespace of its own: no CAP_NET_RAW.
    run --separate-stderr with_timeout 10 "${AS_NOBODY[@]}" "$sniff" -t 1
    [ "$status" -eq 77 ] || fail "exit $status: $stderr"
    [ -z "$output" ] || fail "stdout: $output"
    [[ "$stderr" == "sniff: socket(AF_PACKET, SOCK_RAW): Operation not permitted"* ]] ||
        fail "$stderr"
    [[ "$stderr" == *"hint: capturing takes root or CAP_NET_RAW"*"unshare -rn"* ]] ||
        fail "$stderr"
}

@test "sniff: usage errors exit 2 with the usage line; -h exits 0" {
    local args
    for args in "-c 0" "-c x" "-t 0" "-p sctp" "-P 70000" "extra"; do
        # shellcheck disable=SC2086 # one word per option
        run --separate-stderr "$STAGE_DIR/sniff" $args
        [ "$status" -eq 2 ] || fail "sniff $args: exit $status: $stderr"
        [[ "$stderr" == *"usage: sniff "* ]] || fail "sniff $args: $stderr"
    done
    run "$STAGE_DIR/sniff" -h
    [ "$status" -eq 0 ] && [[ "$output" == "usage: sniff "* ]] || fail "$output"
}
