"""make bench's bgp section: Route Server mode's withdraw and re-advertise times, measured by
tests/netns/test-bgp.sh (BGP_BENCH=N rounds) against the simulated Route Server. Its namespaces
start with nr-bgp-. The route-table mode has no equivalent figure: a dead host keeps its route.
"""
import os
import re
import subprocess

import benchlib as B

PATTERNS = {
    "health_withdraw_ms": r"withdraw at Route Server: median (-?\d+) ms",
    "repaired_back_ms": r"route back in the fabric: median (-?\d+) ms",
    "drain_gone_ms": r"drain -> gone from the fabric: median (-?\d+) ms",
    "undrain_back_ms": r"undrain -> back: median (-?\d+) ms",
}


def run(rounds):
    env = dict(os.environ, BGP_BENCH=str(rounds),
               NRD=os.path.join(B.BUILD, "nestrouterd"), NRCTL=os.path.join(B.BUILD, "nestrouterctl"))
    p = subprocess.run(["sh", os.path.join(B.ROOT, "tests", "netns", "test-bgp.sh")], env=env,
                       capture_output=True, text=True, timeout=900)
    out = {"rounds": rounds, "suite_ok": p.returncode == 0}
    for key, pat in PATTERNS.items():
        m = re.search(pat, p.stdout)
        if not m:
            raise RuntimeError("test-bgp.sh printed no %s:\n%s" % (key, p.stdout[-2000:]))
        out[key] = int(m.group(1))
    return out


def rows(b, verdict):
    ok = lambda ms: 0 <= ms <= 1000  # noqa: E731
    return [
        ("BGP: health failure -> withdraw at Route Server (median)",
         "%d ms" % b["health_withdraw_ms"], "<= 1 s", verdict(ok(b["health_withdraw_ms"]))),
        ("  repaired -> route back in the fabric", "%d ms" % b["repaired_back_ms"], "(info)", ""),
        ("  drain -> gone from the fabric / undrain -> back",
         "%d / %d ms" % (b["drain_gone_ms"], b["undrain_back_ms"]), "<= 1 s",
         verdict(ok(b["drain_gone_ms"]) and ok(b["undrain_back_ms"]))),
        ("  route-table (UDR) mode, same failure", "never withdrawn", "(info)", ""),
    ]
