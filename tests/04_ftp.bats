#!/usr/bin/env bats
# Stage 04_ftp: a file protocol over TCP. The lesson: framing (lines for
# control, a byte count for data) instead of guessing where a message
# ends; get, put, ls, cd, pwd, delete, mkdir, resumable transfers; and a
# server that never lets a name reach outside its directory.

load helpers
load ftp_helpers

start_ftp_server() {
    start_server "$@" "$STAGE_DIR/server" -d "$ROOT" 0
}

# ftp COMMANDS...: run the client in $HERE with one command per
# argument as its input.
ftp() {
    printf '%s\n' "$@" | run_client 127.0.0.1 "$SERVER_PORT"
}

# --- the protocol document ---------------------------------------------

# replay_example [--no-jail]: replay PROTOCOL.md's example session over
# /dev/tcp (FTP_FD), each request sent, each reply line compared.
# --no-jail leaves out the exchanges whose name holds a '.' or '..'
# component, which need part 2 of the lab (paths.c), and sends 'cd|..'
# (from /docs) as 'cd', which needs no '..': the same reply, ok|/.
replay_example() {
    local line count=0 skip=0
    while IFS= read -r line; do
        case $line in
        "C: "*)
            skip=0
            if [ "${1:-}" = --no-jail ] && [ "$line" = "C: cd|.." ]; then
                send_request "cd" || return 1
            elif [ "${1:-}" = --no-jail ] &&
                [[ "|${line#C: }/" =~ [\|/]\.\.?/ ]]; then
                skip=1
            else
                send_request "${line#C: }" || return 1
            fi
            ;;
        "S: "*) ((skip)) || expect_reply "${line#S: }" || return 1 ;;
        *) fail "PROTOCOL.md: bad session line '$line'" || return 1 ;;
        esac
        count=$((count + 1))
    done < <(awk '/^```session$/ { on = 1; next } /^```$/ { on = 0 } on' \
        "$STAGE_DIR/PROTOCOL.md")
    [ "$count" -gt 20 ] || fail "only $count session lines in PROTOCOL.md"
}

# lab: jail
@test "PROTOCOL.md's example session, replayed over /dev/tcp, matches the server" {
    printf 'Hello, world!\n' >"$ROOT/hello.txt"
    start_ftp_server
    raw_open
    replay_example
    tcp_close "$FTP_FD"
}

# lab: framing
@test "a reply line and the file data behind it are told apart by length alone" {
    # "ready|SIZE|OFFSET\n" and the data usually arrive in one recv():
    # the data starts right after the newline, even when it holds
    # newlines and NULs of its own.
    printf 'line one\n\0line two\n' >"$ROOT/mixed"
    start_ftp_server
    raw_open
    send_request "get|0|mixed"
    expect_reply "ready|19|0"
    with_timeout 5 head -c 19 <&"$FTP_FD" >"$HERE/mixed"
    cmp "$ROOT/mixed" "$HERE/mixed"
    reply_to "pwd" # and the next line starts right after the data
    [ "$REPLY" = "ok|/" ]
}

# lab: framing
@test "requests that arrive together, in one recv(), are each answered in order" {
    start_ftp_server
    raw_open
    # One write of three lines: the server's first recv() reads them
    # all, and its reader must keep what follows the first '\n'.
    raw_send 'bogus\npwd\nquit\n'
    local replies=() line
    while ((${#replies[@]} < 3)) &&
        IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD"; do
        replies+=("$line")
    done
    ((${#replies[@]} == 3)) ||
        fail "3 requests sent in one write got ${#replies[@]} replies" \
            "(${replies[*]}): one recv() brought them all, and the bytes" \
            "after the first '\\n' were lost. read_line() must leave them in" \
            "the reader for the next line (粘包, sticky packets)"
    [ "${replies[0]}" = "error|bad-request|unknown command" ] &&
        [ "${replies[1]}" = "ok|/" ] && [ "${replies[2]}" = "ok|bye" ] ||
        fail "replies out of order or wrong: ${replies[*]}"
}

# lab: framing
@test "put: file data is exactly SIZE bytes, however the recv()s cut the stream" {
    start_ftp_server
    raw_open
    # The line, its data and the next request in one write (a client
    # sure of ready|0, a new name, need not wait for it): the data is
    # in the server's reader already when the upload starts.
    raw_send 'put|10|early\n0123456789pwd\n'
    expect_reply "ready|0"
    local line status=0
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || status=$?
    ((status == 0)) || fail "put|10 with its 10 bytes in the same write:" \
        "$(no_reply "$status"). The bytes came in with the put line:" \
        "read_line() must leave them in the reader, and read_some() hand" \
        "out what the reader holds before it calls recv()"
    [ "$line" = "ok|stored 10 bytes" ] || fail "put|10: '$line'"
    [ "$(cat "$ROOT/early")" = 0123456789 ] ||
        fail "put|10 then '0123456789pwd\\n' in one write: stored" \
            "'$(cat "$ROOT/early")'. recv_file_data() must ask for no more" \
            "than the bytes still owed: the next request follows them"
    expect_reply "ok|/"

    # The data after ready|0, and the next request right behind it.
    reply_to "put|10|later"
    [ "$REPLY" = "ready|0" ] || fail "put|10|later: '$REPLY'"
    printf '0123456789pwd\n' >&"$FTP_FD"
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || status=$?
    ((status == 0)) || fail "put|10, then 10 bytes and 'pwd' in one write:" \
        "$(no_reply "$status")"
    [ "$line" = "ok|stored 10 bytes" ] && [ "$(cat "$ROOT/later")" = 0123456789 ] ||
        fail "put|10 then '0123456789pwd\\n': reply '$line', stored" \
            "'$(cat "$ROOT/later" 2>/dev/null)'. recv_file_data() must ask" \
            "for no more than the bytes still owed: the next request" \
            "follows them"
    expect_reply "ok|/"
}

# lab: framing
@test "short reads and writes (the shim): the example session, a binary put and get" {
    # tests/shortio.so makes every recv() and send() on a socket move 1
    # to 3 bytes, and some fail with EINTR: each request line reaches
    # the server in pieces, and so does each reply and file.
    _need_shortio
    local shim=$SHORTIO_LIB
    printf 'Hello, world!\n' >"$ROOT/hello.txt"
    start_server "$(command -v env)" LD_PRELOAD="$shim" \
        "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    replay_example --no-jail ||
        fail "the server under the short-I/O shim: PROTOCOL.md's example" \
            "session went wrong (above). A request line that comes in" \
            "several recv()s is one line: read_line() keeps its first bytes" \
            "while fill() brings the rest, and returns only at the '\\n'"
    tcp_close "$FTP_FD"

    # Our client under the shim too: its replies and data come in pieces.
    local _client_wrapper=(env LD_PRELOAD="$shim")
    random_file "$HERE/binary" $((64 * 1024 + 1))
    run ftp "put binary"
    [ "$status" -eq 0 ] && cmp -s "$HERE/binary" "$ROOT/binary" ||
        fail "put of 64 KiB + 1 byte, client and server under the shim:" \
            "exit $status, '$output'; stored $(stat -c %s "$ROOT/binary" \
            2>/dev/null) bytes, or other bytes. recv_file_data() must loop" \
            "until SIZE bytes have come, whatever each recv() brings"
    mkdir "$HERE/back"
    cd "$HERE/back"
    run ftp "get binary"
    cd "$HERE"
    [ "$status" -eq 0 ] && cmp -s "$HERE/binary" "$HERE/back/binary" ||
        fail "get of 64 KiB + 1 byte, client and server under the shim:" \
            "exit $status, '$output'. The client's reader must keep what" \
            "came with the ready line (read_some()), and read_line() and" \
            "recv_file_data() must not take one recv() for a whole message"
}

# --- transfers ---------------------------------------------------------

# round_trip NAME: put $HERE/NAME, get it back into another directory,
# and compare all three copies.
round_trip() {
    local hint="The file's first bytes come with the ready line (or the"
    hint+=" put line): read_some() must hand out what the reader holds,"
    hint+=" each byte once, before it calls recv()"
    run ftp "put $1"
    [ "$status" -eq 0 ] || fail "put $1: $output"
    cmp "$HERE/$1" "$ROOT/$1" || fail "put $1: the stored copy differs" \
        "from the original (cmp above). $hint"
    mkdir -p "$HERE/back"
    cd "$HERE/back"
    run ftp "get $1"
    cd "$HERE"
    [ "$status" -eq 0 ] || fail "get $1: exit $status, '$output'. $hint"
    cmp "$HERE/$1" "$HERE/back/$1" || fail "get $1: the downloaded copy" \
        "differs from the original (cmp above). $hint"
}

# lab: framing
@test "put and get round trips are byte-exact: 0 bytes, 1 byte, 1 MiB - 1, 1 MiB, 1 MiB + 1" {
    # 1 MiB: FILE_BUF_SIZE, the bytes one recv() or read() of data asks for
    start_ftp_server
    : >"$HERE/empty"
    printf 'x' >"$HERE/one"
    random_file "$HERE/mebibyte-1" $((1024 * 1024 - 1))
    random_file "$HERE/mebibyte" $((1024 * 1024))
    random_file "$HERE/mebibyte+1" $((1024 * 1024 + 1))
    round_trip empty
    round_trip one
    round_trip mebibyte-1
    round_trip mebibyte
    round_trip mebibyte+1
}

# lab: framing
@test "get and put move the data through the loops the README teaches: no splice() or sendfile()" {
    [ -z "${CHECK_VARIANT:-}" ] ||
        skip "make check-$CHECK_VARIANT runs its own wrapper, not strace"
    local strace
    strace=$(command -v strace) || skip "strace is not installed"
    "$strace" -qq -e trace=none true 2>/dev/null ||
        skip "strace cannot trace here (ptrace not permitted)"
    start_server "$strace" -f -qq -e signal=none -e trace=splice,sendfile \
        -o "$HERE/server.strace" "$STAGE_DIR/server" -d "$ROOT" 0
    # Stopping strace detaches it and leaves the server running: the
    # server (strace's only child) is stopped by its own PID too.
    local server_pid
    server_pid=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children")
    server_pid=${server_pid%% *}
    [ -n "$server_pid" ] || fail "no server process under strace $SERVER_PID"
    _test_pids+=("$server_pid")
    local _client_wrapper=("$strace" -f -qq -e signal=none -e "trace=splice,sendfile"
        -o "$HERE/client.strace")
    random_file "$HERE/data" $((3 * 1024 * 1024 + 7))
    round_trip data
    local calls
    calls=$(cat "$HERE/server.strace" "$HERE/client.strace")
    [ -z "$calls" ] ||
        fail "a put and a get called splice() or sendfile():" "$calls" \
            "The code a student reads must be the code that runs:" \
            "send_file_data() and recv_file_data() move file data with" \
            "read()/send() and recv()/write() (04_ftp/SPEED.md says why)"
}

# lab: framing
@test "a file over 64 MiB of random bytes makes the round trip" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    start_ftp_server
    random_file "$HERE/large" $((65 * 1024 * 1024 + 1))
    round_trip large
}

# lab: framing
@test "names with spaces, UTF-8 and '|' make the round trip" {
    start_ftp_server
    printf 'a\n' >"$HERE/with spaces.txt"
    printf 'b\n' >"$HERE/naïve 文件.txt"
    printf 'c\n' >"$HERE/pipe|in name"
    round_trip "with spaces.txt"
    round_trip "naïve 文件.txt"
    round_trip "pipe|in name"
}

# lab: framing
@test "sizes and offsets past 4 GiB work (sparse files, 64-bit numbers)" {
    start_ftp_server
    local size=$((5 * 1024 * 1024 * 1024)) # 5 GiB
    truncate -s "$size" "$ROOT/huge"
    printf 'tail' | dd of="$ROOT/huge" bs=1 seek=$((size - 4)) \
        conv=notrunc status=none
    raw_open
    send_request "get|$((size - 4))|huge"
    expect_reply "ready|$size|$((size - 4))"
    [ "$(with_timeout 5 head -c 4 <&"$FTP_FD")" = tail ]

    # An upload resumed 5 GiB in: the server has all but 3 bytes.
    truncate -s $((size - 3)) "$ROOT/.partial.huge2"
    send_request "put|$size|huge2"
    expect_reply "ready|$((size - 3))"
    printf 'end' >&"$FTP_FD"
    expect_reply "ok|stored $size bytes"
    [ "$(stat -c %s "$ROOT/huge2")" -eq "$size" ]
    [ "$(tail -c 3 "$ROOT/huge2")" = end ]
}

# lab: framing
@test "two clients transferring different files at once both finish intact" {
    skip_under shortio "tens of MiB at a few bytes a call take too long"
    start_ftp_server
    random_file "$HERE/up" $((32 * 1024 * 1024))
    random_file "$ROOT/down" $((32 * 1024 * 1024))
    mkdir "$HERE/d"
    printf 'put up\n' | run_client 127.0.0.1 "$SERVER_PORT" \
        >"$BATS_TEST_TMPDIR/up.out" 2>&1 3>&- 4>&- &
    local uploader=$!
    (cd "$HERE/d" && printf 'get down\n' |
        run_client 127.0.0.1 "$SERVER_PORT") || fail "get failed"
    wait "$uploader" || fail "put failed: $(cat "$BATS_TEST_TMPDIR/up.out")"
    cmp "$HERE/up" "$ROOT/up"
    cmp "$ROOT/down" "$HERE/d/down"
}

# lab: framing
@test "an upload of a name already being uploaded is refused: busy" {
    start_ftp_server
    raw_open
    local first=$FTP_FD
    send_request "put|10|same"
    expect_reply "ready|0"
    raw_open
    reply_to "put|10|same"
    [ "$REPLY" = "error|busy|another client is uploading this name; try again later" ]
    tcp_close "$FTP_FD"
    FTP_FD=$first
    printf '0123456789' >&"$FTP_FD"
    expect_reply "ok|stored 10 bytes"
}

# lab: framing
@test "a put onto a full disk: error io-error, where a lost connection says nothing" {
    # The server replies with the rest of the upload still coming. Were
    # it to close with those bytes unread, its kernel would reset the
    # connection, and the reset could destroy the reply before the
    # client reads it (under the short-I/O shim, whose reads leave most
    # of the upload unread, it always did): the server reads and drops
    # the rest first (close_gently() in session.c).
    unshare -rm true 2>/dev/null ||
        skip "unshare -rm (a user and mount namespace) is not allowed here"
    # The server in a mount namespace of its own, where ROOT is a tmpfs
    # with room for 64 KiB: its write() fails with ENOSPC mid-upload.
    local wrapper=("${_server_wrapper[@]}") _server_wrapper=()
    start_server "$(command -v unshare)" -rm sh -c \
        'mount -t tmpfs -o size=64k sockstep "$1" && shift && exec "$@"' \
        sh "$ROOT" "${wrapper[@]}" "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    send_request "put|200000|big"
    expect_reply "ready|0"
    random_file "$BATS_TEST_TMPDIR/big" 200000
    # (In a subshell: the server may close before it has read them all.)
    (trap '' PIPE && cat "$BATS_TEST_TMPDIR/big") >&"$FTP_FD" 2>/dev/null ||
        true
    local line status=0
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || status=$?
    ((status == 0)) && [ "$line" = "error|io-error|No space left on device" ] &&
        return 0
    local got
    got=$( ((status == 0)) && echo "'$line'" || no_reply "$status")
    if ((status != 0)) && log_reaches 1 ' -> error\|io-error\|'; then
        fail "a put of 200000 bytes onto a disk with room for 64 KiB: the" \
            "server replied io-error, but the reply never came: $got. It" \
            "closed with the rest of the upload unread, and its kernel's" \
            "reset destroyed the reply. Shut down, and read what still" \
            "comes, before closing (close_gently() in session.c)"
    else
        fail "a put of 200000 bytes onto a disk with room for 64 KiB:" \
            "expected 'error|io-error|No space left on device', got $got." \
            "recv_file_data() must return -2 when writing the file fails" \
            "(the server then says why), -1 only when the connection does"
    fi
}

# send_quietly FORMAT [ARG...]: printf them to the server in one write,
# like raw_send; but a server that has closed already does not fail the
# test here: the reply that the test reads next, or its absence, says
# what went wrong.
send_quietly() {
    # shellcheck disable=SC2059 # the format is the caller's
    printf "$@" >"$BATS_TEST_TMPDIR/piece"
    (trap '' PIPE && cat "$BATS_TEST_TMPDIR/piece") >&"$FTP_FD" \
        2>/dev/null || true
}

# read_reply: the next line from the server into REPLY; else REPLY
# says why none came ("(no reply ...)").
read_reply() {
    local status=0
    IFS= read -r -t "$(scaled 5)" REPLY <&"$FTP_FD" || status=$?
    ((status == 0)) || REPLY="($(no_reply "$status"))"
}

# lab: framing
@test "a put whose file takes only part of a write (a file size limit): never ok with a short file" {
    command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
    # The server may write files of at most 4096 bytes: write() of a
    # 10000-byte chunk at offset 0 writes 4096 of them and returns 4096
    # (a short write, no error); a write() past the limit kills the
    # session (SIGXFSZ). No ok, and no file: the upload stays partial.
    local wrapper=("${_server_wrapper[@]}") _server_wrapper=()
    start_server "$(command -v prlimit)" --fsize=4096 --core=0 \
        "${wrapper[@]}" "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    send_request "put|10000|f"
    expect_reply "ready|0"
    random_file "$BATS_TEST_TMPDIR/f" 10000
    (trap '' PIPE && cat "$BATS_TEST_TMPDIR/f") >&"$FTP_FD" 2>/dev/null ||
        true
    read_reply
    [[ "$REPLY" != "ok|"* ]] && [ ! -e "$ROOT/f" ] ||
        fail "put|10000, the server's files limited to 4096 bytes" \
            "(prlimit --fsize), answered '$REPLY', /f has" \
            "$(stat -c %s "$ROOT/f" 2>/dev/null) bytes. A write() took" \
            "only part of a chunk (a short write, not an error)," \
            "and the rest was lost: recv_file_data() must write each" \
            "chunk whole, with write_all(), as send_all() does for send()"
}

# lab: framing
@test "an upload that stops mid-data under -t 1 is closed after about 1 s of silence, not held for ever" {
    start_server "$STAGE_DIR/server" -d "$ROOT" -t 1 0
    raw_open
    send_request "put|10|y"
    expect_reply "ready|0"
    send_quietly '123' # 3 bytes of 10, then silence
    local line status=0
    IFS= read -r -t "$(scaled 3)" line <&"$FTP_FD" || status=$?
    ((status <= 128)) ||
        fail "put|10, 3 bytes of data, then silence, the server under" \
            "-t 1: the session was still open after $(scaled 3) s. A recv()" \
            "failing with EAGAIN is -t's silence (SO_RCVTIMEO), not" \
            "'nothing yet': read_some() and recv_file_data() return -1 then," \
            "and retry only EINTR"
    ((status != 0)) || fail "put|10 stalled 3 bytes in: the server" \
        "answered '$line' (PROTOCOL.md: disconnected, without a reply)"
}

# lab: framing
@test "a get cut off by the server: the client says 'closed by the server', not an errno left from before" {
    needs_our_client "it reads what our client prints"
    unshare -rm true 2>/dev/null ||
        skip "unshare -rm (a user and mount namespace) is not allowed here"
    local short=/sys/devices/system/cpu/online
    [ -f "$short" ] || skip "no $short (sysfs) to serve"
    # A sysfs file: its size says 4096 bytes, and reading gives a few.
    # The server sends those, finds no more (EIO) and closes, mid-file.
    local wrapper=("${_server_wrapper[@]}") _server_wrapper=()
    start_server "$(command -v unshare)" -rm sh -c \
        'touch "$1/cpus" && mount --bind "$2" "$1/cpus" && shift 2 &&
        exec "$@"' sh "$ROOT" "$short" "${wrapper[@]}" \
        "$STAGE_DIR/server" -d "$ROOT" 0
    run ftp "get cpus"
    [ "$status" -ne 0 ] || fail "get of a file cut short: exit 0, '$output'"
    [[ "$output" == *"get: connection: closed by the server"* ]] ||
        fail "a get cut off by the server (a few bytes of 4096, then the" \
            "end of the stream): the client said '$(grep 'get: ' <<<"$output" |
                head -n 1)', not 'get: connection: closed by the server'." \
            "At the end of the stream recv_file_data() returns -1 with errno" \
            "set to 0 (its contract): an errno left by an earlier call is" \
            "not the reason"
}

# lab: framing
@test "recv_file_data() alone counts past 2 GiB: 2 GiB + 64 KiB from a socket pair" {
    needs_our_server "it runs the stage's own proto.c"
    local harness="$BATS_TEST_TMPDIR/proto_harness"
    "${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -I "$STAGE_DIR" \
        -o "$harness" "$TOP/tests/proto_harness.c" "$STAGE_DIR/proto.c" \
        "$STAGE_DIR/net.c" 2>"$BATS_TEST_TMPDIR/harness.err" ||
        fail "tests/proto_harness.c did not build with proto.c:" \
            "$(head -c 600 "$BATS_TEST_TMPDIR/harness.err")"
    run with_timeout 20 "$harness" recv_big
    [ "$status" -eq 0 ] ||
        fail "recv_file_data() of 2 GiB + 64 KiB (tests/proto_harness.c" \
            "recv_big, exit $status) printed '$output', not" \
            "'recv_file_data: 0 2147549184 next'. The count of bytes done" \
            "went past 2^31 - 1, the largest int: keep it in an off_t, as" \
            "count is, or a file over 2 GiB never ends"
}

# --- interrupted transfers and resuming ---------------------------------

# lab: framing
@test "a client that dies mid-get leaves no file under the final name, and get resumes" {
    start_ftp_server
    random_file "$ROOT/movie" $((16 * 1024 * 1024))
    # A 4 MiB file-size limit: the kernel kills the client (SIGXFSZ)
    # in the middle of writing the download, as abruptly as kill -9.
    run with_timeout 20 prlimit --fsize=$((4 * 1024 * 1024)) \
        "${_client_wrapper[@]}" "$STAGE_DIR/client" 127.0.0.1 "$SERVER_PORT" \
        <<<"get movie"
    [ "$status" -ne 0 ] || fail "the client was not stopped"
    [ ! -e "$HERE/movie" ] || fail "a partial download has the final name"
    # The same name for an unfinished file on both sides: .partial.NAME.
    [ -e "$HERE/.partial.movie" ] || fail "no .partial.movie here:" \
        "$(ls -A "$HERE")"
    [ "$(stat -c %s "$HERE/.partial.movie")" -eq $((4 * 1024 * 1024)) ]

    run ftp "get movie"
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"resuming movie at byte 4194304"* ]] || fail "$output"
    cmp "$ROOT/movie" "$HERE/movie"
    [ ! -e "$HERE/.partial.movie" ]
}

# lab: framing
@test "an upload cut off mid-data, under short reads and EINTR: logged at once as 'interrupted: connection closed'" {
    _need_shortio
    needs_our_server "it reads our server's log"
    local shim=$SHORTIO_LIB
    start_server "$(command -v env)" LD_PRELOAD="$shim" \
        "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    send_request "put|100000|cut"
    expect_reply "ready|0"
    head -c 3000 /dev/zero >&"$FTP_FD"
    tcp_close "$FTP_FD" # 3000 bytes of 100000, and the end of the stream
    # Under the shim, an earlier recv() failed with EINTR: errno still
    # says so when recv() returns 0 at the end.
    wait_until 5 log_reaches 1 'upload of /cut interrupted' ||
        fail "an upload cut off mid-data, the server under the short-I/O" \
            "shim, was not logged as interrupted within 5 s. Does" \
            "read_some() call recv() again when it returned 0 (the end)?" \
            "errno may still say EINTR from an earlier call: retry only" \
            "when recv() returned -1 (n < 0, not n <= 0)"
    log_reaches 1 'upload of /cut interrupted: connection closed$' ||
        fail "the cut upload was logged as '$(grep -o 'upload of /cut.*' \
            "$SERVER_LOG")', not 'interrupted: connection closed': at" \
            "the end of the stream recv_file_data() returns -1 with errno" \
            "set to 0 (its contract), and errno left by an earlier call" \
            "(EINTR here) is not the reason"
}

# lab: framing
@test "an upload cut off mid-data: no file under the final name, hidden, then resumed" {
    start_ftp_server
    random_file "$HERE/data" $((1024 * 1024))
    raw_open
    send_request "put|$((1024 * 1024))|data"
    expect_reply "ready|0"
    head -c 300000 "$HERE/data" >&"$FTP_FD"
    tcp_close "$FTP_FD" # the client vanishes, 300000 bytes in
    local stored=""
    if foreign_server; then # its log is not ours: see it close its end
        wait_until 5 server_closed_or_gone || true
    else wait_until 5 log_reaches 1 'upload of /data interrupted'; fi || {
        [ ! -e "$ROOT/data" ] ||
            stored=", and stored as /data ($(stat -c %s "$ROOT/data") bytes)"
        fail "an upload cut off 300000 bytes into 1 MiB was not logged as" \
            "interrupted$stored: recv_file_data() must fail when the" \
            "connection ends before SIZE bytes have come"
    }

    [ ! -e "$ROOT/data" ] || fail "a partial upload has the final name:" \
        "put must write .partial.NAME, and rename() it to NAME only once" \
        "every byte is in"
    run ftp "ls" "get data"
    [[ "$output" != *data* ]] || fail "the partial upload is visible: $output"

    run ftp "put data"
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"resuming data at byte 300000"* ]] || fail "$output"
    cmp "$HERE/data" "$ROOT/data"
    [ ! -e "$ROOT/.partial.data" ]
}

# lab: framing
@test "a client that vanishes mid-get does not disturb the server" {
    start_ftp_server
    random_file "$ROOT/big" $((32 * 1024 * 1024))
    raw_open
    send_request "get|0|big"
    expect_reply "ready|$((32 * 1024 * 1024))|0"
    with_timeout 5 head -c 1000 <&"$FTP_FD" >/dev/null
    tcp_close "$FTP_FD" # with 32 MiB still coming
    foreign_server || wait_until 5 log_reaches 1 'error: sending /big'
    server_survived "a client closed mid-download"
    run ftp "pwd"
    [ "$output" = "/" ]
}

# --- commands and their errors -----------------------------------------

# lab: framing
@test "ls, cd, pwd, mkdir and delete, and their errors" {
    start_ftp_server
    printf 'abc' >"$ROOT/file"
    run ftp "mkdir docs" "mkdir docs" "cd docs" "pwd" "cd" "pwd" \
        "ls" "cd file" "cd nowhere" "delete nothing" "delete docs" \
        "ls" "mkdir a/b/c"
    [ "$status" -eq 1 ] || fail "status $status: some commands must fail"
    local expected
    expected=$(
        cat <<'EOF'
created /docs
error: File exists (exists)
/docs
/docs
/
/
           -  docs/
           3  file
error: Not a directory (not-a-directory)
error: No such file or directory (not-found)
error: No such file or directory (not-found)
deleted /docs
           3  file
error: No such file or directory (not-found)
EOF
    )
    [ "$output" = "$expected" ] || fail "got:
$output"
}

# lab: framing
@test "get and put: is-a-directory, an offset up to SIZE and not past it, not-a-file in the way, exists" {
    printf 'abc' >"$ROOT/f"
    mkdir "$ROOT/dir" "$ROOT/.partial.d"
    mkfifo "$ROOT/.partial.pipe"
    start_ftp_server
    raw_open
    local request
    for request in "get|0|dir" "put|3|dir"; do
        reply_to "$request"
        [ "$REPLY" = "error|is-a-directory|Is a directory" ] ||
            fail "'$request', dir a directory: '$REPLY'"
    done
    reply_to "get|2|f" # SIZE - 1: one byte
    [ "$REPLY" = "ready|3|2" ] || fail "get|2| of 3 bytes: '$REPLY'"
    [ "$(with_timeout 5 head -c 1 <&"$FTP_FD")" = c ]
    reply_to "get|3|f" # SIZE: no bytes, and the next reply right behind
    [ "$REPLY" = "ready|3|3" ] || fail "get|3| of 3 bytes: '$REPLY'"
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ] || fail "after get|3| of 3 bytes: '$REPLY'"
    reply_to "get|4|f" # SIZE + 1
    [ "$REPLY" = "error|bad-offset|offset 4 is past the end of the file (3 bytes)" ] ||
        fail "get|4| of 3 bytes: '$REPLY'"
    for request in "put|3|pipe" "put|3|d"; do
        reply_to "$request"
        [ "$REPLY" = "error|not-a-file|.partial.${request#put|3|} is in the way" ] ||
            fail "'$request', with something not a file as" \
                ".partial.${request#put|3|}: '$REPLY' (PROTOCOL.md, put)"
    done
    for request in "mkdir|f" "mkdir|dir"; do
        reply_to "$request"
        [ "$REPLY" = "error|exists|File exists" ] || fail "'$request': '$REPLY'"
    done
}

# lab: jail
@test "delete refuses a directory that is not empty, and the top itself: bad-path" {
    start_ftp_server
    mkdir "$ROOT/full"
    touch "$ROOT/full/x"
    raw_open
    reply_to "delete|full"
    [ "$REPLY" = "error|not-empty|Directory not empty" ]
    local request
    for request in "delete|." "delete|full/.." "get|0|." "put|3|full/.." \
        "mkdir|./"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|the top directory itself cannot be fetched, replaced, made or deleted" ] ||
            fail "'$request': expected bad-path for the top (PROTOCOL.md, Names), got '$REPLY'"
    done
    [ -e "$ROOT/full/x" ]
}

# lab: framing
@test "a client's get never writes outside its own directory" {
    start_ftp_server
    mkdir -p "$ROOT/deep/er"
    printf 'inside\n' >"$ROOT/deep/er/f.txt"
    run ftp "get deep/er/f.txt" "get deep/er/"
    [ "$status" -eq 1 ]
    [ "$(cat "$HERE/f.txt")" = inside ]
    [[ "$output" == *"get: 'deep/er/' does not name a file"* ]] ||
        fail "$output"
    [ ! -e "$HERE/deep" ]
}

# lab: framing
@test "malformed requests get error replies and the connection stays usable" {
    start_ftp_server
    raw_open
    local request
    for request in "" "bogus" "get" "get|x|name" "get|-1|name" \
        "get|99999999999999999999|name" "get|9223372036854775808|name" \
        "get|00000000000000000000|name" "pwd|extra" "put|5"; do
        reply_to "$request"
        [[ "$REPLY" == "error|bad-request|"* ]] ||
            fail "'$request' got '$REPLY'"
    done
    # 2^63 - 1 and 19 digits are numbers (2^63 and 20 digits, above, not).
    printf 'abc' >"$ROOT/f"
    for request in "get|9223372036854775807|f" "get|0000000000000000004|f"; do
        reply_to "$request"
        [[ "$REPLY" == "error|bad-offset|"* ]] ||
            fail "'$request': expected bad-offset, got '$REPLY'"
    done
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ]
}

# lab: framing
@test "PROTOCOL.md's small print: empty names, control bytes, leading zeros, the line limit" {
    printf 'Hello, world!\n' >"$ROOT/hello.txt"
    start_ftp_server
    raw_open
    local request
    for request in "get|0|" "put|3|" "delete|" "mkdir|"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-request|this command needs a name" ] ||
            fail "'$request': expected bad-request for an empty name, got '$REPLY'"
    done
    # A control byte anywhere in a line is framing's business: the line
    # is refused before its name is looked at.
    raw_send 'get|0|ctl\x01byte\n'
    expect_reply "error|bad-request|control bytes in request"
    reply_to "get|0007|hello.txt" # leading zeros: 7
    [ "$REPLY" = "ready|14|7" ] || fail "leading zeros: '$REPLY'"
    [ "$(with_timeout 5 head -c 7 <&"$FTP_FD")" = world! ]

    # A line ends in '\n' alone: a '\r' before it is a control byte.
    raw_send 'pwd\r\n'
    expect_reply "error|bad-request|control bytes in request" ||
        fail "'pwd\\r\\n' must be refused: PROTOCOL.md, Framing: a line" \
            "ends in '\\n' alone, and a '\\r' before it is a control byte." \
            "read_line() must keep every byte before the '\\n' (it strips" \
            "no '\\r': that would accept CRLF)"

    # At most 1024 bytes, the newline included: 1023 and 1024 bytes are
    # requests (pwd takes no field), 1025 is not. (A path that long is
    # paths.c's business, tested with the jail.)
    local field
    field=$(printf '%*s' $((1023 - 4 - 1)) '' | tr ' ' x)
    reply_to "pwd|$field" # 4 + 1018 bytes, and the newline: 1023
    [ "$REPLY" = "error|bad-request|this command takes no arguments" ] ||
        fail "a request line of 1023 bytes: '$REPLY'"
    reply_to "pwd|${field}x" # 1024
    [ "$REPLY" = "error|bad-request|this command takes no arguments" ] ||
        fail "a request line of 1024 bytes, its '\\n' included, is a" \
            "request (PROTOCOL.md), but got '$REPLY': read_line() may fill" \
            "all of size - 1 bytes, and then the '\\n'"
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ]
    send_request "pwd|${field}xx" # 1025 bytes
    expect_reply "error|line-too-long|a request line is at most 1024 bytes; closing the connection"
}

# lab: framing
@test "a NUL byte inside a request line is a control byte: the whole line is refused, not cut at the NUL" {
    printf 'not for you\n' >"$ROOT/nul"
    start_ftp_server
    raw_open
    raw_send 'get|0|nul\0byte\n'
    read_reply
    [ "$REPLY" = "error|bad-request|control bytes in request" ] ||
        fail "'get|0|nul\\0byte' (a NUL inside the line), a file 'nul'" \
            "served, got '$REPLY', not bad-request: the line was cut at" \
            "its NUL. read_line() returns the length it counted, not" \
            "strlen(line), which stops at the first NUL byte"
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ] || fail "pwd after the NUL line: '$REPLY'"
}

# lab: framing
@test "a line of 1023, 1024 or 1025 bytes whose newline comes a moment after the rest is answered as if it came whole" {
    start_ftp_server
    raw_open
    local field body
    field=$(printf '%*s' $((1023 - 4 - 1)) '' | tr ' ' x)
    for body in "pwd|$field" "pwd|${field}x"; do # 1023 and 1024 bytes
        send_quietly '%s' "$body"
        sleep 0.2
        send_quietly '\n'
        read_reply
        [ "$REPLY" = "error|bad-request|this command takes no arguments" ] ||
            fail "a request line of $((${#body} + 1)) bytes, its '\\n' sent" \
                "0.2 s after the rest, got '$REPLY'; sent whole, it is a" \
                "request (the small print test). A line is too long only" \
                "when a byte comes that does not fit, never before the next" \
                "recv() has shown whether it is the '\\n'"
    done
    send_quietly '%s' "pwd|${field}xx" # 1025 bytes with its '\n'
    sleep 0.2
    send_quietly '\n'
    read_reply
    [ "$REPLY" = "error|line-too-long|a request line is at most 1024 bytes; closing the connection" ] ||
        fail "a request line of 1025 bytes, its '\\n' sent 0.2 s after" \
            "the rest: '$REPLY', not line-too-long"
}

# lab: framing
@test "a request line over 1024 bytes in pieces smaller than that: line-too-long all the same, and no crash" {
    start_ftp_server
    raw_open
    local piece
    piece=$(printf '%*s' 1000 '' | tr ' ' x)
    send_quietly '%s' "pwd|${piece:4}" # 3 writes of 1000 bytes
    sleep 0.1
    send_quietly '%s' "$piece"
    sleep 0.1
    send_quietly '%s\n' "${piece:1}"
    read_reply
    [ "$REPLY" = "error|line-too-long|a request line is at most 1024 bytes; closing the connection" ] ||
        fail "a request line of 3000 bytes, sent as 3 writes of 1000" \
            "bytes 0.1 s apart, got '$REPLY', not line-too-long." \
            "read_line() must hold the whole line to the limit, what it" \
            "has so far and what this recv() brought (len + chunk), not" \
            "each recv()'s bytes alone: past line[]'s end they overwrite" \
            "the stack"
    tcp_close "$FTP_FD"
    server_survived "a 3000-byte line in pieces"
    run ftp "pwd"
    [ "$output" = "/" ] || fail "the next client, after the long line: $output"
}

# lab: framing
@test "each request line has a clock of its own under -t 1: a line split in two, begun 1.2 s after the first, is answered" {
    start_server "$STAGE_DIR/server" -d "$ROOT" -t 1 0
    raw_open
    send_quietly 'pw'
    sleep 0.6
    send_quietly 'd\n'
    expect_reply "ok|/"
    sleep 0.6 # under -t 1 of silence; this line starts 1.2 s after the first
    send_quietly 'pw'
    sleep 0.2
    send_quietly 'd\n'
    read_reply
    [ "$REPLY" = "ok|/" ] ||
        fail "-t 1: two lines each sent in two pieces (0.6 s and 0.2 s" \
            "apart), the second begun 1.2 s after the first: the second" \
            "got '$REPLY', not 'ok|/'. Each line's clock starts at its own" \
            "first byte: read_line()'s deadline must start at 0 on every" \
            "call (a static one keeps the first line's, long past)"
}

# lab: framing
@test "a connection closed in the middle of a request line is an error, not an end" {
    needs_our_server "it reads how our server logs each end"
    start_ftp_server
    raw_open
    raw_send 'pwd\n'
    expect_reply "ok|/"
    tcp_close "$FTP_FD" # between lines: the normal end of a session
    wait_until 5 log_reaches 1 ' disconnected$' ||
        fail "a client that closed between two lines was not logged as" \
            "'disconnected': read_line() returns LINE_EOF then"
    raw_open
    raw_send 'pw' # and no '\n'
    tcp_close "$FTP_FD"
    wait_until 5 log_reaches 1 'connection lost mid-request' || {
        local said
        said=$(grep -v '^listening\|^serving' "$SERVER_LOG" | tail -n 1)
        fail "a client that closed after 'pw', in the middle of a line," \
            "was logged as '$said', not 'connection lost mid-request'." \
            "read_line(): recv() returning 0 after a line's first byte is" \
            "LINE_ERROR (a message cut short); LINE_EOF only before it"
    }
}

# lab: jail
@test "a path is at most 999 bytes, and every reply that names one fits in a line" {
    start_ftp_server
    local part deep="" i
    part=$(printf '%*s' 199 '' | tr ' ' d) # 5 of these, and 4 '/': 999
    for i in 1 2 3 4 5; do
        deep+="${deep:+/}$part"
    done
    mkdir -p "$ROOT/$deep/$(printf '%*s' 19 '' | tr ' ' e)"
    raw_open
    reply_to "cd|$deep"
    [ "$REPLY" = "ok|/$deep" ] || fail "cd: '${REPLY:0:40}...'"
    reply_to "pwd"
    [ "$REPLY" = "ok|/$deep" ] || fail "pwd: '${REPLY:0:40}...'"
    # 1019 bytes: its "ok|/PATH" would not fit in a line.
    reply_to "cd|eeeeeeeeeeeeeeeeeee"
    [ "$REPLY" = "error|bad-path|name too long" ] || fail "1019 bytes: '$REPLY'"
    reply_to "mkdir|x"
    [ "$REPLY" = "error|bad-path|name too long" ] || fail "1001 bytes: '$REPLY'"

    # The limit with the '/' that joins the current directory (996
    # bytes) and the name: 998 and 999 bytes are paths, 1000 is not.
    local cwd="${deep:0:799}/$(printf '%*s' 196 '' | tr ' ' c)" name
    mkdir -p "$ROOT/$cwd"
    reply_to "cd"
    reply_to "cd|$cwd"
    [ "$REPLY" = "ok|/$cwd" ] || fail "cd to 996 bytes: '${REPLY:0:40}...'"
    for name in a ab; do
        reply_to "mkdir|$name"
        [ "$REPLY" = "ok|created /$cwd/$name" ] ||
            fail "mkdir of a path of $((996 + 1 + ${#name})) bytes:" \
                "'${REPLY:0:60}...'"
    done
    reply_to "mkdir|abc"
    [ "$REPLY" = "error|bad-path|name too long" ] || {
        [ ! -d "$ROOT/$cwd/abc" ] || rmdir "$ROOT/$cwd/abc"
        fail "mkdir of a path of 1000 bytes (996, the '/', 3): expected" \
            "'error|bad-path|name too long', got '${REPLY:0:40}...'." \
            "resolve_path() must count the '/' that joins a name to what" \
            "is before it: len + 1 + part, and the NUL, within out_size;" \
            "without the '/', a 1000-byte path overruns path[1000] by one"
    }

    # From there, a name of 1017 bytes: 2014 bytes joined, refused
    # before they are copied into path[1000] (the test of buffers below
    # sees a copy past its end), and the session goes on.
    name=$(printf '%*s' 1017 '' | tr ' ' n)
    reply_to "get|0|$name"
    [ "$REPLY" = "error|bad-path|name too long" ] ||
        fail "get|0| and a name of 1017 bytes, from a current directory" \
            "of 996 bytes: '${REPLY:0:60}...'"
    reply_to "pwd"
    [ "$REPLY" = "ok|/$cwd" ] || fail "pwd after that: '${REPLY:0:60}...'"

    # A request line of the full 1024 bytes, its name 1017 bytes long.
    reply_to "cd"
    name=$(printf '%*s' $((1024 - 7)) '' | tr ' ' n)
    reply_to "get|0|$name"
    [ "$REPLY" = "error|bad-path|name too long" ] ||
        fail "get|0| and a name of 1017 bytes: '$REPLY'"
    name=$(printf '%*s' $((1024 - 4)) '' | tr ' ' l)
    reply_to "ls|$name"
    [ "$REPLY" = "error|bad-path|name too long" ] ||
        fail "the server answered '$REPLY' to ls| and a name of 1020" \
            "bytes, not 'error|bad-path|name too long': resolve_path()"
    tcp_close "$FTP_FD"

    # Our client sends such a line too: the server answered it right.
    run ftp "ls $name"
    [[ "$output" == *"error: name too long (bad-path)"* ]] ||
        fail "the client, told 'ls <1020 bytes>', did not show the" \
            "server's answer to a 1024-byte line ('error: name too long" \
            "(bad-path)', as the server answered it over /dev/tcp above):" \
            "'$output'. The client must send request lines of up to 1024" \
            "bytes, the '\\n' included"
}

# --- staying inside the served directory --------------------------------

# refused REQUEST HOW: the reply to REQUEST is an error bad-path or
# bad-request; HOW says what got out if it is not.
refused() {
    reply_to "$1"
    [[ "$REPLY" == error\|bad-path\|* || "$REPLY" == error\|bad-request\|* ]] ||
        fail "'$1' was not refused: '$REPLY': ${*:2}"
}

# lab: jail
@test "'..' and absolute names never lead out of the served directory, and nothing outside changes" {
    local outside="$BATS_TEST_TMPDIR/outside"
    mkdir -p "$outside"
    printf 'secret\n' >"$outside/secret.txt"
    mkdir "$ROOT/sub"
    start_ftp_server
    raw_open
    local request
    for request in "get|0|../outside/secret.txt" "get|0|/etc/passwd" \
        "get|0|sub/../../outside/secret.txt" "cd|.." "cd|/" "ls|.." \
        "ls|sub/../.." "put|4|../evil" "put|4|/tmp/evil" \
        "delete|../outside/secret.txt" "mkdir|../newdir" \
        "get|0|.partial.x" "put|4|sub/.partial.y"; do
        case $request in
        *.partial.*)
            refused "$request" "names starting with .partial. are" \
                "reserved for unfinished uploads: resolve_path() must refuse" \
                "a component that starts with .partial." ;;
        *\|/*)
            refused "$request" "absolute names must be refused" \
                "(given code, before your loop)" ;;
        *)
            refused "$request" "resolve_path() must refuse a '..' at the top," \
                "or '..' climbs out of the served directory" ;;
        esac
    done
    raw_send 'get|0|nul\0byte\n'
    expect_reply "error|bad-request|control bytes in request"
    [ "$(cat "$outside/secret.txt")" = secret ]
    [ ! -e "$BATS_TEST_TMPDIR/evil" ]
    [ ! -e "$BATS_TEST_TMPDIR/.partial.evil" ]
    [ ! -e "$BATS_TEST_TMPDIR/newdir" ]
    [ ! -e /tmp/evil ]
}

# lab: jail
@test "symbolic links never lead out of the served directory: not followed, not replaced" {
    local outside="$BATS_TEST_TMPDIR/outside"
    mkdir -p "$outside/dir"
    printf 'secret\n' >"$outside/secret.txt"
    ln -s "$outside/secret.txt" "$ROOT/link"
    ln -s "$outside/dir" "$ROOT/linkdir"
    start_ftp_server
    raw_open
    local request
    for request in "get|0|link" "get|0|linkdir/x" "cd|linkdir" \
        "ls|linkdir" "put|4|linkdir/evil" "delete|linkdir/x" \
        "mkdir|linkdir/newdir"; do
        refused "$request" "symbolic links must not be followed, or they" \
            "lead out of the served directory: open_beneath() opens one" \
            "component at a time, with O_NOFOLLOW (a link: ELOOP, which is" \
            "bad-path)"
    done

    # A put onto a link's name is refused: the link is neither followed
    # nor replaced. Deleting the link removes the link, not what it
    # points to.
    for request in "put|4|link" "put|4|linkdir"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|symbolic links are not followed" ] ||
            fail "'$request' onto a symbolic link: expected bad-path, got '$REPLY'"
    done
    [ -L "$ROOT/link" ] || fail "put replaced the link"
    reply_to "delete|link"
    [ "$REPLY" = "ok|deleted /link" ]
    [ "$(cat "$outside/secret.txt")" = secret ]
    [ -z "$(ls -A "$outside/dir")" ]

    # One directory down (and no link of that name at the top): a link
    # asked for as a directory is still named as a link.
    mkdir "$ROOT/sub"
    ln -s "$outside/dir" "$ROOT/sub/inner"
    for request in "cd|sub/inner" "ls|sub/inner" "get|0|sub/inner/x"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|symbolic links are not followed" ] ||
            fail "'$request', sub/inner a symbolic link: expected bad-path," \
                "symbolic links are not followed; got '$REPLY'. To tell a" \
                "link from a file (both ENOTDIR), open_beneath() must" \
                "fstatat() it in the directory that holds it, not in the top"
    done
}

# lab: jail
@test "the top listed again and again in one session, as '' and '.', gives the same entries" {
    mkdir "$ROOT/dir"
    printf 'abc' >"$ROOT/file"
    start_ftp_server
    raw_open
    local request first="" got line n i
    for request in "ls" "ls" "ls|." "ls|dir/.." "ls"; do
        reply_to "$request"
        got=$REPLY
        n=${REPLY#ok|}
        [[ "$n" =~ ^[0-9]+$ ]] || fail "'$request' at the top: '$REPLY'"
        for ((i = 0; i < n; i++)); do
            IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" ||
                fail "'$request': $i lines of $n came"
            got+=" $line"
        done
        : "${first:=$got}"
        [ "$got" = "$first" ] ||
            fail "'$request' at the top in the same session listed '$got'," \
                "where the first ls listed '$first'. open_beneath() of ''" \
                "must open the top afresh, openat(root_fd, \".\"), not" \
                "dup(root_fd): a dup shares the directory's read position," \
                "left at the end by the listing before"
    done
}

# lab: jail
@test "'..' drops one component, and names that only start with '..' or hold .partial. are names" {
    mkdir -p "$ROOT/a/b" "$ROOT/a/c"
    printf 'in c\n' >"$ROOT/a/c/f"
    start_ftp_server
    raw_open
    reply_to "cd|a/b/../c"
    [ "$REPLY" = "ok|/a/c" ] ||
        fail "cd|a/b/../c: expected 'ok|/a/c', got '$REPLY'. '..' drops" \
            "the last component alone (and the '/' before it), as cd .." \
            "does; not the whole path"
    reply_to "cd|../b/./../c/"
    [ "$REPLY" = "ok|/a/c" ] || fail "cd|../b/./../c/ from /a/c: '$REPLY'"
    reply_to "cd|..//./c//"
    [ "$REPLY" = "ok|/a/c" ] || fail "cd|..//./c// from /a/c: '$REPLY'"
    reply_to "get|0|../../a/c/f"
    [ "$REPLY" = "ready|5|0" ] || fail "get|0|../../a/c/f from /a/c: '$REPLY'"
    [ "$(with_timeout 5 head -c 5 <&"$FTP_FD")" = "in c" ]
    reply_to "cd"

    # '..x', '...', '.x' and 'my.partial.txt' are names like any other: only
    # a component that is '..', or starts with '.partial.', is special.
    local name
    for name in "..x" "..." ".x" "my.partial.txt" ".partial" "x.partial."; do
        reply_to "put|3|$name"
        [ "$REPLY" = "ready|0" ] ||
            fail "put|3|$name: expected 'ready|0', got '$REPLY'. '$name'" \
                "is a name: '..' is special only as a whole component" \
                "(part == 2), '.partial.' only at a component's start"
        printf 'abc' >&"$FTP_FD"
        expect_reply "ok|stored 3 bytes"
        reply_to "get|0|$name"
        [ "$REPLY" = "ready|3|0" ] || fail "get|0|$name: '$REPLY'"
        [ "$(with_timeout 5 head -c 3 <&"$FTP_FD")" = abc ]
    done
    reply_to "mkdir|..dir"
    [ "$REPLY" = "ok|created /..dir" ] || fail "mkdir|..dir: '$REPLY'"
    reply_to "cd|..dir/../..dir"
    [ "$REPLY" = "ok|/..dir" ] || fail "cd|..dir/../..dir: '$REPLY'"
}

# lab: jail
@test "an unfinished upload cannot be reached through any component: .partial.NAME/." {
    printf 'half an upload' >"$ROOT/.partial.data"
    mkdir "$ROOT/.partial.dir"
    printf 'hidden' >"$ROOT/.partial.dir/f"
    start_ftp_server
    raw_open
    local request
    for request in "get|0|.partial.data/." "get|0|.partial.data/" \
        "get|0|.partial.dir/f" "ls|.partial.dir" "cd|.partial.dir" \
        "get|0|.partial.dir/../.partial.data" "delete|.partial.dir/f"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|names starting with .partial. are reserved" ] ||
            fail "'$request': expected bad-path, names starting with" \
                ".partial. are reserved; got '$REPLY'. resolve_path() must" \
                "refuse .partial. at the start of every component, not" \
                "only the last: 'x/.' and 'x/f' name x too"
    done
    [ -e "$ROOT/.partial.dir/f" ]

    # A reserved component is refused where it stands, even when a '..'
    # takes it away again.
    printf 'f' >"$ROOT/f"
    for request in "get|0|.partial.nothere/../f" "mkdir|.partial.dir/../new" \
        "ls|.partial.x/.."; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|names starting with .partial. are reserved" ] ||
            fail "'$request': expected bad-path, names starting with" \
                ".partial. are reserved; got '$REPLY'. Refuse a .partial." \
                "component as resolve_path() reads it from the name, not in" \
                "the result: a later '..' removes it from there (LAB.md)"
    done
    [ ! -e "$ROOT/new" ] || fail "mkdir|.partial.dir/../new made /new"
}

# lab: jail
@test "a component is at most 255 bytes: longer is an error, never the file its first 255 bytes name" {
    local max
    max=$(getconf NAME_MAX "$ROOT" 2>/dev/null) || max=255
    local long short
    short=$(printf '%*s' "$max" '' | tr ' ' a)
    long=$(printf '%*s' 300 '' | tr ' ' a)
    printf 'the short one\n' >"$ROOT/$short"
    printf '254\n' >"$ROOT/${short:1}"
    start_ftp_server
    raw_open
    reply_to "get|0|${short:1}" # NAME_MAX - 1
    [ "$REPLY" = "ready|4|0" ] || fail "a name of $((max - 1)) bytes: '$REPLY'"
    with_timeout 5 head -c 4 <&"$FTP_FD" >/dev/null
    reply_to "get|0|$short" # NAME_MAX
    [ "$REPLY" = "ready|14|0" ] || fail "a name of $max bytes: '$REPLY'"
    with_timeout 5 head -c 14 <&"$FTP_FD" >/dev/null
    local request
    for request in "get|0|${short}a" "get|0|$long" "ls|$long" \
        "get|0|$long/x" "cd|$long/x" "put|3|$long"; do
        reply_to "$request"
        [ "$REPLY" = "error|bad-path|File name too long" ] ||
            fail "'${request:0:12}...', a component of $((max + 1)) or 300" \
                "bytes: expected 'error|bad-path|File name too long', got" \
                "'$REPLY'. A component is passed whole to openat(), which" \
                "refuses it (ENAMETOOLONG); cut to $max bytes, it names" \
                "another file"
    done
    [ ! -e "$ROOT/${long:0:max}x" ]
}

# lab: jail
@test "resolve_path() and open_beneath() write nothing past a buffer: long paths, 256-byte components (AddressSanitizer if the compiler has it)" {
    needs_our_server "it compiles 04_ftp/paths.c with a driver of its own"
    mkdir "$ROOT/sub"
    local src="$BATS_TEST_TMPDIR/bounds.c" bin="$BATS_TEST_TMPDIR/bounds"
    cat >"$src" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "paths.h"
int has_control_bytes(const char *s, size_t len) /* request.c's, here */
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 32 || s[i] == 127)
            return 1;
    return 0;
}
static struct { char out[MAX_PATH]; unsigned char guard[2048]; } b;
static char cwd[996], name[1018], comp[300];
int main(int argc, char **argv)
{
    int bad = 0, root_fd = open(argv[argc - 1], O_RDONLY | O_DIRECTORY);
    memset(cwd, 'd', 995), cwd[199] = cwd[399] = cwd[599] = cwd[799] = '/';
    memset(name, 'n', 1017);
    for (const char *c = cwd; c != NULL; c = c[0] == 'd' ? "" : NULL) {
        memset(&b, 0x5a, sizeof b);
        printf("resolve_path() of a name of 1017 bytes from a current "
               "directory of %zu bytes\n", strlen(c));
        fflush(stdout);
        const char *why = resolve_path(c, name, b.out, sizeof b.out);
        size_t past = sizeof b.guard;
        while (past > 0 && b.guard[past - 1] == 0x5a)
            past--;
        if (why == NULL || strcmp(why, "name too long") != 0 || past > 0)
            bad = printf("=> got '%s', and %zu bytes written past out[%d]\n",
                         why ? why : "(NULL)", past, MAX_PATH);
    }
    memset(comp, 'a', 256);
    const char *dirs[] = {"", "sub/", "sub/x/"};
    char path[400];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", dirs[i], comp);
        printf("open_beneath() of %s<256 bytes>\n", dirs[i]);
        fflush(stdout);
        errno = 0;
        int fd = open_beneath(root_fd, path, O_RDONLY, 0);
        if (fd >= 0 || (errno != ENAMETOOLONG && errno != ENOENT))
            bad = printf("=> got %d (%s)\n", fd, strerror(errno));
    }
    return bad != 0;
}
EOF
    local cc=("${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -g
        -I"$STAGE_DIR" -o "$bin" "$src" "$STAGE_DIR/paths.c")
    local asan=" (with AddressSanitizer)"
    "${cc[@]}" -fsanitize=address -fno-omit-frame-pointer 2>/dev/null || {
        asan=" (no AddressSanitizer here: only writes past out[] are seen)"
        "${cc[@]}" || fail "paths.c does not build with the test's driver"
    }
    run env ASAN_OPTIONS=detect_leaks=0 "$bin" "$ROOT"
    ((status != 0)) || return 0
    local last # what the driver was doing when it first failed
    last=$(awk '/^(resolve_path|open_beneath)\(\) of/ { l = $0 }
        /^=> |AddressSanitizer/ { print l; exit }' <<<"$output")
    case $last$output in
    resolve_path*"bytes written past out"* | resolve_path*AddressSanitizer*)
        fail "$last: resolve_path() wrote past the caller's buffer$asan." \
            "Check the length before each component is copied in" \
            "(len + 1 + part < out_size), not once at the end"
        ;;
    open_beneath*AddressSanitizer*)
        fail "$last: AddressSanitizer saw a write past a buffer. A" \
            "component of 256 bytes and its NUL need 257: refuse" \
            "part >= sizeof comp, not part > sizeof comp"
        ;;
    *) fail "the driver of paths.c$asan failed: $output" ;;
    esac
}

# lab: jail
@test "a named pipe in the middle of a path is not a directory: answered at once" {
    mkfifo "$ROOT/fifo"
    mkdir "$ROOT/sub"
    mkfifo "$ROOT/sub/fifo"
    start_ftp_server
    raw_open
    local request status
    for request in "get|0|fifo/x" "ls|sub/fifo/x" "cd|fifo" \
        "put|3|sub/fifo/x"; do
        send_request "$request"
        status=0
        IFS= read -r -t "$(scaled 5)" REPLY <&"$FTP_FD" || status=$?
        ((status == 0)) ||
            fail "'$request', where fifo is a named pipe: $(no_reply \
                "$status"). open_beneath() must open each directory on the" \
                "way with O_DIRECTORY: opening a pipe without it waits for a" \
                "writer, for ever"
        [ "$REPLY" = "error|not-a-directory|Not a directory" ] ||
            fail "'$request', where fifo is a named pipe: '$REPLY'"
    done
}

# lab: jail
@test "failing requests leak no descriptor: 200 of each kind, the server limited to 64" {
    mkdir -p "$ROOT/sub/dir"
    printf 'f' >"$ROOT/sub/file"
    ln -s "$ROOT/sub/dir" "$ROOT/sub/link"
    mkfifo "$ROOT/sub/fifo"
    start_ftp_server --nofile 64
    raw_open
    local long # a component too long, one directory down: refused there
    long=$(printf '%*s' 300 '' | tr ' ' a)
    local kinds=("get|0|sub/missing/x" "get|0|sub/link/x" "get|0|sub/file/x"
        "get|0|sub/link" "get|0|sub/missing" "get|0|sub/dir" "get|0|sub/fifo"
        "get|9|sub/file" "ls|sub/file" "cd|sub/missing/x" "put|1|sub/link/x"
        "put|1|sub/missing/x" "put|1|sub/dir" "mkdir|sub/file/x"
        "mkdir|sub/link/x" "delete|sub/missing/x" "delete|sub/link/x"
        "get|0|sub/$long" "cd|sub/dir/$long/x" "put|1|sub/${long:0:256}")
    local kind
    for kind in "${kinds[@]}"; do
        reply_to "$kind"
        [[ "$REPLY" == error\|* ]] || fail "'$kind': '$REPLY'"
        printf '%s\t%s\n' "$kind" "$REPLY"
    done >"$BATS_TEST_TMPDIR/first"
    # 200 rounds of them, in one write, read back by a reader of its own
    # (the replies may not all fit in the socket's buffers at once).
    local total=$((200 * ${#kinds[@]})) reader
    awk -F '\t' '{ r[NR] = $1 } END {
        for (i = 0; i < 200; i++) for (j = 1; j <= NR; j++) print r[j] }' \
        "$BATS_TEST_TMPDIR/first" >"$BATS_TEST_TMPDIR/requests"
    with_timeout 20 head -n "$total" <&"$FTP_FD" >"$BATS_TEST_TMPDIR/replies" \
        3>&- 4>&- &
    reader=$!
    (trap '' PIPE && cat "$BATS_TEST_TMPDIR/requests") >&"$FTP_FD" 2>/dev/null ||
        true
    wait "$reader" || true
    # The first reply that differs from the first of its kind.
    local wrong
    wrong=$(awk -F '\t' -v kinds=${#kinds[@]} -v total="$total" '
        NR == FNR { req[NR - 1] = length($1) > 40 ? substr($1, 1, 40) "..." : $1
                    want[NR - 1] = $2; next }
        { i = (FNR - 1) % kinds
          if ($0 != want[i]) { bad = 1; exit } }
        END { if (!bad && FNR < total) { bad = 1; FNR++; i = (FNR - 1) % kinds }
              if (bad) printf "request %d of %d, \047%s\047, got \047%s\047," \
                  " where the first got \047%s\047", FNR, total, req[i],
                  $0, want[i] }' \
        "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/replies")
    [ -z "$wrong" ] ||
        fail "$wrong: with 64 descriptors, a server that leaks one per" \
            "failing request runs out (EMFILE). open_beneath() must close" \
            "the directory it holds when an openat() fails, and on every" \
            "other way out: a component too long for its buffer too"
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ]
}

# lab: jail
@test "a directory swapped for a symbolic link while requests run never leads out (a racer, 30,000 requests)" {
    local outside="$BATS_TEST_TMPDIR/outside"
    mkdir -p "$outside" "$ROOT/d"
    printf 'SECRET\n' >"$outside/x"
    printf 'inside\n' >"$ROOT/d/x"
    ln -s "$outside" "$ROOT/link"
    start_ftp_server
    raw_open
    # The racer: tests/swapper swaps d, a directory, and link, a
    # symbolic link to outside, a million times a second, for at most
    # 20 s (scaled).
    local swapper="$TOP/tests/swapper"
    [ -x "$swapper" ] || fail "$swapper is not built: run make test" \
        "(or make tests/swapper)"
    "$swapper" "$(scaled 20)" "$ROOT/d" "$ROOT/link" 3>&- 4>&- &
    local racer=$!
    _test_pids+=("$racer")
    # Fifteen batches of 2000 requests, each ended by a pwd, so that the
    # server is kept busy (the race is won in a moment between two
    # calls) and never far behind. A count of requests, not a time: on
    # a busy machine the server makes as many tries, only more slowly.
    yes 'get|0|d/x' | head -n 2000 >"$BATS_TEST_TMPDIR/batch"
    echo pwd >>"$BATS_TEST_TMPDIR/batch"
    : >"$BATS_TEST_TMPDIR/out"
    local batch
    for ((batch = 0; batch < 15; batch++)); do
        is_running "$racer" || break
        (trap '' PIPE && cat "$BATS_TEST_TMPDIR/batch") >&"$FTP_FD" ||
            fail "the server closed the connection while d was swapped"
        with_timeout 10 sed -n '/^ok|\/$/q; /^SECRET$/p' <&"$FTP_FD" \
            >>"$BATS_TEST_TMPDIR/out" ||
            fail "no reply to get|0|d/x while d was being swapped"
        [ ! -s "$BATS_TEST_TMPDIR/out" ] || break
    done
    stop_process "$racer"
    local got
    got=$(wc -l <"$BATS_TEST_TMPDIR/out")
    ((got == 0)) ||
        fail "get|0|d/x sent the file outside the served directory" \
            "$got times while d was swapped for a symbolic link to it:" \
            "checking each component for a link, then opening the whole" \
            "path with one openat(), leaves a moment for the swap (so does" \
            "checking a component with fstatat(), then opening it without" \
            "O_NOFOLLOW). Open one component at a time, each with" \
            "O_NOFOLLOW, from the descriptor of the one before: the check" \
            "and the open are then one call"
}

# lab: framing
@test "a named pipe in the served directory does not hang a get" {
    mkfifo "$ROOT/pipe"
    start_ftp_server
    raw_open
    reply_to "get|0|pipe"
    [ "$REPLY" = "error|not-a-file|only regular files are sent" ]
}

# lab: framing
@test "put race: a second upload that locks a file just finished is refused busy, and the file stays whole" {
    # tests/lockgate.c holds the second upload back between its open of
    # .partial.same and its lock, until the first has renamed the file
    # to 'same' and closed it: the one interleaving that a lock alone
    # does not stop.
    local gate="$BATS_TEST_TMPDIR/gate" shim="$TOP/tests/lockgate.so"
    [ -f "$shim" ] || fail "$shim is not built: run make test" \
        "(or make tests/lockgate.so)"
    mkdir "$gate"
    start_server "$(command -v env)" LD_PRELOAD="$shim" LOCKGATE_DIR="$gate" \
        "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    local first=$FTP_FD
    send_request "put|10|same"
    expect_reply "ready|0"
    raw_open
    local second=$FTP_FD
    send_request "put|4|same"
    wait_for_line "$SERVER_LOG" '^lockgate: [0-9]+ waits$' 10 >/dev/null ||
        fail "the second upload never came to its lock"

    FTP_FD=$first
    printf '0123456789' >&"$FTP_FD"
    expect_reply "ok|stored 10 bytes"
    reply_to "quit" # its reply comes after the session closed the file
    [ "$REPLY" = "ok|bye" ]
    touch "$gate/open"
    FTP_FD=$second
    local answer
    IFS= read -r -t "$(scaled 10)" answer <&"$FTP_FD" ||
        fail "no reply to the second put"
    [ "$(cat "$ROOT/same")" = 0123456789 ] ||
        fail "the second upload changed the finished file (now" \
            "$(stat -c %s "$ROOT/same") bytes): its lock was on what had" \
            "just become 'same'. After locking, check that .partial.same" \
            "still names the locked file (st_dev and st_ino)"
    [ "$answer" = "error|busy|another client is uploading this name; try again later" ] ||
        fail "the second put got '$answer', not busy"
    reply_to "put|4|same" # and it may try again
    [ "$REPLY" = "ready|0" ]
    printf 'new!' >&"$FTP_FD"
    expect_reply "ok|stored 4 bytes"
}

# --- bad input: the server survives, others are served -------------------

# lab: framing
@test "a request line over 1024 bytes: error line-too-long, then the server closes" {
    start_ftp_server
    raw_open
    head -c 2000 /dev/zero | tr '\0' 'a' >&"$FTP_FD"
    expect_reply "error|line-too-long|a request line is at most 1024 bytes; closing the connection"
    if IFS= read -r -t "$(scaled 5)" REPLY <&"$FTP_FD"; then
        fail "the connection stayed open: '$REPLY'"
    fi
}

# lab: framing
@test "a 1 MiB line without a newline: answered or closed, memory bounded, others served" {
    start_ftp_server
    local rss_before status=0
    rss_before=$(proc_status "$SERVER_PID" VmRSS)
    raw_open
    local flood=$FTP_FD
    head -c $((1024 * 1024)) /dev/zero | tr '\0' 'a' >&"$flood" || true
    # The server replies and closes with most of the megabyte unread, so
    # its kernel may answer with a reset that overtakes the reply: either
    # outcome is fine, silence (a timeout, status > 128) is not.
    IFS= read -r -t "$(scaled 5)" REPLY <&"$flood" || status=$?
    ((status <= 128)) || fail "neither an answer nor a close in 5 s"
    [ "$status" -ne 0 ] || [[ "$REPLY" == "error|line-too-long|"* ]] ||
        fail "got '$REPLY'"

    run ftp "pwd"
    [ "$output" = "/" ]
    (($(proc_status "$SERVER_PID" VmRSS) - rss_before < 4096))
    tcp_close "$flood"
}

# lab: framing
@test "binary garbage: answered or closed, and the server keeps serving" {
    start_ftp_server
    random_file "$BATS_TEST_TMPDIR/garbage" 65536
    raw_open
    # In a subshell: if the server closes first, the SIGPIPE that the
    # writer gets must not reach this test's own shell.
    (cat "$BATS_TEST_TMPDIR/garbage" && printf '\nquit\n') >&"$FTP_FD" \
        2>/dev/null || true
    with_timeout 5 cat <&"$FTP_FD" >/dev/null || true
    tcp_close "$FTP_FD"
    server_survived "a client sent garbage"
    run ftp "pwd"
    [ "$output" = "/" ]
}

# --- part 1 alone -------------------------------------------------------

# The files `make part1` would compile in DIR (the .c files on the cc
# lines of make -n, which shows none once they are built), and the
# headers they include.
part1_files() {
    local dir=$1 c
    local -a cs
    read -r -a cs <<<"$(make -s -n -C "$dir" part1 | grep -o '[a-z_0-9]*\.c' |
        sort -u | tr '\n' ' ')"
    for c in "${cs[@]}"; do
        echo "$c"
        sed -n 's/^#include "\(.*\)"$/\1/p' "$dir/$c"
    done | sort -u
}

# lab: jail
@test "make part1: a server and a client from part 1's files alone, which name nothing of part 2, and serve put, ls and get" {
    local dir="$BATS_TEST_TMPDIR/04_ftp" f
    cp -r "$STAGE_DIR" "$dir"
    make -s -C "$dir" clean
    local -a files
    mapfile -t files < <(part1_files "$dir") # before the build: make -n
    # (Warnings as errors only where the run asks for them, as CI does:
    # in a hand-out, a warning in the student's code costs no mark here.)
    run make -C "$dir" part1
    [ "$status" -eq 0 ] || fail "make part1: $output"
    for f in server_users.c session_users.c users.c quota.c client_login.c \
        client_tree.c password.c; do
        [[ " ${files[*]} " != *" $f "* ]] ||
            fail "make part1 compiles part 2's $f: ${files[*]}"
    done
    [[ " ${files[*]} " == *" no_hooks.c "* ]] ||
        fail "make part1 does not link no_hooks.c: ${files[*]}"
    # (A lab's TODO line, "TODO (part 2, jail): ...", that the student
    # left above the code is the lab's part 2, not the stage's: the
    # stage's part 2 is its users.)
    for f in "${files[@]}"; do
        ! grep -n -i -E 'part ?2|login|quota|password|users|ftpuser' \
            "$dir/$f" | grep -v -E 'TODO \(part [0-9]+, [a-z_]+\)' ||
            fail "$f, a file of part 1, names part 2 (lines above)"
    done

    start_server "$dir/server" -d "$ROOT" 0
    printf 'part one\n' >"$HERE/notes.txt"
    run with_timeout 20 "${_client_wrapper[@]}" "$dir/client" 127.0.0.1 \
        "$SERVER_PORT" <<<$'put notes.txt\nls\nget notes.txt\nlogin bob pw'
    [ "$status" -eq 1 ] || fail "login should fail on part 1: $output"
    [[ "$output" == *"sent notes.txt (9 bytes)"*"           9  notes.txt"* ]] ||
        fail "put or ls: $output"
    [[ "$output" == *"received notes.txt (9 bytes)"* ]] || fail "get: $output"
    [[ "$output" == *"unknown command 'login': type help"* ]] ||
        fail "part 1's client knows login: $output"
    cmp "$ROOT/notes.txt" "$HERE/notes.txt"
    raw_open
    reply_to "login|bob|pw"
    [ "$REPLY" = "error|bad-request|unknown command" ] ||
        fail "part 1's server answered login with '$REPLY'"
}

# --- the idle timeout (-t) -------------------------------------------------

# client_after_timeout N: the client, given its first command (pwd) only
# once the server's log shows N silent sessions closed (its own the
# last).
client_after_timeout() {
    {
        wait_until 10 log_reaches "$1" '\(silence\) -> error\|timeout'
        echo pwd
    } | run_client 127.0.0.1 "$SERVER_PORT"
}

# lab: framing
@test "an idle session is closed after -t, and the client says so, not as its next command's error" {
    start_server "$STAGE_DIR/server" -d "$ROOT" -t 1 0
    local start=$SECONDS line rc=0
    raw_open
    expect_reply "error|timeout|no request for 1 second; closing"
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || rc=$?
    [ "$rc" -eq 1 ] || fail "the connection is still open: '$line'"
    ((SECONDS - start >= 1)) || fail "closed before -t 1 had passed"

    run client_after_timeout 2
    [ "$status" -ne 0 ] || fail "the client exited 0: $output"
    [[ "$output" == *"client: the server ended the session: no request for 1 second; closing (timeout)"* ]] ||
        fail "the client did not say the server ended the session" \
            "(server_spoke_first() in client.c, before each command): $output"
    [[ "$output" != *"error: no request"* ]] ||
        fail "the server's timeout was printed as pwd's own error: $output"
}

# lab: framing
@test "one byte of a request line, then silence: closed after -t as a line too slow, not as an idle session" {
    start_server "$STAGE_DIR/server" -d "$ROOT" -t 1 0
    local line
    raw_open
    printf g >&"$FTP_FD"
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" ||
        fail "one byte of a request line came, then nothing, and the" \
            "server still holds the session after $(scaled 5) s"
    [ "$line" = "error|timeout|a request line must arrive within 1 second of its first byte; closing" ] ||
        fail "one byte of a request line came, then nothing, and the" \
            "server answered '$line'. From a line's first byte, read_line()" \
            "waits for the rest at most -t (wait_for_rest() as soon as" \
            "len > 0, not from the second byte), then returns LINE_TOO_SLOW"
}

# --- the programs --------------------------------------------------------

# lab: framing
@test "IPv6: a client at ::1 is served" {
    have_ipv6 || skip "this system has no IPv6 loopback (::1)"
    start_ftp_server
    run bash -c "printf 'pwd\n' | '$STAGE_DIR/client' ::1 $SERVER_PORT"
    [ "$output" = "/" ]
    foreign_server || grep -q '^\[::1\]:[0-9]* connected' "$SERVER_LOG"
}

@test "the server creates a missing ROOT and says what it serves" {
    needs_our_server "it reads our server's log lines"
    ROOT="$BATS_TEST_TMPDIR/new/root"
    mkdir -p "$BATS_TEST_TMPDIR/new"
    start_ftp_server
    [ -d "$ROOT" ]
    grep -q "^created $ROOT$" "$SERVER_LOG"
}

# lab: framing
@test "SIGTERM with sessions open: exit 0, no session process left" {
    needs_our_server "exit status 0 on SIGTERM is our programs' own rule, and it counts our session processes"
    start_ftp_server
    raw_open
    reply_to "pwd"
    local child
    child=$(child_pids "$SERVER_PID")
    [ -n "$child" ]
    kill -TERM "$SERVER_PID"
    wait_for_exit "$SERVER_PID" 5
    [ "$EXIT_STATUS" -eq 0 ]
    wait_until 5 is_gone "$child" || fail "session $child outlived the server"
}

@test "usage errors exit 2; a port in use exits 1 with a hint" {
    needs_our_server "it checks our programs' usage lines and exit statuses"
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" -x
    [ "$status" -eq 2 ]
    [[ "$output" == *"usage: server"* ]]
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" -d
    [ "$status" -eq 2 ]
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" 1 2
    [ "$status" -eq 2 ]
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" localhost 0
    [ "$status" -eq 2 ]
    [[ "$output" == *"usage: client"* ]]
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" -h
    [ "$status" -eq 0 ]

    start_ftp_server
    run with_timeout 5 "${_server_wrapper[@]}" \
        "$STAGE_DIR/server" -d "$ROOT" "$SERVER_PORT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Address already in use"*"hint:"* ]] || fail "$output"
}

# lab: framing
@test "client: a prompt on a terminal; unknown commands fail the script" {
    start_ftp_server
    command -v script >/dev/null || skip "script(1) is not installed"
    run with_timeout 10 script -qec \
        "'$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT" /dev/null <<<"pwd"
    [[ "$output" == *">>: "* ]] || fail "no prompt: $output"
    run ftp "pwd" "frobnicate"
    [ "$status" -eq 1 ]
    [[ "$output" == *"unknown command 'frobnicate': type help"* ]]
}

# --- fds 0-2, a HOST of digits, accept() errors (as in stages 01-03) ----

# lab: framing
@test "fds 0-2 closed: the client acts as with /dev/null; no socket of the server takes them" {
    skip_under valgrind "valgrind opens its --log-file onto the closed fd 0"
    start_ftp_server --closed-fds
    local fd
    for fd in 0 2; do
        [ "$(readlink "/proc/$SERVER_PID/fd/$fd")" = /dev/null ] ||
            fail "server started with fds 0 and 2 closed: fd $fd is" \
                "$(readlink "/proc/$SERVER_PID/fd/$fd"), not /dev/null"
    done
    local expected
    expected=$(run_client 127.0.0.1 "$SERVER_PORT" </dev/null 2>&1)
    run with_fd_closed 0 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" \
        127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 124 ] ||
        fail "client <&-: hung; its socket took fd 0, and getline() read it"
    [ "$status" -eq 0 ] && [ "$output" = "$expected" ] ||
        fail "client <&-: exit $status, '$output'; </dev/null gives" \
            "exit 0, '$expected'"
    run with_fd_closed 1 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" \
        127.0.0.1 "$SERVER_PORT" <<<"pwd"
    [ "$status" -eq 0 ] && [ -z "$output" ] ||
        fail "client >&-: exit $status, stderr '$output'"
}

@test "client: a HOST of digits alone is a usage error, with a hint" {
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/client" 9004 \
        </dev/null
    [ "$status" -eq 2 ] || fail "client 9004: exit $status: $output"
    [[ "$output" == *"hint: did you mean \`./client localhost 9004\`?"* ]] ||
        fail "$output"
}

# lab: framing
@test "accept() failing with a client's ENETUNREACH: logged, and the next client is served" {
    start_with_acceptfail ENETUNREACH "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    wait_until 5 log_reaches 1 '^acceptfail: ' ||
        fail "tests/acceptfail.so did not bite"
    tcp_close "$FTP_FD"
    wait_until 5 log_reaches 1 '^server: accept: Network is unreachable' ||
        fail "the failed accept() was not logged"
    run ftp "pwd"
    [ "$status" -eq 0 ] && [ "$output" = "/" ] ||
        fail "the next client: exit $status, '$output' (accept(2): retry" \
            "this error of the new connection, as for EAGAIN)"
}

# client_on_terminal COLUMNS INPUT: run our client, its commands read
# from the file INPUT, with its standard error on a terminal COLUMNS
# wide that script(1) makes: the progress line shows there. PIECES:
# the output cut at every line end and carriage return, each piece as
# the terminal drew it.
client_on_terminal() {
    run with_timeout 30 script -qec "stty cols $1 rows 24 &&
        ${_client_wrapper[*]} '$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT <'$2'" \
        /dev/null </dev/null
    [ "$status" -eq 0 ] || fail "the client failed ($status): $output"
    mapfile -t PIECES < <(tr '\r' '\n' <<<"$output" | grep .)
}

# drawn REGEX: a piece of the output, its trailing spaces (which rub
# out a longer line drawn before) left out, matches REGEX.
drawn() {
    local piece
    for piece in "${PIECES[@]}"; do
        piece=${piece%"${piece##*[! ]}"}
        [[ "$piece" =~ $1 ]] && return 0
    done
    return 1
}

# lab: framing
@test "the progress line fits a terminal 80 or 40 columns wide, for 2 GiB and for 14 bytes" {
    command -v script >/dev/null || skip "script(1) is not installed"
    start_ftp_server
    printf 'Hello, world!\n' >"$ROOT/hello.txt"
    local size=$((2 * 1024 * 1024 * 1024)) cols piece
    truncate -s "$size" "$ROOT/big"
    printf 'get big\nget hello.txt\n' >"$BATS_TEST_TMPDIR/input"
    for cols in 80 40; do
        # All but the last 4 MiB is here already: the get resumes, and
        # the line shows 2 GiB from the start. (4 MiB come in several
        # recv()s: the line shows their sum, not the last one's size.)
        rm -f "$HERE/big" "$HERE/hello.txt"
        truncate -s $((size - 4 * 1024 * 1024)) "$HERE/.partial.big"
        client_on_terminal "$cols" "$BATS_TEST_TMPDIR/input"
        drawn '^big +100% ' || fail "the progress line of big never showed" \
            "100%; the last: '$(printf '%s\n' "${PIECES[@]}" |
                grep '^big ' | tail -n 1)'. recv_file_data() must call" \
            "progress() with the bytes received so far, not the size of" \
            "the last chunk"
        for piece in "${PIECES[@]}"; do
            ((${#piece} < cols)) || fail "${#piece} columns on a terminal" \
                "$cols wide: the line wraps, and each redraw scrolls:" \
                "'$piece'"
        done
        [ "$(stat -c %s "$HERE/big")" -eq "$size" ]
        if ((cols == 80)); then
            drawn '^big +100% \[#{20}\] 2\.0/2\.0 GiB' ||
                fail "at 80 columns, no bar for big: ${PIECES[*]}"
            drawn '^hello\.txt +100% \[#{20}\] 14/14 B' ||
                fail "at 80 columns, 14 bytes read badly: ${PIECES[*]}"
        else # no room for the rate, nor the bar
            drawn '^big +100% 2\.0/2\.0 GiB$' ||
                fail "at 40 columns: ${PIECES[*]}"
            drawn '^hello\.txt +100% 14/14 B$' ||
                fail "at 40 columns: ${PIECES[*]}"
        fi
    done
}
