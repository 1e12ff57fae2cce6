#!/usr/bin/env python3
"""bench/snap_catchup.py — how long a follower N znodes behind takes to catch up, Java
ZooKeeper 3.8.0 against FerroKeeper, one after the other on this machine.

For each kind: a fresh 3-member ensemble on loopback (compat-tests/ensemble/cluster.py,
tickTime 2000, initLimit 60 so a long SNAP is not cut off; Java with a 2 GB heap); one
follower is killed (-9); zkload (../shared/bench, the official Java client) populates N
znodes of 16 bytes through the leader; the follower restarts; the time from its restart
until its `srvr` says `Mode: follower` (it serves only after its sync) is the catch-up time.
Also: how the leader synced it (DIFF, TRUNC or SNAP, from the follower's log), its znode
count against the leader's, and the populate rate.

    python3 bench/snap_catchup.py [--znodes 1000000] [--kinds java,fk] [--out FILE]

One JSON line per kind on stdout (and appended to --out), then a ratio line. Not a test:
the machine is shared and 2 cores, so read the ratio, not the seconds.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "compat-tests", "ensemble"))
import cluster  # noqa: E402

ZKLOAD = os.path.join(REPO, "..", "shared", "bench", "run.sh")


def four_letter(port, word):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(word.encode())
            buf = b""
            while True:
                d = s.recv(65536)
                if not d:
                    return buf.decode(errors="replace")
                buf += d
    except OSError:
        return ""


def znode_count(port):
    m = re.search(r"^zk_znode_count\t(\d+)", four_letter(port, "mntr"), re.M)
    return int(m.group(1)) if m else None


def sync_kind(log_path, since):
    """How the follower was synced after its restart, from its log (Java and FerroKeeper
    both name it)."""
    with open(log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    # Java's Learner logs "Getting a snapshot from leader", "Getting a diff from the leader",
    # "Truncating log to get in sync with the leader"; FerroKeeper names the packet.
    patterns = (("SNAP", r"\bSNAP\b|snapshot from leader|leader's snapshot"),
                ("TRUNC", r"\bTRUNC\b|Truncating log"),
                ("DIFF", r"\bDIFF\b|diff from the leader"))
    for word, pattern in patterns:
        if re.search(pattern, text, re.I):
            return word
    return "unknown"


def one(kind, znodes, fk_bin):
    run = tempfile.mkdtemp(prefix="snap-catchup.")
    c = cluster.Cluster([kind] * 3, run, tick=2000, fk_bin=fk_bin, java_heap="2g",
                        java_log_level="info", extra_cfg={"initLimit": "60"})
    try:
        c.start()
        modes = c.wait_formed(120)
        leader = [s for s, m in modes.items() if m == "leader"][0]
        follower = min(s for s in modes if s != leader)
        c.kill(follower)
        lport = c.members[leader].client_port
        t0 = time.monotonic()
        pop = subprocess.run([ZKLOAD, "--mode", "populate", "--connect", "127.0.0.1:%d" % lport,
                              "--znodes", str(znodes), "--value-size", "16", "--clients", "8",
                              "--window", "64"], capture_output=True, text=True, timeout=1800)
        populate_s = time.monotonic() - t0
        if pop.returncode != 0:
            raise RuntimeError("populate failed: %s" % pop.stderr[-2000:])
        leader_count = znode_count(lport)
        log = os.path.join(c.members[follower].dir, "member.log")
        since = os.path.getsize(log) if os.path.exists(log) else 0
        t1 = time.monotonic()
        c.restart(follower)
        c.wait_mode(follower, "follower", timeout=600)
        catchup_s = time.monotonic() - t1
        fport = c.members[follower].client_port
        return {"kind": kind, "znodes": znodes, "populate_s": round(populate_s, 1),
                "populate_ops_per_s": round(znodes / populate_s),
                "catchup_s": round(catchup_s, 2), "sync": sync_kind(log, since),
                "leader_znode_count": leader_count, "follower_znode_count": znode_count(fport)}
    finally:
        c.stop_all()
        if os.environ.get("KEEP_RUN_DIR"):
            print("run dir kept: %s" % run, file=sys.stderr)
        else:
            shutil.rmtree(run, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--znodes", type=int, default=1_000_000)
    ap.add_argument("--kinds", default="java,fk")
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    ap.add_argument("--out")
    a = ap.parse_args()
    results = {}
    for kind in a.kinds.split(","):
        r = one(kind, a.znodes, a.fk_bin)
        results[kind] = r
        line = json.dumps(r)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")
    if "java" in results and "fk" in results:
        print("catch-up time FerroKeeper / Java: %.2f"
              % (results["fk"]["catchup_s"] / max(results["java"]["catchup_s"], 1e-9)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
