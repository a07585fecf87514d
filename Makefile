# sockstep - build and test every stage.
#
#   make                  build every stage that exists
#   make stage2           build stage 2 and point ./server and ./client
#                         (and the stage's other programs) at it
#   make test             build everything, run every test
#   make test STAGE=2     build stage 2 alone and run its tests (STAGE=1..5;
#                         STAGE=build: the Makefiles' tests; STAGE=slides:
#                         the slides' tests, which need nothing built;
#                         STAGE=docs: the documents' transcripts, replayed)
#   make clean            remove what was built, and the ./server links
#   make format           reformat the C sources with clang-format
#   make check-format     fail if any C source is not formatted
#   make lab STAGE=2      write stage 2's lab hand-out to build/labs/;
#                         make labs writes every one
#   make grade STAGE=2 DIR=path
#                         grade a student's submission of lab 2
#                         (FORMAT=gradescope|prairielearn OUT=file.json:
#                         for a course platform too)
#   make gradescope STAGE=2
#                         lab 2's Gradescope autograder (a zip)
#   make test STAGE=3 SERVER='python3 echo.py {port}'
#                         stage 3's tests against a server of one's own
#                         (CLIENT='COMMAND': a client); make grade too
#   make bench            measure speed and memory (bench/run.sh)
#   make trace STAGE=1    play a scene of stage 1 in a network namespace
#                         of its own, and write what the wire carried to
#                         build/traces/ (trace/run.sh): a pcap and a ladder
#   make slides           render the slide decks to HTML (needs node)
#   make fuzz             fuzz stage 04's request parser (clang)
#   make check            the heavy gates: the stage tests again under
#                         sanitizers, valgrind and short I/O, and static
#                         analysis (check/run says more); make check-asan
#                         (-tsan, -valgrind, -shortio, -static) runs one
#   make check-mutants    how many automatic mutants of each lab part its
#                         tests kill (check/mutants.py; over an hour; STAGE=N
#                         one lab, MUTANTS_SAMPLE=N a sample per part)
#
# Variables: CC=clang, CFLAGS='-O0 -g' (the language and warning flags
# stay on), WERROR=1 (warnings become errors; CI sets it), BATS=...,
# BATS_FLAGS=--tap; STAGE=2 also limits make check to stage 2; TEST=race
# runs only the tests whose name matches (bats -f); SLOW=1 adds the tests
# tagged slow to the default make test; JOBS=N runs N test files at once
# (default: one per core, where GNU parallel is installed).
# Sub-makes run with --no-print-directory, and a stage with nothing to
# build says nothing.

STAGE_DIRS := 01_echo 02_persistent_server 03_multiclient 04_ftp 05_udp_raw
BUILT_STAGES := $(patsubst %/Makefile,%,$(wildcard $(STAGE_DIRS:%=%/Makefile)))

BATS ?= bats
BATS_FLAGS ?=

# What `make test` builds and runs. STAGE=N: stage N's directory and its
# tests (tests/0N_*.bats) alone, so that a stage that does not build
# cannot hold up the grading of another. STAGE=build, STAGE=labs,
# STAGE=slides, STAGE=docs, STAGE=trace and STAGE=foreign name the test
# files that belong to no one stage (docs: the documents' transcripts,
# replayed; trace: make trace's scenes; foreign: the stages' tests run
# against programs not ours). These need every stage built. The trace
# and foreign tests take seconds to minutes: the default run leaves
# them out.
ifeq ($(STAGE),)
TEST_FILES := $(filter-out tests/97_trace.bats tests/97_foreign.bats,$(sort $(wildcard tests/*.bats)))
TEST_DIRS := $(BUILT_STAGES)
else ifeq ($(STAGE),foreign)
TEST_FILES := tests/97_foreign.bats
TEST_DIRS := $(BUILT_STAGES)
else ifeq ($(STAGE),build)
TEST_FILES := tests/00_build.bats
TEST_DIRS :=
else ifeq ($(STAGE),labs)
TEST_FILES := tests/98_labs.bats
TEST_DIRS :=
else ifeq ($(STAGE),slides)
TEST_FILES := tests/99_slides.bats
TEST_DIRS :=
else ifeq ($(STAGE),docs)
TEST_FILES := tests/97_docs.bats
TEST_DIRS := $(BUILT_STAGES)
else ifeq ($(STAGE),trace)
TEST_FILES := tests/97_trace.bats
TEST_DIRS := $(BUILT_STAGES)
else
TEST_FILES := $(sort $(wildcard tests/0$(STAGE)_*.bats))
TEST_DIRS := $(filter $(BUILT_STAGES),$(filter 0$(STAGE)_%,$(STAGE_DIRS)))
endif

# Tests tagged slow ("# bats test_tags=slow" above them: half a minute
# and more, for what make check-labs checks too) are left out of the
# default run, to keep it near two minutes; SLOW=1, or any STAGE=,
# runs them (CI does, with SLOW=1).
ifeq ($(STAGE)$(SLOW),)
TAG_FILTER := --filter-tags '!slow'
endif

# With GNU parallel installed, make test runs JOBS test files at once
# (default: one per core; JOBS=1 runs them one after another). The tests
# of one file still run in order, and bats prints every file's results
# in the usual order. Without GNU parallel (a different program of the
# same name comes with moreutils) the files run one after another.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
JOBS_FLAGS = $(if $(filter-out 1,$(JOBS)),$(if $(shell parallel --version \
	2>/dev/null | grep 'GNU parallel'),--jobs $(JOBS) --no-parallelize-within-files))

CLANG_FORMAT ?= clang-format
C_SOURCES := $(sort $(wildcard 0[1-5]_*/*.[ch] tests/*.c bench/*.c))

# The links that `make stageN` makes all point into a stage directory;
# this removes them, and nothing else.
remove_stage_links = for link in *; do \
	[ -L "$$link" ] || continue; \
	case "$$(readlink "$$link")" in 0[1-5]_*/*) rm -f "$$link";; esac; \
	done

# build_stages DIR...: make each stage directory; say which one before
# its compiler lines, and nothing at all for one that is up to date.
build_stages = for dir in $(1); do \
	$(MAKE) -q --no-print-directory -C "$$dir" >/dev/null 2>&1 && continue; \
	echo "building $$dir/"; \
	$(MAKE) --no-print-directory -C "$$dir" || exit 1; \
	done

all:
	@$(call build_stages,$(BUILT_STAGES))

# make stageN: build that stage, then replace the top-level links to
# whichever stage ran before with links to this stage's programs.
stage1 stage2 stage3 stage4 stage5: stage%:
	@dir=$(word $*,$(STAGE_DIRS)); \
	if [ ! -f "$$dir/Makefile" ]; then \
		echo "make: stage $* ($$dir) is not written yet;" \
		     "the stages here are: $(BUILT_STAGES)" >&2; \
		exit 1; \
	fi; \
	$(call build_stages,$$dir); \
	$(remove_stage_links); \
	programs=$$($(MAKE) -s --no-print-directory -C "$$dir" programs); \
	for prog in $$programs; do ln -s "$$dir/$$prog" "$$prog"; done; \
	echo "now running stage $* ($$dir):" $$(printf './%s ' $$programs)

# make test SERVER='COMMAND' (CLIENT='COMMAND'): the tests put COMMAND, a
# program in any language, in place of the stage's server (client); see
# tests/helpers.bash, start_server and run_client. make grade too.
test grade: export FOREIGN_SERVER = $(SERVER)
test grade: export FOREIGN_CLIENT = $(CLIENT)
test grade: export FOREIGN_DIR = $(CURDIR)

test:
	@command -v $(BATS) >/dev/null 2>&1 || { \
		echo "make test needs bats-core. Install it with one of:"; \
		echo "  sudo apt-get install bats      # Debian, Ubuntu"; \
		echo "  sudo dnf install bats          # Fedora"; \
		echo "  brew install bats-core         # macOS"; \
		exit 1; } >&2
	@if [ -z "$(TEST_FILES)" ]; then \
		echo "make test: no test files for STAGE=$(STAGE)" \
		     "(1 to 5, build, labs, slides, docs, trace or foreign)" >&2; exit 1; fi
	@$(call build_stages,$(TEST_DIRS))
ifneq ($(TEST_DIRS),)
	@$(MAKE) -s --no-print-directory $(TEST_TOOLS)
endif
	$(BATS) $(BATS_FLAGS) $(JOBS_FLAGS) $(TAG_FILTER) $(if $(TEST),-f '$(TEST)') $(TEST_FILES)

clean:
	@for dir in $(BUILT_STAGES); do \
		$(MAKE) --no-print-directory -C $$dir clean || exit 1; done
	@$(remove_stage_links)
	rm -f $(TEST_TOOLS)

format:
	$(CLANG_FORMAT) -i $(C_SOURCES)

check-format:
	$(CLANG_FORMAT) --dry-run -Werror $(C_SOURCES)

# make check runs every check named here, in this order, each in its
# own copy of the tree under build/check/ (the programs in the stage
# directories are left alone). Every check is also a target of its own:
# make check-valgrind.
CHECKS := static asan tsan valgrind shortio fuzz labs mistakes

check:
	@STAGE='$(STAGE)' BATS='$(BATS)' BATS_FLAGS='$(BATS_FLAGS)' \
		check/run $(CHECKS)

$(CHECKS:%=check-%) check-mutants: check-%:
	@STAGE='$(STAGE)' BATS='$(BATS)' BATS_FLAGS='$(BATS_FLAGS)' \
		MUTANTS_SAMPLE='$(MUTANTS_SAMPLE)' MUTANTS_GOAL='$(MUTANTS_GOAL)' \
		check/run $*

# Test-only tools (LD_PRELOAD libraries such as the short-I/O shim, and
# the naive client that proves the shim bites): tests/tools.mk, which
# every lab hand-out's Makefile includes too. make test builds them.
include tests/tools.mk

# Fuzzing stage 04's request parser (clang's libFuzzer; tests/fuzz/):
# make fuzz runs it for FUZZ_SECONDS (default 60); make fuzz-replay
# replays the committed corpus with any compiler.
fuzz fuzz-replay:
	$(MAKE) --no-print-directory -C tests/fuzz $@

# Labs (labs/README.md): make lab STAGE=N writes stage N's hand-out to
# build/labs/ (a folder and a .tar.gz); make labs writes all of them;
# make grade STAGE=N DIR=path grades a student's submission (a folder
# or a .tar.gz; DIR may name several) with this tree's tests, and
# CSV=file.csv appends the grades to a spreadsheet too.
LAB_DIR := build/labs
LAB_STAGES := $(patsubst labs/%/lab.conf,%,$(wildcard labs/*/lab.conf))

lab:
	@if [ -z "$(STAGE)" ]; then \
		echo "usage: make lab STAGE=N (N is one of:" \
		     "$(foreach s,$(LAB_STAGES),$(firstword $(subst _, ,$(s))))); make labs makes every one" >&2; \
		exit 2; fi
	@labs/lab.sh $(STAGE) $(LAB_DIR)

labs:
	@for stage in $(LAB_STAGES); do \
		labs/lab.sh $$stage $(LAB_DIR) || exit 1; done

grade:
	@if [ -z "$(STAGE)" ] || [ -z "$(DIR)" ]; then \
		echo "usage: make grade STAGE=N DIR=path/to/submission [CSV=grades.csv]" \
		     "[FORMAT=gradescope|prairielearn OUT=results.json]" \
		     "[SERVER='COMMAND'] [CLIENT='COMMAND']" >&2; \
		exit 2; fi
	@labs/grade-submissions.sh $(if $(CSV),-c '$(CSV)') \
		$(if $(FORMAT),-f '$(FORMAT)' -o '$(or $(OUT),results.json)') \
		$(STAGE) $(DIR)

# make gradescope STAGE=N: the lab's Gradescope autograder, a zip in
# build/gradescope/ (labs/gradescope.sh; labs/README.md says how to use it).
gradescope:
	@if [ -z "$(STAGE)" ]; then \
		echo "usage: make gradescope STAGE=N" >&2; exit 2; fi
	@labs/gradescope.sh $(STAGE) build/gradescope

# Benchmarks (bench/run.sh): measurements, never pass/fail; a few
# minutes. BENCH_RUNS=N repeats each figure N times (default 5).
bench: all
	$(MAKE) -s --no-print-directory -C bench
	bench/run.sh

# make trace STAGE=N: a short scene of stage N, captured by stage 05's
# sniff in a network namespace of its own (trace/run.sh says more). It
# builds stage N and stage 05, whose sniff it needs.
trace:
	@case "$(STAGE)" in [1-5]) ;; *) \
		echo "usage: make trace STAGE=N (N from 1 to 5)" >&2; exit 2;; esac
	@$(call build_stages,$(sort 05_udp_raw $(filter 0$(STAGE)_%,$(STAGE_DIRS))))
	@trace/run.sh $(STAGE)

# The slides: optional, never needed to build or test the C code (node
# and npm; see slides/README.md). slides-pdf needs Chromium too.
slides:
	slides/render.sh

slides-pdf:
	slides/render.sh --pdf

.PHONY: check-mutants all stage1 stage2 stage3 stage4 stage5 test clean format check-format \
	check $(CHECKS:%=check-%) fuzz fuzz-replay lab labs grade gradescope bench trace slides \
	slides-pdf
