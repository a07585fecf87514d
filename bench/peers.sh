# shellcheck shell=bash
# bench/peers.sh - the "peers" part of `make bench`, sourced by
# bench/run.sh (it uses run.sh's record, stats, mbps, start_server...):
# sockstep against what a user would pick instead, in the same rounds.
#
#   stage 04  get of a FILE_MIB file into a file, four ways:
#             sockstep (server and client as the stage builds them: its
#             loops with 1 MiB buffers), the same with 64 KiB buffers,
#             the Python peer (bench/ftp_peer.py: socket.sendfile() and
#             one 1 MiB recv_into() buffer), and the source article's
#             1 KiB loop; with `cat file > copy` on the same filesystem, the
#             ceiling. Then the server alone: bench/blast -g fetches
#             the file and discards it, against blast's own sendfile()
#             baseline.
#   stage 05  UDP echo round trips at 10 clients (bench/udpload):
#             the server logging every datagram to a file, the server
#             with -q, and the Python loop (bench/udp_echo.py); each
#             client with one datagram in flight, then with WINDOW (4).
#             With one, a fast server often sleeps between datagrams and
#             pays for being woken each time; with four it stays busy.
#
# Each run measures every row once, in an order that turns from run to
# run; each ratio is taken within a run (A and B measured seconds apart)
# and the table shows the median of those ratios with their spread.
# Servers run on CPU 0 and clients on CPU 1 where taskset and two CPUs
# are there, so that the two do not take turns on one CPU. Without
# python3, the Python rows are skipped with a message.

PYTHON=${PYTHON:-$(command -v python3 || true)}
UDP_CLIENTS=10
UDP_WINDOW=4

# ratio PART A B MEASURE: "median (min-max)" of A/B, run by run.
ratio() {
    awk -F, -v p="$1" -v a="$2" -v b="$3" -v m="$4" '
        $1 == p && $3 == m && $2 == a { x[$4] = $5 }
        $1 == p && $3 == m && $2 == b { y[$4] = $5 }
        END {
            for (r in x)
                if ((r in y) && y[r] > 0)
                    v[n++] = x[r] / y[r]
            if (n == 0) { print "-"; exit }
            for (i = 0; i < n; i++)           # insertion sort: n is small
                for (j = i; j > 0 && v[j-1] > v[j]; j--) {
                    t = v[j]; v[j] = v[j-1]; v[j-1] = t
                }
            med = n % 2 ? v[int(n/2)] : (v[n/2-1] + v[n/2]) / 2
            printf "%.2fx (%.2f-%.2f)", med, v[0], v[n-1]
        }' "$CSV"
}

bench_peers() {
    local file="$SCRATCH/big" mib=$((FILE_MIB * 1024 * 1024)) r i
    local server_cpu=() client_cpu=()
    if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
        server_cpu=(taskset -c 0)
        client_cpu=(taskset -c 1)
    fi
    echo
    echo "== peers: sockstep against what a user would pick instead =="
    [ -f "$file" ] || head -c "$mib" /dev/zero >"$file"
    record peers file MiB 1 "$FILE_MIB"
    [ -n "$PYTHON" ] ||
        echo "(python3 not found: the Python peers are skipped)"

    declare -A port server_pid
    mkdir -p "$SCRATCH/peers-root" "$SCRATCH/peers-dl"
    ln -f "$file" "$SCRATCH/peers-root/big"
    peer_server sockstep "${server_cpu[@]}" "$BUILD/ftp-default/server" \
        -d "$SCRATCH/peers-root" 0
    peer_server 64k "${server_cpu[@]}" "$BUILD/ftp-64k/server" \
        -d "$SCRATCH/peers-root" 0
    peer_server 1k "${server_cpu[@]}" "$BUILD/ftp-1k/server" \
        -d "$SCRATCH/peers-root" 0
    peer_server udp "${server_cpu[@]}" 05_udp_raw/server 0
    peer_server udp-q "${server_cpu[@]}" 05_udp_raw/server -q 0
    if [ -n "$PYTHON" ]; then
        peer_server python "${server_cpu[@]}" "$PYTHON" bench/ftp_peer.py \
            server "$SCRATCH/peers-root"
        peer_server udp-python "${server_cpu[@]}" "$PYTHON" bench/udp_echo.py
    fi

    local items=(cat sockstep 64k python 1k serve-sockstep serve-python
        serve-baseline udp udp-q udp-python udp-w udp-q-w udp-python-w)
    for r in $(seq "$RUNS"); do
        for i in "${!items[@]}"; do
            peers_measure "${items[(i + r) % ${#items[@]}]}" "$r" "$mib"
        done
    done
    for PID in "${server_pid[@]}"; do
        stop_server
    done

    printf '\n%-34s %18s %22s %22s\n' "get of $FILE_MIB MiB into a file" \
        "MB/s" "sockstep/this" "this/cat"
    local row label
    for row in cat sockstep 64k python 1k; do
        case $row in
        cat) label="cat file > copy (the ceiling)" ;;
        sockstep) label="sockstep (1 MiB loops)" ;;
        64k) label="sockstep, 64 KiB loops" ;;
        python) label="Python peer" ;;
        1k) label="1 KiB loop (the source article)" ;;
        esac
        printf '%-34s %18s %22s %22s\n' "$label" "$(stats peers "$row" MBps)" \
            "$(ratio peers sockstep "$row" MBps)" "$(ratio peers "$row" cat MBps)"
    done
    printf '\n%-34s %18s %22s\n' "the server alone, client discarding" \
        "MB/s" "this/baseline"
    for row in serve-baseline serve-sockstep serve-python; do
        case $row in
        serve-baseline) label="sendfile() baseline (bench/blast)" ;;
        serve-sockstep) label="sockstep server" ;;
        serve-python) label="Python peer's server" ;;
        esac
        printf '%-34s %18s %22s\n' "$label" "$(stats peers "$row" MBps)" \
            "$(ratio peers "$row" serve-baseline MBps)"
    done
    local w
    for w in "" -w; do
        if [ -z "$w" ]; then
            printf '\n%-34s %18s %22s %18s\n' "UDP echo, $UDP_CLIENTS clients x 1" \
                "echoes/s" "this/Python" "server CPU ns/echo"
        else
            printf '%-34s\n' "... x $UDP_WINDOW datagrams in flight"
        fi
        for row in udp udp-q udp-python; do
            case $row in
            udp) label="sockstep, logging to a file" ;;
            udp-q) label="sockstep -q (no log)" ;;
            udp-python) label="Python recvfrom/sendto loop" ;;
            esac
            printf '%-34s %18s %22s %18s\n' "$label" "$(stats peers "$row$w" rps)" \
                "$(ratio peers "$row$w" "udp-python$w" rps)" \
                "$(median peers "$row$w" cpu-ns-per-echo)"
        done
    done
    echo "(Ratios: the median of each run's own ratio, and their spread."
    echo " cat copies with copy_file_range() where coreutils has it. Goals:"
    echo " get >= 1.0x the Python peer and >= 0.9x cat; the server >= 0.9x"
    echo " the baseline; UDP >= 1.0x Python logging, >= 2x with -q.)"
}

# cpu_ticks PID: the CPU time PID has used so far, in clock ticks
# (fields 14 and 15 of /proc/PID/stat: user and system time).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat")
    read -r -a f <<<"${stat##*) }"
    echo $((f[11] + f[12]))
}

# peer_server NAME [taskset...] PROGRAM [ARG...]: start it on port 0,
# its output in a log of its own; fills port[NAME] and server_pid[NAME].
peer_server() {
    local name=$1
    shift
    start_server "$SCRATCH/peer-$name.log" "$@"
    # shellcheck disable=SC2153 # PORT and PID: set by start_server
    port[$name]=$PORT
    server_pid[$name]=$PID
}

# peers_measure ITEM RUN BYTES: one run of one row.
peers_measure() {
    local item=$1 r=$2 bytes=$3 dl="$SCRATCH/peers-dl" top=$PWD line
    case $item in
    python | serve-python | udp-python*) [ -n "$PYTHON" ] || return 0 ;;
    esac
    case $item in
    cat | sockstep | 64k | python | 1k)
        # Every row writes dl/big, and the last row's copy is deleted
        # just before: each reuses the memory the one before freed. Left
        # free for a while, that memory goes back to a virtual machine's
        # host, and taking it again costs more than the transfer
        # (04_ftp/SPEED.md): the spread would measure the host.
        rm -f "$dl/big" "$dl/.partial.big"
        ;;
    esac
    case $item in
    cat)
        # shellcheck disable=SC2016 # $1 and $2 are the inner shell's
        record peers cat MBps "$r" \
            "$(mbps "$bytes" sh -c 'cat "$1" >"$2"' sh "$SCRATCH/big" "$dl/big")"
        ;;
    sockstep | 64k | 1k)
        local client="$BUILD/ftp-default/client" server=sockstep
        [ "$item" = sockstep ] || client="$BUILD/ftp-$item/client" server=$item
        record peers "$item" MBps "$r" "$(cd "$dl" && echo "get big" |
            mbps "$bytes" "${client_cpu[@]}" "$client" 127.0.0.1 "${port[$server]}")"
        ;;
    python)
        record peers python MBps "$r" "$(cd "$dl" && mbps "$bytes" \
            "${client_cpu[@]}" "$PYTHON" "$top/bench/ftp_peer.py" get \
            127.0.0.1 "${port[python]}" big)"
        ;;
    serve-sockstep | serve-python)
        record peers "$item" MBps "$r" "$("${client_cpu[@]}" "$BUILD/blast" \
            -g "${port[${item#serve-}]}" big | sed 's/.*mbps=//')"
        ;;
    serve-baseline)
        record peers "$item" MBps "$r" \
            "$("$BUILD/blast" "$SCRATCH/big" | sed 's/.*mbps=//')"
        ;;
    udp*)
        local server=${item%-w} window=1 ticks echoes
        [ "$server" = "$item" ] || window=$UDP_WINDOW
        ticks=$(cpu_ticks "${server_pid[$server]}")
        line=$("${client_cpu[@]}" "$BUILD/udpload" -c "$UDP_CLIENTS" \
            -w "$window" -d "$SECONDS_PER_LOAD" 127.0.0.1 "${port[$server]}")
        ticks=$(($(cpu_ticks "${server_pid[$server]}") - ticks))
        echoes=$(sed 's/.*echoes=\([0-9]*\).*/\1/' <<<"$line")
        record peers "$item" rps "$r" "$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$line")"
        record peers "$item" cpu-ns-per-echo "$r" "$(awk -v t="$ticks" \
            -v hz="$(getconf CLK_TCK)" -v n="$echoes" \
            'BEGIN { printf "%.0f", (n > 0 ? t / hz / n * 1e9 : 0) }')"
        ;;
    esac
}
