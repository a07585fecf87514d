#!/usr/bin/env bats
# The slides (slides/NN_name.md): every code quote matches its source,
# every deck keeps the format of DESIGN.md section 6, and the Python -> C
# table names files and functions that exist. Needs only sh, awk, diff
# and cmp (slides/sync.sh), never node: rendering is `make slides`.
#
# The tests that prove each check bites work on a copy of the decks and
# sources in $BATS_TEST_TMPDIR, never on the tree itself.

load helpers

SYNC="$TOP/slides/sync.sh"

# copy_slides: the decks, sync.sh, the images and every stage's sources,
# copied to $COPY; the copy's own sync.sh works on the copy.
copy_slides() {
    COPY="$BATS_TEST_TMPDIR/copy"
    mkdir -p "$COPY/slides"
    cp "$SYNC" "$TOP"/slides/[0-9][0-9]_*.md "$COPY/slides/"
    if [ -d "$TOP/slides/img" ]; then
        cp -R "$TOP/slides/img" "$COPY/slides/img"
    fi
    local dir
    for dir in "$TOP"/[0-9][0-9]_*/; do
        mkdir -p "$COPY/$(basename "$dir")"
        cp "$dir"*.[ch] "$dir"*.md "$COPY/$(basename "$dir")/" 2>/dev/null ||
            true
    done
}

# deck NAME CONTENT: write a deck into the copy.
deck() {
    printf '%s\n' "$2" >"$COPY/slides/$1"
}

@test "slides: every code quote matches its source (slides/sync.sh --check)" {
    run "$SYNC" --check
    [ "$status" -eq 0 ] || fail "$output"
    [ -z "$output" ] || fail "$output"
}

@test "slides: the overview and the decks of stages 01-03 exist, named after their stages" {
    local deck name
    for deck in 00_overview 01_echo 02_persistent_server 03_multiclient; do
        [ -f "$TOP/slides/$deck.md" ] || fail "slides/$deck.md is missing"
    done
    for deck in "$TOP"/slides/[0-9][0-9]_*.md; do
        name=$(basename "$deck" .md)
        name=${name%.zh-CN} # a Chinese twin is named after its deck
        [ "$name" = 00_overview ] || [ -d "$TOP/$name" ] ||
            fail "slides/$name.md: no stage directory $name/"
    done
}

@test "slides: --check with no DECK checks the Chinese twins (NN_name.zh-CN.md) too" {
    copy_slides
    [ -f "$COPY/slides/00_overview.zh-CN.md" ] || skip "no Chinese deck"
    printf '%s\n' 'text right above a separator' '---' >>"$COPY/slides/00_overview.zh-CN.md"
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/00_overview.zh-CN.md:"*"--- needs a blank line before it"* ]] ||
        fail "$output"
}

@test "slides: a change in a quoted source fails --check with a diff, and sync fixes it" {
    copy_slides
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 0 ] || fail "the copy is not in sync to begin with: $output"

    # Change one line inside a region the stage 01 deck quotes.
    sed -i 's|/\* Python: data = conn.recv(1024) \*/|/* Python: data = conn.recv(4096) */|' \
        "$COPY/01_echo/net.c"
    grep -q 'conn.recv(4096)' "$COPY/01_echo/net.c"
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 1 ] || fail "--check passed on a stale quote: $output"
    [[ "$output" == *"slides/01_echo.md: code quotes differ from the sources"* ]] ||
        fail "$output"
    [[ "$output" == *"-/* Python: data = conn.recv(1024) */"* ]] || fail "$output"
    [[ "$output" == *"+/* Python: data = conn.recv(4096) */"* ]] || fail "$output"
    # --check changes nothing.
    grep -q 'conn.recv(1024)' "$COPY/slides/01_echo.md"

    run "$COPY/slides/sync.sh"
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"updated slides/01_echo.md"* ]] || fail "$output"
    grep -q 'conn.recv(4096)' "$COPY/slides/01_echo.md"
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 0 ] || fail "$output"
}

@test "slides: an analyser directive alone on a line is left out of a quote" {
    copy_slides
    # Put directives inside a region the stage 01 deck quotes.
    sed -i 's|^\( *\)/\* Python: data = conn.recv(1024) \*/|&\n\1/* cppcheck-suppress someCheck ; why */\n\1// NOLINTNEXTLINE(some-check)|' \
        "$COPY/01_echo/net.c"
    grep -q 'cppcheck-suppress someCheck' "$COPY/01_echo/net.c"
    grep -q 'NOLINTNEXTLINE(some-check)' "$COPY/01_echo/net.c"
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 0 ] || fail "the directives reached the quote: $output"
    ! grep -q -e 'cppcheck-suppress' -e 'NOLINT' "$COPY/slides/01_echo.md"
}

@test "slides: a hand edit inside a quoted block fails --check" {
    copy_slides
    sed -i 's|^serve_client(client_fd, peer);$|serve_client(client_fd, peer); /* edited */|' \
        "$COPY/slides/01_echo.md"
    grep -q 'edited' "$COPY/slides/01_echo.md"
    run "$COPY/slides/sync.sh" --check "$COPY/slides/01_echo.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"-serve_client(client_fd, peer); /* edited */"* ]] ||
        fail "$output"
}

@test "slides: a missing region, a missing file, or a marker without a block is an error at FILE:LINE" {
    copy_slides
    deck 90_bad.md '# Bad

<!-- quote: 01_echo/net.c no_such_region -->
```c
```

<!-- quote: 01_echo/no_such_file.c main -->
```c
```

<!-- quote: 01_echo/net.c send_all -->
Not a code block.'
    run "$COPY/slides/sync.sh" --check "$COPY/slides/90_bad.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/90_bad.md:3: no region no_such_region in 01_echo/net.c"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_bad.md:7: cannot read 01_echo/no_such_file.c"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_bad.md:12: a quote marker must be followed at once by a fenced code block"* ]] ||
        fail "$output"
}

@test "slides: unmatched and malformed markers in a source are errors at FILE:LINE" {
    copy_slides
    local src="$COPY/01_echo/server.c"
    printf '%s\n' '/* slide:begin orphan */' '/* slide:end stray */' \
        '/* slide:begin_typo x */' >>"$src"
    local count # not "lines": run sets that
    count=$(wc -l <"$src")
    run "$COPY/slides/sync.sh" --check
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"01_echo/server.c:$((count - 2)): slide:begin orphan has no slide:end orphan"* ]] ||
        fail "$output"
    [[ "$output" == *"01_echo/server.c:$((count - 1)): slide:end stray without a slide:begin stray before it"* ]] ||
        fail "$output"
    [[ "$output" == *"01_echo/server.c:$count: malformed marker"* ]] ||
        fail "$output"
}

@test "slides: a quote longer than 16 lines or wider than 72 columns fails" {
    copy_slides
    {
        echo '/* slide:begin long */'
        for i in $(seq 17); do echo "int line_$i;"; done
        echo '/* slide:end long */'
        echo '/* slide:begin wide */'
        printf 'int x; /* %s */\n' "$(printf '%070d' 0)"
        echo '/* slide:end wide */'
    } >"$COPY/01_echo/extra.c"
    deck 90_size.md '# Size

<!-- quote: 01_echo/extra.c long -->
```c
```

<!-- quote: 01_echo/extra.c wide -->
```c
```'
    run "$COPY/slides/sync.sh" --check "$COPY/slides/90_size.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/90_size.md:4: quote 01_echo/extra.c long is 17 lines long; at most 16 fit on a slide"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_size.md:8: quote 01_echo/extra.c wide has a line of 83 columns"* ]] ||
        fail "$output"
}

@test "slides: a hand-written code block that does not fit a slide fails too" {
    copy_slides
    deck 90_block.md "# Block

\`\`\`
$(seq 17)
\`\`\`"
    run "$COPY/slides/sync.sh" --check "$COPY/slides/90_block.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/90_block.md:3: code block is 17 lines long"* ]] ||
        fail "$output"
}

@test "slides: front matter, and --- without a blank line before it, fail" {
    copy_slides
    deck 90_sep.md '---
theme: default
---

# Title
text right above a separator
---

## Next'
    run "$COPY/slides/sync.sh" --check "$COPY/slides/90_sep.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/90_sep.md:1: no front matter in a deck"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_sep.md:7: --- needs a blank line before it"* ]] ||
        fail "$output"
}

@test "slides: a missing image, a remote image and a remote URL fail" {
    copy_slides
    deck 90_img.md '# Images

![a diagram that is not there](img/nothing.svg)

![remote](https://example.com/x.png)

See http://example.org/page for more.

This one is fine: `curl http://localhost:9001/`'
    run "$COPY/slides/sync.sh" --check "$COPY/slides/90_img.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"slides/90_img.md:3: missing image img/nothing.svg"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_img.md:5: remote image https://example.com/x.png"* ]] ||
        fail "$output"
    [[ "$output" == *"slides/90_img.md:7: remote URL"* ]] || fail "$output"
    [[ "$output" != *"90_img.md:9:"* ]] || fail "localhost flagged: $output"
}

@test "slides: every image the decks show exists" {
    local deck url
    for deck in "$TOP"/slides/[0-9][0-9]_*.md; do
        for url in $(grep -o '!\[[^]]*\]([^)]*)' "$deck" | sed 's/.*](\(.*\))/\1/'); do
            [ -f "$TOP/slides/$url" ] || fail "$deck: $url is missing"
        done
    done
}

@test "slides: a wrong file or function in the Python -> C table fails" {
    copy_slides
    sed -i 's|`01_echo/net.c`: `accept_client()`|`01_echo/nonet.c`: `accept_client()`|' \
        "$COPY/slides/00_overview.md"
    sed -i 's|`03_multiclient/server.c`: `start_client_thread()`|`03_multiclient/server.c`: `start_thread()`|' \
        "$COPY/slides/00_overview.md"
    run "$COPY/slides/sync.sh" --check "$COPY/slides/00_overview.md"
    [ "$status" -eq 1 ] || fail "$output"
    [[ "$output" == *"no such file: 01_echo/nonet.c"* ]] || fail "$output"
    [[ "$output" == *"start_thread() is not in 03_multiclient/server.c"* ]] ||
        fail "$output"
}

@test "slides: the overview's Python -> C table covers every call and constant of the source document" {
    local item missing=()
    for item in socket bind listen connect connect_ex accept close fileno \
        getpeername getsockname getsockopt gettimeout recv recvfrom send \
        sendall sendto setblocking setsockopt settimeout getdefaulttimeout \
        gethostbyname gethostname AF_UNIX AF_INET AF_INET6 SOCK_STREAM \
        SOCK_DGRAM SOCK_RAW SOCK_RDM SOCK_SEQPACKET IP_HDRINCL \
        ThreadingTCPServer; do
        # A table row whose first cell names the item as a whole word.
        awk -F'|' -v item="$item" '
            /^\|/ {
                cell = $2
                while ((i = index(cell, item)) > 0) {
                    before = substr(cell, i - 1, 1)
                    after = substr(cell, i + length(item), 1)
                    if (before !~ /[A-Za-z0-9_]/ && after !~ /[A-Za-z0-9_]/)
                        found = 1
                    cell = substr(cell, i + length(item))
                }
            }
            END { exit !found }' "$TOP/slides/00_overview.md" ||
            missing+=("$item")
    done
    [ "${#missing[@]}" -eq 0 ] || fail "not in the table: ${missing[*]}"
}

@test "slides: README.md's Python -> C table names files and functions that exist" {
    run "$SYNC" --refs "$TOP/README.md"
    [ "$status" -eq 0 ] || fail "$output"
}

@test "slides: make test STAGE=N leaves the slides out" {
    run make -n -C "$TOP" test STAGE=1
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" != *99_slides.bats* ]] || fail "$output"
}

@test "slides: make test STAGE=slides runs these tests alone" {
    run make -n -C "$TOP" test STAGE=slides
    [ "$status" -eq 0 ] || fail "$output"
    [[ "$output" == *"tests/99_slides.bats"* ]] || fail "$output"
    [[ "$output" != *"tests/0"* ]] || fail "$output"
}

# --- the documents' claims, checked against the tree --------------------

# The documents this checks: the top README, each stage's, and the decks.
documents() {
    ls "$TOP"/README.md "$TOP"/0[1-9]_*/README.md "$TOP"/slides/[0-9][0-9]_*.md
}

# placed_functions DOC: "NAME FILE" for each "`NAME()` in `FILE`" (or
# "`NAME()` (`FILE`)", "(in `FILE`)") in DOC, line breaks and all; not
# "`NAME()` in `FILE`'s `main()`", which names a call, not a home.
placed_functions() {
    awk '{ text = text " " $0 }
        END {
            gsub(/[ \t]+/, " ", text)
            re = "`[A-Za-z_][A-Za-z0-9_]*\\(\\)` \\(?(in )?`[A-Za-z0-9_./-]+\\.[ch]`"
            while (match(text, re)) {
                m = substr(text, RSTART, RLENGTH)
                text = substr(text, RSTART + RLENGTH)
                if (substr(text, 1, 2) == "\047s")
                    continue
                gsub(/[`()]/, "", m)
                sub(/ in /, " ", m)
                print m
            }
        }' "$1"
}

@test "docs: each \`function()\` a README or deck places in a file is defined in that file" {
    local doc name file path wrong=() count=0
    for doc in $(documents); do
        while read -r name file; do
            count=$((count + 1))
            path="$(dirname "$doc")/$file" # next to the document,
            [ -f "$path" ] || path="$TOP/$file" # or from the top
            grep -q "^$name(" "$path" 2>/dev/null ||
                wrong+=("${doc#"$TOP"/}: $name() is not defined in $file")
        done < <(placed_functions "$doc")
    done
    [ "$count" -gt 5 ] || fail "only $count placements found: is the pattern right?"
    [ "${#wrong[@]}" -eq 0 ] || fail "${wrong[@]/%/$'\n'}"
}

# c_names CELL: the names in a table cell's backquoted spans that a
# grep can look for: a call (`getsockopt()`, `getsockopt(fd, ...)`) or a
# constant (`SO_RCVTIMEO`), one a line.
c_names() {
    grep -o '`[A-Za-z_][A-Za-z0-9_]*' <<<"$1" | tr -d '`' | sort -u
}

@test "docs: no Python -> C row says 'not used' of a call the code makes" {
    local doc cell name file stale=() rows=0
    for doc in "$TOP/README.md" "$TOP/slides/00_overview.md"; do
        while IFS= read -r cell; do
            rows=$((rows + 1))
            local names=() files
            read -r -d '' -a names < <(c_names "$cell") || true
            [ "${#names[@]}" -gt 0 ] || continue
            # One source that uses every name the row gives: then the
            # toolkit does use it.
            files=$(ls "$TOP"/0[1-9]_*/*.c)
            for name in "${names[@]}"; do
                # shellcheck disable=SC2086 # one path per word
                files=$(grep -lw -- "$name" $files /dev/null) || break
            done
            [ -z "$files" ] ||
                stale+=("${doc#"$TOP"/}: '$cell' is used in ${files//"$TOP"\//}")
        done < <(awk -F'|' '$4 ~ /not used/ { print $3 }' "$doc")
    done
    [ "$rows" -gt 0 ] || fail "no 'not used' rows found: is the pattern right?"
    [ "${#stale[@]}" -eq 0 ] || fail "${stale[@]/%/$'\n'}"
}

@test "docs: the stage tables of README.md and the overview list exactly the stage directories, none 'being written'" {
    local dir expected listed
    expected=$(for dir in "$TOP"/0[1-9]_*/; do
        [ -f "$dir/Makefile" ] && basename "$dir"
    done)
    listed=$(sed -n 's/^| \[\(0[1-9]_[a-z_]*\)\](.*/\1/p' "$TOP/README.md")
    [ "$listed" = "$expected" ] ||
        fail "README.md's stages: ${listed//$'\n'/ }; the directories:" \
            "${expected//$'\n'/ }"
    listed=$(sed -n 's/^| \(0[1-9]\) \([a-z_]*\) |.*/\1_\2/p' "$TOP/slides/00_overview.md")
    [ "$listed" = "$expected" ] ||
        fail "00_overview.md's stages: ${listed//$'\n'/ }; the directories:" \
            "${expected//$'\n'/ }"
    ! grep -n -i 'being written\|not written yet' "$TOP/README.md" \
        "$TOP/slides/00_overview.md" || fail "a stage that exists is 'being written'"
    # "Each stage is a directory with a README, a Makefile, server.c,
    # client.c and the socket steps in net.c" (the overview).
    local file
    for dir in $expected; do
        for file in README.md Makefile server.c client.c net.c; do
            [ -f "$TOP/$dir/$file" ] || fail "$dir has no $file"
        done
    done
}

@test "slides: the theme's fonts fall back to a CJK font, for 粘包" {
    grep -q '粘包' "$TOP"/slides/[0-9][0-9]_*.md || skip "no deck has Chinese"
    local stack
    for stack in fontStack-sansSerif fontStack-monospace; do
        awk -v v="--$stack:" 'index($0, v) { on = 1 } on { print } on && /;/ { exit }' \
            "$TOP/slides/theme/sockstep.css" | grep -q 'CJK' ||
            fail "slides/theme/sockstep.css: --$stack names no CJK font:" \
                "粘包 renders as empty boxes where no such font comes first"
    done
}

# The Chinese twins (tests/twins.sh): each records the English file it
# translates, and copies its code blocks.
@test "docs: every Chinese twin exists, is up to date with its English file, and has its code blocks" {
    run sh "$TOP/tests/twins.sh" --check
    [ "$status" -eq 0 ] || fail "$output"
}

@test "docs: tests/twins.sh catches a changed English file, a changed code block and a missing link" {
    local copy=$BATS_TEST_TMPDIR/twins
    mkdir -p "$copy/tests" "$copy/doc"
    cp "$TOP/tests/twins.sh" "$copy/tests/"
    printf 'English · [简体中文](A.zh-CN.md)\n\ntext\n\n```sh\nmake test\n```\n' \
        >"$copy/doc/A.md"
    printf '[English](A.md) · 简体中文\n\n文字\n\n```sh\nmake test\n```\n' \
        >"$copy/doc/A.zh-CN.md"
    cd "$copy"
    sh tests/twins.sh --stamp doc/A.zh-CN.md
    # The required documents of the real tree are missing here: only
    # what is said of doc/A matters.
    run sh tests/twins.sh --check
    [[ "$output" != *"doc/A"* ]] || fail "a good twin was refused: $output"

    printf 'more\n' >>doc/A.md
    run sh tests/twins.sh --check
    [[ "$output" == *"doc/A.md has changed since doc/A.zh-CN.md"* ]] ||
        fail "a changed English file was not caught: $output"
    sh tests/twins.sh --stamp doc/A.zh-CN.md

    sed -i 's/^make test$/make tset/' doc/A.zh-CN.md
    run sh tests/twins.sh --check
    [[ "$output" == *"doc/A.zh-CN.md: code block 1 differs"* ]] ||
        fail "a changed code block was not caught: $output"
    sed -i 's/^make tset$/make test/' doc/A.zh-CN.md

    sed -i '1s/.*/English/' doc/A.md
    sh tests/twins.sh --stamp doc/A.zh-CN.md
    run sh tests/twins.sh --check
    [[ "$output" == *"doc/A.md:1: the first line does not link to A.zh-CN.md"* ]] ||
        fail "a missing link was not caught: $output"
}
