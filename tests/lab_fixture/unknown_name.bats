#!/usr/bin/env bats
# The tests of the made-up lab with one name the grader cannot read as
# bats prints it: tests/98_labs.bats puts this file in place of
# tests/09_fake.bats. Every test passes, but bats prints the "\\" in
# part two's name as "\", so its result comes under a name the grader
# does not know (such a result was once counted as given code: part two
# said "did not run" and the total said full marks).

# lab: one
@test "one passes" {
    true
}

# lab: two
@test "two has a \\ in its name" {
    true
}

# lab: three
@test "three passes" {
    true
}

@test "given code passes" {
    true
}
