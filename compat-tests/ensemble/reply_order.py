#!/usr/bin/env python3
"""Per-session reply order on an ensemble member, Java 3.8.0 against FerroKeeper.

ZooKeeper's CommitProcessor keeps one queue per session: a read of a session with no write in
flight is answered at once, even while another session's write waits for its quorum, and a
session's own replies never overtake each other. Raw sockets, on a 3-member ensemble
(tickTime 1000, syncLimit 5), for the leader and then for a follower, member X:

1. sessions A and B on X; A creates /ro-a-X and /ro-b-X;
2. the two other members are paused (SIGSTOP): no write can commit;
3. A sends setData /ro-a-X and, pipelined behind it, getData /ro-a-X (X's mntr shows both
   outstanding before the next step);
4. B sends getData /ro-b-X: answered within 3 s (before the change this script was written
   for, FerroKeeper answered it only behind A's write);
5. A has had no reply yet (its write cannot commit; its read waits behind it);
6. the others resume: A's write is answered, then its read, which sees version 1.

Each step's outcome is recorded as text; FerroKeeper's must equal Java's, and Java's must be
the behaviour described above (the reference is checked, not assumed). Prints
"N passed, M failed" last.

    python3 compat-tests/ensemble/reply_order.py [--kinds java,java,java fk,fk,fk] [--fk-bin BIN]
"""

import argparse
import os
import re
import select
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import cluster  # noqa: E402
import javazk  # noqa: E402
from rawzk import attach_retrying, get_data_version, jbuf, jstr, read_reply, send_request  # noqa: E402,E501

GET_DATA, SET_DATA, CREATE = 4, 5, 1
OPEN_ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + jstr("world") + jstr("anyone")


def answered_within(sock, seconds):
    """Whether anything arrived on `sock` within `seconds`."""
    ready, _, _ = select.select([sock], [], [], seconds)
    return bool(ready)


def wait_outstanding(port, n, limit=10.0):
    """Polls mntr until zk_outstanding_requests >= n (bounded by `limit` seconds)."""
    deadline = time.monotonic() + limit
    seen = []
    while time.monotonic() < deadline:
        m = re.search(r"^zk_outstanding_requests\s+(\d+)", javazk.four_letter(port, "mntr"), re.M)
        value = int(m.group(1)) if m else None
        if not seen or seen[-1] != value:
            seen.append(value)
        if value is not None and value >= n:
            return True
        time.sleep(0.02)
    print("  zk_outstanding_requests went %s in %.0f s" % (" -> ".join(map(str, seen)), limit))
    return False


def reply_text(r):
    if r is None:
        return "closed"
    xid, _zxid, err, body = r
    text = "xid %d err %d" % (xid, err)
    if err == 0 and xid in (11, 21):
        text += " version %d" % get_data_version(body)
    return text


def check_member(c, x, role):
    """Steps 1-6 on member `x`; the lines to compare."""
    port = c.members[x].client_port
    a, _, _ = attach_retrying(port)
    b, _, _ = attach_retrying(port)
    pa, pb = "/ro-a-%d" % x, "/ro-b-%d" % x
    out = []
    for xid, p in ((1, pa), (2, pb)):
        send_request(a, xid, CREATE, jstr(p) + jbuf(b"0") + OPEN_ACL + struct.pack(">i", 0))
        out.append("%s: create %s: %s" % (role, p[:5], reply_text(read_reply(a))))
    others = [sid for sid in c.members if sid != x]
    for sid in others:
        c.pause(sid)
    try:
        send_request(a, 10, SET_DATA, jstr(pa) + jbuf(b"1") + struct.pack(">i", -1))
        send_request(a, 11, GET_DATA, jstr(pa) + b"\0")
        # B's read is sent once X holds both of A's requests (they are on different
        # connections, so nothing else orders them).
        if not wait_outstanding(port, 2):
            raise RuntimeError("%s never showed A's two requests outstanding" % role)
        t0 = time.monotonic()
        send_request(b, 20, GET_DATA, jstr(pb) + b"\0")
        if answered_within(b, 3.0):
            r = read_reply(b)
            out.append("%s: B's read while A's write waits: %s" % (role, reply_text(r)))
            waited = time.monotonic() - t0
        else:
            out.append("%s: B's read while A's write waits: no reply in 3 s" % role)
            waited = None
        out.append("%s: A before the quorum is back: %s"
                   % (role, "a reply" if answered_within(a, 0.5) else "nothing"))
    finally:
        for sid in others:
            c.resume(sid)
    first, second = read_reply(a), read_reply(a)
    out.append("%s: A after: %s, then %s" % (role, reply_text(first), reply_text(second)))
    for s in (a, b):
        s.close()
    return out, waited


def scenario(c):
    modes = c.wait_formed(60)
    leader = [sid for sid, m in modes.items() if m == "leader"][0]
    follower = min(sid for sid in modes if sid != leader)
    out, waits = [], []
    for x, role in ((leader, "leader"), (follower, "follower")):
        lines, waited = check_member(c, x, role)
        out += lines
        waits.append(waited)
        # The paused members rejoin (or the ensemble re-forms) before the next member.
        c.wait_formed(60)
    note = "B's read answered after %s s (leader, follower)" % ", ".join(
        "-" if w is None else "%.3f" % w for w in waits)
    return out, [note]


EXPECTED = [
    "leader: create /ro-a: xid 1 err 0",
    "leader: create /ro-b: xid 2 err 0",
    "leader: B's read while A's write waits: xid 20 err 0",
    "leader: A before the quorum is back: nothing",
    "leader: A after: xid 10 err 0, then xid 11 err 0 version 1",
    "follower: create /ro-a: xid 1 err 0",
    "follower: create /ro-b: xid 2 err 0",
    "follower: B's read while A's write waits: xid 20 err 0",
    "follower: A before the quorum is back: nothing",
    "follower: A after: xid 10 err 0, then xid 11 err 0 version 1",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", nargs="+", default=["java,java,java", "fk,fk,fk"])
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    a = ap.parse_args()
    return cluster.run_scripted(a.kinds, 'reply-order.', 1000, a.fk_bin, scenario, EXPECTED)


if __name__ == "__main__":
    sys.exit(main())
