#!/usr/bin/env python3
"""enforce.auth against Java ZooKeeper 3.8.0 (Debian) and FerroKeeper, fact by fact.

    compat-tests/security/run.py [FERROKEEPER_BINARY]

1. Both servers started with -Dzookeeper.enforce.auth.enabled=true
   -Dzookeeper.enforce.auth.schemes=digest; the same raw-protocol probe (zkwire) runs against
   each: a request of a session that never authenticated (create, ping), one after `addauth ip`
   (not a required scheme), then after `addauth digest`; what each reply and the connection
   did is one line. A four-letter word is still answered.
2. Each server started with -Dzookeeper.sessionRequireClientSASLAuth=true (which means the
   `sasl` scheme: Java has no provider for it unless one is plugged in, FerroKeeper none at
   all), then with enforce.auth.enabled=true and no schemes: both must refuse to start, and
   with the same exit status (2).
Java's lines are the expectation; the last line is "N passed, M failed".
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "differential"))
import javazk  # noqa: E402
import zkwire  # noqa: E402

ENFORCE_DIGEST = {"zookeeper.enforce.auth.enabled": "true",
                  "zookeeper.enforce.auth.schemes": "digest"}


def outcome(session, opcode, body, xid=None):
    """One request: its reply's error code, then whether the server closed the connection."""
    try:
        rep, _ = session.call(opcode, body, xid=xid, timeout=5.0)
    except zkwire.ConnectionClosed:
        return "no reply, connection closed"
    except zkwire.Timeout:
        return "no reply within 5 s"
    try:
        session.recv(timeout=1.0)
        after = "connection open, more data"
    except zkwire.ConnectionClosed:
        after = "connection closed"
    except zkwire.Timeout:
        after = "connection open"
    return "err %d, %s" % (rep["err"], after)


def probe(port):
    lines = []

    def session():
        s = zkwire.Session("127.0.0.1", port, timeout_ms=30000)
        s.connect()
        return s

    s = session()
    lines.append("unauthenticated create: " + outcome(
        s, zkwire.Op.CREATE2, zkwire.req_create("/enforced", b"x", zkwire.OPEN_ACL_UNSAFE, 0)))
    s.close()
    s = session()
    lines.append("unauthenticated ping: " + outcome(s, zkwire.Op.PING, b"", xid=zkwire.PING_XID))
    s.close()
    s = session()
    lines.append("addauth ip: " + outcome(s, zkwire.Op.AUTH, zkwire.req_auth("ip", b""),
                                          xid=zkwire.AUTH_XID))
    lines.append("create after addauth ip: " + outcome(
        s, zkwire.Op.CREATE2, zkwire.req_create("/enforced", b"x", zkwire.OPEN_ACL_UNSAFE, 0)))
    s.close()
    s = session()
    lines.append("addauth digest: " + outcome(s, zkwire.Op.AUTH,
                                              zkwire.req_auth("digest", b"bob:pw"),
                                              xid=zkwire.AUTH_XID))
    lines.append("create after addauth digest: " + outcome(
        s, zkwire.Op.CREATE2, zkwire.req_create("/enforced", b"x", zkwire.OPEN_ACL_UNSAFE, 0)))
    lines.append("getChildren after addauth digest: " + outcome(
        s, zkwire.Op.GET_CHILDREN, zkwire.req_path_watch("/", False)))
    s.close_session(timeout=5.0)
    lines.append("ruok: " + javazk.four_letter(port, "ruok"))
    return lines


def start(kind, fk, d, props):
    """A started server (or a ServerError): Java or FerroKeeper on the same zoo.cfg."""
    return javazk.start_either(kind, d, fk, props=props)


def refused_start(kind, fk, d, props):
    try:
        server = start(kind, fk, d, props)
    except javazk.ServerError as e:
        text = str(e)
        marker = "exited with status "
        if marker in text:
            return "refused to start, exit " + text.split(marker, 1)[1].split(" ", 1)[0]
        return "did not serve: " + text.splitlines()[0]
    server.stop()
    return "started and served"


def run(kind, fk, tmp):
    out = []
    d = os.path.join(tmp, kind)
    server = start(kind, fk, d, ENFORCE_DIGEST)
    try:
        out += probe(server.port)
    finally:
        server.stop()
    out.append("sessionRequireClientSASLAuth=true: " + refused_start(
        kind, fk, os.path.join(tmp, kind + "-sasl"),
        {"zookeeper.sessionRequireClientSASLAuth": "true"}))
    out.append("enforce.auth.enabled without schemes: " + refused_start(
        kind, fk, os.path.join(tmp, kind + "-noscheme"),
        {"zookeeper.enforce.auth.enabled": "true"}))
    return out


def main():
    fk = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "target", "release",
                                                            "ferrokeeper")
    fk = os.path.abspath(fk)
    why = javazk.missing()
    if why:
        print("cannot run Java ZooKeeper: " + why)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        java = run("java", fk, tmp)
        ours = run("ferrokeeper", fk, tmp)
    passed = failed = 0
    for i, want in enumerate(java):
        got = ours[i] if i < len(ours) else "<missing>"
        if got == want:
            passed += 1
            print("ok      " + want)
        else:
            failed += 1
            print("DIFFERS java:        " + want)
            print("        ferrokeeper: " + got)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
