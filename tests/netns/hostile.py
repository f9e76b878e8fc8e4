#!/usr/bin/env python3
"""Hostile peers for tests/netns/test-daemon-hostile.sh. Every mode is bounded in time.

  hostile.py ra IFACE PREFIX           one IPv6 router advertisement (default route, high
                                       preference, an autonomous /64) to ff02::1, as a guest
  hostile.py crowd SOCKET N SECONDS    N connections to the control socket that never send a
                                       byte, held for SECONDS; prints "connected N" when all are
  hostile.py dribble SOCKET SECONDS    one connection sending "status" a byte every 0.9 s
"""
import socket
import struct
import sys
import time


def ra(iface, prefix):
    net = socket.inet_pton(socket.AF_INET6, prefix)
    # type 134, code 0, checksum (the kernel fills it), hop limit 64, flags: pref high (0x08),
    # router lifetime 1800 s, reachable 0, retrans 0
    msg = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x08, 1800, 0, 0)
    # prefix information: type 3, len 4, /64, L+A, valid 86400, preferred 14400
    msg += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + net
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    idx = socket.if_nametoindex(iface)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    for _ in range(3):
        s.sendto(msg, ("ff02::1", 0, 0, idx))
        time.sleep(0.2)


def crowd(path, n, seconds):
    conns = []
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(2)
        c.connect(path)
        conns.append(c)
    print("connected %d" % len(conns), flush=True)
    time.sleep(seconds)


def dribble(path, seconds):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(2)
    c.connect(path)
    end = time.monotonic() + seconds
    req = b"status\n"
    i = 0
    while time.monotonic() < end:
        try:
            c.send(req[i % len(req):i % len(req) + 1])
        except OSError:
            c.close()
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(2)
            c.connect(path)
        i += 1
        time.sleep(0.9)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ra":
        ra(sys.argv[2], sys.argv[3])
    elif mode == "crowd":
        crowd(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "dribble":
        dribble(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)
