#!/usr/bin/env python3
"""(Re)makes java-3.8.0/: what Debian's Java ZooKeeper 3.8.0 prints about the ensemble, from
the leader and from a follower of a 3-member ensemble on free loopback ports, each with its
Jetty AdminServer on (servlet-api.jar added to the class path, as compat-tests/admin does).

    python3 compat-tests/quorum-admin/capture.py [OUTDIR]   (default: java-3.8.0 next to this)

Writes OUTDIR/{leader,follower,looking}/<word>.txt (the exact bytes of each four-letter word's reply)
and <command>.json (the AdminServer's body), OUTDIR/members.json (each member's sid and the
ports it had, so a test can tell port numbers from other numbers), then stops all three.
Before the captures, Kazoo makes a few znodes through the follower (forwarded writes) and
the leader, so the proposal-size gauges have samples. `looking/` is then one member started
alone (its peers never come), which stays in the election. About 15 s."""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import javazk  # noqa: E402

WORDS = ["srvr", "stat", "mntr", "conf", "isro", "ruok"]
# While looking (no quorum yet) most words answer that the server is not serving.
LOOKING_WORDS = WORDS + ["cons", "dump", "wchs", "wchc", "wchp", "dirs", "hash", "gtmk", "crst",
                         "srst", "envi"]
COMMANDS = ["leader", "voting_view", "server_stats", "stats", "monitor", "configuration",
            "zabstate", "observers", "is_read_only"]
SIDS = (1, 2, 3)
# Every command of 3.8.0's AdminServer (primary names), for the looking member.
ALL_COMMANDS = ["connection_stat_reset", "configuration", "connections", "hash", "dirs", "dump",
                "environment", "get_trace_mask", "initial_configuration", "is_read_only",
                "last_snapshot", "leader", "monitor", "observer_connection_stat_reset", "ruok",
                "server_stats", "stats", "stat_reset", "observers", "system_properties",
                "voting_view", "watches", "watches_by_path", "watch_summary", "zabstate"]


def mode(port):
    for line in javazk.four_letter(port, "srvr").splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):]
    return None


def admin_get(port, cmd):
    with urllib.request.urlopen("http://127.0.0.1:%d/commands/%s" % (port, cmd), timeout=5) as r:
        return r.read().decode("utf-8")


def capture(out, role, client, admin):
    d = os.path.join(out, role)
    os.makedirs(d, exist_ok=True)
    for w in WORDS:
        with open(os.path.join(d, w + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(javazk.four_letter(client, w))
    for c in COMMANDS:
        with open(os.path.join(d, c + ".json"), "w", encoding="utf-8", newline="") as f:
            f.write(admin_get(admin, c))


def capture_looking(out, work):
    """One member of a 3-member ensemble whose peers never start: it stays looking. Its
    four-letter words and every AdminServer command."""
    ports = javazk.quorum_ports(SIDS)
    taken = [p for trio in ports.values() for p in trio]
    admin = javazk.free_port(avoid=taken)
    cfg = {"admin.enableServer": None, "admin.serverAddress": "127.0.0.1",
           "admin.serverPort": str(admin)}
    m = javazk.quorum_member(os.path.join(work, "looking"), 1, ports, cfg, admin_server=True,
                             extra_jars=("servlet-api.jar",),
                             ready=lambda port: javazk.four_letter(port, "ruok", 1.0) == "imok")
    m.start(60)
    try:
        d = os.path.join(out, "looking")
        os.makedirs(d, exist_ok=True)
        for w in LOOKING_WORDS:
            with open(os.path.join(d, w + ".txt"), "w", encoding="utf-8", newline="") as f:
                f.write(javazk.four_letter(ports[1][0], w))
        # The AdminServer starts a moment after the client port.
        deadline = time.monotonic() + 30
        for _ in range(1000):  # bounded by the deadline
            try:
                admin_get(admin, "ruok")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for c in ALL_COMMANDS:
            try:
                body = admin_get(admin, c)
            except urllib.error.HTTPError as e:
                body = e.read().decode("utf-8")
            with open(os.path.join(d, c + ".json"), "w", encoding="utf-8", newline="") as f:
                f.write(body)
    finally:
        m.stop()


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "java-3.8.0"))
    work = tempfile.mkdtemp(prefix="quorum-admin-capture.")
    ports = javazk.quorum_ports(SIDS)
    taken = [p for trio in ports.values() for p in trio]
    admin = {}
    for sid in SIDS:
        admin[sid] = javazk.free_port(avoid=taken)
        taken.append(admin[sid])
    members = {}
    try:
        for sid in SIDS:
            cfg = {"admin.enableServer": None, "admin.serverAddress": "127.0.0.1",
                   "admin.serverPort": str(admin[sid])}
            members[sid] = javazk.quorum_member(os.path.join(work, "m%d" % sid), sid, ports, cfg,
                                                admin_server=True,
                                                extra_jars=("servlet-api.jar",))
            members[sid].spawn()
        for m in members.values():
            m.wait_serving(60)
        roles = {sid: mode(ports[sid][0]) for sid in SIDS}
        leader = next(s for s, r in roles.items() if r == "leader")
        follower = next(s for s, r in roles.items() if r == "follower")
        from kazoo.client import KazooClient
        for sid, n in ((follower, 3), (leader, 2)):
            zk = KazooClient(hosts="127.0.0.1:%d" % ports[sid][0], timeout=10)
            zk.start(timeout=15)
            try:
                for i in range(n):
                    zk.create("/qa-%d-%d" % (sid, i), b"x" * (10 * (i + 1)))
            finally:
                zk.stop()
                zk.close()
        time.sleep(0.5)  # the closeSession txns reach every member
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        capture(out, "leader", ports[leader][0], admin[leader])
        capture(out, "follower", ports[follower][0], admin[follower])
        with open(os.path.join(out, "members.json"), "w") as f:
            json.dump({"leader": leader, "follower": follower,
                       "members": {str(s): {"client": ports[s][0], "quorum": ports[s][1],
                                            "election": ports[s][2], "admin": admin[s]}
                                   for s in SIDS}}, f, indent=1)
            f.write("\n")
        for m in members.values():
            m.stop()
        capture_looking(out, work)
        print("captured leader server.%d, follower server.%d and a looking member into %s"
              % (leader, follower, out))
    finally:
        for m in members.values():
            m.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
