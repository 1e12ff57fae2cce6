#!/usr/bin/env python3
"""SESSIONMOVED: a request through a server the session has left, Java 3.8.0 against FerroKeeper.

A 3-member ensemble of each kind named (default: java,java,java then fk,fk,fk). Raw sockets,
so nothing reconnects behind the script's back:

1. session S is created on follower F1 and creates /owned there;
2. S reattaches on the leader (F1's connection stays open: nobody tells F1);
3. a setData of /owned through F1's old connection: the leader finds S owned by itself, not
   by F1, and commits an error txn (SESSIONMOVED); F1 closes that connection with no reply
   (FinalRequestProcessor: SessionMovedException -> sendCloseSession);
4. S reattaches on follower F2 (REVALIDATE makes F2 its owner);
5. a getData through the leader's old connection: the leader closes it with no reply (reads
   are checked too, PrepRequestProcessor.checkSession);
6. through F2: setData /owned, sync, getData: version 1, so the stale write of step 3 never
   applied.

Each step's outcome is recorded as text; FerroKeeper's must equal Java's, and Java's must be
the behaviour described above (the reference is checked, not assumed). Prints
"N passed, M failed" last.

    python3 compat-tests/ensemble/session_moved.py [--kinds java,java,java fk,fk,fk]
                                                     [--fk-bin BIN]
"""

import argparse
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import cluster  # noqa: E402
from rawzk import attach_retrying, get_data_version, jbuf, jstr, read_reply, send_request  # noqa: E402,E501

GET_DATA, SET_DATA, CREATE, SYNC = 4, 5, 1, 9


def call(s, xid, op, body):
    """'err N' (with the reply's body) or 'closed' when the server ends the connection."""
    if not send_request(s, xid, op, body):
        return "closed", None
    while True:
        r = read_reply(s)
        if r is None:
            return "closed", None
        rxid, _zxid, err, rbody = r
        if rxid == xid:
            return "err %d" % err, rbody


def scenario(c):
    modes = c.wait_formed(60)
    leader = [sid for sid, m in modes.items() if m == "leader"][0]
    f1, f2 = [sid for sid in sorted(modes) if sid != leader]
    port = {sid: c.members[sid].client_port for sid in c.members}
    out = []
    on_f1, sess, pw = attach_retrying(port[f1])
    r, _ = call(on_f1, 1, CREATE, jstr("/owned") + jbuf(b"0")
                + struct.pack(">i", 1) + struct.pack(">i", 31) + jstr("world") + jstr("anyone")
                + struct.pack(">i", 0))
    out.append("create on F1: %s" % r)
    on_leader, _, _ = attach_retrying(port[leader], sess, pw)
    r, _ = call(on_leader, 1, GET_DATA, jstr("/owned") + b"\0")
    out.append("read on the leader after the move: %s" % r)
    r, _ = call(on_f1, 2, SET_DATA, jstr("/owned") + jbuf(b"stale") + struct.pack(">i", -1))
    out.append("write through F1 after the session moved to the leader: %s" % r)
    on_f2, _, _ = attach_retrying(port[f2], sess, pw)
    r, _ = call(on_leader, 2, GET_DATA, jstr("/owned") + b"\0")
    out.append("read through the leader after the session moved to F2: %s" % r)
    r, _ = call(on_f2, 1, SET_DATA, jstr("/owned") + jbuf(b"1") + struct.pack(">i", -1))
    out.append("write on F2: %s" % r)
    r, _ = call(on_f2, 2, SYNC, jstr("/"))
    out.append("sync on F2: %s" % r)
    r, body = call(on_f2, 3, GET_DATA, jstr("/owned") + b"\0")
    version = None
    if r == "err 0" and body:
        version = get_data_version(body)
    out.append("read on F2: %s, version %s" % (r, version))
    for s in (on_f1, on_leader, on_f2):
        s.close()
    return out, []


EXPECTED = [
    "create on F1: err 0",
    "read on the leader after the move: err 0",
    "write through F1 after the session moved to the leader: closed",
    "read through the leader after the session moved to F2: closed",
    "write on F2: err 0",
    "sync on F2: err 0",
    "read on F2: err 0, version 1",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", nargs="+", default=["java,java,java", "fk,fk,fk"])
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    a = ap.parse_args()
    return cluster.run_scripted(a.kinds, 'session-moved.', 200, a.fk_bin, scenario, EXPECTED)


if __name__ == "__main__":
    sys.exit(main())
