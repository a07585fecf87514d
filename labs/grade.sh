#!/usr/bin/env bash
# grade.sh - grade a lab hand-out: build it, run its stage's tests, and
# print one line per part of the lab (its tests passed of total, and
# the first failure's message), then the total.
#
#   ./grade.sh [-c FILE.csv] [-n NAME] [-f FORMAT -o FILE.json]
#
# It grades the hand-out it sits in (this folder: LAB.md, lab.conf, the
# stage directory, tests/). A part's tests are those with a line
# "# lab: PART" right above their @test; the rest count as "(given code)".
#   -c FILE   also append the same lines to FILE as CSV (a header first
#             if FILE is new): submission,part,passed,total,skipped,
#             first_failure
#   -n NAME   the submission's name in the CSV (default: this folder's)
#   -f FORMAT -o FILE
#             also write the results as a course platform reads them:
#             FORMAT gradescope (Gradescope's results.json) or
#             prairielearn (PrairieLearn's external grader results.json):
#             one entry per test, named "PART: TEST", with its points
#             and its failure's message, and the total. A part is worth
#             the points a line "points PART N" of lab.conf gives it
#             (default: one per test), shared evenly among its tests; a
#             test that failed, or skipped, or did not run, scores 0.
#
# The code under test is untrusted: it runs with the rights of whoever
# runs this (never more), every test bounded in time (TEST_TIMEOUT
# seconds, default 120, on top of the tests' own limits), the whole run
# bounded by GRADE_TIMEOUT seconds (default 900), and whatever it
# started stopped when the run ends: the tests stop their servers by
# PID, and the run's process group goes last.
#
# A skipped test (IPv6 where there is no ::1, nftables missing) counts
# neither way in a part's tests, but the total says so: a code that
# passed every test that ran is not given full marks while tests that
# would check it could not run.
#
# A result for a test the grader does not know (bats printed its name
# otherwise than the tests file writes it, say) is never counted as
# passed: it fails, in a part "(unknown)" of its own, the test of that
# name the grader expected says it has no result, and grade.sh names
# it on stderr as an error. Such a run is never full marks.
#
# Exit status: 0 full marks, 1 anything short of it (a skipped test
# too), 2 usage error.
set -u
cd "$(dirname "$0")" || exit 2
HERE=$PWD

usage() {
    echo "usage: ./grade.sh [-c FILE.csv] [-n NAME] [-f FORMAT -o FILE.json]" >&2
    exit 2
}
csv='' name=${HERE##*/} format='' json=''
while getopts c:n:f:o:h opt; do
    case $opt in
    c) csv=$OPTARG ;;
    n) name=$OPTARG ;;
    f) format=$OPTARG ;;
    o) json=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $format in
'') [ -z "$json" ] || usage ;;
gradescope | prairielearn) [ -n "$json" ] || usage ;;
*)
    echo "grade.sh: FORMAT is gradescope or prairielearn, not '$format'" >&2
    exit 2
    ;;
esac
case $csv in '' | /*) ;; *) csv=$OLDPWD/$csv ;; esac
case $json in '' | /*) ;; *) json=$OLDPWD/$json ;; esac

stage=$(ls -d 0[1-9]_*/ 2>/dev/null | head -n 1)
stage=${stage%/}
[ -n "$stage" ] && [ -f lab.conf ] || {
    echo "grade.sh: $HERE is not a lab hand-out (no stage folder or lab.conf)" >&2
    exit 2
}
tests=(tests/"${stage%%_*}"_*.bats)
GRADE_TIMEOUT=${GRADE_TIMEOUT:-900}
# A bats run of our own, whatever runs us (a test of the toolkit's runs
# this under bats, whose variables would lead ours astray).
for var in $(compgen -e | grep '^BATS_'); do
    unset "$var"
done
export BATS_TEST_TIMEOUT=${TEST_TIMEOUT:-120}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

# map: "PART<TAB>TEST NAME" for every test, in file order. The name is
# what bats reads: all before the line's last blank and "{", so that a
# test on one line (@test "NAME" { true; }) has the name of one whose
# body starts on the next.
awk '
    /^# lab: / { part = $3; next }
    /^@test / {
        name = $0
        sub(/^@test[ \t]+"/, "", name)
        # (No blank and "{": bats reads no test there.)
        if (!match(name, /.*[^ \t][ \t]+\{/)) { part = ""; next }
        name = substr(name, 1, RLENGTH)
        sub(/[ \t]+\{$/, "", name)
        sub(/"$/, "", name)
        gsub(/\\"/, "\"", name)
        print (part == "" ? "(given code)" : part) "\t" name
    }
    { part = "" }
' "${tests[@]}" >"$work/map"

# run_bounded SECS CMD...: run CMD in a session of its own, its output
# to $work/out; stop its whole process group if it outlives SECS.
run_bounded() {
    local secs=$1 pid tick=0
    shift
    setsid "$@" >"$work/out" 2>&1 </dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && ((tick < secs * 10)); do
        sleep 0.1
        tick=$((tick + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null
        sleep 1
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        echo "(stopped after $secs s)" >>"$work/out"
        return 124
    fi
    wait "$pid"
}

# Build. A hand-out that does not build fails every test, with the
# compiler's first error as the message.
: >"$work/tap"
stopped_after=''
if ! run_bounded 300 make all tools; then
    first=$(grep -m 1 -E 'error|Error' "$work/out")
    echo "# does not build: ${first:-make failed}" >"$work/build_error"
else
    run_bounded "$GRADE_TIMEOUT" bats --tap "${tests[@]}" ||
        { [ $? -eq 124 ] && stopped_after=$GRADE_TIMEOUT; }
    cp "$work/out" "$work/tap"
fi

# Read the TAP output against the map. Print, tab-separated, parts in
# lab.conf's order: PART, passed, total, skipped, the first failure's
# message, that test's name, the first skip's reason. Write the same
# for each test to $work/tests: PART, NAME, passed|failed|skipped, its
# message (a failure's, a skip's reason).
awk -F '\t' -v build_error="$(cat "$work/build_error" 2>/dev/null)" \
    -v stopped_after="$stopped_after" -v tests_out="$work/tests" \
    -v unknown_out="$work/unknown" '
    FILENAME == ARGV[1] { # lab.conf
        if ($0 ~ /^part[ \t]/) {
            split($0, w, /[ \t]+/)
            order[++nparts] = w[2]
        }
        next
    }
    FILENAME == ARGV[2] { # the map
        part_of[$2] = $1
        names[++ntests] = $2
        total[$1]++
        if ($1 == "(given code)") has_other = 1
        next
    }
    # The TAP output: "ok N NAME", "ok N NAME # skip REASON", "not ok N
    # NAME", "not ok N NAME # timeout after SECSs" (BATS_TEST_TIMEOUT),
    # each failure followed by "# ..." lines.
    /^(not )?ok [0-9]+ / {
        finish()
        line = $0
        failed = line ~ /^not ok/
        sub(/^(not )?ok [0-9]+ /, "", line)
        skipped = 0; timed_out = ""
        if (!failed && line ~ / # skip( |$)/) {
            skipped = 1
            reason = line
            sub(/^.* # skip ?/, "", reason)
            sub(/ # skip( .*)?$/, "", line)
        }
        if (failed && match(line, / # timeout after [0-9]+s$/)) {
            timed_out = substr(line, RSTART + 17)
            sub(/s$/, "", timed_out)
            line = substr(line, 1, RSTART - 1)
        }
        current = line
        ran[current] = 1
        # A name the map does not have (bats printed it otherwise than
        # it is written, say): its part cannot be told, so it is never
        # counted as passed, in whichever part, but as a failure of its
        # own, and the grader says so (on stderr too, below).
        if (!(current in part_of)) {
            part_of[current] = "(unknown)"
            names[++ntests] = current
            total["(unknown)"]++
            nunknown++
            result[current] = "failed"
            message[current] = "unknown to the grader: bats reported a result for this test, but no @test of the tests has this name (as the grader reads it), so its part cannot be told and it is not counted as passed. Fix the test'"'"'s name (a backslash in it?) or the grader."
            if (!("(unknown)" in first)) {
                first["(unknown)"] = message[current]
                first_test["(unknown)"] = current
            }
            print current > unknown_out
            pending = ""
            next
        }
        p = part_of[current]
        if (skipped) {
            skip[p]++
            if (!(p in skip_reason)) skip_reason[p] = reason
            result[current] = "skipped"; message[current] = reason
        } else if (!failed) { pass[p]++; result[current] = "passed" }
        else {
            pending = p; said = ""; other = ""; assertion = ""
            in_log = 0; in_said = 0
            if (timed_out != "")
                said = "did not finish in " timed_out " s, and was stopped: a hang, or a wait that never ends?"
        }
        next
    }
    # What a failed test printed. Its message, in order of preference:
    # what fail() printed ("=> ..." and the lines after it, up to the
    # server log), the first other line it printed, the assertion bats
    # names ("`[ ... ]'"'"' failed"). Lines from a server log ("---
    # server_fork.0.log ---" on) are not messages.
    /^#/ && pending != "" {
        text = substr($0, 3)
        if (text ~ /^--- .*---$/) in_log = 1
        if (in_log) next
        if (in_said) {
            if (text ~ /^=> / || ++said_lines > 12) in_said = 0
            else { sub(/^ +/, "", text); if (text != "") said = said " " text; next }
        }
        if (said != "") next
        if (text ~ /^=> /) { said = substr(text, 4); in_said = 1; said_lines = 0; next }
        if (text ~ /^\((in|from) / || text ~ /^ (in|from) /) next
        if (text ~ /^  `.*'"'"' failed/) {
            if (assertion == "") {
                assertion = text
                sub(/^ +/, "", assertion)
            }
            next
        }
        sub(/^ +/, "", text)
        if (other == "" && text != "") other = text
        next
    }
    function finish(    m) {
        if (pending == "") return
        m = said != "" ? said : other != "" ? other : assertion
        gsub(/\t/, " ", m)
        result[current] = "failed"; message[current] = m
        if (!(pending in first)) {
            first[pending] = said != "" ? said : other != "" ? other : assertion
            gsub(/\t/, " ", first[pending])
            first_test[pending] = current
        }
        pending = ""
    }
    END {
        finish()
        # Tests that never ran: the build failed, or the whole run was
        # stopped (GRADE_TIMEOUT) in the first of them (bats runs the
        # tests in file order), or the run ended early for another reason.
        for (i = 1; i <= ntests; i++) {
            t = names[i]
            if (t in ran) continue
            p = part_of[t]
            result[t] = "failed"
            why = build_error != "" ? substr(build_error, 3) : \
                stopped_after == "" && nunknown ? "no result under this name: did it run under another, one unknown to the grader (see (unknown))?" : \
                stopped_after == "" ? "did not run (the test run stopped early)" : \
                seen_unrun++ ? "did not run: the whole run was stopped after " stopped_after " s (GRADE_TIMEOUT), in an earlier test" : \
                "did not finish: the whole run was stopped after " stopped_after " s (GRADE_TIMEOUT), in this test"
            message[t] = why
            if (p in first) continue
            first[p] = why
            first_test[p] = t
        }
        for (i = 1; i <= ntests; i++)
            printf "%s\t%s\t%s\t%s\n", part_of[names[i]], names[i], \
                result[names[i]], message[names[i]] > tests_out
        if (has_other) order[++nparts] = "(given code)"
        if (nunknown) order[++nparts] = "(unknown)"
        for (i = 1; i <= nparts; i++) {
            p = order[i]
            printf "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", p, pass[p], total[p] - skip[p], skip[p], first[p], first_test[p], skip_reason[p]
        }
    }
' lab.conf "$work/map" "$work/tap" >"$work/grades"

# The report, for a person: a line per part, and under a part short of
# full marks its first failing test, that test's whole message, and how
# to see all it printed.
{
printf '%s: grade of %s\n' "$stage" "$name"
awk -F '\t' '
    # say(TEXT): TEXT in lines of at most 76 columns, indented 6.
    function say(text,    n, w, i, line) {
        n = split(text, w, / +/)
        line = ""
        for (i = 1; i <= n; i++) {
            if (line != "" && length(line) + 1 + length(w[i]) > 70) {
                print "      " line
                line = w[i]
            } else line = line == "" ? w[i] : line " " w[i]
        }
        if (line != "") print "      " line
    }
    {
        note = $4 > 0 ? "   (" $4 " skipped: " $7 ")" : ""
        line = sprintf("  %-12s %3d/%-3d%s", $1, $2, $3, note)
        sub(/ +$/, "", line)
        print line
        if ($2 < $3) {
            name = $6
            print "      first failure: " name
            say($5)
            # bats -f takes a regular expression, and TEST='...' is
            # quoted for the shell: the longest stretch of the name
            # with no character that would mean something else there
            # (a name may begin with one: "'..' drops ...").
            k = split(name, pieces, /[][()*+?.^$|\\{}'"'"'"]/)
            prefix = ""
            for (i = 1; i <= k; i++) {
                piece = pieces[i]
                gsub(/^ +| +$/, "", piece)
                if (length(piece) > length(prefix)) prefix = piece
            }
            printf "      (all it printed: make test TEST='"'"'%s'"'"')\n", prefix
        }
        passed += $2; total += $3; skipped += $4
        if ($1 == "(unknown)") unknown = $3
    }
    END {
        verdict = unknown > 0 ? "not full marks: " unknown " test(s) unknown to the grader (above)" : \
            passed < total ? "" : skipped > 0 ? "all passed, but " skipped " skipped (why: above): not full marks until they run" : "full marks"
        line = sprintf("  %-12s %3d/%-3d %s", "total", passed, total, verdict)
        sub(/ +$/, "", line)
        print line
        exit passed == total && skipped == 0 ? 0 : 1
    }
' "$work/grades"
} >"$work/report"
status=$?
cat "$work/report"
# A result the grader could not place is the grader's (or the tests')
# fault, not the student's: say so where the teacher looks for errors.
if [ -s "$work/unknown" ]; then
    {
        echo "grade.sh: error: bats reported tests the grader does not know" \
            "(no @test of ${tests[*]} has the name, as grade.sh reads it);" \
            "they are counted as failed, in part (unknown), and not as passed:"
        sed 's/^/grade.sh:     /' "$work/unknown"
    } >&2
    status=1
fi

if [ -n "$csv" ]; then
    [ -s "$csv" ] ||
        echo "submission,part,passed,total,skipped,first_failure" >"$csv"
    awk -F '\t' -v name="$name" '
        function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
        { printf "%s,%s,%d,%d,%d,%s\n", q(name), q($1), $2, $3, $4, q($5) }
    ' "$work/grades" >>"$csv"
fi

# The results for a course platform (-f, -o): a test is worth its
# part's points (lab.conf's "points PART N", or 1 a test) over the
# part's tests. The report above is the output a student reads there.
if [ -n "$format" ]; then
    awk -F '\t' -v format="$format" -v report="$work/report" '
        function j(s,    out, i, c) { # s as a JSON string
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "\\") c = "\\\\"
                else if (c == "\"") c = "\\\""
                else if (c == "\n") c = "\\n"
                else if (c == "\t") c = "\\t"
                else if (c < " ") c = " "
                out = out c
            }
            return "\"" out "\""
        }
        function num(x) { return sprintf("%.6g", x) }
        FILENAME == ARGV[1] { # lab.conf
            if ($0 ~ /^points[ \t]/) {
                n = split($0, w, /[ \t]+/)
                p = w[2]; for (i = 3; i < n; i++) p = p " " w[i]
                points[p] = w[n]
            }
            next
        }
        { part[++ntests] = $1; name[ntests] = $2; result[ntests] = $3
          message[ntests] = $4; count[$1]++ }
        END {
            while ((getline line < report) > 0) output = output line "\n"
            for (i = 1; i <= ntests; i++) {
                p = part[i]
                max[i] = (p in points ? points[p] : count[p]) / count[p]
                got[i] = result[i] == "passed" ? max[i] : 0
                score += got[i]; total += max[i]
                passed += result[i] == "passed"
            }
            summary = passed " of " ntests " tests passed"
            printf "{\n"
            if (format == "prairielearn") {
                printf "  \"gradable\": true,\n"
                printf "  \"score\": %s,\n", num(total > 0 ? score / total : 0)
                printf "  \"message\": %s,\n", j(summary)
                printf "  \"output\": %s,\n", j(output)
            } else {
                printf "  \"score\": %s,\n", num(score)
                printf "  \"max_score\": %s,\n", num(total)
                printf "  \"output\": %s,\n", j(output)
            }
            printf "  \"tests\": ["
            for (i = 1; i <= ntests; i++) {
                printf "%s\n    {\"name\": %s", (i > 1 ? "," : ""), j(part[i] ": " name[i])
                said = result[i] == "skipped" ? "skipped: " message[i] : message[i]
                if (format == "prairielearn")
                    printf ", \"points\": %s, \"max_points\": %s, \"message\": %s, \"output\": %s}", \
                        num(got[i]), num(max[i]), j(result[i]), j(said)
                else
                    printf ", \"score\": %s, \"max_score\": %s, \"status\": %s, \"output\": %s}", \
                        num(got[i]), num(max[i]), \
                        j(result[i] == "passed" ? "passed" : "failed"), j(said)
            }
            printf "\n  ]\n}\n"
        }
    ' lab.conf "$work/tests" >"$json" || status=1
fi
exit "$status"
