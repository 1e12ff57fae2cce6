"""One network namespace per ensemble member, and partitions made with iptables inside them.

Layout (every name carries a run-specific prefix `fkpXXXXXX`, so parallel runs never clash):

    root ns: veth PREFIXr, 10.A.B.254/24  <-- the driver: Kazoo clients and four-letter words
        |
    PREFIX-hub ns: bridge br0, ports up0 (to the root ns) and m1..mN
        |
    PREFIX-mN ns: eth0 10.A.B.N/24, lo; member N runs here (`ip netns exec PREFIX-mN ...`),
                  client port, quorum port and election port all on 10.A.B.N

10.A.B is a /24 picked at random per run among those no root-namespace address or route uses.
The bridge lives in a hub namespace, not in the root one, so member-to-member traffic never
meets the root namespace's netfilter (br_netfilter would hand bridged frames to its FORWARD
chain).

A partition is made INSIDE the cut-off members' namespaces: their filter table gets DROP rules
for every packet to or from the addresses of the members on the other side (INPUT and OUTPUT,
loaded at once with iptables-restore). That is all traffic between the two sides: quorum,
election and anything else. Traffic to and from 10.A.B.254 stays: the clients keep reaching
every member, so a cut-off member must stop serving them on its own (ZooKeeper: a leader
without a synced quorum for syncLimit x tickTime steps down, a follower that hears nothing from
its leader for as long does too, and both close their client connections), and the driver can
watch its `srvr` mode throughout. Healing loads an empty filter table.

Cleanup: `Network.write_record()` puts every name in RUN_DIR/netns.json before anything is
created; `teardown_run(RUN_DIR)` (cluster.py kill-run) SIGKILLs every process still inside
those namespaces (only members this run started live there) and deletes the namespaces and the
root-side veth, also after a driver that died.
"""

import ipaddress
import json
import os
import random
import secrets
import signal
import subprocess

RECORD = "netns.json"
CLIENT_HOST = 254  # the root namespace's address in the /24
CMD_TIMEOUT = 20.0  # every ip/iptables command is bounded


class NetnsError(RuntimeError):
    pass


def _run(cmd, stdin=None):
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                           timeout=CMD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NetnsError("%s: %s" % (" ".join(cmd), e)) from e
    if p.returncode != 0:
        raise NetnsError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                              (p.stderr or p.stdout).strip()))
    return p.stdout


def missing_tools():
    """Why the netns mode cannot run here ('' if it can): it needs root, ip and iptables."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables-restore"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/sbin:/usr/bin").split(":") +
                   ["/usr/sbin", "/sbin"]):
            return "%s not found (compat-tests/install-deps.sh installs it)" % tool
    return ""


def _used_networks():
    """Every IPv4 network a root-namespace address or route covers."""
    nets = []
    for line in _run(["ip", "-4", "-o", "addr", "show"]).splitlines() + \
            _run(["ip", "-4", "route", "show", "table", "all"]).splitlines():
        for word in line.split():
            try:
                net = ipaddress.ip_network(word, strict=False)
            except ValueError:
                continue
            if net.prefixlen > 0:  # the default route covers everything: not a clash
                nets.append(net)
    return nets


def pick_subnet(rng=None):
    """A random 10.A.B.0/24 that no root-namespace address or route overlaps."""
    rng = rng or random.SystemRandom()
    used = _used_networks()
    for _ in range(100):
        net = ipaddress.ip_network("10.%d.%d.0/24" % (rng.randint(64, 254), rng.randint(0, 254)))
        if not any(net.overlaps(u) for u in used):
            return net
    raise NetnsError("no free 10.x.y.0/24 in 100 tries")


class Network:
    """The namespaces, addresses and partitions of one run; see the module doc."""

    def __init__(self, sids, run_dir):
        self.sids = list(sids)
        self.run_dir = os.path.abspath(run_dir)
        self.prefix = "fkp" + secrets.token_hex(3)
        self.hub = self.prefix + "-hub"
        self.root_if = self.prefix + "r"  # 10 characters: under IFNAMSIZ
        self.subnet = pick_subnet()
        self.cut = {}  # sid -> the addresses it drops now

    def ns(self, sid):
        return "%s-m%d" % (self.prefix, sid)

    def host(self, sid):
        return str(self.subnet.network_address + sid)

    @property
    def client_host(self):
        return str(self.subnet.network_address + CLIENT_HOST)

    def wrap(self, sid, cmd):
        """cmd run inside member sid's namespace (`ip netns exec` execs it: same pid)."""
        return ["ip", "netns", "exec", self.ns(sid)] + list(cmd)

    def write_record(self):
        with open(os.path.join(self.run_dir, RECORD), "w") as f:
            json.dump({"namespaces": [self.hub] + [self.ns(s) for s in self.sids],
                       "root_if": self.root_if, "subnet": str(self.subnet)}, f)

    def setup(self):
        """Creates everything (recorded first, so a failure half-way is still cleaned up)."""
        self.write_record()
        _run(["ip", "netns", "add", self.hub])
        _run(["ip", "-n", self.hub, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", self.hub, "link", "set", "br0", "up"])
        plen = self.subnet.prefixlen
        for sid in self.sids:
            ns = self.ns(sid)
            _run(["ip", "netns", "add", ns])
            _run(["ip", "-n", self.hub, "link", "add", "m%d" % sid, "type", "veth", "peer",
                  "name", "eth0", "netns", ns])
            _run(["ip", "-n", self.hub, "link", "set", "m%d" % sid, "master", "br0", "up"])
            _run(["ip", "-n", ns, "addr", "add", "%s/%d" % (self.host(sid), plen), "dev",
                  "eth0"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "link", "add", self.root_if, "type", "veth", "peer", "name", "up0",
              "netns", self.hub])
        _run(["ip", "-n", self.hub, "link", "set", "up0", "master", "br0", "up"])
        _run(["ip", "addr", "add", "%s/%d" % (self.client_host, plen), "dev", self.root_if])
        _run(["ip", "link", "set", self.root_if, "up"])
        return self

    def _load_filter(self, sid, drop):
        rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
                 ":OUTPUT ACCEPT [0:0]"]
        for addr in drop:
            rules.append("-A INPUT -s %s/32 -j DROP" % addr)
            rules.append("-A OUTPUT -d %s/32 -j DROP" % addr)
        rules.append("COMMIT")
        _run(self.wrap(sid, ["iptables-restore", "-w", "5"]), stdin="\n".join(rules) + "\n")
        self.cut[sid] = list(drop)

    def partition(self, side):
        """Cuts the members in `side` off from every other member (both directions, every
        port); each side still talks within itself and to the clients."""
        side = set(side)
        others = [self.host(s) for s in self.sids if s not in side]
        for sid in sorted(side):
            self._load_filter(sid, others)

    def heal(self):
        for sid in sorted(self.cut):
            if self.cut[sid]:
                self._load_filter(sid, [])
        self.cut = {}

    def filter_rules(self, sid):
        """`iptables -S` inside member sid's namespace (what is in force, for a report)."""
        return _run(self.wrap(sid, ["iptables", "-w", "5", "-S"]))


def teardown_run(run_dir):
    """Kills every process inside the run's namespaces and deletes them and the root veth.
    Returns what it could not do (a list of messages; empty when all went)."""
    path = os.path.join(os.path.abspath(run_dir), RECORD)
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return []
    problems = []
    existing = set()
    try:
        existing = {line.split()[0] for line in _run(["ip", "netns", "list"]).splitlines()
                    if line.strip()}
    except NetnsError as e:
        problems.append(str(e))
    for ns in rec.get("namespaces", []):
        if ns not in existing:
            continue
        try:
            pids = [int(p) for p in _run(["ip", "netns", "pids", ns]).split()]
        except (NetnsError, ValueError) as e:
            problems.append(str(e))
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _run(["ip", "netns", "del", ns])
        except NetnsError as e:
            problems.append(str(e))
    root_if = rec.get("root_if")
    if root_if and os.path.exists("/sys/class/net/%s" % root_if):
        try:
            _run(["ip", "link", "del", root_if])
        except NetnsError as e:
            # Deleting the hub namespace removes its peer, which takes this one with it
            # (asynchronously): gone by now is fine.
            if os.path.exists("/sys/class/net/%s" % root_if):
                problems.append(str(e))
    try:
        os.rename(path, path + ".removed")
    except OSError:
        pass
    return problems
