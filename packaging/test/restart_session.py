#!/usr/bin/env python3
"""A real client (Kazoo) across a server restart on the same port and dataDir.

    restart_session.py --server fk --fk-bin target/release/ferrokeeper
    restart_session.py --server java      # Debian's ZooKeeper 3.8, the reference

Connect, create an ephemeral and a persistent node, SIGTERM the server, start
it again, and let Kazoo reconnect on its own: the session must be the same
(no SESSION_EXPIRED / LOST), the ephemeral still owned by it. Also checks the
exit status on SIGTERM: 0 for FerroKeeper; 143 (killed by the signal, no
handler) for Java ZooKeeper 3.8. Exit 0 if every check holds.
"""
import argparse
import os
import queue
import signal
import sys
import tempfile
import time

from kazoo.client import KazooClient, KazooState

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "compat-tests", "lib"))
import javazk  # noqa: E402

BOUND = 30.0


def server(args, cfg, port, log_path):
    """The server under test on zoo.cfg `cfg` (both kinds read the same file)."""
    if args.server == "fk":
        return javazk.ServerProcess([args.fk_bin, cfg], port, log_path, log_mode="ab",
                                    stop_timeout=BOUND)
    return javazk.JavaZooKeeper(cfg, port, log_path, log_level=None, log_mode="ab",
                                stop_timeout=BOUND)


def start(srv):
    try:
        srv.start(BOUND)
    except javazk.ServerError as e:
        raise SystemExit("server did not start: %s" % e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", choices=["fk", "java"], required=True)
    ap.add_argument("--fk-bin", default="target/release/ferrokeeper")
    args = ap.parse_args()
    failures = []

    def check(name, cond, detail=""):
        print(("ok   " if cond else "FAIL ") + f"[{args.server}] {name}" + ("" if cond else f": {detail}"))
        if not cond:
            failures.append(name)

    with tempfile.TemporaryDirectory() as d:
        port = javazk.free_port()
        cfg = javazk.write_cfg(os.path.join(d, "zoo.cfg"), f"{d}/data", port, {
            "4lw.commands.whitelist": "srvr",
            # both kinds read this file: srvr only, no initLimit/syncLimit/maxClientCnxns
            "initLimit": None, "syncLimit": None, "maxClientCnxns": None})
        srv = server(args, cfg, port, os.path.join(d, "server.log"))
        zk = None
        try:
            start(srv)
            states = queue.Queue()
            zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=20.0)
            zk.add_listener(states.put)
            zk.start(timeout=BOUND)
            session = zk.client_id[0]
            zk.create("/eph", b"mine", ephemeral=True)
            zk.create("/keep", b"v1")
            while not states.empty():
                states.get()

            code = srv.stop()
            want = 0 if args.server == "fk" else 128 + signal.SIGTERM
            check(f"SIGTERM: exit status {want}", code == want, f"got {code}")
            check("client sees the connection go (SUSPENDED)", states.get(timeout=BOUND) == KazooState.SUSPENDED)

            start(srv)
            seen = []
            deadline = time.monotonic() + BOUND
            while time.monotonic() < deadline:
                try:
                    st = states.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    break
                seen.append(st)
                if st in (KazooState.CONNECTED, KazooState.LOST):
                    break
            check("client reconnects by itself, session not lost", seen[-1:] == [KazooState.CONNECTED], f"states {seen}")
            check("same session id after the restart", zk.client_id[0] == session,
                  f"0x{session:x} -> 0x{zk.client_id[0]:x}")
            stat = zk.exists("/eph")
            check("ephemeral kept, owned by the session", stat is not None and stat.ephemeralOwner == session,
                  f"{stat}")
            check("persistent data kept", zk.get("/keep")[0] == b"v1")
        finally:
            if zk is not None:
                zk.stop()
                zk.close()
            srv.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
