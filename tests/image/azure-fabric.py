#!/usr/bin/python3
"""azure-fabric: the simulated Azure fabric's wireserver and IMDS for the image boot test and
`make run AZURE=1` (image/vm.sh starts it in the VNet's fabric namespace, where vnet.sh put
168.63.129.16 and 169.254.169.254). Written from what cloud-init 22.4 (Debian 12) sends and
expects; it records every request it receives.

  wireserver (WIRE:80):  GET /?comp=versions, GET /machine[/]?comp=goalstate (needs
                         x-ms-version), POST /machine?comp=health (the health report)
  IMDS (IMDS:80):        GET /metadata/versions, /metadata/instance[/PATH] (api-version,
                         Metadata: true, no X-Forwarded-For, like Azure's), scheduled events

Files in DIR: requests.log (one JSON object per request), health.log (one line per health
report: EPOCH-SECONDS STATE incarnation=… container=… instance=…; "INVALID …" when it does not
parse),
instance.json (the instance document served). Ends after --lifetime seconds or on SIGTERM.
"""
import argparse
import json
import signal
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# api-versions this fabric accepts (a subset of Azure's /metadata/versions; cloud-init 22.4 asks
# for 2021-08-01 and falls back to 2019-06-01 on 400; nestrouter uses 2021-02-01, 2020-07-01)
API_VERSIONS = ["2019-06-01", "2020-07-01", "2020-09-01", "2021-01-01", "2021-02-01",
                "2021-03-01", "2021-08-01", "2021-10-01", "2021-12-13"]
WIRE_VERSIONS = ["2012-11-30", "2010-12-15", "2010-28-10"]
LOCK = threading.Lock()
MAX_BODY = 65536


def nic_entry(spec):
    mac, ip, subnet, prefix = spec.split(",")
    return {"ipv4": {"ipAddress": [{"privateIpAddress": ip, "publicIpAddress": ""}],
                     "subnet": [{"address": subnet, "prefix": prefix}]},
            "ipv6": {"ipAddress": []},
            "macAddress": mac.replace(":", "").upper()}


def instance_document(a, keydata):
    return {
        "compute": {
            "azEnvironment": "AzurePublicCloud", "location": "westeurope",
            "name": a.host, "offer": "", "osType": "Linux", "placementGroupId": "",
            "platformFaultDomain": "0", "platformUpdateDomain": "0", "provider": "Microsoft.Compute",
            "publisher": "", "resourceGroupName": "rg-nested", "sku": "",
            "subscriptionId": "00000000-0000-0000-0000-000000000000", "tags": "",
            "version": "", "vmId": a.vm_id, "vmScaleSetName": "", "vmSize": "Standard_D4s_v5",
            "zone": "", "userData": "",
            "osProfile": {"adminUsername": a.user, "computerName": a.host,
                          "disablePasswordAuthentication": "true"},
            "publicKeys": [{"keyData": keydata, "path": "/home/%s/.ssh/authorized_keys" % a.user}],
            # Trusted Launch: Secure Boot and the vTPM on, as the VM itself finds them
            "securityProfile": {"secureBootEnabled": "true" if a.trusted_launch else "false",
                                "virtualTpmEnabled": "true" if a.trusted_launch else "false"},
            "storageProfile": {"dataDisks": [], "osDisk": {"osType": "Linux"}},
        },
        "network": {"interface": [nic_entry(n) for n in a.nic]},
    }


def goal_state(a):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:noNamespaceSchemaLocation="goalstate10.xsd">\n'
            '  <Version>2012-11-30</Version>\n'
            '  <Incarnation>%s</Incarnation>\n'
            '  <Machine><ExpectedState>Started</ExpectedState>'
            '<StopRolesDeadlineHint>300000</StopRolesDeadlineHint></Machine>\n'
            '  <Container>\n'
            '    <ContainerId>%s</ContainerId>\n'
            '    <RoleInstanceList><RoleInstance>\n'
            '      <InstanceId>%s</InstanceId>\n'
            '      <State>Started</State>\n'
            '    </RoleInstance></RoleInstanceList>\n'
            '  </Container>\n'
            '</GoalState>\n') % (a.incarnation, a.container_id, a.instance_id)


def versions_xml():
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Versions>\n'
            '  <Preferred><Version>2012-11-30</Version></Preferred>\n'
            '  <Supported>%s</Supported>\n</Versions>\n'
            % "".join("<Version>%s</Version>" % v for v in WIRE_VERSIONS))


def parse_health(body):
    """STATE incarnation=… container=… instance=… from a health report, or INVALID reason"""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        return "INVALID not XML: %s" % e
    if root.tag != "Health":
        return "INVALID root element %s" % root.tag
    f = {"incarnation": root.findtext("./GoalStateIncarnation"),
         "container": root.findtext("./Container/ContainerId"),
         "instance": root.findtext("./Container/RoleInstanceList/Role/InstanceId"),
         "state": root.findtext("./Container/RoleInstanceList/Role/Health/State")}
    if None in f.values():
        return "INVALID missing %s" % ",".join(k for k, v in f.items() if v is None)
    sub = root.findtext("./Container/RoleInstanceList/Role/Health/Details/SubStatus")
    return "%s incarnation=%s container=%s instance=%s%s" % (
        f["state"].strip(), f["incarnation"].strip(), f["container"].strip(),
        f["instance"].strip(), " substatus=%s" % sub.strip() if sub else "")


class Handler(BaseHTTPRequestHandler):
    server_version = "nr-azure-fabric"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # requests.log has it all
        pass

    def record(self, status, body=b"", note=""):
        now = time.time()
        entry = {"t": round(now - self.server.t0, 3), "ts": round(now, 3), "service": self.server.service,
                 "client": self.client_address[0], "method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()
                             if k.lower() not in ("host", "accept-encoding", "connection")},
                 "status": status}
        if body:
            entry["body"] = body.decode("utf-8", "replace")
        if note:
            entry["note"] = note
        with LOCK, open(self.server.dir + "/requests.log", "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    def reply(self, status, text, ctype, body=b"", note=""):
        data = text.encode()
        self.record(status, body, note)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""

    def do_GET(self):
        self.route(b"")

    def do_POST(self):
        self.route(self.read_body())

    def route(self, body):
        if self.server.service == "wire":
            self.wire(body)
        else:
            self.imds(body)

    # ---------------------------------------------------------------- wireserver
    def wire(self, body):
        u = urlsplit(self.path)
        comp = parse_qs(u.query).get("comp", [""])[0]
        xml = "text/xml; charset=utf-8"
        if self.command == "GET" and u.path == "/" and comp == "versions":
            return self.reply(200, versions_xml(), xml)
        if u.path not in ("/machine", "/machine/"):
            return self.reply(404, "", xml)
        if not self.headers.get("x-ms-version"):
            return self.reply(400, "<Error>missing x-ms-version</Error>", xml, body)
        if self.command == "GET" and comp == "goalstate":
            return self.reply(200, goal_state(self.server.args), xml)
        if self.command == "POST" and comp == "health":
            line = parse_health(body)
            with LOCK, open(self.server.dir + "/health.log", "a") as f:
                f.write("%.3f %s\n" % (time.time(), line))
            return self.reply(400 if line.startswith("INVALID") else 200, "", xml, body, line)
        return self.reply(404, "", xml, body)

    # ---------------------------------------------------------------- IMDS
    def imds(self, body):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        js = "application/json; charset=utf-8"
        if self.headers.get("Metadata", "").lower() != "true":
            return self.reply(400, json.dumps({"error": "Bad request. Required metadata header "
                                               "not specified"}), js, body)
        if self.headers.get("X-Forwarded-For"):
            return self.reply(400, json.dumps({"error": "Bad request. X-Forwarded-For header "
                                               "not allowed"}), js, body)
        if u.path == "/metadata/versions":
            return self.reply(200, json.dumps({"apiVersions": API_VERSIONS}), js)
        ver = q.get("api-version", [""])[0]
        if ver not in API_VERSIONS:
            return self.reply(400, json.dumps({"error": "Bad request. api-version is invalid or "
                                               "was not specified in the request.",
                                               "newest-versions": API_VERSIONS[-3:]}), js, body)
        if u.path == "/metadata/scheduledevents":
            if self.command == "POST":
                return self.reply(200, "", js, body)
            return self.reply(200, json.dumps({"DocumentIncarnation": 0, "Events": []}), js)
        parts = [p for p in u.path.split("/") if p]
        if parts[:2] != ["metadata", "instance"] or self.command != "GET":
            return self.reply(404, json.dumps({"error": "Not found"}), js, body)
        node = self.server.doc
        for p in parts[2:]:
            if isinstance(node, dict) and p in node:
                node = node[p]
            elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
                node = node[int(p)]
            else:
                return self.reply(404, json.dumps({"error": "Not found"}), js)
        if q.get("format", [""])[0] == "text":
            if isinstance(node, (dict, list)):
                return self.reply(400, json.dumps({"error": "Bad request. format=text is for "
                                                   "leaves"}), js)
            return self.reply(200, str(node), "text/plain; charset=utf-8")
        return self.reply(200, json.dumps(node), js)


def serve(service, addr, args, doc, t0):
    srv = ThreadingHTTPServer((addr, 80), Handler)
    srv.daemon_threads = True
    srv.service, srv.args, srv.doc, srv.dir, srv.t0 = service, args, doc, args.dir, t0
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wire", default="168.63.129.16")
    p.add_argument("--imds", default="169.254.169.254")
    p.add_argument("--dir", required=True, help="where the logs go")
    p.add_argument("--vm-id", required=True, help="the VM's SMBIOS UUID (IMDS compute.vmId)")
    p.add_argument("--user", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--key", required=True, help="the admin user's SSH public key file")
    p.add_argument("--nic", action="append", required=True, help="MAC,IP,SUBNET,PREFIX (in order)")
    p.add_argument("--incarnation", default="1")
    p.add_argument("--container-id", required=True)
    p.add_argument("--instance-id", required=True)
    p.add_argument("--trusted-launch", action="store_true",
                   help="securityProfile: Secure Boot and vTPM on")
    p.add_argument("--lifetime", type=int, default=3600, help="seconds until it exits")
    a = p.parse_args()
    with open(a.key) as f:
        doc = instance_document(a, f.read().strip())
    with open(a.dir + "/instance.json", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    t0 = time.time()
    servers = [serve("wire", a.wire, a, doc, t0), serve("imds", a.imds, a, doc, t0)]
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("azure-fabric: wireserver %s:80, IMDS %s:80, logs in %s, for %d s"
          % (a.wire, a.imds, a.dir, a.lifetime), flush=True)
    done.wait(a.lifetime)
    for s in servers:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
