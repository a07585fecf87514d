# sockstep - build and test every stage.
#
#   make                  build every stage that exists
#   make stage2           build stage 2 and point ./server and ./client
#                         (and the stage's other programs) at it
#   make test             run every test; make test STAGE=2 runs one stage
#   make clean            remove what was built, and the ./server links
#   make format           reformat the C sources with clang-format
#   make check-format     fail if any C source is not formatted
#   make bench            measure speed and memory (bench/run.sh)
#   make slides           render the slide decks to HTML (needs node)
#   make fuzz             fuzz stage 04's request parser (clang)
#   make check            the heavy gates: the stage tests again under
#                         sanitizers, valgrind and short I/O, and static
#                         analysis (check/run says more); make check-asan
#                         (-tsan, -valgrind, -shortio, -static) runs one
#
# Variables: CC=clang, CFLAGS='-O0 -g' (the language and warning flags
# stay on), WERROR=1 (warnings become errors; CI sets it), BATS=...,
# BATS_FLAGS=--tap; STAGE=2 also limits make check to stage 2.

STAGE_DIRS := 01_echo 02_persistent_server 03_multiclient 04_ftp 05_udp_raw
BUILT_STAGES := $(patsubst %/Makefile,%,$(wildcard $(STAGE_DIRS:%=%/Makefile)))

BATS ?= bats
BATS_FLAGS ?=
ifdef STAGE
TEST_FILES := $(sort $(wildcard tests/0$(STAGE)_*.bats))
else
TEST_FILES := $(sort $(wildcard tests/*.bats))
endif

CLANG_FORMAT ?= clang-format
C_SOURCES := $(sort $(wildcard 0[1-5]_*/*.[ch] tests/*.c bench/*.c))

# The links that `make stageN` makes all point into a stage directory;
# this removes them, and nothing else.
remove_stage_links = for link in *; do \
	[ -L "$$link" ] || continue; \
	case "$$(readlink "$$link")" in 0[1-5]_*/*) rm -f "$$link";; esac; \
	done

all:
	@for dir in $(BUILT_STAGES); do $(MAKE) -C $$dir || exit 1; done

# make stageN: build that stage, then replace the top-level links to
# whichever stage ran before with links to this stage's programs.
stage1 stage2 stage3 stage4 stage5: stage%:
	@dir=$(word $*,$(STAGE_DIRS)); \
	if [ ! -f "$$dir/Makefile" ]; then \
		echo "make: stage $* ($$dir) is not written yet;" \
		     "the stages here are: $(BUILT_STAGES)" >&2; \
		exit 1; \
	fi; \
	$(MAKE) -C "$$dir" || exit 1; \
	$(remove_stage_links); \
	programs=$$($(MAKE) -s --no-print-directory -C "$$dir" programs); \
	for prog in $$programs; do ln -s "$$dir/$$prog" "$$prog"; done; \
	echo "now running stage $* ($$dir):" $$(printf './%s ' $$programs)

test: all
	@command -v $(BATS) >/dev/null 2>&1 || { \
		echo "make test needs bats-core. Install it with one of:"; \
		echo "  sudo apt-get install bats      # Debian, Ubuntu"; \
		echo "  sudo dnf install bats          # Fedora"; \
		echo "  brew install bats-core         # macOS"; \
		exit 1; } >&2
	@if [ -z "$(TEST_FILES)" ]; then \
		echo "make test: no test files for STAGE=$(STAGE)" >&2; exit 1; fi
	$(BATS) $(BATS_FLAGS) $(TEST_FILES)

clean:
	@for dir in $(BUILT_STAGES); do $(MAKE) -C $$dir clean || exit 1; done
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
CHECKS := static asan tsan valgrind shortio fuzz

check:
	@STAGE='$(STAGE)' BATS='$(BATS)' BATS_FLAGS='$(BATS_FLAGS)' \
		check/run $(CHECKS)

$(CHECKS:%=check-%): check-%:
	@STAGE='$(STAGE)' BATS='$(BATS)' BATS_FLAGS='$(BATS_FLAGS)' \
		check/run $*

# Test-only tools: the short-I/O shim (an LD_PRELOAD library; see
# tests/shortio.c) and the naive client that proves it bites; the lock
# gate (tests/lockgate.c), another LD_PRELOAD library, which stage 04's
# tests use to force a race. They take CC, CFLAGS and WERROR as the
# stages do, and make test builds them.
TEST_TOOLS := tests/shortio.so tests/naive_echo_client tests/lockgate.so
TOOL_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic
ifeq ($(WERROR),1)
TOOL_FLAGS += -Werror
endif
TOOL_CFLAGS := $(or $(CFLAGS),-O2 -g)

tests/shortio.so: tests/shortio.c
	$(CC) $(TOOL_FLAGS) $(TOOL_CFLAGS) -shared -fPIC -o $@ $< -ldl

tests/naive_echo_client: tests/naive_echo_client.c
	$(CC) $(TOOL_FLAGS) $(TOOL_CFLAGS) -o $@ $<

tests/lockgate.so: tests/lockgate.c
	$(CC) $(TOOL_FLAGS) $(TOOL_CFLAGS) -shared -fPIC -o $@ $< -ldl

test: $(TEST_TOOLS)

# Fuzzing stage 04's request parser (clang's libFuzzer; tests/fuzz/):
# make fuzz runs it for FUZZ_SECONDS (default 60); make fuzz-replay
# replays the committed corpus with any compiler.
fuzz fuzz-replay:
	$(MAKE) -C tests/fuzz $@

# Benchmarks (bench/run.sh): measurements, never pass/fail; a few
# minutes. BENCH_RUNS=N repeats each figure N times (default 5).
bench: all
	$(MAKE) -s -C bench
	bench/run.sh

# The slides: optional, never needed to build or test the C code (node
# and npm; see slides/README.md). slides-pdf needs Chromium too.
slides:
	slides/render.sh

slides-pdf:
	slides/render.sh --pdf

.PHONY: all stage1 stage2 stage3 stage4 stage5 test clean format check-format \
	check $(CHECKS:%=check-%) fuzz fuzz-replay bench slides slides-pdf
