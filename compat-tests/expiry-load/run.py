"""A dead client's session expires on time while other clients saturate the server.

The same script runs against FerroKeeper and Debian's Java ZooKeeper 3.8.0 (started through
compat-tests/lib/javazk.py), each a fresh server with tickTime=1000:

1. a holder process (kazoo) creates an ephemeral znode and is then killed with SIGKILL: no
   closeSession, its socket dropped by the kernel;
2. meanwhile SATURATORS processes pipeline getData/setData over raw sockets, WINDOW requests
   in flight each, for a fixed time, so the server's request path never goes idle;
3. a watcher (kazoo, its own session) has an exists watch on the ephemeral.

Checks, per server: the watcher gets NodeDeleted for the ephemeral no later than the holder's
negotiated session timeout plus one tick after the kill (the session tracker's buckets are a
tick wide, so that is ZooKeeper's own bound, measured from the holder's last possible touch);
the znode is gone then; every saturator was answered throughout the expiry window.

What a run showed when this was written (2 shared cores, 3 s timeout, bound 4 s): Java 3.8.0
NodeDeleted 2.94-3.05 s after the kill with 17,000-25,000 saturating requests answered per
second; FerroKeeper 3.59-3.70 s with 139,000-167,000/s (each run prints its own figures). Prints "N passed,
M failed" last.

    python3 compat-tests/expiry-load/run.py [FERROKEEPER_BINARY]
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import javazk  # noqa: E402

TICK_MS = 1000
SESSION_TIMEOUT_S = 3.0
SATURATORS = 3
WINDOW = 200
NODES = 32
ROOT = "/expiry-load"
EPHEMERAL = ROOT + "/holder"
# The saturators start this long before the kill, and stop this long after the bound.
LEAD_S = 1.0
TAIL_S = 1.0


# ---- raw client (saturators) ----------------------------------------------------------

def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def _string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def _read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    return bytes(buf)


def _read_frame(sock):
    (n,) = struct.unpack(">i", _read_exact(sock, 4))
    return _read_exact(sock, n)


def saturate(port, seconds):
    """Pipelines getData/setData on ROOT/d/N, WINDOW in flight, for `seconds`; prints
    "ops N gaps MAX_MS": replies, and the longest wait for a window's replies."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connect = struct.pack(">iqiq", 0, 0, 10000, 0) + struct.pack(">i", 16) + bytes(16) + b"\0"
    s.sendall(_frame(connect))
    _read_frame(s)
    frames = []
    for i in range(WINDOW):
        path = _string("%s/d/%d" % (ROOT, i % NODES))
        if i % 2:
            body = struct.pack(">ii", i + 1, 4) + path + b"\0"
        else:
            body = struct.pack(">ii", i + 1, 5) + path + struct.pack(">i", 8) + b"saturate" \
                + struct.pack(">i", -1)
        frames.append(_frame(body))
    batch = b"".join(frames)
    ops, slowest = 0, 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        s.sendall(batch)
        for _ in range(WINDOW):
            reply = _read_frame(s)
            _, _, err = struct.unpack(">iqi", reply[:16])
            if err != 0:
                raise RuntimeError("saturating request failed: err %d" % err)
        ops += WINDOW
        slowest = max(slowest, time.monotonic() - t)
    s.close()
    print("ops %d slowest_window_ms %.0f" % (ops, slowest * 1000), flush=True)


# ---- kazoo clients ---------------------------------------------------------------------

def hold(port):
    """Creates the ephemeral, prints "ready SESSION_TIMEOUT_MS", then waits to be killed
    (at most a minute)."""
    from kazoo.client import KazooClient
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=SESSION_TIMEOUT_S)
    zk.start(timeout=15)
    zk.create(EPHEMERAL, b"held", ephemeral=True)
    print("ready %d" % zk._session_timeout, flush=True)
    time.sleep(60)


class Check:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, ok, what):
        print("%s: %s" % ("ok" if ok else "FAIL", what), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def scenario(name, port, check):
    from kazoo.client import KazooClient
    from kazoo.protocol.states import EventType
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10.0)
    zk.start(timeout=15)
    procs = []
    try:
        zk.ensure_path(ROOT + "/d")
        for i in range(NODES):
            zk.create("%s/d/%d" % (ROOT, i), b"")
        me = [sys.executable, os.path.abspath(__file__)]
        holder = subprocess.Popen(me + ["--hold", str(port)], stdout=subprocess.PIPE, text=True)
        procs.append(holder)
        line = holder.stdout.readline().split()
        if line[:1] != ["ready"]:
            check(False, "%s: the holder created its ephemeral" % name)
            return
        timeout_ms = int(line[1])
        bound = (timeout_ms + TICK_MS) / 1000.0
        deleted = threading.Event()
        seen = {}

        def watch(event):
            if event.type == EventType.DELETED and event.path == EPHEMERAL:
                seen["at"] = time.monotonic()
                deleted.set()

        if zk.exists(EPHEMERAL, watch=watch) is None:
            check(False, "%s: the watcher sees the ephemeral" % name)
            return
        run_for = LEAD_S + bound + TAIL_S
        sats = [subprocess.Popen(me + ["--saturate", str(port), str(run_for)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(SATURATORS)]
        procs += sats
        time.sleep(LEAD_S)  # let the saturating load build before the kill: no event to await
        killed_at = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        got = deleted.wait(timeout=bound + TAIL_S)
        delay = seen["at"] - killed_at if got else None
        gone = zk.exists(EPHEMERAL) is None
        results = []
        for p in sats:
            out, _ = p.communicate(timeout=run_for + 30)
            results.append((p.returncode, out.split()))
        ops = sum(int(r[1][1]) for r in results if r[0] == 0 and len(r[1]) == 4)
        slowest = max((int(r[1][3]) for r in results if r[0] == 0 and len(r[1]) == 4),
                      default=-1)
        print("%s: session timeout %d ms, NodeDeleted %s after the kill; saturators: %d "
              "requests in %.1f s (%.0f/s), slowest window %d ms"
              % (name, timeout_ms, "%.2f s" % delay if got else "never", ops, run_for,
                 ops / run_for, slowest), flush=True)
        check(got and delay <= bound,
              "%s: the watcher got NodeDeleted within timeout + one tick (%.1f s)" % (name, bound))
        check(gone, "%s: the dead session's ephemeral is gone" % name)
        check(all(r[0] == 0 and len(r[1]) == 4 for r in results) and ops > 0,
              "%s: every saturator was answered throughout" % name)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        zk.stop()
        zk.close()


def start_ferrokeeper(binary, d):
    port = javazk.free_port()
    data = os.path.join(d, "data")
    os.makedirs(data)
    cfg = javazk.write_cfg(os.path.join(d, "zoo.cfg"), data, port, {"tickTime": TICK_MS})
    env = {"FERROKEEPER_LOG": "warn"}
    server = javazk.ServerProcess([binary, cfg], port, os.path.join(d, "server.log"), env=env,
                                  name="FerroKeeper")
    return server.start(30)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--hold":
        return hold(int(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == "--saturate":
        return saturate(int(sys.argv[2]), float(sys.argv[3]))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "target/release/ferrokeeper")
    check = Check()
    with tempfile.TemporaryDirectory(prefix="expiry-load.") as tmp:
        for name in ("ferrokeeper", "java"):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            try:
                if name == "java":
                    server = javazk.start_in_dir(d, {"tickTime": TICK_MS})
                else:
                    server = start_ferrokeeper(binary, d)
            except javazk.ServerError as e:
                check(False, "%s started: %s" % (name, e))
                continue
            try:
                scenario(name, server.port, check)
            except Exception as e:  # noqa: BLE001 - reported as a failure, the run goes on
                check(False, "%s: scenario raised %r" % (name, e))
            finally:
                server.stop()
    print("%d passed, %d failed" % (check.passed, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
