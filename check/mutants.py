#!/usr/bin/env python3
"""check/mutants.py - do the tests of each lab part fail wrong code?

    check/mutants.py [-n N] [-s SEED] [-g GOAL] [-l] [LAB[:PART]...]

A mutant is the reference code with one small change in a lab region
(labs/README.md, "How a lab is made"), the kind of slip a student makes:
  cond    a condition negated:        if (n < 0)   ->  if (!(n < 0))
  rel     a comparison shifted by one, or turned round:
                                      n < 0 -> n <= 0,  a == b -> a != b
  logic   && and || swapped
  stmt    a statement deleted (a call, an assignment, a return, a break)
  const   an integer constant +1 or -1
For every part of every lab (LAB: 1-5 or 01_echo, default all; LAB:PART
one part), each
mutant of the part's regions is built in a copy of the tree
(build/check/mutants/), and the part's own tests (those marked
"# lab: PART") are run on it, one at a time, until one fails: the
mutant is killed. A mutant that does not compile, or that the compiler
warns about (-Wall -Wextra -Wpedantic, as every build here; WERROR=1),
is stillborn and not counted: the compiler has caught it already. A mutant no test kills survives; one that cannot change what
the program does is listed in check/mutants/equivalent, with why, and
is not counted either.

A survivor that a test could catch in principle, but none does yet (a
race too narrow to hit, say), may be listed in check/mutants/survivors,
with why: it still counts against the score.

Prints, per lab and part, "killed K of M (P%)", each survivor with its
line, and exits 1 if any part is below GOAL percent (default 90). With
-n, a sample says little of a score: a part fails then only if one of
its sampled mutants survives that check/mutants/survivors does not list.
  -n N     a sample of N mutants per part (the same N for the same
           SEED and code), for a run that must be short (CI)
  -s SEED  the sample's seed (default 1)
  -l       list the mutants, run nothing
The tests are the stage's own bats files, run with bats -f on the test's
name; every run is bounded (MUTANT_TIMEOUT seconds a test, default 300),
and runs in a PID namespace of its own (unshare), so that nothing a
mutant starts outlives its run (without unshare: said once, and a
process group only).
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(os.environ.get("CHECK_DIR", os.path.join(TOP, "build", "check")),
                    "mutants")
TREE = os.path.join(WORK, "tree")
EQUIVALENT = os.path.join(TOP, "check", "mutants", "equivalent")
SURVIVORS = os.path.join(TOP, "check", "mutants", "survivors")
TEST_TIMEOUT = int(os.environ.get("MUTANT_TIMEOUT", "300"))


# --- reading the labs ---------------------------------------------------

def lab_dirs(wanted):
    labs = sorted(d for d in os.listdir(os.path.join(TOP, "labs"))
                  if re.match(r"0[1-9]_", d)
                  and os.path.isfile(os.path.join(TOP, "labs", d, "lab.conf")))
    if not wanted:
        return labs
    chosen = []
    for w in wanted:
        w = w.split(":")[0]
        match = [d for d in labs if d == w or d.startswith("0" + w + "_")]
        if not match:
            sys.exit("check/mutants.py: no lab '%s' (labs: %s)" % (w, " ".join(labs)))
        chosen += match
    return chosen


def parts_of(lab):
    """[(part, [region, ...]), ...] in lab.conf's order."""
    parts = []
    with open(os.path.join(TOP, "labs", lab, "lab.conf")) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "part":
                parts.append((w[1], w[2].split(",")))
    return parts


def tests_of(lab, part):
    """[(bats file, test name), ...] of the tests marked '# lab: PART'."""
    found = []
    tests_dir = os.path.join(TOP, "tests")
    for name in sorted(os.listdir(tests_dir)):
        if not (name.startswith(lab[:3]) and name.endswith(".bats")):
            continue
        above = ""
        with open(os.path.join(tests_dir, name)) as f:
            for line in f:
                m = re.match(r'@test\s+"(.*)"\s*\{\s*$', line)
                if m and above == "# lab: " + part:
                    found.append((name, m.group(1).replace('\\"', '"')))
                above = line.strip()
    return found


def region_lines(lab, region):
    """(path relative to TOP, first line index, last line index) of the
    lines between '/* lab:begin REGION */' and '/* lab:end REGION */'."""
    stage = os.path.join(TOP, lab)
    for name in sorted(os.listdir(stage)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(stage, name)) as f:
            lines = f.read().split("\n")
        begin = end = None
        for i, line in enumerate(lines):
            if line.strip() == "/* lab:begin %s */" % region:
                begin = i + 1
            elif line.strip() == "/* lab:end %s */" % region:
                end = i - 1
        if begin is not None and end is not None:
            return os.path.join(lab, name), begin, end
    sys.exit("check/mutants.py: no region '%s' in %s/" % (region, lab))


# --- making mutants -----------------------------------------------------

def masked(lines):
    """Each line with comments, string and character literals blanked
    out (same length), so that operators are found in code alone."""
    out, in_comment = [], False
    for line in lines:
        chars, i = list(line), 0
        while i < len(line):
            if in_comment:
                if line.startswith("*/", i):
                    chars[i] = chars[i + 1] = " "
                    in_comment = False
                    i += 2
                    continue
                chars[i] = " "
                i += 1
            elif line.startswith("/*", i):
                in_comment = True
            elif line.startswith("//", i):
                for j in range(i, len(line)):
                    chars[j] = " "
                break
            elif line[i] in "\"'":
                quote, j = line[i], i + 1
                while j < len(line) and line[j] != quote:
                    j += 2 if line[j] == "\\" else 1
                for k in range(i + 1, min(j, len(line))):
                    chars[k] = " "
                i = j + 1
            else:
                i += 1
        out.append("".join(chars))
    return out


def closing_paren(text, open_at):
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


REL = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
REL_RE = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")
LOGIC_RE = re.compile(r"&&|\|\|")
CONST_RE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def mutants_of_lines(code, begin, end):
    """Yield (line index, kind, mutated line) for lines begin..end."""
    mask = masked(code)
    for i in range(begin, end + 1):
        line, m = code[i], mask[i]
        text = m.strip()
        if not text or text.startswith("#") or re.fullmatch(r"[{}();\s]*", text):
            continue
        for kw in re.finditer(r"\b(if|while)\s*\(", m):
            open_at = kw.end() - 1
            close = closing_paren(m, open_at)
            if close is not None:
                yield i, "cond", (line[:open_at + 1] + "!(" +
                                  line[open_at + 1:close] + ")" + line[close:])
        for op in REL_RE.finditer(m):
            # Not the < > of a cast to a pointer type or an #include.
            yield i, "rel", line[:op.start()] + REL[op.group()] + line[op.end():]
        for op in LOGIC_RE.finditer(m):
            other = "||" if op.group() == "&&" else "&&"
            yield i, "logic", line[:op.start()] + other + line[op.end():]
        for c in CONST_RE.finditer(m):
            n = int(c.group())
            for v in (n + 1, n - 1):
                if v >= 0:
                    yield i, "const", line[:c.start()] + str(v) + line[c.end():]
        # A whole statement on one line, begun on this line: delete it.
        prev = next((mask[j].strip() for j in range(i - 1, -1, -1)
                     if mask[j].strip()), ";")
        if (text.endswith(";") and prev[-1] in ";{}):" or prev.endswith("else")) \
                and not re.match(r"(return\s*;|break\s*;|;)$", text) \
                and text.count("(") == text.count(")") \
                and not re.match(r"(const\s+|static\s+|struct\s+|unsigned\s+)*"
                                 r"[A-Za-z_]\w*(\s*\*)*\s+\**[A-Za-z_]\w*(\[[^]]*\])*\s*;$",
                                 text):
            indent = line[:len(line) - len(line.lstrip())]
            yield i, "stmt", indent + ";"
        elif text in ("return;", "break;"):
            indent = line[:len(line) - len(line.lstrip())]
            yield i, "stmt", indent + ";"


def all_mutants(lab, regions):
    """[(path, line index, kind, original, mutated), ...]"""
    found = []
    for region in regions:
        path, begin, end = region_lines(lab, region)
        with open(os.path.join(TOP, path)) as f:
            code = f.read().split("\n")
        for i, kind, new in mutants_of_lines(code, begin, end):
            if new != code[i]:
                found.append((path, i, kind, code[i], new))
    return found


def load_listed(listing=EQUIVALENT):
    """{(path, original stripped, mutated stripped)} from a listing such
    as check/mutants/equivalent: 'PATH: ORIGINAL => MUTATED  # why'."""
    known = set()
    if not os.path.exists(listing):
        return known
    with open(listing) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m = re.match(r"(\S+): (.*) => (.*?)\s+# \S", line)
            if m:
                known.add((m.group(1), m.group(2).strip(), m.group(3).strip()))
    return known


# --- running ------------------------------------------------------------

def run(cmd, timeout, **kw):
    """Run cmd in a process group of its own; kill the group on timeout.
    Returns the exit status (124 on timeout)."""
    p = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.wait()
        return 124


# Each run of a mutant's tests runs in a PID namespace of its own, whose
# init is bats: when bats ends, the kernel kills whatever is left in the
# namespace, so no process a mutant started outlives its run (a server's
# forked child, re-parented away from the test that stopped its parent,
# once did). --mount-proc: /proc then shows the namespace's PIDs, the
# ones the tests see in $! and $$. Root needs no user namespace; anyone
# else gets one that maps their user to itself (-c: not -r, or the tests
# would think they were root and try raw sockets they cannot have).
# Where unshare cannot (no util-linux, namespaces disabled), the tests
# run in a process group of their own only, as before, and we say so.
CONTAINERS = (["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"],
              ["unshare", "--map-current-user", "--pid", "--fork", "--kill-child",
               "--mount-proc"])


def container():
    """The command prefix that runs a command in a PID namespace of its
    own, or [] (said once, on stdout as a TAP comment) if none works."""
    for prefix in CONTAINERS:
        try:
            if subprocess.run(prefix + ["true"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    print("# check/mutants.py: unshare cannot make a PID namespace here: the "
          "tests of each mutant run in a process group of their own only, and "
          "a process that leaves it (a daemon, a re-parented child) may "
          "outlive its run")
    sys.stdout.flush()
    return []


def copy_tree():
    if os.path.exists(TREE):
        shutil.rmtree(TREE)
    os.makedirs(TREE)
    tar = "tar -C %s --exclude=./.git --exclude=./build -cf - . | tar -C %s -xf -"
    subprocess.run(tar % (TOP, TREE), shell=True, check=True)
    subprocess.run(["make", "-s", "-C", TREE, "clean"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if run(["make", "-s", "-C", TREE, "all", "tools"], 600) != 0:
        sys.exit("check/mutants.py: the unmutated tree does not build")


def killer(lab, path, original_text, mutated_line, index, tests, contain):
    """Plant one mutant in the copy, build, run the tests until one
    fails (each run behind the prefix contain: container()). Returns the
    killing test's name, None if it survived, or '' if it did not
    compile."""
    target = os.path.join(TREE, path)
    code = original_text.split("\n")
    code[index] = mutated_line
    with open(target, "w") as f:
        f.write("\n".join(code))
    try:
        if run(["make", "-s", "-C", os.path.join(TREE, lab), "WERROR=1"],
               300) != 0:
            return ""
        for bats_file, name in tests:
            status = run(contain + ["bats", "-f", "^" + re.escape(name) + "$",
                                    os.path.join(TREE, "tests", bats_file)],
                         TEST_TIMEOUT)
            if status != 0:
                return name
        return None
    finally:
        with open(target, "w") as f:
            f.write(original_text)
        later = time.time() + 1  # newer than any object built meanwhile
        os.utime(target, (later, later))


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("-n", type=int, default=0)
    ap.add_argument("-s", type=int, default=1)
    ap.add_argument("-g", type=int, default=int(os.environ.get("MUTANTS_GOAL") or "90"))
    ap.add_argument("-l", action="store_true")
    ap.add_argument("labs", nargs="*")
    args = ap.parse_args()

    equivalent = load_listed(EQUIVALENT)
    known_survivors = load_listed(SURVIVORS)
    contain = []
    if not args.l:
        copy_tree()
        contain = container()
    below = []
    only = {w.split(":")[1] for w in args.labs if ":" in w}
    for lab in sorted(set(lab_dirs(args.labs))):
        for part, regions in parts_of(lab):
            if only and part not in only:
                continue
            mutants = all_mutants(lab, regions)
            made = len(mutants)
            if args.n and len(mutants) > args.n:
                mutants = random.Random("%d %s %s" % (args.s, lab, part)).sample(mutants, args.n)
                mutants.sort(key=lambda m: (m[0], m[1]))
            if args.l:
                for path, i, kind, old, new in mutants:
                    print("%s:%d %-5s %s => %s" % (path, i + 1, kind, old.strip(), new.strip()))
                continue
            tests = [(f, n) for f, n in tests_of(lab, part)]
            killed = stillborn = equiv = 0
            survivors, unknown = [], 0
            start = time.time()
            for path, i, kind, old, new in mutants:
                key = (path, old.strip(), new.strip())
                if key in equivalent:
                    equiv += 1
                    continue
                with open(os.path.join(TREE, path)) as f:
                    original = f.read()
                by = killer(lab, path, original, new, i, tests, contain)
                if by == "":
                    stillborn += 1
                elif by is None:
                    listed = " (listed in check/mutants/survivors)" if key in known_survivors else ""
                    unknown += not listed
                    survivors.append("%s:%d: %s => %s%s" % (path, i + 1, key[1], key[2], listed))
                else:
                    killed += 1
            counted = killed + len(survivors)
            share = 100 * killed // counted if counted else 100
            sampled = len(mutants) < made
            sample = " (a sample of %d of %d)" % (len(mutants), made) if sampled else ""
            good = unknown == 0 if sampled else share >= args.g
            print("%s - mutants: %s %s: killed %d of %d (%d%%)%s; %d equivalent, "
                  "%d did not compile; %d s" % ("ok" if good else "not ok", lab, part,
                                                killed, counted, share, sample, equiv,
                                                stillborn, time.time() - start))
            for line in survivors:
                print("#   survived: " + line)
            sys.stdout.flush()
            if not good:
                below.append("%s %s" % (lab, part))
    if below:
        print("# not ok: %s" % ", ".join(below))
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
