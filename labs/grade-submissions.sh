#!/usr/bin/env bash
# labs/grade-submissions.sh - grade students' submissions of one lab
# with the toolkit's own tests (what `make grade STAGE=N DIR=...` runs).
#
#   labs/grade-submissions.sh [-c FILE.csv] STAGE SUBMISSION...
#
# A SUBMISSION is a folder (an unpacked hand-out, or just its stage
# folder) or the .tar.gz a student handed in. Each is graded in a fresh
# copy of the hand-out made from this tree: only the submission's .c and
# .h files of the stage are taken, over the hand-out's, so the tests, the
# Makefiles and the grader are this tree's, whatever the student changed.
# Prints each submission's grade (labs/grade.sh); with -c, appends every
# line to FILE.csv too, one row per part, named after the submission.
#
# Exit status: 0 if every submission has full marks, 1 otherwise, 2 on a
# usage error.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 2

usage() {
    echo "usage: labs/grade-submissions.sh [-c FILE.csv] STAGE SUBMISSION..." >&2
    exit 2
}
csv=()
while getopts c:h opt; do
    case $opt in
    c) csv=(-c "$(realpath -m "$OPTARG")") ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
stage=$1
shift

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
"$TOP/labs/lab.sh" "$stage" "$work/clean" >/dev/null || exit 2
clean=$(ls -d "$work"/clean/*-lab/)
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
    elif ls "$from"/*.c >/dev/null 2>&1; then
        echo "$from" # the stage folder itself
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
    for ref in "$copy/$stage_dir"/*.[ch]; do
        file=${ref##*/}
        if [ -f "$from/$file" ]; then
            cp "$from/$file" "$ref"
        else
            echo "$name: no $file in the submission: graded with the" \
                "hand-out's" >&2
        fi
    done
    "$copy/grade.sh" "${csv[@]}" -n "$name" || status=1
done
exit "$status"
