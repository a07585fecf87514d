#!/usr/bin/env bats
# The documents' transcripts: every block that shows commands with their
# output, and is marked <!-- replay --> above its fence, is replayed by
# tests/replay.sh (which says how), and must print what the document
# shows. A command that goes stale fails here. `make test STAGE=docs`
# runs this file alone (after building every stage).

load helpers

# The documents whose transcripts are replayed.
DOCS=(
    01_echo/README.md
    02_persistent_server/README.md
    03_multiclient/README.md
    04_ftp/README.md
    04_ftp/USERS.md
    05_udp_raw/UDP.md
    05_udp_raw/ICMP.md
    05_udp_raw/RAW.md
    05_udp_raw/SNIFF.md
)

# Every replay starts at once, in the background: they spend their time
# waiting (ping's intervals, the UDP client's timeouts), not computing,
# so the file takes about as long as its slowest document (about 5 s).
setup_file() {
    local doc
    # make check's variants build the programs with sanitizers, which
    # print and take time of their own: the documents are the default
    # run's business.
    [ -z "${CHECK_VARIANT:-}" ] || return 0
    for doc in "${DOCS[@]}"; do
        (
            code=0 # (bats runs this with set -e: keep the status)
            timeout 120 "$TOP/tests/replay.sh" "$TOP/$doc" \
                >"$(_result "$doc").out" 2>&1 || code=$?
            echo "$code" >"$(_result "$doc").status"
        ) 3>&- 4>&- &
    done
}

_result() {
    local key=${1//\//_}
    echo "$BATS_FILE_TMPDIR/${key%.md}"
}

# replayed DOC: the result of DOC's replay, started in setup_file.
replayed() {
    [ -z "${CHECK_VARIANT:-}" ] ||
        skip "make check-$CHECK_VARIANT: the default run replays the documents"
    local result
    result=$(_result "$1")
    wait_until 120 test -s "$result.status" ||
        fail "$1: the replay did not finish within 120 s"
    local code
    code=$(cat "$result.status")
    [ "$code" != 77 ] || skip "$(tail -n 1 "$result.out")"
    [ "$code" = 0 ] || fail "$1: what it shows is not what the commands print" \
        "(or a block is not marked):" $'\n'"$(cat "$result.out")" $'\n'"Fix the" \
        "document (and its Chinese twin), or the program; tests/replay.sh $1" \
        "replays it by hand."
}

@test "01_echo/README.md: its transcripts, replayed, print what it shows" {
    replayed 01_echo/README.md
}

@test "02_persistent_server/README.md: its transcripts, replayed, print what it shows" {
    replayed 02_persistent_server/README.md
}

@test "03_multiclient/README.md: its transcripts, replayed, print what it shows" {
    replayed 03_multiclient/README.md
}

@test "04_ftp/README.md: its transcripts, replayed, print what it shows" {
    replayed 04_ftp/README.md
}

@test "04_ftp/USERS.md: its transcripts, replayed, print what it shows" {
    replayed 04_ftp/USERS.md
}

@test "05_udp_raw/UDP.md: its transcripts, replayed, print what it shows" {
    replayed 05_udp_raw/UDP.md
}

@test "05_udp_raw/ICMP.md: its transcripts, replayed, print what it shows" {
    replayed 05_udp_raw/ICMP.md
}

@test "05_udp_raw/RAW.md: its transcripts, replayed, print what it shows" {
    replayed 05_udp_raw/RAW.md
}

@test "05_udp_raw/SNIFF.md: its transcripts, replayed, print what it shows" {
    replayed 05_udp_raw/SNIFF.md
}

@test "the Chinese twins mark and show the same transcripts as the English documents" {
    local doc bad=0
    for doc in "${DOCS[@]}"; do
        run "$TOP/tests/replay.sh" --twin "$TOP/$doc"
        [ "$status" -eq 0 ] || { printf '%s\n' "$output" >&2 && bad=1; }
    done
    ((bad == 0)) || fail "a twin differs from its English document (above)"
}

# The functions the documents place in files (`proto.c`: `read_line()`,
# `f()` in `file.c`): each is there (tests/funcrefs.sh).
@test "every function a document places in a file is in that file" {
    local -a docs
    mapfile -t docs < <(cd "$TOP" && git ls-files '*.md' 2>/dev/null |
        grep -E '^(0[1-5]_[a-z_]+/|labs/|slides/|README)')
    # (A copy of the tree without git, as a lab's: every document there.)
    ((${#docs[@]} > 0)) || mapfile -t docs < <(cd "$TOP" &&
        ls -d 0[1-5]_*/*.md labs/*.md labs/0*/*.md slides/*.md README*.md \
            2>/dev/null)
    ((${#docs[@]} > 10)) || fail "only ${#docs[@]} documents found"
    run bash -c 'cd "$1" && shift && tests/funcrefs.sh "$@"' sh "$TOP" "${docs[@]}"
    [ "$status" -eq 0 ] || fail "a document names a function where it is" \
        "not (rename it there too, or say where it went):"$'\n'"$output"
}

@test "funcrefs.sh: a function moved, removed or misplaced in a document fails, named" {
    local dir=$BATS_TEST_TMPDIR/top
    mkdir -p "$dir/tests" "$dir/09_x"
    cp "$TOP/tests/funcrefs.sh" "$dir/tests/"
    printf 'int\nkept(void)\n{\n    return write(1, "", 0);\n}\n' >"$dir/09_x/a.c"
    printf 'int\nmoved(void)\n{\n    return 0;\n}\n' >"$dir/09_x/b.c"
    printf '%s\n' '`a.c`: `kept()`, and `write()` in `a.c`.' >"$dir/09_x/ok.md"
    run bash -c 'cd "$1" && tests/funcrefs.sh 09_x/ok.md' sh "$dir"
    [ "$status" -eq 0 ] || fail "a right document was refused: $output"
    printf '%s\n' '`a.c`: `kept()`, `gone()`' '`moved()` in `a.c`' \
        '`a.c`'"'"'s `read()`' '`c.c`: `kept()`' >"$dir/09_x/bad.md"
    run bash -c 'cd "$1" && tests/funcrefs.sh 09_x/bad.md' sh "$dir"
    [ "$status" -eq 1 ] || fail "a stale document passed: $output"
    [[ "$output" == *"09_x/a.c neither defines nor calls gone()"* ]] ||
        fail "a removed function was not named: $output"
    [[ "$output" == *"moved() is not in 09_x/a.c, but in 09_x/b.c"* ]] ||
        fail "a function in another file was not named: $output"
    [[ "$output" == *"09_x/a.c neither defines nor calls read()"* ]] ||
        fail "a system call the file does not make was not named: $output"
    [[ "$output" == *"kept() in c.c: there is no c.c"* ]] ||
        fail "a file that does not exist was not named: $output"
}

# replay_fixture DOC: replay a document made by the test, into $status
# and $output; skip where replay.sh cannot make its namespaces (77).
replay_fixture() {
    run "$TOP/tests/replay.sh" "$1"
    ((status != 77)) || skip "user namespaces are not allowed here (unshare -rn)"
}

# replay.sh itself, on a document made here: a program that prints one
# line, a transcript of it, and the ways a transcript goes wrong.
@test "replay.sh: a stale output, a stale command and an unmarked transcript all fail, naming the block" {
    local dir=$BATS_TEST_TMPDIR/doc
    mkdir -p "$dir"
    printf '#!/bin/sh\necho "hello from [::1]:${1:-9001}"\n' >"$dir/hello"
    chmod +x "$dir/hello"
    printf '%s\n' '# A doc' '' '<!-- replay -->' '```' '$ ./hello' \
        'hello from [::1]:9001' '$ ./hello 41234' 'hello from [::1]:41999' '```' >"$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 0 ] || fail "a true transcript (ports from 30000 up ignored) failed: $output"

    sed -i 's/^\(hello from .*\):9001$/\1:9002/' "$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 1 ] && [[ $output == *"A.md:4: the replay differs"* ]] &&
        [[ $output == *"-hello from [::1]:9002"* ]] &&
        [[ $output == *"+hello from [::1]:9001"* ]] ||
        fail "a stale output: status $status, '$output'"

    sed -i -e 's/^\(hello from .*\):9002$/\1:9001/' -e 's|^\$ \./hello$|$ ./hullo|' "$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 1 ] && [[ $output == *"./hullo"* ]] ||
        fail "a stale command: status $status, '$output'"

    printf '%s\n' '```' '$ ./hello' 'hello from [::1]:9001' '```' >"$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 1 ] && [[ $output == *"A.md:1: a block of commands and output"* ]] ||
        fail "an unmarked transcript: status $status, '$output'"
}

# rename and user, on documents made here: ports that change at every
# run keep who sent to whom, and a block marked user runs as a user.
@test "replay.sh: rename fails a swapped sender and receiver, user fails without it" {
    local dir=$BATS_TEST_TMPDIR/doc
    mkdir -p "$dir"
    printf '%s\n' '#!/bin/bash' 'a=$((10000 + RANDOM % 50000)) b=$((a + 1))' \
        'echo "from $a to $b"' 'echo "from $b to $a"' >"$dir/ports"
    chmod +x "$dir/ports"
    printf '%s\n' '<!-- replay: rename [0-9][0-9][0-9][0-9][0-9] -->' '```' '$ ./ports' \
        'from 41000 to 41001' 'from 41001 to 41000' '```' >"$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 0 ] || fail "ports renamed in the order they appear: status $status, '$output'"

    sed -i 's/^from 41001 to 41000$/from 41000 to 41001/' "$dir/A.md"
    replay_fixture "$dir/A.md"
    [ "$status" -eq 1 ] && [[ $output == *"A.md:2: the replay differs"* ]] &&
        [[ $output == *$'\n-from <1> to <2>\n'* ]] &&
        [[ $output == *$'\n+from <2> to <1>'* ]] ||
        fail "a swapped sender and receiver: status $status, '$output'"

    printf '%s\n' '<!-- replay: user -->' '```' '$ id -u' '1000' \
        '$ unshare -r id -u' '0' '```' >"$dir/B.md"
    replay_fixture "$dir/B.md"
    [ "$status" -eq 0 ] || fail "a block run as a user: status $status, '$output'"

    sed -i 's/^<!-- replay: user -->$/<!-- replay -->/' "$dir/B.md"
    replay_fixture "$dir/B.md"
    [ "$status" -eq 1 ] && [[ $output == *"B.md:2: the replay differs"* ]] &&
        [[ $output == *$'\n-1000\n'* ]] && [[ $output == *"unshare: "* ]] ||
        fail "without user, the namespace's root: status $status, '$output'"
}
