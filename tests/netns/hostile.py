#!/usr/bin/env python3
"""Hostile peers for tests/netns/test-daemon-hostile.sh. Every mode is bounded in time.

  hostile.py ra IFACE PREFIX           one IPv6 router advertisement (default route, high
                                       preference, an autonomous /64) to ff02::1, as a guest
  hostile.py crowd SOCKET N SECONDS    N connections to the control socket that never send a
                                       byte, held for SECONDS; prints "connected N" when all are
  hostile.py dribble SOCKET SECONDS    one connection sending "status" a byte every 0.9 s
  hostile.py inject SRC SPORT DST DPORT N
                                       N UDP datagrams with a forged IPv4 source SRC:SPORT to
                                       DST:DPORT (raw socket, routed by the sender's table), 0.1 s
                                       apart; payload "nr-inject"
  hostile.py catch PORT SECONDS SRC    listens on UDP PORT for SECONDS; prints how many
                                       "nr-inject" datagrams came from SRC
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


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def inject(src, sport, dst, dport, n):
    payload = b"nr-inject"
    saddr, daddr = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    pseudo = saddr + daddr + struct.pack("!BBH", 0, socket.IPPROTO_UDP, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x4E52, 0, 64, socket.IPPROTO_UDP, 0,
                     saddr, daddr)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(n):
        s.sendto(ip + udp, (dst, 0))
        time.sleep(0.1)


def catch(port, seconds, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    end = time.monotonic() + seconds
    got = 0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        if data == b"nr-inject" and peer[0] == src:
            got += 1
    print(got, flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ra":
        ra(sys.argv[2], sys.argv[3])
    elif mode == "crowd":
        crowd(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "dribble":
        dribble(sys.argv[2], float(sys.argv[3]))
    elif mode == "inject":
        inject(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "catch":
        catch(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown mode " + mode)
