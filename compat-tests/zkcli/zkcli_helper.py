"""Driving Debian's zkCli.sh (ZooKeeper 3.8 Java CLI) non-interactively.

Two ways work with the 3.8 CLI (JLine is absent, so it reads plain lines from stdin):
  * batch:   commands piped on stdin, one per line, ending with `quit`; each command runs to
             completion before the next line is read, output goes to stdout/stderr.
  * single:  `zkCli.sh -server HOST:PORT cmd args...`; exit status 1 when the command failed.
Noise that is not command output (SLF4J warnings, the banner, the connection watcher lines)
is filtered out; watch events are kept as their "WatchedEvent ..." lines.
"""
import os
import queue
import re
import subprocess
import threading
import time

ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
TIMEOUT = 60
MAX_LINES = 100000  # every wait loop is bounded by a deadline and by this many lines

# digest identity the ACL tests use; cleanup authenticates with it so it can delete everything
DIGEST_USER, DIGEST_PASS = "cliuser", "clipass"

_NOISE = [
    re.compile(r"^SLF4J: "),
    re.compile(r"^Connecting to "),
    re.compile(r"^Welcome to ZooKeeper!$"),
    re.compile(r"^JLine support is disabled$"),
    re.compile(r"^WATCHER::$"),
    re.compile(r"^WatchedEvent state:SyncConnected type:None path:null$"),
    re.compile(r"^WatchedEvent state:Closed type:None path:null$"),
    re.compile(r"^$"),
]


def _env():
    env = dict(os.environ)
    # small, fast-starting JVM for the short CLI sessions (C1 only, serial GC)
    env.setdefault("CLIENT_JVMFLAGS", "-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    return env


def clean(text):
    return [ln for ln in text.splitlines() if not any(p.search(ln) for p in _NOISE)]


def batch(connect, *commands, timeout=TIMEOUT):
    """Run commands in one CLI session; returns the filtered output lines."""
    script = "".join(c + "\n" for c in commands) + "quit\n"
    p = subprocess.run([ZKCLI, "-server", connect], input=script, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, env=_env())
    return clean(p.stdout)


def single(connect, *args, timeout=TIMEOUT):
    """One command given on the command line; returns (exit status, filtered output lines)."""
    p = subprocess.run([ZKCLI, "-server", connect, *args], text=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, env=_env())
    return p.returncode, clean(p.stdout)


def parse_stat(lines):
    """The `key = value` lines of a printed Stat, as a dict (values are strings)."""
    out = {}
    for ln in lines:
        m = re.match(r"^(cZxid|ctime|mZxid|mtime|pZxid|cversion|dataVersion|aclVersion|"
                     r"ephemeralOwner|dataLength|numChildren) = (.*)$", ln)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class Session:
    """A long-lived CLI session (for watches): send commands, wait for output lines."""

    def __init__(self, connect):
        self.p = subprocess.Popen([ZKCLI, "-server", connect], text=True, bufsize=1,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=_env())
        self.lines = []
        self.q = queue.Queue()
        self._syncs = 0
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for ln in self.p.stdout:
            ln = ln.rstrip("\n")
            if not any(p.search(ln) for p in _NOISE):
                self.q.put(ln)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def wait_for(self, pattern, timeout=30):
        """Consume output until a line matches; returns the lines consumed (incl. the match)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        got = []
        for _ in range(MAX_LINES):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {got}")
            try:
                ln = self.q.get(timeout=left)
            except queue.Empty:
                continue
            got.append(ln)
            self.lines.append(ln)
            if rx.search(ln):
                return got
        raise AssertionError(f"no line matching {pattern!r} in {MAX_LINES} lines")

    def wait_all(self, patterns, timeout=30):
        """Consume output until every pattern has matched a line (in any order)."""
        pending = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        got = []
        for _ in range(MAX_LINES):
            if not pending:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"still waiting for {[p.pattern for p in pending]}; got {got}")
            try:
                ln = self.q.get(timeout=left)
            except queue.Empty:
                continue
            got.append(ln)
            self.lines.append(ln)
            for rx in pending:
                if rx.search(ln):
                    pending.remove(rx)
                    break
        if pending:
            raise AssertionError(f"still waiting for {[p.pattern for p in pending]}")
        return got

    def barrier(self):
        """Returns once every command sent so far has completed (zkCli runs them in order and
        prints 'Sync is OK' when the sync finishes); returns the lines printed meanwhile."""
        self.send("sync /")
        return self.wait_for(r"^Sync is OK$")[:-1]

    def events(self):
        return [ln for ln in self.lines if ln.startswith("WatchedEvent")]

    def close(self):
        try:
            if self.p.poll() is None:
                self.send("quit")
                self.p.stdin.close()
            self.p.wait(timeout=20)
        except Exception:
            self.p.kill()
            self.p.wait(timeout=10)
