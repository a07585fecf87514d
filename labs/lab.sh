#!/bin/sh
# labs/lab.sh - write the lab hand-out of one stage: the stage with the
# lesson's code cut out, its tests, a Makefile and LAB.md.
#
#   labs/lab.sh [-k PARTS] STAGE OUTDIR
#
# STAGE is a number (1-5) or a stage directory (01_echo). The hand-out
# goes to OUTDIR/NN_name-lab/, and as OUTDIR/NN_name-lab.tar.gz. With
# -k the solution of the named parts (comma-separated, or "all") stays
# in: what a student who has done those parts hands in.
#
# What the lab is made of, in labs/NN_name/:
#   LAB.md     the student's instructions (and LAB.zh-CN.md, its
#              Chinese twin)
#   lab.conf   its parts ("part NAME REGIONS TITLE...", in order) and the
#              test files it needs beyond tests/helpers.bash and
#              tests/NN_*.bats ("files PATH...")
#   todo/      REGION.c for each region the parts cut, marked
#              lab:begin REGION ... lab:end REGION in the stage's
#              sources: what replaces the region (labs/cut.awk)
#
# Exits 0, or 1 after saying what is wrong (a region without its TODO
# file or the other way round, a marker that does not match), 2 on a
# usage error. POSIX sh and awk, like slides/sync.sh.
set -u

usage() {
    echo "usage: labs/lab.sh [-k PARTS] STAGE OUTDIR" >&2
    exit 2
}

keep_parts=
if [ "${1:-}" = -k ]; then
    [ $# -ge 2 ] || usage
    keep_parts=$2
    shift 2
fi
[ $# -eq 2 ] || usage
TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 2

case $1 in
[1-9]) stage=$(cd "$TOP" && ls -d 0"$1"_*/ 2>/dev/null | head -n 1) ;;
*) stage=$1 ;;
esac
stage=${stage%/}
[ -n "$stage" ] && [ -d "$TOP/$stage" ] || {
    echo "lab.sh: no stage '$1'" >&2
    exit 2
}
lab=$TOP/labs/$stage
[ -f "$lab/lab.conf" ] || {
    echo "lab.sh: stage $stage has no lab (no labs/$stage/lab.conf)" >&2
    exit 1
}

# The regions to cut: those of every part not kept.
regions=$(awk -v keep=",$keep_parts," '
    $1 == "part" && keep != ",all," && index(keep, "," $2 ",") == 0 {
        n = split($3, r, ",")
        for (i = 1; i <= n; i++) print r[i]
    }' "$lab/lab.conf")
for part in $(echo "$keep_parts" | tr , ' '); do
    [ "$part" = all ] ||
        awk -v p="$part" '$1 == "part" && $2 == p { found = 1 }
            END { exit !found }' "$lab/lab.conf" || {
        echo "lab.sh: labs/$stage/lab.conf has no part '$part'" >&2
        exit 2
    }
done

mkdir -p "$2" || exit 1
out=$(cd "$2" && pwd)/$stage-lab
rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/$stage" "$out/tests" || exit 1
names=$out/.regions
: >"$names"
todo=$out/.todo
mkdir "$todo" || exit 1
status=0
for r in $regions; do
    cp "$lab/todo/$r.c" "$todo/" || status=1
done

# The stage's sources, each through cut.awk; its other files as they
# are. What the stage's Makefile builds is left behind.
programs=$(make -s --no-print-directory -C "$TOP/$stage" programs)
for f in "$TOP/$stage"/*; do
    base=${f##*/}
    [ -f "$f" ] || continue
    case " $programs " in *" $base "*) continue ;; esac
    case $base in
    *.o) ;;
    *.c | *.h)
        awk -v todo="$todo" -v names="$names" -f "$TOP/labs/cut.awk" \
            "$f" >"$out/$stage/$base" || status=1
        ;;
    *) cp "$f" "$out/$stage/$base" || status=1 ;;
    esac
done

# Every region a part names was found and cut, and every TODO file
# belongs to a part: a TODO whose region is gone would mislead a teacher.
for r in $regions; do
    grep -qx "cut: $r" "$names" || {
        echo "lab.sh: labs/$stage/lab.conf: region $r is marked nowhere" \
            "in $stage/ (/* lab:begin $r */ ... /* lab:end $r */)" >&2
        status=1
    }
done
for t in "$lab"/todo/*.c; do
    [ -f "$t" ] || continue
    r=${t##*/}
    r=${r%.c}
    awk -v r="$r" '$1 == "part" { n = split($3, a, ",")
            for (i = 1; i <= n; i++) if (a[i] == r) found = 1 }
        END { exit !found }' "$lab/lab.conf" || {
        echo "lab.sh: labs/$stage/todo/$r.c: no part of lab.conf cuts" \
            "region $r" >&2
        status=1
    }
done
rm -rf "$names" "$todo"

# The tests, the helpers they load, and the grader.
files=$(awk '$1 == "files" { for (i = 2; i <= NF; i++) print $i }' \
    "$lab/lab.conf")
for f in tests/helpers.bash "$TOP"/tests/"${stage%%_*}"_*.bats $files; do
    f=${f#"$TOP"/}
    cp "$TOP/$f" "$out/$f" || status=1
done
cp "$TOP/labs/grade.sh" "$out/grade.sh" &&
    cp "$lab/lab.conf" "$lab/LAB.md" "$out/" || status=1
# LAB.md's Chinese twin (tests/twins.sh), where there is one.
if [ -f "$lab/LAB.zh-CN.md" ]; then
    cp "$lab/LAB.zh-CN.md" "$out/" || status=1
fi
sed "s|@STAGE@|$stage|g" "$TOP/labs/handout.mk" >"$out/Makefile" || status=1

# The stage's documents link into the whole repository (../labs/...,
# ../bench/...), most of which a hand-out leaves behind. A link to this
# lab's LAB.md now points to the copy at the top of the hand-out; a link
# to anything else the hand-out lacks becomes its plain text (an image
# goes), so that no link leads nowhere. (perl is part of every Debian.)
for f in "$out/$stage"/*.md; do
    perl -0pi -e '
        use File::Basename;
        my $dir = dirname($ARGV);
        s{(!?)\[([^\]]*)\]\(([^)\s]+)\)}{
            my ($img, $text, $target) = ($1, $2, $3);
            my ($path, $anchor) = $target =~ /^([^#]*)(#.*)?$/;
            $anchor //= "";
            if ($target =~ m{^[a-z]+:|^#} or -e "$dir/$path") {
                "$img\[$text\]($target)";
            } elsif ($path =~ m{^\.\./labs/[^/]+/(LAB[^/]*\.md)$}) {
                "$img\[$text\](../$1$anchor)";
            } else {
                $img ? "" : $text;
            }
        }ge;
    ' "$f" || status=1
done

[ "$status" -eq 0 ] || exit 1
tar -czf "$out.tar.gz" -C "${out%/*}" "${out##*/}" || exit 1
echo "lab.sh: ${out#"$PWD"/}/ and ${out#"$PWD"/}.tar.gz"
