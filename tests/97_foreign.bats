#!/usr/bin/env bats
# make test SERVER='COMMAND': the stages' tests against programs that
# are not ours (tests/foreign/: echo servers in Python 3, right and
# wrong; and our own servers, silent, given as a command), and the
# Gradescope autograder. Each test runs a stage's tests in full or in
# part, so this file takes minutes:
# it is not in the default make test; make test STAGE=foreign runs it
# (.ci/run does).

load helpers

FOREIGN="$TOP/tests/foreign"

# stage_tests STAGE SERVER [TEST]: run make test for STAGE with SERVER
# (and only the tests matching TEST), TAP in $output.
stage_tests() {
    run with_timeout 600 make -s --no-print-directory -C "$TOP" test \
        STAGE="$1" SERVER="$2" ${3:+TEST="$3"} BATS_FLAGS=--tap
}

# passes_with_reasons MIN: the run passed, at least MIN tests ran, and
# every skipped test said why.
passes_with_reasons() {
    local ran skipped silent
    [ "$status" -eq 0 ] ||
        fail "the run failed (exit $status):" \
            "$(grep -A 6 '^not ok' <<<"$output" | head -n 30)" || return 1
    ran=$(grep -E '^ok ' <<<"$output" | grep -cv ' # skip') || true
    skipped=$(grep -cE '^ok .* # skip' <<<"$output") || true
    silent=$(grep -E '^ok .* # skip *$' <<<"$output") || true
    ((ran >= $1)) || fail "only $ran tests ran ($skipped skipped)" || return 1
    [ -z "$silent" ] || fail "skipped without a reason: $silent"
}

@test "stage 3: a concurrent echo server in Python passes; 10 tests or more run, the others say why they skip" {
    stage_tests 3 "python3 $FOREIGN/echo_server.py {port}"
    passes_with_reasons 10
    grep -qE '^ok .* # skip needs our server: ' <<<"$output" ||
        fail "no test skipped as needing our server"
}

@test "stage 3: a Python echo server that strips whitespace fails, saying how the echo differs" {
    # (Its 1 MiB of random bytes may pass: whitespace is stripped only
    # at the ends of each recv(), which random bytes may not have.)
    stage_tests 3 "python3 $FOREIGN/strip_echo_server.py {port}" '^thread: lesson'
    [ "$status" -ne 0 ] || fail "the stripping server passed: $output"
    [[ "$output" == *"=> sent 'from A' and a newline; in 5 s, only 'from A' came back, with no newline"* ]] ||
        fail "the lesson's failure does not say that the newline is gone: $output"
}

@test "stage 1: a concurrent echo server fails its lesson, a server that exits after its one client" {
    stage_tests 1 "python3 $FOREIGN/echo_server.py {port}" '^limitation'
    [ "$status" -ne 0 ] || fail "the concurrent server passed stage 1: $output"
    [[ "$output" == *"stage 01's server ends after its one client"* ]] ||
        fail "the failure does not say why: $output"
}

@test "stage 1: its server in Python (one client, then exit) passes" {
    stage_tests 1 "python3 $FOREIGN/one_client_server.py {port}"
    passes_with_reasons 10
}

@test "stage 2: an iterative Python server passes; a concurrent one fails its limitation" {
    stage_tests 2 "python3 $FOREIGN/iterative_server.py {port}"
    passes_with_reasons 10
    stage_tests 2 "python3 $FOREIGN/echo_server.py {port}" '^limitation'
    [ "$status" -ne 0 ] || fail "the concurrent server passed stage 2's limitation"
    [[ "$output" == *"B was answered ('from B') while A was still connected"* ]] ||
        fail "the failure does not say why: $output"
}

@test "stage 5: a Python UDP echo passes the server's tests, loss included" {
    stage_tests 5 "python3 $FOREIGN/udp_echo_server.py {port}"
    passes_with_reasons 10
}

@test "stage 4: its own server, given as SERVER= and printing nothing, passes" {
    stage_tests 4 "exec $TOP/04_ftp/server -d {root} -t 0 {port} >/dev/null 2>&1"
    passes_with_reasons 30
}

@test "a server that never listens, or exits at once, fails in bounded time, saying so" {
    stage_tests 3 "sleep 60" '^one byte'
    [ "$status" -ne 0 ] || fail "a server that never listened passed"
    [[ "$output" == *"=> the server (sleep 60) did not listen on port "*" within 10 s"* ]] ||
        fail "$output"
    stage_tests 3 "echo no such luck; exit 3" '^one byte'
    [ "$status" -ne 0 ] || fail "a server that exited passed"
    [[ "$output" == *"exited before it listened on port "*"no such luck"* ]] ||
        fail "$output"
}

@test "stage 3, CLIENT=: a Python client passes the client tests; one that sends a whole line first fails, saying why" {
    run with_timeout 600 make -s --no-print-directory -C "$TOP" test STAGE=3 \
        CLIENT="python3 $FOREIGN/echo_client.py" TEST='^client' BATS_FLAGS=--tap
    passes_with_reasons 5
    grep -qE '^ok .* # skip needs our client: ' <<<"$output" ||
        fail "no test skipped as needing our client"
    sed 's/16384/1 << 30/g' "$FOREIGN/echo_client.py" >"$BATS_TEST_TMPDIR/whole.py"
    run with_timeout 600 make -s --no-print-directory -C "$TOP" test STAGE=3 \
        CLIENT="python3 $BATS_TEST_TMPDIR/whole.py" TEST='^client: a line longer' \
        BATS_FLAGS=--tap
    [ "$status" -ne 0 ] || fail "a client that sends a whole line first passed"
    [[ "$output" == *"=> the client, sent a line of "*"did not finish in 20 s"* ]] ||
        fail "the failure does not say why: $output"
}

# --- course platforms ------------------------------------------------------

# autograde SUBMISSION_FILES...: put the files in a directory laid out
# as Gradescope's /autograder (AG), the zip unpacked in source/, and run
# run_autograder from where Gradescope puts it, with AUTOGRADER_ROOT.
autograde() {
    rm -rf "$AG/submission" "$AG/results"
    mkdir -p "$AG/submission"
    cp "$@" "$AG/submission/"
    AUTOGRADER_ROOT="$AG" run with_timeout 900 "$AG/run_autograder"
    [ "$status" -eq 0 ] || fail "run_autograder exited $status: $output" ||
        return 1
    RESULTS="$AG/results/results.json"
    jq -e . "$RESULTS" >/dev/null ||
        fail "results.json is not JSON: $(head -c 300 "$RESULTS")"
}

@test "gradescope: the zip, unpacked as /autograder is, gives the reference full marks, and the hand-out make grade's score" {
    command -v jq >/dev/null || skip "jq is not installed (apt-get install jq)"
    command -v zip >/dev/null || skip "zip is not installed (apt-get install zip)"
    local zip="$TOP/build/gradescope/01_echo-autograder.zip" bad total
    run make -s --no-print-directory -C "$TOP" gradescope STAGE=1
    [ "$status" -eq 0 ] && [ -f "$zip" ] || fail "make gradescope: $output"
    AG="$BATS_TEST_TMPDIR/autograder"
    mkdir -p "$AG/source"
    unzip -q "$zip" -d "$AG/source"
    [ -x "$AG/source/setup.sh" ] && [ -x "$AG/source/run_autograder" ] ||
        fail "the zip has no setup.sh and run_autograder: $(ls "$AG/source")"
    cp "$AG/source/run_autograder" "$AG/run_autograder"

    autograde "$TOP"/01_echo/*.[ch]
    jq -e '.score == .max_score and .max_score == (.tests | length) and
        .max_score >= 30' "$RESULTS" >/dev/null ||
        fail "the reference is not given full marks (a point a test):" \
            "$(jq -c '{score, max_score, tests: (.tests | length)}' "$RESULTS")"
    bad=$(jq -r '.tests[] | select((.name | type) != "string" or
        (.score | type) != "number" or (.max_score | type) != "number" or
        .status != "passed" or (.output | type) != "string") | .name' "$RESULTS")
    [ -z "$bad" ] || fail "entries without every field, or not passed: $bad"
    [[ "$(jq -r .output "$RESULTS")" == *"total"*"full marks"* ]] ||
        fail "the output has no total: $(jq -r .output "$RESULTS")"

    autograde "$AG"/source/handout/01_echo/*.[ch]
    run with_timeout 900 make -s --no-print-directory -C "$TOP" grade STAGE=1 \
        DIR="$AG/source/handout"
    total=$(awk '$1 == "total" { split($2, n, "/"); print n[1] }' <<<"$output")
    [ -n "$total" ] || fail "make grade printed no total: $output"
    [ "$(jq -r .score "$RESULTS")" = "$total" ] ||
        fail "the hand-out's stubs: $(jq -r .score "$RESULTS") on" \
            "Gradescope, $total with make grade"
    jq -e '[.tests[] | select(.status == "failed" and .output == "")] | length == 0' \
        "$RESULTS" >/dev/null || fail "a failed test with no message"
}
