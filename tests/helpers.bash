# tests/helpers.bash - the tools every stage's tests share.
#
# Load it at the top level of a .bats file (not inside setup):
#     load helpers
#     STAGE_DIR="$TOP/02_persistent_server"
#
# What it gives a test:
#   start_server [--nofile N] [--closed-fds] PROG [ARG...]
#                                start a server on port 0 (pass 0 as its
#                                port); sets SERVER_PID, SERVER_PORT,
#                                SERVER_LOG
#   start_with_acceptfail MODE PROG [ARG...]
#                                start_server under tests/acceptfail.so:
#                                the first accept() fails as MODE says
#   with_timeout SECS CMD...     run CMD, killed if it outlives SECS
#   run_client ARG...            $STAGE_DIR/client under with_timeout
#   tcp_open HOST PORT           raw connection via bash's /dev/tcp; sets
#                                TCP_FD
#   with_fd_closed FD SECS CMD...  with_timeout, and fd FD (0-2) closed
#   wait_until SECS CMD...       poll until CMD succeeds (bounded)
#   wait_for_line FILE REGEX SECS
#   log_count REGEX, log_reaches N REGEX   lines of $SERVER_LOG
#   wait_for_exit PID SECS       sets EXIT_STATUS
#   stop_process PID             TERM, then KILL if it lingers
#   fd_count PID, proc_status PID FIELD, cpu_ticks PID, child_pids PID,
#   zombie_count PID, have_ipv6, random_file PATH BYTES, fail MESSAGE...
#   skip_under VARIANT REASON    skip the test under that make check
#                                variant, for one that cannot work there
#   _need_shortio, SHORTIO_LIB   the short-I/O shim, for a test that
#                                preloads it (skips where it cannot)
#   foreign_server, foreign_client   is a program of another's under test?
#   needs_our_server REASON, needs_our_client REASON
#                                skip the test, with REASON, when it is
#                                (a test that needs our program's log
#                                lines, /proc facts, shims or options)
# and a teardown that stops every process the test started, by PID,
# and prints the end of each server log when the test failed.
#
# Environment: TIMEOUT_SCALE multiplies every time limit (for slow
# builds such as valgrind); SERVER_WRAPPER and CLIENT_WRAPPER are put in
# front of every server and client the tests start (e.g. "valgrind -q");
# SERVER_WRAPPER_FDS is how many file descriptors the server wrapper
# keeps for itself (valgrind: 12), added to every --nofile limit so
# that the server still gets N; SERVER_RUNTIME_THREADS is how many
# threads a sanitizer's runtime may add to a server that starts threads
# (ThreadSanitizer: 1); CHECK_VARIANT names the make check variant
# running the tests (asan, tsan, valgrind, shortio), for skip_under.
# make check sets them (see check/run).
#
# FOREIGN_SERVER and FOREIGN_CLIENT (make test SERVER='COMMAND' and
# CLIENT='COMMAND' set them) put a program of one's own, in any
# language, in place of the stage's server or client: see
# start_server and run_client. COMMAND is a bash command line, run in
# FOREIGN_DIR (make sets it: the directory make ran in).

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# make test runs bats from make: a make that a test runs must not take
# itself for a sub-make of that one (it would print "Entering
# directory" lines, and share its flags).
unset MAKELEVEL MAKEFLAGS MFLAGS
TIMEOUT_SCALE="${TIMEOUT_SCALE:-1}"
read -r -a _server_wrapper <<<"${SERVER_WRAPPER:-}"
read -r -a _client_wrapper <<<"${CLIENT_WRAPPER:-}"
FOREIGN_SERVER=${FOREIGN_SERVER:-}
FOREIGN_CLIENT=${FOREIGN_CLIENT:-}
FOREIGN_DIR=${FOREIGN_DIR:-$TOP}

# wrapper_of PROGRAM: set WRAP to the wrapper words for that program of
# the stage, for tests that start it themselves: the server wrapper for
# a server (its name starts with "server"), the client wrapper for the
# rest. Usage: wrapper_of client; run with_timeout 5 "${WRAP[@]}" ...
wrapper_of() {
    case $1 in
    server*) WRAP=("${_server_wrapper[@]}") ;;
    *) WRAP=("${_client_wrapper[@]}") ;;
    esac
}

# setpriv --pdeathsig KILL: the kernel kills a server if the test process
# that started it dies without running teardown, so no server outlives
# the suite. (Where setpriv is missing, teardown alone stops them.)
_pdeathsig=()
if setpriv --pdeathsig KILL true 2>/dev/null; then
    _pdeathsig=(setpriv --pdeathsig KILL)
fi

_test_pids=() # every background process this test started
_test_logs=() # every server log this test made

# fail MESSAGE...: say what is wrong, and fail. The message starts with
# "=> ", so that it stands out among bats' lines and the server's log
# (labs/grade.sh shows the first such line of a failed test).
fail() {
    printf '=> %s%s\n' "$*" "$(_server_gone_note)" >&2
    return 1
}

# When the server under test has died, that is likely why the test
# failed, and its last line says why it died: fail() adds them.
_server_gone_note() {
    [ -n "${SERVER_PID:-}" ] && [ -f "${SERVER_LOG:-}" ] || return 0
    # (A server the test stopped itself is no news.)
    [[ " ${_test_pids[*]} " == *" $SERVER_PID "* ]] || return 0
    is_gone "$SERVER_PID" || return 0
    printf " (the server has exited; its last line: '%s')" \
        "$(tail -n 1 "$SERVER_LOG" | cut -c 1-160)"
}

# stub_note: the line of the server's log that says a lab's stub ran
# ("... is not written yet"), as " (its log: '...')", to end a message
# with; nothing when there is none.
stub_note() {
    local said
    [ -f "${SERVER_LOG:-}" ] || return 0
    said=$(grep -m 1 'not written yet' "$SERVER_LOG") || return 0
    printf " (its log: '%s')" "$said"
}

# skip_under VARIANT REASON: skip this test when make check runs the
# suite under VARIANT (see CHECK_VARIANT above), saying why.
skip_under() {
    [ "${CHECK_VARIANT:-}" != "$1" ] || skip "$2 (make check-$1)"
}

# The short-I/O shim (tests/shortio.c, built by make tools): every read
# and write on a TCP socket moves at most SHORTIO_MAX_BYTES, and every
# 4th call fails with EINTR, as on a slow network with signals about.
# A test preloads it: env LD_PRELOAD="$SHORTIO_LIB" PROGRAM.
SHORTIO_LIB="$TOP/tests/shortio.so"

# _need_shortio: skip the test under a make check variant whose wrapper
# stands in the shim's place; fail it if the shim is not built.
_need_shortio() {
    # make check-asan's programs take the shim too: a memory error that
    # only short reads or writes reach (a kept echo moved wrongly, a
    # line buffer filled in pieces) shows there. (ASan's runtime is
    # linked into clang's programs, so it comes first all the same; gcc's
    # is a library, and check/run lets it start behind a preload.)
    case ${CHECK_VARIANT:-} in
    "" | asan) ;;
    *) skip "make check-$CHECK_VARIANT runs its own wrapper, not the shim" ;;
    esac
    [ -f "$SHORTIO_LIB" ] ||
        fail "tests/shortio.so is not built: run make tools (make test does)"
}

# foreign_server, foreign_client: is the program under test one of
# another's (make test SERVER=... or CLIENT=...), not the stage's own?
foreign_server() {
    [ -n "$FOREIGN_SERVER" ]
}

foreign_client() {
    [ -n "$FOREIGN_CLIENT" ]
}

# needs_our_server REASON: skip this test, saying REASON, when the
# server under test is a foreign one. For what only our server does
# or shows: its log lines, its threads in /proc, a library put in
# front of it, its options and messages.
needs_our_server() {
    ! foreign_server || skip "needs our server: $*"
}

needs_our_client() {
    ! foreign_client || skip "needs our client: $*"
}

scaled() {
    echo $(($1 * TIMEOUT_SCALE))
}

# with_timeout SECS CMD...: run CMD; kill it (TERM, then KILL 2 s later)
# if it runs longer than SECS. Exit status 124 means it timed out.
# bats' own BATS_TEST_TIMEOUT does not stop a command under `run`.
with_timeout() {
    local secs
    secs=$(scaled "$1")
    shift
    timeout --kill-after=2 "$secs" "$@"
}

# with_fd_closed FD SECS CMD...: with_timeout SECS CMD, with CMD started
# with file descriptor FD closed, as `CMD <&-` (FD 0) or `CMD >&-` (FD 1)
# would start it. (Not `run CMD <&-`: the pipe from which run reads the
# output would take the free fd 0.)
with_fd_closed() {
    local fd=$1 secs=$2
    shift 2
    with_timeout "$secs" sh -c "exec \"\$@\" $fd>&-" sh "$@"
}

# wait_until SECS CMD...: run CMD every 50 ms until it succeeds; fails if
# it has not succeeded within SECS.
wait_until() {
    local tries=$(($(scaled "$1") * 20))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

_print_line_matching() { # FILE REGEX
    grep -m 1 -E -- "$2" "$1" 2>/dev/null
}

# wait_for_line FILE REGEX SECS: wait until FILE has a line matching the
# extended REGEX, and print that line.
wait_for_line() {
    wait_until "$3" _print_line_matching "$1" "$2" >/dev/null &&
        _print_line_matching "$1" "$2"
}

# log_count REGEX: how many lines of $SERVER_LOG match the extended REGEX.
log_count() {
    grep -cE -- "$1" "$SERVER_LOG" || true
}

# log_reaches N REGEX: has $SERVER_LOG at least N lines matching REGEX?
log_reaches() {
    [ "$(log_count "$2")" -ge "$1" ]
}

# start_server [--nofile N] [--closed-fds] PROG [ARG...]: start PROG in
# the background, its stdout and stderr in $SERVER_LOG, and wait for its
# "listening on ADDR:PORT" line. Sets SERVER_PID and SERVER_PORT.
# --nofile N limits it to N open file descriptors (prlimit). --closed-fds
# starts it with stdin and stderr closed (stdout still goes to the log).
# fds 3 and 4 are closed in the server, or bats would wait for it to
# exit before finishing.
start_server() {
    if foreign_server; then
        _start_foreign_server "$@"
        return
    fi
    local limit=() closed_fds=0
    if [ "$1" = --nofile ]; then
        local nofile=$(($2 + ${SERVER_WRAPPER_FDS:-0}))
        limit=(prlimit --nofile="$nofile:$nofile")
        shift 2
    fi
    if [ "$1" = --closed-fds ]; then
        closed_fds=1
        shift
    fi
    [ -x "$1" ] || fail "$1 is not built: run make first" || return 1
    # server_fork.0.log: each log is named after its program
    SERVER_LOG="$BATS_TEST_TMPDIR/${1##*/}.${#_test_logs[@]}.log"
    _test_logs+=("$SERVER_LOG")
    if ((closed_fds)); then
        "${_pdeathsig[@]}" "${limit[@]}" "${_server_wrapper[@]}" "$@" \
            <&- >"$SERVER_LOG" 2>&- 3>&- 4>&- &
    else
        "${_pdeathsig[@]}" "${limit[@]}" "${_server_wrapper[@]}" "$@" \
            </dev/null >"$SERVER_LOG" 2>&1 3>&- 4>&- &
    fi
    SERVER_PID=$!
    _test_pids+=("$SERVER_PID")

    wait_until 10 _listening_or_gone ||
        fail "server $1 printed no 'listening on' line within" \
            "$(scaled 10) s" || return 1
    local line
    line=$(_print_line_matching "$SERVER_LOG" '^listening on ') ||
        fail "server $1 exited before listening:" "$(cat "$SERVER_LOG")" ||
        return 1
    SERVER_PORT=${line##*:}
}

# _start_foreign_server ARGS...: start_server for FOREIGN_SERVER. It
# stands in for the stage's own server (PROG "$STAGE_DIR/server") started
# with its port last, "-d ROOT" and "-u USERS" before it: {port} in
# the command becomes that port (a free one, chosen here, for 0),
# {root} ROOT and {users} USERS. A test that starts our server any
# other way (another program, a wrapper, a library, a limit, another
# option) needs our server: it skips, saying how it starts it.
# A prefix that runs it in a network namespace (nsenter ...) is kept.
# A foreign server need print nothing: it is ready once a socket is
# bound to the port (TCP listening, or UDP), which ss shows without
# connecting (stage 01's server serves one client alone); the port was
# free just before, and no client takes a port of that range.
_start_foreign_server() {
    local prog=$1 root='' users='' port cmd
    _foreign_netns=()
    if [[ $prog == */nsenter ]]; then # in a network namespace of the test's
        while (($# > 0)) && [ "$1" != "$STAGE_DIR/server" ]; do
            _foreign_netns+=("$1")
            shift
        done
        prog=${1:-}
    fi
    case $prog in
    --nofile) needs_our_server "it limits the server's file descriptors" ;;
    --closed-fds) needs_our_server "it starts the server with fds 0-2 closed" ;;
    "$STAGE_DIR/server") ;;
    "$STAGE_DIR"/*) needs_our_server "it starts our ${prog##*/}" ;;
    *) _needs_ours_under "$@" ;;
    esac
    ((${#_server_wrapper[@]} == 0)) || _needs_ours_under "${_server_wrapper[@]}"
    shift
    while (($# > 1)); do
        case $1 in
        -d) root=$2 ;;
        -u) users=$2 ;;
        *) needs_our_server "it starts the server with the option $1" ;;
        esac
        shift 2
    done
    port=$1
    command -v ss >/dev/null ||
        skip "ss (iproute2) is not installed: it shows when a foreign server listens"
    if [ "$port" = 0 ]; then
        port=$(free_port) || fail "found no free port to give the server" ||
            return 1
    fi
    cmd=${FOREIGN_SERVER//\{port\}/$port}
    cmd=${cmd//\{root\}/$(printf %q "$root")}
    cmd=${cmd//\{users\}/$(printf %q "$users")}
    SERVER_LOG="$BATS_TEST_TMPDIR/foreign.${#_test_logs[@]}.log"
    _test_logs+=("$SERVER_LOG")
    # bash runs a simple command by exec: its PID is the program's.
    (cd "$FOREIGN_DIR" &&
        exec "${_pdeathsig[@]}" "${_foreign_netns[@]}" bash -c "$cmd") \
        </dev/null >"$SERVER_LOG" 2>&1 3>&- 4>&- &
    SERVER_PID=$!
    _test_pids+=("$SERVER_PID")
    SERVER_PORT=$port
    wait_until 10 _bound_or_gone "$port" ||
        fail "the server ($cmd) did not listen on port $port within" \
            "$(scaled 10) s" || return 1
    is_running "$SERVER_PID" ||
        fail "the server ($cmd) exited before it listened on port $port:" \
            "$(tail -n 5 "$SERVER_LOG")"
}

# start_with_acceptfail MODE PROG [ARG...]: start_server PROG under
# tests/acceptfail.so (LD_PRELOAD), which makes the first accept() that
# meets a client fail as MODE says: ENETUNREACH (an error of the new
# connection, to be retried), EINTR, ENFILE or SIGCHLD (ENETUNREACH
# while a child exits); see tests/acceptfail.c. Fails when the library
# is not built. A foreign server skips the test (start_server says why).
start_with_acceptfail() {
    local shim="$TOP/tests/acceptfail.so" mode_env=()
    case $1 in
    ENETUNREACH) ;; # the library's default: no ACCEPTFAIL
    EINTR | ENFILE | SIGCHLD) mode_env=(ACCEPTFAIL="$1") ;;
    *) fail "start_with_acceptfail: tests/acceptfail.c has no mode '$1'" ||
        return 1 ;;
    esac
    shift
    [ -f "$shim" ] ||
        fail "tests/acceptfail.so is not built: make test builds it" ||
        return 1
    start_server "$(command -v env)" LD_PRELOAD="$shim" "${mode_env[@]}" "$@"
}

# server_side [STATE]: the server's ends of the TCP connections to
# SERVER_PORT, a line each (ss; STATE: established, or connected, the
# default: any state but listening and closed). What a test sees of a
# foreign server's clients, which writes no log of ours.
server_side() {
    ss -Htn state "${1:-connected}" "( sport = :$SERVER_PORT )" 2>/dev/null
}

# server_closed_or_gone: the server has closed its end of every
# connection to its port (or has exited).
server_closed_or_gone() {
    is_gone "$SERVER_PID" || [ -z "$(server_side)" ]
}

# connected_count: how many clients the server has taken: the lines
# "PEER connected" in its log; of a foreign server, the connections to
# its port that are established now.
connected_count() {
    if foreign_server; then
        server_side established | wc -l
    else
        log_count ' connected$'
    fi
}

connected_reaches() { # N
    [ "$(connected_count)" -ge "$1" ]
}

_needs_ours_under() { # PROG ARG...: the reason a wrapper needs our server
    local arg
    for arg in "$@"; do
        [[ $arg != LD_PRELOAD=* ]] ||
            needs_our_server "it puts ${arg#*=$TOP/} in front of it (LD_PRELOAD)"
    done
    needs_our_server "it starts it under $(_args_note "$@")"
}

_args_note() { # ARG...: the first words, for a message
    local words="$*"
    words=${words//$TOP\//}
    ((${#words} <= 60)) || words="${words:0:57}..."
    printf '%s' "$words"
}

# free_port: a port no socket uses (TCP or UDP, any state), below the
# range the kernel hands to clients, so that no client takes it meanwhile.
free_port() {
    local low=32768 port tries=100
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
    while ((tries-- > 0)); do
        port=$((10000 + RANDOM % (low - 10000)))
        [ -z "$(ss -Hantu "( sport = :$port )" 2>/dev/null)" ] || continue
        echo "$port"
        return 0
    done
    return 1
}

# _bound_or_gone PORT: the server has a socket bound to PORT (listening
# TCP, or UDP), or it has exited.
_bound_or_gone() {
    is_gone "$SERVER_PID" ||
        [ -n "$("${_foreign_netns[@]}" ss -Hlntu "( sport = :$1 )" 2>/dev/null)" ]
}

_listening_or_gone() {
    _print_line_matching "$SERVER_LOG" '^listening on ' >/dev/null ||
        is_gone "$SERVER_PID"
}

# run_client ARG...: run this stage's client with a time limit. A
# foreign client (FOREIGN_CLIENT) runs instead, in FOREIGN_DIR: {host}
# and {port} in its command become the first two ARGs (HOST PORT), or,
# without them, ARG... follow the command.
run_client() {
    if foreign_client; then
        local cmd=$FOREIGN_CLIENT
        if [[ $cmd == *"{port}"* || $cmd == *"{host}"* ]]; then
            cmd=${cmd//\{host\}/$(printf %q "$1")}
            cmd=${cmd//\{port\}/$(printf %q "$2")}
            set --
        fi
        (cd "$FOREIGN_DIR" && with_timeout 20 bash -c "$cmd \"\$@\"" client "$@")
        return
    fi
    with_timeout 20 "${_client_wrapper[@]}" "$STAGE_DIR/client" "$@"
}

# tcp_open HOST PORT: connect with bash's /dev/tcp, without our client;
# the connection's fd is in TCP_FD. Close it with tcp_close "$TCP_FD".
tcp_open() {
    { exec {TCP_FD}<>"/dev/tcp/$1/$2"; } 2>/dev/null ||
        fail "could not connect to $1 port $2"
}

tcp_close() {
    local fd=$1
    exec {fd}>&-
}

# server_survived WHAT: the server under test is still running after
# WHAT (a client's reset, kill, garbage...), which must end that client
# alone; else the test fails, saying so.
server_survived() {
    is_running "$SERVER_PID" ||
        fail "the server exited after $1: that must end the one client," \
            "not the server"
}

# Is PID still running? A process that has exited but was not yet
# reaped (a zombie, state Z) counts as gone.
is_running() {
    local state
    state=$(proc_state "$1") && [ "$state" != Z ]
}

# proc_state PID: the process's state letter (R running, S asleep in a
# system call, Z zombie...); fails if there is no such process.
proc_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # the state follows the command name in parentheses
    echo "${stat%% *}"
}

# stop_now PID: stop the process (SIGSTOP) and wait until it has. kill
# only asks: a busy machine may run the process a little longer, and a
# recv() it is in may still take bytes that arrive meanwhile.
stop_now() {
    kill -STOP "$1" || return 1
    wait_until 5 is_stopped "$1"
}

is_stopped() {
    [ "$(proc_state "$1")" = T ]
}

is_gone() {
    ! is_running "$1"
}

# wait_for_exit PID SECS: wait (bounded) for a process this shell
# started to exit; its exit status goes into EXIT_STATUS.
wait_for_exit() {
    wait_until "$2" is_gone "$1" || fail "process $1 still running" ||
        return 1
    EXIT_STATUS=0
    wait "$1" || EXIT_STATUS=$?
    _forget_pid "$1"
}

# Once reaped, a PID may be reused by an unrelated process: teardown
# must not signal it.
_forget_pid() {
    local i
    for i in "${!_test_pids[@]}"; do
        [ "${_test_pids[i]}" != "$1" ] || unset '_test_pids[i]'
    done
}

# stop_process PID: ask politely (SIGTERM), wait up to 5 s, then SIGKILL.
stop_process() {
    kill -TERM "$1" 2>/dev/null || true
    wait_until 5 is_gone "$1" || kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    _forget_pid "$1"
}

# fd_count PID: how many file descriptors the process has open.
fd_count() {
    local fds=("/proc/$1/fd/"*)
    echo "${#fds[@]}"
}

# proc_status PID FIELD: a field of /proc/PID/status, e.g. Threads, or
# VmRSS (in kB).
proc_status() {
    awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

# cpu_ticks PID: the CPU time the process has used so far (user plus
# system), in clock ticks (usually 100 a second).
cpu_ticks() {
    local stat fields
    stat=$(cat "/proc/$1/stat") || return 1
    read -r -a fields <<<"${stat##*) }" # fields from the 3rd (state) on
    echo $((fields[11] + fields[12]))  # the 14th and 15th: utime, stime
}

# child_pids PID: the processes PID has started and not yet reaped.
child_pids() {
    cat /proc/"$1"/task/*/children 2>/dev/null
}

# zombie_count PID: how many of its children have exited unreaped.
zombie_count() {
    local child stat count=0
    for child in $(child_pids "$1"); do
        stat=$(cat "/proc/$child/stat" 2>/dev/null) || continue
        stat=${stat##*) }
        [ "${stat%% *}" != Z ] || count=$((count + 1))
    done
    echo "$count"
}

# have_ipv6: is the IPv6 loopback address ::1 configured?
have_ipv6() {
    grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null
}

# random_file PATH BYTES: BYTES of random binary data (NULs included).
random_file() {
    head -c "$2" /dev/urandom >"$1"
}

# After a failed test: the end of each server log, where the server's
# last words are (a busy server's log can run to hundreds of lines).
LOG_TAIL_LINES=20

helpers_teardown() {
    local pid log lines
    for pid in "${_test_pids[@]}"; do
        stop_process "$pid"
    done
    if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
        for log in "${_test_logs[@]}"; do
            lines=$(wc -l <"$log")
            if ((lines > LOG_TAIL_LINES)); then
                printf -- '--- %s: the last %d of %d lines ---\n' \
                    "${log##*/}" "$LOG_TAIL_LINES" "$lines"
            else
                printf -- '--- %s ---\n' "${log##*/}"
            fi
            tail -n "$LOG_TAIL_LINES" "$log"
        done
    fi
}

# A test file that needs its own teardown calls helpers_teardown from it.
teardown() {
    helpers_teardown
}
