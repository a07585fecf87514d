# shellcheck shell=bash
# bench/c10k.bash - the C10k part of make bench (bench/run.sh c10k):
# what idle connections cost one busy client, for the stage 03 servers
# that keep every client in one process: server (a thread per client),
# server_poll and server_epoll. (server_fork's idle clients would be
# 10,000 processes, half a gigabyte, for each of three instances, and
# would tell the threads' story again.) Sourced by bench/run.sh, whose
# helpers it uses (record, stats, median, start_server, stop_server,
# rss_kb, $BUILD, $RUNS, $SCRATCH, the pids array).
#
# For every server and every idle count (0, 1,000, 10,000), one instance
# of the server is started, with that many connections held open beside
# it by `loadgen -i` (each has echoed one message, so it is served, not
# queued, and then says nothing). All the instances are up at once, and
# each run measures every one of them in turn, starting from a different
# one each time: a slow spell of the machine falls on all of them alike,
# so the ratios between them mean something on a busy machine.
#
# One measurement: `loadgen -c 1` keeps one client busy with 64-byte
# round trips for C10K_SECONDS (default 2), and reports p50 and p99; the
# server's CPU time (user + system, from /proc/PID/stat) over the same
# seconds, divided by the requests, is its CPU cost per request.
#
# The servers and the busy client run on one CPU (taskset), so that a
# round trip is the two programs' own work and two context switches.
# Across two CPUs, each round trip also waits for an idle CPU to wake
# up: on a virtual machine that takes tens of microseconds, more than
# the work, and it varies with whatever else the machine is doing.
#
# At most C10K_MAX idle connections (10,000) per server: each one is a
# descriptor in the server and another in loadgen, and `ulimit -n` (the
# hard limit) caps both. A lower limit lowers the count, and says so.

C10K_SERVERS=(server server_poll server_epoll)
C10K_SECONDS=${BENCH_C10K_SECONDS:-2}
C10K_MAX=10000
C10K_SPARE_FDS=64 # beyond the idle ones: listener, stdio, epoll, ...
C10K_CPU=$(($(nproc) - 1)) # the last CPU: the first takes more interrupts

bench_c10k() {
    echo
    echo "== stage 03: one busy client beside idle ones, 64-byte round" \
        "trips, $C10K_SECONDS s per run =="
    local counts fd_limit
    c10k_counts || return 0
    echo "idle connections: ${counts[*]}; descriptors per process:" \
        "$fd_limit (ulimit -Hn: $(ulimit -Hn))"
    local pin=()
    if command -v taskset >/dev/null; then
        pin=(taskset -c "$C10K_CPU")
        echo "servers and the busy client on CPU $C10K_CPU (taskset)"
    else
        echo "(taskset is not installed: not pinned to one CPU, so the"
        echo " figures include waking an idle CPU, and vary more)"
    fi
    if [ ! -x 03_multiclient/server_epoll ]; then
        echo "(server_epoll is not built: epoll is Linux-only)"
    fi

    # Every instance up, with its idle connections held.
    local -A c10k_pid c10k_port
    local holders=() items=() server n
    mkfifo "$SCRATCH/c10k.hold"
    for server in "${C10K_SERVERS[@]}"; do
        [ -x "03_multiclient/$server" ] || continue
        for n in "${counts[@]}"; do
            start_server "$SCRATCH/c10k-$server-$n.log" "${pin[@]}" \
                prlimit --nofile="$fd_limit:$fd_limit" \
                "03_multiclient/$server" 0
            c10k_pid[$server-$n]=$PID
            c10k_port[$server-$n]=$PORT
            if ((n > 0)) && ! c10k_hold "$server" "$n"; then
                continue
            fi
            record c10k "$server-$n" rss_MB 1 \
                "$(awk -v k="$(rss_kb "$PID")" 'BEGIN { print k / 1024 }')"
            items+=("$server-$n")
        done
    done

    local r i
    for r in $(seq "$RUNS"); do
        for i in "${!items[@]}"; do
            c10k_measure "${items[(i + r) % ${#items[@]}]}" "$r"
        done
    done

    for PID in "${c10k_pid[@]}" "${holders[@]}"; do
        stop_server
    done
    c10k_table
}

# c10k_counts: set counts (the idle counts to measure) and fd_limit (the
# descriptor limit to give each server) from the hard limit. Returns 1
# if it is too low for any idle connections at all.
c10k_counts() {
    local hard max=$C10K_MAX
    hard=$(ulimit -Hn)
    [ "$hard" != unlimited ] || hard=$((C10K_MAX + C10K_SPARE_FDS))
    if ((hard < C10K_MAX + C10K_SPARE_FDS)); then
        max=$((hard - C10K_SPARE_FDS))
        echo "bench: ulimit -Hn is $hard, too low for $C10K_MAX idle" \
            "connections: measuring up to $max"
    fi
    if ((max < 100)); then
        echo "bench: c10k skipped: too few descriptors"
        return 1
    fi
    fd_limit=$((max + C10K_SPARE_FDS))
    counts=(0)
    ((max <= 1000)) || counts+=(1000)
    counts+=("$max")
}

# c10k_hold SERVER N: open N idle connections to that instance (c10k_port)
# with a loadgen that holds them until it is stopped: its input is a
# FIFO it opens for reading and writing, which never has data and never
# ends. Waits until all N are served (up to 2 minutes). Returns 1, after
# saying why, if they are not.
c10k_hold() {
    local out="$SCRATCH/c10k-hold-$1-$2.out" holder i
    "$BUILD/loadgen" -i "$2" 127.0.0.1 "${c10k_port[$1-$2]}" \
        <>"$SCRATCH/c10k.hold" >"$out" 2>&1 &
    holder=$!
    holders+=("$holder")
    pids+=("$holder")
    for i in $(seq 2400); do
        grep -q '^holding' "$out" && return 0
        kill -0 "$holder" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: $1 with $2 idle connections: $(tail -n 1 "$out")" \
        "(left out)"
    return 1
}

# own_cpu_ticks PID: the CPU time PID has used, all its threads (user +
# system: fields 14 and 15 of /proc/PID/stat), in clock ticks.
own_cpu_ticks() {
    local stat f
    stat=$(cat "/proc/$1/stat")
    read -r -a f <<<"${stat##*) }"
    echo $((f[11] + f[12]))
}

# c10k_measure SERVER-N RUN: one busy client for C10K_SECONDS.
c10k_measure() {
    local pid=${c10k_pid[$1]} before after line requests
    before=$(own_cpu_ticks "$pid")
    line=$("${pin[@]}" "$BUILD/loadgen" -c 1 -d "$C10K_SECONDS" \
        127.0.0.1 "${c10k_port[$1]}")
    after=$(own_cpu_ticks "$pid")
    requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
    record c10k "$1" p50_us "$2" "$(sed 's/.*p50_us=\([0-9.]*\).*/\1/' <<<"$line")"
    record c10k "$1" p99_us "$2" "$(sed 's/.*p99_us=\([0-9.]*\).*/\1/' <<<"$line")"
    record c10k "$1" rps "$2" "$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$line")"
    record c10k "$1" cpu_us_per_request "$2" \
        "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
            -v n="$requests" 'BEGIN { printf "%.2f", n ? t / hz / n * 1e6 : 0 }')"
}

# c10k_table: the medians, and each one against the same server's with
# no idle connections.
c10k_table() {
    local server n
    printf '\n%-12s %6s %20s %9s %22s %20s %9s %7s\n' server idle \
        "p50 us" "x 0 idle" "p99 us" "CPU us/request" "x 0 idle" "RSS MB"
    for server in "${C10K_SERVERS[@]}"; do
        [ -n "${c10k_pid[$server-0]:-}" ] || continue
        for n in "${counts[@]}"; do
            printf '%-12s %6s %20s %9s %22s %20s %9s %7s\n' "$server" "$n" \
                "$(c10k_stats "$server-$n" p50_us)" \
                "$(c10k_ratio "$server" "$n" p50_us)" \
                "$(c10k_stats "$server-$n" p99_us)" \
                "$(c10k_stats "$server-$n" cpu_us_per_request)" \
                "$(c10k_ratio "$server" "$n" cpu_us_per_request)" \
                "$(median c10k "$server-$n" rss_MB %.1f)"
        done
    done
    echo "(median (min-max) of $RUNS runs; x 0 idle: the median against the"
    echo " same server's with no idle connections, measured in the same runs;"
    echo " CPU: the server's user + system time per request; RSS: the"
    echo " server's resident memory with its idle clients connected. Goal:"
    echo " server_epoll's p50 at ${counts[-1]} idle within 1.5x of its p50 at"
    echo " 0 idle.)"
}

# c10k_stats SERVER-N MEASURE: stats, with a decimal below 100 (a round
# trip on one CPU takes a few microseconds).
c10k_stats() {
    local format=%.0f
    awk -v m="$(median c10k "$1" "$2" %.3f)" 'BEGIN { exit !(m < 100) }' &&
        format=%.1f
    stats c10k "$1" "$2" "$format"
}

# c10k_ratio SERVER N MEASURE: the median with N idle connections over
# the median with none, of the same server in the same runs.
c10k_ratio() {
    local a b
    a=$(median c10k "$1-$2" "$3" %.3f)
    b=$(median c10k "$1-0" "$3" %.3f)
    awk -v a="$a" -v b="$b" 'BEGIN {
        if (a == "-" || b == "-" || b == 0) print "-"
        else printf "%.2f", a / b }'
}
