# Shared by the stage 04 tests (04_ftp.bats, 04_ftp_users.bats), loaded
# after helpers.bash: the directories every test uses, and the raw
# protocol, spoken without our client over bash's /dev/tcp.

# shellcheck disable=SC2034 # used by the .bats files that load this
STAGE_DIR="${FTP_STAGE_DIR:-$TOP/04_ftp}"

# ROOT: the directory the server serves; HERE: the client's current
# directory, where get writes.
setup() {
    ROOT="$BATS_TEST_TMPDIR/root"
    mkdir -p "$ROOT"
    HERE="$BATS_TEST_TMPDIR/client"
    mkdir -p "$HERE"
    cd "$HERE" || return
}

# raw_open [HOST]: connect to the server; FTP_FD is the connection.
raw_open() {
    tcp_open "${1:-127.0.0.1}" "$SERVER_PORT"
    FTP_FD=$TCP_FD
}

# raw_send FORMAT [ARG...]: printf them to the server. A server that has
# already closed the connection makes the write fail (EPIPE, SIGPIPE
# ignored in a subshell, not the test's death by it): the test says so.
raw_send() {
    local why
    # One write(): bash's printf writes each line apart, cat writes the
    # file whole, so several requests do come in one segment.
    # shellcheck disable=SC2059 # the format is the caller's
    printf "$@" >"$BATS_TEST_TMPDIR/request"
    (trap '' PIPE && cat "$BATS_TEST_TMPDIR/request") >&"$FTP_FD" \
        2>/dev/null && return
    why=$(no_reply 1)
    fail "${why#no reply: }, before the request was sent"
}

send_request() {
    raw_send '%s\n' "$1"
}

# no_reply STATUS: why read gave up with STATUS: a timeout, or the
# server's close, with what its log says (a lab's stub that was called,
# or else the last line: a session that ends says why).
no_reply() {
    local said
    if (($1 > 128)); then
        echo "no reply in $(scaled 5) s"
        return
    fi
    said=$(stub_note)
    [ -n "$said" ] ||
        said=" (its log: '$(tail -n 1 "$SERVER_LOG" 2>/dev/null)')"
    echo "no reply: the server closed the connection$said"
}

# expect_reply TEXT: the next line from the server is exactly TEXT.
expect_reply() {
    local line status=0
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || status=$?
    ((status == 0)) || fail "$(no_reply "$status"); expected '$1'"
    [ "$line" = "$1" ] || fail "expected '$1', got '$line'"
}

# reply_to REQUEST: send it, and put the reply line in REPLY.
reply_to() {
    local status=0
    send_request "$1"
    IFS= read -r -t "$(scaled 5)" REPLY <&"$FTP_FD" || status=$?
    ((status == 0)) || fail "$(no_reply "$status") to '$1'"
}
