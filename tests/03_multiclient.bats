#!/usr/bin/env bats
# Stage 03_multiclient: many clients at once, three ways: a thread per
# client (server), a process per client (server_fork), and one thread
# watching every client (server_poll with poll(), and on Linux
# server_epoll with epoll). Every check runs against every server.
# The lesson is stage 02's limitation reversed: nobody waits for anybody.
#
# The tests are grouped by what they need, for the lab (labs/03_multiclient):
# a part of the lab is one server's lesson, and a test of a part runs
# against that server alone, tagged "# lab: PART". The lab's stubs
# serve one client at a time (thread, fork) or none (poll); the untagged
# tests, which need no two clients at once, pass with them.

load helpers
load echo_checks

STAGE_DIR="$TOP/03_multiclient"

# The servers under test. server_epoll is Linux-only (its Makefile builds
# it where <sys/epoll.h> exists); on Linux it must be there.
SERVERS=(server server_fork server_poll)
[ "$(uname -s)" != Linux ] || SERVERS+=(server_epoll)

# The servers that echo even as the lab hands them out: every test that
# needs an echo, but not two clients at once, runs against them. The lab
# cuts server_poll's echo out: its tests are its own.
ECHOING=(server server_fork)
[ "$(uname -s)" != Linux ] || ECHOING+=(server_epoll)

# A foreign server (make test SERVER=...) stands in for server alone:
# the tests of the other three are about our programs.
if foreign_server; then
    SERVERS=(server)
    ECHOING=(server)
fi

need_epoll() {
    [ "$(uname -s)" = Linux ] || skip "epoll is Linux-only"
}

# on SERVER CHECK [--nofile N]: start SERVER (with a descriptor limit if
# asked), run CHECK against it, and stop it.
on() {
    SERVER_NAME=$1
    local check=$2
    shift 2
    start_server "$@" "$STAGE_DIR/$SERVER_NAME" 0
    "$check"
    stop_process "$SERVER_PID"
}

# on_each "SERVER..." CHECK [--nofile N]: on each server in turn. The
# server's name is printed first: bats shows it when the test fails.
on_each() {
    local servers=$1 server
    shift
    for server in $servers; do
        echo "# $server"
        on "$server" "$@"
    done
}

# for_each_server CHECK [--nofile N]: on every server.
for_each_server() {
    on_each "${SERVERS[*]}" "$@"
}

# for_each_echoing CHECK [--nofile N]: on every server in ECHOING.
for_each_echoing() {
    on_each "${ECHOING[*]}" "$@"
}

# echo_once FD TEXT: send one line on a raw connection and read its echo.
echo_once() {
    local line
    printf '%s\n' "$2" >&"$1"
    read -r -t "$(scaled 5)" line <&"$1" || fail "no echo of '$2'$(stub_note)"
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
    echo_while_others_connected "$a" "from A" || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT"
    b=$TCP_FD
    # A and the idle client are still connected.
    echo_while_others_connected "$b" "from B" || return 1
    echo_once "$a" "A again"
    tcp_close "$idle"
    tcp_close "$a"
    tcp_close "$b"
}

# echo_while_others_connected FD TEXT: echo_once, with the lesson in
# its message.
echo_while_others_connected() {
    local line="" status=0
    printf '%s\n' "$2" >&"$1"
    read -r -t "$(scaled 5)" line <&"$1" || status=$?
    ((status <= 128)) || [ -z "$line" ] ||
        fail "sent '$2' and a newline; in $(scaled 5) s, only" \
            "'$line' came back, with no newline: an echo sends" \
            "back every byte, unchanged" || return 1
    ((status <= 128)) || # read -t timed out
        fail "no echo of '$2' while another client was connected:" \
            "$SERVER_NAME serves one client at a time, as stage 02 does." \
            "Serve each client apart: in a thread (server.c), a child" \
            "process (server_fork.c), or from one poll() loop" \
            "(server_poll.c)" || return 1
    ((status == 0)) ||
        fail "the server closed the connection instead of echoing" \
            "'$2'$(stub_note)" ||
        return 1
    [ "$line" = "$2" ] || fail "sent '$2', got '$line'"
}

# 100 clients connect first, all at once; then each sends its own 8 KiB
# of random bytes, and each must get back exactly its own bytes while
# all 100 are still connected. (A one-at-a-time server answers the
# first and leaves 99 waiting.) 8 KiB fits in the socket buffers, so
# sending before reading cannot block.
check_hundred_clients_at_once() {
    local i part fds=() dir=$BATS_TEST_TMPDIR
    random_file "$dir/in" $((100 * 8192))
    (cd "$dir" && split -a 3 -d -b 8192 in in.) # in.000 .. in.099
    for i in $(seq 100); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
    done
    for i in $(seq 100); do
        printf -v part %03d $((i - 1))
        cat "$dir/in.$part" >&"${fds[i - 1]}"
    done
    for i in $(seq 100); do
        with_timeout 10 head -c 8192 <&"${fds[i - 1]}" ||
            fail "client $i: no echo of its 8 KiB within 10 s, while" \
                "all 100 are connected" || return 1
    done >"$dir/out"
    # The echoes, in the clients' order, must be "in" again.
    if ! cmp -s "$dir/in" "$dir/out"; then
        for i in $(seq 100); do # which client?
            cmp -s -i $(((i - 1) * 8192)) -n 8192 "$dir/in" "$dir/out" ||
                fail "client $i got the wrong bytes back (or too few)" ||
                return 1
        done
    fi
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
# A connects, then B, who sends more than the socket buffers hold before
# reading: the server keeps part of B's echo and waits for POLLOUT. Then
# A leaves. drop_client() moves the last client (B) into A's slot, so
# code that goes on with slot i after dropping A (a return forgotten)
# works on B: its kept echo is overwritten, or freed. B must still get
# its echo whole.
check_kept_echo_survives_other_leaving() {
    local size=$((24 * 1024 * 1024)) fd_a writer
    local dir=$BATS_TEST_TMPDIR
    tcp_open 127.0.0.1 "$SERVER_PORT"
    fd_a=$TCP_FD
    echo_once "$fd_a" "A"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    random_file "$dir/in" "$size"
    # (The writer must not hold A's socket too, or A would not leave.)
    (
        exec {fd_a}>&- 3>&- 4>&-
        with_timeout 30 cat "$dir/in" >&"$TCP_FD"
    ) &
    writer=$!
    _test_pids+=("$writer")
    wait_until 10 server_is_idle || true # B's echo kept, not read yet
    tcp_close "$fd_a"
    wait_until 5 log_reaches 1 ' disconnected$' || true
    with_timeout 30 head -c "$size" <&"$TCP_FD" >"$dir/out" 2>/dev/null ||
        true
    stop_process "$writer"
    tcp_close "$TCP_FD"
    local differ
    differ=$(cmp "$dir/in" "$dir/out" 2>&1 | sed -n '1s/.*differ: //p')
    differ=${differ:+(first difference: $differ)}
    cmp -s "$dir/in" "$dir/out" ||
        fail "A left while B's echo was kept (B sends, and reads late), and" \
            "B's echo came back wrong: $(wc -c <"$dir/out") of $size bytes" \
            "${differ:-(then it stopped)}." \
            "drop_client(list, i) moves the last client (B) into slot i:" \
            "after dropping a client, return at once, and touch slot i no" \
            "more (a return forgotten after 'disconnected' goes on with B:" \
            "its kept bytes are written over, or B is dropped too)"
}

check_non_reader_delays_nobody() {
    local rss_before rss_after flood status
    rss_before=$(proc_status "$SERVER_PID" VmRSS)
    tcp_open 127.0.0.1 "$SERVER_PORT"
    flood=$TCP_FD
    status=0
    with_timeout 1 head -c $((64 * 1024 * 1024)) /dev/zero \
        >&"$flood" || status=$?
    [ "$status" -eq 124 ] ||
        fail "the server took 64 MiB from a client that never reads its" \
            "echo: it must stop reading from such a client, and keep at" \
            "most a buffer of echo for it (in a poll() server: the unsent" \
            "bytes, until POLLOUT). Does it drop what send() did not take?"

    tcp_open 127.0.0.1 "$SERVER_PORT"
    local line=""
    printf 'still served\n' >&"$TCP_FD"
    read -r -t "$(scaled 5)" line <&"$TCP_FD" ||
        fail "while one client sends and never reads, a new client gets" \
            "no echo: is $SERVER_NAME stuck sending to the first? A" \
            "poll() server must never block: send what the kernel takes," \
            "keep the rest, and wait for POLLOUT. (A server that serves" \
            "one client at a time is stuck too.)" || return 1
    tcp_close "$TCP_FD"

    # The flooding client is blocked, not reading: the server has
    # nothing to do but wait. (Under short I/O it may still be moving
    # what the buffers hold, a few bytes a call: not then.)
    if [ "${CHECK_VARIANT:-}" != shortio ]; then
        wait_until 5 server_is_idle ||
            fail "a client sends and does not read its echo, and the server" \
                "never goes quiet while it waits (last $IDLE_TICKS ticks in" \
                "0.5 s): it spins. While bytes are kept, watch for POLLOUT" \
                "alone, not POLLIN | POLLOUT: the client's unread bytes make" \
                "POLLIN true at once, again and again, and nothing can be" \
                "done with them" || return 1
    fi

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

# check_kept_echo_reset_logged: a client sends and never reads, so the
# server keeps the echo the kernel would not take, and waits for
# POLLOUT. Then the client closes with its echo unread: a reset. The
# server's next send() of what it kept fails; it logs that, drops the
# client, and serves the next.
check_kept_echo_reset_logged() {
    local flood before status=0
    tcp_open 127.0.0.1 "$SERVER_PORT"
    flood=$TCP_FD
    with_timeout 1 head -c $((64 * 1024 * 1024)) /dev/zero >&"$flood" ||
        status=$?
    [ "$status" -eq 124 ] ||
        fail "the server took 64 MiB from a client that never reads" || return 1
    before=$(log_count ' error: send: ')
    tcp_close "$flood"
    wait_until 5 log_reaches $((before + 1)) ' error: send: ' ||
        fail "a client whose echo the server kept (it was not reading) reset" \
            "its connection, and the server logged no 'PEER error: send:'" \
            "line. When sending what was kept fails, log it, then drop the" \
            "client" || return 1
    wait_until 5 server_is_idle ||
        fail "after that failed send, the server keeps working (last" \
            "$IDLE_TICKS ticks in 0.5 s): is the client dropped" \
            "(drop_client()) once its send fails? poll() reports a broken" \
            "connection again and again while it is watched" || return 1
    # A reset while the server waits to read: its recv() fails.
    before=$(log_count ' error: (recv|send): ')
    reset_connection
    wait_until 5 log_reaches $((before + 1)) ' error: (recv|send): ' ||
        fail "a client reset its connection, and the server logged no" \
            "'PEER error: recv: ...' line: log a failed recv(), then drop" \
            "the client" || return 1
    wait_until 5 server_is_idle ||
        fail "after a reset the server keeps working (last $IDLE_TICKS" \
            "ticks in 0.5 s): is the client dropped when its recv() fails?" ||
        return 1
    tcp_open 127.0.0.1 "$SERVER_PORT" && echo_once "$TCP_FD" "next client" ||
        fail "after that reset the server no longer echoes"
}

# The poll server under the short-I/O shim (tests/shortio.so): each of
# its recv() and send() calls moves 1 to 16 KiB, at random, so nearly
# every echo is sent in parts, and so is the rest it keeps for POLLOUT.
# (On loopback alone the rest almost always goes whole: POLLOUT comes
# when a third of a socket buffer of megabytes is free.) A client sends
# 4 MiB and reads nothing until the server has gone quiet; then it reads
# everything. Every third recv() or send() fails with EAGAIN besides, as
# when a buffer is full, or a "ready" came to nothing: "try later", not
# an error, and no byte was moved. The client must get back exactly
# what it sent, and the server must have freed the kept bytes once
# sent: hundreds come and go.
check_late_reader_short_sends() {
    local size=$((4 * 1024 * 1024)) writer rss_before rss_after
    local dir=$BATS_TEST_TMPDIR
    _need_shortio
    local _server_wrapper=(env LD_PRELOAD="$SHORTIO_LIB"
        SHORTIO_MAX_BYTES=16384 SHORTIO_EAGAIN_EVERY=3)
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    random_file "$dir/in" "$size"
    rss_before=$(proc_status "$SERVER_PID" VmRSS)
    tcp_open 127.0.0.1 "$SERVER_PORT"
    with_timeout 30 cat "$dir/in" >&"$TCP_FD" 3>&- 4>&- &
    writer=$!
    _test_pids+=("$writer")
    wait_until 10 server_is_idle || true # not reading yet
    with_timeout 30 head -c "$size" <&"$TCP_FD" >"$dir/out" || true
    stop_process "$writer"
    same_echo_after_partial_sends "$dir/in" "$dir/out" || return 1
    rss_after=$(proc_status "$SERVER_PID" VmRSS)
    tcp_close "$TCP_FD"
    # (ASan keeps freed memory back for a while, to catch its use: its
    # own leak check stands in for this one there.)
    [ "${CHECK_VARIANT:-}" = asan ] || ((rss_after - rss_before < 512)) ||
        fail "the server's RSS grew from $rss_before kB to $rss_after kB" \
            "over one client's 4 MiB, all of its echo taken (a correct" \
            "server: some 40 kB). Are the kept bytes (unsent) freed once" \
            "they are all sent? Set unsent to NULL only after free()"
}

# same_echo_after_partial_sends IN OUT: OUT must be IN, byte for byte;
# else say where they part, and the likely mistake.
same_echo_after_partial_sends() {
    local differ got
    cmp -s "$1" "$2" && return 0
    got=$(wc -c <"$2")
    if grep -q ' error: recv: Resource temporarily unavailable' "$SERVER_LOG"; then
        fail "the server dropped the client after $got of $(wc -c <"$1")" \
            "bytes, logging 'error: recv: Resource temporarily" \
            "unavailable': EAGAIN from recv() on a non-blocking socket means" \
            "'nothing there now', not an error. Return, and wait for the" \
            "next POLLIN" || return 1
    fi
    if ((got < $(wc -c <"$1"))) && cmp -s -n "$got" "$1" "$2"; then
        fail "kept bytes never sent: ask for POLLOUT after EAGAIN. Only the" \
            "first $got of $(wc -c <"$1") bytes came back, all of them right;" \
            "the rest stayed kept. When send() takes nothing (EAGAIN) or part" \
            "of the echo, watch the client for POLLOUT (events = POLLOUT):" \
            "a client waiting for its echo sends nothing more, so POLLIN" \
            "never comes" || return 1
    fi
    differ=$(cmp "$1" "$2" 2>&1 | sed -n '1s/.*differ: //p')
    fail "the echo is not what was sent ($(wc -c <"$2") of $(wc -c <"$1")" \
        "bytes came back, first difference: ${differ:-none}). After a" \
        "partial send() of the kept bytes, keep only what is still" \
        "unsent: move it to the front (memmove) or keep an offset. Sending" \
        "the kept bytes again from their start repeats their head and" \
        "loses their tail"
}

# The late reader again, with the poll server built with
# AddressSanitizer (in a copy of the stage), the shim in front of it:
# a kept echo moved with its old length (memmove of unsent_len bytes,
# not unsent_len - n) reads past its buffer, and still echoes the right
# bytes, so only ASan sees it. (make check-asan sees it too, but a
# student's make grade runs this alone.)
check_kept_echo_in_bounds() {
    local size=$((256 * 1024)) writer cc=${CC:-cc}
    local dir=$BATS_TEST_TMPDIR asan=$BATS_TEST_TMPDIR/asan
    _need_shortio
    echo 'int main(void) { return 0; }' >"$dir/probe.c"
    "$cc" -fsanitize=address "$dir/probe.c" -o "$dir/probe" 2>/dev/null &&
        "$dir/probe" 2>/dev/null ||
        skip "$cc cannot build and run a program with -fsanitize=address here"
    mkdir "$asan" && cp "$STAGE_DIR"/*.[ch] "$STAGE_DIR/Makefile" "$asan/" &&
        make -s -C "$asan" server_poll CC="$cc" \
            CFLAGS="-O1 -g -fsanitize=address -fno-omit-frame-pointer" \
            LDFLAGS=-fsanitize=address >/dev/null ||
        fail "server_poll does not build with -fsanitize=address" || return 1
    local _server_wrapper=(env LD_PRELOAD="$SHORTIO_LIB"
        SHORTIO_MAX_BYTES=16384 SHORTIO_EAGAIN_EVERY=3
        ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0)
    start_server "$asan/server_poll" 0
    random_file "$dir/in" "$size"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    with_timeout 30 cat "$dir/in" >&"$TCP_FD" 3>&- 4>&- &
    writer=$!
    _test_pids+=("$writer")
    wait_until 10 server_is_idle 2>/dev/null || true # not reading yet
    with_timeout 30 head -c "$size" <&"$TCP_FD" >"$dir/out" 2>/dev/null || true
    stop_process "$writer"
    tcp_close "$TCP_FD"
    if grep -q 'ERROR: AddressSanitizer' "$SERVER_LOG"; then
        fail "AddressSanitizer stopped server_poll while it sent kept" \
            "bytes under short sends: $(grep -m 1 'ERROR: AddressSanitizer' \
                "$SERVER_LOG" | sed 's/^==[0-9]*==//; s/ on address.*//')," \
            "at $(grep -m 1 -o 'in [a-z_]* [^ ]*server_poll\.c:[0-9]*' \
                "$SERVER_LOG" | sed 's|in \([a-z_]*\) .*/|\1(), |')." \
            "After send() takes n of the kept bytes, unsent_len - n are left:" \
            "move only those to the front (memmove(unsent, unsent + n," \
            "unsent_len - n)), never read or write past the unsent_len" \
            "bytes kept" || return 1
    fi
    same_echo_after_partial_sends "$dir/in" "$dir/out"
}

# The poll server under the short-I/O shim, every second call on a
# non-blocking socket failing with EAGAIN: for each line the client
# sends, recv() takes it whole and the first send() of its echo fails
# with EAGAIN, so all of the echo is kept. The client then waits for
# its echo and sends nothing: only POLLOUT can wake the server to send
# what it kept. (Unlike the late reader above, this leaves nothing to
# chance: the EAGAIN comes at the same call in every run.)
check_send_eagain_then_pollout() {
    local i line status
    _need_shortio
    local _server_wrapper=(env LD_PRELOAD="$SHORTIO_LIB"
        SHORTIO_MAX_BYTES=16384 SHORTIO_EAGAIN_EVERY=2 SHORTIO_EINTR_EVERY=0)
    start_server "$STAGE_DIR/$SERVER_NAME" 0
    tcp_open 127.0.0.1 "$SERVER_PORT"
    for i in 1 2 3; do
        printf 'line %s\n' "$i" >&"$TCP_FD"
        status=0
        read -r -t "$(scaled 3)" line <&"$TCP_FD" || status=$?
        ((status <= 128)) ||
            fail "kept bytes never sent: ask for POLLOUT after EAGAIN. The" \
                "server's send() of the echo of 'line $i' failed with EAGAIN" \
                "(the shim: 'buffer full, try later'), so it kept all of it;" \
                "the client, waiting for its echo, sends nothing more, and in" \
                "$(scaled 3) s the echo never came. Whenever bytes are kept" \
                "(nothing sent, or part), watch the client for POLLOUT" \
                "(events = POLLOUT), not POLLIN$(stub_note)" || return 1
        ((status == 0)) ||
            fail "the server closed the connection instead of echoing" \
                "'line $i'. Under the shim its recv() and send() fail with" \
                "EAGAIN now and then: that is 'try later', not an error." \
                "After recv()'s, wait for POLLIN; after send()'s, keep the" \
                "echo and wait for POLLOUT$(_logged_note ' error: ')" ||
                return 1
        [ "$line" = "line $i" ] || fail "sent 'line $i', got '$line'" ||
            return 1
    done
    tcp_close "$TCP_FD"
}

# A and B connect; A leaves while B stays. The log must name A, by the
# address and port it logged when A connected: drop_client() moves the
# last client into A's slot, so a line written from that slot after
# drop_client() names B.
check_disconnect_names_its_peer() {
    local a b peer said
    tcp_open 127.0.0.1 "$SERVER_PORT"
    a=$TCP_FD
    echo_once "$a" "from A"
    peer=$(grep ' connected$' "$SERVER_LOG" | tail -n 1)
    peer=${peer% connected}
    [ -n "$peer" ] || fail "A connected, and the log has no 'PEER connected'" ||
        return 1
    tcp_open 127.0.0.1 "$SERVER_PORT"
    b=$TCP_FD
    echo_once "$b" "from B"
    tcp_close "$a"
    wait_until 5 log_reaches 1 ' disconnected$' ||
        fail "A ($peer) left, and the server logged no 'PEER" \
            "disconnected' line" || return 1
    if ! grep -Fxq "$peer disconnected" "$SERVER_LOG"; then
        said=$(grep -m 1 ' disconnected$' "$SERVER_LOG")
        fail "A ($peer) left while B stayed, and the log says '$said'," \
            "not '$peer disconnected'. Log the client's end before" \
            "drop_client(list, i): it moves another client into slot i," \
            "so c->peer afterwards is that client's" || return 1
    fi
    echo_once "$b" "B stays"
    tcp_close "$b"
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
# descriptors, threads and children it held before, and not much more
# memory. (A thread that ends without being detached or joined leaves
# its stack mapped, 8 MiB each: 1.6 GB after 200 clients. A detached
# thread's stack is reused; malloc's arenas and the stack cache make
# ~100 MiB of address space.)
check_resources_back_to_baseline() {
    local fds threads vm_before vm_after i
    fds=$(fd_count "$SERVER_PID")
    threads=$(proc_status "$SERVER_PID" Threads)
    vm_before=$(proc_status "$SERVER_PID" VmSize)
    for i in $(seq 200); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        echo_once "$TCP_FD" "connection $i"
        tcp_close "$TCP_FD"
    done
    wait_until 10 log_reaches 200 ' disconnected$' ||
        fail "$(log_count ' disconnected$') of 200 disconnections logged"
    wait_until 5 server_fds_at_most "$fds" ||
        fail "the server keeps a file descriptor for every client:" \
            "$(fd_count "$SERVER_PID") open now, $fds before. Close each" \
            "client's socket once it is served (server_fork: the parent" \
            "closes its copy as soon as the child has it)"
    # (Under ThreadSanitizer, make check-tsan, the runtime adds a thread
    # of its own at the first pthread_create(): SERVER_RUNTIME_THREADS.)
    threads=$((threads + ${SERVER_RUNTIME_THREADS:-0}))
    wait_until 5 server_threads_at_most "$threads" ||
        fail "threads: $(proc_status "$SERVER_PID" Threads) now, $threads expected"
    vm_after=$(proc_status "$SERVER_PID" VmSize)
    (((vm_after - vm_before) / 1024 < 512)) ||
        fail "the server's memory (VmSize) grew by" \
            "$(((vm_after - vm_before) / 1024)) MiB over 200 connections:" \
            "something of every client stays behind (in the thread" \
            "server, its thread's stack)." \
            "A thread that nobody joins must be detached" \
            "(PTHREAD_CREATE_DETACHED, or pthread_detach()): else it" \
            "keeps its stack until pthread_join()"
    wait_until 5 server_has_no_children || fail_children_left
}

# The thread server: a thread of its own serves a connected client; and
# 200 clients later, nothing of theirs is left.
check_thread_serves_then_baseline() {
    local threads
    threads=$(proc_status "$SERVER_PID" Threads)
    tcp_open 127.0.0.1 "$SERVER_PORT"
    echo_once "$TCP_FD" "served by a thread?"
    if server_threads_at_most "$threads"; then
        fail "no thread serves the client: $threads thread(s) while it is" \
            "connected, as before. Start one for each client" \
            "(pthread_create) and go back to accept()" || return 1
    fi
    tcp_close "$TCP_FD"
    check_resources_back_to_baseline
}

# start_failing CALL SERVER: start SERVER with tests/failonce.so, which
# makes its first CALL (pthread_create or fork) fail with EAGAIN, as
# when the system is out of threads or processes. Sets FDS_BEFORE to
# the descriptors the server holds before any client.
start_failing() {
    local shim="$TOP/tests/failonce.so"
    [ -f "$shim" ] ||
        fail "tests/failonce.so is not built: make test builds it," \
            "or make tests/failonce.so" || return 1
    SERVER_NAME=$2
    start_server "$(command -v env)" FAILONCE="$1" LD_PRELOAD="$shim" \
        "$STAGE_DIR/$2" 0 || return 1
    FDS_BEFORE=$(fd_count "$SERVER_PID")
}

# failed_client_is_closed CALL: the client whose CALL failed must see
# its connection end (its socket closed), and the next client must be
# served; then the server holds the descriptors it held before.
failed_client_is_closed() {
    local line status=0
    read -r -t "$(scaled 5)" line <&"$TCP_FD" || status=$?
    ((status == 1)) ||
        fail "$1() failed, and its client's connection stays open:" \
            "close the client's socket on that path too" || return 1
    tcp_close "$TCP_FD"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    echo_once "$TCP_FD" "the next client"
    tcp_close "$TCP_FD"
    wait_until 5 server_fds_at_most "$FDS_BEFORE" ||
        fail "the server holds $(fd_count "$SERVER_PID") descriptors, not" \
            "$FDS_BEFORE as before: is the failed client's socket closed?"
}

# pthread_create() fails for one client: the server logs it with the
# error pthread_create() returned, closes that client's socket (main()
# does, when start_client_thread() returns -1), frees the struct it
# meant for the thread, and serves the next client.
check_thread_create_failure() {
    local peer
    start_failing pthread_create server || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT" # the client whose thread fails
    wait_until 5 log_reaches 1 '^failonce: pthread_create' ||
        fail "the server called no pthread_create() for its client: start" \
            "a thread for each client" || return 1
    wait_until 5 log_reaches 1 ' error: pthread_create: ' ||
        fail "pthread_create() failed with EAGAIN, and the server did not" \
            "log it. pthread functions return the error number (> 0), not" \
            "-1, and leave errno alone: check for != 0, and log" \
            "'PEER error: pthread_create: ' strerror(err)" || return 1
    log_reaches 1 ' error: pthread_create: Resource temporarily unavailable' ||
        fail "pthread_create() failed with EAGAIN, and the log says" \
            "'$(grep -m 1 ' error: pthread_create: ' "$SERVER_LOG")':" \
            "pthread functions return the error number and leave errno" \
            "alone: strerror(err), not strerror(errno)" || return 1
    peer=$(grep -m 1 ' connected$' "$SERVER_LOG")
    peer=${peer% connected}
    grep -Fxq "$peer error: pthread_create: Resource temporarily unavailable" \
        "$SERVER_LOG" ||
        fail "pthread_create() failed for the client $peer, and the log" \
            "line is '$(grep -m 1 ' error: pthread_create: ' "$SERVER_LOG")'," \
            "not '$peer error: pthread_create: Resource temporarily" \
            "unavailable'. Is the peer read from the struct after free()?" \
            "Log first, then free(client) (or log the peer main() gave)" ||
        return 1
    ! log_reaches 1 '^failonce: pthread_detach' ||
        fail "pthread_create() failed, and the server called" \
            "pthread_detach() on the ID it did not get: no thread started," \
            "so tid holds garbage. Check pthread_create()'s result first," \
            "and detach only a thread that started (or create it" \
            "detached, with attributes)" || return 1
    ! log_reaches 1 '^failonce: pthread_create.. got attributes' ||
        fail "pthread_create() got a pthread_attr_t that" \
            "pthread_attr_init() never set up: call pthread_attr_init(&attr)" \
            "before pthread_attr_setdetachstate(), and" \
            "pthread_attr_destroy(&attr) once the thread is created" ||
        return 1
    failed_client_is_closed pthread_create || return 1
    ! log_reaches 1 '^failonce: close.. of a descriptor not open' ||
        fail "pthread_create() failed, and the client's socket was closed" \
            "twice (the second close() failed with EBADF): main() closes" \
            "it when start_client_thread() returns -1, so that function" \
            "must not close it too. (A second close() may close a" \
            "descriptor another thread has just opened)" || return 1
    wait_until 5 log_reaches 1 '^failonce: the failed thread.s argument is freed' ||
        fail "pthread_create() failed, and the struct client meant for" \
            "the thread was never freed: no thread will free it now;" \
            "free(client) before returning -1"
}

# fork() fails for one client: the parent logs it, closes its socket
# (no child has a copy), and serves the next client.
check_fork_failure() {
    start_failing fork server_fork || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT" # the client whose child fails
    wait_until 5 log_reaches 1 '^failonce: fork' ||
        fail "the server called no fork() for its client: fork a child" \
            "for each client" || return 1
    wait_until 5 log_reaches 1 ' error: fork: Resource temporarily unavailable' ||
        fail "fork() failed with EAGAIN, and the server did not log" \
            "'PEER error: fork: ' strerror(errno)" || return 1
    failed_client_is_closed fork || return 1
    # The next client's child has ended (a zombie, or reaped): how?
    wait_until 5 children_all_ended || true
    ! log_reaches 1 '^failonce: a child process ended with exit()' ||
        fail "a child of server_fork ended with exit(), not _exit():" \
            "exit() runs the atexit() handlers the child copied from the" \
            "parent (failonce.so's said so), and flushes the stdio buffers" \
            "it copied, printing their contents a second time. End the" \
            "child with _exit(0) (see become_child())"
}

# Every child of the server has exited: none, or all zombies.
children_all_ended() {
    local children
    children=$(child_pids "$SERVER_PID" | wc -w)
    [ "$(zombie_count "$SERVER_PID")" -eq "$children" ]
}

# A fork server's children are left: say how many are zombies, and why.
fail_children_left() {
    local zombies note
    zombies=$(zombie_count "$SERVER_PID")
    note=$(_sigchld_note "$(proc_status "$SERVER_PID" SigCgt)")
    if ((zombies > 0)) && [[ $note == ". The parent does not catch"* ]]; then
        fail "$zombies zombies: children that exited and were never" \
            "reaped$note"
    elif ((zombies > 0)); then
        fail "$zombies zombies: children that exited and were never" \
            "reaped. The parent must collect each one with waitpid():" \
            "on SIGCHLD, in a loop with WNOHANG, since one signal may" \
            "stand for several exits (they do not queue)"
    else
        fail "children still running: $(child_pids "$SERVER_PID")"
    fi
}

# The conditions check_resources_back_to_baseline waits for. wait_until
# runs a command again and again; a "$(...)" among its arguments would
# be counted once, before the first try.
# (At most: fewer is no leak, and the count before has been seen to
# catch a descriptor open for a moment, 7 before and 6 after, on a
# loaded machine.)
server_fds_at_most() {
    [ "$(fd_count "$SERVER_PID")" -le "$1" ]
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
    server_survived "clients reset their connections or were killed"
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
        wait_until 5 is_gone "$i" || fail_child_outlived "$i" || return 1
    done
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
}

# fail_child_outlived PID: a child outlived the server. Why, from its
# blocked signals (/proc/PID/status SigBlk): SIGTERM (15, bit 14)
# blocked still, or else (a child with its own handlers, which SIGTERM
# ends) most likely never sent one.
fail_child_outlived() {
    local blocked
    blocked=$((16#$(proc_status "$1" SigBlk 2>/dev/null || echo 0)))
    if (((blocked >> 14) & 1)); then
        fail "child $1 outlived the server, which sends each child SIGTERM" \
            "as it stops: the child blocks SIGTERM still (the parent's" \
            "mask, copied by fork()). The child must call become_child()," \
            "which unblocks it, first thing"
    else
        fail "child $1 outlived the server, which sends each child SIGTERM" \
            "as it stops, to the PIDs in its table of children. The child" \
            "does not block SIGTERM: was it sent one? Does start_child()" \
            "return the child's PID (fork()'s result) to the parent, so that" \
            "main() records it? (Else: does the child run a handler that" \
            "does not end it? It must call become_child() first thing)"
    fi
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
    sleep 1
    after=$(cpu_ticks "$SERVER_PID")
    ((after - before < 50)) ||
        fail "the server used $((after - before)) CPU ticks in 1 s idle"
    is_running "$SERVER_PID" || fail "the server died"

    for i in $(seq 0 9); do
        tcp_close "${fds[i]}"
    done
    echo_once "${fds[19]}" "the last client is served"
    for i in $(seq 10 19); do
        tcp_close "${fds[i]}"
    done
}

# The thread server counts the clients it serves, in a variable every
# client's thread changes. With 10 clients connected the log says
# "clients now: 10"; when they have all left, "clients now: 0".
check_clients_now() {
    local fds=() i
    for i in $(seq 10); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
        echo_once "$TCP_FD" "client $i"
    done
    wait_until 5 log_reaches 1 '^clients now: 10$' ||
        fail "10 clients are connected, and no 'clients now: 10' in the" \
            "log: count_clients() must add its change to clients_now and" \
            "log the new count"
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
    wait_until 5 last_count_is 0 ||
        fail "every client has left, and the last count logged is" \
            "'$(grep '^clients now: ' "$SERVER_LOG" | tail -n 1)'"
}

# A bounded racer: 4 shells each open and close 500 connections, five
# at a time, as fast as they can, so that client threads start and end
# on both cores at once. Every change of the count is 1, so each
# "clients now: N" line must differ from the one before by exactly 1,
# and the last must be 0. A thread that copies the count, unlocks, and
# only then logs may log after a later thread: on this machine (2 cores)
# dozens of the 4,000 lines come out of order, in every run.
check_count_lines_in_order() {
    local bad lines last first
    with_timeout 30 bash -c "$RACER" racer "$SERVER_PORT" 4 500 ||
        fail "the racer's 2,000 connections did not end within 30 s" ||
        return 1
    wait_until 10 log_reaches 4000 '^clients now: ' ||
        fail "2,000 clients came and went, and the log has" \
            "$(log_count '^clients now: ') 'clients now: N' lines, not" \
            "4,000: count_clients() must log one for each change" ||
        return 1
    bad=$(grep -E 'clients now: ' "$SERVER_LOG" |
        grep -Evm 1 '^clients now: -?[0-9]+$') || true
    [ -z "$bad" ] ||
        fail "a 'clients now: N' line came in pieces, with another thread's" \
            "log between them: '$bad'. The line must be written by one call" \
            "(one fprintf() of the whole line, newline included): stderr is" \
            "locked for one call at a time, so other threads' lines get in" \
            "between two calls, lock or no lock" || return 1
    bad=$(grep '^clients now: ' "$SERVER_LOG" | awk '
        { n = $3 }
        NR > 1 && n - last != 1 && last - n != 1 {
            if (!first) first = sprintf("line %d: %d after %d", NR, n, last)
            bad++
        }
        { last = n }
        END { if (bad || last != 0) printf "%d %d %s", bad, last, first }')
    [ -z "$bad" ] && return 0
    read -r lines last first <<<"$bad"
    fail "2,000 clients came and went at once; of the 4,000 'clients now'" \
        "lines, $lines do not differ from the one before by 1, and the" \
        "last says $last (first: ${first:-none}). Log the new count while" \
        "you hold clients_lock: a thread that copies the count, unlocks," \
        "and then logs may log after a later thread"
}

# The racer: bash -c "$RACER" racer PORT SHELLS N. SHELLS shells each
# open N connections (5 at a time, then close those 5). A shell of its
# own: in bats' shell every command runs bats' debug trap, 20 times
# slower, and the threads would seldom overlap.
RACER='
race() {
    local n fd fds i
    for ((n = $2; n > 0; n -= 5)); do
        fds=()
        for i in 1 2 3 4 5; do
            { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null &&
                fds+=("$fd")
        done
        for fd in "${fds[@]}"; do
            exec {fd}>&-
        done
    done
}
for ((s = 0; s < $2; s++)); do
    race "$1" "$3" &
done
wait'

last_count_is() {
    [ "$(grep '^clients now: ' "$SERVER_LOG" | tail -n 1)" = "clients now: $1" ]
}

# ThreadSanitizer watches every memory access of a program built with
# it, and reports two threads touching the same variable with no lock
# between them, even when no change was lost this time. Builds the
# thread server with it, in a copy of the stage.
build_tsan_server() {
    local cc=${CC:-cc} dir=$BATS_TEST_TMPDIR/tsan
    echo 'int main(void) { return 0; }' >"$BATS_TEST_TMPDIR/probe.c"
    "$cc" -fsanitize=thread "$BATS_TEST_TMPDIR/probe.c" \
        -o "$BATS_TEST_TMPDIR/probe" 2>/dev/null ||
        skip "$cc cannot build with -fsanitize=thread here"
    TSAN_WRAPPER=()
    if ! "$BATS_TEST_TMPDIR/probe" 2>/dev/null; then
        # Its runtime may need address randomization off (check/run).
        TSAN_WRAPPER=(setarch "$(uname -m)" -R)
        "${TSAN_WRAPPER[@]}" "$BATS_TEST_TMPDIR/probe" 2>/dev/null ||
            skip "a program built with ThreadSanitizer cannot start here"
    fi
    mkdir "$dir" && cp "$STAGE_DIR"/*.[ch] "$STAGE_DIR/Makefile" "$dir/" &&
        make -s -C "$dir" server CC="$cc" CFLAGS="-O1 -g -fsanitize=thread" \
            LDFLAGS=-fsanitize=thread >/dev/null ||
        fail "the thread server does not build with -fsanitize=thread"
}

check_no_data_race() {
    local fds=() i
    for i in $(seq 8); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
    done
    for i in "${fds[@]}"; do
        echo_once "$i" "hello from $i"
    done
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
    wait_until 10 last_count_is 0 || true
    if grep -q 'ThreadSanitizer: data race' "$SERVER_LOG"; then
        fail "ThreadSanitizer saw a data race: two client threads used a" \
            "shared variable with no lock between them. Take the mutex" \
            "around every use of clients_now in count_clients(). Its" \
            "report: $(grep -A 6 'WARNING: ThreadSanitizer' "$SERVER_LOG" |
                head -n 12)"
    fi
}

# A child of server_fork serves its client with the client's socket
# alone: it closes its copy of the listener (it never accepts), and the
# parent closes its copy of the client's socket.
# Two clients, A then B, each served by a child; B's child gets SIGTERM
# (as from `kill`, or the parent stopping): it must end alone. A child
# that kept the parent's handlers (become_child() not called: only the
# signals unblocked) runs stop_children_and_exit() on SIGTERM, and
# signals every PID in its copy of the table of children: A's child.
check_child_sigterm_ends_it_alone() {
    local fd_a child_a child_b c line
    tcp_open 127.0.0.1 "$SERVER_PORT"
    fd_a=$TCP_FD
    echo_once "$fd_a" "A"
    read -r child_a _ <<<"$(child_pids "$SERVER_PID")"
    [ -n "$child_a" ] ||
        fail "no child process serves the client: call fork() for each" \
            "client, and serve it in the child" || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT"
    echo_once "$TCP_FD" "B"
    for c in $(child_pids "$SERVER_PID"); do
        [ "$c" = "$child_a" ] || child_b=$c
    done
    [ -n "${child_b:-}" ] ||
        fail "no second child serves the second client" || return 1
    kill -TERM "$child_b"
    wait_until 5 is_gone "$child_b" ||
        fail "B's child ($child_b) still runs after SIGTERM: in the" \
            "child, call become_child() first, which puts back the" \
            "default handlers and lets signals in" || return 1
    printf 'A again\n' >&"$fd_a"
    read -r -t "$(scaled 5)" line <&"$fd_a" || true
    [ "$line" = "A again" ] ||
        fail "SIGTERM to B's child ($child_b) ended A's child ($child_a)" \
            "too: A got no echo. B's child kept the parent's SIGTERM" \
            "handler, which signals every PID in its copy of the table of" \
            "children, A's among them. In the child, call become_child()" \
            "first: the parent's handlers are not for it" || return 1
    tcp_close "$TCP_FD"
    tcp_close "$fd_a"
}

check_child_holds_only_its_client() {
    local listener child sockets
    listener=$(socket_inodes "$SERVER_PID")
    tcp_open 127.0.0.1 "$SERVER_PORT"
    echo_once "$TCP_FD" "served by a child?"
    read -r child _ <<<"$(child_pids "$SERVER_PID")"
    [ -n "$child" ] ||
        fail "no child process serves the client: call fork() for each" \
            "client, and serve it in the child" || return 1
    sockets=$(socket_inodes "$child")
    [[ " $sockets " != *" $listener "* ]] ||
        fail "the child holds the listening socket too: close listen_fd" \
            "in the child (it never accepts), or the port stays taken for" \
            "as long as any child lives"
    [ "$(wc -w <<<"$sockets")" -eq 1 ] ||
        fail "the child holds $(wc -w <<<"$sockets") sockets; its" \
            "client's is all it needs"
    [ "$(socket_inodes "$SERVER_PID")" = "$listener" ] ||
        fail "the parent holds its copy of the client's socket: close" \
            "client_fd in the parent once fork() has given the child its own"
    tcp_close "$TCP_FD"
    # Its client gone, the child ends: it must not return from
    # start_child() into main()'s loop, and accept() as a second server.
    wait_until 5 is_gone "$child" ||
        fail "child $child still runs after its client left" || return 1
    ! grep -q ': accept: ' "$SERVER_LOG" ||
        fail "once its client left, the child went back to accept() (the" \
            "log: '$(grep -m 1 ': accept: ' "$SERVER_LOG")'):" \
            "the child must _exit() after serving its client. Returning" \
            "from start_child() takes it into main()'s accept loop"
}

# socket_inodes PID: the inode numbers of the sockets PID has open.
socket_inodes() {
    local fd target inodes=()
    for fd in /proc/"$1"/fd/*; do
        target=$(readlink "$fd") || continue
        [[ $target == socket:* ]] || continue
        target=${target#socket:[}
        inodes+=("${target%]}")
    done
    echo "${inodes[*]}"
}

# Each client is served by a child, and each child, once its client has
# left, is reaped: none is left a zombie. First one client after another;
# then 20 at once that leave together, so that their children exit at
# nearly the same time: signals do not queue, and one SIGCHLD may stand
# for several exits. Last, for certain: 50 children exit while the
# parent is stopped (SIGSTOP), so it gets one SIGCHLD for all 50.
check_children_reaped() {
    local i fds=()
    for i in $(seq 20); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        echo_once "$TCP_FD" "client $i"
        [ -n "$(child_pids "$SERVER_PID")" ] ||
            fail "no child process serves the client: call fork() for" \
                "each client (part 3, before reaping can be tested)" ||
            return 1
        tcp_close "$TCP_FD"
    done
    wait_until 5 server_has_no_children || fail_children_left || return 1
    for i in $(seq 20); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
        echo_once "$TCP_FD" "together $i"
    done
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
    wait_until 5 server_has_no_children || fail_children_left || return 1
    check_one_sigchld_for 50
}

server_zombies_are() {
    [ "$(zombie_count "$SERVER_PID")" -eq "$1" ]
}

# The SIGCHLD handler runs between any two instructions of main(), and
# may interrupt a printf() of main()'s own: a stdio call inside it may
# then deadlock on the stream's lock, or mix the two lines' bytes. It
# rarely shows; failonce.so (FAILONCE=none: it makes nothing fail) runs
# each of the server's handlers from a handler of its own, and says so
# when one calls a stdio function.
check_reap_handler_no_stdio() {
    local i
    start_failing none server_fork || return 1
    for i in 1 2 3; do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        echo_once "$TCP_FD" "client $i"
        tcp_close "$TCP_FD"
    done
    wait_until 5 server_has_no_children || fail_children_left || return 1
    local said
    said=$(grep -m 1 '^failonce: .* called in a signal handler' "$SERVER_LOG") || true
    [ -z "$said" ] ||
        fail "${said#failonce: }: the SIGCHLD handler (on_child_exit())" \
            "may call only async-signal-safe functions (man 7" \
            "signal-safety): waitpid() and forget_child() are; printf()," \
            "fprintf() and perror() are not. Log an exit from main(), or" \
            "not at all"
}

# check_one_sigchld_for N: N children exit while the parent is stopped
# (SIGSTOP), so it gets one SIGCHLD for all N. 50: more than any
# handful a bounded loop would reap per signal.
check_one_sigchld_for() {
    local i fds=() left n=$1
    for i in $(seq "$n"); do
        tcp_open 127.0.0.1 "$SERVER_PORT"
        fds+=("$TCP_FD")
        echo_once "$TCP_FD" "stopped $i"
    done
    stop_now "$SERVER_PID"
    for i in "${fds[@]}"; do
        tcp_close "$i"
    done
    left=0
    wait_until 5 server_zombies_are "$n" || left=1
    kill -CONT "$SERVER_PID" # (a stopped server would not stop at SIGTERM)
    ((left == 0)) || fail "$n clients left while the server was stopped, and" \
        "their children did not all exit: $(child_pids "$SERVER_PID")" || return 1
    wait_until 5 server_has_no_children && return 0
    fail "$n children exited while the server was stopped (SIGSTOP), so it" \
        "got one SIGCHLD for the $n (signals do not queue); then" \
        "$(zombie_count "$SERVER_PID") zombies were left. Does" \
        "on_child_exit() reap just one child per signal, or a bounded" \
        "number? Reap in a loop until waitpid(-1, NULL, WNOHANG) returns" \
        "0 or -1, however many that takes"
}

# Reaping must not wait for a child still running: A stays, B leaves
# (its child is reaped), and then C must be served while A is still
# there. A SIGCHLD handler whose waitpid() blocks (no WNOHANG) waits in
# the parent for A's child, and accepts nobody until A leaves.
check_reaping_waits_for_nobody() {
    local a b wchan line=""
    tcp_open 127.0.0.1 "$SERVER_PORT"
    a=$TCP_FD
    echo_once "$a" "A stays"
    tcp_open 127.0.0.1 "$SERVER_PORT"
    b=$TCP_FD
    echo_once "$b" "B leaves"
    tcp_close "$b"
    wait_until 5 server_children_are 1 || fail_children_left || return 1
    tcp_open 127.0.0.1 "$SERVER_PORT"
    printf 'C comes\n' >&"$TCP_FD"
    if ! read -r -t "$(scaled 5)" line <&"$TCP_FD"; then
        wchan=$(cat "/proc/$SERVER_PID/wchan" 2>/dev/null) || true
        fail "B left and its child was reaped; then, while A stays, C got" \
            "no echo (the parent waits in '${wchan:-?}'). Is" \
            "on_child_exit() stuck in waitpid(), waiting for A's child," \
            "which still runs? Reap with WNOHANG: waitpid(-1, NULL," \
            "WNOHANG) returns 0 at once when the children left are" \
            "still running" || return 1
    fi
    [ "$line" = "C comes" ] || fail "sent 'C comes', got '$line'"
    tcp_close "$TCP_FD"
    tcp_close "$a"
}

# A SIGCHLD handler must leave errno as it found it: the signal may come
# between a failed call and the code that reads its errno. Here accept()
# fails with ENETUNREACH (to be retried) and a child exits just before
# it returns (tests/acceptfail.so, ACCEPTFAIL=SIGCHLD): the waitpid()
# that finds no child left sets errno to ECHILD, which is no reason to
# retry.
check_reaping_keeps_errno() {
    start_with_acceptfail SIGCHLD "$STAGE_DIR/server_fork" 0
    tcp_open 127.0.0.1 "$SERVER_PORT" || return 1
    wait_until 5 log_reaches 1 '^acceptfail: ' ||
        fail "tests/acceptfail.so did not bite: no 'acceptfail:' line" ||
        return 1
    tcp_close "$TCP_FD"
    tcp_open 127.0.0.1 "$SERVER_PORT" &&
        echo_once "$TCP_FD" "after the failed accept" && is_running "$SERVER_PID" &&
        return 0
    fail "accept() failed with ENETUNREACH (to be retried), and a child" \
        "exited before the server read errno; then the server stopped" \
        "serving$(_logged_note ': accept: '). Does on_child_exit() leave" \
        "errno changed? Its last waitpid() sets errno to ECHILD (no child" \
        "left): save errno first, and restore it before returning"
}

# A reaped child's PID is free, and the kernel may give it to any new
# process. This scene runs in a PID namespace of its own (unshare -p),
# where it may choose the next PID (/proc/sys/kernel/ns_last_pid): a
# client comes and goes, its child is reaped, and an unrelated process
# (sleep) gets that child's PID; then the server gets SIGTERM. It prints
# "reused PID" and then "spared" or "killed", or "no reuse" when it
# could not arrange the reuse, or "not reaped" when the child stayed.
# (LOG must be new: a log left by an earlier scene holds its port.)
# HOW the child ends: "exit" (its client leaves) or "kill" (SIGKILL);
# "two": two children, killed while the server is stopped (SIGSTOP), so
# that one SIGCHLD stands for both and one handler call reaps both; then
# both PIDs are reused ("reused PID PID").
pid_reuse_scene() {
    local server=$1 log=$2 how=$3 srv port children child i sleeper state
    local want=1 sleepers=() reused=()
    [ "$how" != two ] || want=2
    exec 3>&- 4>&-
    "$server" 0 >"$log" 2>&1 &
    srv=$!
    for i in $(seq 100); do
        port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log" 2>/dev/null)
        [ -z "$port" ] || break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "no listening line"; return 1; }
    exec 5<>"/dev/tcp/127.0.0.1/$port" || return 1
    [ "$want" = 1 ] || exec 6<>"/dev/tcp/127.0.0.1/$port" || return 1
    for i in $(seq 100); do
        read -r -a children <<<"$(cat /proc/$srv/task/*/children 2>/dev/null)"
        ((${#children[@]} < want)) || break
        sleep 0.05
    done
    ((${#children[@]} >= want)) || { echo "no child"; return 1; }
    child=${children[0]}
    [ "$how" != kill ] || kill -KILL "$child"
    if [ "$how" = two ]; then
        kill -STOP "$srv"
        for i in $(seq 100); do
            [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$srv/stat")" != T ] || break
            sleep 0.05
        done
        kill -KILL "${children[@]}"
        for i in $(seq 100); do
            state=$(sed 's/.*) \(.\).*/\1/' "/proc/${children[0]}/stat" \
                "/proc/${children[1]}/stat" 2>/dev/null | tr -d '\n')
            [ "$state" != ZZ ] || break
            sleep 0.05
        done
        kill -CONT "$srv"
        exec 6>&-
    fi
    exec 5>&-
    for i in $(seq 100); do
        [ -n "$(cat /proc/$srv/task/*/children 2>/dev/null)" ] || break
        sleep 0.05
    done
    if [ -n "$(cat /proc/$srv/task/*/children 2>/dev/null)" ]; then
        echo "not reaped $child $(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$srv/status")"
        kill "$srv"
        return 0
    fi
    for child in "${children[@]:0:want}"; do
        echo $((child - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null
        sleep 30 &
        sleeper=$!
        sleepers+=("$sleeper")
        [ "$sleeper" = "$child" ] ||
            { echo "no reuse"; kill "${sleepers[@]}" "$srv"; return 0; }
        reused+=("$child")
    done
    echo "reused ${reused[*]}"
    kill -TERM "$srv"
    for i in $(seq 100); do
        [ -d "/proc/$srv" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$srv/stat")" != Z ] || break
        sleep 0.05
    done
    sleep 0.2
    for sleeper in "${sleepers[@]}"; do
        state=$(sed 's/.*) \(.\).*/\1/' "/proc/$sleeper/stat" 2>/dev/null)
        case $state in "" | Z) echo "killed $sleeper" ;; esac
    done
    echo spared
    kill "${sleepers[@]}" 2>/dev/null
}

# The parent signals its children when it stops, from its table of
# children: a PID left there after its child was reaped may by then
# belong to another process, which SIGTERM would kill.
# Twice: a child that exits (its client left), and one killed by a
# signal (SIGKILL), which waitpid() returns as well.
check_reaped_pid_forgotten() {
    unshare -rpf --mount-proc true 2>/dev/null ||
        skip "unshare -rpf (a user and PID namespace) is not allowed here"
    local how ended pid caught
    for how in exit kill two; do
        run with_timeout 20 unshare -rpf --mount-proc bash -c \
            "$(declare -f pid_reuse_scene); pid_reuse_scene \"\$@\"" bash \
            "$STAGE_DIR/server_fork" "$BATS_TEST_TMPDIR/pid_reuse.$how.log" "$how"
        echo "# child ended by: $how"
        echo "$output"
        ended="a client left and its child was reaped"
        [ "$how" = exit ] ||
            ended="a child was killed by a signal (SIGKILL) and reaped"
        case $output in
        *"not reaped"*)
            read -r pid caught <<<"${output#*not reaped }"
            fail "a child of server_fork ($pid) ended, and it was never" \
                "reaped: it stays a zombie$(_sigchld_note "$caught")" ||
                return 1
            ;;
        *"no reuse"*) skip "the namespace's next PID could not be chosen" ;;
        *killed*) ;;
        *spared*) continue ;;
        *) fail "the PID-reuse scene did not run: $output" || return 1 ;;
        esac
        pid=${output#*killed }
        [ "$how" != two ] ||
            fail "two children ended at once (killed while the server was" \
                "stopped, so one SIGCHLD stood for both) and both were" \
                "reaped; the PID of one (${pid%%[!0-9]*}) then went to an" \
                "unrelated process, which the server killed when it got" \
                "SIGTERM. That PID stayed in the table of children: call" \
                "forget_child(pid) inside the reaping loop, for each PID" \
                "waitpid() returns, not only for the first or the last" ||
            return 1
        [ "$how" = exit ] ||
            fail "$ended; its PID (${pid%%[!0-9]*}) then went to an" \
                "unrelated process, which the server killed when it got" \
                "SIGTERM. The PID stayed in the table of children: call" \
                "forget_child(pid) for every child waitpid() returns, however" \
                "it ended (exited or killed: not only if WIFEXITED)" ||
            return 1
        fail "$ended; its PID (${pid%%[!0-9]*}) then went to an unrelated" \
            "process, which the server killed when it got SIGTERM. The PID" \
            "stayed in the table of children: call forget_child(pid) for" \
            "each child waitpid() returns" || return 1
    done
}

# _sigchld_note SIGCGT: the end of a message on zombies, from a
# parent's SigCgt (/proc/PID/status: the signals it catches). A parent
# that no longer catches SIGCHLD lost its handler: the fork part's
# become_child() (which resets the handlers, for the child) ran in it.
_sigchld_note() {
    local caught=$((16#${1:-0}))
    if [ -n "${1:-}" ] && ((((caught >> 16) & 1) == 0)); then
        printf '%s' ". The parent does not catch SIGCHLD any more, so its" \
            " handler never runs: does it call become_child() itself" \
            " (before fork(), or when fork() returns a PID)? Only the" \
            " child, where fork() returned 0, may reset the handlers"
    else
        printf '%s' ". Reap each child that exits: waitpid() in a loop, in" \
            " the SIGCHLD handler"
    fi
}

server_children_are() {
    [ "$(wc -w <<<"$(child_pids "$SERVER_PID")")" -eq "$1" ]
}

# The one-argument checks, as commands for on and on_each.
check_sigterm() { check_stop_signal TERM; }
check_sigint() { check_stop_signal INT; }
check_lines() { check_client_echoes_lines 127.0.0.1; }
check_survives_epipe() {
    provoke_epipe
    is_running "$SERVER_PID" || fail "the server died (SIGPIPE?)"
    check_client_echoes_lines 127.0.0.1
}

# ends_logged_once: each client's end (disconnected, or an error) is
# logged once. A server that keeps watching a client after a failed
# send() meets the broken connection again at its next recv(), and logs
# a second end for it.
ends_logged_once() {
    local twice
    twice=$(awk '$2 == "disconnected" || $2 == "error:" { n[$1]++ }
        END { for (p in n) if (n[p] > 1) print p " (" n[p] " times)" }' \
        "$SERVER_LOG")
    [ -z "$twice" ] || fail "the end of one client was logged more than" \
        "once: $twice. Once its send() has failed, drop the client" \
        "(drop_client()): watched still, it fails again at the next recv()"
}

check_epipe_logged_once() {
    provoke_epipe
    sleep 0.3 # a second line, if any, comes at once
    ends_logged_once
}
check_std_fds_closed() {
    check_server_std_fds_closed
    stop_process "$SERVER_PID"
}
check_accept_error() {
    check_accept_error_retried
    is_running "$SERVER_PID" || fail "$SERVER_NAME exited"
    stop_process "$SERVER_PID"
}
# (These two start their server themselves: `on` starts one they stop.)

### The lesson, one server at a time: each is a part of the lab.

# lab: thread
@test "thread: lesson: B gets its echo while A (and an idle client) stay connected" {
    on server check_second_client_served_while_first_connected
}

# lab: thread
@test "thread: 100 clients at once, each gets back exactly its own random bytes" {
    on server check_hundred_clients_at_once
}

# lab: thread
@test "thread: a client that sends but never reads delays nobody" {
    on server check_non_reader_delays_nobody
}

# lab: thread
@test "thread: SIGTERM with clients connected: exit 0, no thread left" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule, and threads are counted in /proc"
    on server check_sigterm_with_clients
}

# lab: thread
@test "thread: out of file descriptors: neither dies nor spins, and catches up" {
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    on server check_out_of_descriptors --nofile 16
}

# lab: thread
@test "thread: a thread serves each client; after 200, fds, threads and memory are back (detached)" {
    needs_our_server "it counts our server's threads, fds and memory in /proc"
    on server check_thread_serves_then_baseline
}

# lab: thread
@test "thread: pthread_create() fails once: logged, that client closed, its struct freed; the next is served" {
    skip_under asan "the test library's free() would stand in front of ASan's"
    skip_under tsan "the test library's free() would stand in front of TSan's"
    skip_under valgrind "valgrind replaces free() itself"
    check_thread_create_failure
}

# lab: count
@test "thread: 'clients now: N' counts the clients being served" {
    needs_our_server "it reads our server's log lines"
    on server check_clients_now
}

# lab: count
@test "thread: 'clients now: N' lines stay in order while 2,000 clients come and go at once" {
    needs_our_server "it reads our server's log lines"
    on server check_count_lines_in_order
}

# lab: count
@test "thread: no data race between client threads (ThreadSanitizer)" {
    needs_our_server "it builds our server with ThreadSanitizer"
    skip_under valgrind "a ThreadSanitizer build does not run under valgrind"
    build_tsan_server
    local -a _server_wrapper=("${TSAN_WRAPPER[@]}")
    local -x TSAN_OPTIONS=halt_on_error=0
    SERVER_NAME=tsan
    start_server "$BATS_TEST_TMPDIR/tsan/server" 0
    check_no_data_race
    stop_process "$SERVER_PID"
}

# lab: fork
@test "fork: lesson: B gets its echo while A (and an idle client) stay connected" {
    on server_fork check_second_client_served_while_first_connected
}

# lab: fork
@test "fork: a child serves each client, with its socket alone" {
    on server_fork check_child_holds_only_its_client
}

# lab: fork
@test "fork: SIGTERM to one child ends that child alone: another child's client is still served" {
    on server_fork check_child_sigterm_ends_it_alone
}

# lab: fork
@test "fork: 100 clients at once, each gets back exactly its own random bytes" {
    on server_fork check_hundred_clients_at_once
}

# lab: fork
@test "fork: a client that sends but never reads delays nobody" {
    on server_fork check_non_reader_delays_nobody
}

# lab: fork
@test "fork: SIGTERM with clients connected: exit 0, no child left" {
    on server_fork check_sigterm_with_clients
}

# lab: fork
@test "fork: out of file descriptors: neither dies nor spins, and catches up" {
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    on server_fork check_out_of_descriptors --nofile 16
}

# lab: fork
@test "fork: fork() fails once: logged, that client closed; the next is served, its child ends with _exit()" {
    skip_under asan "the test library's free() would stand in front of ASan's"
    skip_under valgrind "valgrind replaces free() itself"
    check_fork_failure
}

# lab: reap
@test "fork: every child is reaped once its client leaves: no zombies" {
    on server_fork check_children_reaped
}

# lab: reap
@test "fork: every child is reaped without waiting for those still running (WNOHANG)" {
    on server_fork check_reaping_waits_for_nobody
}

# lab: reap
@test "fork: a SIGCHLD between accept()'s failure and its errno: errno is kept" {
    check_reaping_keeps_errno
}

# lab: reap
@test "fork: after 200 connections: fds and children back to baseline" {
    on server_fork check_resources_back_to_baseline
}

# lab: reap
@test "fork: a reaped child's PID, reused by another process, is not signalled at SIGTERM" {
    check_reaped_pid_forgotten
}

# lab: reap
@test "fork: the SIGCHLD handler calls no stdio function (printf, fprintf, perror): they are not async-signal-safe" {
    skip_under asan "the test library's free() would stand in front of ASan's"
    skip_under valgrind "valgrind replaces free() itself"
    check_reap_handler_no_stdio
}

# lab: poll
@test "poll: lesson: B gets its echo while A (and an idle client) stay connected" {
    on server_poll check_second_client_served_while_first_connected
}

# lab: poll
@test "poll: 100 clients at once, each gets back exactly its own random bytes" {
    on server_poll check_hundred_clients_at_once
}

# lab: poll
@test "poll: a client that sends but never reads: costs no memory, delays nobody, no CPU once it reads" {
    on server_poll check_non_reader_delays_nobody
}

# lab: poll
@test "poll: short sends (shim): a client that reads late gets its echo byte for byte; what was kept is freed" {
    SERVER_NAME=server_poll
    check_late_reader_short_sends
}

# lab: poll
@test "poll: send() fails with EAGAIN (shim): the kept echo goes once POLLOUT says so" {
    SERVER_NAME=server_poll
    check_send_eagain_then_pollout
}

# lab: poll
@test "poll: short sends under AddressSanitizer: the kept echo is moved within its buffer, never past it" {
    needs_our_server "it builds our server with AddressSanitizer"
    skip_under valgrind "an AddressSanitizer build does not run under valgrind"
    SERVER_NAME=server_poll
    check_kept_echo_in_bounds
}

# lab: poll
@test "poll: A leaves while B stays: the log says 'A disconnected', A's address and port" {
    on server_poll check_disconnect_names_its_peer
}

# lab: poll
@test "poll: a client leaves while another's echo is kept: that echo still comes whole" {
    skip_under shortio "short I/O would take minutes to move its 24 MiB"
    on server_poll check_kept_echo_survives_other_leaving
}

# lab: poll
@test "poll: SIGTERM with clients connected: exit 0" {
    on server_poll check_sigterm_with_clients
}

# lab: poll
@test "poll: out of file descriptors: neither dies nor spins, and catches up" {
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    on server_poll check_out_of_descriptors --nofile 16
}

# lab: poll
@test "poll: after 200 connections: fds back to baseline" {
    on server_poll check_resources_back_to_baseline
}

# lab: poll
@test "poll: 1 MiB of random binary data, one byte, lines, IPv4 and IPv6" {
    on server_poll check_binary_devtcp
    on server_poll check_one_byte_devtcp
    on server_poll check_lines
    on server_poll check_ipv4
    ! have_ipv6 || on server_poll check_ipv6
}

# lab: poll
@test "poll: resets (one while its echo is kept), killed clients and EPIPE do not stop it" {
    on server_poll check_resets_do_not_stop_server
    on server_poll check_survives_epipe
    on server_poll check_epipe_logged_once
    on server_poll check_kept_echo_reset_logged
}

# lab: poll
@test "poll: restarts at once on the same port; fds 0-2 closed; accept() errors" {
    on server_poll check_restart_same_port
    SERVER_NAME=server_poll
    # (valgrind opens its --log-file onto the closed fd 0.)
    [ "${CHECK_VARIANT:-}" = valgrind ] || check_std_fds_closed
    check_accept_error
}

# The epoll server is given whole in the lab. Linux only.
@test "epoll: B gets its echo while A (and an idle client) stay connected" {
    need_epoll
    on server_epoll check_second_client_served_while_first_connected
}

@test "epoll: 100 clients at once; a client that never reads delays nobody" {
    need_epoll
    on server_epoll check_hundred_clients_at_once
    on server_epoll check_non_reader_delays_nobody
}

@test "epoll: SIGTERM with clients; out of file descriptors" {
    need_epoll
    on server_epoll check_sigterm_with_clients
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    on server_epoll check_out_of_descriptors --nofile 16
}

@test "epoll: after 200 connections: fds and memory back to baseline" {
    need_epoll
    on server_epoll check_resources_back_to_baseline
}

### What every server does, one client at a time.

@test "resets and killed clients during an echo do not stop the server" {
    for_each_echoing check_resets_do_not_stop_server
}

@test "SIGTERM ends a waiting server, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    for_each_server check_sigterm
}

@test "SIGINT (Ctrl-C) ends a waiting server, exit 0" {
    needs_our_server "exit status 0 on SIGTERM and SIGINT is our programs' own rule"
    for_each_server check_sigint
}

@test "1 MiB of random binary data is echoed byte for byte (/dev/tcp)" {
    for_each_echoing check_binary_devtcp
}

@test "one byte is echoed (bash /dev/tcp, no client of ours)" {
    for_each_echoing check_one_byte_devtcp
}

@test "IPv4: a client at 127.0.0.1 is served" {
    for_each_echoing check_ipv4
}

@test "IPv6: a client at ::1 is served" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    for_each_echoing check_ipv6
}

@test "a port already in use: a clear message and a hint, exit 1" {
    needs_our_server "it checks our server's error message and exit status"
    for_each_server check_port_in_use
}

@test "a server stopped mid-session restarts at once on the same port" {
    for_each_echoing check_restart_same_port
}

@test "usage errors exit 2 with the usage line; -h exits 0; a HOST of digits gets a hint" {
    needs_our_server "it checks our programs' usage lines and exit statuses"
    local SERVER_NAME
    for SERVER_NAME in "${SERVERS[@]}"; do
        check_usage_errors
    done
}

@test "a client that closes before its echo is sent: EPIPE, not death by SIGPIPE" {
    for_each_echoing check_survives_epipe
}

@test "fds 0-2 closed: no socket of the servers takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    for SERVER_NAME in "${ECHOING[@]}"; do
        echo "# $SERVER_NAME"
        check_std_fds_closed
    done
}

@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    for SERVER_NAME in "${ECHOING[@]}"; do
        echo "# $SERVER_NAME"
        check_accept_error
    done
}

### The client (given code in the lab), against the thread server.

@test "client: 1 MiB of random binary data is echoed byte for byte" {
    on server check_binary_client
}

@test "client: a line longer than all socket buffers does not deadlock" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    on server check_huge_line_client
}

@test "client: lines come back exactly as they were sent" {
    on server check_lines
}

@test "client: no prompt and nothing but the echoes when scripted" {
    on server check_no_prompt_when_scripted
}

@test "client: a '>>: ' prompt on a terminal" {
    on server check_prompt_only_on_terminal
}

@test "client: no server at the port: a clear message, exit 1" {
    on server check_no_server
}

# (Against the thread server alone, as the other client tests: that
# the fork server's children end with it is the fork part's own test,
# "fork: SIGTERM with clients connected".)
@test "client: the server goes away mid-session: a clear message, exit 1" {
    on server check_client_reports_lost_server
}

@test "client: fds 0-2 closed: it acts as with /dev/null" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    SERVER_NAME=server
    start_server "$STAGE_DIR/server" 0
    check_client_stdin_closed
    check_client_stdout_closed
}
