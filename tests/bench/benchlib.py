"""benchlib: what every benchmark section shares (stdlib only).

Processes are started through `spawn` and recorded, so `cleanup` stops exactly those, by pid;
namespaces are created through `ns_add` and recorded, so `cleanup` deletes exactly those. Every
wait is bounded. Times are CLOCK_MONOTONIC (time.monotonic) unless a tool prints wall-clock
timestamps (ip -ts), which are compared with time.time().
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import statistics
import subprocess
import threading
import time
from datetime import datetime

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
VNET = os.path.join(ROOT, "tests", "netns", "vnet.sh")
LIBVIRT_SANDBOX = os.path.join(ROOT, "tests", "netns", "libvirt-sandbox.sh")
VNET_ID = "bench"
PREFIX = "nr-bench"

_procs = []        # Popen objects we started
_namespaces = []   # namespaces we created (outside vnet.sh)
_cleanups = []     # extra callables, run last-in first-out


def log(msg):
    print("# " + msg, flush=True)


# ------------------------------------------------------------------ statistics
def median(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    """min, max and the relative interquartile range of a sample."""
    if not xs:
        return {}
    s = sorted(xs)
    out = {"n": len(s), "min": s[0], "max": s[-1], "median": statistics.median(s)}
    if len(s) >= 4:
        q = statistics.quantiles(s, n=4)
        out["iqr_rel"] = (q[2] - q[0]) / out["median"] if out["median"] else None
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


# ------------------------------------------------------------------ commands
def run(*argv, check=True, capture=True, timeout=60, env=None, input=None):
    r = subprocess.run(argv, check=False, capture_output=capture, text=True, timeout=timeout,
                       env=env, input=input)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                                (r.stderr or "").strip()[-400:]))
    return r


def out(*argv, **kw):
    return run(*argv, **kw).stdout


def timed(*argv, timeout=60):
    """Runs argv, returns its wall time in seconds (fails on a non-zero exit)."""
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    t = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr[-400:]))
    return t


def spawn(argv, log_path=None, env=None, stdout=None):
    f = open(log_path, "ab") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout or f,
                         stderr=f if log_path else subprocess.DEVNULL, env=env,
                         start_new_session=True)
    _procs.append(p)
    return p


def stop(p, timeout=5.0):
    """SIGTERM, bounded wait, then SIGKILL; only this process (by pid)."""
    if p is None or p.poll() is not None:
        return p.returncode if p else None
    try:
        os.kill(p.pid, signal.SIGTERM)
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        return p.wait(timeout=5)
    except ProcessLookupError:
        return p.wait(timeout=5)


def wait_for(fn, timeout, step=0.01):
    """Calls fn until it returns something true; bounded by time and by a step count."""
    t_end = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 10):
        v = fn()
        if v:
            return v
        if time.monotonic() > t_end:
            break
        time.sleep(step)
    return None


# ------------------------------------------------------------------ namespaces
def ns_exists(ns):
    return os.path.exists("/run/netns/" + ns)


def ns_add(ns):
    assert ns.startswith(PREFIX + "-")
    if ns_exists(ns):
        ns_del(ns)
    run("ip", "netns", "add", ns)
    _namespaces.append(ns)
    run("ip", "-n", ns, "link", "set", "lo", "up")


def ns_kill_all(ns):
    """Stops every process left in a namespace we own (by pid, from `ip netns pids`)."""
    pids = [int(x) for x in out("ip", "netns", "pids", ns, check=False).split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if wait_for(lambda: not out("ip", "netns", "pids", ns, check=False).split(), 2, 0.05):
            return


def ns_del(ns):
    if not ns_exists(ns):
        return
    ns_kill_all(ns)
    run("ip", "netns", "del", ns, check=False)
    if ns in _namespaces:
        _namespaces.remove(ns)


def in_ns(ns, *argv):
    return ("ip", "netns", "exec", ns) + argv


def router_ns_fresh(ns):
    """A clean router VM: two NICs (veths whose peers stay in the namespace), nothing else."""
    ns_add(ns)
    batch = "".join("link add %s type veth peer name p%s\nlink set %s up\nlink set p%s up\n"
                    % (i, i, i, i) for i in ("eth0", "eth1"))
    run("ip", "-n", ns, "-batch", "-", input=batch)


# ------------------------------------------------------------------ the VNet
def vnet(*args, check=True, timeout=120, env_extra=None):
    env = dict(os.environ, NR_VNET_ID=VNET_ID, NR_VNET_QUIET="1")
    env.update(env_extra or {})
    return run("sh", VNET, *args, check=check, timeout=timeout, env=env)


def vnet_ns(role):
    return "%s-%s" % (PREFIX, role)


# ------------------------------------------------------------------ the daemon
SO_TIMESTAMPNS = 35  # Linux (asm-generic/socket.h); Python's socket module lacks the name


class Notify:
    """A NOTIFY_SOCKET: a thread records every datagram with its arrival time, the kernel's
    (SO_TIMESTAMPNS, taken when the datagram was queued), so that the time the thread takes to
    wake up and get Python's lock is not counted."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []          # (monotonic, text)
        self.cv = threading.Condition()
        self.closed = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.closed:
            try:
                data, anc, _, _ = self.sock.recvmsg(8192, 64)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    # the kernel's CLOCK_REALTIME stamp, moved onto CLOCK_MONOTONIC
                    now = sec + nsec / 1e9 - (time.time() - time.monotonic())
            with self.cv:
                self.msgs.append((now, data.decode(errors="replace")))
                self.cv.notify_all()

    def wait(self, pred, since_index=0, timeout=30.0):
        """Waits for a datagram (from index since_index on) for which pred(text) is true;
        returns (index, time) or None."""
        t_end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(since_index, len(self.msgs)):
                    if pred(self.msgs[i][1]):
                        return i, self.msgs[i][0]
                left = t_end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def count(self):
        with self.cv:
            return len(self.msgs)

    def close(self):
        self.closed = True
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def is_ready(text):
    return "READY=1" in text.split("\n")


def is_status(text):
    return any(l.startswith("STATUS=") for l in text.split("\n"))


class Daemon:
    """nestrouterd in a namespace, with its own config, run and state dirs and NOTIFY_SOCKET.
    A private copy of the binaries: a `make` running meanwhile must not swap them under us."""

    def __init__(self, ns, workdir, config_text, env_extra=None):
        self.ns = ns
        self.w = workdir
        os.makedirs(self.w, exist_ok=True)
        os.chmod(self.w, 0o755)  # dnsmasq (as nobody) must reach the hosts file in the run dir
        for d in ("run", "state", "conf", "bin"):
            os.makedirs(os.path.join(self.w, d), exist_ok=True)
        for b in ("nestrouterd", "nestrouterctl", "nestrouter-virt"):
            src, dst = os.path.join(BUILD, b), os.path.join(self.w, "bin", b)
            if not os.path.exists(dst) or os.path.getmtime(dst) != os.path.getmtime(src):
                shutil.copy2(src, dst)
        self.cfg = os.path.join(self.w, "conf", "nestrouter.yaml")
        self.write_config(config_text)
        self.env_extra = env_extra or {}
        self.p = None
        self.notify = None

    def write_config(self, text):
        tmp = self.cfg + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.cfg)

    def reset_state(self):
        for d in ("run", "state"):
            shutil.rmtree(os.path.join(self.w, d), ignore_errors=True)
            os.makedirs(os.path.join(self.w, d))

    def start(self):
        """Starts it; returns the monotonic time just before the exec."""
        self.notify = Notify(os.path.join(self.w, "notify.sock"))
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path, **self.env_extra)
        argv = in_ns(self.ns, os.path.join(self.w, "bin", "nestrouterd"), "--config", self.cfg,
                     "--run-dir", os.path.join(self.w, "run"), "--state-dir",
                     os.path.join(self.w, "state"))
        t0 = time.monotonic()
        self.p = spawn(list(argv), log_path=os.path.join(self.w, "daemon.log"), env=env)
        return t0

    def wait_ready(self, timeout=60):
        r = self.notify.wait(is_ready, 0, timeout)
        if not r:
            raise RuntimeError("nestrouterd in %s: no READY=1 within %ss (log %s)"
                               % (self.ns, timeout, os.path.join(self.w, "daemon.log")))
        return r[1]

    def ctl(self, *args, timeout=30):
        return run(os.path.join(self.w, "bin", "nestrouterctl"), "--run-dir",
                   os.path.join(self.w, "run"), *args, timeout=timeout)

    def status(self):
        return json.loads(self.ctl("status", "--json").stdout)

    def wait_converged(self, timeout=30):
        def conv():
            try:
                return self.status().get("converged")
            except (RuntimeError, ValueError):
                return False
        if not wait_for(conv, timeout, 0.1):
            raise RuntimeError("nestrouterd in %s did not converge within %ss" % (self.ns, timeout))

    def pid(self):
        return self.p.pid if self.p else None

    def dnsmasq_pid(self):
        try:
            with open(os.path.join(self.w, "run", "dnsmasq.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def stop(self):
        rc = stop(self.p)
        if self.notify:
            self.notify.close()
            self.notify = None
        return rc


# ------------------------------------------------------------------ monitors
class Monitor:
    """An independent `ip -ts monitor` / `nft monitor` in a namespace, its lines kept with the
    wall-clock time they were read (ip -ts also prints its own timestamp)."""

    def __init__(self, ns, argv):
        self.p = spawn(list(in_ns(ns, *argv)), stdout=subprocess.PIPE)
        self.lines = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append((time.time(), line))

    def quiet(self, secs=1.0, timeout=10.0):
        """Waits until nothing new was printed for secs (the kernel's own IPv6 link-local
        autoconfiguration settles); returns the number of lines so far."""
        t_end = time.monotonic() + timeout
        n = -1
        while time.monotonic() < t_end:
            cur = len(self.snapshot())
            if cur == n:
                return cur
            n = cur
            time.sleep(secs)
        return len(self.snapshot())

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def stop(self):
        stop(self.p)


_TS = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]\s*(.*)$")


def ip_ts(line):
    """`ip -ts monitor` line -> (epoch seconds, rest) or (None, line)."""
    m = _TS.match(line)
    if not m:
        return None, line
    return datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp(), m.group(2)


# ------------------------------------------------------------------ /proc
def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ cleanup
def at_cleanup(fn):
    _cleanups.append(fn)


def cleanup():
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception as e:  # cleanup goes on whatever failed
            log("cleanup: %s" % e)
    _cleanups.clear()
    for p in reversed(_procs):
        try:
            stop(p, 3)
        except Exception:
            pass
    for ns in list(_namespaces):
        ns_del(ns)
    vnet("down", check=False)


def cleanup_stale():
    """What an interrupted earlier run left: its VNet, its namespaces, its libvirtd."""
    vnet("down", check=False)
    lvdir = os.path.join(os.environ.get("BENCH_WORK", "/tmp/nr-bench-work"), "libvirt")
    if os.path.exists(os.path.join(lvdir, "libvirtd.pid")):
        run("sh", LIBVIRT_SANDBOX, "stop", lvdir, check=False, timeout=60)
    for ns in out("ip", "netns", "list", check=False).split("\n"):
        ns = ns.split(" ")[0]
        if ns.startswith(PREFIX + "-"):
            _namespaces.append(ns)
            ns_del(ns)
