"""Driving the ZooKeeper C client's sample shell `cli_mt` (Debian package zookeeper-bin).

cli_mt reads one command per line from stdin and sends it asynchronously; results are printed
(on stderr) by completion callbacks. Writing all commands at once would race (and `quit` would
drop pending replies), so this driver sends one command, waits for that command's completion
output, then sends the next. Every wait has a deadline.

Output formats (ZooKeeper 3.8 cli.c):
  create/create2/sync : "[<path>]: rc = N", then "\tname = <created>" when N == 0
  get                 : "time = .. msec", "<path>: rc = N", " value_len = L", <value>, "Stat:", stat
  set                 : "<path>: rc = N Stat:", stat
  ls / ls2            : "time = ..", "<path>: rc = N", "\t<child>"..., "time = ..", (ls2: stat)
  delete              : "<path>: rc = N"
  exists/wexists      : synchronous in cli_mt; prints "Error N for <path>" only when N != 0
  stat dump           : "null" or 6 lines: "\tctime = ..", "\tczxid=<hex>", "\tmtime=..",
                        "\tmzxid=<hex>", "\tversion=<hex>\taversion=<hex>",
                        "\tephemeralOwner = <hex>"
  watch events        : "Watcher <TYPE>_EVENT state = <STATE> for path <path>"
"""
import os
import queue
import re
import subprocess
import threading
import time

CLI_MT = os.environ.get("CLI_MT", "/usr/lib/zookeeper/bin/cli_mt")
WAIT = 20.0
MAX_LINES = 100000  # every wait loop is bounded by a deadline and by this many lines


class CliError(AssertionError):
    pass


class CliMt:
    def __init__(self, connect):
        self.p = subprocess.Popen([CLI_MT, "-h", connect], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        self.q = queue.Queue()
        self.log = []  # every line seen, for diagnostics and event checks
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()
        line = self._until(r"^Got a new session id: 0x([0-9a-f]+)$")
        self.session_id = int(re.match(r"^Got a new session id: 0x([0-9a-f]+)$", line).group(1), 16)

    def _read(self):
        for raw in self.p.stdout:
            ln = raw.decode("utf-8", "replace").rstrip("\n")
            self.q.put(ln)
        self.q.put(None)

    def _next(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise CliError(f"cli_mt: timed out; last lines: {self.log[-15:]}")
        try:
            ln = self.q.get(timeout=left)
        except queue.Empty:
            raise CliError(f"cli_mt: timed out; last lines: {self.log[-15:]}")
        if ln is None:
            self.q.put(None)
            raise CliError(f"cli_mt exited; last lines: {self.log[-15:]}")
        self.log.append(ln)
        if ln.startswith("Watcher ") and "SESSION_EVENT" not in ln:
            self.events.append(ln)
        return ln

    def _until(self, pattern, timeout=WAIT):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        for _ in range(MAX_LINES):
            ln = self._next(deadline)
            if rx.search(ln):
                return ln
        raise CliError(f"no line matching {pattern!r} in {MAX_LINES} lines")

    def _lines_until(self, pattern, timeout=WAIT):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        out = []
        for _ in range(MAX_LINES):
            ln = self._next(deadline)
            out.append(ln)
            if rx.search(ln):
                return out
        raise CliError(f"no line matching {pattern!r} in {MAX_LINES} lines")

    def send(self, cmd):
        self.p.stdin.write((cmd + "\n").encode())

    def _stat(self, deadline_s=WAIT):
        lines = self._lines_until(r"^(null|\tephemeralOwner = [0-9a-f]+)$", deadline_s)
        if lines[-1] == "null":
            return None
        st = {}
        for ln in lines:
            for k, v in re.findall(r"(czxid|mzxid|version|aversion)=([0-9a-f]+)", ln):
                st[k] = int(v, 16)
            m = re.match(r"^\tephemeralOwner = ([0-9a-f]+)$", ln)
            if m:
                st["ephemeralOwner"] = int(m.group(1), 16)
            m = re.match(r"^\tctime = (.*)$", ln)
            if m:
                st["ctime"] = m.group(1)
        # unsigned 32-bit hex back to signed
        for k in ("version", "aversion"):
            if st.get(k, 0) >= 1 << 31:
                st[k] -= 1 << 32
        return st

    @staticmethod
    def _rc(line):
        return int(re.search(r"rc = (-?\d+)", line).group(1))

    # --- commands ---------------------------------------------------------------------
    def create(self, path, flags="", create2=False):
        """Returns (rc, created name or None, stat or None)."""
        verb = "create2" if create2 else "create"
        self.send(f"{verb} {'+' + flags + ' ' if flags else ''}{path}")
        rc = self._rc(self._until(r"^\[" + re.escape(path) + r"\]: rc = -?\d+$"))
        name = stat = None
        if rc == 0:
            name = re.match(r"^\tname = (.*)$", self._until(r"^\tname = ")).group(1)
        if create2:
            stat = self._stat()
        return rc, name, stat

    def get(self, path):
        """Returns (rc, value bytes or None, stat or None)."""
        self.send(f"get {path}")
        rc = self._rc(self._until(r"^" + re.escape(path) + r": rc = -?\d+$"))
        body = self._lines_until(r"^Stat:$")[:-1]
        value = None
        if body and body[0].startswith(" value_len = "):
            n = int(body[0].split("=")[1])
            value = "\n".join(body[1:]).encode()
            assert len(value) == n, (value, n)
        return rc, value, self._stat()

    def set(self, path, data):
        self.send(f"set {path} {data}")
        rc = self._rc(self._until(r"^" + re.escape(path) + r": rc = -?\d+ Stat:$"))
        return rc, self._stat()

    def ls(self, path, two=False):
        self.send(f"{'ls2' if two else 'ls'} {path}")
        rc = self._rc(self._until(r"^" + re.escape(path) + r": rc = -?\d+$"))
        lines = self._lines_until(r"^time = -?\d+ msec$")[:-1]
        kids = [ln[1:] for ln in lines if ln.startswith("\t")]
        stat = self._stat() if two else None
        return rc, kids, stat

    def delete(self, path):
        self.send(f"delete {path}")
        return self._rc(self._until(r"^" + re.escape(path) + r": rc = -?\d+$"))

    def sync(self, path="/"):
        self.send(f"sync {path}")
        rc = self._rc(self._until(r"^\[" + re.escape(path) + r"\]: rc = -?\d+$"))
        if rc == 0:
            self._until(r"^\tname = ")
        return rc

    def exists(self, path, watch=False):
        """cli_mt's exists is synchronous and silent on success; a following sync marks the
        end of its output. Returns rc (0 = exists)."""
        start = len(self.log)
        self.send(f"{'wexists' if watch else 'exists'} {path}")
        assert self.sync("/") == 0
        for ln in self.log[start:]:
            m = re.match(r"^Error (-?\d+) for " + re.escape(path) + "$", ln)
            if m:
                return int(m.group(1))
        return 0

    def addauth(self, scheme, cred):
        self.send(f"addauth {scheme} {cred}")

    def wait_event(self, kind, path, timeout=WAIT):
        want = f"Watcher {kind} state = CONNECTED_STATE for path {path}"
        deadline = time.monotonic() + timeout
        for _ in range(MAX_LINES):
            if want in self.events:
                return want
            self._next(deadline)
        raise CliError(f"no {want!r} in {MAX_LINES} lines")

    def close(self):
        try:
            self.send("quit")
            self.p.stdin.close()
            self.p.wait(timeout=15)
        except Exception:
            self.p.kill()
            self.p.wait(timeout=10)
