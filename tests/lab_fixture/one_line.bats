#!/usr/bin/env bats
# The tests of the made-up lab, some written on one line, as bats
# allows: tests/98_labs.bats puts this file in place of
# tests/09_fake.bats. Every test passes, and each counts in the part
# its "# lab:" line names (a one-line test was once read as a name
# ending in '" { true; }', and its result refused as "(unknown)").

# lab: one
@test "one passes" {
    true
}

# lab: two
@test "two passes, on one line" { true; }

# lab: three
@test "three has {braces} in its name, on one line" { [ 1 -eq 1 ]; }

@test "given code passes, on one line" { true; }
