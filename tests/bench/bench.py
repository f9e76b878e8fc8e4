#!/usr/bin/python3
"""nestrouter's benchmarks: `make bench` runs this. It prints a table and writes
build/bench.json (every figure with its raw samples, the ratios, the commands, the machine) and
build/bench-apply.png (apply time against the number of forwards and routes).

Environment (defaults in brackets): BENCH_ONLY (comma list of sections: libvirt, control,
scaling, nft, data, vnet, footprint, dhcp, bgp) [all], BENCH_BGP_ROUNDS [5], BENCH_ROUNDS [12] and BENCH_SECS [1] (data plane),
BENCH_DATA_VARIANTS [nestrouter,baseline,libvirt,bare; also inet_only, file, file=PATH],
BENCH_DATA_DESTS [azure_vm,internet,port_forward], BENCH_DATA_PROTOS [tcp,udp], BENCH_DATA_FILE (for file),
BENCH_COLD_ROUNDS [9], BENCH_SIZES ["100 300 1000 3000 10000"], BENCH_SCALE_REPS [3],
BENCH_IDLE_SECS [60], BENCH_DHCP_GUESTS [250; 30 guests also run], BENCH_DRIFT_SAMPLES [25], BENCH_WORK
[/tmp/nr-bench-work], BUILD [build].
Root only; every namespace it makes starts with nr-bench-; traffic stays between them.
"""
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B            # noqa: E402
import bench_bgp as G           # noqa: E402
import bench_control as C       # noqa: E402
import bench_data as D          # noqa: E402
import bench_libvirt as L       # noqa: E402
import bench_nft as N           # noqa: E402
import bench_vnet as V          # noqa: E402

SECTIONS = ["libvirt", "control", "scaling", "nft", "data", "vnet", "footprint", "dhcp", "bgp"]


def env_int(name, default):
    return int(os.environ.get(name, default))


def machine():
    def first(*argv):
        r = B.run(*argv, check=False)
        return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = f.readline().split()[1]
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu_model": cpu,
            "mem_kib": int(mem), "loadavg_start": os.getloadavg(),
            "debian": open("/etc/debian_version").read().strip(),
            "nft": first("nft", "--version"), "iperf3": first("iperf3", "--version"),
            "dnsmasq": first("dnsmasq", "--version"), "libvirtd": first("libvirtd", "--version"),
            "git": first("git", "-C", B.ROOT, "describe", "--always", "--dirty"),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ------------------------------------------------------------------ the table
def fmt_s(x):
    return "-" if x is None else ("%.1f ms" % (x * 1e3) if x < 10 else "%.1f s" % x)


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "MISSED")


def rows(r):
    out = []
    lv = r.get("libvirt")
    c = r.get("control")
    if c:
        out.append(("cold apply 4096 fwd/1000 routes/1000 res: nestrouterd (exec->READY)",
                    fmt_s(c["nestrouter_median_s"]), "", ""))
        out.append(("  raw-tool floor (ip -batch + sysctl + nft -f)", fmt_s(c["floor_median_s"]),
                    "", ""))
        out.append(("  ratio nestrouterd / floor", "%.2fx" % c["ratio"], "<= 1.5x",
                    verdict(c["ratio"] <= 1.5)))
        rl = c["reload"]
        # issue 11: <= 10 ms at 4,096 forwards (5 ms is the 1,000-forward target)
        out.append(("reload +1 forward (4096-forward table): reload -> pass done",
                    fmt_s(rl["median_s"]), "<= 10 ms", verdict(rl["median_s"] <= 0.010)))
        out.append(("  objects touched besides the element adds (nft/ip monitor)",
                    "%d" % (rl["n_nft_monitor_other"] + rl["n_ip_monitor_lines"]), "0",
                    verdict(rl["only_elements_touched"])))
        out.append(("RSS after converging, 4096/1000/1000 config",
                    "%.1f MiB" % (c["after_converge"]["rss_kib"] / 1024), "(info)", ""))
    n = r.get("nft")
    if n:
        for key, what, ms, mib in (("pf1000", "1000 forwards", 5, 8),
                                   ("big", "4096 forwards + 1000 routes + 1000 res.", 10, 12)):
            x = n[key]
            out.append(("nft: reload +1 forward, %s: reload -> pass done" % what,
                        fmt_s(x["reload"]["median_s"]), "<= %d ms" % ms,
                        verdict(x["reload"]["median_s"] <= ms / 1e3)))
            out.append(("  objects touched besides the element adds", "%d" % (
                x["reload"]["n_nft_monitor_other"] + x["reload"]["n_ip_monitor_lines"]), "0",
                verdict(x["reload"]["only_elements_touched"])))
            out.append(("nft: daemon RSS, %s (anonymous %.1f MiB)" % (what, x["anon_kib"] / 1024),
                        "%.1f MiB" % (x["rss_kib"] / 1024), "<= %d MiB" % mib,
                        verdict(x["rss_kib"] <= mib * 1024)))
        for x in n["largest"]:
            if x["check_rc"]:
                out.append(("nft: %d forwards" % x["forwards"], "refused by --check", "", ""))
            else:
                out.append(("nft: %d forwards: full applies / passes over 20 s idle"
                            % x["forwards"], "%d / %d" % (x["full_applies_while_idle"],
                                                         x["passes_while_idle"]), "0 / 0",
                            verdict(not x["full_applies_while_idle"]
                                    and not x["passes_while_idle"])))
    if r.get("bgp"):
        out += G.rows(r["bgp"], verdict)
    v = r.get("vnet")
    if v:
        rl = v["reload"]
        out.append(("reload +1 forward (1000-forward table, VNet)", fmt_s(rl["median_s"]),
                    "<= 5 ms", verdict(rl["median_s"] <= 0.005)))
        out.append(("  objects touched besides the element adds", "%d" % (
            rl["n_nft_monitor_other"] + rl["n_ip_monitor_lines"]), "0",
            verdict(rl["only_elements_touched"])))
        cr = v["converged"]
        out.append(("re-apply converged state: kernel writes (ip/nft monitor)",
                    "%d" % cr["kernel_writes_seen"], "0", verdict(cr["kernel_writes_seen"] == 0)))
        dr = v["drift"]
        out.append(("drift repair: route del returned -> re-add seen (median)",
                    fmt_s(dr["median_s"]), "<= 100 ms", verdict(dr["median_s"] <= 0.1)))
        out.append(("  worst of %d samples" % dr["samples"], fmt_s(dr["max_s"]), "<= 100 ms",
                    verdict(dr["max_s"] <= 0.1)))
    if lv:
        out.append(("virsh net-start (libvirt NAT network)", fmt_s(lv["virsh_median_s"]), "", ""))
        out.append(("  nestrouterd seed config: READY / dnsmasq serving",
                    "%s / %s" % (fmt_s(lv["nestrouter_ready_median_s"]),
                                 fmt_s(lv["nestrouter_dnsmasq_median_s"])), "", ""))
        sp = lv["speedup_dnsmasq_listening"]
        out.append(("  speed-up (to dnsmasq serving)", "%.1fx" % sp, ">= 10x", verdict(sp >= 10)))
    dp = r.get("data")
    if dp:
        files = [v for v in dp["ratios"] if v.startswith("file=")]
        for dest in ("azure_vm", "internet", "port_forward"):
            for v_ in (["nestrouter", "file", "inet_only", "bridge_only"] + files +
                       ["libvirt", "bare"]):
                q = dp["ratios"].get(v_, {}).get(dest)
                if not q:
                    continue
                b = dp["variants"]["baseline"][dest]
                m = dp["variants"][v_][dest]
                tgt = v_ == "nestrouter" and dest != "port_forward"   # no target: info
                tp, up = q["tcp_paired_median"], q["udp_paired_median"]
                if tp is not None:
                    out.append(("%s/baseline -> %s TCP (medians %.2f/%.2f Gbit/s)"
                                % (v_, dest, m["tcp_bps_median"] / 1e9, b["tcp_bps_median"] / 1e9),
                                "%.1f%%" % (100 * tp), ">= 97%" if tgt else "(info)",
                                verdict(tp >= 0.97) if tgt else ""))
                if up is None:
                    continue
                # issue 11 asks 97 % towards the internet (masqueraded), 95 % stays the VNet's
                umin = 0.97 if dest == "internet" else 0.95
                out.append(("%s/baseline -> %s 64 B UDP (medians %.0f/%.0f kpps)"
                            % (v_, dest, m["udp_pps_median"] / 1e3, b["udp_pps_median"] / 1e3),
                            "%.1f%%" % (100 * up), ">= %.0f%%" % (100 * umin) if tgt else "(info)",
                            verdict(up >= umin) if tgt else ""))
    dhcp = r.get("dhcp") or {}
    def dhcp_key(k):
        """largest size first; in each size: ours, the floor, ping_check"""
        for i, base in enumerate(("default", "floor", "ping_check")):
            if k == base or k.startswith(base + "_"):
                return (k != base, k[len(base):], i)
        return None
    for label in sorted((k for k in dhcp if dhcp_key(k)), key=dhcp_key):
        dh = dhcp[label]
        what = ("as shipped" if label.startswith("default") else
                "floor: the same dnsmasq and config by hand" if label.startswith("floor") else
                "ping_check: true, info")
        tgt = label == "default"
        if label.startswith(("default", "floor")) and dh.get("runs_s"):
            what += ", median of %d" % len(dh["runs_s"])
        out.append(("DHCP: %d guests at once, all leased (%s)" % (dh["guests"], what),
                    fmt_s(dh["all_leased_s"]) if dh["all_leased_s"] else
                    "%d/%d in %d s" % (dh["leased"], dh["guests"], dh["timeout_s"]),
                    "<= 5 s" if tgt else "(info)",
                    verdict(dh["all_leased_s"] is not None and dh["all_leased_s"] <= 5)
                    if tgt else ""))
        out.append(("  first lease / half leased", "%s / %s" % (fmt_s(dh["first_s"]),
                                                                 fmt_s(dh["p50_s"])), "", ""))
        if dh.get("dnsmasq_log"):
            out.append(("  dnsmasq offers / acks / naks", "%(DHCPOFFER)d / %(DHCPACK)d / %(DHCPNAK)d"
                        % dh["dnsmasq_log"], "", ""))
        if dh.get("runs_s"):
            out.append(("  every run (s) / NAKs", "%s / %s" % (
                " ".join("%.1f" % x if x is not None else "-" for x in dh["runs_s"]),
                " ".join(str(x) for x in dh["naks"])), "", ""))
        if dh.get("ratio_to_floor") is not None:
            out.append(("  nestrouter / floor (medians)", "%.2fx" % dh["ratio_to_floor"],
                        "<= 1.2x" if label == "default" else "(info)",
                        verdict(dh["ratio_to_floor"] <= 1.2) if label == "default" else ""))
    fp = r.get("footprint")
    if fp:
        out.append(("daemon RSS, seed config (anonymous %.1f MiB)" % (fp["anon_kib_seed"] / 1024),
                    "%.1f MiB" % (fp["rss_kib_seed"] / 1024), "<= 8 MiB",
                    verdict(fp["rss_kib_seed"] <= 8192)))
        out.append(("daemon RSS, 1000 forwards (anonymous %.1f MiB)"
                    % (fp["anon_kib_1000_forwards"] / 1024),
                    "%.1f MiB" % (fp["rss_kib_1000_forwards"] / 1024), "<= 8 MiB",
                    verdict(fp["rss_kib_1000_forwards"] <= 8192)))
        rl = fp["reload_seed"]
        out.append(("reload +1 forward (seed config, VNet)", fmt_s(rl["median_s"]), "<= 5 ms",
                    verdict(rl["median_s"] <= 0.005)))
        i = fp["idle"]
        out.append(("daemon CPU over %d s idle" % i["seconds"],
                    "%.2f s (%d passes)" % (i["daemon_cpu_s"], i["passes_while_idle"]), "~0",
                    verdict(i["daemon_cpu_s"] <= 0.05)))
        out.append(("dnsmasq CPU over %d s idle" % i["seconds"], "%.2f s" % i["dnsmasq_cpu_s"],
                    "(info)", ""))
    return out


def print_table(r):
    rs = rows(r)
    w = max(len(x[0]) for x in rs) if rs else 10
    print("\n%-*s  %-22s %-10s %s" % (w, "benchmark", "result", "target", ""))
    for a, b, c, d in rs:
        print("%-*s  %-22s %-10s %s" % (w, a, b, c, d))
    return rs


# ------------------------------------------------------------------ the plot
def plot(scaling, png):
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        f.write("# n  nestrouterd_ms  floor_ms\n")
        for row in scaling:
            f.write("%d %.2f %.2f\n" % (row["n"], 1e3 * row["nestrouter_median_s"],
                                        1e3 * row["floor_median_s"]))
    gp = """set terminal pngcairo size 900,560 font ",11"
set output '%s'
set title "Cold apply: N port forwards + N LAN routes + N reservations (median)"
set xlabel "N"
set ylabel "time to applied (ms)"
set logscale xy
set grid
set key top left
plot '%s' using 1:2 with linespoints lw 2 pt 7 title "nestrouterd: exec -> READY=1", \\
     '%s' using 1:3 with linespoints lw 2 pt 5 title "floor: ip -batch + sysctl + nft -f"
""" % (png, dat, dat)
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode != 0:
        B.log("gnuplot: %s" % r.stderr.strip())
        return None
    return png


# ------------------------------------------------------------------ main
def main():
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces)")
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s] or SECTIONS
    work = os.environ.get("BENCH_WORK", "/tmp/nr-bench-work")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    res = {"machine": machine(), "sections_run": only, "errors": {}, "seconds": {}}
    t_all = time.monotonic()
    B.cleanup_stale()
    seed = open(os.path.join(B.ROOT, "configs", "azure-nested.yaml")).read()
    libvirt_rules = None
    d = None

    def section(name, fn):
        if name not in only:
            return None
        t0 = time.monotonic()
        B.log("== %s" % name)
        try:
            v = fn()
            res[name] = v
            return v
        except Exception as e:
            res["errors"][name] = "%s\n%s" % (e, traceback.format_exc())
            B.log("%s FAILED: %s" % (name, e))
            return None
        finally:
            res["seconds"][name] = round(time.monotonic() - t0, 1)

    try:
        data_variants = os.environ.get("BENCH_DATA_VARIANTS", "libvirt")
        if "libvirt" in only or ("data" in only and "libvirt" in data_variants.split(",")):
            lv = L.Libvirt(work)
            libvirt_rules, lvres = L.run(lv, env_int("BENCH_COLD_ROUNDS", 9), work)
            res["libvirt_rules"] = libvirt_rules
            if "libvirt" in only:
                res["libvirt"] = lvres
            lv.stop()
        section("control", lambda: C.cold_apply(env_int("BENCH_COLD_ROUNDS", 9), work))
        sizes = [int(x) for x in os.environ.get("BENCH_SIZES", "100 300 1000 3000 10000").split()]
        sc = section("scaling", lambda: C.scaling(sizes, env_int("BENCH_SCALE_REPS", 3), work))
        if sc:
            res["plot"] = plot(sc, os.path.join(B.BUILD, "bench-apply.png"))
        section("nft", lambda: N.run(os.path.join(work, "nft")))
        if any(s in only for s in ("data", "vnet", "footprint", "dhcp")):
            # the configuration the daemon runs: 1,000 forwards and the data section's two
            vcfg = D.with_pf_forwards(C.genconf("vnet", "--pf", 1000))
            d = D.setup(work, vcfg)
            section("data", lambda: D.run(d, libvirt_rules, env_int("BENCH_ROUNDS", 12),
                                          env_int("BENCH_SECS", 1)))
            section("vnet", lambda: {
                "converged": V.converged_reapply(d),
                "drift": V.drift_latency(d, env_int("BENCH_DRIFT_SAMPLES", 25)),
                "reload": C.reload_one_forward(d, vcfg, rounds=10)})
            section("footprint", lambda: V.footprint(d, seed, env_int("BENCH_IDLE_SECS", 60)))
            section("dhcp", lambda: V.dhcp(d, C.genconf("dhcp"),
                                           sorted({30, env_int("BENCH_DHCP_GUESTS", 250)}), work, 120,
                                           env_int("BENCH_DHCP_REPEAT", 3)))
        section("bgp", lambda: G.run(env_int("BENCH_BGP_ROUNDS", 5)))
    finally:
        B.cleanup()
    res["seconds"]["total"] = round(time.monotonic() - t_all, 1)
    res["machine"]["loadavg_end"] = os.getloadavg()
    table = print_table(res)
    res["table"] = [dict(zip(("benchmark", "result", "target", "verdict"), x)) for x in table]
    path = os.path.join(B.BUILD, "bench.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print("\nwrote %s%s; %d s in all" % (path, " and " + res["plot"] if res.get("plot") else "",
                                         res["seconds"]["total"]))
    if res["errors"]:
        print("sections that failed: %s" % ", ".join(res["errors"]))
        sys.exit(1)


if __name__ == "__main__":
    main()
