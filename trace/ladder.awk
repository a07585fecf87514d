# trace/ladder.awk - sniff's lines (with -A) as a ladder diagram: the
# clients on the left, the server on the right, an arrow a packet, in
# the order they crossed the wire.
#
#   awk -v servers="9001" -f trace/ladder.awk build/traces/01_echo.txt
#
# servers: the server's ports (several, space-separated, where a scene
# has more than one: stage 05's closed port 9). A packet to one of them
# goes right, a packet from one goes left. Each client is named by a
# letter, A, B..., in the order it first appears, and the legend under
# the ladder says which port each letter is. TCP's flags are spelled
# out (SYN, ACK, PSH, FIN, RST), then the bytes of data, if any, and
# their start. ICMP has no ports: an echo request goes right and its
# reply left, under the name "ping"; a "port unreachable" goes left, to
# the client whose datagram came last (it is that datagram's answer).

BEGIN {
    WIDTH = 60 # characters between the two columns
    n = split(servers, list, " ")
    for (i = 1; i <= n; i++)
        is_server[list[i]] = 1
    printf "%-5s%-*s%s\n", "", WIDTH - 4, "client", "server"
}

# "127.0.0.1.9001" or "::1.9001" -> "9001"; "127.0.0.1" -> "" (ICMP)
function port_of(endpoint) {
    sub(/:$/, "", endpoint)
    if ($0 ~ /: (Flags|UDP)/)
        return substr(endpoint, match(endpoint, /[0-9]+$/))
    return ""
}

function name_of(port) {
    if (!(port in letter)) {
        letter[port] = sprintf("%c", 65 + clients)
        order[clients++] = port
    }
    return letter[port]
}

# "[S.]" -> "SYN ACK"; "[FP.]" -> "FIN PSH ACK"
function flag_names(flags,    out) {
    out = ""
    if (flags ~ /S/) out = out " SYN"
    if (flags ~ /F/) out = out " FIN"
    if (flags ~ /R/) out = out " RST"
    if (flags ~ /P/) out = out " PSH"
    if (flags ~ /\./) out = out " ACK"
    return substr(out, 2)
}

# The data that sniff -A printed after the length, shortened to fit.
function data_of(line,    at, data) {
    at = index(line, ": \"")
    if (at == 0)
        return ""
    data = substr(line, at + 2)
    if (length(data) > 26)
        data = substr(data, 1, 23) "..."
    return " " data
}

function arrow(who, right, text,    body) {
    body = right ? "--- " text " " : "<-- " text " "
    while (length(body) < WIDTH - 1)
        body = body "-"
    body = right ? body ">" : body "-"
    printf "%-4s |%s|\n", who, body
}

{
    line = $0
    from = port_of($3)
    to = port_of($5)
    rest = line
    sub(/^[^ ]+ [^ ]+ [^ ]+ > [^ ]+ /, "", rest) # from the protocol on
    text = ""
    if (rest ~ /^Flags/) {
        match(rest, /\[[^]]*\]/)
        text = flag_names(substr(rest, RSTART, RLENGTH))
        if (match(rest, /length [0-9]+/)) {
            bytes = substr(rest, RSTART + 7, RLENGTH - 7)
            if (bytes > 0)
                text = text ", " bytes " bytes" data_of(rest)
        }
    } else if (rest ~ /^UDP/) {
        match(rest, /length [0-9]+/)
        text = "UDP, " substr(rest, RSTART + 7, RLENGTH - 7) " bytes" data_of(rest)
    } else if (rest ~ /^ICMP6? echo request/) {
        arrow("ping", 1, "ICMP echo request")
        next
    } else if (rest ~ /^ICMP6? echo reply/) {
        arrow("ping", 0, "ICMP echo reply")
        next
    } else if (rest ~ /^ICMP6? port unreachable/) {
        arrow(last_client, 0, "ICMP port unreachable")
        next
    } else {
        arrow("?", 1, rest)
        next
    }
    if (to in is_server) {
        last_client = name_of(from)
        arrow(last_client, 1, text)
    } else if (from in is_server) {
        arrow(name_of(to), 0, text)
    } else {
        arrow("?", 1, from " > " to ": " text)
    }
}

END {
    print ""
    for (i = 0; i < clients; i++)
        printf "%s: the client at port %s\n", letter[order[i]], order[i]
    printf "server: port%s %s\n", (n > 1 ? "s" : ""), servers
}
