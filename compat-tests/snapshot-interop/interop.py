"""Debian's Java ZooKeeper 3.8 and FerroKeeper's snapshot example programs, for the
persistence interop tests. Starting Java ZooKeeper is compat-tests/lib/javazk.py's job;
this module holds the settings these tests run it with.

Only processes started here are ever signalled, by their own pid.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import javazk  # noqa: E402

# snappy-java is on the class path so zookeeper.snapshot.compression.method=snappy works.
EXTRA_JARS = ["snappy-java.jar"]
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROFILE = os.environ.get("FK_EXAMPLE_PROFILE", "release")
EXAMPLES = os.path.join(REPO, "target", PROFILE, "examples")


def classpath():
    return javazk.classpath(EXTRA_JARS)


def java_missing():
    """None if Java ZooKeeper can run here, else why not."""
    why = javazk.missing(EXTRA_JARS)
    return why and why + " (snappy: apt-get install libsnappy-java)"


def mntr(port):
    out = {}
    for line in javazk.four_letter(port, "mntr").splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def JavaServer(data_dir, props=None, log_path=None):
    """A standalone Java ZooKeeper on an existing dataDir (which it keeps): zoo-<port>.cfg
    beside data_dir, output appended to log_path. start() returns it serving."""
    why = java_missing()
    if why:
        raise RuntimeError("cannot start Java ZooKeeper: " + why)
    os.makedirs(data_dir, exist_ok=True)
    parent = os.path.dirname(data_dir)
    port = javazk.free_port()
    cfg = javazk.write_cfg(os.path.join(parent, "zoo-%d.cfg" % port), data_dir, port,
                           {"extendedTypesEnabled": "true", "maxSessionTimeout": "60000"})
    flags = {"zookeeper.extendedTypesEnabled": "true",
             # No container/TTL reaping while a test looks at the tree.
             "znode.container.checkIntervalMs": str(javazk.NO_REAPING_MS)}
    flags.update(props or {})
    return javazk.JavaZooKeeper(
        cfg, port, log_path or os.path.join(parent, "zk-%d.log" % time.time_ns()),
        props=flags, log_level="info", jvm_opts=["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"],
        extra_jars=EXTRA_JARS, log_mode="ab", stop_timeout=15)


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
