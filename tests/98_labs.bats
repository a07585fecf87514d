#!/usr/bin/env bats
# The labs (labs/README.md) and the classic mistakes (check/mistakes/):
# the quick checks, on every make test. Grading every hand-out, cut and
# pasted back, and planting every mistake take minutes: make check-labs
# and make check-mistakes do that. The two tests tagged slow (a hand-out
# built, a submission graded) run with make test STAGE=labs or SLOW=1,
# not in the default run.

load helpers

LAB_SH="$TOP/labs/lab.sh"

setup_file() {
    export LABS_OUT="$BATS_FILE_TMPDIR/labs"
    local lab
    for lab in "$TOP"/labs/0[1-9]_*/lab.conf; do
        "$LAB_SH" "$(basename "$(dirname "$lab")")" "$LABS_OUT" >/dev/null 2>&1 ||
            true # the first test says what went wrong
    done
}

# fake_lab DIR [FIXTURE]: a copy of tests/lab_fixture/, the hand-out of a made-up
# lab whose test results labs/grade.sh must read (see its tests file),
# with this tree's grader.
fake_lab() {
    cp -R "$TOP/tests/lab_fixture" "$1"
    cp "$TOP/labs/grade.sh" "$1/"
    # FIXTURE: another of the fixture's test files in place of its own
    # (each says why it is there).
    [ -z "${2:-}" ] || cp "$1/$2" "$1/tests/09_fake.bats"
}

@test "labs: every stage has a lab, and its hand-out is made (regions, TODO files and lab.conf agree)" {
    local lab stage
    for stage in "$TOP"/0[1-9]_*/; do
        stage=$(basename "$stage")
        [ -f "$TOP/labs/$stage/lab.conf" ] ||
            fail "stage $stage has no lab (labs/$stage/lab.conf)"
    done
    for lab in "$TOP"/labs/0[1-9]_*/lab.conf; do
        stage=$(basename "$(dirname "$lab")")
        run "$LAB_SH" "$stage" "$BATS_TEST_TMPDIR/out"
        [ "$status" -eq 0 ] || fail "labs/lab.sh $stage: $output"
        [ -f "$BATS_TEST_TMPDIR/out/$stage-lab.tar.gz" ] ||
            fail "no $stage-lab.tar.gz"
    done
}

# bats test_tags=slow
@test "labs: each hand-out builds warning-free (WERROR=1) and its servers start" {
    local dir stage prog pid
    for dir in "$LABS_OUT"/*-lab/; do
        stage=$(basename "$dir" -lab)
        run with_timeout 120 make -j2 -C "$dir" all tools WERROR=1
        [ "$status" -eq 0 ] || fail "$stage hand-out: make WERROR=1: $output"
        for prog in $(make -s --no-print-directory -C "$dir/$stage" programs); do
            [[ $prog == server* ]] || continue
            start_server "$dir/$stage/$prog" 0
            stop_process "$SERVER_PID"
        done
    done
}

@test "labs: no line of a hand-out's code is over 80 columns" {
    local long
    long=$(cd "$LABS_OUT" && grep -n '.\{81,\}' ./*-lab/0*/*.[ch]) || true
    [ -z "$long" ] || fail "lines over 80 columns (a TODO file too wide?):" \
        "$long"
}

@test "labs: a hand-out has the stage, its tests, LAB.md, a Makefile and the grader" {
    local dir=$LABS_OUT/01_echo-lab
    [ -d "$dir" ] || skip "no lab for stage 01"
    for f in LAB.md Makefile grade.sh lab.conf 01_echo/Makefile \
        01_echo/server.c tests/helpers.bash tests/01_echo.bats; do
        [ -f "$dir/$f" ] || fail "the hand-out has no $f"
    done
    ! grep -rn 'lab:begin\|lab:end\|slide:begin\|slide:end' "$dir/01_echo" ||
        fail "markers left in the hand-out"
    grep -q 'TODO' "$dir/01_echo/net.c" || fail "no TODO in 01_echo/net.c"
}

# The relative link targets in the Markdown files under DIR that do not
# exist: one "FILE -> TARGET" line each. (Web links and #anchors within
# the same file are not checked.)
broken_links() {
    local file target
    while IFS= read -r file; do
        grep -o '](\([^)#[:space:]][^)[:space:]]*\))' "$file" |
            sed 's/^](\(.*\))$/\1/' | while IFS= read -r target; do
            [[ $target == *://* || $target == mailto:* ]] && continue
            [ -e "$(dirname "$file")/${target%%#*}" ] ||
                echo "${file#"$1"/} -> $target"
        done
    done < <(find "$1" -name '*.md')
}

@test "labs: every link in a hand-out's documents leads to a file the hand-out has" {
    local dir broken
    broken=$(for dir in "$LABS_OUT"/*-lab; do broken_links "$dir"; done)
    [ -z "$broken" ] || fail "links that lead nowhere in a hand-out" \
        "(labs/lab.sh turns a link to what it leaves behind into text):" \
        "$broken"
}

@test "labs: no test name of a stage holds a backslash (bats prints it otherwise, and the grader could not tell the test's part)" {
    local names
    names=$(grep -h '^@test ".*\\' "$TOP"/tests/0[1-9]_*.bats) || true
    [ -z "$names" ] || fail "test names with a backslash: $names"
}

@test "labs: cut.awk refuses unmatched markers, naming the file and line" {
    local todo=$BATS_TEST_TMPDIR/todo src=$BATS_TEST_TMPDIR/x.c
    mkdir -p "$todo"
    echo 'stub();' >"$todo/r.c"
    printf 'a\n/* lab:begin r */\nb\n' >"$src"
    run awk -v todo="$todo" -f "$TOP/labs/cut.awk" "$src"
    [ "$status" -eq 1 ] || fail "an unended region: exit $status"
    [[ "$output" == *"x.c:2: lab:begin r has no lab:end r"* ]] || fail "$output"
    printf 'a\n    /* lab:begin r */\nb\n    /* lab:end r */\nc\n' >"$src"
    run awk -v todo="$todo" -f "$TOP/labs/cut.awk" "$src"
    [ "$status" -eq 0 ] || fail "$output"
    [ "$output" = $'a\n    stub();\nc' ] || fail "cut wrongly: '$output'"
}

@test "grade.sh: a line per part, the first failure's whole message, CSV" {
    fake_lab "$BATS_TEST_TMPDIR/09_fake-lab"
    run with_timeout 60 "$BATS_TEST_TMPDIR/09_fake-lab/grade.sh" \
        -c "$BATS_TEST_TMPDIR/g.csv"
    [ "$status" -eq 1 ] || fail "exit $status, not 1 (not full marks): $output"
    [[ "$output" == *"one "*"1/2"*"(1 skipped: no reason)"*"first failure: one fails with a message"*'the message, with "quotes", a comma and a second line'*"make test TEST='one fails with a message'"* ]] ||
        fail "part one: $output"
    [[ "$output" == *"two "*"0/1"*'`[ 1 -eq 2 ]'"' failed"* ]] ||
        fail "part two: $output"
    [[ "$output" == *"(given code)"*"1/1"* ]] || fail "given: $output"
    [[ "$output" == *"total"*"2/4"* ]] || fail "total: $output"
    run cat "$BATS_TEST_TMPDIR/g.csv"
    [ "${lines[0]}" = "submission,part,passed,total,skipped,first_failure" ]
    [ "${lines[1]}" = '"09_fake-lab","one",1,2,1,"the message, with ""quotes"", a comma and a second line"' ] ||
        fail "CSV: ${lines[1]}"
}

# jq_of FILE FILTER: jq's raw answer, or the test fails naming FILE.
jq_of() {
    jq -er "$2" "$1" 2>/dev/null ||
        fail "${1##*/}: no answer to $2 in: $(head -c 400 "$1")"
}

@test "grade.sh -f gradescope, -f prairielearn: a test per entry, points per part from lab.conf, the report as output" {
    command -v jq >/dev/null || skip "jq is not installed (apt-get install jq)"
    local lab="$BATS_TEST_TMPDIR/09_fake-lab" gs pl
    fake_lab "$lab"
    echo "points one 6" >>"$lab/lab.conf" # its 3 tests: 2 points each
    gs="$BATS_TEST_TMPDIR/gs.json" pl="$BATS_TEST_TMPDIR/pl.json"
    run with_timeout 60 "$lab/grade.sh" -f gradescope -o "$gs"
    [ "$status" -eq 1 ] || fail "exit $status, not 1 (not full marks): $output"
    [ "$(jq_of "$gs" '.tests | length')" -eq 7 ] || fail "not 7 tests: $(cat "$gs")"
    [ "$(jq_of "$gs" '.tests[] | select(.name == "one: one passes") |
        "\(.score) \(.max_score) \(.status)"')" = "2 2 passed" ] ||
        fail "a passed test of part one (6 points, 3 tests): $(cat "$gs")"
    [ "$(jq_of "$gs" '.tests[] | select(.name == "one: one fails with a message") |
        "\(.score) \(.max_score) \(.status) \(.output)"')" = \
        '0 2 failed the message, with "quotes", a comma and a second line' ] ||
        fail "a failed test: $(cat "$gs")"
    [ "$(jq_of "$gs" '.tests[] | select(.name == "one: one skips") |
        "\(.score) \(.status) \(.output)"')" = "0 failed skipped: no reason" ] ||
        fail "a skipped test: $(cat "$gs")"
    [ "$(jq_of "$gs" '"\(.score) \(.max_score)"')" = "3 10" ] ||
        fail "the total: 2 + 1 of 6 + 4: $(cat "$gs")"
    [[ "$(jq_of "$gs" .output)" == *"total"*"2/4"* ]] ||
        fail "the output is not the grade's report: $(cat "$gs")"

    run with_timeout 60 "$lab/grade.sh" -f prairielearn -o "$pl"
    [ "$(jq_of "$pl" '"\(.gradable) \(.score) \(.message)"')" = \
        "true 0.3 2 of 7 tests passed" ] || fail "PrairieLearn: $(cat "$pl")"
    [ "$(jq_of "$pl" '.tests[] | select(.name == "one: one fails with a message") |
        "\(.points) \(.max_points) \(.message) \(.output)"')" = \
        '0 2 failed the message, with "quotes", a comma and a second line' ] ||
        fail "a PrairieLearn test: $(cat "$pl")"
    [[ "$(jq_of "$pl" .output)" == *"total"*"2/4"* ]] ||
        fail "the output is not the grade's report: $(cat "$pl")"
}

@test "grade.sh: every test passed but some skipped: the total says it is not full marks" {
    fake_lab "$BATS_TEST_TMPDIR/09_fake-lab"
    ALL_PASS=1 run with_timeout 60 "$BATS_TEST_TMPDIR/09_fake-lab/grade.sh"
    [ "$status" -eq 1 ] || fail "exit $status, not 1: $output"
    [[ "$output" == *"total"*"4/4"*"3 skipped"*"not full marks"* ]] ||
        fail "the total line does not say tests were skipped: $output"
}

@test "grade.sh: a result under a name the grader does not know is refused, never full marks" {
    local lab="$BATS_TEST_TMPDIR/09_fake-lab"
    fake_lab "$lab" unknown_name.bats
    run with_timeout 60 "$lab/grade.sh"
    [ "$status" -eq 1 ] || fail "exit $status, not 1: $output"
    [[ "$output" == *"(unknown)      0/1"*'first failure: two has a \ in its name'*"unknown to the grader"* ]] ||
        fail "the result is not named as unknown to the grader: $output"
    [[ "$output" == *"(given code)   1/1"* ]] ||
        fail "the unknown result was counted as given code: $output"
    [[ "$output" == *"two "*"0/1"*"no result under this name"* ]] ||
        fail "part two does not say its test had no result: $output"
    [[ "$output" == *"total"*"3/5"*"not full marks"* ]] ||
        fail "the total is not 3/5, not full marks: $output"
    [[ "$output" == *"grade.sh: error: "*"does not know"*'grade.sh:     two has a \ in its name'* ]] ||
        fail "no error on stderr naming the test: $output"
}

@test "grade.sh: a test written on one line counts in its part, as one written on several" {
    local lab="$BATS_TEST_TMPDIR/09_fake-lab"
    fake_lab "$lab" one_line.bats
    run with_timeout 60 "$lab/grade.sh"
    [[ "$output" != *"(unknown)"* ]] ||
        fail "a one-line test was refused as unknown to the grader: $output"
    [[ "$output" == *"one "*"1/1"*"two "*"1/1"*"three "*"1/1"*"(given code)   1/1"* ]] ||
        fail "a one-line test is not counted in its part: $output"
    [[ "$output" == *"total"*"4/4"*"full marks"* ]] && [ "$status" -eq 0 ] ||
        fail "exit $status, not 0 (full marks): $output"
}

@test "grade.sh: a test that times out is reported as a timeout, in its own part" {
    fake_lab "$BATS_TEST_TMPDIR/09_fake-lab"
    FOR_EVER=1 TEST_TIMEOUT=2 run with_timeout 60 \
        "$BATS_TEST_TMPDIR/09_fake-lab/grade.sh"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"three "*"0/1"*"did not finish in 2 s"* ]] ||
        fail "the timeout is not reported as one: $output"
    [[ "$output" == *"(given code)   1/1"* ]] ||
        fail "the timed-out test was counted as given code: $output"
}

@test "grade.sh: a test that hangs costs that run, never the grader; nothing is left running" {
    fake_lab "$BATS_TEST_TMPDIR/09_fake-lab"
    local pid_file=$BATS_TEST_TMPDIR/hung.pid
    HANG_PID_FILE=$pid_file GRADE_TIMEOUT=3 \
        run with_timeout 60 "$BATS_TEST_TMPDIR/09_fake-lab/grade.sh"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    [[ "$output" == *"two "*"0/2"* ]] || fail "$output"
    [[ "$output" == *"three "*"whole run was stopped after 3 s"* ]] ||
        fail "the tests after the hang do not say why they did not run: $output"
    [ -f "$pid_file" ] || fail "the hanging test never ran: $output"
    wait_until 5 is_gone "$(cat "$pid_file")" ||
        fail "the hung test's process is still running"
}

# bats test_tags=slow
@test "make grade: a submission's own tests and Makefile are not used, only its code" {
    [ -f "$TOP/labs/01_echo/lab.conf" ] || skip "no lab for stage 01"
    local sub=$BATS_TEST_TMPDIR/student
    mkdir -p "$sub"
    tar -xzf "$LABS_OUT/01_echo-lab.tar.gz" -C "$sub"
    # A student who "fixed" the tests, and pasted in the solution of
    # part 1 alone: the grade is the toolkit's.
    printf '@test "x" { true; }\n' >"$sub/01_echo-lab/tests/01_echo.bats"
    "$LAB_SH" -k accept 01_echo "$BATS_TEST_TMPDIR/solved" >/dev/null
    cp "$BATS_TEST_TMPDIR/solved/01_echo-lab/01_echo/net.c" \
        "$sub/01_echo-lab/01_echo/net.c"
    run with_timeout 300 "$TOP/labs/grade-submissions.sh" 1 "$sub/01_echo-lab"
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    grep -Eq '^  accept +([0-9]+)/\1( |$)' <<<"$output" ||
        fail "part 1 should pass: $output"
    ! grep -Eq '^  echo +([0-9]+)/\1( |$)' <<<"$output" ||
        fail "part 2 should fail: $output"
}

@test "mistakes: every patch of check/mistakes/ names its stage and message, and still applies" {
    local patch name expect
    for patch in "$TOP"/check/mistakes/*.patch; do
        name=$(basename "$patch")
        grep -q '^Mistake: .' "$patch" || fail "$name: no 'Mistake:' line"
        grep -Eq '^Stage: [1-9]$' "$patch" || fail "$name: no 'Stage: N' line"
        expect=$(sed -n 's/^Expect: *//p' "$patch")
        [ -n "$expect" ] || fail "$name: no 'Expect:' line"
        grep -rqF -- "$expect" "$TOP/tests" ||
            fail "$name: no test says '$expect'"
        run env GIT_CEILING_DIRECTORIES="$(dirname "$TOP")" \
            git -C "$TOP" apply --check "$patch"
        [ "$status" -eq 0 ] ||
            fail "$name no longer applies to the code: $output"
    done
}
