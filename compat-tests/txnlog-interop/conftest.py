"""Fixtures for the persistence interoperability tests (FerroKeeper's txn log vs Java ZooKeeper).

These tests need no running server: they start Debian's Java ZooKeeper 3.8 themselves and use
two Rust example binaries, found in $FERRO_EXAMPLES_DIR (run.sh builds them and sets it).
A missing JVM, ZooKeeper jar or example binary FAILS the tests: nothing is skipped.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "differential"))
sys.path.insert(0, os.path.join(HERE, "..", "kazoo"))

import zkjava  # noqa: E402

# Besides the server's jars (compat-tests/lib/javazk.py), TxnLogToolkit needs commons-cli.
TOOLKIT_EXTRA_JARS = ["commons-cli.jar"]
TOOLKIT_CLASS = "org.apache.zookeeper.server.persistence.TxnLogToolkit"
# One txn as TxnLogToolkit (and dump_txnlog) print it.
TXN_RE = re.compile(r"session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\w+)")


@pytest.fixture(scope="session")
def java():
    ok, why = zkjava.java_available()
    if not ok:
        pytest.fail("Java ZooKeeper is required: " + why)
    why = zkjava.javazk.missing(TOOLKIT_EXTRA_JARS)
    if why:
        pytest.fail(why + " (commons-cli: apt-get install libcommons-cli-java)")
    return zkjava


def _example(name):
    d = os.environ.get("FERRO_EXAMPLES_DIR", "")
    if not d:
        pytest.fail("FERRO_EXAMPLES_DIR is not set (run compat-tests/txnlog-interop/run.sh)")
    path = os.path.join(d, name)
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: cargo build --release --examples" % path)
    return path


@pytest.fixture(scope="session")
def dump_txnlog():
    return _example("dump_txnlog")


@pytest.fixture(scope="session")
def write_txnlog():
    return _example("write_txnlog")


@pytest.fixture(scope="session")
def truncate_txnlog():
    return _example("truncate_txnlog")


def run(cmd, timeout=120):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def toolkit(path):
    """Java's TxnLogToolkit on one log file: (returncode, stdout, stderr)."""
    cp = zkjava.javazk.classpath(TOOLKIT_EXTRA_JARS)
    r = run(["java", "-Xmx256m", "-XX:TieredStopAtLevel=1",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, TOOLKIT_CLASS, path])
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def txn_keys(text):
    """[(session, cxid, zxid, op)] of every txn line in a toolkit or dump_txnlog output."""
    return [m.groups() for m in TXN_RE.finditer(text)]


def log_files(version2):
    """log.* files of a version-2 directory, in zxid order."""
    names = [n for n in os.listdir(version2) if n.startswith("log.")]
    return [os.path.join(version2, n) for n in sorted(names, key=lambda n: int(n.split(".")[1], 16))]


def copy_tree(src, dst):
    shutil.copytree(src, dst)
    return dst
