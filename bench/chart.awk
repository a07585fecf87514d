# bench/chart.awk - draws bench/build/results.csv as SVG bar charts of
# the medians, with nothing but awk:
#
#   awk -v part=ftp -f bench/chart.awk bench/build/results.csv \
#       > slides/img/bench_ftp.svg       (stage 04: speed, server CPU)
#   awk -v part=models -f bench/chart.awk bench/build/results.csv \
#       > slides/img/bench_models.svg    (stage 03: requests/s, memory)
#   awk -v part=peers -f bench/chart.awk bench/build/results.csv \
#       > bench/build/bench_peers.svg    (stages 04, 05: the Python peers)

BEGIN { FS = ","; y = 0; body = "" }
NR > 1 { v[$1 SUBSEP $2 SUBSEP $3, ++n[$1 SUBSEP $2 SUBSEP $3]] = $5 }

function median(key,    i, j, t, c, a) {
    c = n[key]
    if (c == 0)
        return 0
    for (i = 1; i <= c; i++)
        a[i] = v[key, i]
    for (i = 2; i <= c; i++)            # insertion sort: c is small
        for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}

# panel(title, count, keys, labels, unit, format): a title and one
# horizontal bar per key ("part|variant|measure"), scaled to the largest;
# keys and labels are lists separated by ";". Adds to body; advances y.
function panel(title, count, keys, labels, unit, format,    k, l, i, val, max, w, f) {
    split(keys, k, ";")
    split(labels, l, ";")
    max = 0
    for (i = 1; i <= count; i++) {
        split(k[i], f, "|")
        val[i] = median(f[1] SUBSEP f[2] SUBSEP f[3])
        if (val[i] > max) max = val[i]
    }
    body = body sprintf("<text x=\"20\" y=\"%d\" font-size=\"17\" font-weight=\"bold\">%s</text>\n", y + 28, title)
    y += 40
    for (i = 1; i <= count; i++) {
        w = max > 0 ? 400 * val[i] / max : 0
        body = body sprintf("<text x=\"220\" y=\"%d\" text-anchor=\"end\">%s</text>\n", y + 15, l[i])
        body = body sprintf("<rect x=\"230\" y=\"%d\" width=\"%.0f\" height=\"20\" fill=\"#4a78b5\"/>\n", y, w)
        body = body sprintf("<text x=\"%.0f\" y=\"%d\">" format " %s</text>\n", 236 + w, y + 15, val[i], unit)
        y += 28
    }
    y += 10
}

END {
    if (part == "ftp") {
        mib = median("ftp" SUBSEP "file" SUBSEP "MiB")
        panel("Stage 04: get of a " mib " MiB file over loopback (MB/s)", 6,
              "ftp|cat|MBps;ftp|sendfile-baseline|MBps;ftp|store-baseline|MBps;" \
              "ftp|1k|get-MBps;ftp|64k|get-MBps;ftp|sendfile|get-MBps",
              "cat file to /dev/null;sendfile, bytes discarded;sendfile, bytes stored;" \
              "get, 1 KiB loop;get, 64 KiB loop;get, sendfile", "MB/s", "%.0f")
        panel("The server's CPU time for that get (ms)", 3,
              "ftp|1k|get-server-cpu-ms;ftp|64k|get-server-cpu-ms;ftp|sendfile|get-server-cpu-ms",
              "1 KiB loop;64 KiB loop;sendfile", "ms", "%.0f")
    } else if (part == "models") {
        panel("Stage 03: echo round trips, 100 clients (requests/s)", 3,
              "models|server-100|rps;models|server_fork-100|rps;models|server_poll-100|rps",
              "threads (server);processes (server_fork);poll() (server_poll)", "req/s", "%.0f")
        panel("Memory per idle client, 10,000 clients (kB)", 3,
              "idle|server|kB-per-client-10000;idle|server_fork|kB-per-client-10000;" \
              "idle|server_poll|kB-per-client-10000",
              "threads (server);processes (server_fork);poll() (server_poll)", "kB", "%.1f")
    } else if (part == "peers") {
        mib = median("peers" SUBSEP "file" SUBSEP "MiB")
        panel("get of a " mib " MiB file into a file (MB/s)", 5,
              "peers|cat|MBps;peers|sockstep|MBps;peers|loop|MBps;" \
              "peers|python|MBps;peers|1k|MBps",
              "cat file > copy;sockstep (splice);sockstep, portable loop;" \
              "Python peer;1 KiB loop (the source)", "MB/s", "%.0f")
        panel("UDP echo, 10 clients, 1 or 4 datagrams in flight (echoes/s)", 6,
              "peers|udp|rps;peers|udp-q|rps;peers|udp-python|rps;" \
              "peers|udp-w|rps;peers|udp-q-w|rps;peers|udp-python-w|rps",
              "sockstep, logging, 1;sockstep -q, 1;Python loop, 1;" \
              "sockstep, logging, 4;sockstep -q, 4;Python loop, 4", "/s", "%.0f")
    } else {
        print "chart.awk: set part=ftp, models or peers" > "/dev/stderr"
        exit 2
    }
    height = y + 30
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"%d\" font-family=\"sans-serif\" font-size=\"14\">\n", height
    printf "<rect width=\"760\" height=\"%d\" fill=\"white\"/>\n", height
    printf "%s", body
    printf "<text x=\"20\" y=\"%d\" font-size=\"12\" fill=\"#555\">medians of make bench (bench/build/results.csv)</text>\n", height - 12
    print "</svg>"
}
