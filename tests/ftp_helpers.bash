# Shared by the stage 04 tests (04_ftp.bats, 04_ftp_users.bats), loaded
# after helpers.bash: the directories every test uses, and the raw
# protocol, spoken without our client over bash's /dev/tcp.

# shellcheck disable=SC2034 # used by the .bats files that load this
STAGE_DIR="$TOP/04_ftp"

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

send_request() {
    printf '%s\n' "$1" >&"$FTP_FD"
}

# expect_reply TEXT: the next line from the server is exactly TEXT.
expect_reply() {
    local line
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" ||
        fail "no reply; expected '$1'"
    [ "$line" = "$1" ] || fail "expected '$1', got '$line'"
}

# reply_to REQUEST: send it, and put the reply line in REPLY.
reply_to() {
    send_request "$1"
    IFS= read -r -t "$(scaled 5)" REPLY <&"$FTP_FD" ||
        fail "no reply to '$1'"
}
