"""libvirt's NAT network as the peer: a private libvirtd (tests/netns/libvirt-sandbox.sh) in its own namespace
defines the network a user would otherwise create for the guests (bridge nr0, 10.0.2.0/24,
DHCP pool, one reservation, NAT). We capture the firewall rules `virsh net-start` installs (the
data plane section loads them verbatim into the router) and time net-start against
nestrouterd's cold start with the seed configuration, interleaved."""
import os
import time

import benchlib as B
import bench_control as C

LV_NS = B.PREFIX + "-lv"
NET_XML = """<network>
  <name>nrbench</name>
  <forward mode='nat'/>
  <bridge name='nr0' stp='off' delay='0'/>
  <ip address='10.0.2.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.0.2.100' end='10.0.2.200'/>
      <host mac='52:54:00:00:00:10' name='web1' ip='10.0.2.10'/>
    </dhcp>
  </ip>
</network>
"""
SANDBOX = B.LIBVIRT_SANDBOX


class Libvirt:
    def __init__(self, work):
        self.dir = os.path.join(work, "libvirt")
        self.uri = "qemu+unix:///system?socket=%s/run/libvirt/libvirt-sock" % self.dir
        B.ns_add(LV_NS)
        B.at_cleanup(self.stop)
        B.run("sh", SANDBOX, "start", self.dir, LV_NS, timeout=60)
        xml = os.path.join(self.dir, "nrbench.xml")
        with open(xml, "w") as f:
            f.write(NET_XML)
        self.virsh("net-define", xml, timeout=120)   # the first connection may probe QEMU

    def virsh(self, *args, timeout=60):
        return B.run("virsh", "-q", "-c", self.uri, *args, timeout=timeout)

    def stop(self):
        B.run("sh", SANDBOX, "stop", self.dir, check=False, timeout=60)
        B.ns_del(LV_NS)

    def rules(self):
        """What libvirt installed, as iptables-save prints it (iptables-nft here)."""
        return B.out(*B.in_ns(LV_NS, "iptables-save"))


def dnsmasq_listening(pid):
    """dnsmasq (pid) has its DHCP socket (udp :67) open in its namespace."""
    try:
        with open("/proc/%d/net/udp" % pid) as f:
            return any(":0043 " in line.split(None, 3)[1] + " " for line in list(f)[1:])
    except (OSError, IndexError):
        return False


def nr_cold_seed(work):
    """nestrouterd with configs/azure-nested.yaml on a clean router namespace: READY, and when
    its dnsmasq has the DHCP socket open (what net-start waits for)."""
    with open(os.path.join(B.ROOT, "configs", "azure-nested.yaml")) as f:
        cfg = f.read()
    B.router_ns_fresh(C.CA_NS)
    d = B.Daemon(C.CA_NS, os.path.join(work, "seed"), cfg)
    d.reset_state()
    t0 = d.start()
    t_ready = d.wait_ready()
    t_dm = B.wait_for(lambda: d.dnsmasq_pid() and dnsmasq_listening(d.dnsmasq_pid())
                      and time.monotonic(), 5, 0.0005)
    d.stop()
    B.ns_del(C.CA_NS)
    return t_ready - t0, (t_dm - t0) if t_dm else None


def run(lv, rounds, work):
    lv.virsh("net-start", "nrbench")
    rules = lv.rules()
    lv.virsh("net-destroy", "nrbench")
    vs, nr_ready, nr_dm = [], [], []
    B.log("virsh net-start vs nestrouterd cold start: %d rounds" % rounds)
    for _ in range(rounds):
        t0 = time.monotonic()
        lv.virsh("net-start", "nrbench")
        vs.append(time.monotonic() - t0)
        lv.virsh("net-destroy", "nrbench")
        a, b = nr_cold_seed(work)
        nr_ready.append(a)
        nr_dm.append(b)
    return rules, {
        "virsh_net_start_s": vs, "nestrouter_ready_s": nr_ready,
        "nestrouter_dnsmasq_listening_s": nr_dm,
        "virsh_median_s": B.median(vs), "nestrouter_ready_median_s": B.median(nr_ready),
        "nestrouter_dnsmasq_median_s": B.median([x for x in nr_dm if x]),
        "speedup_ready": B.ratio(B.median(vs), B.median(nr_ready)),
        "speedup_dnsmasq_listening": B.ratio(B.median(vs), B.median([x for x in nr_dm if x])),
        "target_speedup_min": 10,
        "network_xml": NET_XML,
        "commands": {"libvirt": "virsh -c URI net-start nrbench (then net-destroy, untimed)",
                     "nestrouter": "nestrouterd --config configs/azure-nested.yaml on a clean "
                                   "namespace, exec -> READY=1 and -> dnsmasq udp/67 open"},
    }
