#!/bin/sh
# slides/sync.sh - keep the code on the slides true to the sources.
#
#   slides/sync.sh [DECK.md...]           rewrite every quoted code block
#                                         from the source it names
#   slides/sync.sh --check [DECK.md...]   change nothing: report every
#                                         stale block (with a diff) and
#                                         every other problem, and exit 1
#                                         if there is any
#   slides/sync.sh --refs FILE.md...      check only the file references
#                                         (for README.md's Python -> C
#                                         table)
#
# With no DECK, every slides/NN_*.md. Exit status: 0 all is well, 1
# problems found (each reported as FILE:LINE: what), 2 usage error.
#
# How a quote works. In a C file, a region is a few lines between two
# marker comments, each alone on its line:
#
#     /* slide:begin serve_client */
#     ...the lines to quote...
#     /* slide:end serve_client */
#
# (`// slide:begin NAME`, `# slide:begin NAME` and
# `<!-- slide:begin NAME -->` work too, for other kinds of files.)
# Regions may nest or overlap; marker lines never appear in a quote, nor
# do the labs' region markers (lab:begin NAME, lab:end NAME: see
# labs/cut.awk) or the static analysers' directives alone on a line (a
# comment that starts with cppcheck-suppress or NOLINT: they speak to a
# tool, not to the class); the quote loses the begin marker's
# indentation. In a deck, the line
# right before a fenced code block names the file (from the top of the
# project) and the region:
#
#     <!-- quote: 01_echo/net.c serve_client -->
#     ```c
#     ...rewritten by sync.sh...
#     ```
#
# What both modes also check in a deck (DESIGN.md section 6); only the
# quotes are ever rewritten:
#   - every code block fits a slide: at most MAX_LINES lines of at most
#     MAX_COLUMNS columns (quotes are measured as they will be);
#   - no front matter, and a blank line before every `---`;
#   - every image exists, and no URL points off this machine (the
#     rendered decks must work offline);
#   - every path such as `01_echo/net.c` written in backquotes names a
#     file that exists, and in a table, every `function()` after such a
#     path appears in that file.
#
# Needs only a POSIX shell, awk, diff and cmp: `make test` runs it where
# node is not installed.

set -u

MAX_LINES=16
MAX_COLUMNS=72

usage() {
    echo "usage: slides/sync.sh [--check] [DECK.md...]" >&2
    echo "       slides/sync.sh --refs FILE.md..." >&2
    exit 2
}

mode=sync
case "${1:-}" in
--check) mode=check; shift ;;
--refs) mode=refs; shift; [ $# -gt 0 ] || usage ;;
-h | --help) usage ;;
-*) usage ;;
esac

# The project's top directory: the one above this script's.
TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 2

if [ $# -eq 0 ]; then
    set -- "$TOP"/slides/[0-9][0-9]_*.md
    [ -f "$1" ] || { echo "sync.sh: no decks in $TOP/slides" >&2; exit 1; }
fi

tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# Every file in a stage directory that has markers: checked once, so
# that an unmatched marker is found even where no slide quotes yet.
marked=
if [ "$mode" != refs ]; then
    for f in "$TOP"/[0-9][0-9]_*/*; do
        [ -f "$f" ] || continue
        if grep -q -e 'slide:begin' -e 'slide:end' "$f" 2>/dev/null; then
            marked="$marked ${f#"$TOP"/}"
        fi
    done
fi

# The awk program reads one Markdown file, checks it, and prints it as it
# should be, each quote rewritten from its source. Problems go to stderr
# as FILE:LINE: message; its exit status is 1 if there were any.
# shellcheck disable=SC2016 # $ in the awk program is awk's, not sh's
AWK_PROGRAM='
function problem(where, msg) {
    print where ": " msg | "cat 1>&2"
    problems++
}

# Display width of a line: tabs to the next multiple of 8; a UTF-8
# character counts once, a CJK one (U+3000-U+9FFF) twice.
function width(s,    w, i, c) {
    w = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\t")
            w = w - w % 8 + 8
        else if (c >= "\343" && c <= "\351")
            w += 2
        else if (c < "\200" || c > "\277")
            w++
    }
    return w
}

function is_remote(url) {
    return url ~ /^[A-Za-z][A-Za-z0-9+.-]*:/ || url ~ /^\/\//
}

# Does the line hold a URL to another machine? (One to this machine, as
# in curl http://localhost:9001, is fine.)
function is_remote_url(line,    url) {
    while (match(line, /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^ \t)>`"]*/)) {
        url = substr(line, RSTART, RLENGTH)
        line = substr(line, RSTART + RLENGTH)
        if (url !~ /:\/\/(localhost|127\.0\.0\.1|\[::1\])([:\/]|$)/)
            return 1
    }
    return 0
}

function exists(path) {
    if (path ~ /["$`\\]/)
        return 0 # not a name to hand to the shell
    return system("test -e \"" path "\"") == 0
}

# Read a source file once: its lines in src[path, i], its regions in
# rbeg[path, name] / rend[path, name] (the marker lines) and rind[...]
# (how far the begin marker is indented). Reports unmatched markers. Returns 0
# if the file cannot be read.
function load(path, where,    n, line, kind, name, ok, key) {
    if (path in loaded)
        return loaded[path]
    # Marker problems in the files of `sources` are reported by the one
    # pass that checks them all, not again by every deck that quotes them.
    quiet = checking_sources == 0 && (path in source_set)
    n = 0
    while ((ok = (getline line < path)) > 0) {
        src[path, ++n] = line
        if (line ~ /^[ \t]*(\/\*|\/\/)[ \t]*(cppcheck-suppress|NOLINT)/)
            ismarker[path, n] = 1 # an analyser directive: never quoted
        if (line ~ /^[ \t]*(\/\*|\/\/|#)[ \t]*lab:(begin|end)[ \t]/)
            ismarker[path, n] = 1 # a lab region (labs/cut.awk): never quoted
        if (line !~ /slide:(begin|end)/)
            continue
        if (line !~ /^[ \t]*(\/\*|\/\/|#|<!--)[ \t]*slide:(begin|end)[ \t]+[A-Za-z0-9_.-]+[ \t]*(\*\/|-->)?[ \t]*$/) {
            if (!quiet)
                problem(path ":" n, "malformed marker (write /* slide:begin NAME */ or /* slide:end NAME */ alone on a line)")
            continue
        }
        ismarker[path, n] = 1
        kind = line
        sub(/.*slide:/, "", kind)
        name = kind
        sub(/[ \t].*/, "", kind)
        sub(/^[a-z]+[ \t]+/, "", name)
        sub(/[^A-Za-z0-9_.-].*/, "", name)
        key = path SUBSEP name
        if (kind == "begin") {
            if (key in rbeg) {
                if (!quiet)
                    problem(path ":" n, "region " name " begins again (it began on line " rbeg[key] ")")
                continue
            }
            rbeg[key] = n
            match(line, /^[ \t]*/)
            rind[key] = RLENGTH
        } else if (!(key in rbeg) || (key in rend)) {
            if (!quiet)
                problem(path ":" n, "slide:end " name " without a slide:begin " name " before it")
        } else {
            rend[key] = n
        }
    }
    if (ok < 0) {
        problem(where, "cannot read " path)
        loaded[path] = 0
        return 0
    }
    close(path)
    nlines[path] = n
    for (key in rbeg) {
        split(key, parts, SUBSEP)
        if (parts[1] == path && !(key in rend) && !quiet)
            problem(path ":" rbeg[key], "slide:begin " parts[2] " has no slide:end " parts[2])
    }
    loaded[path] = 1
    return 1
}

# Put region `name` of `path` in quote[1..qn]. Returns 0 on failure,
# after reporting it at `where` (the deck line that asked for it).
function get_region(path, name, where,    key, i, line, strip) {
    if (!load(path, where))
        return 0
    key = path SUBSEP name
    if (!(key in rbeg)) {
        problem(where, "no region " name " in " path " (mark it with /* slide:begin " name " */ ... /* slide:end " name " */)")
        return 0
    }
    if (!(key in rend))
        return 0
    qn = 0
    for (i = rbeg[key] + 1; i < rend[key]; i++) {
        if ((path, i) in ismarker)
            continue
        line = src[path, i]
        strip = rind[key]
        while (strip > 0 && substr(line, 1, 1) == " ") {
            line = substr(line, 2)
            strip--
        }
        quote[++qn] = line
    }
    if (qn == 0)
        problem(where, "region " name " in " path " is empty")
    return qn > 0
}

# A code block must fit on a slide.
function check_block(where, what, n, lines,    i, w, widest, at) {
    if (mode == "refs")
        return
    if (n > max_lines)
        problem(where, what " is " n " lines long; at most " max_lines " fit on a slide")
    widest = 0
    for (i = 1; i <= n; i++) {
        w = width(lines[i])
        if (w > widest) {
            widest = w
            at = i
        }
    }
    if (widest > max_columns)
        problem(where, what " has a line of " widest " columns (its line " at "); at most " max_columns " fit on a slide")
}

# Check a line outside code blocks: images, URLs, paths in backquotes,
# and functions named after a path in a table cell.
function check_text(line, where,    rest, img, url, span, cells, ncells, c, cell, file) {
    if (mode != "refs") {
        rest = line
        while (match(rest, /!\[[^]]*\]\([^)]*\)/)) {
            img = substr(rest, RSTART, RLENGTH)
            rest = substr(rest, RSTART + RLENGTH)
            url = img
            sub(/^!\[[^]]*\]\([ \t]*/, "", url)
            sub(/[ \t)].*/, "", url)
            if (is_remote(url))
                problem(where, "remote image " url ": put the file in slides/img/")
            else if (!exists(deckdir "/" url))
                problem(where, "missing image " url " (looked for " deckdir "/" url ")")
        }
    }

    # Paths of the project in backquotes must exist.
    rest = line
    while (match(rest, /`[^`]+`/)) {
        span = substr(rest, RSTART + 1, RLENGTH - 2)
        rest = substr(rest, RSTART + RLENGTH)
        if (span ~ /^[0-9][0-9]_[A-Za-z0-9_]+\/[A-Za-z0-9_.\/-]*$/ && !exists(span))
            problem(where, "no such file: " span)
    }

    # In a table row, each cell: `path`: `function()` must be in path.
    if (line !~ /^[ \t]*\|/)
        return
    rest = line
    gsub(/\\\|/, "", rest)
    ncells = split(rest, cells, "|")
    for (c = 1; c <= ncells; c++) {
        cell = cells[c]
        file = ""
        while (match(cell, /`[^`]+`/)) {
            span = substr(cell, RSTART + 1, RLENGTH - 2)
            cell = substr(cell, RSTART + RLENGTH)
            if (span ~ /^[0-9][0-9]_[A-Za-z0-9_]+\/[A-Za-z0-9_.\/-]*[^\/]$/)
                file = exists(span) ? span : ""
            else if (file != "" && span ~ /^[A-Za-z_][A-Za-z0-9_]*\(\)$/ && !mentions(file, substr(span, 1, length(span) - 1), where))
                problem(where, span " is not in " file)
        }
    }
}

# Does `path` contain `text` (e.g. "send_all(")?
function mentions(path, text, where,    i) {
    if (!load(path, where))
        return 1 # already reported
    for (i = 1; i <= nlines[path]; i++)
        if (index(src[path, i], text))
            return 1
    return 0
}

BEGIN {
    problems = 0
    nsources = split(sources, source_list, " ")
    for (i = 1; i <= nsources; i++)
        source_set[source_list[i]] = 1
    if (mode == "sources") {
        checking_sources = 1
        for (i = 1; i <= nsources; i++)
            load(source_list[i], source_list[i])
        exit (problems > 0)
    }
}

{
    where = deck ":" FNR
    line = $0

    if (!infence) {
        if (pending) { # the line after a quote marker
            pending = 0
            if (line ~ /^(```|~~~)/) {
                infence = 1
                fence = substr(line, 1, 3)
                fence_at = where
                quoting = ok_region
                bn = 0
                print line
                if (quoting)
                    for (i = 1; i <= qn; i++)
                        print quote[i]
                next
            }
            problem(where, "a quote marker must be followed at once by a fenced code block")
        }
        if (line ~ /^<!--[ \t]*quote:/) {
            if (line !~ /^<!--[ \t]*quote:[ \t]*[^ \t]+[ \t]+[A-Za-z0-9_.-]+[ \t]*-->[ \t]*$/) {
                problem(where, "malformed quote marker (write <!-- quote: FILE REGION -->)")
                print line
                next
            }
            spec = line
            sub(/^<!--[ \t]*quote:[ \t]*/, "", spec)
            sub(/[ \t]*-->[ \t]*$/, "", spec)
            split(spec, part, /[ \t]+/)
            qfile = part[1]
            qname = part[2]
            ok_region = get_region(qfile, qname, where)
            pending = 1
            print line
            next
        }
        if (line ~ /^(```|~~~)/) {
            infence = 1
            fence = substr(line, 1, 3)
            fence_at = where
            quoting = 0
            bn = 0
            print line
            next
        }
        if (mode != "refs") {
            if (FNR == 1 && line ~ /^---[ \t]*$/)
                problem(where, "no front matter in a deck (DESIGN.md section 6): Marp options are set in slides/marp.config.mjs")
            else if (line ~ /^---[ \t]*$/ && prev !~ /^[ \t]*$/)
                problem(where, "--- needs a blank line before it, or Markdown turns the line above into a heading")
        }
        if (mode != "refs" && is_remote_url(line))
            problem(where, "remote URL: a deck must work offline")
        check_text(line, where)
        prev = line
        print line
        next
    }

    # Inside a fenced code block.
    if (substr(line, 1, 3) == fence && line ~ /^(```|~~~)[ \t]*$/) {
        infence = 0
        if (quoting)
            check_block(fence_at, "quote " qfile " " qname, qn, quote)
        else
            check_block(fence_at, "code block", bn, block)
        prev = line
        print line
        next
    }
    if (mode != "refs" && is_remote_url(line))
        problem(where, "remote URL: a deck must work offline")
    if (quoting)
        next # the old quote: replaced by the source
    block[++bn] = line
    print line
}

END {
    if (pending)
        problem(deck ":" FNR, "a quote marker must be followed at once by a fenced code block")
    if (infence)
        problem(fence_at, "code block not closed")
    close("cat 1>&2")
    exit (problems > 0)
}
'

start=$(pwd)
cd "$TOP" || exit 2
status=0
if [ -n "$marked" ]; then
    LC_ALL=C awk -v mode=sources -v sources="$marked" "$AWK_PROGRAM" \
        /dev/null || status=1
fi
for file in "$@"; do
    # Deck paths as given, relative to where we were started; shown
    # relative to the top of the project.
    case "$file" in
    /*) path=$file ;;
    *) path=$start/$file ;;
    esac
    case "$path" in
    "$TOP"/*) name=${path#"$TOP"/} ;;
    *) name=$path ;;
    esac
    if [ ! -r "$path" ]; then
        echo "$name: cannot read it" >&2
        status=1
        continue
    fi
    LC_ALL=C awk -v mode="$mode" -v deck="$name" \
        -v deckdir="$(dirname "$path")" -v sources="$marked" \
        -v max_lines="$MAX_LINES" -v max_columns="$MAX_COLUMNS" \
        "$AWK_PROGRAM" "$path" >"$tmp" || status=1

    [ "$mode" = refs ] && continue
    cmp -s "$path" "$tmp" && continue
    if [ "$mode" = check ]; then
        echo "$name: code quotes differ from the sources (slides/sync.sh updates them):"
        diff -u "$path" "$tmp" | sed "2s|.*|+++ $name, as the sources say|"
        status=1
    else
        cat "$tmp" >"$path" && echo "updated $name"
    fi
done
exit "$status"
