# labs/cut.awk - turn one source file of the toolkit into its lab
# hand-out version. Used by labs/lab.sh; POSIX awk, nothing else.
#
#   awk -v todo=DIR [-v names=FILE] -f labs/cut.awk 01_echo/net.c
#
# A solution region is the lines between two marker comments, each alone
# on its line, like the slides' quote markers:
#
#     /* lab:begin send_all */
#     ...the code the student writes...
#     /* lab:end send_all */
#
# Cutting replaces the region with the file TODO/NAME.c: a comment that
# says what to write (the contract, not the code), then the smallest stub
# that compiles. Each of its lines is indented like the begin marker.
# A region with no file in TODO stays as it is: it is not cut in this
# hand-out (stages 01-03 share net.c, regions and all, and each lab
# picks its own; labs/lab.sh -k keeps a part's solution in). Either way
# the marker lines themselves, and the slides' markers, are dropped: the
# student has no slides to match.
#
# Prints the result on stdout, and appends one line "cut: NAME" per
# region it cut to the file given as -v names=FILE (if any). Problems (a region that does
# not end, markers that do not match, a missing TODO file) go to stderr
# as FILE:LINE: what, and the exit status is then 1.

function problem(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg | "cat 1>&2"
    bad = 1
}

# marker_name(line): the NAME of a "lab:begin NAME" or "lab:end NAME"
# comment line.
function marker_name(line) {
    sub(/.*lab:(begin|end)[ \t]+/, "", line)
    sub(/[^A-Za-z0-9_.-].*/, "", line)
    return line
}

# Copy TODO/NAME.c to the output, indented by `indent`. Returns 0, with
# nothing printed, if there is no such file.
function paste_todo(name, indent,    path, line, ok, lines) {
    path = todo "/" name ".c"
    lines = 0
    while ((ok = (getline line < path)) > 0) {
        print (line == "" ? "" : indent line)
        lines++
    }
    close(path)
    if (ok == 0 && lines == 0)
        problem("region " name ": " path " is empty")
    return lines > 0
}

BEGIN {
    MARKER = "^[ \t]*(\\/\\*|\\/\\/|#)[ \t]*lab:(begin|end)[ \t]+[A-Za-z0-9_.-]+[ \t]*(\\*\\/)?[ \t]*$"
    SLIDE = "^[ \t]*(\\/\\*|\\/\\/|#|<!--)[ \t]*slide:(begin|end)[ \t]"
    if (todo == "") {
        print "cut.awk: say -v todo=DIR" | "cat 1>&2"
        bad = 1
        exit
    }
}

$0 ~ SLIDE {
    next
}

/lab:(begin|end)/ {
    if ($0 !~ MARKER) {
        problem("malformed marker (write /* lab:begin NAME */ or /* lab:end NAME */ alone on a line)")
        next
    }
    name = marker_name($0)
    if ($0 ~ /lab:begin/) {
        if (region != "") {
            problem("lab:begin " name " inside region " region " (regions do not nest)")
            next
        }
        region = name
        region_line = FNR
        match($0, /^[ \t]*/)
        cutting = paste_todo(name, substr($0, 1, RLENGTH))
        if (cutting && names != "")
            print "cut: " name >> names
    } else if (name != region) {
        problem("lab:end " name " without lab:begin " name " before it")
    } else {
        region = ""
    }
    next
}

region == "" || !cutting {
    print
}

END {
    if (region != "") {
        FNR = region_line
        problem("lab:begin " region " has no lab:end " region)
    }
    exit bad
}
