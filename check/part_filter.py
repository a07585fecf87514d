#!/usr/bin/env python3
"""check/part_filter.py - the tests of the lab part a patch changes.

    check/part_filter.py PATCH

PATCH is a mistake of check/mistakes/ (a diff on the reference code).
When every line it changes lies in lab regions (lab:begin NAME ...
lab:end NAME) of parts of one lab, prints a regular expression for
`bats -f` that matches the tests of those parts (the tests marked
"# lab: PART"), and nothing otherwise. check/run's mistakes check runs
those tests first, and the whole stage only when they miss: most
mistakes are caught by their own part, in a fraction of the time.

The expression is not anchored (make would read its "$"), and in it
every character of a name but letters, digits and spaces is a '.', so
that it passes through make and a shell untouched; it may match a few
more tests, never fewer.
"""

import os
import re
import sys

from mutants import parts_of, tests_of  # check/mutants.py, beside this

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def changed_lines(patch):
    """{path: set of line numbers of the original file that the patch
    removes or changes, or next to which it adds}"""
    changed, path, old = {}, None, 0
    with open(patch) as f:
        for line in f:
            if line.startswith("--- a/"):
                path = line[6:].strip()
                changed.setdefault(path, set())
            elif line.startswith("@@"):
                old = int(re.match(r"@@ -(\d+)", line).group(1))
            elif path is None or line.startswith(("+++", "diff ", "index ")):
                continue
            elif line.startswith("-"):
                changed[path].add(old)
                old += 1
            elif line.startswith("+"):
                changed[path].add(old)  # added before this line
            elif line.startswith(" "):
                old += 1
    return changed


def regions_of(path):
    """[(name, first line, last line)] of the lab regions in a file."""
    found, open_at = [], {}
    with open(os.path.join(TOP, path)) as f:
        for number, line in enumerate(f, 1):
            m = re.match(r"\s*/\* lab:(begin|end) (\S+) \*/", line)
            if m and m.group(1) == "begin":
                open_at[m.group(2)] = number
            elif m and m.group(2) in open_at:
                found.append((m.group(2), open_at.pop(m.group(2)), number))
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check/part_filter.py PATCH")
    regions = set()
    stage = None
    for path, lines in changed_lines(sys.argv[1]).items():
        stage = stage or path.split("/")[0]
        if path.split("/")[0] != stage or not os.path.exists(os.path.join(TOP, path)):
            return 0
        spans = regions_of(path)
        for n in lines:
            inside = [name for name, first, last in spans if first < n <= last]
            if not inside:
                return 0  # a change to the given code: the whole stage
            regions.add(inside[-1])
    conf = os.path.join(TOP, "labs", stage or "-", "lab.conf")
    if not regions or not os.path.exists(conf):
        return 0
    parts = [part for part, part_regions in parts_of(stage)
             if regions & set(part_regions)]
    names = [re.sub(r"[^A-Za-z0-9 ]", ".", name)
             for part in parts for _, name in tests_of(stage, part)]
    if names:
        print("(" + "|".join(names) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
