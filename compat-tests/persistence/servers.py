"""Start, stop and kill a standalone ZooKeeper-protocol server on a given dataDir/dataLogDir.

Two kinds, same interface:
  "java" - Apache ZooKeeper 3.8 from Debian's `zookeeper` package (the reference), run as
           `java -cp <jars> org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg`
  "fk"   - FerroKeeper, run as `ferrokeeper zoo.cfg`

Every start writes a fresh zoo.cfg (free loopback port) into the run's work directory and
waits, with a deadline, until the server answers the four-letter word `srvr` with a `Zxid:`
line, i.e. until it has loaded its data and serves. Only the process started here is ever
signalled, by its own pid: SIGTERM for a graceful stop, SIGKILL for a crash. The process
handling and Java's command line are compat-tests/lib/javazk.py's; this module holds the
persistence settings (snapCount, forceSync=yes, no autopurge, no container reaping).
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import javazk  # noqa: E402
from javazk import ServerError, four_letter, free_port, srvr_zxid  # noqa: E402,F401

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_FK_BIN = os.path.join(REPO, "target", "release", "ferrokeeper")

# The container/TTL reaper would otherwise delete nodes asynchronously (transactions that
# neither side of a comparison controls); one day is longer than any run.
CONTAINER_CHECK_MS = javazk.NO_REAPING_MS

START_TIMEOUT_S = float(os.environ.get("PERSIST_START_TIMEOUT", "60"))
STOP_TIMEOUT_S = float(os.environ.get("PERSIST_STOP_TIMEOUT", "20"))


def _serves_zxid(port):
    """Ready: `srvr` reports a zxid, i.e. the data is loaded and the server serves."""
    return srvr_zxid(port, timeout=1.0) is not None


class Server:
    """One server kind bound to one dataDir (and optional separate dataLogDir).

    start() may be called again after stop()/kill(): each start gets a new zoo.cfg, a new
    port and a new log file (server-<n>.log), on the same data directories.
    """

    def __init__(self, kind, workdir, data_dir, data_log_dir=None, snap_count=100,
                 tick_time=2000, fk_bin=None, name=None, extra_cfg=None):
        if kind not in ("java", "fk"):
            raise ValueError("server kind must be 'java' or 'fk', not %r" % kind)
        self.kind = kind
        self.name = name or kind
        self.workdir = os.path.abspath(workdir)
        self.data_dir = os.path.abspath(data_dir)
        self.data_log_dir = os.path.abspath(data_log_dir) if data_log_dir else None
        self.snap_count = snap_count
        self.tick_time = tick_time
        self.fk_bin = fk_bin or os.environ.get("FK_BIN") or DEFAULT_FK_BIN
        self.extra_cfg = dict(extra_cfg or {})
        self.process = None  # the javazk.ServerProcess of the latest start
        self.port = None
        self.starts = 0
        self.used_ports = set()

    # -- configuration ---------------------------------------------------------------------
    def _write_cfg(self):
        os.makedirs(self.workdir, exist_ok=True)
        os.makedirs(self.data_dir, exist_ok=True)
        if self.data_log_dir:
            os.makedirs(self.data_log_dir, exist_ok=True)
        cfg = {"tickTime": self.tick_time}
        if self.data_log_dir:
            cfg["dataLogDir"] = self.data_log_dir
        cfg.update({
            "extendedTypesEnabled": "true",
            "snapCount": self.snap_count,
            "forceSync": "yes",
            "autopurge.purgeInterval": "0",
        })
        cfg.update(self.extra_cfg)
        path = os.path.join(self.workdir, "zoo-%s-%d.cfg" % (self.name, self.starts))
        return javazk.write_cfg(path, self.data_dir, self.port, cfg)

    def _process(self, cfg):
        """The process for this start; Java's flags are javazk's, with no reaping."""
        log_path = os.path.join(self.workdir, "server-%s-%d.log" % (self.name, self.starts))
        common = dict(cwd=self.workdir, name=self.name, ready=_serves_zxid,
                      stop_timeout=STOP_TIMEOUT_S)
        if self.kind == "java":
            return javazk.JavaZooKeeper(
                cfg, self.port, log_path, heap="512m",
                props={"znode.container.checkIntervalMs": str(CONTAINER_CHECK_MS)}, **common)
        if not (os.path.isfile(self.fk_bin) and os.access(self.fk_bin, os.X_OK)):
            raise ServerError("FerroKeeper binary not found or not executable: %s "
                              "(cargo build --release, or --fk-bin PATH)" % self.fk_bin)
        env = {"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS}
        return javazk.ServerProcess([self.fk_bin, cfg], self.port, log_path, env=env, **common)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self):
        return self.process is not None and self.process.running

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.port

    @property
    def log_path(self):
        return self.process.log_path if self.process else None

    def start(self, timeout=START_TIMEOUT_S):
        """Start on a fresh port; return once `srvr` reports a zxid. Raises ServerError."""
        if self.running:
            raise ServerError("%s already running (pid %d)" % (self.name, self.process.pid))
        self.starts += 1
        self.port = free_port(avoid=self.used_ports)
        self.used_ports.add(self.port)
        self.process = self._process(self._write_cfg())
        self.process.start(timeout)
        return self

    def stop(self, timeout=STOP_TIMEOUT_S):
        """Graceful stop: SIGTERM, wait for exit. Returns the exit status.
        Raises ServerError (after SIGKILL) if it does not exit in time."""
        return self.process.stop(timeout, strict=True) if self.process else None

    def kill(self):
        """Crash: SIGKILL (kill -9), wait for exit."""
        return self.process.kill() if self.process else None

    def zxid(self):
        z = srvr_zxid(self.port)
        if z is None:
            raise ServerError("%s on port %d did not answer srvr" % (self.name, self.port))
        return z

    def digest_mismatches(self):
        """`zk_digest_mismatches_count` from mntr: txns (and snapshots) whose logged tree
        digest disagreed with the tree this server built, at load or while serving."""
        m = re.search(r"^zk_digest_mismatches_count\s+(\d+)\s*$",
                      four_letter(self.port, "mntr"), re.M)
        if not m:
            raise ServerError("%s on port %d did not report zk_digest_mismatches_count"
                              % (self.name, self.port))
        return int(m.group(1))

    def log_tail(self, n=30):
        return self.process.log_tail(n) if self.process else "(no log)"

    @property
    def txn_dir(self):
        """Where the txn logs live: <dataLogDir or dataDir>/version-2."""
        return os.path.join(self.data_log_dir or self.data_dir, "version-2")

    @property
    def snap_dir(self):
        return os.path.join(self.data_dir, "version-2")

    def __repr__(self):
        return "Server(%s, data=%s, log=%s, port=%s)" % (self.kind, self.data_dir,
                                                          self.data_log_dir, self.port)
