# Stage 02's echo server in Python 3: clients one after another, for ever.
#     make test STAGE=2 SERVER='python3 tests/foreign/iterative_server.py {port}'
import socket, sys

listener = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6,
                                dualstack_ipv6=True)  # IPv4 clients too
while True:
    conn, peer = listener.accept()
    with conn:
        try:
            while data := conn.recv(65536):            # b"" once the client closes
                conn.sendall(data)
        except (ConnectionResetError, BrokenPipeError):  # the client went away
            pass
