"""The daemon in the simulated VNet: re-applying a converged state (kernel writes seen by
independent monitors), drift repair latency, footprint (RSS, CPU while idle) and 250 guests
leasing at once."""
import os
import time

import benchlib as B
import bench_control as C

ROUTE = "172.16.0.0/22"   # on-premises, via NIC2: one of the daemon's routes


def converged_reapply(d, reloads=3):
    """Reloads of an unchanged file and the passes after them must write nothing: counted by
    `ip monitor all` and `nft monitor` in the router namespace, and by the daemon itself."""
    ipmon = B.Monitor(d.ns, ("ip", "-ts", "monitor", "link", "address", "route", "rule", "netconf"))
    nftmon = B.Monitor(d.ns, ("nft", "monitor"))
    n_ip, n_nft = ipmon.quiet(), nftmon.quiet()
    c0 = d.status()["counters"]
    passes = 0
    for _ in range(reloads):
        i0 = d.notify.count()
        d.ctl("reload")
        if d.notify.wait(B.is_status, i0, 10):
            passes += 1
        time.sleep(0.3)
    time.sleep(1.0)
    c1 = d.status()["counters"]
    lines = [l for _, l in ipmon.snapshot()[n_ip:]] + [l for _, l in nftmon.snapshot()[n_nft:]]
    ipmon.stop()
    nftmon.stop()
    return {"reloads": reloads, "passes_seen": passes, "monitor_lines": lines[:40],
            "kernel_writes_seen": len(lines), "daemon_writes": c1["writes"] - c0["writes"],
            "passes_counted": c1["passes"] - c0["passes"], "target_writes": 0,
            "commands": ["ip -ts monitor link address route rule netconf", "nft monitor", "nestrouterctl reload (x%d)" % reloads]}


def drift_latency(d, samples):
    """`ip route del` of one of our routes; from just after the command returns to the
    re-add line of an independent `ip -ts monitor route` (its own timestamps)."""
    mon = B.Monitor(d.ns, ("ip", "-ts", "-4", "monitor", "route"))
    time.sleep(0.5)
    lat, kernel_lat, raw = [], [], []
    for _ in range(samples):
        n0 = len(mon.snapshot())
        B.run(*B.in_ns(d.ns, "ip", "route", "del", ROUTE, "table", "main"))
        t_del = time.time()

        def readded():
            for _, line in mon.snapshot()[n0:]:
                ts, rest = B.ip_ts(line)
                if rest.startswith(ROUTE + " via") and ts:
                    return ts
            return None
        t_add = B.wait_for(readded, 5, 0.002)
        if not t_add:
            raise RuntimeError("drift: %s not re-added within 5 s" % ROUTE)
        t_gone = next((B.ip_ts(l)[0] for _, l in mon.snapshot()[n0:]
                       if B.ip_ts(l)[1].startswith("Deleted " + ROUTE)), None)
        lat.append(t_add - t_del)
        if t_gone:
            kernel_lat.append(t_add - t_gone)
        raw.append({"deleted_returned": t_del, "deleted_seen": t_gone, "readded_seen": t_add})
        time.sleep(0.25)   # let the follow-up pass run before the next delete
    mon.stop()
    return {"samples": samples, "latency_s": lat, "median_s": B.median(lat), "max_s": max(lat),
            "monitor_delete_to_readd_s": kernel_lat, "raw": raw, "target_s_max": 0.1,
            "spread": B.spread(lat),
            "commands": ["ip -n nr-bench-rtr route del %s table main" % ROUTE,
                         "ip -ts -4 monitor route"]}


def cpu_idle(d, secs):
    dm = d.dnsmasq_pid()
    t0 = (B.proc_cpu_ticks(d.pid()), B.proc_cpu_ticks(dm) if dm else 0)
    c0 = d.status()["counters"]
    time.sleep(secs)
    c1 = d.status()["counters"]
    t1 = (B.proc_cpu_ticks(d.pid()), B.proc_cpu_ticks(dm) if dm else 0)
    return {"seconds": secs,
            "daemon_cpu_s": (t1[0] - t0[0]) / B.CLK_TCK,
            "dnsmasq_cpu_s": (t1[1] - t0[1]) / B.CLK_TCK,
            "daemon_cpu_pct": 100.0 * (t1[0] - t0[0]) / B.CLK_TCK / secs,
            "passes_while_idle": c1["passes"] - c0["passes"],
            "clk_tck": B.CLK_TCK}


def anon_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    return None


def footprint(d, seed_cfg, idle_secs):
    """RSS after converging (the VNet config with 1,000 forwards, then the seed config), then
    CPU over idle_secs with the seed config."""
    out = {"rss_kib_1000_forwards": B.proc_rss_kib(d.pid()),
           "anon_kib_1000_forwards": anon_kib(d.pid()),
           "dnsmasq_rss_kib_1000_forwards": B.proc_rss_kib(d.dnsmasq_pid())}
    d.stop()
    B.run(*B.in_ns(d.ns, "nft", "flush", "ruleset"))   # a cold start, as on a fresh VM
    d.reset_state()
    d.write_config(seed_cfg)
    d.start()
    d.wait_ready()
    d.wait_converged()
    time.sleep(2)
    out["rss_kib_seed"] = B.proc_rss_kib(d.pid())
    out["anon_kib_seed"] = anon_kib(d.pid())
    out["dnsmasq_rss_kib_seed"] = B.proc_rss_kib(d.dnsmasq_pid())
    out["idle"] = cpu_idle(d, idle_secs)
    out["reload_seed"] = C.reload_one_forward(d, seed_cfg, rounds=10)
    out["rss_kib_seed_after_idle"] = B.proc_rss_kib(d.pid())
    out["target_rss_kib_max"] = 8 * 1024
    return out


# ------------------------------------------------------------------ DHCP
def dhcp(d, dhcp_cfg, sizes, work, timeout, repeat=3):
    """For each number of guests: as shipped (guests.dhcp.ping_check false: dnsmasq's no-ping)
    side by side with the floor (the same dnsmasq and configuration started by hand), `repeat`
    times each, alternating, for medians; and, for information, once with `ping_check: true`.
    Each from empty leases. Keys: "default", "floor" and "ping_check" for the largest size,
    "default_N", "floor_N" and "ping_check_N" for the others; each holds the run with the
    median time, with every run's time in "runs_s"."""
    ping_cfg = dhcp_cfg.replace("    lease_time: 12h\n", "    lease_time: 12h\n    ping_check: true\n", 1)
    if ping_cfg == dhcp_cfg:
        raise RuntimeError("genconf dhcp: no lease_time line to add ping_check after")
    out = {}
    big = max(sizes)

    def ours(cfg, key):
        d.stop()
        d.reset_state()
        d.write_config(cfg)
        log = os.path.join(d.w, "daemon.log")
        log_at = os.path.getsize(log) if os.path.exists(log) else 0
        d.start()
        d.wait_ready()
        d.wait_converged()
        res = dhcp_once(d, n, os.path.join(work, "dhcp-" + key), timeout)
        res["dnsmasq_log"] = dnsmasq_counts(log, log_at)
        return res

    def median_run(runs):
        done = sorted((r for r in runs if r["all_leased_s"] is not None),
                      key=lambda r: r["all_leased_s"])
        pick = dict(done[(len(done) - 1) // 2] if len(done) == len(runs) else runs[0])
        pick["runs_s"] = [r["all_leased_s"] for r in runs]
        pick["naks"] = [r["dnsmasq_log"]["DHCPNAK"] for r in runs]
        return pick

    for n in sizes:
        sfx = "" if n == big else "_%d" % n
        mine, floor = [], []
        for i in range(repeat):
            mine.append(ours(dhcp_cfg, "default%s-%d" % (sfx, i)))
            floor.append(dhcp_floor(d, n, os.path.join(work, "dhcp-floor%s-%d" % (sfx, i)), timeout))
            B.log("dhcp %d guests, run %d: nestrouter %s s (%s NAKs), floor %s s (%s NAKs)" % (
                n, i + 1, mine[-1]["all_leased_s"], mine[-1]["dnsmasq_log"]["DHCPNAK"],
                floor[-1]["all_leased_s"], floor[-1]["dnsmasq_log"]["DHCPNAK"]))
        out["default" + sfx] = median_run(mine)
        out["floor" + sfx] = median_run(floor)
        a, f = out["default" + sfx]["all_leased_s"], out["floor" + sfx]["all_leased_s"]
        out["default" + sfx]["ratio_to_floor"] = round(a / f, 2) if a and f else None
        out["ping_check" + sfx] = ours(ping_cfg, "ping_check" + sfx)
        B.log("dhcp %d guests: medians nestrouter %s s, floor %s s (ratio %s); ping_check %s s" % (
            n, a, f, out["default" + sfx]["ratio_to_floor"], out["ping_check" + sfx]["all_leased_s"]))
    out["target_s_max"] = 5.0
    out["target_ratio_to_floor_max"] = 1.2
    out["repeat"] = repeat
    return out


def dhcp_floor(d, n, work, timeout):
    """The floor: the same dnsmasq with the very configuration nestrouterd generated (its conf
    and hostsfile, kept where the conf names them), started by hand in the router namespace with
    nestrouterd stopped (the bridge, routes and nft tables stay: SIGTERM leaves the data plane),
    from empty leases."""
    os.makedirs(work, exist_ok=True)
    run = os.path.join(d.w, "run")
    files = {}
    for name in ("dnsmasq.conf", "dnsmasq.hosts"):
        p = os.path.join(run, name)
        if os.path.exists(p):
            with open(p) as f:
                files[name] = f.read()
    if "dnsmasq.conf" not in files:
        raise RuntimeError("dhcp floor: nestrouterd wrote no dnsmasq.conf in %s" % run)
    d.stop()
    d.reset_state()  # empty leases, as for the daemon's runs
    for name, text in files.items():
        with open(os.path.join(run, name), "w") as f:
            f.write(text)
    open(os.path.join(d.w, "state", "dnsmasq.leases"), "w").close()
    conf = os.path.join(run, "dnsmasq.conf")
    log = os.path.join(work, "dnsmasq.log")
    p = B.spawn(list(B.in_ns(d.ns, "dnsmasq", "--keep-in-foreground", "--conf-file=" + conf)),
                log_path=log)
    try:
        time.sleep(0.5)
        if p.poll() is not None:
            with open(log, errors="replace") as f:
                raise RuntimeError("dhcp floor: dnsmasq exited (%s)" % f.read()[-400:])
        res = dhcp_once(d, n, work, timeout)
        res["dnsmasq_log"] = dnsmasq_counts(log, 0)
        res["how"] = "dnsmasq --keep-in-foreground --conf-file=<nestrouterd's own dnsmasq.conf>"
    finally:
        B.stop(p, 3)
    return res


def dnsmasq_counts(log, offset):
    """How many DHCPOFFER/DHCPACK/DHCPNAK lines dnsmasq logged from offset on (a NAK is a
    REQUEST for an address another client got first: two clients were offered the same one)."""
    counts = {"DHCPOFFER": 0, "DHCPACK": 0, "DHCPNAK": 0}
    with open(log, errors="replace") as f:
        f.seek(offset)
        for line in f:
            for k in counts:
                if k + "(" in line:
                    counts[k] += 1
    return counts


def dhcp_once(d, n, work, timeout):
    """n guest namespaces nr-bench-gNNN on the router's bridge, each with busybox udhcpc (the
    VNet's hook), all started at once; the time until every one has a lease."""
    rtr = d.ns
    leases = os.path.join(work, "dhcp-leases")
    os.makedirs(leases, exist_ok=True)
    hook = "/tmp/nr-vnet-%s/hooks/udhcpc-hook.sh" % B.VNET_ID
    names = ["%s-g%03d" % (B.PREFIX, i) for i in range(n)]
    t_setup = time.monotonic()
    for ns in names:
        B.ns_add(ns)
    batch = "".join("link add vb%03d type veth peer name eth0 netns %s\nlink set vb%03d master nr0\n"
                    "link set vb%03d up\n" % (i, ns, i, i) for i, ns in enumerate(names))
    B.run("ip", "-n", rtr, "-batch", "-", input=batch, timeout=120)
    setup_s = time.monotonic() - t_setup
    B.log("dhcp: %d guest namespaces in %.1f s; starting every udhcpc" % (n, setup_s))
    procs, files = [], []
    t0 = time.monotonic()
    for i, ns in enumerate(names):
        f = os.path.join(leases, "g%03d" % i)
        files.append(f)
        env = dict(os.environ, NRV_LEASE=f, NRV_ROUTES="0", NRV_RESOLV="")
        procs.append(B.spawn(list(B.in_ns(ns, "busybox", "udhcpc", "-f", "-i", "eth0", "-s", hook,
                                          "-t", "0", "-T", "1", "-A", "1")), env=env))
    spawn_s = time.monotonic() - t0
    got = {}
    t_end = t0 + timeout
    while len(got) < n and time.monotonic() < t_end:
        now = time.monotonic()
        for i, f in enumerate(files):
            if i not in got and os.path.exists(f):
                got[i] = now - t0
        time.sleep(0.05)
    times = sorted(got.values())
    for p in procs:
        B.stop(p, 2)
    leased_file = os.path.join(d.w, "state", "dnsmasq.leases")
    with open(leased_file) as f:
        n_server = sum(1 for _ in f)
    for ns in names:
        B.ns_del(ns)

    def pct(q):
        return times[min(len(times) - 1, int(q * n) - 1)] if len(times) >= int(q * n) > 0 else None
    return {"guests": n, "leased": len(times), "all_leased_s": times[-1] if len(times) == n else None,
            "first_s": times[0] if times else None, "p50_s": pct(0.5), "p90_s": pct(0.9),
            "timeout_s": timeout, "target_s_max": 5.0, "spawn_s": spawn_s,
            "namespace_setup_s": setup_s, "server_leases": n_server, "lease_times_s": times,
            "pool": "10.0.2.2-10.0.2.254", "client": "busybox udhcpc -t 0 -T 1 -A 1"}
