# bench/chart.awk - draws bench/build/results.csv as an SVG bar chart
# (two panels: stage 04's transfer speeds, stage 03's requests/s at
# 100 clients), using medians. No tools beyond awk.
#
#   awk -f bench/chart.awk bench/build/results.csv > slides/img/bench.svg

BEGIN { FS = "," }
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

# bar(y, label, value, max, unit): one labelled horizontal bar.
function bar(y, label, value, max, unit,    w) {
    w = max > 0 ? 420 * value / max : 0
    printf "<text x=\"190\" y=\"%d\" text-anchor=\"end\">%s</text>\n", y + 15, label
    printf "<rect x=\"200\" y=\"%d\" width=\"%.0f\" height=\"20\" fill=\"#4a78b5\"/>\n", y, w
    printf "<text x=\"%.0f\" y=\"%d\">%.0f %s</text>\n", 206 + w, y + 15, value, unit
}

END {
    ftp_n = split("cat|sendfile-baseline|1k|64k|sendfile", ftp, "|")
    split("cat file to /dev/null|sendfile, nothing else|stage 04, 1 KiB loop|stage 04, 64 KiB loop|stage 04, sendfile", ftp_label, "|")
    for (i = 1; i <= ftp_n; i++) {
        m = ftp[i] ~ /^(cat|sendfile-baseline)$/ ? "MBps" : "get-MBps"
        ftp_v[i] = median("ftp" SUBSEP ftp[i] SUBSEP m)
        if (ftp_v[i] > ftp_max) ftp_max = ftp_v[i]
    }
    split("server|server_fork|server_poll", model, "|")
    split("threads (server)|processes (server_fork)|poll() (server_poll)", model_label, "|")
    for (i = 1; i <= 3; i++) {
        model_v[i] = median("models" SUBSEP model[i] "-100" SUBSEP "rps")
        if (model_v[i] > model_max) model_max = model_v[i]
    }

    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"380\" font-family=\"sans-serif\" font-size=\"14\">"
    print "<rect width=\"760\" height=\"380\" fill=\"white\"/>"
    print "<text x=\"20\" y=\"28\" font-size=\"17\" font-weight=\"bold\">Stage 04: get of a file over loopback (MB/s, median)</text>"
    for (i = 1; i <= ftp_n; i++)
        bar(40 + 28 * (i - 1), ftp_label[i], ftp_v[i], ftp_max, "MB/s")
    print "<text x=\"20\" y=\"228\" font-size=\"17\" font-weight=\"bold\">Stage 03: echo round trips, 100 clients (requests/s, median)</text>"
    for (i = 1; i <= 3; i++)
        bar(240 + 28 * (i - 1), model_label[i], model_v[i], model_max, "req/s")
    print "<text x=\"20\" y=\"355\" font-size=\"12\" fill=\"#555\">make bench; bench/run.sh; numbers from bench/build/results.csv</text>"
    print "</svg>"
}
