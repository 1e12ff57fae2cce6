#!/usr/bin/env python3
"""Start and control an N-member ZooKeeper ensemble on loopback, members of any kind.

Kinds: "java" (Debian's Java ZooKeeper 3.8.0, QuorumPeerMain, started through
compat-tests/lib/javazk.py like every other suite) and "fk" (FerroKeeper, `<fk-bin> zoo.cfg`).
Each member N gets RUN_DIR/mN/ with zoo.cfg, data/myid, member.log and member.pid (its pid, the
moment it is spawned, so `cluster.py kill-run RUN_DIR` can clean up after a driver that died).
zoo.cfg: javazk.TEST_CFG (loopback client port, 4lw.commands.whitelist=*, AdminServer off),
tickTime (200 or 2000), initLimit=10, syncLimit=5, server.N=127.0.0.1:QPORT:EPORT for every
member, free ports picked now.

Library:
    c = Cluster(["java", "fk", "fk"], run_dir, tick=200, fk_bin=...)
    c.start(); c.wait_formed(60)          -> {sid: "leader"|"follower"}
    c.leader(), c.modes(), c.address(sid), c.connect_string()
    c.kill(sid) (kill -9), c.restart(sid), c.pause(sid) (SIGSTOP), c.resume(sid) (SIGCONT),
    c.stop(sid) (SIGTERM), c.replace(sid, kind) (back as another kind, same dataDir)
    c.wait_leader(timeout, exclude=()), c.wait_mode(sid, "follower", timeout),
    c.wait_not_leader(sid, timeout)
    c.stop_all(); c.log_tails(n)
    Cluster(..., network=netns.Network(sids, run_dir).setup()): each member in its own network
    namespace on its own address (see netns.py); c.network.partition(side) / heal()
CLI:
    cluster.py --members java,java,java [--tick 200] [--run-dir DIR] [--fk-bin BIN] [--hold S]
               [--netns]
        starts the ensemble, waits until it has formed, prints one line per member
        (sid kind address mode pid), keeps it up S seconds (default 0), stops it.
    cluster.py kill-run RUN_DIR     SIGKILL every member a driver started under RUN_DIR, and
                                    delete the run's network namespaces (netns mode)
"""

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import javazk  # noqa: E402

sys.path.insert(0, HERE)
import netns  # noqa: E402

KINDS = ("java", "fk")
DEFAULT_FK_BIN = os.path.join(REPO, "target", "release", "ferrokeeper")
_MODE_RE = re.compile(r"^Mode:\s*(\S+)", re.M)


class ClusterError(RuntimeError):
    """The ensemble did not reach the awaited state in time (message has every log tail)."""


def srvr_mode(port, timeout=1.0, host="127.0.0.1"):
    """`Mode:` from the member's srvr ("leader", "follower", ...), or None if no answer."""
    m = _MODE_RE.search(javazk.four_letter(port, "srvr", timeout, host=host))
    return m.group(1) if m else None


class Member:
    def __init__(self, sid, kind, d, ports, proc, host="127.0.0.1"):
        self.sid = sid
        self.host = host  # the address every port of it is on
        self.kind = kind
        self.dir = d
        self.ports = ports  # (client, quorum, election)
        self.proc = proc
        self.paused = False

    @property
    def client_port(self):
        return self.ports[0]

    @property
    def address(self):
        return "%s:%d" % (self.host, self.client_port)

    def srvr_mode(self, timeout=1.0):
        return srvr_mode(self.client_port, timeout, host=self.host)

    @property
    def running(self):
        return self.proc.running

    def spawn(self):
        self.proc.spawn()
        self.paused = False
        with open(os.path.join(self.dir, "member.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)


class Cluster:
    def __init__(self, kinds, run_dir, tick=200, fk_bin=DEFAULT_FK_BIN, java_heap="128m",
                 java_log_level="info", extra_cfg=None, java_props=None, fk_env=None,
                 network=None, observers=()):
        for k in kinds:
            if k not in KINDS:
                raise ValueError("member kind %r is not one of %s" % (k, ", ".join(KINDS)))
        if len(kinds) < 1:
            raise ValueError("no members")
        self.kinds = list(kinds)
        # Members listed server.N=…:observer (their own zoo.cfg also says peerType=observer):
        # they sync and serve but vote in no quorum; srvr says Mode: observer.
        self.observers = set(observers)
        self.run_dir = os.path.abspath(run_dir)
        self.tick = int(tick)
        self.init_limit = 10
        self.sync_limit = 5
        sids = list(range(1, len(kinds) + 1))
        self.ports = javazk.quorum_ports(sids)
        cfg = {"tickTime": str(self.tick), "initLimit": str(self.init_limit),
               "syncLimit": str(self.sync_limit)}
        cfg.update(extra_cfg or {})
        # netns mode: each member on its own address, in its own namespace (netns.py).
        self.network = network
        hosts = {sid: network.host(sid) if network else "127.0.0.1" for sid in sids}
        for sid, (_, q, e) in self.ports.items():
            if network or sid in self.observers:
                role = ":observer" if sid in self.observers else ""
                cfg["server.%d" % sid] = "%s:%d:%d%s" % (hosts[sid], q, e, role)
        self.members = {}
        self.fk_bin = fk_bin
        self.java_heap = java_heap
        self.java_log_level = java_log_level
        # Settings ZooKeeper takes only as JVM -D flags (e.g. znode.container.checkIntervalMs):
        # Java members get them as java_props, FerroKeeper members read SERVER_JVMFLAGS from
        # fk_env, as the bin/ scripts pass them.
        self.java_props = dict(java_props or {})
        # ENSEMBLE_JAVA_PROPS="k=v k=v": more -D flags for every Java member, by hand, e.g.
        # slf4j-simple's org.slf4j.simpleLogger.showDateTime=true and per-class log levels
        # (org.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.CommitProcessor=debug).
        for kv in os.environ.get("ENSEMBLE_JAVA_PROPS", "").split():
            k, _, v = kv.partition("=")
            self.java_props[k] = v
        self.fk_env = dict(fk_env or {})
        for sid, kind in zip(sids, kinds):
            d = os.path.join(self.run_dir, "m%d" % sid)
            own = dict(cfg, clientPortAddress=hosts[sid]) if network else dict(cfg)
            if sid in self.observers:
                own["peerType"] = "observer"
            javazk.write_quorum_member(d, sid, self.ports, own)
            self.members[sid] = Member(sid, kind, d, self.ports[sid], self._process(sid, kind, d),
                                       host=hosts[sid])

    def _process(self, sid, kind, d):
        """The process of member sid as `kind`, on d/zoo.cfg, logging to d/member.log (each
        start appends, so a member replaced by another kind keeps one log)."""
        cfg_path = os.path.join(d, "zoo.cfg")
        log = os.path.join(d, "member.log")
        name = "server.%d (%s)" % (sid, kind)
        proc = self._bare_process(sid, kind, d, cfg_path, log, name)
        if self.network:
            proc.cmd = self.network.wrap(sid, proc.cmd)
        return proc

    def _bare_process(self, sid, kind, d, cfg_path, log, name):
        if kind == "java":
            # Serial GC and the C1 compiler only: a JVM that starts quickly and leaves CPU
            # to the others on a small shared machine. Logs at info: the election and sync
            # lines are what one needs when a phase fails.
            return javazk.JavaZooKeeper(cfg_path, self.ports[sid][0], log, cwd=d,
                                        heap=self.java_heap, log_level=self.java_log_level,
                                        jvm_opts=["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"],
                                        props=self.java_props, log_mode="ab", name=name, stop_timeout=5.0)
        if not os.access(self.fk_bin, os.X_OK):
            raise ClusterError("no FerroKeeper binary at %s (cargo build --release)"
                               % self.fk_bin)
        return javazk.ServerProcess([self.fk_bin, cfg_path], self.ports[sid][0], log, cwd=d,
                                    env=self.fk_env or None, log_mode="ab", name=name, stop_timeout=5.0)

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self):
        """Spawns every member (none serves until a quorum is up, so no member is awaited
        alone); then call wait_formed."""
        for m in self.members.values():
            m.spawn()
        return self

    def kill(self, sid):
        """kill -9; returns the time.monotonic() of the signal."""
        m = self.members[sid]
        t = time.monotonic()
        m.proc.kill()
        m.paused = False
        return t

    def restart(self, sid):
        """Starts a stopped or killed member again on the same dataDir and ports."""
        self.members[sid].spawn()

    def stop(self, sid, timeout=10.0):
        """Graceful stop (SIGTERM, SIGKILL after `timeout`); returns the exit status."""
        return self.members[sid].proc.stop(timeout=timeout)

    def replace(self, sid, kind):
        """Member sid, stopped, comes back as `kind` on the same zoo.cfg, dataDir and ports
        (a step of a rolling replacement, e.g. Java -> FerroKeeper). Spawned, not awaited."""
        m = self.members[sid]
        if m.running:
            raise ClusterError("server.%d is still running; stop it first" % sid)
        if kind not in KINDS:
            raise ValueError("member kind %r is not one of %s" % (kind, ", ".join(KINDS)))
        m.kind = kind
        m.proc = self._process(sid, kind, m.dir)
        m.spawn()

    def pause(self, sid, timeout=5.0):
        """SIGSTOP, and wait until every thread of the member is stopped (the signal is
        asynchronous: a thread running on another CPU goes on until the kernel stops it, and a
        test that acts right after kill() can see the member still answering); returns the
        time of the signal."""
        m = self.members[sid]
        t = time.monotonic()
        os.kill(m.proc.pid, signal.SIGSTOP)
        m.paused = True
        deadline = t + timeout
        while not _all_threads_stopped(m.proc.pid):
            if time.monotonic() > deadline:
                raise ClusterError("server.%d did not stop within %.0f s of SIGSTOP" % (sid, timeout))
            time.sleep(0.001)  # the kernel gives no event for a completed group stop
        return t

    def resume(self, sid):
        m = self.members[sid]
        os.kill(m.proc.pid, signal.SIGCONT)
        m.paused = False
        return time.monotonic()

    def stop_all(self, timeout=5.0):
        for m in self.members.values():
            if m.paused and m.running:
                os.kill(m.proc.pid, signal.SIGCONT)
                m.paused = False
        for m in self.members.values():
            m.proc.stop(timeout=timeout)

    # ---- state -------------------------------------------------------------------------

    def address(self, sid):
        return self.members[sid].address

    def connect_string(self):
        return ",".join(m.address for m in self.members.values())

    def modes(self):
        """{sid: srvr Mode or None} of every member that runs and is not paused."""
        return {sid: m.srvr_mode() for sid, m in self.members.items()
                if m.running and not m.paused}

    def leader(self):
        """The sid of the one member saying Mode: leader, or None (none, or more than one)."""
        leaders = [sid for sid, mode in self.modes().items() if mode == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def _poll(self, what, probe, timeout):
        """Polls probe() (None = not yet) until it answers or the deadline passes; polling is
        all srvr allows (there is no event to await)."""
        deadline = time.monotonic() + timeout
        for _ in range(1_000_000):  # bounded by the deadline
            got = probe()
            if got is not None:
                return got
            for m in self.members.values():
                if m.proc.proc is not None and not m.running and m.proc.proc.returncode not in (
                        None, -signal.SIGKILL):
                    raise ClusterError("%s exited with status %s while waiting for %s\n%s"
                                       % (m.proc.name, m.proc.proc.returncode, what,
                                          self.log_tails()))
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise ClusterError("timed out after %.1f s waiting for %s; modes %s\n%s"
                           % (timeout, what, self.modes(), self.log_tails()))

    def wait_formed(self, timeout=60.0):
        """Until every running, unpaused voter answers srvr with Mode leader or follower,
        exactly one says leader, and every observer says observer. Returns {sid: mode}."""
        def probe():
            modes = self.modes()
            alone = [s for s, v in modes.items() if v == "standalone"]
            if alone:
                raise ClusterError("server.%s runs standalone, not as an ensemble member\n%s"
                                   % (alone, self.log_tails()))
            roles_ok = all(v == "observer" if s in self.observers else v in ("leader", "follower")
                           for s, v in modes.items())
            if modes and roles_ok and list(modes.values()).count("leader") == 1:
                return modes
            return None
        return self._poll("the ensemble to form", probe, timeout)

    def wait_leader(self, timeout=30.0, exclude=()):
        """Until one member not in `exclude` says leader and a quorum of the members says
        leader or follower; returns (sid, time it was seen)."""
        quorum = (len(self.members) - len(self.observers)) // 2 + 1

        def probe():
            modes = self.modes()
            leaders = [s for s, v in modes.items() if v == "leader" and s not in exclude]
            serving = [s for s, v in modes.items() if v in ("leader", "follower")]
            if len(leaders) == 1 and len(serving) >= quorum:
                return leaders[0], time.monotonic()
            return None
        return self._poll("a leader other than %s" % (list(exclude) or "none"), probe, timeout)

    def wait_mode(self, sid, mode, timeout=30.0):
        """Until member sid says Mode: `mode`; returns the time it was seen."""
        m = self.members[sid]
        return self._poll("server.%d to be %s" % (sid, mode),
                          lambda: time.monotonic() if m.srvr_mode() == mode else None,
                          timeout)

    def wait_not_mode(self, sid, mode, timeout=30.0):
        """Until member sid no longer says Mode: `mode` (a member that is LOOKING answers srvr
        with "not currently serving requests"); returns the time it was seen."""
        m = self.members[sid]
        return self._poll("server.%d to stop being %s" % (sid, mode),
                          lambda: time.monotonic() if m.srvr_mode() != mode else None,
                          timeout)

    def wait_not_leader(self, sid, timeout=30.0):
        """Until member sid no longer says Mode: leader (it stepped down: LOOKING members
        answer srvr with "not currently serving requests"); returns the time it was seen."""
        return self.wait_not_mode(sid, "leader", timeout)

    def log_tails(self, n=25):
        out = []
        for sid, m in self.members.items():
            out.append("---- server.%d (%s) %s, last %d lines" % (sid, m.kind, m.proc.log_path, n))
            out.append(m.proc.log_tail(n))
        return "\n".join(out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


def kill_run(run_dir):
    """SIGKILL every member whose pid is in RUN_DIR/m*/member.pid and whose command line
    still names that member's zoo.cfg (never anyone else's process); then, in netns mode, every
    process left in the run's namespaces, and the namespaces and veths go (netns.teardown_run).
    Returns the teardown's problems (messages)."""
    run_dir = os.path.abspath(run_dir)
    for name in sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else ():
        d = os.path.join(run_dir, name)
        try:
            with open(os.path.join(d, "member.pid")) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if os.path.join(d, "zoo.cfg").encode() in argv:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return netns.teardown_run(run_dir)


def _all_threads_stopped(pid):
    """Whether every thread of `pid` is in state T (stopped); a gone process counts as stopped."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return True
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) STATE ...: comm may hold spaces and parentheses, so split at the last ')'.
        if stat.rsplit(")", 1)[-1].split()[0] not in ("T", "t"):
            return False
    return True


def parse_kinds(text):
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError("--members wants a list of %s, got %r"
                                         % ("/".join(KINDS), text))
    return kinds


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["kill-run"]:
        if len(argv) != 2:
            print("usage: cluster.py kill-run RUN_DIR", file=sys.stderr)
            return 2
        problems = kill_run(argv[1])
        for p in problems:
            print("cluster.py kill-run: %s" % p, file=sys.stderr)
        return 1 if problems else 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=parse_kinds, required=True, help="e.g. java,fk,fk")
    ap.add_argument("--tick", type=int, default=200)
    ap.add_argument("--run-dir")
    ap.add_argument("--fk-bin", default=DEFAULT_FK_BIN)
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep it up")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--netns", action="store_true",
                    help="each member in its own network namespace (needs root, iptables)")
    a = ap.parse_args(argv)
    run_dir = os.path.abspath(a.run_dir or tempfile.mkdtemp(prefix="ensemble."))
    os.makedirs(run_dir, exist_ok=True)
    network = None
    try:
        if a.netns:
            why = netns.missing_tools()
            if why:
                print("cluster: --netns: %s" % why, file=sys.stderr)
                return 1
            network = netns.Network(range(1, len(a.members) + 1), run_dir).setup()
        c = Cluster(a.members, run_dir, tick=a.tick, fk_bin=a.fk_bin, network=network)
    except (netns.NetnsError, ClusterError) as e:
        print("cluster: %s" % e, file=sys.stderr)
        kill_run(run_dir)
        return 1
    try:
        c.start()
        modes = c.wait_formed(a.timeout)
        for sid, m in c.members.items():
            print("server.%d %s %s %s pid %d" % (sid, m.kind, m.address, modes.get(sid),
                                                  m.proc.pid))
        print("connect string: %s" % c.connect_string())
        print("run dir: %s" % run_dir, flush=True)
        if a.hold > 0:
            time.sleep(a.hold)  # the operator asked for the ensemble to stay up this long
        return 0
    except ClusterError as e:
        print("cluster: %s" % e, file=sys.stderr)
        return 1
    finally:
        c.stop_all()
        if network:
            kill_run(run_dir)


if __name__ == "__main__":
    sys.exit(main())


def run_scripted(kinds_list, prefix, tick, fk_bin, scenario, expected):
    """For each ensemble kind list: start a fresh cluster, run scenario(c) -> (lines, notes),
    print both, and pass it when the lines equal `expected` (Java 3.8.0's observed behaviour).
    A failed run keeps its run dir. Prints "N passed, M failed" last; returns the exit code."""
    passed = failed = 0
    for kinds in kinds_list:
        run = tempfile.mkdtemp(prefix=prefix)
        c = Cluster(parse_kinds(kinds), run, tick=tick, fk_bin=fk_bin)
        ok = False
        try:
            c.start()
            got, notes = scenario(c)
            for line in list(got) + list(notes):
                print("  [%s] %s" % (kinds, line))
            ok = got == expected
            if not ok:
                print("  [%s] differs from Java 3.8.0's observed behaviour:\n    %s"
                      % (kinds, "\n    ".join(expected)))
        except (ClusterError, RuntimeError, OSError) as e:
            print("  [%s] error: %s" % (kinds, e))
            print(c.log_tails())
        finally:
            c.stop_all()
        print("%s %s" % ("ok  " if ok else "FAIL", kinds), flush=True)
        if ok:
            passed += 1
            shutil.rmtree(run, ignore_errors=True)
        else:
            failed += 1
            print("  run dir kept: %s" % run)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1
