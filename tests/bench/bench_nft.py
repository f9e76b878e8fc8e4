"""The nftables model's figures, side by side on one clean router namespace (no VNet): reload of
one added forward and RSS at 1,000 forwards and at 4,096 forwards + 1,000 routes + 1,000
reservations, and whether the largest tables settle. `BENCH_ONLY=nft make bench` runs only this
(a few minutes). Sizes: BENCH_NFT_BIG ["16383 32000"]: genconf adds one forward, so 16,384 (the
limit of docs/config.md 8) and 32,001, which --check refuses."""
import os
import subprocess
import time

import benchlib as B
import bench_control as C
import bench_vnet as V

NS = B.PREFIX + "-nft"


def start(cfg_text, work):
    B.router_ns_fresh(NS)
    d = B.Daemon(NS, work, cfg_text)
    d.reset_state()
    t0 = d.start()
    t_ready = d.wait_ready(timeout=300)
    return d, t_ready - t0


def one(label, cfg_text, work, rounds):
    d, ready = start(cfg_text, work)
    try:
        d.wait_converged(timeout=120)
        time.sleep(1.0)  # the baseline listing after the first apply
        rss = B.proc_rss_kib(d.pid())
        anon = V.anon_kib(d.pid())
        rl = C.reload_one_forward(d, cfg_text, rounds=rounds)
        rss_after = B.proc_rss_kib(d.pid())
        B.log("%s: ready %.1f ms, RSS %.1f MiB (anon %.1f), reload median %.2f ms, "
              "only elements %s, RSS after the reloads %.1f MiB"
              % (label, 1e3 * ready, rss / 1024, anon / 1024, 1e3 * rl["median_s"],
                 rl["only_elements_touched"], rss_after / 1024))
        return {"ready_s": ready, "rss_kib": rss, "anon_kib": anon, "reload": rl,
                "rss_kib_after_reloads": rss_after}
    finally:
        d.stop()
        B.ns_del(NS)


def status_retry(d, tries=5):
    """status --json of a daemon whose table is at the size limit: listing its counters takes
    about a second, near a control client's 2 s when the machine is busy, so a cut-off answer
    is asked again. Returns (status, seconds of the answer that arrived, failed attempts)."""
    for k in range(tries):
        t0 = time.monotonic()
        try:
            return d.status(), time.monotonic() - t0, k
        except (RuntimeError, ValueError):
            time.sleep(1)
    raise RuntimeError("status: no complete answer in %d tries" % tries)


def settles(n, work, secs=20):
    """n forwards: does --check take it, and if so does the daemon converge and then stay idle
    (no nft full applies, passes stop)?"""
    cfg = C.genconf("big", "--pf", n, "--routes", 0, "--res", 0)
    path = os.path.join(work, "big-%d.yaml" % n)
    os.makedirs(work, exist_ok=True)
    with open(path, "w") as f:
        f.write(cfg)
    chk = subprocess.run([os.path.join(B.BUILD, "nestrouterd"), "--check", path],
                         capture_output=True, text=True)
    out = {"forwards": n + 1, "check_rc": chk.returncode,
           "check_msg": (chk.stderr or chk.stdout).strip().splitlines()[:3]}
    if chk.returncode != 0:
        B.log("%d forwards: --check refuses it: %s" % (n + 1, out["check_msg"]))
        return out
    d, ready = start(cfg, work)
    try:
        B.wait_for(lambda: status_retry(d)[0].get("converged"), 300, 1)
        s0, _, _ = status_retry(d)
        time.sleep(secs)
        s1, _, _ = status_retry(d)
        _, status_s, cut = status_retry(d)
        out.update({"ready_s": ready, "rss_kib": B.proc_rss_kib(d.pid()),
                    "passes_while_idle": s1["counters"]["passes"] - s0["counters"]["passes"],
                    "full_applies_while_idle": s1["nft"]["full_applies"] - s0["nft"]["full_applies"],
                    "status_s": status_s, "status_cut_off": cut, "converged": s1["converged"]})
        B.log("%d forwards: ready %.0f ms, %d passes and %d full applies in %d s idle, status "
              "%.0f ms, RSS %.1f MiB" % (n + 1, 1e3 * ready, out["passes_while_idle"],
                                         out["full_applies_while_idle"], secs,
                                         1e3 * out["status_s"], out["rss_kib"] / 1024))
        return out
    finally:
        d.stop()
        B.ns_del(NS)


def run(work):
    rounds = int(os.environ.get("BENCH_NFT_ROUNDS", "10"))
    res = {"pf1000": one("1000 forwards (VNet config)", C.genconf("vnet", "--pf", 1000),
                         os.path.join(work, "nft-1000"), rounds),
           "big": one("4096 forwards, 1000 routes, 1000 reservations",
                      C.big_config(4096, 1000, 1000), os.path.join(work, "nft-big"), rounds)}
    res["largest"] = [settles(int(n), os.path.join(work, "nft-largest"))
                      for n in os.environ.get("BENCH_NFT_BIG", "16383 32000").split()]
    return res
