#!/usr/bin/env bats
# Stage 04_ftp, part 2: users. The lessons: a login before anything
# else, with salted password hashes and a delay that grows with each
# failure; every user jailed in a home of their own; read-only users;
# quotas that hold even with two uploads at once; whole directory trees
# moved with part 1's commands; idle sessions closed and a full server
# saying so. The users file is made here, with ftpuser.

load helpers
load ftp_helpers

# The users, made once for the whole file (ftpuser hashes each password
# with 100000 rounds of SHA-512: about 50 ms). alice's quota is small
# for the quota tests; bob's password has a '|' and a space in it.
setup_file() {
    export USERS="$BATS_FILE_TMPDIR/users.txt"
    local ftpuser="$STAGE_DIR/ftpuser"
    printf 'secret\n' | "$ftpuser" -f "$USERS" -q 1000 alice >/dev/null
    printf 'b|o b\n' | "$ftpuser" -f "$USERS" bob >/dev/null
    printf 'carols\n' | "$ftpuser" -f "$USERS" -r -d guests/carol carol \
        >/dev/null
    printf 'daves\n' | "$ftpuser" -f "$USERS" dave >/dev/null
    printf 'erins\n' | "$ftpuser" -f "$USERS" erin >/dev/null
}

password_of() {
    case $1 in
    alice) echo secret ;;
    bob) echo 'b|o b' ;;
    *) echo "${1}s" ;;
    esac
}

# expect_run STATUS TEXT: the last `run` exited with STATUS, and its
# output contains TEXT.
expect_run() {
    [ "$status" -eq "$1" ] || fail "status $status, not $1: $output"
    [[ "$output" == *"$2"* ]] || fail "no '$2' in: $output"
}

# A server with the users file, a short failed-login delay (50 ms), and
# whatever else the test adds (-t, -m, -w).
start_users_server() {
    start_server "$STAGE_DIR/server" -d "$ROOT" -u "$USERS" -w 50 "$@" 0
}

# ftp_as USER COMMANDS...: our client in $HERE, logged in as USER, with
# one command per argument.
ftp_as() {
    local user=$1
    shift
    printf '%s\n' "login $user $(password_of "$user")" "$@" |
        run_client 127.0.0.1 "$SERVER_PORT"
}

# raw_login USER: a raw connection, logged in as USER.
raw_login() {
    raw_open
    reply_to "login|$1|$(password_of "$1")"
    [ "$REPLY" = "ok|welcome $1" ] || fail "login $1: $REPLY"
}

# expect_closed: the server has closed FTP_FD (end of stream, not a
# timeout: read's status is then 1, a timeout's is over 128).
expect_closed() {
    local rc=0 line
    IFS= read -r -t "$(scaled 5)" line <&"$FTP_FD" || rc=$?
    [ "$rc" -eq 1 ] || fail "the connection is still open: '$line'"
}

# session_pid: the one session process the server has.
session_pid() {
    local children
    read -r -a children <<<"$(child_pids "$SERVER_PID")"
    [ "${#children[@]}" -eq 1 ] || fail "sessions: ${children[*]}"
    echo "${children[0]}"
}

# sessions_gone: the server has no session process left, not even one
# it has yet to reap (a zombie still exists for kill(pid, 0)).
sessions_gone() {
    [ -z "$(child_pids "$SERVER_PID")" ]
}

# --- the protocol document ---------------------------------------------

# lab: jail
@test "PROTOCOL.md's example session with users, replayed over /dev/tcp, matches the server" {
    start_users_server
    raw_open
    local line count=0
    while IFS= read -r line; do
        case $line in
        "C: "*) send_request "${line#C: }" ;;
        "S: "*) expect_reply "${line#S: }" ;;
        *) fail "PROTOCOL.md: bad session line '$line'" ;;
        esac
        count=$((count + 1))
    done < <(awk '/^```session-users$/ { on = 1; next } /^```$/ { on = 0 } on' \
        "$STAGE_DIR/PROTOCOL.md")
    [ "$count" -gt 20 ] || fail "only $count session lines in PROTOCOL.md"
}

# --- users and ftpuser ----------------------------------------------------

# ftpuser_with_password PASSWORD ARGS...: ftpuser, password on stdin.
ftpuser_with_password() {
    local password=$1
    shift
    printf '%s\n' "$password" | with_timeout 10 "${_client_wrapper[@]}" \
        "$STAGE_DIR/ftpuser" "$@"
}

@test "ftpuser writes salted SHA-512 hashes to a file only its owner reads, and updates in place" {
    local file="$BATS_TEST_TMPDIR/u.txt"
    run ftpuser_with_password same -f "$file" -q 5000 ann
    [ "$status" -eq 0 ] || fail "$output"
    [ "$output" = "added ann in $file: home ann, rw, quota 5000 bytes" ]
    printf '# a comment of our own\n' >>"$file"
    ftpuser_with_password same -f "$file" -r -d staff/ben ben >/dev/null
    [ "$(stat -c %a "$file")" = 600 ]

    # name:$6$rounds=N$SALT$HASH:home:perm:quota; the same password gets
    # a different salt, and so a different hash.
    local ann ben
    ann=$(grep '^ann:' "$file")
    ben=$(grep '^ben:' "$file")
    [[ "$ann" =~ ^ann:\$6\$rounds=[0-9]+\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}:ann:rw:5000$ ]] ||
        fail "$ann"
    [[ "$ben" == *:staff/ben:ro:104857600 ]] || fail "$ben"
    [ "$(cut -d: -f2 <<<"$ann")" != "$(cut -d: -f2 <<<"$ben")" ]
    ! grep -q same "$file" || fail "the password is in the file"

    # An update changes what it is told (here the password and -q), and
    # keeps the rest: ben's line, ann's home and perm, the comment.
    run ftpuser_with_password other -f "$file" -q 7 ann
    [ "$output" = "updated ann in $file: home ann, rw, quota 7 bytes" ]
    [ "$(grep -c . "$file")" -eq 4 ]
    grep -qx "$ben" "$file"
    grep -qx '# a comment of our own' "$file"
    [ "$(grep '^ann:' "$file" | cut -d: -f2)" != "$(cut -d: -f2 <<<"$ann")" ]
}

# lab: jail
@test "ftpuser refuses bad names, homes, quotas, passwords and overlapping homes" {
    local file="$BATS_TEST_TMPDIR/u.txt"
    ftpuser_with_password pw -f "$file" ann >/dev/null
    local before
    before=$(cat "$file")
    run ftpuser_with_password pw -f "$file" Ann
    expect_run 1 "a user name is 1 to 32 of a-z"
    run ftpuser_with_password pw -f "$file" -d ../x ben
    expect_run 1 "home must be a directory below ROOT"
    run ftpuser_with_password pw -f "$file" -d .quota ben
    expect_run 1 "where the server keeps quotas"
    run ftpuser_with_password pw -f "$file" -d ann/sub ben
    expect_run 1 "overlaps ann's home ann"
    run ftpuser_with_password pw -f "$file" -q 12k ben
    expect_run 1 "the quota is a number of bytes"
    run ftpuser_with_password '' -f "$file" ben
    expect_run 1 "the password is empty"
    run with_timeout 5 "${_client_wrapper[@]}" \
        "$STAGE_DIR/ftpuser" -f "$file" ben </dev/null
    expect_run 1 "no password given"
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/ftpuser" -f "$file"
    expect_run 2 "usage: ftpuser"
    [ "$(cat "$file")" = "$before" ] || fail "the file changed"
}

@test "ftpuser on a terminal asks twice, shows nothing typed, and refuses a mismatch" {
    command -v script >/dev/null || skip "script(1) is not installed"
    local file="$BATS_TEST_TMPDIR/u.txt"
    on_terminal "$STAGE_DIR/ftpuser -f $file zed" \
        'password for zed: ' 'hunter22' 'again: ' 'hunter22'
    [[ "$TERMINAL_OUTPUT" == *"added zed in $file"* ]] || fail "$TERMINAL_OUTPUT"
    [[ "$TERMINAL_OUTPUT" != *hunter22* ]] || fail "echoed: $TERMINAL_OUTPUT"
    grep -q '^zed:\$6\$' "$file"

    on_terminal "$STAGE_DIR/ftpuser -f $file amy" \
        'password for amy: ' 'one' 'again: ' 'two'
    [[ "$TERMINAL_OUTPUT" == *"the passwords differ; nothing changed"* ]] ||
        fail "$TERMINAL_OUTPUT"
    ! grep -q '^amy:' "$file" || fail "amy was added"
}

# on_terminal COMMAND [PROMPT INPUT]...: run COMMAND on a terminal of
# its own (script(1)); each time PROMPT has appeared, type INPUT and
# Enter. The output is in TERMINAL_OUTPUT. Bounded: script is stopped
# after 10 s, and each prompt is waited for 5 s at most.
on_terminal() {
    local command=$1 out="$BATS_TEST_TMPDIR/terminal.out"
    local in="$BATS_TEST_TMPDIR/terminal.in" writer pid
    local -A seen=() # how many times each prompt has been answered
    shift
    rm -f "$in" "$out"
    mkfifo "$in"
    with_timeout 10 script -qec "$command" /dev/null <"$in" >"$out" 2>&1 \
        3>&- 4>&- &
    pid=$!
    exec {writer}>"$in"
    while (($# >= 2)); do
        seen[$1]=$((${seen[$1]:-0} + 1))
        wait_until 5 prompt_count_reaches "$out" "$1" "${seen[$1]}" ||
            fail "no prompt '$1' in: $(cat "$out")"
        printf '%s\r' "$2" >&"$writer"
        shift 2
    done
    wait_until 5 is_gone "$pid" || true
    exec {writer}>&-
    wait "$pid" || true
    TERMINAL_OUTPUT=$(cat "$out")
}

prompt_count_reaches() { # FILE TEXT N: does TEXT appear N times in FILE?
    [ "$(grep -oF -- "$2" "$1" 2>/dev/null | wc -l)" -ge "$3" ]
}

# lab: jail
@test "a bad line in the users file: file, line number and reason, exit 1" {
    local file="$BATS_TEST_TMPDIR/bad.txt" hash
    hash=$(grep '^alice:' "$USERS" | cut -d: -f2)
    check_bad_line "alice:$hash:alice:rw:12k" "quota is not a number"
    check_bad_line "alice:$hash:alice:rx:1" "permission must be ro or rw"
    check_bad_line "alice:$hash:../x:rw:1" "home must be a directory below ROOT"
    check_bad_line "alice:$hash:.:rw:1" "home must be a directory below ROOT"
    check_bad_line "alice:$hash:/srv:rw:1" "home must be a directory below ROOT"
    check_bad_line "alice:$hash:a/./b:rw:1" "home must be a directory below ROOT"
    check_bad_line "alice:$hash:.quota:rw:1" \
        "home .quota is where the server keeps quotas"
    check_bad_line "Alice:$hash:alice:rw:1" "a user name is 1 to 32 of a-z"
    check_bad_line "alice:secret:alice:rw:1" \
        "the password hash is not a crypt(3) string"
    check_bad_line 'alice:$9$unknown$method:alice:rw:1' \
        "crypt(3) here cannot check this hash"
    check_bad_line "alice:$hash:alice:rw" "fewer than 5 fields"
    check_bad_line "alice:$hash:alice:rw:1:x" "more than 5 fields"
    check_bad_line "$(grep '^bob:' "$USERS")" "user bob is already defined"
    check_bad_line "zoe:$hash:bob/zoe:rw:1" "home bob/zoe overlaps bob's home bob"

    run with_timeout 5 "${_server_wrapper[@]}" \
        "$STAGE_DIR/server" -d "$ROOT" -u "$file.none" 0
    expect_run 1 "$file.none: No such file"
    printf '# nobody yet\n' >"$file"
    run with_timeout 5 "${_server_wrapper[@]}" \
        "$STAGE_DIR/server" -d "$ROOT" -u "$file" 0
    expect_run 1 "no users in it"
}

# check_bad_line LINE REASON: a users file whose line 4 is LINE (after a
# comment, a blank line and bob) stops the server with REASON.
check_bad_line() {
    printf '# users\n\n%s\n%s\n' "$(grep '^bob:' "$USERS")" "$1" >"$file"
    run with_timeout 5 "${_server_wrapper[@]}" \
        "$STAGE_DIR/server" -d "$ROOT" -u "$file" 0
    [ "$status" -eq 1 ] || fail "status $status for '$1': $output"
    [[ "$output" == *"server: $file:4: $2"* ]] ||
        fail "for '$1': expected '$2', got: $output"
}

# lab: framing
@test "without a users file the server is part 1's: no login, no quota" {
    start_server "$STAGE_DIR/server" -d "$ROOT" 0
    raw_open
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ]
    reply_to "login|alice|secret"
    [ "$REPLY" = "error|bad-request|this server has no users: no login needed" ]
    reply_to "quota"
    [ "$REPLY" = "error|bad-request|this server has no users, and no quotas" ]
}

# --- login ----------------------------------------------------------------

# lab: framing
@test "before a login, every request but login and quit is refused" {
    start_users_server
    raw_open
    local request
    for request in "pwd" "ls" "cd|alice" "get|0|x" "put|5|x" "delete|x" \
        "mkdir|x" "quota"; do
        reply_to "$request"
        [ "$REPLY" = "error|login-required|log in first" ] ||
            fail "'$request' got '$REPLY'"
    done
    # A line that is not a request is bad-request, logged in or not:
    # parsing comes first.
    for request in "hello" "pwd|x" "get|x|y"; do
        reply_to "$request"
        [[ "$REPLY" == "error|bad-request|"* ]] ||
            fail "'$request' before a login got '$REPLY'"
    done
    # The refused put was not followed by data: the next line is a request.
    reply_to "quit"
    [ "$REPLY" = "ok|bye" ]
    [ -z "$(ls -A "$ROOT/alice")" ]
}

# lab: framing
@test "login: a right password is welcome; a wrong one or an unknown name get the same reply; the log shows no password" {
    start_users_server
    raw_open
    reply_to "login|bob|b|o"
    [ "$REPLY" = "error|login-failed|wrong name or password" ]
    reply_to "login|nobody|b|o b"
    [ "$REPLY" = "error|login-failed|wrong name or password" ]
    reply_to "login|bob|b|o b" # a password with '|' and a space
    [ "$REPLY" = "ok|welcome bob" ]
    reply_to "pwd"
    [ "$REPLY" = "ok|/" ]
    reply_to "login|alice|secret"
    [ "$REPLY" = "error|bad-request|already logged in as bob" ]

    run ftp_as alice "pwd"
    [ "$output" = $'welcome alice\n/' ] || fail "$output"
    grep -q 'login|bob|\*\*\*\*\*\*\*\* -> ok|welcome bob' "$SERVER_LOG"
    ! grep -qE 'b\|o b|secret' "$SERVER_LOG" || fail "a password is in the log"
}

# lab: framing
@test "failed logins: the delay doubles each time, and the third failure closes the connection" {
    start_users_server -w 100
    raw_open
    local i start elapsed
    for i in 1 2 3; do
        start=${EPOCHREALTIME/[.,]/}
        send_request "login|alice|wrong$i"
        if ((i < 3)); then
            expect_reply "error|login-failed|wrong name or password"
        else
            expect_reply "error|login-failed|too many failures; closing"
        fi
        elapsed=$(((${EPOCHREALTIME/[.,]/} - start) / 1000)) # ms
        # 100, 200, then 400 ms at least; and not much more (bounded).
        ((elapsed >= 100 << (i - 1))) || fail "failure $i after $elapsed ms"
        ((elapsed < $(scaled 3000))) || fail "failure $i after $elapsed ms"
    done
    expect_closed
}

# lab: framing
@test "a client logs in on a terminal without the password being shown" {
    command -v script >/dev/null || skip "script(1) is not installed"
    start_users_server
    on_terminal "'$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT" \
        '>>: ' 'login alice' 'password: ' 'secret' '>>: ' 'pwd' '>>: ' 'quit'
    [[ "$TERMINAL_OUTPUT" == *"welcome alice"* ]] || fail "$TERMINAL_OUTPUT"
    [[ "$TERMINAL_OUTPUT" != *secret* ]] || fail "echoed: $TERMINAL_OUTPUT"
}

# --- the jail --------------------------------------------------------------

# lab: framing
@test "after login the home is '/': pwd, ls, cd, get, put, delete act inside it" {
    start_users_server
    printf 'from admin\n' >"$ROOT/alice/readme.txt"
    printf 'mine\n' >"$HERE/up.txt"
    run ftp_as alice "pwd" "mkdir docs" "cd docs" "pwd" "put up.txt" "cd" \
        "ls" "ls docs" "get readme.txt" "delete docs/up.txt" "delete docs"
    [ "$status" -eq 0 ] || fail "$output"
    local expected
    expected=$(
        cat <<'EOF'
welcome alice
/
created /docs
/docs
/docs
sent up.txt (5 bytes)
/
           -  docs/
          11  readme.txt
           5  up.txt
received readme.txt (11 bytes)
deleted /docs/up.txt
deleted /docs
EOF
    )
    [ "$output" = "$expected" ] || fail "got:
$output"
    [ "$(cat "$HERE/readme.txt")" = "from admin" ]
    [ ! -e "$ROOT/alice/docs" ]
    [ ! -e "$ROOT/docs" ]
}

# lab: framing
@test "after login the session holds no descriptor for ROOT, only for the home" {
    start_users_server
    raw_login bob
    local session fd target
    session=$(session_pid)
    for fd in /proc/"$session"/fd/*; do
        target=$(readlink "$fd") || continue
        [ "$target" != "$ROOT" ] || fail "fd ${fd##*/} is ROOT"
    done
    ls -l /proc/"$session"/fd | grep -q -- "-> $ROOT/bob$"
}

# lab: jail
@test "one user can never read, list, overwrite or delete another's files: .., symlinks" {
    mkdir -p "$ROOT/bob" "$ROOT/dave"
    printf 'bob only\n' >"$ROOT/bob/secret.txt"
    ln -s ../bob "$ROOT/dave/tobob"
    ln -s "$ROOT/bob/secret.txt" "$ROOT/dave/bobfile"
    start_users_server
    raw_login dave
    local request
    for request in "get|0|../bob/secret.txt" "ls|.." "ls|../bob" "cd|.." \
        "cd|../bob" "cd|/" "ls|/" "get|0|tobob/secret.txt" "get|0|bobfile" \
        "ls|tobob" "cd|tobob" "put|4|../bob/secret.txt" \
        "put|4|tobob/secret.txt" "put|4|../bob/new" \
        "delete|../bob/secret.txt" "delete|tobob/secret.txt" \
        "mkdir|../bob/x" "mkdir|tobob/x" "ls|../.quota" "get|0|../.quota/bob" \
        "get|0|docs/../../bob/secret.txt"; do
        reply_to "$request"
        [[ "$REPLY" == error\|bad-path\|* || "$REPLY" == error\|bad-request\|* ]] ||
            fail "'$request' was not refused: '$REPLY': a session never" \
                "leaves its home, by '..' (resolve_path()) or by a symbolic" \
                "link (open_beneath())"
    done
    # A put to the link's own name is refused, the link neither followed
    # nor replaced; a delete removes the link, not bob's file.
    reply_to "put|4|bobfile"
    [ "$REPLY" = "error|bad-path|symbolic links are not followed" ] ||
        fail "put onto a symbolic link: '$REPLY'"
    reply_to "delete|tobob"
    [ "$REPLY" = "ok|deleted /tobob" ]
    reply_to "ls"
    [ "$REPLY" = "ok|1" ]
    expect_reply "l|0|bobfile"

    [ "$(cat "$ROOT/bob/secret.txt")" = "bob only" ]
    [ "$(ls -A "$ROOT/bob")" = secret.txt ]
    [ "$(ls -A "$ROOT")" = $'.quota\nalice\nbob\ndave\nerin\nguests' ]

    # And with our client, the other way round.
    run ftp_as bob "ls ../dave" "get ../dave/bobfile"
    [ "$status" -eq 1 ]
    [ ! -e "$HERE/bobfile" ]
}

# lab: framing
@test "a read-only user can get, ls, cd, pwd and quota; every write is refused" {
    mkdir -p "$ROOT/guests/carol/docs"
    printf 'read me\n' >"$ROOT/guests/carol/docs/a.txt"
    start_users_server
    raw_login carol
    local request
    for request in "put|3|new" "put|3|docs/a.txt" "mkdir|more" \
        "delete|docs/a.txt" "delete|docs"; do
        reply_to "$request"
        [ "$REPLY" = "error|denied|read-only account" ] ||
            fail "'$request' got '$REPLY'"
    done
    reply_to "cd|docs"
    [ "$REPLY" = "ok|/docs" ]
    reply_to "pwd"
    [ "$REPLY" = "ok|/docs" ]
    reply_to "get|0|a.txt"
    [ "$REPLY" = "ready|8|0" ]
    [ "$(with_timeout 5 head -c 8 <&"$FTP_FD")" = "read me" ]
    reply_to "ls"
    [ "$REPLY" = "ok|1" ]
    expect_reply "f|8|a.txt"
    reply_to "quota"
    [ "$REPLY" = "ok|8|104857600" ]
    [ "$(find "$ROOT/guests/carol" | wc -l)" -eq 3 ]
}

# --- quotas ------------------------------------------------------------------

# lab: framing
@test "quota: a put that does not fit is refused before any data moves; delete frees space" {
    start_users_server
    raw_login alice
    reply_to "quota"
    [ "$REPLY" = "ok|0|1000" ]
    reply_to "put|1001|big"
    [ "$REPLY" = "error|quota-exceeded|1001 bytes do not fit: 0 of 1000 bytes used" ]
    reply_to "pwd" # no data was expected: this is read as a request
    [ "$REPLY" = "ok|/" ]
    [ -z "$(ls -A "$ROOT/alice")" ]

    reply_to "put|600|a"
    [ "$REPLY" = "ready|0" ]
    head -c 600 /dev/zero >&"$FTP_FD"
    expect_reply "ok|stored 600 bytes"
    reply_to "quota"
    [ "$REPLY" = "ok|600|1000" ]
    reply_to "put|401|b"
    [ "$REPLY" = "error|quota-exceeded|401 bytes do not fit: 600 of 1000 bytes used" ]
    reply_to "put|400|b" # exactly up to the quota
    [ "$REPLY" = "ready|0" ]
    head -c 400 /dev/zero >&"$FTP_FD"
    expect_reply "ok|stored 400 bytes"
    reply_to "delete|a"
    [ "$REPLY" = "ok|deleted /a" ]
    reply_to "quota"
    [ "$REPLY" = "ok|400|1000" ]

    run ftp_as alice "quota"
    [ "$output" = $'welcome alice\n400 of 1000 bytes used, 600 free' ]
}

# lab: framing
@test "quota: two uploads at once by one user cannot together exceed it" {
    start_users_server
    raw_login alice
    local first=$FTP_FD
    raw_login alice
    local second=$FTP_FD
    # Both announce 600 bytes (1000 allowed) before either sends data.
    printf 'put|600|one\n' >&"$first"
    printf 'put|600|two\n' >&"$second"
    local one two
    IFS= read -r -t "$(scaled 5)" one <&"$first"
    IFS= read -r -t "$(scaled 5)" two <&"$second"
    [[ "$one|$two" == "ready|0|error|quota-exceeded|"* ||
        "$one|$two" == "error|quota-exceeded|"*"|ready|0" ]] ||
        fail "expected one ready, one refusal: '$one', '$two'"
    local winner=$first
    [ "$one" = "ready|0" ] || winner=$second
    head -c 600 /dev/zero >&"$winner"
    FTP_FD=$winner
    expect_reply "ok|stored 600 bytes"
}

# lab: framing
@test "quota: a burst of uploads by one user is counted under the lock" {
    # Eight sessions of alice, each asking for 300 of her 1000 bytes at
    # the same moment: exactly three may go ahead. Her home holds 5000
    # empty files: measuring it takes a few milliseconds, during which
    # a server without the ledger's lock lets every session in.
    mkdir -p "$ROOT/alice/many"
    (cd "$ROOT/alice/many" && seq 5000 | xargs touch)
    start_users_server
    local fds=() i ready=0 line
    for i in 1 2 3 4 5 6 7 8; do
        raw_login alice
        fds+=("$FTP_FD")
    done
    for i in "${!fds[@]}"; do
        printf 'put|300|f%d\n' "$i" >&"${fds[i]}"
    done
    for i in "${!fds[@]}"; do
        IFS= read -r -t "$(scaled 5)" line <&"${fds[i]}" ||
            fail "no reply in session $i"
        [ "$line" != "ready|0" ] || ready=$((ready + 1))
    done
    [ "$ready" -eq 3 ] || fail "$ready uploads of 300 bytes went ahead" \
        "(1000 allowed: 3 fit). Sessions that measure and reserve at the" \
        "same time each see room: the ledger must be read, checked and" \
        "rewritten under its fcntl() lock"
}

# lab: framing
@test "quota: a resumed upload needs room only for the bytes still missing" {
    start_users_server
    raw_login alice
    send_request "put|900|film"
    expect_reply "ready|0"
    head -c 500 /dev/zero >&"$FTP_FD"
    tcp_close "$FTP_FD" # cut off: 500 bytes stay, for resuming
    wait_until 5 sessions_gone

    raw_login alice
    reply_to "quota"
    [ "$REPLY" = "ok|500|1000" ] # the partial file counts
    reply_to "put|900|film"      # 400 more bytes: they fit
    [ "$REPLY" = "ready|500" ]
    head -c 400 /dev/zero >&"$FTP_FD"
    expect_reply "ok|stored 900 bytes"
}

# lab: framing
@test "quota: the reservation of a session that died does not count" {
    start_users_server
    raw_login alice
    reply_to "put|900|held"
    [ "$REPLY" = "ready|0" ]
    local session
    session=$(session_pid)
    kill -KILL "$session"
    wait_until 5 sessions_gone

    raw_login alice
    reply_to "quota"
    [ "$REPLY" = "ok|0|1000" ]
    reply_to "put|900|other"
    [ "$REPLY" = "ready|0" ]
}

# --- directory trees ---------------------------------------------------------

# make_tree DIR: a small tree with nested directories, an empty one, an
# empty file, binary data; and symbolic links out of it, to a file and
# to a directory, which must never be followed.
make_tree() {
    mkdir -p "$1/sub/deeper" "$1/empty" "$BATS_TEST_TMPDIR/outside/dir"
    random_file "$1/a.bin" 300000
    printf 'x' >"$1/sub/b"
    random_file "$1/sub/deeper/c d.bin" 70000
    : >"$1/zero"
    printf 'outside\n' >"$BATS_TEST_TMPDIR/outside/secret"
    printf 'outside\n' >"$BATS_TEST_TMPDIR/outside/dir/file"
    ln -s "$BATS_TEST_TMPDIR/outside/secret" "$1/link"
    ln -s "$BATS_TEST_TMPDIR/outside/dir" "$1/sub/linkdir"
}

# lab: framing
@test "put -r and get -r copy a tree byte-exact; symbolic links in it are skipped, not followed" {
    start_users_server
    make_tree "$HERE/tree"
    run ftp_as bob "put -r tree/"
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"put: skipping symbolic link tree/link"* ]] || fail "$output"
    [[ "$output" == *"put: skipping symbolic link tree/sub/linkdir"* ]]
    [[ "$output" == *"sent tree: 4 files, 370001 bytes"* ]] || fail "$output"
    diff -r --no-dereference -x link -x linkdir "$HERE/tree" "$ROOT/bob/tree"
    [ ! -e "$ROOT/bob/tree/link" ]
    [ ! -e "$ROOT/bob/tree/sub/linkdir" ]
    ! grep -rq outside "$ROOT/bob" || fail "a link's target was copied"

    # A link planted on the server, into another home, is skipped too.
    mkdir -p "$ROOT/dave"
    printf 'dave only\n' >"$ROOT/dave/private"
    ln -s "$ROOT/dave" "$ROOT/bob/tree/sub/todave"
    mkdir "$HERE/back"
    cd "$HERE/back"
    run ftp_as bob "get -r tree"
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"get: skipping symbolic link tree/sub/todave"* ]] ||
        fail "$output"
    [[ "$output" == *"received tree: 4 files, 370001 bytes"* ]] || fail "$output"
    diff -r --no-dereference -x todave "$ROOT/bob/tree" "$HERE/back/tree"
    [ ! -e "$HERE/back/tree/sub/todave" ]
    [ -d "$HERE/back/tree/empty" ]
    [ ! -s "$HERE/back/tree/zero" ]
}

# lab: framing
@test "put -r and get -r on a terminal: the tree's line, redrawn for a shorter name, keeps nothing of the longer one" {
    command -v script >/dev/null || skip "script(1) is not installed"
    start_users_server
    # Sent in name order, each name shorter than the one before.
    mkdir -p "$HERE/t"
    random_file "$HERE/t/a-long-name.bin" 300000
    random_file "$HERE/t/b-mid.bin" 200000
    random_file "$HERE/t/c.bin" 100000
    cd "$HERE"
    on_terminal "'$STAGE_DIR/client' 127.0.0.1 $SERVER_PORT" \
        '>>: ' "login bob $(password_of bob)" '>>: ' 'put -r t' \
        '>>: ' 'get -r t' '>>: ' 'quit'
    # What the screen shows: each '\r' starts the line again, and what
    # follows is written over what was there.
    local screen
    screen=$(awk '{ n = split($0, seg, "\r"); line = ""
        for (i = 1; i <= n; i++) line = seg[i] substr(line, length(seg[i]) + 1)
        sub(/ +$/, "", line); print line }' <<<"$TERMINAL_OUTPUT")
    local shown
    shown=$(grep -c '^\[3/3 files, 100%\] t/c\.bin$' <<<"$screen" || true)
    [ "$shown" -eq 2 ] || fail "the tree's last line, after put -r and" \
        "get -r, should read '[3/3 files, 100%] t/c.bin' (twice), but the" \
        "screen shows:" $'\n'"$(grep -F '[3/3' <<<"$screen")" $'\n'"A" \
        "file's progress_begin() must not forget how long the tree's line" \
        "was: the file before drew it, with a longer name"
}

# lab: framing
@test "put -r of a tree that does not fit is refused before anything is sent" {
    start_users_server
    mkdir -p "$HERE/big/sub"
    random_file "$HERE/big/a" 600
    random_file "$HERE/big/sub/b" 500
    run ftp_as alice "put -r big"
    [ "$status" -eq 1 ]
    [[ "$output" == *"put: big does not fit: 1100 bytes to send, 1000 of 1000 bytes free"* ]] ||
        fail "$output"
    [ -z "$(ls -A "$ROOT/alice")" ]
}

# lab: framing
@test "a tree that stops on an error says so, and leaves no half-written file" {
    start_users_server
    mkdir -p "$HERE/t/sub" "$ROOT/bob/t"
    random_file "$HERE/t/a" 100000
    random_file "$HERE/t/sub/b" 100000
    printf 'a file\n' >"$ROOT/bob/t/sub" # where the tree needs a directory
    run ftp_as bob "put -r t"
    [ "$status" -eq 1 ]
    [[ "$output" == *"(not-a-directory)"*"stopped after 1 of 2 files"* ]] ||
        fail "$output"
    cmp "$HERE/t/a" "$ROOT/bob/t/a"
    [ "$(cat "$ROOT/bob/t/sub")" = "a file" ]
    [ -z "$(find "$ROOT/bob" -name '.partial.*')" ]
}

# lab: framing
@test "get -r writes nowhere but below the local directory it makes" {
    start_users_server
    mkdir -p "$ROOT/bob/tree"
    printf 'x\n' >"$ROOT/bob/tree/f"
    # A local symbolic link where the tree goes is not written through.
    mkdir "$BATS_TEST_TMPDIR/elsewhere"
    ln -s "$BATS_TEST_TMPDIR/elsewhere" "$HERE/tree"
    run ftp_as bob "get -r tree"
    [ "$status" -eq 1 ]
    [[ "$output" == *"get: tree is in the way: not a directory"* ]] ||
        fail "$output"
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
    rm "$HERE/tree"
    run ftp_as bob "get -r ." "get -r /" "get -r nothere" "get -r tree/f" \
        "get -r tree/"
    [[ "$output" == *"get: '.' does not name a directory"* ]] || fail "$output"
    [[ "$output" == *"get: '/' does not name a directory"* ]] || fail "$output"
    [[ "$output" == *"(not-found)"*"(not-a-directory)"* ]] || fail "$output"
    [[ "$output" == *"received tree: 1 file, 2 bytes"* ]] || fail "$output"
    [ "$(ls -A "$HERE")" = tree ]
}

# --- many users at once ----------------------------------------------------

# lab: framing
@test "an idle session is closed: error timeout" {
    start_users_server -t 1
    raw_open
    local start=$SECONDS
    expect_reply "error|timeout|no request for 1 second; closing"
    expect_closed
    ((SECONDS - start >= 1))
    raw_login bob # and after a login too
    expect_reply "error|timeout|no request for 1 second; closing"
    expect_closed
    wait_until 5 log_reaches 2 '\(silence\) -> error\|timeout'
}

# trickle: send a byte every 0.2 s (the pace is the test: each pause is
# far shorter than -t 1), 50 of them at most, and never a newline.
trickle() {
    local n
    for ((n = 0; n < 50; n++)); do
        printf x || return
        sleep 0.2
    done
}

# lab: framing
@test "a request line must come whole within -t of its first byte: tricklers cannot hold -m's slots" {
    start_users_server -t 1 -m 2
    local fds=() i line start=$SECONDS
    for i in 1 2; do
        raw_open
        fds+=("$FTP_FD")
        trickle >&"$FTP_FD" 2>/dev/null 3>&- 4>&- &
        _test_pids+=("$!")
    done
    for i in 0 1; do
        IFS= read -r -t "$(scaled 5)" line <&"${fds[i]}" ||
            fail "trickling client $i still holds its session after" \
                "$(scaled 5) s: -t must bound the whole line, not each pause"
        [ "$line" = "error|timeout|a request line must arrive within 1 second of its first byte; closing" ] ||
            fail "trickling client $i got '$line'"
    done
    ((SECONDS - start >= 1)) || fail "closed before -t 1 had passed"
    wait_until 5 served_now || fail "no slot came free for a third client"
}

# lab: framing
@test "a full server answers busy at once, and serves again when a session ends" {
    start_users_server -m 2
    raw_open
    local first=$FTP_FD
    raw_open
    raw_open
    expect_reply "error|busy|the server is full (session limit 2); try again later"
    expect_closed
    run ftp_as bob "pwd"
    [ "$status" -eq 1 ]
    [[ "$output" == *"the server is full (session limit 2)"*"(busy)"* ]] ||
        fail "$output"

    tcp_close "$first"
    wait_until 5 served_now || fail "no slot came free"
}

served_now() {
    [ "$(ftp_as bob "pwd" 2>/dev/null)" = $'welcome bob\n/' ]
}

# lab: framing
@test "three users transferring at once, each in their own home, byte-exact" {
    start_users_server
    local user
    for user in bob dave erin; do
        mkdir -p "$HERE/$user" "$ROOT/$user"
        random_file "$HERE/$user/up" $((2 * 1024 * 1024))
        random_file "$ROOT/$user/down" $((2 * 1024 * 1024))
    done
    local pids=()
    for user in bob dave erin; do
        (cd "$HERE/$user" && ftp_as "$user" "put up" "get down" \
            >"$BATS_TEST_TMPDIR/$user.out" 2>&1) 3>&- 4>&- &
        pids+=($!)
    done
    for user in 0 1 2; do
        wait "${pids[user]}" || fail "client $user failed"
    done
    for user in bob dave erin; do
        cmp "$HERE/$user/up" "$ROOT/$user/up"
        cmp "$ROOT/$user/down" "$HERE/$user/down"
    done
    [ "$(log_count 'login\|(bob|dave|erin)\|.* -> ok')" -eq 3 ]
}

@test "server and ftpuser usage errors exit 2" {
    local opt
    for opt in "-w x" "-w -1" "-t 99999999" "-m 0" "-u"; do
        # shellcheck disable=SC2086 # the option and its value
        run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" $opt
        [ "$status" -eq 2 ] || fail "server $opt: status $status"
    done
    run with_timeout 5 "${_server_wrapper[@]}" "$STAGE_DIR/server" -h
    expect_run 0 "-u USERS_FILE"
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/ftpuser" -h
    expect_run 0 "usage: ftpuser"
    run with_timeout 5 "${_client_wrapper[@]}" "$STAGE_DIR/ftpuser" -x -f u a
    [ "$status" -eq 2 ]
}
