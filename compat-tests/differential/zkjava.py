#!/usr/bin/env python3
"""Throw-away standalone servers for the differential harness (and txnlog-interop): Debian's
Java ZooKeeper 3.8, or any server started from a command template. The starting, waiting and
stopping is compat-tests/lib/javazk.py's; this module holds only the differential settings.

Each server gets its own temporary directory (zoo.cfg, dataDir, log) and a free loopback port.
Only processes started here are ever signalled, by their own pid.

    python3 zkjava.py            # start one, print "PORT PID DIR", stop on Enter / Ctrl-C

Configuration written (see README.md for why): javazk.TEST_CFG (tickTime=2000,
maxClientCnxns=0, 4lw.commands.whitelist=*, admin.enableServer=false, ...) plus
    extendedTypesEnabled=true (TTL nodes), forceSync=no (speed; data is thrown away anyway)
JVM system properties:
    znode.container.checkIntervalMs=86400000  so the container/TTL reaper never runs during a
    test (its deletions would be asynchronous, i.e. nondeterministic, transactions). Java gets
    it as a -D flag; a command server in SERVER_JVMFLAGS, which zkServer.sh and FerroKeeper
    both read. Not as a zoo.cfg key: Java (and FerroKeeper, which follows it) turns an unknown
    key K into the property zookeeper.K, which no reaper reads.
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import javazk  # noqa: E402

JAVA_DIR = javazk.JAVA_DIR
DIFF_CFG = {"extendedTypesEnabled": "true", "forceSync": "no"}
four_letter = javazk.four_letter


def java_available():
    """(ok, reason): whether a JVM and the ZooKeeper jars are installed."""
    why = javazk.missing()
    return why is None, why or ""


class _TempDirServer:
    """A server in its own temp dir; stop() removes the dir unless keep_dir."""

    prefix = "zk-"

    def __init__(self, base_dir=None):
        self.base_dir = base_dir
        self.dir = None
        self.server = None

    @property
    def port(self):
        return self.server.port if self.server else None

    @property
    def proc(self):
        return self.server.proc if self.server else None

    @property
    def address(self):
        return self.server.address

    def log_tail(self, n=30):
        return self.server.log_tail(n) if self.server else ""

    def _new_dir(self):
        """A fresh temp dir with an empty data/ in it; returns data/."""
        self.dir = tempfile.mkdtemp(prefix=self.prefix, dir=self.base_dir)
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        return data

    def stop(self, keep_dir=False):
        if self.server is not None:
            self.server.stop(timeout=10)
            self.server = None
        if self.dir and not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class JavaZooKeeper(_TempDirServer):
    """One standalone Java server. Use as a context manager or call start()/stop()."""

    prefix = "zkjava-"

    def __init__(self, extra_cfg=None, extra_props=None, heap="256m", base_dir=None):
        super().__init__(base_dir)
        self.extra_cfg = dict(extra_cfg or {})
        self.extra_props = dict(extra_props or {})
        self.heap = heap

    def start(self, timeout=60.0, attempts=3):
        ok, why = java_available()
        if not ok:
            raise RuntimeError("cannot start Java ZooKeeper: " + why)
        last = None
        for _ in range(attempts):
            try:
                self._new_dir()
                self.server = javazk.start_in_dir(
                    self.dir, dict(DIFF_CFG, **self.extra_cfg), timeout=timeout,
                    heap=self.heap, jvm_opts=["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"],
                    props=dict({"zookeeper.extendedTypesEnabled": "true",
                                "znode.container.checkIntervalMs": str(javazk.NO_REAPING_MS)},
                               **self.extra_props))
                return self
            except javazk.ServerError as e:  # e.g. port taken between free_port() and bind
                last = e
                self.stop()
        raise last


class CommandServer(_TempDirServer):
    """A server started from a command template, e.g. FerroKeeper:

        CommandServer("target/release/ferrokeeper {cfg}")

    {cfg}, {port} and {dir} are replaced by the generated zoo.cfg (the same keys as for Java),
    the chosen loopback port and the temp directory. The reaper is switched off as for Java, by
    -Dznode.container.checkIntervalMs=86400000 in SERVER_JVMFLAGS (after any the caller set).
    Readiness is a completed ZooKeeper handshake (the probe session is closed properly so it
    cannot expire later in the middle of a test)."""

    prefix = "zkcmd-"

    def __init__(self, template, base_dir=None):
        super().__init__(base_dir)
        self.template = template

    def start(self, timeout=60.0):
        import shlex
        data = self._new_dir()
        port = javazk.free_port()
        cfg_path = javazk.write_cfg(os.path.join(self.dir, "zoo.cfg"), data, port, DIFF_CFG)
        cmd = [a.format(cfg=cfg_path, port=port, dir=self.dir) for a in shlex.split(self.template)]
        flags = " ".join(f for f in (os.environ.get("SERVER_JVMFLAGS", ""),
                                     "-Dznode.container.checkIntervalMs=%d" % javazk.NO_REAPING_MS) if f)
        self.server = javazk.ServerProcess(cmd, port, os.path.join(self.dir, "server.log"),
                                           env={"SERVER_JVMFLAGS": flags},
                                           cwd=self.dir, name=repr(cmd), ready=_handshakes)
        try:
            self.server.start(timeout)
        except javazk.ServerError as e:
            self.server = None
            raise RuntimeError("%s; log in %s" % (e, self.dir)) from None
        return self


# DIFF_KEEP_ENSEMBLE=1: Java members log at info and every member's dir and log are kept.
KEEP_ENSEMBLE = os.environ.get("DIFF_KEEP_ENSEMBLE") == "1"


class EnsembleServer:
    """A 3-member ensemble (compat-tests/ensemble/cluster.py) whose address is one follower's:
    the differential programs then run on the member side (writes, sync and createSession
    forwarded to the leader, replies and notifications from the follower's commits).

        EnsembleServer(["java"] * 3)                  # Java 3.8.0 members
        EnsembleServer(["fk"] * 3, fk_bin=PATH)       # FerroKeeper members

    Members get the standalone differential settings: DIFF_CFG, tickTime=2000 (the 30 000 ms
    session timeout is granted as asked), and the container/TTL reaper kept from running
    (-Dznode.container.checkIntervalMs for Java, SERVER_JVMFLAGS for FerroKeeper). The follower
    is the lowest sid that says `Mode: follower` once the ensemble has formed; it counts as
    ready once a ZooKeeper handshake on it succeeds."""

    def __init__(self, kinds, fk_bin=None, base_dir=None):
        self.kinds = list(kinds)
        self.fk_bin = fk_bin
        self.base_dir = base_dir
        self.dir = None
        self.cluster = None
        self.follower = None

    @property
    def address(self):
        return self.cluster.address(self.follower)

    def start(self, timeout=90.0):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ensemble"))
        import cluster
        self.dir = tempfile.mkdtemp(prefix="zkensemble-", dir=self.base_dir)
        reap = str(javazk.NO_REAPING_MS)
        kw = {"fk_bin": self.fk_bin} if self.fk_bin else {}
        self.cluster = cluster.Cluster(
            self.kinds, self.dir, tick=2000, extra_cfg=DIFF_CFG, java_heap="256m",
            java_log_level="info" if KEEP_ENSEMBLE else "warn",
            java_props={"zookeeper.extendedTypesEnabled": "true",
                        "znode.container.checkIntervalMs": reap},
            fk_env={"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=" + reap}, **kw)
        try:
            self.cluster.start()
            modes = self.cluster.wait_formed(timeout)
            followers = sorted(sid for sid, mode in modes.items() if mode == "follower")
            if not followers:
                raise RuntimeError("ensemble %s formed without a follower: %s" % (self.kinds, modes))
            self.follower = followers[0]
            port = self.cluster.members[self.follower].client_port
            deadline = time.monotonic() + 30
            while not _handshakes(port):
                if time.monotonic() >= deadline:
                    raise RuntimeError("follower server.%d opens no session in 30 s\n%s"
                                       % (self.follower, self.cluster.log_tails()))
                time.sleep(0.1)  # polling a server that is starting: no event to await
        except (cluster.ClusterError, RuntimeError) as e:
            self.cluster.stop_all()
            raise RuntimeError("%s; logs in %s" % (e, self.dir)) from None
        return self

    def modes(self):
        return self.cluster.modes()

    def stop(self, keep_dir=False):
        if self.cluster is not None:
            self.cluster.stop_all()
            self.cluster = None
        if self.dir and KEEP_ENSEMBLE:
            print("ensemble %s: member logs kept in %s" % (",".join(self.kinds), self.dir))
        if self.dir and not keep_dir and not KEEP_ENSEMBLE:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _handshakes(port):
    """A ZooKeeper session can be opened (and is closed again)."""
    import zkwire
    s = zkwire.Session("127.0.0.1", port, io_timeout=5.0)
    try:
        resp = s.connect()
        if resp["timeOut"] > 0:
            s.close_session(timeout=5.0)
            return True
    except (OSError, zkwire.ConnectionClosed, zkwire.Timeout):
        pass
    finally:
        s.close()
    return False


if __name__ == "__main__":
    zk = JavaZooKeeper().start()
    print(zk.port, zk.proc.pid, zk.dir, flush=True)
    try:
        sys.stdin.readline()
    except KeyboardInterrupt:
        pass
    finally:
        zk.stop()
