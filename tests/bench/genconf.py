#!/usr/bin/python3
"""genconf.py: nestrouter configurations for the benchmarks (stdlib only).

  genconf.py vnet [--pf N]              the seed topology (configs/azure-nested.yaml) plus N port
                                        forwards to guests in 10.0.2.0/24
  genconf.py big --pf N --routes M --res K
                                        the same uplinks, a /16 guest subnet with K reservations,
                                        N port forwards to them and M extra LAN routes
  genconf.py dhcp                       the seed topology with a pool of 253 addresses

Half of the port forwards carry a `from` list (two prefixes), half are open; protocols
alternate tcp/udp every 4th forward. Routes are /24s out of 100.64.0.0/10 (at most 16384).
"""
import argparse
import sys

HEAD = """version: 1
uplinks:
  nat:
    match: {name: eth0}
    address: 10.0.0.4/24
    gateway: 10.0.0.1
  lan:
    match: {name: eth1}
    address: 10.0.1.4/24
    gateway: 10.0.1.1
"""


def routes(m):
    out = ["10.0.0.0/22", "172.16.0.0/22"]
    for i in range(m):
        out.append("100.%d.%d.0/24" % (64 + i // 256, i % 256))
    return out


def pf_lines(n, target):
    lines = []
    for i in range(n):
        proto = "udp" if i % 4 == 3 else "tcp"
        port = 20000 + i
        frm = ", from: [10.0.3.0/24, 172.16.0.0/22]" if i % 2 == 0 else ""
        lines.append("  - {proto: %s, port: %d, to: %s, to_port: %d%s}"
                     % (proto, port, target(i), 1024 + i % 1000, frm))
    return lines


def guests(subnet, gw, rng, res):
    s = ["guests:", "  bridge: nr0", "  subnet: %s" % subnet, "  gateway: %s" % gw,
         "  dhcp:", "    range: %s" % rng, "    lease_time: 12h"]
    if res:
        s.append("    reservations:")
        s.extend(res)
    return s


def emit(lines):
    sys.stdout.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["vnet", "big", "dhcp"])
    ap.add_argument("--pf", type=int, default=0)
    ap.add_argument("--routes", type=int, default=0)
    ap.add_argument("--res", type=int, default=0)
    a = ap.parse_args()
    if a.routes > 16384 or a.pf > 45000 or a.res > 60000:
        ap.error("too many objects")
    out = [HEAD.rstrip("\n")]
    rt = routes(a.routes if a.kind == "big" else 0)
    out.append("    routes: [%s]" % ", ".join(rt))
    if a.kind == "big":
        # 10.64.0.0/16: reservations from 10.64.1.0 up, the pool below them
        res = ["      - {name: r%d, mac: \"52:54:%02x:%02x:%02x:%02x\", ip: 10.64.%d.%d}"
               % (i, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255,
                  1 + i // 250, 1 + i % 250) for i in range(a.res)]
        out += guests("10.64.0.0/16", "10.64.0.1", "10.64.0.10-10.64.0.250", res)
        n_res = max(a.res, 1)
        tgt = (lambda i: "r%d" % (i % n_res)) if a.res else (lambda i: "10.64.0.%d" % (10 + i % 200))
    elif a.kind == "dhcp":
        res = ['      - {name: web1, mac: "52:54:00:00:00:10", ip: 10.0.2.10}']
        out += guests("10.0.2.0/24", "10.0.2.1", "10.0.2.2-10.0.2.254", res)
        tgt = lambda i: "web1"
    else:
        res = ['      - {name: web1, mac: "52:54:00:00:00:10", ip: 10.0.2.10}']
        out += guests("10.0.2.0/24", "10.0.2.1", "10.0.2.100-10.0.2.200", res)
        tgt = lambda i: "10.0.2.%d" % (10 + i % 90)
    out.append("port_forwards:")
    out.append("  - {proto: tcp, port: 3390, to: %s, to_port: 3389, "
               "from: [10.0.3.0/24, 172.16.0.0/22]}" % tgt(0))
    out += pf_lines(a.pf, tgt)
    emit(out)


if __name__ == "__main__":
    main()
