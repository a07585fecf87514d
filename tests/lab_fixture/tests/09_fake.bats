#!/usr/bin/env bats
# The tests of a made-up lab hand-out, which tests/98_labs.bats grades
# with labs/grade.sh: part "one" has a test that passes, one that fails
# with a message of two lines after other output, and one that skips;
# part "two" one that fails with an assertion alone; part "three" one
# that runs for ever; the given code one that passes. With ALL_PASS set,
# the tests that fail pass; the ones that skip or hang are run only when
# their variable is set.

fail() {
    printf '=> %s\n' "$*" >&2
    return 1
}

# lab: one
@test "one passes" {
    true
}

# lab: one
@test "one fails with a message" {
    [ -z "${ALL_PASS:-}" ] || return 0
    echo "some output first"
    fail "the message, with \"quotes\", a comma"$'\n'"and a second line"
}

# lab: one
@test "one skips" {
    skip "no reason"
}

# lab: two
@test "two fails with an assertion" {
    [ -z "${ALL_PASS:-}" ] || return 0
    [ 1 -eq 2 ]
}

@test "given code passes" {
    true
}

# lab: two
@test "two hangs, and its child ignores SIGTERM" {
    [ -n "${HANG_PID_FILE:-}" ] || skip "only when HANG_PID_FILE is set"
    bash -c 'trap "" TERM; echo $$ >"$HANG_PID_FILE"; exec sleep 600' &
    sleep 600
}

# lab: three
@test "three (takes) for ever" {
    [ -n "${FOR_EVER:-}" ] || skip "only when FOR_EVER is set"
    sleep 600
}
