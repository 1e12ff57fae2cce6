#!/usr/bin/env python3
"""The one place that knows how to run Debian's Java ZooKeeper 3.8.0 (the reference) in tests.

Every suite that starts a Java server goes through here, so the class path, the JVM flags, the
zoo.cfg test defaults, the readiness check and the stop/kill rules are written once. What stays
in each suite is only what it means to differ (heap, -D flags, extra zoo.cfg keys, where files go).

Library (stdlib only):
    missing(extra_jars)          -> None, or why Java ZooKeeper cannot run here
    classpath(extra_jars)        -> the jars of /usr/share/java (ZK_JAVA_DIR) as a class path
    free_port(), four_letter(port, word), srvr_zxid(port)
    write_cfg(path, data_dir, port, overrides)   zoo.cfg from TEST_CFG + overrides (None drops a key)
    ServerProcess(cmd, port, log_path)           any server process: start, wait until it serves
                                                 (bounded), stop (SIGTERM then SIGKILL, bounded),
                                                 kill -9, log tail in every error
    JavaZooKeeper(cfg_path, port, ...)           a ServerProcess running QuorumPeerMain
    start_in_dir(dir, ...)                       DIR/zoo.cfg, DIR/data, DIR/zk.log, a free port
    start_either(kind, dir, ferrokeeper, ...)    Java or FerroKeeper on the same DIR/zoo.cfg
                                                 (props as -D flags / SERVER_JVMFLAGS)
    quorum_ports(sids)                           {sid: (client, quorum, election)}, all distinct
    write_quorum_member(dir, sid, ports, cfg)    DIR/zoo.cfg with server.N lines, DIR/data/myid
    quorum_member(dir, sid, ports, cfg, ...)     a JavaZooKeeper for it, not yet started (members
                                                 serve only once a quorum is up: spawn() them
                                                 all, then wait_serving() each)

CLI, for shell callers (one server per DIR; pid in DIR/zk.pid, log in DIR/zk.log):
    javazk.py start DIR [--set KEY=VALUE]... [--unset KEY]... [-D KEY=VALUE]... [--heap SIZE]
                        [--jar JAR[:JAR]]... [--admin-server] [--log-level LEVEL|none]
                        [--keep-cfg] [--timeout S]
        writes DIR/zoo.cfg (TEST_CFG, dataDir=DIR/data, a free loopback port, then --set/--unset;
        --keep-cfg: use the DIR/zoo.cfg the caller wrote, port from its clientPort), starts the
        server, waits until it serves, prints "PID PORT". On failure: log tail on stderr, exit 1.
        --jar: more jars on the class path; --admin-server: no forced admin.enableServer=false
        (neither flag nor zoo.cfg key), as the AdminServer captures need.
    javazk.py stop DIR [--timeout S]    SIGTERM the server started in DIR (only if that pid is
                                        still a java on DIR/zoo.cfg), SIGKILL after S (10) seconds
    javazk.py kill DIR                  SIGKILL it

Only processes started here are ever signalled, by their own pid.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

JAVA_DIR = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
JARS = ("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar")
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

# What every test server gets unless the caller overrides a key: loopback only, no connection
# cap, every four-letter word, no AdminServer (its default port 8080 is not ours to take).
TEST_CFG = {
    "tickTime": "2000",
    "initLimit": "10",
    "syncLimit": "5",
    "clientPortAddress": "127.0.0.1",
    "maxClientCnxns": "0",
    "4lw.commands.whitelist": "*",
    "admin.enableServer": "false",
}

# znode.container.checkIntervalMs that keeps the container/TTL reaper from running during a
# test (its deletions are asynchronous transactions no comparison controls): one day.
NO_REAPING_MS = 86_400_000


class ServerError(RuntimeError):
    """A server did not start, did not serve in time, or ignored SIGTERM."""


def jar_paths(extra_jars=()):
    return [os.path.join(JAVA_DIR, j) for j in (*JARS, *extra_jars)]


def classpath(extra_jars=()):
    return ":".join(jar_paths(extra_jars))


def missing(extra_jars=()):
    """None if a JVM and the jars are here, else why not (and what to install)."""
    if shutil.which("java") is None:
        return "no `java` on PATH (apt-get install default-jre-headless)"
    for p in jar_paths(extra_jars):
        if not os.path.exists(p):
            return "missing %s (apt-get install zookeeper; see compat-tests/install-deps.sh)" % p
    return None


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


def four_letter(port, word, timeout=2.0, host="127.0.0.1"):
    """Send a four-letter word to host:port; return the reply ('' on any failure)."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
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
    return int(m.group(1), 0) if m else None


def serves_4lw(port):
    """Ready check: `srvr` shows a serving server ("Mode:"), or the server answers four-letter
    words but its whitelist refuses `srvr` (it is up; java-zk.sh accepted that for `ruok`)."""
    reply = four_letter(port, "srvr", timeout=1.0)
    return "Mode:" in reply or "is not executed" in reply


def write_cfg(path, data_dir, port, overrides=None):
    """Writes zoo.cfg: TEST_CFG, dataDir, clientPort, then `overrides` in order (a value of None
    removes the key). Returns the path."""
    cfg = dict(TEST_CFG)
    cfg["dataDir"] = data_dir
    cfg["clientPort"] = str(port)
    for k, v in (overrides or {}).items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = str(v)
    with open(path, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in cfg.items()))
    return path


def cfg_port(path):
    """clientPort of a zoo.cfg."""
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k.strip() == "clientPort":
                return int(v.strip())
    raise ServerError("%s has no clientPort" % path)


class ServerProcess:
    """One server process, Java or not, started here and signalled only by its own pid.

    start() may be called again after stop()/kill(); `port` and `log_path` may be changed
    between starts. log_mode "ab" appends each start's output to the same log."""

    def __init__(self, cmd, port, log_path, env=None, cwd=None, log_mode="wb", name="server",
                 ready=None, stop_timeout=10.0):
        self.cmd = list(cmd)
        self.port = port
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.log_mode = log_mode
        self.name = name
        self.ready = ready or serves_4lw
        self.stop_timeout = stop_timeout
        self.proc = None
        self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def spawn(self):
        if self.running:
            raise ServerError("%s already running (pid %d)" % (self.name, self.proc.pid))
        self._close_log()
        self._log = open(self.log_path, self.log_mode)
        env = None
        if self.env:
            env = dict(os.environ)
            env.update(self.env)
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.cwd)
        return self

    def start(self, timeout=60.0):
        """Spawn, then wait (bounded) until it serves; on failure it is killed and ServerError
        carries the log tail."""
        self.spawn()
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        for _ in range(100_000):  # bounded by the deadline in practice
            if self.proc.poll() is not None:
                raise ServerError("%s exited with status %s during start-up; log tail:\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
            if self.ready(self.port):
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)  # polling a starting process: there is no event to await
        self.kill()
        raise ServerError("%s did not serve on port %d within %.0f s; log tail:\n%s"
                          % (self.name, self.port, timeout, self.log_tail()))

    def _reap(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, timeout=None, strict=False):
        """SIGTERM, wait up to `timeout` (default: stop_timeout), then SIGKILL. Returns the exit
        status (None if never started). strict: raise ServerError when SIGKILL was needed."""
        if self.proc is None:
            return None
        if timeout is None:
            timeout = self.stop_timeout
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if not self._reap(timeout):
                self.proc.kill()
                self._reap(10)
                self._close_log()
                if strict:
                    raise ServerError("%s ignored SIGTERM for %.0f s; killed" % (self.name, timeout))
        self._close_log()
        return self.proc.returncode

    def kill(self):
        """Crash: SIGKILL (kill -9), wait for exit. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self._reap(10)
        self._close_log()
        return self.proc.returncode

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, n=30):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:]) if lines else "(no log)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class JavaZooKeeper(ServerProcess):
    """Java ZooKeeper (QuorumPeerMain) on an existing zoo.cfg that serves `port`.

    props: JVM -D flags besides -Dzookeeper.admin.enableServer=false (set unless admin_server:
    then zoo.cfg decides, as for a server started by hand);
    log_level: org.slf4j.simpleLogger.defaultLogLevel, None leaves slf4j-simple's default (info);
    jvm_opts: e.g. ["-XX:+UseSerialGC"]; extra_jars: more jars of JAVA_DIR on the class path."""

    def __init__(self, cfg_path, port, log_path, props=None, heap="256m", log_level="warn",
                 jvm_opts=(), extra_jars=(), admin_server=False, **kw):
        why = missing(extra_jars)
        if why:
            raise ServerError("cannot start Java ZooKeeper: " + why)
        flags = {} if admin_server else {"zookeeper.admin.enableServer": "false"}
        if log_level is not None:
            flags["org.slf4j.simpleLogger.defaultLogLevel"] = log_level
        flags.update(props or {})
        cmd = ["java", "-Xmx" + heap, *jvm_opts]
        cmd += ["-D%s=%s" % kv for kv in flags.items()]
        cmd += ["-cp", classpath(extra_jars), MAIN_CLASS, cfg_path]
        kw.setdefault("name", "Java ZooKeeper")
        super().__init__(cmd, port, log_path, **kw)
        self.cfg_path = cfg_path


def start_in_dir(d, cfg=None, keep_cfg=False, timeout=60.0, **java):
    """A Java ZooKeeper in directory d: d/zoo.cfg (write_cfg with dataDir d/data and a free
    port, then `cfg`; or, keep_cfg, the one already there), log d/zk.log, cwd d. Started and
    serving; `java` goes to JavaZooKeeper."""
    d = os.path.abspath(d)
    cfg_path = os.path.join(d, "zoo.cfg")
    if keep_cfg:
        port = cfg_port(cfg_path)
    else:
        data = os.path.join(d, "data")
        os.makedirs(data, exist_ok=True)
        port = free_port()
        write_cfg(cfg_path, data, port, cfg)
    zk = JavaZooKeeper(cfg_path, port, os.path.join(d, "zk.log"), cwd=d, **java)
    return zk.start(timeout)


def start_either(kind, d, ferrokeeper=None, cfg=None, extra_lines="", myid=None, props=None,
                 ready=None, admin_server=False, log_level="warn", timeout=60.0):
    """The same server set-up for Java ZooKeeper (kind "java") or the FerroKeeper binary
    `ferrokeeper` (any other kind), for suites that compare the two fact by fact: d/data (with
    d/data/myid if myid is given), a free port, d/zoo.cfg from write_cfg(cfg) plus extra_lines
    verbatim (e.g. server.N lines), log d/server.log, cwd d. JVM properties `props` reach Java
    as -D flags and FerroKeeper through SERVER_JVMFLAGS, as zkServer.sh hands them over.
    admin_server: Java's AdminServer is left to zoo.cfg, with the servlet-api.jar Debian's class
    path lacks for Jetty (compat-tests/admin). Started and serving, or ServerError."""
    d = os.path.abspath(d)
    data = os.path.join(d, "data")
    os.makedirs(data, exist_ok=True)
    if myid is not None:
        with open(os.path.join(data, "myid"), "w") as f:
            f.write("%d\n" % myid)
    port = free_port()
    cfg_path = write_cfg(os.path.join(d, "zoo.cfg"), data, port, cfg)
    if extra_lines:
        with open(cfg_path, "a") as f:
            f.write(extra_lines)
    log = os.path.join(d, "server.log")
    if kind == "java":
        server = JavaZooKeeper(cfg_path, port, log, props=props, cwd=d, ready=ready,
                               admin_server=admin_server, log_level=log_level,
                               extra_jars=("servlet-api.jar",) if admin_server else ())
    else:
        flags = " ".join("-D%s=%s" % kv for kv in (props or {}).items())
        server = ServerProcess([ferrokeeper, cfg_path], port, log, cwd=d, name="FerroKeeper",
                               env={"SERVER_JVMFLAGS": flags} if flags else None, ready=ready)
    return server.start(timeout)


# ---- ensembles ------------------------------------------------------------------------------

def quorum_ports(sids):
    """{sid: (client_port, quorum_port, election_port)}: free loopback ports, no two equal."""
    taken = []
    out = {}
    for sid in sids:
        trio = []
        for _ in range(3):
            p = free_port(avoid=taken)
            taken.append(p)
            trio.append(p)
        out[sid] = tuple(trio)
    return out


def server_lines(ports):
    """zoo.cfg `server.N` entries for `ports` (quorum_ports), all on 127.0.0.1, no client
    section (each member's client port comes from its own clientPort)."""
    return {"server.%d" % sid: "127.0.0.1:%d:%d" % (q, e) for sid, (_, q, e) in sorted(ports.items())}


def write_quorum_member(d, sid, ports, cfg=None):
    """d/zoo.cfg (TEST_CFG, dataDir d/data, clientPort of `sid`, the server lines, then `cfg`)
    and d/data/myid. Returns the zoo.cfg path."""
    d = os.path.abspath(d)
    data = os.path.join(d, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "myid"), "w") as f:
        f.write("%d\n" % sid)
    overrides = dict(server_lines(ports))
    overrides.update(cfg or {})
    return write_cfg(os.path.join(d, "zoo.cfg"), data, ports[sid][0], overrides)


def quorum_member(d, sid, ports, cfg=None, **java):
    """A JavaZooKeeper for member `sid` in directory d (zoo.cfg, data/myid, zk.log), not started."""
    d = os.path.abspath(d)
    cfg_path = write_quorum_member(d, sid, ports, cfg)
    java.setdefault("name", "Java ZooKeeper server.%d" % sid)
    return JavaZooKeeper(cfg_path, ports[sid][0], os.path.join(d, "zk.log"), cwd=d, **java)


# ---- CLI -------------------------------------------------------------------------------------

def _pairs(items, what):
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise SystemExit("javazk: %s wants KEY=VALUE, not %r" % (what, item))
        out[k] = v
    return out


def _our_pid(d):
    """The pid in d/zk.pid if that process is still a java on d/zoo.cfg, else None."""
    try:
        with open(os.path.join(d, "zk.pid")) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if os.path.join(d, "zoo.cfg").encode() in argv else None


def _gone(pid, timeout):
    deadline = time.monotonic() + timeout
    for _ in range(100_000):  # bounded by the deadline
        if not os.path.exists("/proc/%d" % pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)  # not our child (the start command exited): poll /proc with a deadline
    return False


def main(argv=None):
    ap = argparse.ArgumentParser(prog="javazk.py", description="Start/stop a test Java ZooKeeper 3.8.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("dir")
    st.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    st.add_argument("--unset", action="append", default=[], metavar="KEY")
    st.add_argument("-D", action="append", default=[], dest="props", metavar="KEY=VALUE")
    st.add_argument("--jar", action="append", default=[], metavar="JAR[:JAR...]",
                    help="more jars on the class path (a name in %s, or a path)" % JAVA_DIR)
    st.add_argument("--admin-server", action="store_true",
                    help="leave the AdminServer to ZooKeeper's default (on, unless zoo.cfg says)")
    st.add_argument("--heap", default="256m")
    st.add_argument("--log-level", default="warn", help="slf4j level, or 'none' for its default")
    st.add_argument("--keep-cfg", action="store_true")
    st.add_argument("--timeout", type=float, default=60.0)
    for name in ("stop", "kill"):
        p = sub.add_parser(name)
        p.add_argument("dir")
        p.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args(argv)
    d = os.path.abspath(a.dir)

    if a.cmd == "start":
        os.makedirs(d, exist_ok=True)
        cfg = _pairs(a.set, "--set")
        cfg.update({k: None for k in a.unset})
        if a.admin_server:
            cfg.setdefault("admin.enableServer", None)
        try:
            jars = [j for item in a.jar for j in item.split(":") if j]
            zk = start_in_dir(d, cfg, keep_cfg=a.keep_cfg, timeout=a.timeout, heap=a.heap,
                              extra_jars=jars, admin_server=a.admin_server,
                              props=_pairs(a.props, "-D"),
                              log_level=None if a.log_level == "none" else a.log_level)
        except ServerError as e:
            print("javazk: %s" % e, file=sys.stderr)
            return 1
        with open(os.path.join(d, "zk.pid"), "w") as f:
            f.write("%d\n" % zk.pid)
        print(zk.pid, zk.port, flush=True)
        return 0

    pid = _our_pid(d)
    if pid is not None:
        try:
            if a.cmd == "stop":
                os.kill(pid, signal.SIGTERM)
                if not _gone(pid, a.timeout):
                    os.kill(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it exited meanwhile
        _gone(pid, 10)
    try:
        os.remove(os.path.join(d, "zk.pid"))
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
