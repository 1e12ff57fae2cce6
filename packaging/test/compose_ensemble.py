#!/usr/bin/env python3
"""docker/docker-compose.yml's three members as a real ensemble, through Docker.

    compose_ensemble.py --repo DIR --project NAME

Run by packaging/test/compose.sh, inside the network namespace of the Docker
engine it started (DOCKER_HOST names that engine), so the published ports
2181-2183 are that namespace's and cannot clash with anything on the host.
Steps, each a check that could fail:
  1. `docker-compose up -d --build` with docker-compose.test.yml layered on
     (the image's `prebuilt` stage: the release binary of this tree);
  2. three containers running, one leader and two followers by `srvr` on the
     published ports, `zkServer.sh status` in each container agreeing, every
     container's HEALTHCHECK healthy;
  3. a write through a follower read through the other two (Kazoo, sync first);
  4. `docker kill` of the leader's container: the two others elect one of
     them (one leader, one follower, a later epoch) and take writes through
     each; 5. the killed container started again: it rejoins as a follower
     with the same tree (every znode's data, version, czxid and mzxid) and
     takes a write;
  6. zoo1 back on another IP: stopped, a throwaway container takes its address,
     zoo1 started again gets a new one; it rejoins as a follower, which takes
     the two others dialing it at the new address (both have larger sids, so
     only their dials make election connections to it): each logs that
     server.1's election address changed to the new IP, and a write through
     zoo1 is read through them;
  7. `docker-compose down -v` leaves no container, network or volume.
The last line is "N passed, M failed"; exit 1 on any failure. A step that
cannot run because an earlier one failed counts as failed.
"""
import argparse
import logging
import os
import socket
import subprocess
import sys
import time

from kazoo.client import KazooClient

SERVICES = ("zoo1", "zoo2", "zoo3")
PORTS = {"zoo1": 2181, "zoo2": 2182, "zoo3": 2183}  # published by docker-compose.yml
ROOT = "/compose"
SQUATTER = "fk-compose-squatter"  # holds zoo1's old address in step 6


class StepFailed(Exception):
    pass


class Compose:
    """docker-compose and docker, run against one project of the test's engine."""

    def __init__(self, repo, project):
        self.dir = os.path.join(repo, "docker")
        self.project = project

    def run(self, args, timeout=120):
        try:
            p = subprocess.run(args, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StepFailed("%s: no answer in %d s" % (" ".join(args), timeout))
        if p.returncode != 0:
            raise StepFailed("%s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout[-3000:],
                                                    p.stderr[-3000:]))
        return p.stdout

    def compose(self, *args, timeout=120):
        return self.run(["docker-compose", "-f", "docker-compose.yml", "-f",
                         "docker-compose.test.yml", "-p", self.project, *args], timeout=timeout)

    def container(self, service):
        ids = self.compose("ps", "-q", service).split()
        if len(ids) != 1:
            raise StepFailed("%s: %d containers (%s)" % (service, len(ids), ids))
        return ids[0]

    def state(self, cid, field):
        return self.run(["docker", "inspect", "-f", "{{.State.%s}}" % field, cid]).strip()

    def network(self, cid):
        """(network name, IP) of a container on its one network."""
        out = self.run(["docker", "inspect", "-f",
                        "{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}}\n{{end}}",
                        cid]).split("\n")
        nets = [line.split() for line in out if line.strip()]
        if len(nets) != 1 or len(nets[0]) != 2:
            raise StepFailed("%s: networks %r" % (cid[:12], nets))
        return nets[0][0], nets[0][1]


def srvr_mode(port):
    """The Mode: line of `srvr` on the published port, or None (no answer, not serving)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"srvr")
            s.settimeout(3)
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
    except OSError:
        return None
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):]
    return None


def wait_for(what, pred, timeout):
    """Polls pred() (every 0.25 s, bounded) until it returns a true value, which it returns."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.25)
    raise StepFailed("%s: not within %d s" % (what, timeout))


def modes(services):
    return {s: srvr_mode(PORTS[s]) for s in services}


def one_leader(services):
    """{service: mode} once exactly one of `services` leads and the rest follow."""
    m = modes(services)
    ms = sorted(m.values(), key=str)
    return m if ms == sorted(["leader"] + ["follower"] * (len(services) - 1)) else None


def client(service):
    """A Kazoo client connected to this member only (its published port)."""
    zk = KazooClient(hosts="127.0.0.1:%d" % PORTS[service], timeout=10.0,
                     connection_retry={"max_tries": -1, "delay": 0.2, "max_delay": 1})
    zk.start(timeout=30)
    return zk


def tree(zk, path=ROOT):
    """Every znode under `path` after a sync: path -> (data, version, czxid, mzxid)."""
    zk.sync(path)
    out = {}
    todo = [path]
    while todo:
        p = todo.pop()
        data, st = zk.get(p)
        out[p] = (data, st.version, st.czxid, st.mzxid)
        todo.extend("%s/%s" % (p, c) for c in zk.get_children(p))
    return out


def write_and_read(writer, readers, name):
    """Creates ROOT/name through `writer`; every reader must see it after a sync.
    Returns the new znode's zxid."""
    data = ("written through %s" % writer).encode()
    zw = client(writer)
    try:
        zw.create("%s/%s" % (ROOT, name), data, makepath=True)
        _, st = zw.get("%s/%s" % (ROOT, name))
    finally:
        zw.stop()
        zw.close()
    for r in readers:
        zr = client(r)
        try:
            zr.sync(ROOT)
            got, _ = zr.get("%s/%s" % (ROOT, name))
        finally:
            zr.stop()
            zr.close()
        if got != data:
            raise StepFailed("%s read %r, %s wrote %r" % (r, got, writer, data))
    return st.czxid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--project", required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # Kazoo logs every dropped connection
    c = Compose(args.repo, args.project)
    passed = failed = 0
    broken = None  # the first failed step: later ones cannot run without it
    state = {}

    def step(name, fn):
        nonlocal passed, failed, broken
        if broken is not None:
            failed += 1
            print("FAIL %s: not run (%s failed)" % (name, broken), flush=True)
            return
        t = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a failure of any kind fails the step
            failed += 1
            broken = name
            print("FAIL %s\n     %s" % (name, str(e).replace("\n", "\n     ")), flush=True)
            return
        passed += 1
        print("ok   %s [%.1f s]" % (name, time.monotonic() - t), flush=True)

    def up():
        c.compose("up", "-d", "--build", timeout=300)

    def three_running():
        state["ids"] = {s: c.container(s) for s in SERVICES}
        for s, cid in state["ids"].items():
            if c.state(cid, "Running") != "true":
                raise StepFailed("%s (%s) is not running" % (s, cid[:12]))

    def elected():
        m = wait_for("one leader and two followers", lambda: one_leader(SERVICES), 90)
        state["leader"] = next(s for s, mode in m.items() if mode == "leader")
        print("     modes: %s" % m)

    def status_agrees():
        for s, cid in state["ids"].items():
            out = c.run(["docker", "exec", cid, "zkServer.sh", "status"], timeout=30)
            want = "Mode: %s" % srvr_mode(PORTS[s])
            if want not in out.splitlines():
                raise StepFailed("%s: zkServer.sh status said %r, srvr %r" % (s, out, want))

    def healthy():
        for s, cid in state["ids"].items():
            wait_for("%s healthy" % s, lambda: c.state(cid, "Health.Status") == "healthy", 60)

    def replicated():
        followers = [s for s in SERVICES if s != state["leader"]]
        others = [s for s in SERVICES if s != followers[0]]
        state["zxid_before"] = write_and_read(followers[0], others, "before-kill")

    def kill_leader():
        cid = state["ids"][state["leader"]]
        c.run(["docker", "kill", cid])
        # restart: always does not bring back a container stopped by docker kill
        wait_for("the killed container down", lambda: c.state(cid, "Running") == "false", 30)
        state["survivors"] = [s for s in SERVICES if s != state["leader"]]

    def reelected():
        m = wait_for("a new leader among the two others", lambda: one_leader(state["survivors"]), 90)
        print("     modes: %s" % m)

    def survivors_write():
        a, b = state["survivors"]
        z1 = write_and_read(a, [b], "after-kill-via-" + a)
        z2 = write_and_read(b, [a], "after-kill-via-" + b)
        if not (z1 >> 32) > (state["zxid_before"] >> 32) or (z2 >> 32) != (z1 >> 32):
            raise StepFailed("zxids 0x%x, 0x%x after the kill, 0x%x before: not a later epoch"
                             % (z1, z2, state["zxid_before"]))

    def restart():
        back = state["leader"]
        c.compose("start", back)
        m = wait_for("%s following again" % back,
                     lambda: one_leader(SERVICES) if srvr_mode(PORTS[back]) == "follower" else None,
                     90)
        print("     modes: %s" % m)

    def same_tree():
        trees = {}
        for s in SERVICES:
            zk = client(s)
            try:
                trees[s] = tree(zk)
            finally:
                zk.stop()
                zk.close()
        ref = trees[state["survivors"][0]]
        if len(ref) != 4:  # /compose and the three nodes written above
            raise StepFailed("%d znodes under %s on %s: %s" % (len(ref), ROOT,
                                                                state["survivors"][0], sorted(ref)))
        for s, t in trees.items():
            if t != ref:
                raise StepFailed("%s's tree differs from %s's:\n%s\n%s"
                                 % (s, state["survivors"][0], t, ref))

    def rejoined_write():
        back = state["leader"]
        write_and_read(back, state["survivors"], "after-restart-via-" + back)

    def moved():
        # zoo1 has the smallest sid: the others' election connections to it are
        # theirs to dial (a smaller sid's dial is hung up on and dialed back).
        cid = state["ids"]["zoo1"]
        net, old_ip = c.network(cid)
        c.compose("stop", "-t", "10", "zoo1")
        # The allocator gives out the lowest free address: zoo1's old one.
        c.run(["docker", "run", "-d", "--rm", "--name", SQUATTER, "--network", net,
               "debian:bookworm-slim", "sleep", "300"])
        _, squatter_ip = c.network(SQUATTER)
        if squatter_ip != old_ip:
            raise StepFailed("the throwaway container got %s, not zoo1's old %s"
                             % (squatter_ip, old_ip))
        c.compose("start", "zoo1")
        _, new_ip = c.network(cid)
        if new_ip == old_ip:
            raise StepFailed("zoo1 is back on its old address %s" % old_ip)
        m = wait_for("zoo1 (%s, was %s) following" % (new_ip, old_ip),
                     lambda: one_leader(SERVICES) if srvr_mode(PORTS["zoo1"]) == "follower" else None,
                     60)
        print("     zoo1 %s -> %s; modes: %s" % (old_ip, new_ip, m))
        want = "server.1's election address changed: zoo1 resolves to %s:3888" % new_ip
        for s in ("zoo2", "zoo3"):
            logs = c.run(["docker", "logs", state["ids"][s]])
            if want not in logs:
                raise StepFailed("%s's log has no %r" % (s, want))
        write_and_read("zoo1", ["zoo2", "zoo3"], "after-move-via-zoo1")

    def down():
        subprocess.run(["docker", "rm", "-f", SQUATTER], capture_output=True, timeout=60)
        c.compose("down", "-v", "--timeout", "10", timeout=120)
        left = c.run(["docker", "ps", "-a", "-q", "--filter",
                      "label=com.docker.compose.project=%s" % c.project]).split()
        vols = c.run(["docker", "volume", "ls", "-q", "--filter",
                      "label=com.docker.compose.project=%s" % c.project]).split()
        nets = c.run(["docker", "network", "ls", "-q", "--filter",
                      "label=com.docker.compose.project=%s" % c.project]).split()
        if left or vols or nets:
            raise StepFailed("left behind: containers %s, volumes %s, networks %s"
                             % (left, vols, nets))

    steps = [
        ("docker-compose up -d --build (docker-compose.test.yml: the prebuilt stage)", up),
        ("three containers, one per service, running", three_running),
        ("one leader and two followers (srvr on the published ports 2181-2183)", elected),
        ("zkServer.sh status in each container says the same mode", status_agrees),
        ("every container's HEALTHCHECK (zkServer.sh status) is healthy", healthy),
        ("a write through a follower is read through the two other members", replicated),
        ("docker kill of the leader's container stops it", kill_leader),
        ("the two others elect a leader among themselves", reelected),
        ("writes through each survivor, read through the other, in a later epoch",
         survivors_write),
        ("the killed container started again rejoins as a follower", restart),
        ("all three have the same tree (data, version, czxid, mzxid of every znode)", same_tree),
        ("a write through the rejoined member is read through the others", rejoined_write),
        ("zoo1 back on another IP rejoins: the others look its name up again and dial it "
         "there", moved),
    ]
    try:
        for name, fn in steps:
            step(name, fn)
        if broken is not None:
            try:
                print(c.compose("logs", "--no-color", "--tail", "40", timeout=60))
            except StepFailed as e:
                print("(no logs: %s)" % e)
    finally:
        broken = None  # tear down whatever happened above
        step("docker-compose down -v leaves no container, network or volume", down)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
