#!/usr/bin/env bats
# The short-I/O shim (tests/shortio.c) catches what a quiet loopback
# hides. tests/naive_echo_client.c sends a message with one send() and
# takes one recv() for its whole echo: it passes on loopback, and must
# fail under the shim, or the shim proves nothing about the programs
# that pass under it. check/run builds both before running this file.

load ../tests/helpers

SHIM="$TOP/tests/shortio.so"
NAIVE="$TOP/tests/naive_echo_client"
MESSAGE="a message of several dozen bytes, sent with one send()"

setup() {
    [ -f "$SHIM" ] && [ -x "$NAIVE" ] ||
        fail "build them first: make tests/shortio.so tests/naive_echo_client"
    # Stage 01's server: it echoes one client, with no shim under it.
    start_server "$TOP/01_echo/server" 0
}

@test "without the shim, the naive client gets its whole echo (the bug hides)" {
    run with_timeout 10 "$NAIVE" 127.0.0.1 "$SERVER_PORT" "$MESSAGE"
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    [ "$output" = "$MESSAGE" ]
}

@test "with the shim, the naive client gets a few bytes back, and fails" {
    run with_timeout 10 env LD_PRELOAD="$SHIM" \
        "$NAIVE" 127.0.0.1 "$SERVER_PORT" "$MESSAGE"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    ((${#output} >= 1 && ${#output} <= 3)) ||
        fail "expected 1 to 3 bytes back, got '$output'"
}

@test "with the shim's EINTR on every call, the naive client fails with EINTR" {
    run with_timeout 10 env LD_PRELOAD="$SHIM" SHORTIO_EINTR_EVERY=1 \
        "$NAIVE" 127.0.0.1 "$SERVER_PORT" "$MESSAGE"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"Interrupted system call"* ]] || fail "$output"
}
