#!/usr/bin/env python3
"""Recording what clients did to an ensemble, for linearizability.py and the final checks.

One `Worker` per member: a Kazoo client connected ONLY to that member (its connect string has
that one address, so it never fails over), running a bounded loop until told to stop:

- write: set_data(/lin/kN, a value no one else ever writes) — ok, or unknown when the reply
  did not come (connection loss, timeout, session expired while it was in flight);
- read: sync(/lin/kN) then get(/lin/kN), the pair recorded as one read from the sync's invoke
  to the get's reply — ZooKeeper's way to read the latest committed value through a follower;
- ack: now and then create(/ack/pP-N), a persistent node; an ok create must exist on every
  member at the end.

Every operation is an `Op` in one shared `History`: process id, op, key, value, invoke,
complete, outcome. Times are time.monotonic() of this one driver process.
The loop waits for its client to be connected before it invokes anything (a threading.Event set
by Kazoo's state listener): while its member is down it records nothing rather than a stream
of instant failures, and the first operation after a reconnect is timed from its own invoke.
"""

import bisect
import itertools
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

KEYS = ["/lin/k%d" % i for i in range(5)]
ACK_ROOT = "/ack"
# An operation that has not completed after this long is recorded as unknown (writes) and the
# loop goes on: nothing in a worker waits unbounded.
OP_TIMEOUT = 10.0


@dataclass
class Op:
    process: int  # the worker (member sid) or a checker pseudo-process
    op: str  # "write", "read" or "create"
    key: str
    value: object  # bytes written / read; None for a read of nothing
    invoke: float
    complete: float = None
    outcome: str = None  # "ok", "fail", "unknown"
    error: str = field(default="", repr=False)


class History:
    """Thread-safe append-only list of Op, with a condition so a driver can await "n ok writes
    after time t" instead of sleeping."""

    def __init__(self):
        self._ops = []
        self._added = []  # time.monotonic() of each add, non-decreasing
        self._cond = threading.Condition()

    def add(self, op):
        with self._cond:
            self._ops.append(op)
            self._added.append(time.monotonic())
            self._cond.notify_all()

    def _tail(self, since):
        """The ops added at or after `since`: a superset of those invoked at or after it (an
        op is added once complete), without scanning the whole history on every wake-up."""
        if since is None:
            return self._ops
        return self._ops[bisect.bisect_left(self._added, since):]

    def ops(self):
        with self._cond:
            return list(self._ops)

    def ok_after(self, t, op="write", process=None):
        """Ops of kind `op` invoked at or after t that completed ok (optionally of one process)."""
        with self._cond:
            return [o for o in self._tail(t) if o.op == op and o.outcome == "ok" and o.invoke >= t
                    and (process is None or o.process == process)]

    def wait_for(self, predicate, timeout, since=None):
        """Blocks until predicate(ops) is true (re-checked on every new op) or timeout; returns
        the last value of predicate. since: predicate sees only the ops added from then on
        (enough for one that looks at ops invoked from then on)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for _ in range(1_000_000):  # bounded by the deadline
                got = predicate(self._tail(since))
                left = deadline - time.monotonic()
                if got or left <= 0:
                    return got
                self._cond.wait(left)
            return predicate(self._tail(since))


def kazoo_client(address, session_timeout=4.0):
    """A Kazoo client for exactly one server, retrying its connection quickly and forever (a
    killed member comes back within the test; the worker's stop event bounds everything)."""
    from kazoo.client import KazooClient

    return KazooClient(hosts=address, timeout=session_timeout,
                       connection_retry={"max_tries": -1, "delay": 0.05, "backoff": 1.5,
                                         "max_delay": 0.5})


class Worker(threading.Thread):
    """The bounded operation loop of one client; see the module doc."""

    def __init__(self, process, address, history, stop, seed, max_ops=20_000, pace=0.005,
                 ack_every=10):
        super().__init__(name="worker-%s" % process, daemon=True)
        self.process = process
        self.address = address
        self.history = history
        self.stop_event = stop
        self.max_ops = max_ops
        self.pace = pace
        self.ack_every = ack_every
        self.seed = seed
        self.connected = threading.Event()
        # (time.monotonic(), Kazoo state) of every state change: when the client lost its
        # member's connection (SUSPENDED) or session (LOST), and when it was back (CONNECTED).
        self.states = []
        self.error = None
        self._counter = itertools.count()

    def _listener(self, state):
        from kazoo.protocol.states import KazooState

        self.states.append((time.monotonic(), state))
        if state == KazooState.CONNECTED:
            self.connected.set()
        else:
            self.connected.clear()

    def run(self):
        import random

        from kazoo.exceptions import KazooException
        from kazoo.handlers.threading import KazooTimeoutError

        rng = random.Random(self.seed)
        zk = kazoo_client(self.address)
        zk.add_listener(self._listener)
        try:
            zk.start(timeout=30)
            if zk.connected:
                self.connected.set()
            for i in range(self.max_ops):
                if self.stop_event.is_set():
                    break
                # Wait for the client to be connected, in slices so a stop is seen promptly.
                while not self.connected.wait(0.2):
                    if self.stop_event.is_set():
                        return
                key = rng.choice(KEYS)
                if self.ack_every and i % self.ack_every == self.ack_every - 1:
                    self._create(zk, KazooException, KazooTimeoutError)
                elif rng.random() < 0.5:
                    self._write(zk, key, KazooException, KazooTimeoutError)
                else:
                    self._read(zk, key, KazooException, KazooTimeoutError)
                # Pacing keeps the history a size the checker handles in seconds; it waits on
                # the stop event, so stopping is immediate.
                if self.pace and self.stop_event.wait(self.pace):
                    break
        except Exception as e:  # recorded; the driver reports it as a failure
            self.error = repr(e)
        finally:
            try:
                zk.stop()
                zk.close()
            except Exception:  # noqa: BLE001 - closing a client of a dead member may fail
                pass

    def _unique(self):
        return ("p%s-%d" % (self.process, next(self._counter))).encode()

    def _write(self, zk, key, kazoo_exc, timeout_exc):
        value = self._unique()
        op = Op(self.process, "write", key, value, time.monotonic())
        try:
            zk.set_async(key, value).get(timeout=OP_TIMEOUT)
            op.outcome = "ok"
        except (kazoo_exc, timeout_exc) as e:
            # Connection loss, a timeout, an expiry with the request in flight: the write may
            # or may not have been committed.
            op.outcome, op.error = "unknown", type(e).__name__
        op.complete = time.monotonic()
        self.history.add(op)

    def _read(self, zk, key, kazoo_exc, timeout_exc):
        op = Op(self.process, "read", key, None, time.monotonic())
        try:
            zk.sync_async(key).get(timeout=OP_TIMEOUT)
            data, _ = zk.get_async(key).get(timeout=OP_TIMEOUT)
            op.value, op.outcome = data, "ok"
        except (kazoo_exc, timeout_exc) as e:
            op.outcome, op.error = "fail", type(e).__name__  # a read that saw nothing
        op.complete = time.monotonic()
        self.history.add(op)

    def _create(self, zk, kazoo_exc, timeout_exc):
        path = "%s/%s" % (ACK_ROOT, self._unique().decode())
        op = Op(self.process, "create", path, b"", time.monotonic())
        try:
            zk.create_async(path, b"").get(timeout=OP_TIMEOUT)
            op.outcome = "ok"
        except (kazoo_exc, timeout_exc) as e:
            op.outcome, op.error = "unknown", type(e).__name__
        op.complete = time.monotonic()
        self.history.add(op)


JAVA_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "java", "EnsembleWorker.java")
JAVA_CLASSES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".work",
                            "ensemble-classes")
_JARS = ("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar")


def java_classpath():
    """The client's class path (Debian's ZooKeeper 3.8.0 jars; slf4j-nop keeps it quiet)."""
    return ":".join([JAVA_CLASSES] + [os.path.join("/usr/share/java", j) for j in _JARS])


def build_java_worker():
    """Compiles java/EnsembleWorker.java into compat-tests/.work/ensemble-classes when the
    class is missing or older than the source; returns '' or why it could not."""
    cls = os.path.join(JAVA_CLASSES, "EnsembleWorker.class")
    if os.path.exists(cls) and os.path.getmtime(cls) >= os.path.getmtime(JAVA_SRC):
        return ""
    os.makedirs(JAVA_CLASSES, exist_ok=True)
    try:
        p = subprocess.run(["javac", "-nowarn", "-implicit:none", "-d", JAVA_CLASSES, "-cp",
                            java_classpath(), JAVA_SRC], capture_output=True, text=True,
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "javac: %s" % e
    return "" if p.returncode == 0 else "javac: %s" % (p.stderr or p.stdout).strip()[-2000:]


class JavaWorker(threading.Thread):
    """The Java client's loop (java/EnsembleWorker.java, Debian's 3.8.0 client jar) for one
    member, as a thread of the driver: it starts the JVM, turns every line it prints into an
    Op of the shared History (process "jN"; Java's System.nanoTime() is CLOCK_MONOTONIC, the
    clock of time.monotonic()) or a state change, and stops it by closing its stdin. Same
    interface as Worker: process, states, error, join()."""

    def __init__(self, process, address, history, stop, seed, log_path):
        super().__init__(name="java-worker-%s" % process, daemon=True)
        self.process = process
        self.address = address
        self.history = history
        self.stop_event = stop
        self.seed = seed
        self.log_path = log_path
        self.states = []
        self.error = None

    def _closer(self, proc):
        self.stop_event.wait()
        try:
            proc.stdin.close()
        except OSError:
            pass

    def run(self):
        cmd = ["java", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
               java_classpath(), "EnsembleWorker", self.address, str(self.process),
               str(self.seed)]
        try:
            with open(self.log_path, "ab") as log:
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=log, text=True)
        except OSError as e:
            self.error = "java client did not start: %s" % e
            return
        threading.Thread(target=self._closer, args=(proc,), daemon=True).start()
        try:
            for line in proc.stdout:  # ends when the JVM exits (it does once stdin closes)
                self._line(line.rstrip("\n"))
        finally:
            try:
                status = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait(timeout=10)
                self.error = "java client ignored the stop for 30 s; killed"
            if status != 0 and self.error is None:
                self.error = "java client exited with status %s (see %s)" % (status,
                                                                            self.log_path)

    def _line(self, line):
        f = line.split("\t")
        if f[0] == "state" and len(f) == 3:
            state = {"SyncConnected": "CONNECTED", "Disconnected": "SUSPENDED",
                     "Expired": "LOST"}.get(f[1], f[1])
            self.states.append((int(f[2]) / 1e9, state))
            return
        if len(f) != 7 or f[0] not in ("write", "read", "create"):
            self.error = self.error or "unreadable line from the java client: %r" % line
            return
        op, key, value, invoke, complete, outcome, error = f
        data = None if value == "\\N" else value.encode()
        self.history.add(Op(self.process, op, key, data, int(invoke) / 1e9, int(complete) / 1e9,
                            outcome, error))
