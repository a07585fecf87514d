# Stage 01's echo server in Python 3: one client, then it exits.
#     make test STAGE=1 SERVER='python3 tests/foreign/one_client_server.py {port}'
import socket, sys

listener = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6,
                                dualstack_ipv6=True)  # IPv4 clients too
conn, peer = listener.accept()
try:
    while data := conn.recv(65536):                    # b"" once the client closes
        conn.sendall(data)
except (ConnectionResetError, BrokenPipeError):       # the client went away
    pass
