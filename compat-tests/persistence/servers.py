"""Start, stop and kill a standalone ZooKeeper-protocol server on a given dataDir/dataLogDir.

Two kinds, same interface:
  "java" - Apache ZooKeeper 3.8 from Debian's `zookeeper` package (the reference), run as
           `java -cp <jars> org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg`
  "fk"   - FerroKeeper, run as `ferrokeeper zoo.cfg`

Every start writes a fresh zoo.cfg (free loopback port) into the run's work directory and
waits, with a deadline, until the server answers the four-letter word `srvr` with a `Zxid:`
line, i.e. until it has loaded its data and serves. Only the process started here is ever
signalled, by its own pid: SIGTERM for a graceful stop, SIGKILL for a crash.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

JAVA_DIR = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
JAVA_JARS = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"]
JAVA_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_FK_BIN = os.path.join(REPO, "target", "release", "ferrokeeper")

# The container/TTL reaper would otherwise delete nodes asynchronously (transactions that
# neither side of a comparison controls); one day is longer than any run.
CONTAINER_CHECK_MS = 86_400_000

START_TIMEOUT_S = float(os.environ.get("PERSIST_START_TIMEOUT", "60"))
STOP_TIMEOUT_S = float(os.environ.get("PERSIST_STOP_TIMEOUT", "20"))


class ServerError(Exception):
    pass


def free_port(avoid=()):
    """A loopback TCP port that was free a moment ago (never one of `avoid`)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in avoid:
            return port
    raise ServerError("no free loopback port found in 50 tries")


def four_letter(port, word, timeout=2.0):
    """Send a four-letter word to 127.0.0.1:port; return the reply ('' on any failure)."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode("ascii"))
            chunks = []
            for _ in range(10_000):  # bounded; the server closes after the reply
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return ""


_ZXID_RE = re.compile(r"^Zxid:\s*(0x[0-9a-fA-F]+|\d+)\s*$", re.M)


def srvr_zxid(port, timeout=2.0):
    """The server's last processed zxid from `srvr`, or None if it did not answer one."""
    m = _ZXID_RE.search(four_letter(port, "srvr", timeout))
    if not m:
        return None
    return int(m.group(1), 0)


def java_missing_reason():
    if shutil.which("java") is None:
        return "no `java` on PATH (install default-jdk-headless)"
    for j in JAVA_JARS:
        if not os.path.exists(os.path.join(JAVA_DIR, j)):
            return "missing %s (install Debian package zookeeper)" % os.path.join(JAVA_DIR, j)
    return None


def java_classpath():
    return ":".join(os.path.join(JAVA_DIR, j) for j in JAVA_JARS)


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
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None
        self._log_file = None
        self.used_ports = set()

    # -- configuration ---------------------------------------------------------------------
    def _write_cfg(self):
        os.makedirs(self.workdir, exist_ok=True)
        os.makedirs(self.data_dir, exist_ok=True)
        if self.data_log_dir:
            os.makedirs(self.data_log_dir, exist_ok=True)
        lines = [
            "tickTime=%d" % self.tick_time,
            "initLimit=10",
            "syncLimit=5",
            "dataDir=%s" % self.data_dir,
        ]
        if self.data_log_dir:
            lines.append("dataLogDir=%s" % self.data_log_dir)
        lines += [
            "clientPort=%d" % self.port,
            "clientPortAddress=127.0.0.1",
            "maxClientCnxns=0",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
            "extendedTypesEnabled=true",
            "snapCount=%d" % self.snap_count,
            "forceSync=yes",
            "autopurge.purgeInterval=0",
        ]
        lines += ["%s=%s" % kv for kv in self.extra_cfg.items()]
        path = os.path.join(self.workdir, "zoo-%s-%d.cfg" % (self.name, self.starts))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _command(self, cfg):
        if self.kind == "java":
            why = java_missing_reason()
            if why:
                raise ServerError("cannot start Java ZooKeeper: " + why)
            return [
                "java", "-Xmx512m",
                "-Dzookeeper.admin.enableServer=false",
                "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", java_classpath(), JAVA_MAIN, cfg,
            ], {}
        if not (os.path.isfile(self.fk_bin) and os.access(self.fk_bin, os.X_OK)):
            raise ServerError("FerroKeeper binary not found or not executable: %s "
                              "(cargo build --release, or --fk-bin PATH)" % self.fk_bin)
        env = {"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS}
        return [self.fk_bin, cfg], env

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=START_TIMEOUT_S):
        """Start on a fresh port; return once `srvr` reports a zxid. Raises ServerError."""
        if self.running:
            raise ServerError("%s already running (pid %d)" % (self.name, self.proc.pid))
        self.starts += 1
        self.port = free_port(avoid=self.used_ports)
        self.used_ports.add(self.port)
        cfg = self._write_cfg()
        cmd, extra_env = self._command(cfg)
        env = dict(os.environ)
        env.update(extra_env)
        self.log_path = os.path.join(self.workdir, "server-%s-%d.log" % (self.name, self.starts))
        self._log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        for _ in range(100_000):  # bounded by the deadline in practice
            if self.proc.poll() is not None:
                raise ServerError("%s exited with status %s during start-up; log tail:\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
            if srvr_zxid(self.port, timeout=1.0) is not None:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)  # polling a port with a deadline
        self.kill()
        raise ServerError("%s did not serve on port %d within %.0f s; log tail:\n%s"
                          % (self.name, self.port, timeout, self.log_tail()))

    def _reap(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, timeout=STOP_TIMEOUT_S):
        """Graceful stop: SIGTERM, wait for exit. Returns the exit status.
        Raises ServerError (after SIGKILL) if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if not self._reap(timeout):
                self.proc.kill()
                self._reap(10)
                self._close_log()
                raise ServerError("%s ignored SIGTERM for %.0f s; killed" % (self.name, timeout))
        rc = self.proc.returncode
        self._close_log()
        return rc

    def kill(self):
        """Crash: SIGKILL (kill -9), wait for exit."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self._reap(10)
        rc = self.proc.returncode
        self._close_log()
        return rc

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

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
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except (OSError, TypeError):
            return "(no log)"

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
