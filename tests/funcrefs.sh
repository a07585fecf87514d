#!/bin/bash
# tests/funcrefs.sh - every function a document places in a file is
# defined in that file, so that a function renamed, moved or removed
# cannot leave a document pointing at nothing.
#
#   tests/funcrefs.sh DOC.md...   print each reference that points at
#                                 nothing, exit 1 if any
#
# Run from the top of the project. A reference is one of
#     `file.c`: `f()`            (a list too: `file.c`: `f()`, `g()`)
#     `file.c`'s `f()`
#     `f()` in `file.c`
# (in the Chinese twins also with a full-width colon, `file.c`：`f()`,
# and `file.c` 的 `f()`). The file is looked for beside the document,
# in the stage a lab's or a slide deck's document is about
# (labs/04_ftp/LAB.md and slides/04_ftp.md: 04_ftp/), and from the
# top. "Defined" means a line of the file that starts with `f(` (this
# project's style: the return type on the line above), or a `#define
# f(`. A function no file of ours defines is the system's, and the
# file must call it.

status=0
for doc in "$@"; do
    dir=$(dirname "$doc")
    case $doc in
    labs/*/*) dir=${dir#labs/} ;;
    slides/00_overview*) dir=01_echo ;; # its code is stage 01's
    slides/*) dir=$(basename "$doc" .md) ;;
    esac
    # One "FILE FUNCTION" line per reference.
    {
        grep -oE '`[a-z0-9_/]+\.[ch]`(:|：|'"'"'s| 的) ?(`[a-z0-9_]+\(\)`(, | and |、|和)?)+' "$doc" |
            while IFS= read -r ref; do
                file=${ref#\`}
                file=${file%%\`*}
                grep -oE '`[a-z0-9_]+\(\)`' <<<"${ref#*\`"$file"\`}" |
                    tr -d '`()' | sed "s|^|$file |"
            done
        grep -oE '`[a-z0-9_]+\(\)` in `[a-z0-9_/]+\.[ch]`' "$doc" |
            sed -E 's/^`([a-z0-9_]+)\(\)` in `([^`]+)`$/\2 \1/'
    } | sort -u | while read -r file function; do
        path=""
        for candidate in "$dir/$file" "$file"; do
            [ -f "$candidate" ] && path=$candidate && break
        done
        if [ -z "$path" ]; then
            echo "$doc: $function() in $file: there is no $file"
            continue
        fi
        local_definition="^($function\(|#define $function\()"
        grep -qE "$local_definition" "$path" && continue
        # Not ours but the system's (`sendfile()` in bench/blast.c):
        # then the file must call it.
        # (The stages' files only: the tests' shims define the system's
        # names.)
        elsewhere=$(grep -lE "$local_definition" [0-9][0-9]_*/*.[ch] \
            2>/dev/null | head -n 1)
        if [ -n "$elsewhere" ]; then
            echo "$doc: $function() is not in $path, but in $elsewhere"
        elif ! grep -qE "(^|[^a-z0-9_])$function ?\(" "$path"; then
            echo "$doc: $path neither defines nor calls $function()"
        fi
    done | grep . && status=1
done
exit "$status"
