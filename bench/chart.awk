# bench/chart.awk - draws bench/build/results.csv as SVG bar charts of
# the medians, with nothing but awk:
#
#   awk -v part=ftp -f bench/chart.awk bench/build/results.csv \
#       > slides/img/bench_ftp.svg       (stage 04: speed, server CPU)
#   awk -v part=models -f bench/chart.awk bench/build/results.csv \
#       > slides/img/bench_models.svg    (stage 03: requests/s, memory)
#   awk -v part=c10k -f bench/chart.awk bench/build/results.csv \
#       > slides/img/bench_c10k.svg      (stage 03: latency against idle
#                                         connections, a line chart)
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

# lines(title, servers, labels, measure, unit): a line chart of that
# measure of part c10k against the idle count (the N of each "SERVER-N"
# variant), one line per server (lists separated by ";"), on a
# logarithmic scale: a decade per step, so that 5 us and 5 ms both show.
# Adds to body; advances y.
function lines(title, servers, labels, measure, unit,
               s, l, ns, i, j, k, key, nx, xs, val, lo, hi, px, py, x0, h,
               dec, d, colour, pts, seen) {
    split("#4a78b5;#c0504d;#3a9a5b", colour, ";")
    ns = split(servers, s, ";")
    split(labels, l, ";")
    nx = 0
    for (key in n) {                    # the idle counts measured
        split(key, k, SUBSEP)
        if (k[1] != "c10k" || k[3] != measure || k[2] !~ /-[0-9]+$/)
            continue
        j = k[2]; sub(/.*-/, "", j)
        if (!((j + 0) in seen)) { seen[j + 0] = 1; xs[++nx] = j + 0 }
    }
    for (i = 2; i <= nx; i++)           # insertion sort: nx is small
        for (j = i; j > 1 && xs[j - 1] > xs[j]; j--) {
            d = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = d
        }
    lo = 1e18; hi = 0
    for (i = 1; i <= ns; i++)
        for (j = 1; j <= nx; j++) {
            val[i, j] = median("c10k" SUBSEP s[i] "-" xs[j] SUBSEP measure)
            if (val[i, j] > 0 && val[i, j] < lo) lo = val[i, j]
            if (val[i, j] > hi) hi = val[i, j]
        }
    if (hi == 0)
        return
    lo = 10 ^ floor10(lo); hi = 10 ^ ceil10(hi)
    body = body sprintf("<text x=\"20\" y=\"%d\" font-size=\"17\" font-weight=\"bold\">%s</text>\n", y + 28, title)
    body = body sprintf("<text x=\"20\" y=\"%d\" font-size=\"12\" fill=\"#555\">a logarithmic scale: each step up is 10 times slower</text>\n", y + 46)
    y += 70
    x0 = 120; h = 300                   # the plot: x0..x0+480, y..y+h
    for (dec = lo; dec <= hi * 1.0001; dec *= 10) {
        py = y + h - h * log(dec / lo) / log(hi / lo)
        body = body sprintf("<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", x0, py, x0 + 480, py)
        body = body sprintf("<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%s %s</text>\n", x0 - 8, py + 5, plain(dec), unit)
    }
    for (j = 1; j <= nx; j++) {
        px = x0 + 40 + 400 * (j - 1) / (nx > 1 ? nx - 1 : 1)
        body = body sprintf("<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px, y + h + 22, plain(xs[j]))
    }
    body = body sprintf("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">idle connections beside the busy client</text>\n", x0 + 240, y + h + 44)
    # The last server's line first, thickest, and the first's dashed on
    # top: where lines coincide (threads and epoll do), both still show.
    # Labels: the first server's above its points, the second's above
    # and to the left, the third's below.
    for (i = ns; i >= 1; i--) {
        pts = ""
        for (j = 1; j <= nx; j++) {
            if (val[i, j] <= 0)
                continue
            px = x0 + 40 + 400 * (j - 1) / (nx > 1 ? nx - 1 : 1)
            py = y + h - h * log(val[i, j] / lo) / log(hi / lo)
            pts = pts sprintf("%.0f,%.0f ", px, py)
            body = body sprintf("<circle cx=\"%.0f\" cy=\"%.0f\" r=\"4\" fill=\"%s\"/>\n", px, py, colour[i])
            body = body sprintf("<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" text-anchor=\"%s\">%s</text>\n",
                                i == 2 ? px - 8 : px + 8, i == 3 ? py + 20 : py - 8,
                                colour[i], i == 2 ? "end" : "start", plain(val[i, j]))
        }
        body = body sprintf("<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%d\"%s/>\n",
                            pts, colour[i], i == ns ? 5 : 2, i == 1 ? " stroke-dasharray=\"8,6\"" : "")
        body = body sprintf("<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", x0 + 500, y + 20 + 24 * i, colour[i])
        body = body sprintf("<text x=\"%d\" y=\"%d\">%s</text>\n", x0 + 520, y + 32 + 24 * i, l[i])
    }
    y += h + 60
}

# floor10(v), ceil10(v): the decades just below and just above v > 0.
function floor10(v,    e) { e = int(log(v) / log(10) + 1e-9); if (10 ^ e > v * 1.000001) e--; return e }
function ceil10(v,    e) { e = floor10(v); if (10 ^ e < v * 0.999999) e++; return e }

# plain(v): v for a reader: 1,000 rather than 1000, 5.2 rather than 5.21.
function plain(v,    s, out) {
    if (v < 100)
        return sprintf(v == int(v) ? "%d" : "%.1f", v)
    s = sprintf("%.0f", v)
    out = ""
    while (length(s) > 3) {
        out = "," substr(s, length(s) - 2) out
        s = substr(s, 1, length(s) - 3)
    }
    return s out
}

END {
    if (part == "ftp") {
        mib = median("ftp" SUBSEP "file" SUBSEP "MiB")
        panel("Stage 04: get of a " mib " MiB file over loopback (MB/s)", 6,
              "ftp|cat|MBps;ftp|sendfile-baseline|MBps;ftp|store-baseline|MBps;" \
              "ftp|1k|get-MBps;ftp|64k|get-MBps;ftp|default|get-MBps",
              "cat file to /dev/null;sendfile, bytes discarded;sendfile, bytes stored;" \
              "get, 1 KiB loop;get, 64 KiB loop;get, 1 MiB loop", "MB/s", "%.0f")
        panel("The server's CPU time for that get (ms)", 3,
              "ftp|1k|get-server-cpu-ms;ftp|64k|get-server-cpu-ms;ftp|default|get-server-cpu-ms",
              "1 KiB loop;64 KiB loop;1 MiB loop", "ms", "%.0f")
    } else if (part == "models") {
        panel("Stage 03: echo round trips, 100 clients (requests/s)", 3,
              "models|server-100|rps;models|server_fork-100|rps;models|server_poll-100|rps",
              "threads (server);processes (server_fork);poll() (server_poll)", "req/s", "%.0f")
        panel("Memory per idle client, 10,000 clients (kB)", 3,
              "idle|server|kB-per-client-10000;idle|server_fork|kB-per-client-10000;" \
              "idle|server_poll|kB-per-client-10000",
              "threads (server);processes (server_fork);poll() (server_poll)", "kB", "%.1f")
    } else if (part == "c10k") {
        lines("Stage 03: one busy client's round trip (p50) beside idle ones",
              "server;server_poll;server_epoll",
              "threads (server);poll() (server_poll);epoll (server_epoll)",
              "p50_us", "µs")
    } else if (part == "peers") {
        mib = median("peers" SUBSEP "file" SUBSEP "MiB")
        panel("get of a " mib " MiB file into a file (MB/s)", 5,
              "peers|cat|MBps;peers|sockstep|MBps;peers|64k|MBps;" \
              "peers|python|MBps;peers|1k|MBps",
              "cat file > copy;sockstep (1 MiB);sockstep, 64 KiB loops;" \
              "Python peer;1 KiB loop (the source)", "MB/s", "%.0f")
        panel("UDP echo, 10 clients, 1 or 4 datagrams in flight (echoes/s)", 6,
              "peers|udp|rps;peers|udp-q|rps;peers|udp-python|rps;" \
              "peers|udp-w|rps;peers|udp-q-w|rps;peers|udp-python-w|rps",
              "sockstep, logging, 1;sockstep -q, 1;Python loop, 1;" \
              "sockstep, logging, 4;sockstep -q, 4;Python loop, 4", "/s", "%.0f")
    } else {
        print "chart.awk: set part=ftp, models, c10k or peers" > "/dev/stderr"
        exit 2
    }
    height = y + 30
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"%d\" font-family=\"sans-serif\" font-size=\"14\">\n", height
    printf "<rect width=\"760\" height=\"%d\" fill=\"white\"/>\n", height
    printf "%s", body
    printf "<text x=\"20\" y=\"%d\" font-size=\"12\" fill=\"#555\">medians of make bench (bench/build/results.csv)</text>\n", height - 12
    print "</svg>"
}
