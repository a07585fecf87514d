#!/usr/bin/env python3
"""bench/udp_echo.py - the UDP echo server a user might write instead of
stage 05's, in Python 3, for `make bench` (bench/peers.sh) to measure
against: a recvfrom()/sendto() loop, with no log.

    udp_echo.py     prints "listening on 127.0.0.1:PORT", then echoes
                    every datagram to its sender until killed
"""
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
print("listening on 127.0.0.1:%d" % sock.getsockname()[1], flush=True)
while True:
    data, peer = sock.recvfrom(65535)
    sock.sendto(data, peer)
