#!/usr/bin/env python3
"""bench/ftp_peer.py - what a user might write instead of stage 04, in
Python 3, for `make bench` (bench/peers.sh) to measure against: the
`get` of 04_ftp/PROTOCOL.md and nothing else.

    ftp_peer.py server DIR          serve DIR's files; prints
                                    "listening on 127.0.0.1:PORT"
    ftp_peer.py get HOST PORT NAME  download NAME into the current
                                    directory, as `get NAME` does

The server answers get|OFFSET|NAME with ready|SIZE|OFFSET and
socket.sendfile(), one session at a time, and quit with ok|bye; any
other request gets error|bad-request. The client reads the reply line,
then the data with recv_into() into one 1 MiB buffer, and writes each
piece to the file. No checks of names beyond the plain ones: this is a
benchmark peer, not a server to put on a network.
"""
import os
import socket
import sys

BUF_SIZE = 1 << 20  # bytes per recv_into(): one 1 MiB buffer
MAX_LINE = 1024  # bytes in a control line, newline included


def serve(root):
    listener = socket.create_server(("127.0.0.1", 0))
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                words = line.rstrip(b"\n").decode().split("|", 2)
                if words[0] == "quit":
                    conn.sendall(b"ok|bye\n")
                    break
                if words[0] != "get" or len(words) != 3:
                    conn.sendall(b"error|bad-request|only get and quit\n")
                    continue
                offset, name = int(words[1]), words[2]
                try:
                    f = open(os.path.join(root, name), "rb")
                except OSError as e:
                    conn.sendall(b"error|not-found|%s\n" % e.strerror.encode())
                    continue
                with f:
                    size = os.fstat(f.fileno()).st_size
                    conn.sendall(b"ready|%d|%d\n" % (size, offset))
                    conn.sendfile(f, offset)


def get(host, port, name):
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"get|0|%s\n" % name.encode())
        # The reply line, byte by byte up to its newline: what follows it
        # is file data, and must not be read into the line.
        reply = bytearray()
        while not reply.endswith(b"\n") and len(reply) < MAX_LINE:
            byte = sock.recv(1)
            if not byte:
                sys.exit("get: connection closed")
            reply += byte
        words = reply.decode().rstrip("\n").split("|")
        if words[0] != "ready":
            sys.exit("get: " + reply.decode().rstrip("\n"))
        left = int(words[1]) - int(words[2])
        buf = bytearray(BUF_SIZE)
        view = memoryview(buf)
        with open(os.path.basename(name), "wb") as out:
            while left > 0:
                n = sock.recv_into(buf, min(left, BUF_SIZE))
                if n == 0:
                    sys.exit("get: connection closed early")
                out.write(view[:n])
                left -= n
        sock.sendall(b"quit\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        serve(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "get":
        get(*sys.argv[2:])
    else:
        sys.exit("usage: ftp_peer.py server DIR | get HOST PORT NAME")
