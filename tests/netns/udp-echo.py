#!/usr/bin/python3
"""UDP echo for the netns tests, bounded in packets and time.
  udp-echo.py serve PORT            echo every datagram back (stops after 100,000 or 60 s idle)
  udp-echo.py send ADDR PORT SPORT N  N datagrams from source port SPORT, each waiting up to
                                    1 s for its echo; prints how many echoes came back"""
import socket
import sys


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(60)
    for _ in range(100000):
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            return
        s.sendto(data, peer)


def send(addr, port, sport, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.connect((addr, port))
    s.settimeout(1)
    ok = 0
    for i in range(min(n, 10000)):
        s.send(b"nr-echo %d" % i)
        try:
            s.recv(2048)
            ok += 1
        except (socket.timeout, ConnectionRefusedError):
            pass
    print(ok)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]))
    elif sys.argv[1:2] == ["send"]:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
