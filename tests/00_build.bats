#!/usr/bin/env bats
# The build: the top-level Makefile and each stage's own Makefile. Every
# test works on a copy of the tree, so your checkout's ./server links
# and binaries are left alone.

load helpers

# copy_tree: the project, without .git, in $TREE.
copy_tree() {
    TREE="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$TREE"
    tar -C "$TOP" --exclude=./.git --exclude=./slides/node_modules \
        --exclude=./slides/build --exclude=./build -cf - . |
        tar -C "$TREE" -xf -
    make -s -C "$TREE" clean >/dev/null
}

stage_dirs() {
    local dir
    for dir in "$TOP"/0[1-5]_*/; do
        [ -f "$dir/Makefile" ] && basename "$dir"
    done
}

# What a student sees on the first `make`, and on the next.
@test "make builds every stage's programs, with no Entering/Leaving lines, and says nothing when up to date" {
    copy_tree
    cd "$TREE"
    run make
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" != *"Entering directory"* ]] || fail "$output"
    [[ "$output" == *"building 01_echo/"* ]] || fail "$output"
    local dir prog
    for dir in $(stage_dirs); do
        for prog in $(make -s --no-print-directory -C "$dir" programs); do
            [ -x "$dir/$prog" ] || fail "$dir/$prog was not built"
        done
    done
    run make
    [ "$status" -eq 0 ] || fail "$output"
    [ -z "$output" ] || fail "make with nothing to do said: $output"
    run make stage2
    [ "$output" = "now running stage 2 (02_persistent_server): ./server ./client" ] ||
        fail "$output"
    run make test STAGE=slides BATS=true
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" != *"directory"* ]] || fail "$output"
}

@test "make stageN links ./server and ./client to that stage and says so" {
    copy_tree
    run make -C "$TREE" stage1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"now running stage 1 (01_echo): ./server ./client"* ]]
    [ "$(readlink "$TREE/server")" = 01_echo/server ]
    [ "$(readlink "$TREE/client")" = 01_echo/client ]

    run make -C "$TREE" stage2
    [ "$status" -eq 0 ] || fail "$output"
    [ "$(readlink "$TREE/server")" = 02_persistent_server/server ]
    [ "$(readlink "$TREE/client")" = 02_persistent_server/client ]
}

@test "make stage3 links all of stage 3's servers; server_epoll where epoll exists" {
    copy_tree
    run make -C "$TREE" stage3
    [ "$status" -eq 0 ] || fail "$output"
    local prog progs=(server client server_fork server_poll)
    [ "$(uname -s)" != Linux ] || progs+=(server_epoll)
    for prog in "${progs[@]}"; do
        [ "$(readlink "$TREE/$prog")" = "03_multiclient/$prog" ] ||
            fail "./$prog is not linked to 03_multiclient/$prog: $output"
        [ -x "$TREE/$prog" ] || fail "./$prog does not run: $output"
        [[ "$output" == *"./$prog"* ]] || fail "./$prog not named: $output"
    done
}

@test "without <sys/epoll.h>, stage 3 builds without server_epoll and says so" {
    cp -r "$TOP/03_multiclient" "$BATS_TEST_TMPDIR/03_multiclient"
    local dir="$BATS_TEST_TMPDIR/03_multiclient"
    make -s -C "$dir" clean
    # HAVE_EPOLL is what the Makefile finds out; set, as if it found none.
    run make -C "$dir" HAVE_EPOLL=no
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"server_epoll is not built: epoll is Linux-only"* ]] ||
        fail "no note that server_epoll was left out: $output"
    [ ! -e "$dir/server_epoll" ] || fail "server_epoll was built anyway"
    run make -s -C "$dir" HAVE_EPOLL=no programs
    [ "$output" = "server client server_fork server_poll" ] ||
        fail "make programs: '$output'"
}

@test "make stage1 && ./server 0 works from the top level" {
    copy_tree
    make -s -C "$TREE" stage1 >/dev/null
    cd "$TREE"
    start_server ./server 0
    run with_timeout 10 ./client 127.0.0.1 "$SERVER_PORT" <<<"top level"
    [ "$output" = "top level" ]
}

@test "make stageN for a stage not written yet fails with a clear message" {
    copy_tree
    rm -rf "$TREE"/05_* # as if stage 5 were still to be written
    run make -C "$TREE" stage5
    [ "$status" -ne 0 ] || fail "make stage5 succeeded"
    [[ "$output" == *"stage 5 (05_udp_raw) is not written yet"* ]] ||
        fail "$output"
    [ ! -e "$TREE/server" ] || fail "a link was made anyway"
}

@test "make clean removes the programs and the top-level links" {
    copy_tree
    make -s -C "$TREE" stage2 >/dev/null
    make -s -C "$TREE" clean
    [ ! -e "$TREE/server" ]
    [ ! -L "$TREE/server" ]
    [ ! -e "$TREE/02_persistent_server/server" ]
}

@test "each stage directory builds alone, copied elsewhere, warning-free" {
    local dir
    for dir in $(stage_dirs); do
        cp -r "$TOP/$dir" "$BATS_TEST_TMPDIR/$dir"
        make -s -C "$BATS_TEST_TMPDIR/$dir" clean
        run make -j2 -C "$BATS_TEST_TMPDIR/$dir" WERROR=1
        [ "$status" -eq 0 ] || fail "$dir: $output"
        [[ "$output" != *warning* ]] || fail "$dir: $output"
    done
}

@test "make test without bats says how to install it, and fails" {
    copy_tree
    run make -C "$TREE" test BATS=/nonexistent/bats
    [ "$status" -ne 0 ]
    [[ "$output" == *"apt-get install bats"* ]] || fail "$output"
}

@test "make test STAGE=N runs only that stage's tests; STAGE=build, labs and slides the others" {
    run make -n -C "$TOP" test STAGE=1 BATS_FLAGS= JOBS=1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"tests/01_echo.bats"* ]] || fail "$output"
    [[ "$output" != *"tests/02_"* ]] || fail "$output"
    run make -n -C "$TOP" test STAGE=slides BATS_FLAGS= JOBS=1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" =~ bats\ +tests/99_slides\.bats ]] || fail "$output"
    run make -n -C "$TOP" test STAGE=build BATS_FLAGS= JOBS=1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" =~ bats\ +tests/00_build\.bats ]] || fail "$output"
    run make -n -C "$TOP" test STAGE=labs BATS_FLAGS= JOBS=1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" =~ bats\ +tests/98_labs\.bats ]] || fail "$output"
    run make -C "$TOP" test STAGE=nine
    [ "$status" -ne 0 ] || fail "STAGE=nine: $output"
    [[ "$output" == *"no test files for STAGE=nine"* ]] || fail "$output"
}

# A teacher grades stage 1 while a student's stage 4 does not compile:
# make test STAGE=1 must build and test stage 1 alone.
@test "make test STAGE=1 builds and tests stage 1 alone: a broken 04_ftp does not stop it" {
    copy_tree
    printf 'this is not C\n' >>"$TREE/04_ftp/server.c"
    run make -C "$TREE/04_ftp" server
    [ "$status" -ne 0 ] || fail "the broken 04_ftp built: $output"
    run make -C "$TREE" test STAGE=1 BATS_FLAGS="-f client:.IPv4"
    [ "$status" -eq 0 ] || fail "make test STAGE=1: status $status: $output"
    [[ "$output" == *"ok 1 client: IPv4, a server at 127.0.0.1"* ]] ||
        fail "$output"
    [[ "$output" != *04_ftp* ]] || fail "stage 04 was built: $output"
}

# DESIGN.md section 3: a program started with fd 0, 1 or 2 closed must
# not let a socket take it. Each main() starts by opening /dev/null onto
# any that is closed (the stage tests show what happens otherwise).
@test "every program's main() first calls open_standard_fds()" {
    local file first missing=()
    for file in "$TOP"/0[1-5]_*/*.c; do
        grep -q '^main(' "$file" || continue
        first=$(awk '/^main\(/ { getline; getline; print; exit }' "$file")
        [[ "$first" == "    open_standard_fds();"* ]] ||
            missing+=("${file#"$TOP"/}: $first")
    done
    [ "${#missing[@]}" -eq 0 ] ||
        fail "main() starts otherwise in:" "${missing[@]/#/$'\n'  }"
}

@test "the C sources are formatted (make check-format)" {
    command -v clang-format >/dev/null || skip "clang-format is not installed"
    run make -C "$TOP" check-format
    [ "$status" -eq 0 ] || fail "$output"
}

@test "the echo stages' copies of net.c and net.h are identical" {
    local dir file
    for dir in "$TOP"/02_persistent_server "$TOP"/03_multiclient; do
        [ -d "$dir" ] || continue
        for file in net.c net.h; do
            diff -u "$TOP/01_echo/$file" "$dir/$file" ||
                fail "$dir/$file differs from 01_echo/$file"
        done
    done
}

@test "the Python server the READMEs show is tests/foreign/echo_server.py, line for line" {
    local readme shown
    for readme in README.md README.zh-CN.md; do
        shown=$(sed -n '/^```python$/,/^```$/p' "$TOP/$readme" | sed '1d;$d')
        [ "$shown" = "$(cat "$TOP/tests/foreign/echo_server.py")" ] ||
            fail "$readme's Python server differs from" \
                "tests/foreign/echo_server.py:" \
                "$(diff <(echo "$shown") "$TOP/tests/foreign/echo_server.py")"
    done
}
