#!/usr/bin/env bash
# labs/gradescope.sh - make a Gradescope autograder of a lab (what
# `make gradescope STAGE=N` runs).
#
#   labs/gradescope.sh STAGE OUTDIR
#
# Writes OUTDIR/NN_name-autograder.zip: setup.sh and run_autograder
# (labs/gradescope/), grade-submissions.sh, and the lab's hand-out
# (handout/), with which run_autograder grades a submission as make
# grade does.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || {
    echo "usage: labs/gradescope.sh STAGE OUTDIR" >&2
    exit 2
}
command -v zip >/dev/null || {
    echo "gradescope.sh: needs zip (sudo apt-get install zip)" >&2
    exit 1
}
mkdir -p "$2"
out=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$TOP/labs/lab.sh" "$1" "$work/lab" >/dev/null
handout=$(ls -d "$work"/lab/*-lab)
stage=$(basename "$handout" -lab)
mkdir "$work/zip"
cp -R "$handout" "$work/zip/handout"
cp "$TOP/labs/grade-submissions.sh" "$TOP/labs/gradescope/setup.sh" "$work/zip/"
sed "s|@STAGE@|$stage|g" "$TOP/labs/gradescope/run_autograder" \
    >"$work/zip/run_autograder"
chmod 755 "$work/zip/run_autograder" "$work/zip/setup.sh"
rm -f "$out/$stage-autograder.zip"
(cd "$work/zip" && zip -qr "$out/$stage-autograder.zip" .)
echo "wrote ${2%/}/$stage-autograder.zip"
