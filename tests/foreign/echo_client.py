# An echo client in Python 3: each line of stdin to the server, a piece
# at a time, and each piece's echo, read whole, to stdout.
#     make test STAGE=3 CLIENT='python3 tests/foreign/echo_client.py'
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
try:
    conn = socket.create_connection((host, port))     # each address in turn
except OSError as e:
    sys.exit(f"client: connect to {host} port {port}: {e.strerror}\n"
             "hint: is the server running?")
for line in sys.stdin.buffer:
    for at in range(0, len(line), 16384):             # a line may not fit
        piece = line[at:at + 16384]                   # the socket buffers
        conn.sendall(piece)
        echo = b""
        while len(echo) < len(piece):
            data = conn.recv(len(piece) - len(echo))
            if not data:
                sys.exit("client: the server closed the connection")
            echo += data
        sys.stdout.buffer.write(echo)
    sys.stdout.flush()
