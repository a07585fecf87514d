#!/usr/bin/env bash
# labs/grade-submissions.sh - grade students' submissions of one lab
# with the toolkit's own tests (what `make grade STAGE=N DIR=...` runs).
#
#   labs/grade-submissions.sh [-c FILE.csv] [-f FORMAT -o FILE.json]
#                             [-H HANDOUT] STAGE SUBMISSION...
#
# A SUBMISSION is a folder (an unpacked hand-out, or just its stage
# folder) or the .tar.gz a student handed in. Each is graded in a fresh
# copy of the hand-out made from this tree: only the submission's .c and
# .h files of the stage are taken, over the hand-out's, so the tests, the
# Makefiles and the grader are this tree's, whatever the student changed.
# Prints each submission's grade (labs/grade.sh); with -c, appends every
# line to FILE.csv too, one row per part, named after the submission;
# with -f and -o (one submission), writes its results for Gradescope
# or PrairieLearn too (see labs/grade.sh). -H HANDOUT grades with that
# hand-out folder, made already (the Gradescope autograder has no tree
# to make one from).
#
# A program in another language: FOREIGN_SERVER (make grade SERVER=...)
# and FOREIGN_CLIENT (CLIENT=...) are commands that the tests run in
# place of the stage's server and client (tests/helpers.bash); {dir} in
# them is replaced by the submission's folder (unpacked, for a .tar.gz),
# and the tests run against them, with the hand-out's own C code for
# the rest.
#
# Exit status: 0 if every submission has full marks, 1 otherwise, 2 on a
# usage error.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 2

usage() {
    echo "usage: labs/grade-submissions.sh [-c FILE.csv] [-f FORMAT -o FILE.json] [-H HANDOUT] STAGE SUBMISSION..." >&2
    exit 2
}
csv=() platform=() handout=''
while getopts c:f:o:H:h opt; do
    case $opt in
    c) csv=(-c "$(realpath -m "$OPTARG")") ;;
    f) platform+=(-f "$OPTARG") ;;
    o) platform+=(-o "$(realpath -m "$OPTARG")") ;;
    H) handout=$(realpath -m "$OPTARG") ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
((${#platform[@]} == 0 || $# == 2)) || {
    echo "grade-submissions.sh: -f and -o grade one submission" >&2
    exit 2
}
foreign_server=${FOREIGN_SERVER:-} foreign_client=${FOREIGN_CLIENT:-}
stage=$1
shift

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
if [ -n "$handout" ]; then
    clean=$handout
else
    "$TOP/labs/lab.sh" "$stage" "$work/clean" >/dev/null || exit 2
    clean=$(ls -d "$work"/clean/*-lab/)
fi
stage_dir=$(cd "$clean" && ls -d 0[1-9]_*/)
stage_dir=${stage_dir%/}

# sources_of SUBMISSION: print the folder that holds its stage's sources.
sources_of() {
    local from=$1 found
    if [ -f "$from" ]; then # a .tar.gz
        rm -rf "$work/unpacked"
        mkdir "$work/unpacked"
        tar -xzf "$from" -C "$work/unpacked" --no-same-owner \
            --no-same-permissions 2>/dev/null || return 1
        from=$work/unpacked
    fi
    found=$(find "$from" -maxdepth 3 -type d -name "$stage_dir" | head -n 1)
    if [ -n "$found" ]; then
        echo "$found"
    elif ls "$from"/*.c >/dev/null 2>&1 ||
        [ -n "$foreign_server$foreign_client" ]; then
        echo "$from" # the stage folder itself, or a foreign program's
    else
        return 1
    fi
}

status=0
for submission in "$@"; do
    name=$(basename "${submission%/}")
    name=${name%.tar.gz}
    copy=$work/grading/$name
    rm -rf "$work/grading"
    mkdir -p "$work/grading"
    cp -R "$clean" "$copy"
    if ! from=$(sources_of "$submission"); then
        echo "$stage_dir: $name: no $stage_dir sources in $submission" >&2
        status=1
        continue
    fi
    if [ -n "$foreign_server$foreign_client" ]; then
        # The submission is a program of another language: the tests
        # run it from where it is; {dir} is its folder.
        from=$(cd "$from" && pwd)
        export FOREIGN_SERVER=${foreign_server//\{dir\}/$from}
        export FOREIGN_CLIENT=${foreign_client//\{dir\}/$from}
        "$copy/grade.sh" "${csv[@]}" "${platform[@]}" -n "$name" || status=1
        continue
    fi
    for ref in "$copy/$stage_dir"/*.[ch]; do
        file=${ref##*/}
        if [ -f "$from/$file" ]; then
            cp "$from/$file" "$ref"
        else
            echo "$name: no $file in the submission: graded with the" \
                "hand-out's" >&2
        fi
    done
    "$copy/grade.sh" "${csv[@]}" "${platform[@]}" -n "$name" || status=1
done
exit "$status"
