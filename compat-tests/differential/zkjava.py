#!/usr/bin/env python3
"""Start and stop a throw-away standalone Apache ZooKeeper 3.8 (Debian's `zookeeper` package).

Each server gets its own temporary directory (zoo.cfg, dataDir, log) and a free loopback port.
Only processes started here are ever signalled, by their own pid.

    python3 zkjava.py            # start one, print "PORT PID DIR", stop on Enter / Ctrl-C

Configuration written (see README.md for why):
    tickTime=2000, maxClientCnxns=0, 4lw.commands.whitelist=*, admin.enableServer=false,
    extendedTypesEnabled=true (TTL nodes), forceSync=no (speed; data is thrown away anyway)
JVM system properties:
    znode.container.checkIntervalMs=86400000  so the container/TTL reaper never runs during a
    test (its deletions would be asynchronous, i.e. nondeterministic, transactions).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

JAVA_DIR = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
CLASSPATH_JARS = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"]
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def four_letter(port, word, timeout=2.0):
    """Send a four-letter word; return the reply text ('' on any failure)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode("ascii"))
            chunks = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return ""


def java_available():
    """(ok, reason): whether a JVM and the ZooKeeper jars are installed."""
    if shutil.which("java") is None:
        return False, "no java on PATH"
    for j in CLASSPATH_JARS:
        if not os.path.exists(os.path.join(JAVA_DIR, j)):
            return False, "missing %s/%s (apt-get install zookeeper)" % (JAVA_DIR, j)
    return True, ""


class JavaZooKeeper:
    """One standalone server. Use as a context manager or call start()/stop()."""

    def __init__(self, extra_cfg=None, extra_props=None, heap="256m", base_dir=None):
        self.extra_cfg = dict(extra_cfg or {})
        self.extra_props = dict(extra_props or {})
        self.heap = heap
        self.base_dir = base_dir
        self.dir = None
        self.port = None
        self.proc = None
        self._log = None

    def start(self, timeout=60.0, attempts=3):
        ok, why = java_available()
        if not ok:
            raise RuntimeError("cannot start Java ZooKeeper: " + why)
        last = None
        for _ in range(attempts):
            try:
                self._start_once(timeout)
                return self
            except RuntimeError as e:  # e.g. port taken between free_port() and bind
                last = e
                self.stop()
        raise last

    def _start_once(self, timeout):
        self.dir = tempfile.mkdtemp(prefix="zkjava-", dir=self.base_dir)
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        cfg = {
            "tickTime": "2000",
            "initLimit": "10",
            "syncLimit": "5",
            "dataDir": data,
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "0",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
            "extendedTypesEnabled": "true",
            "forceSync": "no",
        }
        cfg.update(self.extra_cfg)
        cfg_path = os.path.join(self.dir, "zoo.cfg")
        with open(cfg_path, "w") as f:
            for k, v in cfg.items():
                f.write("%s=%s\n" % (k, v))
        props = {
            "zookeeper.admin.enableServer": "false",
            "zookeeper.extendedTypesEnabled": "true",
            "znode.container.checkIntervalMs": "86400000",
            "org.slf4j.simpleLogger.defaultLogLevel": "warn",
        }
        props.update(self.extra_props)
        cp = ":".join(os.path.join(JAVA_DIR, j) for j in CLASSPATH_JARS)
        cmd = ["java", "-Xmx" + self.heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
        cmd += ["-D%s=%s" % kv for kv in props.items()]
        cmd += ["-cp", cp, MAIN_CLASS, cfg_path]
        self._log = open(os.path.join(self.dir, "zk.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("java exited with %s; log:\n%s" % (self.proc.returncode, self.log_tail()))
            if "Mode:" in four_letter(self.port, "srvr", timeout=1.0):
                return
            time.sleep(0.1)  # polling a starting JVM: there is no event to await
        raise RuntimeError("Java ZooKeeper not serving on %d after %.0fs; log:\n%s"
                           % (self.port, timeout, self.log_tail()))

    def log_tail(self, n=30):
        try:
            name = "zk.log" if os.path.exists(os.path.join(self.dir, "zk.log")) else "server.log"
            with open(os.path.join(self.dir, name), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self, keep_dir=False):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.dir and not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class CommandServer:
    """A server started from a command template, e.g. FerroKeeper:

        CommandServer("target/release/ferrokeeper {cfg}")

    {cfg}, {port} and {dir} are replaced by the generated zoo.cfg (the same keys as for Java,
    plus znode.container.checkIntervalMs=86400000 so a server that honours that key never reaps
    containers/TTL nodes during a test), the chosen loopback port and the temp directory.
    Readiness is a completed ZooKeeper handshake (the probe session is closed properly so it
    cannot expire later in the middle of a test)."""

    def __init__(self, template, base_dir=None):
        self.template = template
        self.base_dir = base_dir
        self.dir = None
        self.port = None
        self.proc = None
        self._log = None

    def start(self, timeout=60.0):
        import shlex
        import zkwire
        self.dir = tempfile.mkdtemp(prefix="zkcmd-", dir=self.base_dir)
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        cfg_path = os.path.join(self.dir, "zoo.cfg")
        with open(cfg_path, "w") as f:
            f.write("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\n"
                    "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n"
                    "admin.enableServer=false\nextendedTypesEnabled=true\nforceSync=no\n"
                    "znode.container.checkIntervalMs=86400000\n" % (data, self.port))
        cmd = [a.format(cfg=cfg_path, port=self.port, dir=self.dir) for a in shlex.split(self.template)]
        self._log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%r exited with %s; log:\n%s" % (cmd, self.proc.returncode, self.log_tail()))
            s = zkwire.Session("127.0.0.1", self.port, io_timeout=5.0)
            try:
                resp = s.connect()
                if resp["timeOut"] > 0:
                    s.close_session(timeout=5.0)
                    return self
            except (OSError, zkwire.ConnectionClosed, zkwire.Timeout) as e:
                last = e
            finally:
                s.close()
            time.sleep(0.1)  # polling a starting process: there is no event to await
        self.stop(keep_dir=True)
        raise RuntimeError("%r not serving on %d after %.0fs (%s); log in %s" % (cmd, self.port, timeout, last, self.dir))

    log_tail = JavaZooKeeper.log_tail

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self, keep_dir=False):
        JavaZooKeeper.stop(self, keep_dir)


if __name__ == "__main__":
    zk = JavaZooKeeper().start()
    print(zk.port, zk.proc.pid, zk.dir, flush=True)
    try:
        sys.stdin.readline()
    except KeyboardInterrupt:
        pass
    finally:
        zk.stop()
