#!/bin/sh
# tests/twins.sh - keep the Chinese twins of the documents true to the
# English ones.
#
#   tests/twins.sh --check        report every problem, exit 1 if any
#   tests/twins.sh --stamp TWIN   record that TWIN (a *.zh-CN.md file)
#                                 now translates its English file as it
#                                 is: run it after updating the twin
#
# The convention (README.md states it for readers). The twin of NAME.md
# is NAME.zh-CN.md, beside it. The first line of each links to the
# other. The twin's second line records the English file it translates,
# by its `git hash-object`:
#
#     <!-- translation of README.md at 3b18e512dba79e4c8300dd08aeb37f8e728b8dad -->
#
# --check finds, for every twin, and for every document in REQUIRED:
#   - a missing twin;
#   - a first line without the link to the other file;
#   - an English file changed since the twin was last stamped (its hash
#     differs from the recorded one): update the twin, then --stamp it;
#   - a fenced code block (``` to ```) that differs from the block at
#     the same place in the English file, or a different number of
#     blocks: commands, transcripts and quotes are never translated.
# and, for every lab with a Chinese LAB.zh-CN.md, a region its lab.conf
# cuts with no "#### 区域 `REGION` 的约定" section (the contract in Chinese).
#
# Run from the top of the project. Needs only a POSIX shell, awk, cmp
# and sha1sum (the hash is computed as git computes it; git is not
# needed).

set -u

# The documents that must have a twin, from the top of the project.
REQUIRED="README.md
01_echo/README.md
02_persistent_server/README.md
03_multiclient/README.md
04_ftp/README.md
04_ftp/USERS.md
04_ftp/SPEED.md
04_ftp/PROTOCOL.md
05_udp_raw/README.md
05_udp_raw/UDP.md
05_udp_raw/ICMP.md
05_udp_raw/RAW.md
05_udp_raw/NOTES.md
05_udp_raw/SNIFF.md
labs/README.md
slides/00_overview.md
slides/01_echo.md
slides/02_persistent_server.md
slides/03_multiclient.md
slides/04_ftp.md
slides/05_udp_raw.md"

# Every LAB.md a hand-out carries needs one too.
lab_files() {
    for lab in labs/0*/LAB.md; do
        [ -f "$lab" ] && echo "$lab"
    done
}

usage() {
    echo "usage: tests/twins.sh --check | --stamp TWIN.zh-CN.md" >&2
    exit 2
}

# hash_object FILE: what `git hash-object FILE` prints.
hash_object() {
    size=$(wc -c <"$1" | tr -d ' ')
    { printf 'blob %s\000' "$size"; cat "$1"; } | sha1sum | cut -d ' ' -f 1
}

english_of() {
    echo "${1%.zh-CN.md}.md"
}

twin_of() {
    echo "${1%.md}.zh-CN.md"
}

# fences FILE: the file's fenced code blocks, each line prefixed by the
# block's number, so that two files' blocks compare with cmp.
fences() {
    awk '/^ *```/ { if (!inside) n++; inside = !inside; print n ": " $0; next }
         inside { print n ": " $0 }' "$1"
}

problems=0
problem() {
    echo "$*"
    problems=$((problems + 1))
}

check_pair() {
    english=$1 twin=$2
    if [ ! -f "$twin" ]; then
        problem "$english: has no Chinese twin ($twin)"
        return
    fi
    if [ ! -f "$english" ]; then
        problem "$twin: its English file $english does not exist"
        return
    fi
    twin_name=${twin##*/} english_name=${english##*/}
    head -n 1 "$english" | grep -qF "($twin_name)" ||
        problem "$english:1: the first line does not link to $twin_name"
    head -n 1 "$twin" | grep -qF "($english_name)" ||
        problem "$twin:1: the first line does not link to $english_name"

    recorded=$(sed -n '2s/^<!-- translation of [^ ]* at \([0-9a-f]\{40\}\) -->$/\1/p' "$twin")
    if [ -z "$recorded" ]; then
        problem "$twin:2: no '<!-- translation of $english_name at HASH -->' line"
    elif [ "$recorded" != "$(hash_object "$english")" ]; then
        problem "$english has changed since $twin was last brought up to date:" \
            "update the twin, then run tests/twins.sh --stamp $twin"
    fi

    fences "$english" >"$tmp.en"
    fences "$twin" >"$tmp.zh"
    if ! cmp -s "$tmp.en" "$tmp.zh"; then
        block=$(cmp "$tmp.en" "$tmp.zh" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
        block=$(sed -n "${block:-1}s/:.*//p" "$tmp.en")
        problem "$twin: code block ${block:-?} differs from the one in $english" \
            "(or the number of blocks differs): code blocks are copied, never translated"
    fi
}

check() {
    tmp=$(mktemp)
    trap 'rm -f "$tmp" "$tmp.en" "$tmp.zh"' EXIT
    for english in $REQUIRED $(lab_files); do
        check_pair "$english" "$(twin_of "$english")"
    done
    # Twins of documents not (or no longer) in the list.
    for twin in $(find . -name node_modules -prune -o -name build -prune -o \
        -name '*.zh-CN.md' -print | sed 's|^\./||' | sort); do
        english=$(english_of "$twin")
        case "
$REQUIRED
$(lab_files)
" in
        *"
$english
"*) ;;
        *) check_pair "$english" "$twin" ;;
        esac
    done
    # Every region a lab cuts has its contract in the lab's Chinese
    # twin, under a heading that names it: a student reading only
    # Chinese meets the graded specification there.
    for conf in labs/0*/lab.conf; do
        [ -f "$conf" ] || continue
        twin=${conf%lab.conf}LAB.zh-CN.md
        [ -f "$twin" ] || continue
        for region in $(awk '$1 == "part" { n = split($3, r, ",")
                for (i = 1; i <= n; i++) print r[i] }' "$conf"); do
            grep -qF "#### 区域 \`$region\` 的约定" "$twin" ||
                problem "$twin: no '#### 区域 \`$region\` 的约定' section:" \
                    "$conf cuts region $region; give its contract in Chinese"
        done
    done
    if [ "$problems" -gt 0 ]; then
        echo "tests/twins.sh: $problems problem(s)"
        exit 1
    fi
}

stamp() {
    twin=$1
    case "$twin" in
    *.zh-CN.md) ;;
    *) usage ;;
    esac
    english=$(english_of "$twin")
    [ -f "$twin" ] && [ -f "$english" ] || {
        echo "tests/twins.sh: $twin or $english does not exist" >&2
        exit 1
    }
    line="<!-- translation of ${english##*/} at $(hash_object "$english") -->"
    tmp=$(mktemp)
    if sed -n '2p' "$twin" | grep -q '^<!-- translation of '; then
        awk -v line="$line" 'NR == 2 { print line; next } { print }' "$twin" >"$tmp"
    else
        awk -v line="$line" 'NR == 2 { print line } { print }' "$twin" >"$tmp"
    fi
    cat "$tmp" >"$twin"
    rm -f "$tmp"
}

case "${1:-}" in
--check) [ $# -eq 1 ] || usage; check ;;
--stamp) [ $# -eq 2 ] || usage; stamp "$2" ;;
*) usage ;;
esac
