# A concurrent echo server in Python 3: a thread per client, as stage 03's
# server does in C. Any language will do; try it against stage 3's tests:
#     make test STAGE=3 SERVER='python3 tests/foreign/echo_server.py {port}'
import socket, socketserver, sys

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):   # b"" once the client closes
            self.request.sendall(data)

class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6               # "::", and IPv4 too:
    allow_reuse_address = True                     # SO_REUSEADDR
    daemon_threads = True
    request_queue_size = 128                       # listen()'s backlog

    def server_bind(self):                         # IPV6_V6ONLY off
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

Server(("::", int(sys.argv[1])), Echo).serve_forever()
