#!/usr/bin/env bash
# trace/run.sh - make trace STAGE=N: play a short scene of stage N in a
# network namespace of its own, capture its loopback with stage 05's
# sniff, and write what the wire carried:
#
#   build/traces/NN_name.pcap    the packets, for tcpdump -r or Wireshark
#   build/traces/NN_name.txt     sniff's lines, one a packet (with -A)
#   build/traces/NN_name.ladder  the ladder: client and server columns,
#                                an arrow a packet (trace/ladder.awk)
#   build/traces/04_ftp.strace   stage 04 only: the client's recv() calls
#
# The scenes (the stage READMEs show their ladders and what to see):
#   1  the handshake, one echo, and the close from both sides
#   2  a second client's handshake, completed by the kernel while the
#      server is busy with the first: its line waits for accept()
#   3  two clients interleaved, then the server killed: a line sent to
#      the dead server is answered by a reset (RST)
#   4  a get: the ready line and the file's bytes, and the client's
#      first recv() taking both; then a put with its data
#   5  UDP datagrams keeping their boundaries; a datagram to a closed
#      port answered by ICMP "port unreachable"; ping's request and reply
#
# Usage: trace/run.sh N [OUT_DIR]   (from the top of the project; the
# programs must be built: make trace builds them). As a normal user it
# runs itself again in `unshare -rn` (a user and a network namespace:
# root there, with a loopback of its own); as root, in `unshare -n`.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD

usage() {
    echo "usage: trace/run.sh STAGE [OUT_DIR]   (STAGE: 1 to 5)" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
STAGE=$1
OUT_DIR=${2:-build/traces}
case $STAGE in
1) NAME=01_echo ;;
2) NAME=02_persistent_server ;;
3) NAME=03_multiclient ;;
4) NAME=04_ftp ;;
5) NAME=05_udp_raw ;;
*) usage ;;
esac

### Into a namespace of our own ###

if [ -z "${SOCKSTEP_TRACE_INSIDE:-}" ]; then
    for prog in 05_udp_raw/sniff "$NAME/server"; do
        [ -x "$prog" ] || {
            echo "trace: $prog is not built: run make trace STAGE=$STAGE" >&2
            exit 1
        }
    done
    if [ "$(id -u)" -eq 0 ]; then
        unshare=(unshare -n)
    else
        unshare=(unshare -r -n)
    fi
    if ! why=$("${unshare[@]}" true 2>&1); then
        cat >&2 <<EOF
trace: cannot make a network namespace: ${unshare[*]}: $why
This system does not let a normal user make namespaces of their own.
Run it as root (sudo make trace STAGE=$STAGE), or allow them, on Ubuntu
23.10 and later: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0
(elsewhere: sudo sysctl kernel.unprivileged_userns_clone=1).
EOF
        exit 1
    fi
    mkdir -p "$OUT_DIR"
    SOCKSTEP_TRACE_INSIDE=1 exec "${unshare[@]}" "$0" "$@"
fi

### Inside: lo is ours, and nobody else's packets cross it ###

ip link set lo up
SHOW_DIR=$OUT_DIR         # as the user wrote it, for messages
OUT_DIR=$(cd "$OUT_DIR" && pwd)
WORK=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for TRIES COMMAND...: run COMMAND every 0.05 s until it succeeds,
# TRIES times at most.
wait_for() {
    local tries=$1
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# start_server PROGRAM ARG...: start a stage's server on a free port;
# its port goes into PORT once it says "listening on".
start_server() {
    local log=$WORK/server.log
    "$@" </dev/null >"$log" 2>&1 &
    pids+=($!)
    SERVER_PID=$!
    wait_for 200 grep -qs '^listening on ' "$log" || {
        echo "trace: $1 did not start:" >&2
        cat "$log" >&2
        exit 1
    }
    PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log")
}

# Sniff stays on for the whole scene (at most a minute), and writes the
# pcap and its lines. Each packet it has not read yet waits in its
# socket's receive queue, which /proc/net/packet shows (Rmem): once the
# scene is over and the queue empty, it has every packet.
start_sniff() {
    05_udp_raw/sniff -A -t 60 -w "$OUT_DIR/$NAME.pcap" \
        >"$OUT_DIR/$NAME.txt" 2>"$WORK/sniff.err" &
    SNIFF_PID=$!
    pids+=("$SNIFF_PID")
    wait_for 200 grep -qs '^sniff: listening' "$WORK/sniff.err" || {
        echo "trace: sniff did not start:" >&2
        cat "$WORK/sniff.err" >&2
        exit 1
    }
}

sniff_queue_empty() {
    awk 'NR > 1 && $7 != 0 { busy = 1 } END { exit busy }' /proc/net/packet
}

stop_sniff() {
    sleep 0.1
    wait_for 100 sniff_queue_empty || true
    kill -TERM "$SNIFF_PID"
    wait "$SNIFF_PID" || {
        echo "trace: sniff failed:" >&2
        cat "$WORK/sniff.err" >&2
        exit 1
    }
}

# say TEXT: what the scene does now, as it does it.
say() {
    echo "trace: $*"
}

### The scenes ###

# 1: one client, one line, then Ctrl-D: the client closes first, and
# the server, which serves one client only, closes and exits.
scene_1() {
    start_server 01_echo/server 0
    say "one client sends one line, gets its echo, and ends"
    printf 'hello\n' | 01_echo/client 127.0.0.1 "$PORT"
    wait "$SERVER_PID" || true
    SERVERS=$PORT
}

# echo_line FD LINE: send LINE on a /dev/tcp connection, and read its
# echo (at most 5 s).
echo_line() {
    local reply
    printf '%s\n' "$2" >&"$1"
    if ! IFS= read -r -t 5 reply <&"$1" || [ "$reply" != "$2" ]; then
        echo "trace: no echo of '$2'" >&2
        exit 1
    fi
    say "  echoed: $reply"
}

# 2: A is served; B connects and sends a line while A is still there.
scene_2() {
    start_server 02_persistent_server/server 0
    local a b reply
    exec {a}<>"/dev/tcp/127.0.0.1/$PORT"
    say "client A connects, and is served"
    echo_line "$a" "from A"
    exec {b}<>"/dev/tcp/127.0.0.1/$PORT"
    say "client B connects while A is served, and sends a line"
    printf 'from B\n' >&"$b"
    if IFS= read -r -t 0.5 reply <&"$b"; then
        echo "trace: B was answered at once: '$reply'" >&2
        exit 1
    fi
    say "  no echo for B within 0.5 s: its line waits in the kernel"
    say "client A leaves; the server accept()s B, and echoes its line"
    exec {a}>&-
    IFS= read -r -t 5 reply <&"$b" || {
        echo "trace: B got no echo after A left" >&2
        exit 1
    }
    say "  echoed: $reply"
    exec {b}>&-
    wait_for 100 sh -c "! ss -tn state established | grep -q ':$PORT '" ||
        true
    SERVERS=$PORT
}

# 3: two clients, their lines interleaved; then the server is killed,
# and A sends again.
scene_3() {
    start_server 03_multiclient/server 0
    local a b
    exec {a}<>"/dev/tcp/127.0.0.1/$PORT"
    exec {b}<>"/dev/tcp/127.0.0.1/$PORT"
    say "clients A and B, served at once, take turns"
    echo_line "$a" "A one"
    echo_line "$b" "B one"
    echo_line "$a" "A two"
    say "the server is killed (SIGKILL): the kernel closes its sockets"
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    say "A sends one more line to the dead server: a reset answers it"
    printf 'A three\n' >&"$a" || true
    sleep 0.1
    exec {a}>&- {b}>&-
    SERVERS=$PORT
}

# 4: a get and a put. The client is slowed down after its request (by
# strace, which delays the return of its first sendto() by 0.3 s), as a
# busy client would be: both the ready line and the file's bytes have
# arrived by the time it calls recv().
scene_4() {
    mkdir -p "$WORK/root" "$WORK/client"
    printf 'hello, world\n' >"$WORK/root/hello.txt"
    printf 'uploaded\n' >"$WORK/client/up.txt"
    start_server 04_ftp/server -d "$WORK/root" 0
    say "the client gets hello.txt (13 bytes), then puts up.txt (9 bytes)"
    (cd "$WORK/client" && printf 'get hello.txt\nput up.txt\n' |
        strace -e trace=sendto,recvfrom -e inject=sendto:delay_exit=300000:when=1 \
            -s 64 -o "$OUT_DIR/$NAME.strace" "$TOP/04_ftp/client" \
            127.0.0.1 "$PORT")
    say "the client's first recv() after its get, from $SHOW_DIR/$NAME.strace:"
    grep -m 1 '^recvfrom' "$OUT_DIR/$NAME.strace" | sed 's/^/trace:   /'
    SERVERS=$PORT
}

# 5: datagrams, a closed port, ping.
scene_5() {
    start_server 05_udp_raw/server 0
    say "the UDP client sends three lines: three datagrams, three echoes"
    printf 'one\ntwo\nthree\n' | 05_udp_raw/client 127.0.0.1 "$PORT"
    say "a connected client (-c) sends to port 9, where nobody listens"
    printf 'anyone?\n' | 05_udp_raw/client -c -r 0 127.0.0.1 9 || true
    say "ping sends one echo request"
    05_udp_raw/ping -c 1 127.0.0.1 | head -n 2
    SERVERS="$PORT 9"
}

start_sniff
"scene_$STAGE"
stop_sniff
awk -v servers="$SERVERS" -f trace/ladder.awk "$OUT_DIR/$NAME.txt" \
    >"$OUT_DIR/$NAME.ladder"
echo
cat "$OUT_DIR/$NAME.ladder"
echo
echo "trace: wrote $SHOW_DIR/$NAME.pcap ($(wc -l <"$OUT_DIR/$NAME.txt") packets;" \
    "tcpdump -n -r $SHOW_DIR/$NAME.pcap reads it), $NAME.txt, $NAME.ladder"
