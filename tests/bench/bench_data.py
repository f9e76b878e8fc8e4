"""Data plane in the simulated VNet: guest -> Azure VM and guest -> internet through four
router variants, interleaved round by round: nestrouter's full ruleset (the daemon running with
1,000 port forwards), the baseline minimum (conntrack + one masquerade rule), libvirt's NAT
rules exactly as libvirt 9.0 installed them (iptables-nft, captured by bench_libvirt) and, for
information, bare routing (no rules; guest -> Azure VM only: the fabric drops un-NATed packets
from NIC1, as Azure does)."""
import json
import os
import time

import benchlib as B

BASELINE = """table ip base {
        chain post {
                type nat hook postrouting priority srcnat;
                oifname "eth0" ip saddr 10.0.2.0/24 masquerade
        }
}
"""
SPLIT = ("inet_only", "bridge_only")   # nestrouter's two tables, each alone
DESTS = {"azure_vm": "10.0.3.4", "internet": "203.0.113.10", "port_forward": "10.0.0.4"}
GUEST = "g1"
GUEST_MAC = "52:54:00:00:00:10"   # web1's reservation: leased at once
# port_forward: the other way, an internet host -> NIC1:5201, forwarded to the guest's iperf3
# server (the two forwards setup() adds to the 1,000 of the configuration). The baseline then
# has the hand-written minimum for it too: this table beside its own, for those runs only (the
# other destinations' baseline stays without a dstnat hook). libvirt's rules and bare routing
# have no port forward.
PF_PORT = 5201
PF_FORWARDS = ("  - {proto: tcp, port: %d, to: 10.0.2.10}\n"
               "  - {proto: udp, port: %d, to: 10.0.2.10}\n" % (PF_PORT, PF_PORT))
BASELINE_PF = """table ip basepf {
        chain pre {
                type nat hook prerouting priority dstnat;
                iifname "eth0" meta l4proto { tcp, udp } th dport %d dnat to 10.0.2.10
        }
}
""" % PF_PORT


class Router:
    """Switches the router namespace between the variants. The daemon built the addresses,
    bridge, routes, policy rules and sysctls; SIGTERM leaves them in place, so the other
    variants change only the packet-filter rules."""

    def __init__(self, daemon, libvirt_rules):
        self.d = daemon
        self.ns = B.vnet_ns("rtr")
        self.libvirt_rules = libvirt_rules
        self.current = None
        self.inet_only = None
        self.bridge_only = None

    def flush(self):
        if self.d.p and self.d.p.poll() is None:
            self.d.stop()
        B.run(*B.in_ns(self.ns, "nft", "flush", "ruleset"))

    def set(self, variant):
        if variant == self.current:
            return
        self.flush()
        if variant == "nestrouter":
            self.d.start()
            self.d.wait_ready()
            self.d.wait_converged()
        elif variant == "inet_only":
            B.run(*B.in_ns(self.ns, "nft", "-f", "-"), input=self.inet_only)
        elif variant == "bridge_only":
            B.run(*B.in_ns(self.ns, "nft", "-f", "-"), input=BASELINE + self.bridge_only)
        elif variant == "file" or variant.startswith("file="):
            # any ruleset loaded by hand, e.g. an older build's (bench.json's
            # data.rulesets.nestrouter): file reads BENCH_DATA_FILE, file=PATH (as many as
            # wanted) reads PATH
            path = os.environ["BENCH_DATA_FILE"] if variant == "file" else variant[len("file="):]
            B.run(*B.in_ns(self.ns, "nft", "-f", path))
        elif variant == "baseline":
            B.run(*B.in_ns(self.ns, "nft", "-f", "-"), input=BASELINE)
        elif variant == "libvirt":
            B.run(*B.in_ns(self.ns, "iptables-restore"), input=self.libvirt_rules)
        elif variant == "bare":
            pass
        self.current = variant

    def capture(self):
        """The daemon's two tables as it runs them now, each to be loaded by hand without the
        other for the split variants: inet_only (nestrouter without the guests' address
        bindings) and bridge_only (the baseline plus only the bindings)."""
        self.d.wait_converged()
        self.inet_only = B.out(*B.in_ns(self.ns, "nft", "-s", "list", "table", "inet",
                                        "nestrouter"))
        self.bridge_only = B.out(*B.in_ns(self.ns, "nft", "-s", "list", "table", "bridge",
                                          "nestrouter"))

    def ruleset(self):
        return B.out(*B.in_ns(self.ns, "nft", "-s", "list", "ruleset"))


def iperf(dest, udp, secs, client="g-" + GUEST):
    argv = ["iperf3", "-c", dest, "-t", str(secs), "-J", "--connect-timeout", "3000"]
    if udp:
        argv += ["-u", "-b", "0", "-l", "64", "-P", "4"]
    r = B.run(*B.in_ns(B.vnet_ns(client), *argv), check=False, timeout=secs + 30)
    try:
        j = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError("iperf3 %s: %s" % (" ".join(argv), r.stderr.strip()[-300:]))
    if j.get("error"):
        raise RuntimeError("iperf3 %s: %s" % (" ".join(argv), j["error"]))
    end = j["end"]
    if not udp:
        return end["sum_received"]["bits_per_second"]
    s = end["sum"]
    return (s["packets"] - s["lost_packets"]) / s["seconds"]   # packets/s that arrived


def with_pf_forwards(cfg_text):
    """cfg_text, which ends in its port_forwards list, with the port_forward destination's two
    forwards appended."""
    return cfg_text.rstrip("\n") + "\n" + PF_FORWARDS


def setup(work, cfg_text):
    """cfg_text: the configuration the daemon runs (with_pf_forwards, for the data section's
    port_forward destination)."""
    B.vnet("up", timeout=120)
    rtr = B.vnet_ns("rtr")
    d = B.Daemon(rtr, os.path.join(work, "vnet"), cfg_text)
    d.reset_state()
    d.start()
    d.wait_ready()
    d.wait_converged()
    B.vnet("guest-add", GUEST, GUEST_MAC, env_extra={"NR_VNET_GUEST_PORTS": ""})
    for role in ("vm", "inet", GUEST):
        B.vnet("spawn", role, "iperf3", "iperf3", "-s")
        ns = B.vnet_ns("g-" + role if role == GUEST else role)
        if not B.wait_for(lambda: B.out(*B.in_ns(ns, "ss", "-Hltn", "sport = :5201")).strip(),
                          5, 0.05):
            raise RuntimeError("iperf3 server in %s not listening" % ns)
    return d


def env_list(name, default):
    return [x for x in os.environ.get(name, default).split(",") if x]


def run(d, libvirt_rules, rounds, secs):
    """BENCH_DATA_VARIANTS, BENCH_DATA_DESTS and BENCH_DATA_PROTOS (comma lists) narrow it down,
    e.g. to nestrouter,baseline / internet / udp for more rounds of the one ratio in question.
    The split variants say where nestrouter's cost towards the internet is (they run only
    there): inet_only (nestrouter's inet table without its bridge table) and bridge_only (the
    baseline plus only the bridge table). Run only when asked for: file (the ruleset in
    BENCH_DATA_FILE) and file=PATH (the ruleset in PATH; any number of them)."""
    r = Router(d, libvirt_rules)
    r.current = "nestrouter"   # running since setup()
    variants = env_list("BENCH_DATA_VARIANTS",
                        "nestrouter,baseline,libvirt,bare,inet_only,bridge_only")
    dests = {k: v for k, v in DESTS.items()
             if k in env_list("BENCH_DATA_DESTS", ",".join(DESTS))}
    protos = env_list("BENCH_DATA_PROTOS", "tcp,udp")
    samples = {v: {dest: {"tcp_bps": [], "udp_pps": []} for dest in dests} for v in variants}
    rulesets = {}
    if any(v in SPLIT for v in variants):
        r.capture()
    B.log("data plane: %d rounds x %d variants (%s), %s, %s, %d s per run"
          % (rounds, len(variants), ",".join(variants), ",".join(dests), ",".join(protos), secs))
    for k in range(rounds):
        for v in (variants if k % 2 == 0 else variants[::-1]):   # A B C D D C B A ...
            r.set(v)
            if v not in rulesets:
                rulesets[v] = r.ruleset()
            for dest, ip in dests.items():
                if v in SPLIT and dest != "internet":
                    continue   # the split is of the internet's ratio (the 64 B UDP target)
                if v == "bare" and dest == "internet":
                    continue   # un-NATed packets from NIC1 are dropped by the fabric
                if dest == "port_forward" and v in ("libvirt", "bare"):
                    continue   # no port forward there
                client = "inet" if dest == "port_forward" else "g-" + GUEST
                pf_base = dest == "port_forward" and v == "baseline"
                if pf_base:
                    B.run(*B.in_ns(r.ns, "nft", "-f", "-"), input=BASELINE_PF)
                try:
                    if "tcp" in protos:
                        samples[v][dest]["tcp_bps"].append(iperf(ip, False, secs, client))
                    if "udp" in protos:
                        samples[v][dest]["udp_pps"].append(iperf(ip, True, secs, client))
                finally:
                    if pf_base:
                        B.run(*B.in_ns(r.ns, "nft", "delete", "table", "ip", "basepf"))
        B.log("data plane round %d/%d done" % (k + 1, rounds))
    r.set("nestrouter")   # leave the daemon running for the next sections
    return summarize(samples, rulesets, rounds, secs)


def summarize(samples, rulesets, rounds, secs):
    out = {"rounds": rounds, "seconds_per_run": secs, "variants": {}, "ratios": {},
           "targets": {"tcp_ratio_min": 0.97, "udp_ratio_min": 0.95,
                       "udp_ratio_min_internet": 0.97},
           "baseline_port_forward": BASELINE_PF,
           "commands": {"tcp": "iperf3 -c DEST -t %d -J" % secs,
                        "udp": "iperf3 -c DEST -t %d -J -u -b 0 -l 64 -P 4" % secs},
           "rulesets": rulesets}
    for v, per in samples.items():
        out["variants"][v] = {}
        for dest, m in per.items():
            if not m["tcp_bps"] and not m["udp_pps"]:
                continue
            out["variants"][v][dest] = {
                "tcp_bps": m["tcp_bps"], "udp_pps": m["udp_pps"],
                "tcp_bps_median": B.median(m["tcp_bps"]), "udp_pps_median": B.median(m["udp_pps"]),
                "tcp_spread": B.spread(m["tcp_bps"]), "udp_spread": B.spread(m["udp_pps"])}
    base = out["variants"].get("baseline")
    for v, per in out["variants"].items():
        if v == "baseline" or not base:
            continue
        out["ratios"][v] = {}
        for dest, m in per.items():
            b = base[dest]
            paired_t = [x / y for x, y in zip(m["tcp_bps"], b["tcp_bps"]) if y]
            paired_u = [x / y for x, y in zip(m["udp_pps"], b["udp_pps"]) if y]
            # the headline is the median of per-round ratios: both runs of a pair are seconds
            # apart, so load from outside (shared cores) hits both alike
            out["ratios"][v][dest] = {
                "tcp_paired_median": B.median(paired_t), "udp_paired_median": B.median(paired_u),
                "tcp_paired": paired_t, "udp_paired": paired_u,
                "tcp_paired_spread": B.spread(paired_t), "udp_paired_spread": B.spread(paired_u),
                "tcp": B.ratio(m["tcp_bps_median"], b["tcp_bps_median"]),
                "udp": B.ratio(m["udp_pps_median"], b["udp_pps_median"])}
    return out
