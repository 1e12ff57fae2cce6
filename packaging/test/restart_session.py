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
import socket
import subprocess
import sys
import tempfile
import time

from kazoo.client import KazooClient, KazooState

JARS = "/usr/share/java"
JAVA_CP = ":".join(
    f"{JARS}/{j}" for j in ("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar")
)
BOUND = 30.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_serving(port, proc):
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5) as s:
                s.sendall(b"srvr")
                if b"Mode:" in s.recv(4096):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def start(args, cfg, log):
    if args.server == "fk":
        cmd = [args.fk_bin, cfg]
    else:
        cmd = ["java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false",
               "-cp", JAVA_CP, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


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
        port = free_port()
        cfg = os.path.join(d, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(f"tickTime=2000\ndataDir={d}/data\nclientPort={port}\n"
                    "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n")
        log = open(os.path.join(d, "server.log"), "wb")
        proc = start(args, cfg, log)
        zk = None
        try:
            wait_serving(port, proc)
            states = queue.Queue()
            zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=20.0)
            zk.add_listener(states.put)
            zk.start(timeout=BOUND)
            session = zk.client_id[0]
            zk.create("/eph", b"mine", ephemeral=True)
            zk.create("/keep", b"v1")
            while not states.empty():
                states.get()

            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=BOUND)
            want = 0 if args.server == "fk" else 128 + signal.SIGTERM
            check(f"SIGTERM: exit status {want}", code == want, f"got {code}")
            check("client sees the connection go (SUSPENDED)", states.get(timeout=BOUND) == KazooState.SUSPENDED)

            proc = start(args, cfg, log)
            wait_serving(port, proc)
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
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=BOUND)
                except subprocess.TimeoutExpired:
                    proc.kill()
            log.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
