# Makefile of this lab hand-out (stage @STAGE@). Read LAB.md first.
#
#   make          build the programs (in @STAGE@/)
#   make test     run the stage's tests (bats-core); TEST='name' runs
#                 the tests whose name matches
#   make grade    build, run every test, and print a line per part of
#                 the lab: its tests passed, and the first failure
#
# CC=clang, CFLAGS='-O0 -g' and WERROR=1 work as in the stage Makefile.

STAGE_DIR := @STAGE@
BATS ?= bats
TESTS := $(sort $(wildcard tests/$(firstword $(subst _, ,$(STAGE_DIR)))_*.bats))

all:
	@$(MAKE) --no-print-directory -C $(STAGE_DIR)

# The tests' own tools (tests/tools.mk): the short-I/O shim and others.
include tests/tools.mk

test: all tools
	@command -v $(BATS) >/dev/null 2>&1 || { \
		echo "make test needs bats-core: sudo apt-get install bats" \
		     "(Debian, Ubuntu), or brew install bats-core (macOS)"; \
		exit 1; } >&2
	$(BATS) $(if $(TEST),-f '$(TEST)') $(TESTS)

grade:
	@./grade.sh

clean:
	@$(MAKE) --no-print-directory -C $(STAGE_DIR) clean
	rm -f $(TEST_TOOLS)

.PHONY: all test grade clean
