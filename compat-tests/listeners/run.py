#!/usr/bin/env python3
"""Listeners and counters against Java ZooKeeper 3.8.0 (Debian) and FerroKeeper, fact by fact.

    compat-tests/listeners/run.py [FERROKEEPER_BINARY]

1. Sent/Received, as srvr's differences (start-up readiness polls count too): srvr, ruok, srvr
   (Java: Received +2, Sent +2: each word's reply is a packet sent); then a session's handshake,
   addauth, create, a failing addauth (which closes its connection) and srvr again.
2. IPv6: with no clientPortAddress, and with clientPortAddress=0.0.0.0, the client port
   answers `ruok` on 127.0.0.1 and on ::1 (Java binds the dual-stack wildcard); with
   clientPortAddress=::1 it answers on ::1; `cons` shows an IPv6 session's address as Java
   writes it (/[0:0:0:0:0:0:0:1]:PORT, as in its log lines).
3. AdminServer port taken with two server.N entries (this server's peer is not started):
   Java's QuorumPeer logs "Problem starting AdminServer" and keeps its client port; without
   server.N entries both exit 4.
Java's lines are the expectation; the last line is "N passed, M failed".
"""

import os
import re
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "differential"))
import javazk  # noqa: E402
import zkwire  # noqa: E402


def word(host, port, cmd, timeout=3.0):
    """A four-letter word to host:port; the reply, or what went wrong."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            chunks = []
            for _ in range(10_000):  # bounded; the server closes after the reply
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError as e:
        return "error: %s" % (e.strerror or e)


def counters(port):
    """srvr's (Received, Sent)."""
    text = word("127.0.0.1", port, "srvr")
    got = dict(re.findall(r"^(Received|Sent): (\d+)$", text, re.M))
    return int(got.get("Received", -1)), int(got.get("Sent", -1))


def delta(before, after):
    return "Received +%d, Sent +%d" % (after[0] - before[0], after[1] - before[1])


def ruok_ready(port):
    return word("127.0.0.1", port, "ruok", timeout=1.0) == "imok"


class Servers:
    """Java or FerroKeeper, each start in a fresh directory under tmp (javazk.start_either)."""

    def __init__(self, kind, fk, tmp):
        self.kind, self.fk, self.tmp, self.n = kind, fk, tmp, 0

    def start(self, overrides=None, extra_lines="", myid=None, ready=None, admin=False):
        self.n += 1
        d = os.path.join(self.tmp, "%s-%d" % (self.kind, self.n))
        return javazk.start_either(self.kind, d, self.fk, cfg=overrides, extra_lines=extra_lines,
                                   myid=myid, ready=ready, admin_server=admin, log_level="info")


def start_outcome(servers, **kw):
    try:
        server = servers.start(**kw)
    except javazk.ServerError as e:
        m = re.search(r"exited with status (-?\d+)", str(e))
        return None, ("exited with status %s" % m.group(1)) if m else "did not serve"
    return server, "serves"


def run(kind, fk, tmp):
    out = []
    servers = Servers(kind, fk, tmp)

    # 1. counters
    s = servers.start()
    try:
        # Counted from a first srvr on: the start-up readiness polls count too.
        before = counters(s.port)
        out.append("ruok: " + word("127.0.0.1", s.port, "ruok"))
        after = counters(s.port)
        out.append("srvr, ruok, srvr: " + delta(before, after))
        before = after
        z = zkwire.Session("127.0.0.1", s.port)
        z.connect()
        out.append("addauth digest: err %d" % z.add_auth("digest", b"u:p")[0]["err"])
        out.append("create: err %d" % z.create("/counted", b"x")[0]["err"])
        try:
            out.append("addauth nosuch: err %d" % z.add_auth("nosuch", b"x")[0]["err"])
        except zkwire.ConnectionClosed:
            out.append("addauth nosuch: connection closed")
        z.close()
        out.append("a session, then srvr: " + delta(before, counters(s.port)))
    finally:
        s.stop()

    # 2. IPv6
    for label, overrides in (("no clientPortAddress", {"clientPortAddress": None}),
                             ("clientPortAddress=0.0.0.0", {"clientPortAddress": "0.0.0.0"})):
        s = servers.start(overrides)
        try:
            out.append("%s, ruok on 127.0.0.1: %s" % (label, word("127.0.0.1", s.port, "ruok")))
            out.append("%s, ruok on ::1: %s" % (label, word("::1", s.port, "ruok")))
            if label.startswith("no"):
                try:
                    z = zkwire.Session("::1", s.port)
                    z.connect()
                    cons = word("::1", s.port, "cons")
                    z.close()
                    lines = [l.strip() for l in cons.splitlines() if "sid=" in l]
                    shown = " ".join(sorted(re.sub(r":\d+\[", ":PORT[", l.split("(")[0])
                                            for l in lines))
                except (OSError, zkwire.ConnectionClosed, zkwire.Timeout) as e:
                    shown = "no session over ::1 (%s)" % e
                out.append("cons shows the IPv6 session as: " + shown)
        finally:
            s.stop()
    s = servers.start({"clientPortAddress": "::1"}, ready=lambda p: word("::1", p, "ruok", 1.0)
                      == "imok")
    try:
        out.append("clientPortAddress=::1, ruok on ::1: " + word("::1", s.port, "ruok"))
    finally:
        s.stop()

    # 3. AdminServer port taken
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    admin = {"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
             "admin.serverPort": str(busy)}
    try:
        q = [javazk.free_port() for _ in range(4)]
        ensemble = ("server.1=127.0.0.1:%d:%d\nserver.2=127.0.0.1:%d:%d\n" % tuple(q))
        s, how = start_outcome(servers, overrides=admin, extra_lines=ensemble, myid=1,
                               ready=ruok_ready, admin=True)
        out.append("admin port taken, with server.N: " + how)
        if s is not None:
            # The client port serves before the AdminServer is tried: wait (bounded) for it.
            deadline = time.monotonic() + 30
            logged = False
            while not logged and time.monotonic() < deadline and s.running:
                logged = "Problem starting AdminServer" in s.log_text()
                time.sleep(0.1)  # a log written by another process: no event to await
            out.append("  log says Problem starting AdminServer: %s" % logged)
            out.append("  then ruok: " + word("127.0.0.1", s.port, "ruok"))
            s.stop()
        s, how = start_outcome(servers, overrides=admin, ready=ruok_ready, admin=True)
        out.append("admin port taken, standalone: " + how)
        if s is not None:
            s.stop()
    finally:
        taken.close()
    return out


def main():
    fk = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                         os.path.join(HERE, "..", "..", "target", "release", "ferrokeeper"))
    why = javazk.missing()
    if why:
        print("cannot run Java ZooKeeper: " + why)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        java = run("java", fk, tmp)
        ours = run("ferrokeeper", fk, tmp)
    passed = failed = 0
    for i, want in enumerate(java):
        got = ours[i] if i < len(ours) else "<missing>"
        if got == want:
            passed += 1
            print("ok      " + want)
        else:
            failed += 1
            print("DIFFERS java:        " + want)
            print("        ferrokeeper: " + got)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
