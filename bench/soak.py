#!/usr/bin/env python3
"""soak.py - FerroKeeper and Java ZooKeeper 3.8 under the same long mixed load, side by side.

Both servers run at once on free loopback ports (fresh dataDirs, tickTime=2000, forceSync=no,
the same zoo.cfg otherwise; Java via compat-tests/lib/javazk.py with -Xmx1g), and each gets the
same load, from its own processes, for DURATION seconds:

  mixed     over raw sockets, WINDOW requests in flight, paced to MIXED_RATE ops/s (so the
            Python load processes leave the servers CPU): 90% getData / 10% setData on 1000
            znodes of 100 bytes; the achieved rate is the throughput reported;
  sessions  session churn: every CHURN_PERIOD s a new session (timeout 4000 ms) creates three
            ephemerals, an observer session puts an exists watch on one, and the new session's
            socket is reset (SO_LINGER 0: no closeSession). The expiry delay is the time from the
            reset to the observer's NodeDeleted;
  names     namespace churn: distinct top-level names created and deleted in pipelined batches
            (NS_RATE names/s);
  stalled   one session (4 KiB receive buffer, so the kernel holds little for it) sets a
            persistent recursive watch on / and never reads again; it pings every 5 s so
            its session lives (a slow consumer, not a dead client).

Every SAMPLE s the servers' VmRSS and CPU are read from /proc. At the end a table per server:
RSS at 1 min / at the end / max, mixed throughput, names churned, expiry delays (p50/p90/p99/max,
and sessions whose ephemeral never went), what happened to the stalled watcher, and whether
FerroKeeper's RSS at the end is within 10% of its value after the first minute. A JSON line per
sample and the summary go to OUT (default bench/results/soak-YYYYmmdd-HHMMSS.jsonl).

This is a benchmark, not a test: both servers share the machine's cores with the Python load
processes (and with whatever else runs), so throughput is a side-by-side figure, not a capacity.

    python3 bench/soak.py [--duration 600] [--binary target/release/ferrokeeper]

Bounded: every load process stops at its deadline and is killed 30 s after it; the servers are
stopped (by their own pids) and the temp dir removed on exit, Ctrl-C included.
"""
import argparse
import json
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
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "compat-tests", "lib"))
import javazk  # noqa: E402

NODES = 1000
VALUE = b"v" * 100
WINDOW = 32
MIXED_RATE = 5000  # ops/s asked of each server (closed loop of WINDOW, paced to this rate)
SESSION_TIMEOUT_MS = 4000
CHURN_PERIOD = 1.0
NS_RATE = 200
NS_BATCH = 50
SAMPLE = 5.0

# ---- wire ------------------------------------------------------------------------------

OP_CREATE, OP_DELETE, OP_EXISTS, OP_GETDATA, OP_SETDATA, OP_ADDWATCH = 1, 2, 3, 4, 5, 106
OPEN_ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + b"".join(
    struct.pack(">i", len(s)) + s for s in (b"world", b"anyone"))


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def jstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">i", len(b)) + b


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    (n,) = struct.unpack(">i", read_exact(sock, 4))
    return read_exact(sock, n)


def session(port, timeout_ms=30000, rcvbuf=None):
    if rcvbuf is None:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
    else:
        # before connect, so the kernel does not autotune it (up to tcp_rmem's max, 32 MiB
        # here, which would hold ten minutes of events and hide the stall from the server)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(frame(struct.pack(">iqiq", 0, 0, timeout_ms, 0) + jstr(bytes(16)) + b"\0"))
    reply = read_frame(s)
    _, _, sid = struct.unpack(">iiq", reply[:16])
    return s, sid


def create_req(xid, path, data=b"", flags=0):
    return frame(struct.pack(">ii", xid, OP_CREATE) + jstr(path) + jstr(data) + OPEN_ACL
                 + struct.pack(">i", flags))


def delete_req(xid, path):
    return frame(struct.pack(">ii", xid, OP_DELETE) + jstr(path) + struct.pack(">i", -1))


def reply_err(reply):
    return struct.unpack(">iqi", reply[:16])[2]


def emit(kind, **fields):
    print(json.dumps({"kind": kind, "t": time.time(), **fields}), flush=True)


# ---- load processes (each prints JSON lines on stdout) -----------------------------------

def run_mixed(port, deadline):
    s, _ = session(port)
    reqs = []
    for i in range(WINDOW * 10):
        path = jstr("/soak/d/%04d" % (i * 7 % NODES))
        if i % 10 == 0:
            body = struct.pack(">ii", i + 1, OP_SETDATA) + path + jstr(VALUE) + struct.pack(">i", -1)
        else:
            body = struct.pack(">ii", i + 1, OP_GETDATA) + path + b"\0"
        reqs.append(frame(body))
    batches = [b"".join(reqs[k:k + WINDOW]) for k in range(0, len(reqs), WINDOW)]
    ops, errors, k = 0, 0, 0
    start = last = time.monotonic()
    while time.time() < deadline:
        ahead = start + ops / MIXED_RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)  # pacing to MIXED_RATE
        s.sendall(batches[k % len(batches)])
        k += 1
        for _ in range(WINDOW):
            if reply_err(read_frame(s)) != 0:
                errors += 1
        ops += WINDOW
        if time.monotonic() - last >= SAMPLE:
            emit("mixed", ops=ops, errors=errors)
            last = time.monotonic()
    emit("mixed", ops=ops, errors=errors)


def run_names(port, deadline):
    s, _ = session(port)
    n, xid, errors = 0, 0, 0
    start = time.monotonic()
    last = start
    while time.time() < deadline:
        names = ["/soak-ns-%08d" % (n + i) for i in range(NS_BATCH)]
        out = b""
        for p in names:
            xid += 1
            out += create_req(xid, p, b"x")
        for p in names:
            xid += 1
            out += delete_req(xid, p)
        s.sendall(out)
        for _ in range(2 * NS_BATCH):
            if reply_err(read_frame(s)) != 0:
                errors += 1
        n += NS_BATCH
        ahead = start + n / NS_RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)  # pacing to NS_RATE names/s
        if time.monotonic() - last >= SAMPLE:
            emit("names", names=n, errors=errors)
            last = time.monotonic()
    emit("names", names=n, errors=errors)


def run_sessions(port, deadline):
    """Session churn; the observer's watch events are read by a thread."""
    obs, _ = session(port)
    killed = {}  # path -> monotonic time of the reset
    delays = []
    lock = threading.Lock()
    stop = threading.Event()

    def observe():
        while not stop.is_set():
            try:
                r = read_frame(obs)
            except (OSError, ConnectionError):
                return
            xid = struct.unpack(">i", r[:4])[0]
            if xid != -1:
                continue
            etype = struct.unpack(">i", r[16:20])[0]
            (plen,) = struct.unpack(">i", r[24:28])
            path = r[28:28 + plen].decode()
            if etype == 2:  # NodeDeleted
                now = time.monotonic()
                with lock:
                    at = killed.pop(path, None)
                    if at is not None:
                        delays.append(now - at)

    threading.Thread(target=observe, daemon=True).start()
    n, xid, failures = 0, 0, 0
    last = time.monotonic()
    while time.time() < deadline - SESSION_TIMEOUT_MS / 1000 - 4:
        t0 = time.monotonic()
        try:
            s, sid = session(port, SESSION_TIMEOUT_MS)
            paths = ["/soak/e/%x-%d" % (sid, i) for i in range(3)]
            s.sendall(b"".join(create_req(i + 1, p, b"e", 1) for i, p in enumerate(paths)))
            for _ in paths:
                if reply_err(read_frame(s)) != 0:
                    failures += 1
            xid += 1
            with lock:
                killed[paths[0]] = None
            obs.sendall(frame(struct.pack(">ii", xid, OP_EXISTS) + jstr(paths[0]) + b"\1"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with lock:
                killed[paths[0]] = time.monotonic()
            s.close()  # RST, no closeSession
        except (OSError, ConnectionError):
            failures += 1
        n += 1
        if time.monotonic() - last >= SAMPLE:
            with lock:
                emit("sessions", started=n, failures=failures, delays=delays[:])
                delays.clear()
            last = time.monotonic()
        time.sleep(max(0.0, CHURN_PERIOD - (time.monotonic() - t0)))
    # the last sessions' expiries
    limit = time.monotonic() + SESSION_TIMEOUT_MS / 1000 + 4
    while time.monotonic() < limit:
        with lock:
            if not killed:
                break
        time.sleep(0.2)
    stop.set()
    with lock:
        emit("sessions", started=n, failures=failures, delays=delays[:],
             never=len([p for p, at in killed.items() if at is not None]))


def run_stalled(port, deadline):
    s, _ = session(port, rcvbuf=4096)
    s.sendall(frame(struct.pack(">ii", 1, OP_ADDWATCH) + jstr("/") + struct.pack(">i", 1)))
    read_frame(s)
    emit("stalled", state="watching")
    # Never reads again, but pings every 5 s (while the server takes them) so its session
    # lives: the slow consumer whose events pile up, not a dead client that expires. Whether
    # the server closed it is polled (error/hangup) at the deadline.
    ping = frame(struct.pack(">ii", -2, 11))
    s.setblocking(False)
    unsent = b""
    while time.time() < deadline:
        try:
            unsent = unsent or ping
            unsent = unsent[s.send(unsent):]  # a partial send is finished next time
        except (BlockingIOError, OSError):
            pass  # the server stopped reading us, or closed us
        time.sleep(min(5.0, max(0.0, deadline - time.time())))
    # The stall is over: read what the server queued. A close shows as EOF after it (a
    # FIN waits behind the unread bytes, so polling for a hangup cannot see it).
    s.setblocking(True)
    s.settimeout(2.0)
    queued, state = 0, "still open"
    give_up = time.monotonic() + 20
    while time.monotonic() < give_up:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        except OSError:
            state = "closed by the server (reset)"
            break
        if not chunk:
            state = "closed by the server"
            break
        queued += len(chunk)
    emit("stalled", state=state, queued_bytes=queued)


ROLES = {"mixed": run_mixed, "names": run_names, "sessions": run_sessions,
         "stalled": run_stalled}


# ---- driver -------------------------------------------------------------------------------

def proc_stat(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return rss, cpu
    except (OSError, StopIteration, ValueError):
        return None, None


def populate(port):
    s, _ = session(port)
    out = create_req(1, "/soak") + create_req(2, "/soak/d") + create_req(3, "/soak/e")
    out += b"".join(create_req(10 + i, "/soak/d/%04d" % i, VALUE) for i in range(NODES))
    s.sendall(out)
    for _ in range(3 + NODES):
        read_frame(s)
    s.close()


def start_servers(tmp, binary):
    cfg = {"tickTime": 2000, "forceSync": "no", "snapCount": 100000, "maxClientCnxns": 0}
    servers = {}
    d = os.path.join(tmp, "ferrokeeper")
    os.makedirs(os.path.join(d, "data"))
    port = javazk.free_port()
    cfg_path = javazk.write_cfg(os.path.join(d, "zoo.cfg"), os.path.join(d, "data"), port, cfg)
    fk = javazk.ServerProcess([binary, cfg_path], port, os.path.join(d, "server.log"),
                              env={"FERROKEEPER_LOG": "warn"}, name="FerroKeeper")
    servers["ferrokeeper"] = fk.start(30)
    d = os.path.join(tmp, "java")
    os.makedirs(d)
    servers["java"] = javazk.start_in_dir(d, cfg, heap="1g")
    return servers


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "ferrokeeper"))
    ap.add_argument("--out")
    ap.add_argument("--role", choices=sorted(ROLES))
    ap.add_argument("--port", type=int)
    ap.add_argument("--deadline", type=float)
    a = ap.parse_args()
    if a.role:
        return ROLES[a.role](a.port, a.deadline)
    out_path = a.out or os.path.join(
        HERE, "results", "soak-%s.jsonl" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    out = open(out_path, "w")
    procs = []
    servers = {}
    tmp = tempfile.mkdtemp(prefix="ferrokeeper-soak.")

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        servers = start_servers(tmp, a.binary)
        for srv in servers.values():
            populate(srv.port)
        started = time.time()
        deadline = started + a.duration
        for name, srv in servers.items():
            for role in ROLES:
                p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--role", role,
                                      "--port", str(srv.port), "--deadline", str(deadline)],
                                     stdout=subprocess.PIPE, text=True)
                procs.append((name, role, p))
        lines = {}  # (server, role) -> list of dicts

        def reader(name, role, p):
            for line in p.stdout:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                lines.setdefault((name, role), []).append(rec)
                rec = {"server": name, **rec}
                out.write(json.dumps(rec) + "\n")
                out.flush()

        threads = [threading.Thread(target=reader, args=x, daemon=True) for x in procs]
        for t in threads:
            t.start()
        rss = {name: [] for name in servers}
        while time.time() < deadline:
            for name, srv in servers.items():
                r, cpu = proc_stat(srv.pid)
                rss[name].append((time.time() - started, r))
                rec = {"server": name, "kind": "sample", "elapsed": time.time() - started,
                       "rss_kib": r, "cpu_s": cpu}
                out.write(json.dumps(rec) + "\n")
            out.flush()
            el = time.time() - started
            print("%4.0f s  RSS ferrokeeper %s KiB, java %s KiB" % (
                el, rss["ferrokeeper"][-1][1], rss["java"][-1][1]), file=sys.stderr, flush=True)
            time.sleep(min(SAMPLE, max(0.0, deadline - time.time())))
        for name, role, p in procs:
            try:
                p.wait(timeout=max(1.0, deadline + 30 - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for t in threads:
            t.join(timeout=5)
        mntr = javazk.four_letter(servers["ferrokeeper"].port, "mntr")
        overflows = next((l.split("\t")[1] for l in mntr.splitlines()
                          if l.startswith("zk_ferrokeeper_outbox_overflows")), "?")
        summary = {}
        for name in servers:
            samples = [(t, r) for t, r in rss[name] if r is not None]
            at_1min = next((r for t, r in samples if t >= 60), samples[0][1] if samples else None)
            end = samples[-1][1] if samples else None
            mixed = lines.get((name, "mixed"), [])
            names = lines.get((name, "names"), [])
            sess = lines.get((name, "sessions"), [])
            stalled = lines.get((name, "stalled"), [])
            delays = [d for rec in sess for d in rec.get("delays", [])]
            _, cpu = proc_stat(servers[name].pid)
            summary[name] = {
                "rss_kib_at_1min": at_1min, "rss_kib_end": end,
                "rss_kib_max": max((r for _, r in samples), default=None),
                "rss_end_vs_1min": (end / at_1min) if at_1min and end else None,
                "mixed_ops": mixed[-1]["ops"] if mixed else 0,
                "mixed_ops_per_s": (mixed[-1]["ops"] / a.duration) if mixed else 0,
                "mixed_errors": mixed[-1]["errors"] if mixed else None,
                "names_churned": names[-1]["names"] if names else 0,
                "names_errors": names[-1]["errors"] if names else None,
                "sessions_killed": sess[-1]["started"] if sess else 0,
                "session_failures": sess[-1]["failures"] if sess else None,
                "expiries_seen": len(delays),
                "ephemerals_never_deleted": sess[-1].get("never") if sess else None,
                "expiry_delay_s": {"p50": pct(delays, 0.5), "p90": pct(delays, 0.9),
                                   "p99": pct(delays, 0.99), "max": max(delays, default=None)},
                "stalled_watcher": stalled[-1]["state"] if stalled else "?",
                "stalled_watcher_bytes_read_at_end": stalled[-1].get("queued_bytes")
                if stalled else None,
                "server_cpu_s": cpu,
            }
        summary["ferrokeeper"]["outbox_overflows"] = overflows
        fk = summary["ferrokeeper"]
        fk["rss_within_10pct_of_1min"] = (fk["rss_end_vs_1min"] is not None
                                          and fk["rss_end_vs_1min"] <= 1.10)
        out.write(json.dumps({"kind": "summary", "duration_s": a.duration, **summary}) + "\n")
        print(json.dumps({"duration_s": a.duration, **summary}, indent=1))
        print("results: %s" % out_path)
        return 0 if fk["rss_within_10pct_of_1min"] else 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 130
    finally:
        for _, _, p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for srv in servers.values():
            srv.stop()
        out.close()
        subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    sys.exit(main())
