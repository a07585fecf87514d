#!/usr/bin/env bash
# bench/run.sh - what `make bench` runs: measure the toolkit, print the
# tables, and write every measurement to bench/build/results.csv.
#
#   bench/run.sh [ftp] [models] [c10k] [peers]     (default: all four)
#
# Loopback only; every figure is repeated BENCH_RUNS times (default 5)
# and shown as the median with the spread (min-max). Ratios are against
# a baseline measured in the same run, so they mean something on a
# noisy machine. Nothing here passes or fails: these are measurements.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-5}
BUILD=$PWD/bench/build
CSV=$BUILD/results.csv
SECONDS_PER_LOAD=${BENCH_LOAD_SECONDS:-2}
FILE_MIB=${BENCH_FILE_MIB:-1024}
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(ftp models c10k peers)

# What it measures, built first (as `make bench` does), so that one part
# runs alone too: the stages, and bench/'s builds of stage 04 and tools.
make -s --no-print-directory all >/dev/null
make -s --no-print-directory -C bench
mkdir -p "$BUILD"
echo "part,variant,measure,run,value" >"$CSV"
# Scratch space in memory when there is some: the disk is not measured.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    SCRATCH=$(mktemp -d /dev/shm/sockstep-bench.XXXXXX)
else
    SCRATCH=$(mktemp -d "$BUILD/scratch.XXXXXX")
fi
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

record() { # PART VARIANT MEASURE RUN VALUE
    echo "$1,$2,$3,$4,$5" >>"$CSV"
}

# stats PART VARIANT MEASURE [FORMAT]: "median (min-max)" of the
# recorded runs, each number printed with FORMAT (default %.0f).
stats() {
    awk -F, -v p="$1" -v v="$2" -v m="$3" -v f="${4:-%.0f}" '
        $1 == p && $2 == v && $3 == m { x[n++] = $5 }
        END {
            if (n == 0) { print "-"; exit }
            for (i = 0; i < n; i++)           # insertion sort: n is small
                for (j = i; j > 0 && x[j-1] > x[j]; j--) {
                    t = x[j]; x[j] = x[j-1]; x[j-1] = t
                }
            med = n % 2 ? x[int(n/2)] : (x[n/2-1] + x[n/2]) / 2
            printf f " (" f "-" f ")", med, x[0], x[n-1]
        }' "$CSV"
}

median() { stats "$@" | awk '{ print $1 }'; }

# start_server LOG PROGRAM [ARG...]: start it on port 0; sets PORT, PID.
start_server() {
    local log=$1 i
    shift
    : >"$log" # before the loop below reads it: the child may not have yet
    "$@" >"$log" 2>&1 </dev/null &
    PID=$!
    pids+=("$PID")
    for i in $(seq 100); do
        PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log")
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    echo "bench: $* did not start: $(cat "$log")" >&2
    exit 1
}

stop_server() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
}

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# The CPU time, in seconds, of PID's children that have exited and been
# reaped (fields 16 and 17 of /proc/PID/stat, in clock ticks).
children_cpu() {
    local stat
    stat=$(cat "/proc/$1/stat")
    read -r -a f <<<"${stat##*) }"
    awk -v t=$((f[13] + f[14])) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", t / hz }'
}

echo "sockstep benchmarks on $(uname -srm), $(nproc) cores," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "$RUNS runs each; median (min-max)"

# --- stage 04: moving a file ---------------------------------------------

bench_ftp() {
    local file="$SCRATCH/big" mib=$((FILE_MIB * 1024 * 1024)) r
    local variants=(1k 64k default) variant
    echo
    echo "== stage 04: get and put of a $FILE_MIB MiB file over loopback =="
    head -c "$mib" /dev/zero >"$file"
    record ftp file MiB 1 "$FILE_MIB"

    # One server per variant, all up at once: each run below measures
    # the baselines and every variant back to back, so that a slow spell
    # of the machine falls on all of them alike.
    declare -A port server_pid
    for variant in "${variants[@]}"; do
        mkdir -p "$SCRATCH/root-$variant" "$SCRATCH/dl-$variant"
        ln -f "$file" "$SCRATCH/root-$variant/big"
        start_server "$SCRATCH/ftp-$variant.log" \
            "$BUILD/ftp-$variant/server" -d "$SCRATCH/root-$variant" 0
        port[$variant]=$PORT
        server_pid[$variant]=$PID
    done

    # Which measurement goes first changes from run to run: on a virtual
    # machine, writing into memory just freed by the one before can cost
    # more than the transfer itself (see 04_ftp/SPEED.md).
    local items=(cat sendfile-baseline store-baseline "${variants[@]}") i
    for r in $(seq "$RUNS"); do
        for i in "${!items[@]}"; do
            ftp_measure "${items[(i + r) % ${#items[@]}]}" "$r" "$mib"
        done
    done
    for variant in "${variants[@]}"; do
        PID=${server_pid[$variant]}
        stop_server
    done

    local base store
    base=$(median ftp sendfile-baseline MBps)
    store=$(median ftp store-baseline MBps)
    printf '\n%-22s %18s %18s %9s %9s %14s\n' "" "get MB/s" "put MB/s" \
        "get/base" "get/store" "get CPU ms"
    printf '%-22s %18s\n' "cat file >/dev/null" "$(stats ftp cat MBps)"
    printf '%-22s %18s %18s %8s%%\n' "sendfile baseline" \
        "$(stats ftp sendfile-baseline MBps)" "" 100
    printf '%-22s %18s %18s %9s %8s%%\n' "  ... and store it" \
        "$(stats ftp store-baseline MBps)" "" "" 100
    for variant in "${variants[@]}"; do
        printf '%-22s %18s %18s %8.0f%% %8.0f%% %14s\n' "stage 04, $variant" \
            "$(stats ftp "$variant" get-MBps)" "$(stats ftp "$variant" put-MBps)" \
            "$(percent "$(median ftp "$variant" get-MBps)" "$base")" \
            "$(percent "$(median ftp "$variant" get-MBps)" "$store")" \
            "$(stats ftp "$variant" get-server-cpu-ms)"
    done
    echo "(sendfile baseline: bench/blast, the file into a socket and the"
    echo " bytes discarded; ... and store it: blast -o, the receiver writes"
    echo " them to a file, as get must. 1k, 64k: stage 04's loops, server"
    echo " and client, with a buffer of that size; default: as its Makefile"
    echo " builds it, 1 MiB. Goal: get >= 90% of the sendfile baseline.)"
}

# mbps BYTES COMMAND...: run it; megabytes (10^6) a second for BYTES.
mbps() {
    local bytes=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }'
}

percent() { awk -v a="$1" -v b="$2" 'BEGIN { print 100 * a / b }'; }

# ftp_measure ITEM RUN BYTES: one run of one row of the table.
ftp_measure() {
    local item=$1 r=$2 bytes=$3 file="$SCRATCH/big"
    case $item in
    cat) record ftp cat MBps "$r" "$(mbps "$bytes" cat "$file")" ;;
    sendfile-baseline)
        record ftp "$item" MBps "$r" \
            "$("$BUILD/blast" "$file" | sed 's/.*mbps=//')"
        ;;
    store-baseline)
        record ftp "$item" MBps "$r" \
            "$("$BUILD/blast" -o "$SCRATCH/stored" "$file" | sed 's/.*mbps=//')"
        rm -f "$SCRATCH/stored"
        ;;
    *)
        ftp_transfer "$item" get "$r" "$bytes"
        ftp_transfer "$item" put "$r" "$bytes"
        ;;
    esac
}

# ftp_transfer VARIANT OP RUN BYTES: one get or put of "big" (BYTES
# long) with that variant's client and server (bench_ftp's port and
# server_pid); records MB/s and the server's CPU time.
ftp_transfer() {
    local variant=$1 op=$2 r=$3 bytes=$4 pid=${server_pid[$1]} cpu_before rate
    local client="$BUILD/ftp-$variant/client" dir
    # get downloads into an empty directory; put uploads from the one
    # holding the file.
    dir=$SCRATCH/dl-$variant
    [ "$op" = get ] || dir=$SCRATCH
    cpu_before=$(children_cpu "$pid")
    rate=$(cd "$dir" && echo "$op big" |
        mbps "$bytes" "$client" 127.0.0.1 "${port[$variant]}")
    record ftp "$variant" "$op-MBps" "$r" "$rate"
    sleep 0.2 # the session process has exited and been reaped by now
    record ftp "$variant" "$op-server-cpu-ms" "$r" \
        "$(awk -v a="$cpu_before" -v z="$(children_cpu "$pid")" \
            'BEGIN { printf "%.0f", (z - a) * 1000 }')"
    rm -f "$SCRATCH/dl-$variant/big"
}

# --- stage 03: three ways to serve many clients ----------------------------

bench_models() {
    local server conns r
    echo
    echo "== stage 03: echo round trips of 64 bytes, $SECONDS_PER_LOAD s per run =="
    for server in server server_fork server_poll; do
        start_server "$SCRATCH/$server.log" \
            prlimit --nofile=20000:20000 "03_multiclient/$server" 0
        for conns in 1 10 100 1000; do
            for r in $(seq "$RUNS"); do
                local line
                line=$("$BUILD/loadgen" -c "$conns" -d "$SECONDS_PER_LOAD" \
                    127.0.0.1 "$PORT")
                record models "$server-$conns" rps "$r" \
                    "$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$line")"
                record models "$server-$conns" p50_us "$r" \
                    "$(sed 's/.*p50_us=\([0-9]*\).*/\1/' <<<"$line")"
                record models "$server-$conns" p99_us "$r" \
                    "$(sed 's/.*p99_us=\([0-9]*\).*/\1/' <<<"$line")"
            done
        done
        stop_server
    done
    printf '\n%-12s %6s %22s %18s %18s\n' server clients "requests/s" \
        "p50 us" "p99 us"
    for server in server server_fork server_poll; do
        for conns in 1 10 100 1000; do
            printf '%-12s %6s %22s %18s %18s\n' "$server" "$conns" \
                "$(stats models "$server-$conns" rps)" \
                "$(stats models "$server-$conns" p50_us)" \
                "$(stats models "$server-$conns" p99_us)"
        done
    done

    echo
    echo "== stage 03: idle connections held, and the server's memory =="
    printf '%-12s %8s %14s %16s\n' server clients "server MB" "kB per client"
    local n
    for server in server server_fork server_poll; do
        for n in 1000 10000; do
            idle_connections "$server" "$n"
        done
    done
    echo "(server_fork: PSS of the parent and all children, so that pages"
    echo " they share count once. Goals: server_poll holds 10,000 in under"
    echo " 50 MB; server holds 1,000.)"
}

# idle_connections SERVER N: hold N idle clients, measure the memory.
idle_connections() {
    local server=$1 n=$2 before after holder fifo="$SCRATCH/hold.$1.$2"
    start_server "$SCRATCH/idle-$server.log" \
        prlimit --nofile=20000:20000 "03_multiclient/$server" 0
    before=$(memory_kb "$PID")
    mkfifo "$fifo"
    "$BUILD/loadgen" -i "$n" 127.0.0.1 "$PORT" <"$fifo" \
        >"$SCRATCH/hold.out" 2>&1 &
    holder=$!
    exec 7>"$fifo" # loadgen holds its clients until this closes
    local i
    for i in $(seq 1200); do # up to 60 s to connect them all
        grep -q holding "$SCRATCH/hold.out" && break
        kill -0 "$holder" 2>/dev/null || break
        sleep 0.05
    done
    if grep -q holding "$SCRATCH/hold.out"; then
        after=$(memory_kb "$PID")
        printf '%-12s %8s %14.1f %16.1f\n' "$server" "$n" \
            "$(awk -v k="$after" 'BEGIN { print k / 1024 }')" \
            "$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { print (a - b) / n }')"
        record idle "$server" "kB-per-client-$n" 1 \
            "$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')"
    else
        printf '%-12s %8s %14s   (%s)\n' "$server" "$n" "-" \
            "$(tail -n 1 "$SCRATCH/hold.out")"
    fi
    exec 7>&-
    wait "$holder" 2>/dev/null || true
    rm -f "$fifo"
    stop_server
}

# memory_kb PID: RSS of PID, or for a forking server the PSS of it and
# its children (shared pages split between the processes sharing them).
memory_kb() {
    local children total
    children=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
    if [ -z "$children" ]; then
        rss_kb "$1"
        return
    fi
    total=0
    for c in "$1" $children; do
        total=$((total + $(awk '$1 == "Pss:" { print $2 }' \
            "/proc/$c/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

# stage 03's idle connections against one busy client: bench/c10k.bash
# shellcheck source=bench/c10k.bash
. bench/c10k.bash
# shellcheck source=bench/peers.sh
. bench/peers.sh # bench_peers: sockstep against the Python peers

for part in "${parts[@]}"; do
    case $part in
    ftp) bench_ftp ;;
    models) bench_models ;;
    c10k) bench_c10k ;;
    peers) bench_peers ;;
    *) echo "bench: unknown part '$part' (ftp, models, c10k, peers)" >&2 && exit 2 ;;
    esac
done
echo
echo "every measurement: $CSV"
# The charts the stage 03 and 04 decks show (slides/img/bench_*.svg are
# copies of these, from the run the READMEs quote).
for part in "${parts[@]}"; do
    awk -v part="$part" -f bench/chart.awk "$CSV" >"$BUILD/bench_$part.svg"
    echo "chart: $BUILD/bench_$part.svg"
done
