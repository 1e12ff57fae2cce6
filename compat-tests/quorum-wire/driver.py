#!/usr/bin/env python3
"""Drives examples/quorum_probe against two Debian Java ZooKeeper 3.8.0 members (server.1,
server.2) of a 3-member ensemble on loopback; the probe is server.3. See README.md.

    driver.py PROBE_BINARY WORKDIR

Every fact is printed as "ok ..." or "FAIL ..."; the last line is "N passed, M failed".
Each Java member's pid is in WORKDIR/javaN/zk.pid the moment it is spawned, so run.sh's trap
can kill it (javazk.py kill) even if this script dies.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import javazk  # noqa: E402

# Short ticks keep the run short: PING every 250 ms, sync within 2.5 s, init within 5 s.
ENSEMBLE_CFG = {"tickTime": "500", "initLimit": "10", "syncLimit": "5"}
PROBE_SID = 3


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL %s%s" % (what, (": " + str(detail)) if detail else ""))
        sys.stdout.flush()

    def probe_output(self, name, out, rc):
        """Counts the probe's own CHECK lines and shows its evidence."""
        print("---- probe %s (exit %s)" % (name, rc))
        for line in out.splitlines():
            print("  " + line)
        for line in out.splitlines():
            if line.startswith("CHECK ok "):
                self.passed += 1
            elif line.startswith("CHECK FAIL "):
                self.failed += 1
        if rc not in (0, 1) and "CHECK FAIL" not in out:
            self.check(False, "probe %s exited cleanly" % name, "exit %s" % rc)
        sys.stdout.flush()


def lines(out, prefix):
    return [l[len(prefix):] for l in out.splitlines() if l.startswith(prefix)]


def run_probe(probe, args, timeout=90):
    p = subprocess.run([probe, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.stdout.decode("utf-8", "replace"), p.returncode


def learn_with_writes(probe, cfg, leader, client_port, tally, commits):
    """A learner run during which Kazoo (on `client_port`) writes; returns the probe output."""
    from kazoo.client import KazooClient

    proc = subprocess.Popen([probe, "learn", cfg, str(leader), "--commits", str(commits),
                             "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    synced = False
    try:
        for raw in proc.stdout:  # bounded by the probe's own 60 s deadline
            line = raw.decode("utf-8", "replace").rstrip("\n")
            out.append(line)
            if line == "SYNCED":
                synced = True
                break
        tally.check(synced, "probe synced with the Java leader (UPTODATE) before the writes")
        if synced:
            zk = KazooClient(hosts="127.0.0.1:%d" % client_port, timeout=10)
            zk.start(timeout=15)
            try:
                zk.create("/qw", b"")
                zk.create("/qw/a", b"one")
                zk.set("/qw/a", b"two")
                zk.create("/qw/b", b"bee")
                zk.delete("/qw/b")
            finally:
                zk.stop()
                zk.close()
        rest, _ = proc.communicate(timeout=70)
        out.extend(rest.decode("utf-8", "replace").splitlines())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return "\n".join(out), proc.returncode


def main(tally):
    probe, work = sys.argv[1], os.path.abspath(sys.argv[2])
    why = javazk.missing()
    if why:
        tally.check(False, "Java ZooKeeper available", why)
        return

    ports = javazk.quorum_ports([1, 2, 3])
    print("ports (client, quorum, election): %s" % ports)
    probe_cfg = javazk.write_quorum_member(os.path.join(work, "probe"), PROBE_SID, ports,
                                           ENSEMBLE_CFG)
    members = {sid: javazk.quorum_member(os.path.join(work, "java%d" % sid), sid, ports,
                                         ENSEMBLE_CFG, log_level="info", heap="128m")
               for sid in (1, 2)}

    # 1. Java dials us: listen on server.3's election port before Java starts, so the
    #    members' first election reaches it.
    listener = subprocess.Popen([probe, "listen", probe_cfg, "40"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    first = listener.stdout.readline().decode("utf-8", "replace")
    tally.check(first.startswith("LISTENING"), "probe listens on its election port", first)
    try:
        for sid, zk in members.items():
            zk.spawn()
            with open(os.path.join(work, "java%d" % sid, "zk.pid"), "w") as f:
                f.write("%d\n" % zk.pid)
        for zk in members.values():
            zk.wait_serving(60)
        out, _ = listener.communicate(timeout=60)
        tally.probe_output("listen", first + out.decode("utf-8", "replace"), listener.returncode)

        # 2. We dial Java: a LOOKING vote to each member, their votes back.
        out, rc = run_probe(probe, ["elect", probe_cfg])
        tally.probe_output("elect", out, rc)
        leader = int((lines(out, "LEADER ") or ["0"])[0])
        tally.check(leader in (1, 2), "the elected leader is a Java member", leader)
        if leader not in (1, 2):
            return
        follower = 3 - leader

        # 2b. The same through quorum::cnx::CnxManager: its dials survive, Java's votes arrive.
        out, rc = run_probe(probe, ["cnx", probe_cfg], timeout=40)
        tally.probe_output("cnx", out, rc)
        for sid in (1, 2):
            mode = javazk.four_letter(ports[sid][0], "srvr")
            want = "leader" if sid == leader else "follower"
            tally.check("Mode: %s" % want in mode, "srvr of server.%d says Mode: %s" % (sid, want),
                        mode)

        # 3. A fresh learner (no history), Kazoo writing through the Java follower.
        out, rc = learn_with_writes(probe, probe_cfg, leader, ports[follower][0], tally,
                                    commits=6)
        tally.probe_output("learn (fresh)", out, rc)
        txns = lines(out, "TXN ")
        for want in ("create path=/qw data=", "create path=/qw/a data=one",
                     "setData path=/qw/a data=two", "create path=/qw/b data=bee",
                     "delete path=/qw/b"):
            tally.check(any(want in t for t in txns),
                        "the client's write '%s' arrived as a PROPOSAL" % want, txns)
        tally.check(any("op=CreateSession" in t for t in txns),
                    "the client's session arrived as a createSession PROPOSAL", txns)
        mode_a = (lines(out, "SYNC_MODE ") or ["?"])[0].split()[0]
        new_epoch = None
        for p in lines(out, "PACKET "):
            m = re.match(r"LEADERINFO\(17\) zxid 0x([0-9a-f]+)", p)
            if m:
                new_epoch = int(m.group(1), 16) >> 32
        zxid_of = {}
        for t in txns:
            m = re.match(r"zxid=0x([0-9a-f]+) .*?(create|setData|delete) path=(\S+)", t)
            if m:
                zxid_of[(m.group(2), m.group(3))] = int(m.group(1), 16)
        tally.check(new_epoch is not None and ("create", "/qw/a") in zxid_of,
                    "LEADERINFO epoch and the write zxids are known", (new_epoch, zxid_of))
        if new_epoch is None or ("create", "/qw/a") not in zxid_of:
            return

        # 4. A learner that has the history up to create /qw/a: the leader should DIFF.
        since = zxid_of[("create", "/qw/a")]
        out, rc = run_probe(probe, ["learn", probe_cfg, str(leader), "--last-zxid", hex(since),
                                    "--accepted-epoch", str(new_epoch), "--current-epoch",
                                    str(new_epoch), "--timeout", "30"])
        tally.probe_output("learn (behind, last zxid 0x%x)" % since, out, rc)
        mode_b = (lines(out, "SYNC_MODE ") or ["?"])[0].split()[0]
        tally.check(mode_b == "DIFF", "a learner behind by a few txns gets DIFF", mode_b)
        diff_txns = lines(out, "TXN ")
        tally.check(any("setData path=/qw/a data=two" in t for t in diff_txns)
                    and not any("create path=/qw/a " in t for t in diff_txns),
                    "the DIFF holds the txns after the learner's zxid, not before", diff_txns)

        # 5. A learner with txns the leader never committed (same epoch): TRUNC.
        last = max(zxid_of.values())
        ahead = last + 0x10
        out, rc = run_probe(probe, ["learn", probe_cfg, str(leader), "--last-zxid", hex(ahead),
                                    "--accepted-epoch", str(new_epoch), "--current-epoch",
                                    str(new_epoch), "--timeout", "30"])
        tally.probe_output("learn (ahead, last zxid 0x%x)" % ahead, out, rc)
        mode_c = (lines(out, "SYNC_MODE ") or ["?"])[0]
        tally.check(mode_c.startswith("TRUNC"), "a learner ahead of the leader gets TRUNC", mode_c)
        print("sync modes seen: fresh=%s behind=%s ahead=%s" % (mode_a, mode_b, mode_c))

        # 6. The probe acts for a client of its own through the leader: createSession,
        #    REVALIDATE, create /qw-probe, sync, PING touches, closeSession as REQUESTs.
        out, rc = run_probe(probe, ["learn", probe_cfg, str(leader), "--forward",
                                    "--timeout", "30"])
        tally.probe_output("learn --forward", out, rc)
        from kazoo.client import KazooClient
        zk = KazooClient(hosts="127.0.0.1:%d" % ports[follower][0], timeout=10)
        zk.start(timeout=15)
        try:
            data, stat = zk.get("/qw-probe")
        finally:
            zk.stop()
            zk.close()
        tally.check(data == b"from-probe" and stat.ephemeralOwner == 0,
                    "the Java follower serves /qw-probe as created by the probe's REQUEST",
                    (data, stat))

        # 7. The member's own transport and translation (quorum::peers, quorum::translate)
        #    as a fresh learner: SNAP sync, a forwarded session, PINGs.
        out, rc = run_probe(probe, ["peers", probe_cfg, str(leader)], timeout=60)
        tally.probe_output("peers", out, rc)
        snap = (lines(out, "PEERS_SNAPSHOT ") or [""])[0]
        tally.check(int((re.search(r"nodes=(\d+)", snap) or [0, 0])[1]) >= 7,
                    "the SNAP through Peers holds the earlier runs' nodes (/qw, /qw/a, /qw-probe)",
                    snap)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait(10)
        for zk in members.values():
            zk.stop(timeout=10)
        if tally.failed:
            for sid, zk in members.items():
                print("---- server.%d log tail" % sid)
                print(zk.log_tail(60))


if __name__ == "__main__":
    TALLY = Tally()
    try:
        main(TALLY)
    except Exception as e:  # a crash is one more failure; the result line is still printed
        TALLY.check(False, "driver ran to the end", repr(e))
    print("%d passed, %d failed" % (TALLY.passed, TALLY.failed))
    sys.exit(0 if TALLY.failed == 0 else 1)
