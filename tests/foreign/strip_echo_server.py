# A wrong echo server, for tests/97_foreign.bats: it strips whitespace
# (newlines included) from what it sends back. Stage 3's tests must fail it.
import socket, socketserver, sys

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data.strip())

class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

Server(("::", int(sys.argv[1])), Echo).serve_forever()
