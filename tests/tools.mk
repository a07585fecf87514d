# tests/tools.mk - the test-only tools, built from their C sources in
# tests/: LD_PRELOAD libraries (tests/NAME.so from tests/NAME.c) and
# small programs. Included by the top Makefile and by every lab
# hand-out's Makefile; each builds the tools whose sources it has.
# They take CC, CFLAGS and WERROR as the stages do.

PRELOAD_TOOLS := $(patsubst %.c,%.so,$(wildcard tests/shortio.c \
	tests/acceptfail.c tests/ipv4only.c tests/lockgate.c tests/failonce.c))
PROGRAM_TOOLS := $(patsubst %.c,%,$(wildcard tests/naive_echo_client.c \
	tests/swapper.c tests/icmp_replier.c))
TEST_TOOLS := $(PRELOAD_TOOLS) $(PROGRAM_TOOLS)

TOOL_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic
ifeq ($(WERROR),1)
TOOL_FLAGS += -Werror
endif
TOOL_CFLAGS := $(or $(CFLAGS),-O2 -g)

tools: $(TEST_TOOLS)

$(PRELOAD_TOOLS): %.so: %.c
	$(CC) $(TOOL_FLAGS) $(TOOL_CFLAGS) -shared -fPIC -o $@ $< -ldl

$(PROGRAM_TOOLS): %: %.c
	$(CC) $(TOOL_FLAGS) $(TOOL_CFLAGS) -o $@ $<

.PHONY: tools
