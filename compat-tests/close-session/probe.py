"""closeSession from a session that is already closing (run.py compares servers with it).

    python3 probe.py PORT

One connection pipelines two closeSession requests (xids 1 and 2) in one write and reads
until the server closes it; a second session then creates a znode. Prints which xids were
answered and how many txns the double close took: the new znode's czxid minus the zxid of
the first reply (1 when the second closeSession logged nothing).
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from rawzk import frame, jstr, read_frame  # noqa: E402


def session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(frame(struct.pack(">iqiq", 0, 0, 10000, 0) + struct.pack(">i", 16) + bytes(16)
                    + b"\0"))
    read_frame(s)
    return s


def facts(port, round_no=0):
    """["answered xids: [...]", "errors: [...]", "txns taken by the double close: N"]."""
    s = session(port)
    close = lambda xid: frame(struct.pack(">ii", xid, -11))  # noqa: E731
    s.sendall(close(1) + close(2))
    answered, first_zxid = [], None
    for _ in range(10):  # at most two replies come before EOF
        r = read_frame(s)
        if r is None:
            break
        xid, zxid, err = struct.unpack(">iqi", r[:16])
        answered.append((xid, err))
        if first_zxid is None:
            first_zxid = zxid
    s.close()
    t = session(port)
    acl = struct.pack(">i", 1) + struct.pack(">i", 31) + jstr("world") + jstr("anyone")
    t.sendall(frame(struct.pack(">ii", 1, 1) + jstr("/after-double-close-%d" % round_no) + jstr("")
                    + acl + struct.pack(">i", 0)))
    r = read_frame(t)
    _, create_zxid, err = struct.unpack(">iqi", r[:16])
    t.close()
    if err != 0:
        raise RuntimeError("create after the double close failed: err %d" % err)
    return ["answered xids: %s" % [x for x, _ in answered],
            "errors: %s" % [e for _, e in answered],
            "txns taken by the double close: %d" % (create_zxid - first_zxid)]


if __name__ == "__main__":
    print("\n".join(facts(int(sys.argv[1]))))
