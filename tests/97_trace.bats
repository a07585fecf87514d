#!/usr/bin/env bats
# make trace (trace/run.sh): each stage's scene, captured by stage 05's
# sniff in a network namespace of its own. What is checked is each
# ladder's structure: who sends what, and in which order; never the
# ports or the sequence numbers, which change at every run. Pure ACKs
# are left out, since when the kernel sends one alone, or rides it on
# data, is its own choice. And tcpdump reads every pcap.
#
# make test STAGE=trace runs this file alone (it needs every stage);
# the default make test leaves it out (its scenes take some seconds),
# and .ci/run runs it on its own.

bats_require_minimum_version 1.5.0 # run --separate-stderr
load helpers

TRACE="$TOP/trace/run.sh"

# trace N: run the scene of stage N into this test's own directory;
# LADDER, PACKETS and PCAP name what it wrote; SCENE holds what it
# printed.
trace() {
    command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
    unshare -r -n true 2>/dev/null || [ "$(id -u)" -eq 0 ] ||
        skip "this system does not let users make namespaces of their own"
    OUT="$BATS_TEST_TMPDIR/traces"
    run --separate-stderr with_timeout 60 "$TRACE" "$1" "$OUT"
    [ "$status" -eq 0 ] || fail "trace/run.sh $1: exit $status:" "$stderr" "$output"
    SCENE=$output$'\n'$stderr # what the scene's programs said
    local name
    name=$(basename "$(ls "$OUT"/0"$1"_*.pcap)" .pcap)
    LADDER="$OUT/$name.ladder"
    PACKETS="$OUT/$name.txt"
    PCAP="$OUT/$name.pcap"
    [ -s "$LADDER" ] || fail "no ladder: $(ls "$OUT")"
}

# rows: the ladder's arrows as "WHO > WHAT" (to the server) or
# "WHO < WHAT" (from it), without the pure ACKs, "PSH ACK, " in front
# of data, and the padding.
rows() {
    sed -n -E 's/^([^ ]+) +\|(---|<--) (.*) -*>?\|$/\1 \2 \3/p' "$LADDER" |
        sed -E -e 's/ -+$//' -e 's/ ---/ >/' -e 's/ <--/ </' \
            -e 's/ (PSH ACK|ACK), ([0-9]+ bytes)/ \2/' |
        grep -vE '^[^ ]+ [<>] ACK$'
}

# in_order LINE...: the rows hold these lines, in this order (others
# may come between).
in_order() {
    local all want at=0 n
    all=$(rows)
    for want in "$@"; do
        n=$(tail -n +$((at + 1)) <<<"$all" | grep -nxF -m 1 -- "$want" | cut -d: -f1) ||
            true
        [ -n "$n" ] || fail "expected, after row $at: '$want'" \
            "the rows (pure ACKs left out):" "$all" "the ladder:" "$(cat "$LADDER")"
        at=$((at + n))
    done
}

# tcpdump reads the pcap, and counts as many packets as sniff printed.
tcpdump_reads() {
    command -v tcpdump >/dev/null ||
        skip "tcpdump is not installed (apt-get install tcpdump)"
    run --separate-stderr tcpdump -n -r "$PCAP"
    [ "$status" -eq 0 ] || fail "tcpdump -r $PCAP: exit $status:" "$stderr"
    [ "${#lines[@]}" -eq "$(wc -l <"$PACKETS")" ] ||
        fail "tcpdump read ${#lines[@]} packets, sniff printed" \
            "$(wc -l <"$PACKETS")" "$output"
}

@test "trace 1: the handshake, one echo, the client's FIN, then the server's" {
    trace 1
    tcpdump_reads
    [ "$(rows)" = 'A > SYN
A < SYN ACK
A > 6 bytes "hello\n"
A < 6 bytes "hello\n"
A > FIN ACK
A < FIN ACK' ] || fail "the rows:" "$(rows)" "the ladder:" "$(cat "$LADDER")"
    grep -q 'Flags \[S\]' <<<"$output" && grep -q 'Flags \[S\.\]' <<<"$output" &&
        grep -q 'Flags \[F\.\]' <<<"$output" ||
        fail "tcpdump shows no SYN, SYN-ACK or FIN:" "$output"
}

@test "trace 2: B's handshake completes while A is served; B's echo comes after A leaves" {
    trace 2
    tcpdump_reads
    in_order 'A > SYN' 'A < SYN ACK' 'A > 7 bytes "from A\n"' \
        'A < 7 bytes "from A\n"' 'B > SYN' 'B < SYN ACK' \
        'B > 7 bytes "from B\n"' 'A > FIN ACK' 'A < FIN ACK' \
        'B < 7 bytes "from B\n"' 'B > FIN ACK' 'B < FIN ACK'
}

@test "trace 3: two clients interleaved; the server killed; A's next line gets a reset" {
    trace 3
    tcpdump_reads
    in_order 'A > SYN' 'A < SYN ACK' 'B > SYN' 'B < SYN ACK' \
        'A > 6 bytes "A one\n"' 'A < 6 bytes "A one\n"' \
        'B > 6 bytes "B one\n"' 'B < 6 bytes "B one\n"' \
        'A > 6 bytes "A two\n"' 'A < 6 bytes "A two\n"' \
        'A < FIN ACK' 'A > 8 bytes "A three\n"' 'A < RST'
    in_order 'A > 6 bytes "A two\n"' 'B < FIN ACK'
}

@test "trace 4: the ready line and the file's bytes: the client's first recv() takes both; then a put" {
    trace 4
    tcpdump_reads
    in_order 'A > SYN' 'A < SYN ACK' 'A > 16 bytes "get|0|hello.txt\n"' \
        'A > 13 bytes "put|9|up.txt\n"' 'A < 8 bytes "ready|0\n"' \
        'A > 9 bytes "uploaded\n"' 'A < 18 bytes "ok|stored 9 bytes\n"'
    # What the server sent between the get and the put, in one segment
    # or in several: the ready line, then the file.
    local sent
    sent=$(rows | sed -n '/get|0|hello.txt/,/put|9|up.txt/p' |
        sed -n -E 's/^A < [0-9]+ bytes "(.*)"$/\1/p' | tr -d '\n')
    [ "$sent" = 'ready|13|0\nhello, world\n' ] ||
        fail "the server's reply to the get: '$sent'" "$(cat "$LADDER")"
    # The client's first recv() after its request got both.
    local first
    first=$(grep -m 1 '^recvfrom' "$OUT/04_ftp.strace")
    [[ "$first" =~ ^recvfrom\([0-9]+,\ \"ready\|13\|0\\nhello,\ world\\n\",\ .*\)\ =\ 24$ ]] ||
        fail "the client's first recv(): $first" "$(cat "$OUT/04_ftp.strace")"
}

@test "trace 5: datagrams keep their boundaries; a closed port's ICMP answer; ping" {
    trace 5
    tcpdump_reads
    [ "$(rows)" = 'A > UDP, 4 bytes "one\n"
A < UDP, 4 bytes "one\n"
A > UDP, 4 bytes "two\n"
A < UDP, 4 bytes "two\n"
A > UDP, 6 bytes "three\n"
A < UDP, 6 bytes "three\n"
B > UDP, 8 bytes "anyone?\n"
B < ICMP port unreachable
ping > ICMP echo request
ping < ICMP echo reply' ] || fail "the rows:" "$(rows)" "the ladder:" "$(cat "$LADDER")"
    [[ "$SCENE" == *"client: recv: Connection refused"* ]] ||
        fail "the connected client did not report the ICMP answer:" "$SCENE"
}

@test "trace runs as a normal user (nobody), in a user namespace of its own" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, to switch to the user nobody"
    command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
    local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    "${as_nobody[@]}" test -x "$TRACE" ||
        skip "nobody cannot reach this checkout ($TOP)"
    "${as_nobody[@]}" unshare -r -n true 2>/dev/null ||
        skip "this system does not let users make namespaces of their own"
    OUT=$(mktemp -d)
    chmod 777 "$OUT"
    run --separate-stderr with_timeout 60 "${as_nobody[@]}" "$TRACE" 1 "$OUT"
    local ladder=$OUT/01_echo.ladder
    [ "$status" -eq 0 ] && grep -q 'SYN ACK' "$ladder" ||
        { rm -rf "$OUT"; fail "exit $status:" "$stderr"; }
    rm -rf "$OUT"
}

@test "trace where namespaces are refused: it says so, and how to run it" {
    # An unshare that fails as a refusing system's does.
    local bin=$BATS_TEST_TMPDIR/bin
    mkdir -p "$bin"
    printf '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n' \
        >"$bin/unshare"
    chmod +x "$bin/unshare"
    run --separate-stderr env PATH="$bin:$PATH" "$TRACE" 1 "$BATS_TEST_TMPDIR/t"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [[ "$stderr" == *"trace: cannot make a network namespace: unshare "*"Operation not permitted"* ]] ||
        fail "$stderr"
    [[ "$stderr" == *"sudo make trace STAGE=1"* ]] || fail "$stderr"
    [[ "$stderr" == *"sysctl kernel.apparmor_restrict_unprivileged_userns=0"* ]] ||
        fail "$stderr"
}

@test "make trace: no STAGE, or a wrong one: the usage line, exit 2" {
    run make -s --no-print-directory -C "$TOP" trace STAGE=7
    [ "$status" -eq 2 ] || fail "exit $status: $output"
    [[ "$output" == *"usage: make trace STAGE=N (N from 1 to 5)"* ]] || fail "$output"
    run "$TRACE" 9
    [ "$status" -eq 2 ] && [[ "$output" == "usage: trace/run.sh STAGE"* ]] ||
        fail "$output"
}
