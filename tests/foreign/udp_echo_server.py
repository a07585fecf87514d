# A UDP echo server in Python 3: each datagram goes back to its sender.
#     make test STAGE=5 SERVER='python3 tests/foreign/udp_echo_server.py {port}'
import socket, sys

sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 too
sock.bind(("::", int(sys.argv[1])))
while True:
    data, peer = sock.recvfrom(65535)
    sock.sendto(data, peer)
