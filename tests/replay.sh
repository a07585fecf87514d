#!/bin/bash
# tests/replay.sh - replay the transcripts a document shows, so that a
# command that no longer prints what the document says fails the tests.
#
#   tests/replay.sh DOC.md [BLOCK_LINE]   replay DOC's marked transcripts
#                                         (or the one whose fence is at
#                                         BLOCK_LINE), print a diff for
#                                         each that differs, exit 1 if any
#   tests/replay.sh --list DOC.md         print the marked blocks
#   tests/replay.sh --twin DOC.md         check that DOC's Chinese twin
#                                         marks the same blocks the same way
#
# The convention. A transcript is a fenced block (``` to ```) whose
# lines are commands after a prompt, `$ ` (a user) or `# ` (root), each
# followed by what it prints (stdout and stderr, as a terminal shows
# them); `>>: TEXT` is TEXT typed at a client's prompt. A transcript is
# replayed when the line just above its fence is a comment such as
#
#     <!-- replay -->
#     <!-- replay: terminal 1 -->
#     <!-- replay: terminal 2; sed s/ttl=[0-9]+/ttl=N/ -->
#
# and the comment, which Markdown does not show, may carry options,
# separated by `;`:
#   terminal N               terminals, as a README's "terminal 1",
#                            "terminal 2"...: blocks so marked that
#                            follow one another (in any order) are one
#                            replay. Terminal 1's program starts in the
#                            background and is awaited until it says
#                            `listening on`; terminals 2, 3... start in
#                            turn, each once the one before has printed
#                            what its block shows, or has gone quiet
#                            (stage 02's client B waits for A); then
#                            their input ends (Ctrl-D) in the same
#                            order; then terminal 1 gets Ctrl-C if its
#                            block ends with `^C$`, or is awaited if it
#                            ends with `$`. A terminal 1 block that
#                            shows only a log, no `$ COMMAND` line,
#                            names the command (`terminal 1: ./server`).
#   with COMMAND             COMMAND runs in the background while the
#                            block runs (a server the block talks to);
#                            what it prints is not compared
#   sed EXPR                 one more sed -E expression applied to the
#                            document's lines and the replay's alike
#   setup COMMANDS           run first, unseen: what the document says
#                            exists before the block (`&&`, never `;`)
#   tty; passwords P...      the programs read from a terminal: each
#                            `>>: TEXT` is typed once the prompt shows,
#                            and the terminal echoes it, as in the
#                            document; each `password:` prompt gets the
#                            next of P..., unseen; a lone `>>:` is Ctrl-D
#   needs TOOL               the block runs TOOL (nft, say): where it
#                            is missing, the block is skipped, and the
#                            replay says so and exits 77
#   hexdump BYTES            in a hexdump (`0000  45 00 ...  E..(`), the
#                            bytes at these offsets (as 4-5,10-11) vary
#                            from run to run, and are not compared
#   rename REGEX             what REGEX (awk's ERE: no {N}, which mawk
#                            lacks) matches varies from run to run, but
#                            stands for one thing wherever it appears (a
#                            port: who sent to whom): each distinct
#                            match becomes <1>, <2>... in the order it
#                            first appears, in the document and the
#                            replay alike, after the sed expressions
#   user                     the block runs as a user who is not root
#                            (uid 1000 in a user namespace of its own),
#                            not as its namespace's root without any
#                            capability: such a root cannot make a user
#                            namespace (`unshare -r` maps root to root,
#                            which takes CAP_SETFCAP), and tcpdump -r,
#                            run as root, gives root up for user tcpdump,
#                            whom the namespace cannot become
# A line `...` in a block stands for lines left out: the others must
# appear in the replay, in that order. A transcript that cannot be
# replayed says why, in the same place:
#     <!-- not replayed: it needs a bug planted in rawudp.c first -->
# and a block of commands and output with neither comment is an error.
# A fence that names a language (```sh) holds a script to copy, not a
# transcript, and is left alone.
#
# How a block is replayed. Each replay runs in a scratch directory that
# holds links to the programs beside DOC (so `./client` is this stage's
# client), in namespaces of its own (`unshare -rn --pid --fork
# --mount-proc`): a network with nothing but loopback in it, so the
# documents' fixed ports (9001, 9005...) cannot meet another test's,
# and its own process IDs, so `pgrep` sees only the replay's. A block
# with a `# ` prompt or `sudo` in it runs as root there (sudo is a
# script that runs its arguments); any other block runs with no
# privilege at all (setpriv drops every capability), as a user would;
# a block marked `user` runs as a user (uid 1000) all the way.
# A line that opens a root shell in a new network namespace, `sudo
# unshare -n bash`, is what the replay already is: printed, not run.
# Commands run under `script` (a pseudo-terminal), so that stdout is a
# terminal's, but each command's stdin is its `>>:` lines, or nothing.
#
# Before comparing, both sides forget what changes from run to run:
# ports from 30000 up (the kernel picks a client's port from
# 32768-60999), `pid=N`, `id N`, times in ms; a carriage return moves
# back to the start of the line, to be written over, as on a screen
# (a progress line's leftovers show); trailing spaces go.
#
# Needs bash, awk, sed, diff, unshare, setpriv and script (util-linux,
# bsdutils; `user` takes unshare --map-user, util-linux 2.36 or later).
# Exit status: 0 all replayed and equal, 1 a difference or a
# malformed block, 77 when user namespaces are not allowed here, or a
# block was skipped for a missing tool (and all the others were equal).

set -u
LC_ALL=C.UTF-8
export LC_ALL

usage() {
    echo "usage: $0 [--list | --twin] DOC.md [BLOCK_LINE]" >&2
    exit 2
}

mode=replay
case ${1:-} in
--list) mode=list && shift ;;
--twin) mode=twin && shift ;;
-*) usage ;;
esac
if [ $# -lt 1 ] || [ ! -f "$1" ]; then usage; fi
doc=$1
only_line=${2:-}
doc_dir=$(cd "$(dirname "$doc")" && pwd)

# blocks FILE: one record per marked or transcript-like block, fields
# separated by \037, records by \036:
#   LINE OPTIONS(or "-" unmarked, "!" not replayed) CONTENT
# CONTENT is the block's lines without the fence's indentation.
blocks() {
    awk '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    /^ *```/ {
        if (!on) {
            on = 1; start = NR; body = ""; n = 0
            match($0, /^ */); indent = RLENGTH
            # A fence that names a language (```sh) holds a script,
            # not a transcript: its "# " lines are comments.
            mark = ($0 ~ /^ *```[a-z]/) ? "!" : "-"
            if (prev ~ /^ *<!-- replay[: ]?.*-->$/ || prev ~ /^ *<!-- replay -->$/) {
                mark = prev; sub(/^ *<!-- replay:? */, "", mark)
                sub(/ *-->$/, "", mark); mark = "+" mark
            } else if (prev ~ /^ *<!-- not replayed:/) {
                mark = "!"
            }
            prev = $0; next
        }
        on = 0
        printf "%d\037%s\037%s\036", start, mark, body
        prev = $0; next
    }
    on { line = substr($0, indent + 1); body = body line "\n" }
    { prev = $0 }
    ' "$1"
}

# is_transcript CONTENT: a command line followed by a line of output.
is_transcript() {
    awk '/^[$#] / { cmd = 1; next } cmd && !/^[$#]( |$)/ && !/^>>:/ { found = 1 }
         END { exit !found }' <<<"$1"
}

# normalize [SED_EXPR...] < TEXT: what the comparison ignores.
normalize() {
    local args=(-E -e 's/[ \t]+$//'
        -e 's/:[3-6][0-9]{4}\b/:PORT/g'
        -e 's/pid=[0-9]+/pid=PID/g'
        -e 's/\bid [0-9]+/id ID/g'
        -e 's/time=[0-9.]+ ms/time=T ms/g'
        -e 's/= [0-9.]+\/[0-9.]+\/[0-9.]+ ms/= T\/T\/T ms/g')
    local expr
    for expr in "$@"; do args+=(-e "$expr"); done
    # A carriage return takes the cursor back to the start of the
    # line, and what follows is written over what was there (as a
    # terminal shows a redrawn progress line, leftovers and all).
    awk '{
        n = split($0, seg, "\r"); line = ""
        for (i = 1; i <= n; i++)
            line = seg[i] substr(line, length(seg[i]) + 1)
        print line
    }' | sed "${args[@]}"
}

# blank_hexdump OFFSETS < TEXT: replace the hexdump bytes at OFFSETS
# (e.g. 4-5,10-11) and their characters by "??" and "?".
blank_hexdump() {
    awk -v spec="$1" '
    BEGIN {
        n = split(spec, parts, ",")
        for (i = 1; i <= n; i++) {
            if (split(parts[i], r, "-") == 1) r[2] = r[1]
            for (o = r[1] + 0; o <= r[2] + 0; o++) hide[o] = 1
        }
    }
    /^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  [0-9a-f][0-9a-f] / {
        base = 0
        for (d = 1; d <= 4; d++)
            base = base * 16 + index("0123456789abcdef", substr($0, d, 1)) - 1
        for (k = 0; k < 16; k++) {
            if (!((base + k) in hide)) continue
            hex = 7 + 3 * k
            if (substr($0, hex, 2) !~ /^[0-9a-f][0-9a-f]$/) continue
            $0 = substr($0, 1, hex - 1) "??" substr($0, hex + 2)
            chr = 56 + k
            if (length($0) >= chr)
                $0 = substr($0, 1, chr - 1) "?" substr($0, chr + 1)
        }
    }
    { print }'
}

# rename_matches REGEX < TEXT: each distinct text that REGEX matches
# becomes <1>, <2>... in the order it first appears (nothing to do
# when REGEX is empty).
rename_matches() {
    [ -n "$1" ] || { cat && return; }
    RENAME=$1 awk '{
        line = ""
        while (match($0, ENVIRON["RENAME"]) && RLENGTH > 0) {
            key = substr($0, RSTART, RLENGTH)
            if (!(key in name)) name[key] = "<" ++n ">"
            line = line substr($0, 1, RSTART - 1) name[key]
            $0 = substr($0, RSTART + RLENGTH)
        }
        print line $0
    }'
}

# option NAME OPTIONS: print the value of option NAME ("" if absent,
# "yes" if present without a value); status 1 if absent.
option() {
    local name=$1 opt list
    IFS=';' read -r -a list <<<"$2"
    for opt in "${list[@]}"; do
        opt=${opt# }
        opt=${opt% }
        case $opt in
        "$name") echo yes && return 0 ;;
        "$name "* | "$name:"*)
            opt=${opt#"$name"}
            opt=${opt#:}
            echo "${opt# }" && return 0
            ;;
        esac
    done
    return 1
}

# expected CONTENT [tty]: the lines a replay must print: typed input
# dropped, unless the block was replayed on a terminal (tty), which
# shows it.
expected() {
    if [ "${2:-}" = tty ]; then
        printf '%s\n' "$1"
    else
        grep -v '^>>:' <<<"$1"
    fi
}

# privileged CONTENT...: does any block say `# ` or sudo?
privileged() {
    printf '%s\n' "$@" | grep -qE '^# |^\$ (.*\W)?sudo ' 
}

# feeder INPUT WATCH: type INPUT's lines, each once WATCH (what the
# program has printed) shows one more prompt (">>: " or "password: ");
# a line of one \004 is Ctrl-D.
feeder() {
    local line k=0 i
    while IFS= read -r line; do
        k=$((k + 1))
        for i in $(seq 500); do
            [ "$(grep -o '>>: \|password: ' "$2" | wc -l)" -ge "$k" ] && break
            sleep 0.02
        done
        if [ "$line" = $'\004' ]; then printf '\004'; else printf '%s\n' "$line"; fi
    done <"$1"
}

# gen_commands CONTENT DIR T LIVE: write DIR/cmds.T.sh, which prints and
# runs terminal T's commands, each with its typed input (DIR/in.T.N) on
# stdin. LIVE=1 (several terminals): the input stays open after the
# typed lines until DIR/close.T exists (the Ctrl-D), so that this
# terminal's client stays connected while the next terminal's runs.
gen_commands() {
    local content=$1 dir=$2 t=$3 live=$4 n=0 line cmd=""
    local out="$dir/cmds.$t.sh" tty=0 passwords=()
    if [ -f "$dir/tty.$t" ]; then
        tty=1
        read -r -a passwords <"$dir/tty.$t"
    fi
    : >"$out"
    ((tty)) && declare -f feeder >>"$out"
    # With a program in the background (terminal 1, or `with`), each
    # command after the first waits until its log has been still for
    # 0.2 s, as a person reads the screen before typing: stage 01's
    # server has then had the time to exit, as its block shows.
    if [ -f "$dir/bg" ]; then
        printf 'log=%q\n' "$dir/out.1"
        cat <<'EOF'
pause() {
    local last= now i
    for i in $(seq 50); do
        now=$(wc -c <"$log" 2>/dev/null)
        [ "$now" = "$last" ] && [ "$i" -gt 2 ] && return
        last=$now
        sleep 0.1
    done
}
EOF
    else
        echo 'pause() { :; }'
    fi >>"$out"
    flush() {
        [ -n "$cmd" ] || return 0
        local body=${cmd:2} input="$dir/in.$t.$n"
        ((n > 1)) && echo pause >>"$out"
        printf 'printf "%%s\\n" %q\n' "$cmd" >>"$out"
        if [[ $body =~ ^(sudo\ )?unshare\ -n\ (ba)?sh$ ]]; then
            : # the replay is that shell already
        elif ((tty)) && [ -f "$input" ]; then
            # On a terminal of its own: each line is typed once the
            # program has shown one more prompt.
            local fifo="$dir/fifo.$t.$n" watch="$dir/watch.$t.$n"
            mkfifo "$fifo" && : >"$watch"
            printf 'feeder %q %q >%q &
' "$input" "$watch" "$fifo" >>"$out"
            printf 'script -qfec %q /dev/null <%q | tee -a %q
wait
' \
                "$body" "$fifo" "$watch" >>"$out"
        elif ((live)); then
            [ -f "$input" ] || : >"$input"
            printf '{ cat %q; for i in $(seq 400); do [ -e %q ] && break; sleep 0.05; done; } | { %s\n}\n' \
                "$input" "$dir/close.$t" "$body" >>"$out"
        elif [ -f "$input" ]; then
            printf '{ %s\n} <%q\n' "$body" "$input" >>"$out"
        else
            printf '{ %s\n} </dev/null\n' "$body" >>"$out"
        fi
        cmd=""
    }
    while IFS= read -r line; do
        case $line in
        '$ '* | '# '*)
            flush
            n=$((n + 1))
            cmd=$line
            ;;
        '>>: '*) printf '%s\n' "${line#>>: }" >>"$dir/in.$t.$n" ;;
        '>>:') ((tty)) && printf '\004\n' >>"$dir/in.$t.$n" ;;
        'password:')
            if ((tty)); then
                printf '%s\n' "${passwords[0]:-}" >>"$dir/in.$t.$n"
                passwords=("${passwords[@]:1}")
            fi
            ;;
        esac
    done <<<"$content"
    flush
}

# replay_group DIR PRIV: run one replay in its namespaces. DIR holds
# block.T (terminal T's block; a lone block is terminal 2), and maybe
# bg (the command of terminal 1, or of `with`) and bg.stop (int: Ctrl-C
# and print ^C$, wait: await its exit and print $, quiet: Ctrl-C). It
# writes DIR/out.T, what each terminal printed.
replay_group() {
    local dir=$1 priv=$2 prog t
    local scratch="$dir/scratch"
    mkdir -p "$scratch" "$dir/bin"
    for prog in "$doc_dir"/*; do
        [ -f "$prog" ] && [ -x "$prog" ] && ln -s "$prog" "$scratch/"
    done
    printf '#!/bin/sh\nexec "$@"\n' >"$dir/bin/sudo"
    chmod +x "$dir/bin/sudo"
    local terms=() live=0
    for t in 2 3 4 5 6 7 8 9; do [ -f "$dir/block.$t" ] && terms+=("$t"); done
    ((${#terms[@]} > 1)) && live=1
    for t in "${terms[@]}"; do
        gen_commands "$(cat "$dir/block.$t")" "$dir" "$t" "$live"
    done

    local bg="" stop=""
    [ -f "$dir/bg" ] && bg=$(cat "$dir/bg") && stop=$(cat "$dir/bg.stop")
    {
        printf 'cd %q || exit 1\n' "$scratch"
        printf 'export PATH=%q:$PATH\n' "$dir/bin"
        printf 'out=%q\n' "$dir/out"
        [ ! -s "$dir/setup" ] || cat "$dir/setup"
        # settle WANT: wait (5 s at most) until out.T holds WANT lines,
        # or until no terminal has printed anything for 0.3 s.
        cat <<'EOF'
settle() {
    local last= now i
    for i in $(seq 50); do
        [ -n "$2" ] && [ "$(cat "$2" 2>/dev/null | wc -l)" -ge "$1" ] && return
        now=$(cat "$out".* 2>/dev/null | wc -c)
        [ "$now" = "$last" ] && [ "$i" -gt 3 ] && return
        last=$now
        sleep 0.1
    done
}
EOF
        if [ -n "$bg" ]; then
            # A simple command, so that $! is the program's own PID.
            printf '%s </dev/null >"$out.1" 2>&1 &\n' "$bg"
            echo 'bg_pid=$!'
            # Its first line, or the line a server prints when it is ready.
            echo 'for i in $(seq 100); do grep -q "^listening on" "$out.1" 2>/dev/null && break; [ -s "$out.1" ] && [ $i -gt 10 ] && break; sleep 0.05; done'
        fi
        # Each terminal's stdout is a terminal's, as in the document.
        for t in "${terms[@]}"; do
            printf 'script -qec %q /dev/null </dev/null >"$out.%s" 2>&1' \
                "bash $(printf %q "$dir/cmds.$t.sh")" "$t"
            if ((live)); then
                printf ' &\npid_%s=$!\n' "$t"
                printf 'settle %s "$out.%s"\n' \
                    "$(expected "$(cat "$dir/block.$t")" | grep -c .)" "$t"
            else
                echo
            fi
        done
        if ((live)); then
            for t in "${terms[@]}"; do
                printf 'touch %q; wait $pid_%s; settle\n' "$dir/close.$t" "$t"
            done
        fi
        if [ -n "$bg" ]; then
            # Before a Ctrl-C, let terminal 1 print what the last terminal's
            # requests made it print (a server's log line may come a moment
            # after the client has exited).
            [ "$stop" = wait ] || echo 'settle; kill -INT "$bg_pid" 2>/dev/null'
            echo 'for i in $(seq 100); do kill -0 "$bg_pid" 2>/dev/null || break; sleep 0.05; done'
            echo 'kill -KILL "$bg_pid" 2>/dev/null && echo "(still running after 5 s: killed)" >>"$out.1"'
            case $stop in
            int) printf 'echo %q >>"$out.1"\n' '^C$' ;;
            wait) printf 'echo %q >>"$out.1"\n' '$' ;;
            esac
        fi
    } >"$dir/run.sh"
    local drop=()
    if [ "$priv" = no ] && [ -f "$dir/user" ]; then
        # A user: the replay's root maps itself to uid 1000 in a user
        # namespace of its own, and uid 1000 has no capability there.
        drop=(unshare --user --map-user=1000 --map-group=1000)
    elif [ "$priv" = no ]; then
        drop=(setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all)
    fi
    timeout 60 unshare -rn --pid --fork --mount-proc sh -c \
        'ip link set lo up && exec "$@"' sh \
        "${drop[@]}" bash "$dir/run.sh" </dev/null >"$dir/script.out" 2>&1
}

main_list() {
    local line mark content
    while IFS=$'\037' read -r -d $'\036' line mark content; do
        [ "$mark" = - ] && continue
        printf '%s:%s: %s\n' "$doc" "$line" "$mark"
    done < <(blocks "$doc")
}

main_twin() {
    local twin="${doc%.md}.zh-CN.md"
    [ -f "$twin" ] || { echo "$doc has no twin ($twin)" >&2 && return 1; }
    local ea eb
    ea=$(blocks "$doc" | awk 'BEGIN { RS = "\036"; FS = "\037" } $2 != "-" { print $2; print $3 }')
    eb=$(blocks "$twin" | awk 'BEGIN { RS = "\036"; FS = "\037" } $2 != "-" { print $2; print $3 }')
    if [ "$ea" != "$eb" ]; then
        echo "$twin does not mark its transcripts as $doc does (- English, + twin):" >&2
        diff -u <(printf '%s\n' "$ea") <(printf '%s\n' "$eb") | tail -n +3 >&2
        return 1
    fi
}

# terminal_of OPTIONS: the terminal number a block's options name, or
# nothing.
terminal_of() {
    local t
    t=$(option terminal "$1") || return 0
    echo "${t%%[!0-9]*}"
}

main_replay() {
    if ! unshare -rn true 2>/dev/null; then
        echo "$0: user namespaces are not allowed here (unshare -rn)" >&2
        exit 77
    fi
    local work
    work=$(mktemp -d "${TMPDIR:-/tmp}/replay.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT

    local lines=() marks=() contents=() line mark content
    while IFS=$'\037' read -r -d $'\036' line mark content; do
        lines+=("$line")
        marks+=("$mark")
        contents+=("$content")
    done < <(blocks "$doc")

    # Groups: a marked block alone, or a run of blocks marked terminal
    # N that follow one another (a terminal seen twice starts a new run).
    local i errors=0 groups=() run="" seen=" " t
    for i in "${!lines[@]}"; do
        mark=${marks[i]}
        case $mark in
        -)
            if is_transcript "${contents[i]}"; then
                echo "$doc:${lines[i]}: a block of commands and output with" \
                    "neither <!-- replay --> nor <!-- not replayed: WHY --> above it" >&2
                errors=$((errors + 1))
            fi
            continue
            ;;
        '!') continue ;;
        esac
        t=$(terminal_of "${mark#+}")
        if [ -n "$run" ] && { [ -z "$t" ] || [[ $seen == *" $t "* ]]; }; then
            groups+=("$run") && run="" && seen=" "
        fi
        if [ -n "$t" ]; then
            run="${run:+$run }$i"
            seen="$seen$t "
        else
            groups+=("$i")
        fi
    done
    [ -z "$run" ] || groups+=("$run")

    # Start every replay at once: most of their time is spent waiting
    # (ping's second, the client's timeouts), not computing.
    local g k pids=() dirs=() members skipped=0
    for g in "${!groups[@]}"; do
        read -r -a members <<<"${groups[g]}"
        if [ -n "$only_line" ]; then
            local hit=0
            for k in "${members[@]}"; do [ "${lines[k]}" = "$only_line" ] && hit=1; done
            ((hit)) || continue
        fi
        local dir="$work/$g" priv=no all="" with tool missing=""
        for k in "${members[@]}"; do
            tool=$(option needs "${marks[k]#+}") || continue
            command -v "$tool" >/dev/null || missing=$tool
        done
        if [ -n "$missing" ]; then
            echo "$doc:${lines[members[0]]}: skipped: it needs $missing, which is not installed" >&2
            skipped=$((skipped + 1))
            continue
        fi
        mkdir -p "$dir"
        for k in "${members[@]}"; do
            t=$(terminal_of "${marks[k]#+}")
            t=${t:-2}
            printf '%s' "${contents[k]}" >"$dir/block.$t"
            option setup "${marks[k]#+}" >>"$dir/setup"
            option user "${marks[k]#+}" >/dev/null && : >"$dir/user"
            if option tty "${marks[k]#+}" >/dev/null; then
                { option passwords "${marks[k]#+}" || echo; } >"$dir/tty.$t"
            fi
            all+="${contents[k]}"
            if [ "$t" = 1 ]; then
                local first tail_line
                first=$(sed -n '1s/^[$#] //p' <<<"${contents[k]}")
                tail_line=$(grep -v '^$' <<<"${contents[k]}" | tail -n 1)
                if [ -z "$first" ]; then # a log only: the option names it
                    option terminal "${marks[k]#+}" | sed -E 's/^1:? *//' >"$dir/bg"
                    echo quiet >"$dir/bg.stop"
                else
                    echo "$first" >"$dir/bg"
                    case $tail_line in
                    '^C$' | '^C') echo int ;;
                    '$') echo wait ;;
                    *) echo quiet ;; # the block shows a part of its log
                    esac >"$dir/bg.stop"
                fi
            elif with=$(option with "${marks[k]#+}"); then
                echo "$with" >"$dir/bg"
                echo quiet >"$dir/bg.stop"
            fi
        done
        privileged "$all" && priv=yes
        replay_group "$dir" "$priv" &
        pids+=($!)
        dirs+=("$g")
    done
    for k in "${pids[@]}"; do wait "$k"; done

    for g in "${dirs[@]}"; do
        read -r -a members <<<"${groups[g]}"
        local dir="$work/$g"
        for k in "${members[@]}"; do
            local opts=${marks[k]#+} seds=() hex rename expect actual excerpt=0 o opt
            t=$(terminal_of "$opts")
            t=${t:-2}
            if [ "$t" = 1 ] && ! grep -q '^[$#] ' <<<"${contents[k]}"; then
                excerpt=1
            fi
            # A line "..." stands for lines left out: the others must
            # appear, in order.
            grep -qx '\.\.\.' <<<"${contents[k]}" && excerpt=1
            local tty=""
            option tty "$opts" >/dev/null && tty="tty"
            IFS=';' read -r -a o <<<"$opts"
            for opt in "${o[@]}"; do
                opt=${opt# }
                opt=${opt% }
                case $opt in "sed "*) seds+=("${opt#sed }") ;; esac
            done
            hex=$(option hexdump "$opts") || hex=""
            rename=$(option rename "$opts") || rename=""
            if [ "$t" = 1 ] && grep -q '^[$#] ' <<<"${contents[k]}"; then
                # The document shows the command line: so does the replay.
                actual=$(head -n 1 <<<"${contents[k]}" && cat "$dir/out.1" 2>/dev/null)
            else
                actual=$(cat "$dir/out.$t" 2>/dev/null)
            fi
            expect=$(expected "${contents[k]}" $tty | grep -vx '\.\.\.' | normalize "${seds[@]}" |
                blank_hexdump "$hex" | rename_matches "$rename")
            actual=$(normalize "${seds[@]}" <<<"$actual" | blank_hexdump "$hex" | rename_matches "$rename")
            if ((excerpt)); then
                local missing
                missing=$(awk 'NR == FNR { want[++n] = $0; next }
                    i < n && $0 == want[i + 1] { i++ }
                    END { for (j = i + 1; j <= n; j++) print want[j] }' \
                    <(printf '%s\n' "$expect") <(printf '%s\n' "$actual"))
                [ -z "$missing" ] && continue
                echo "$doc:${lines[k]}: these lines are not in the replay's log, in this order:" >&2
                printf '  %s\n' "$missing" >&2
                echo "the replay's log:" >&2
                printf '  %s\n' "$actual" >&2
            else
                [ "$expect" = "$actual" ] && continue
                echo "$doc:${lines[k]}: the replay differs from the document (- document, + replay):" >&2
                diff -u <(printf '%s\n' "$expect") <(printf '%s\n' "$actual") | tail -n +3 >&2
            fi
            [ -s "$dir/script.out" ] && sed 's/^/  (replay) /' "$dir/script.out" >&2
            errors=$((errors + 1))
        done
    done
    ((errors == 0)) || return 1
    ((skipped == 0)) || return 77
}

case $mode in
list) main_list ;;
twin) main_twin ;;
replay) main_replay ;;
esac
