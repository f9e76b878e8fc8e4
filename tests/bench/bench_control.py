"""Control plane: cold apply against the raw-tool floor (and its scaling), reload of one added
port forward, and what `nestrouterd --check --json` / `--plan` say the floor must do."""
import json
import os
import re
import time

import benchlib as B

GEN = os.path.join(os.path.dirname(__file__), "genconf.py")
CA_NS = B.PREFIX + "-ca"


def genconf(*args):
    return B.out("/usr/bin/python3", GEN, *[str(a) for a in args])


def big_config(pf, routes, res):
    return genconf("big", "--pf", pf, "--routes", routes, "--res", res)


# ------------------------------------------------------------------ the floor
def floor_inputs(cfg_text, work):
    """The same job as raw tools: `ip -batch` of the links, addresses, routes and rules that
    `nestrouterd --plan` lists, one `sysctl -w` of its sysctls, `nft -f` of the ruleset that
    `--check --json` renders: both tables, the inet one and the guest bridge's address bindings
    (one element per reservation in three sets). Returns the argv lists and the files they
    read."""
    os.makedirs(work, exist_ok=True)
    cfg = os.path.join(work, "floor.yaml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    nrd = os.path.join(B.BUILD, "nestrouterd")
    j = json.loads(B.out(nrd, "--check", "--json", cfg))
    nft = os.path.join(work, "floor.nft")
    with open(nft, "w") as f:
        f.write(j["nft"] + j.get("nft_bridge", ""))
    batch, sysctls, other = [], [], []
    for line in B.out(nrd, "--plan", cfg).splitlines():
        m = re.match(r"link add (\S+) type bridge stp 0 forward_delay 0 up$", line)
        if m:
            batch += ["link add %s type bridge stp_state 0 forward_delay 0" % m[1],
                      "link set %s up" % m[1]]
        elif line.startswith(("addr ", "route ", "rule ")):
            batch.append(line)
        elif line.startswith("sysctl "):
            k, v = line[7:].split(" = ")
            sysctls.append("%s=%s" % (k, v))
        else:
            other.append(line)
    bf = os.path.join(work, "floor.batch")
    with open(bf, "w") as f:
        f.write("\n".join(batch) + "\n")
    cmds = [["ip", "-batch", bf], ["sysctl", "-q", "-w"] + sysctls, ["nft", "-f", nft]]
    return {"cmds": cmds, "ip_lines": len(batch), "sysctls": len(sysctls),
            "nft_lines": (j["nft"] + j.get("nft_bridge", "")).count("\n"), "not_in_floor": other}


def floor_once(fl):
    B.router_ns_fresh(CA_NS)
    t0 = time.monotonic()
    for c in fl["cmds"]:
        B.run(*B.in_ns(CA_NS, *c))
    t = time.monotonic() - t0
    B.ns_del(CA_NS)
    return t


# ------------------------------------------------------------------ nestrouterd cold
def dnsmasq_up_time(d, timeout=5.0):
    """When dnsmasq has written its pid file (after it bound its sockets)."""
    pf = os.path.join(d.w, "run", "dnsmasq.pid")
    t = B.wait_for(lambda: os.path.exists(pf) and os.path.getsize(pf) > 0 and time.monotonic(),
                   timeout, 0.001)
    return t


def nr_cold_once(cfg_text, work, keep=False):
    """Daemon exec -> READY=1 on a clean router namespace. Returns a dict of seconds; with keep
    the daemon is left running (returned as 'daemon')."""
    B.router_ns_fresh(CA_NS)
    d = B.Daemon(CA_NS, work, cfg_text)
    d.reset_state()
    t0 = d.start()
    t_ready = d.wait_ready()
    t_dm = dnsmasq_up_time(d)
    res = {"ready": t_ready - t0, "dnsmasq_up": (t_dm - t0) if t_dm else None}
    if keep:
        res["daemon"] = d
        return res
    d.stop()
    B.ns_del(CA_NS)
    return res


def cold_apply(rounds, work):
    """nestrouter vs the floor for 4,096 forwards, 1,000 LAN routes, 1,000 reservations."""
    cfg = big_config(4096, 1000, 1000)
    fl = floor_inputs(cfg, os.path.join(work, "floor"))
    nr, floor, dm = [], [], []
    B.log("cold apply: %d rounds (nestrouterd, floor interleaved)" % rounds)
    for k in range(rounds):
        r = nr_cold_once(cfg, os.path.join(work, "cold"))
        nr.append(r["ready"])
        dm.append(r["dnsmasq_up"])
        floor.append(floor_once(fl))
    # once more, kept running: RSS and pass cost after it converged
    r = nr_cold_once(cfg, os.path.join(work, "cold"), keep=True)
    d = r["daemon"]
    d.wait_converged()
    st = d.status()
    rss = B.proc_rss_kib(d.pid())
    res = {
        "objects": {"port_forwards": 4096, "lan_routes": 1000, "reservations": 1000},
        "nestrouter_ready_s": nr, "nestrouter_dnsmasq_up_s": dm, "floor_s": floor,
        "nestrouter_median_s": B.median(nr), "floor_median_s": B.median(floor),
        "ratio": B.ratio(B.median(nr), B.median(floor)),
        "target_ratio_max": 1.5,
        "floor_commands": [" ".join(c) for c in fl["cmds"]],
        "floor_counts": {k: fl[k] for k in ("ip_lines", "sysctls", "nft_lines")},
        "floor_leaves_out": fl["not_in_floor"],
        "spread_nestrouter": B.spread(nr), "spread_floor": B.spread(floor),
        "after_converge": {"rss_kib": rss, "last_pass_usec": st["last_pass_usec"],
                           "passes": st["counters"]["passes"],
                           "writes": st["counters"]["writes"]},
    }
    res["reload"] = reload_one_forward(d, cfg, rounds=10)
    d.stop()
    B.ns_del(CA_NS)
    return res


def scaling(sizes, reps, work):
    """Apply time against N port forwards + N LAN routes + N reservations (the plot)."""
    rows = []
    for n in sizes:
        cfg = big_config(n, n, n)
        fl = floor_inputs(cfg, os.path.join(work, "floor-%d" % n))
        nr, floor = [], []
        for _ in range(reps):
            nr.append(nr_cold_once(cfg, os.path.join(work, "scale"))["ready"])
            floor.append(floor_once(fl))
        rows.append({"n": n, "nestrouter_s": nr, "floor_s": floor,
                     "nestrouter_median_s": B.median(nr), "floor_median_s": B.median(floor),
                     "ratio": B.ratio(B.median(nr), B.median(floor))})
        B.log("scaling n=%d: nestrouterd %.1f ms, floor %.1f ms" %
              (n, 1e3 * B.median(nr), 1e3 * B.median(floor)))
    return rows


# ------------------------------------------------------------------ reload of one forward
def extra_forward(cfg_text, k):
    """cfg_text with k more open tcp forwards (ports 40000+) to the first forward's target."""
    m = re.search(r"port: 3390, to: (\S+?),", cfg_text)
    target = m.group(1)
    add = "".join("  - {proto: tcp, port: %d, to: %s, to_port: 8080}\n" % (40000 + i, target)
                  for i in range(k))
    return cfg_text + add


def reload_one_forward(d, base_cfg, rounds):
    """Each round adds one forward to the file and runs `nestrouterctl reload`; the time is
    from just before the reload command to the STATUS= notification that ends the pass it
    scheduled. Independent `nft monitor` and `ip monitor` must show only element adds."""
    nftmon = B.Monitor(d.ns, ("nft", "monitor"))
    ipmon = B.Monitor(d.ns, ("ip", "-ts", "monitor", "link", "address", "route", "rule", "netconf"))
    n_nft, n_ip = nftmon.quiet(), ipmon.quiet()
    c0 = d.status()
    times, passes, ctl_s = [], [], []
    for k in range(1, rounds + 1):
        d.write_config(extra_forward(base_cfg, k))
        time.sleep(0.05)
        i0 = d.notify.count()
        t0 = time.monotonic()
        d.ctl("reload")
        t_ctl = time.monotonic()
        r = d.notify.wait(B.is_status, i0, 30)
        if not r:
            raise RuntimeError("reload: no STATUS= after the pass")
        times.append(r[1] - t0)
        ctl_s.append(t_ctl - t0)
        time.sleep(0.3)  # the follow-up pass (our own events) settles
        passes.append(d.status()["last_pass_usec"] / 1e6)
    time.sleep(0.3)
    nft_lines = [l for _, l in nftmon.snapshot()[n_nft:]]
    ip_lines = [l for _, l in ipmon.snapshot()[n_ip:]]
    nftmon.stop()
    ipmon.stop()
    c1 = d.status()
    # the forward itself: its elements and its named counter (per-forward metrics)
    other_nft = [l for l in nft_lines if not re.match(
        r"(add element inet nestrouter (pf_dnat|pf_open|pf_from|pf_count_tcp|pf_count_udp) "
        r"|add counter inet nestrouter fwd-pf-(tcp|udp)-[0-9]+ |# new generation )", l)]
    return {
        "rounds": rounds, "reload_to_pass_done_s": times, "median_s": B.median(times),
        "ctl_reload_returns_s": ctl_s, "status_last_pass_s": passes,
        "target_s_max": 0.005,
        "nft_monitor_lines": len(nft_lines), "nft_monitor_other_lines": other_nft[:20],
        "n_nft_monitor_other": len(other_nft),
        "ip_monitor_lines": ip_lines[:20], "n_ip_monitor_lines": len(ip_lines),
        "nft_full_applies": c1["nft"]["full_applies"] - c0["nft"]["full_applies"],
        "nft_delta_applies": c1["nft"]["delta_applies"] - c0["nft"]["delta_applies"],
        "nft_direct_applies": c1["nft"]["direct_applies"] - c0["nft"]["direct_applies"],
        "writes_delta": c1["counters"]["writes"] - c0["counters"]["writes"],
        "only_elements_touched": not other_nft and not ip_lines,
    }
