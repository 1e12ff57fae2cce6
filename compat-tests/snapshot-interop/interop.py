"""Debian's Java ZooKeeper 3.8 and FerroKeeper's snapshot example programs, for the
persistence interop tests.

Only processes started here are ever signalled, by their own pid.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

JAVA_DIR = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
# snappy-java is on the class path so zookeeper.snapshot.compression.method=snappy works.
JARS = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar",
        "snappy-java.jar"]
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROFILE = os.environ.get("FK_EXAMPLE_PROFILE", "release")
EXAMPLES = os.path.join(REPO, "target", PROFILE, "examples")


def classpath():
    return ":".join(os.path.join(JAVA_DIR, j) for j in JARS)


def java_missing():
    """None if Java ZooKeeper can run here, else why not."""
    if shutil.which("java") is None:
        return "no java on PATH (apt-get install default-jre-headless)"
    for j in JARS:
        if not os.path.exists(os.path.join(JAVA_DIR, j)):
            return "missing %s/%s (apt-get install zookeeper libsnappy-java)" % (JAVA_DIR, j)
    return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def four_letter(port, word, timeout=2.0):
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


def mntr(port):
    out = {}
    for line in four_letter(port, "mntr").splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


class JavaServer:
    """A standalone Java ZooKeeper on an existing dataDir (which it keeps)."""

    def __init__(self, data_dir, props=None, log_path=None):
        self.data_dir = data_dir
        self.props = dict(props or {})
        self.log_path = log_path or os.path.join(os.path.dirname(data_dir), "zk-%d.log" % time.time_ns())
        self.port = None
        self.proc = None
        self._log = None

    def start(self, timeout=60.0):
        why = java_missing()
        if why:
            raise RuntimeError("cannot start Java ZooKeeper: " + why)
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        cfg = os.path.join(os.path.dirname(self.data_dir), "zoo-%d.cfg" % self.port)
        with open(cfg, "w") as f:
            f.write("tickTime=2000\ninitLimit=10\nsyncLimit=5\n")
            f.write("dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n" % (self.data_dir, self.port))
            f.write("maxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n")
            f.write("extendedTypesEnabled=true\nmaxSessionTimeout=60000\n")
        props = {
            "zookeeper.admin.enableServer": "false",
            "zookeeper.extendedTypesEnabled": "true",
            # No container/TTL reaping while a test looks at the tree.
            "znode.container.checkIntervalMs": "86400000",
            "org.slf4j.simpleLogger.defaultLogLevel": "info",
        }
        props.update(self.props)
        cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
        cmd += ["-D%s=%s" % kv for kv in props.items()]
        cmd += ["-cp", classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Java ZooKeeper exited with %s; log:\n%s"
                                   % (self.proc.returncode, self.log_text()[-4000:]))
            if "Mode:" in four_letter(self.port, "srvr", timeout=1.0):
                return self
            time.sleep(0.1)  # polling a starting JVM: there is no event to await
        self.stop()
        raise RuntimeError("Java ZooKeeper not serving after %.0fs; log:\n%s"
                           % (timeout, self.log_text()[-4000:]))

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def snapshot_formatter(path, dump_data=True, timeout=60):
    """Runs org.apache.zookeeper.server.SnapshotFormatter (what zkSnapShotToolkit.sh runs)."""
    cmd = ["java", "-cp", classpath(), "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
           "org.apache.zookeeper.server.SnapshotFormatter"]
    if dump_data:
        cmd.append("-d")
    cmd.append(path)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        raise RuntimeError("%s not built: cargo build --release --examples" % path)
    return path


def run_json_lines(cmd, timeout=120):
    """Runs a command printing JSON lines; returns (returncode, [objects], stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    objs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, objs, p.stderr


def dump_snapshot(path):
    """FerroKeeper's reader on a snapshot file or version-2 directory; asserts it succeeded."""
    rc, objs, err = run_json_lines([example("dump_snapshot"), path])
    if rc != 0:
        raise AssertionError("dump_snapshot %s failed (%d): %s" % (path, rc, err))
    return objs
