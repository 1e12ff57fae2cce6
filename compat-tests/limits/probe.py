#!/usr/bin/env python3
"""Limits probe: raw ZooKeeper protocol over sockets, run against a server
started with -Djute.maxbuffer=8192 -Dzookeeper.nio.sessionlessCnxnTimeout=1000.

Prints one line per fact, in a form that is the same for Java ZooKeeper 3.8.0
and FerroKeeper when they behave alike (times are bucketed to the second).

Usage: probe.py PORT [SERVER_PID]
"""
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])
PID = sys.argv[2] if len(sys.argv) > 2 else None


def s_str(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def frame(p):
    return struct.pack(">i", len(p)) + p


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        c = sock.recv(n - len(out))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(out), n))
        out += c
    return out


def read_frame(sock):
    n = struct.unpack(">i", recv_exact(sock, 4))[0]
    return recv_exact(sock, n)


def connect(timeout_ms=30000):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    req = struct.pack(">iqiq", 0, 0, timeout_ms, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0"
    s.sendall(frame(req))
    read_frame(s)
    return s


XID = [0]


def call(s, op, body):
    XID[0] += 1
    s.sendall(frame(struct.pack(">ii", XID[0], op) + body))
    r = read_frame(s)
    _xid, _zxid, err = struct.unpack(">iqi", r[:16])
    return err, r[16:]


ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + s_str("world") + s_str("anyone")


def create(s, path, data=b""):
    body = s_str(path) + struct.pack(">i", len(data)) + data + ACL + struct.pack(">i", 0)
    return call(s, 1, body)[0]


def closed_after(sock):
    """Seconds until the server closes `sock` (EOF or reset), and what came first."""
    t = time.time()
    sock.settimeout(30)
    got = b""
    try:
        while True:
            c = sock.recv(4096)
            if not c:
                break
            got += c
    except ConnectionResetError:
        pass
    return time.time() - t, got


s = connect()
create(s, "/wide")
for i in range(100):
    create(s, "/wide/%03d-%s" % (i, "n" * 100))
err, body = call(s, 8, s_str("/wide") + b"\0")
n = struct.unpack(">i", body[:4])[0]
print("getChildren reply over jute.maxbuffer=8192: err=%d, %d children, reply %s 8192 bytes"
      % (err, n, ">" if len(body) + 16 > 8192 else "<="))
print("same connection afterwards: exists err=%d" % call(s, 3, s_str("/wide") + b"\0")[0])

big = connect()
big.sendall(frame(struct.pack(">ii", 1, 1) + s_str("/too-big") + struct.pack(">i", 9000) + b"x" * 9000 + ACL + struct.pack(">i", 0)))
secs, got = closed_after(big)
print("request frame over jute.maxbuffer: connection closed, %d bytes answered" % len(got))
print("other connection afterwards: exists err=%d" % call(s, 3, s_str("/wide") + b"\0")[0])

for label, data in [("nothing", b""), ("2 bytes of a length", b"\0\0"),
                    ("a length and 10 bytes", struct.pack(">i", 45) + b"\0" * 10)]:
    c = socket.create_connection(("127.0.0.1", PORT))
    c.sendall(data)
    secs, got = closed_after(c)
    print("no ConnectRequest (%s): closed within 1-3 s: %s, %d bytes answered"
          % (label, 1.0 <= secs + 0.05 and secs < 3.0, len(got)))

# largeRequestThreshold=1000, largeRequestMaxBytes=3000 (run.sh's flags).
def set_data_frame(path, n):
    return frame(struct.pack(">ii", 1, 5) + s_str(path) + struct.pack(">i", n) + b"L" * n + struct.pack(">i", -1))


lg = connect()
lg.sendall(set_data_frame("/wide", 1200))
r = read_frame(lg)
print("large request under largeRequestMaxBytes: err=%d" % struct.unpack(">iqi", r[:16])[2])
lg.sendall(set_data_frame("/wide", 4000))
secs, got = closed_after(lg)
print("large request over largeRequestMaxBytes: connection closed, %d bytes answered" % len(got))
print("other connection afterwards: exists err=%d" % call(s, 3, s_str("/wide") + b"\0")[0])
m = socket.create_connection(("127.0.0.1", PORT))
m.sendall(b"mntr")
_, out = closed_after(m)
print([l for l in out.decode().splitlines() if "large_requests_rejected" in l])

