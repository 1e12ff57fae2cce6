"""Jute framing over a plain socket, for probes that must see exactly what a server sends
(no client library reconnecting or answering on their behalf)."""
import socket
import struct


def frame(payload):
    """A length-prefixed frame."""
    return struct.pack(">i", len(payload)) + payload


def jstr(s):
    """A jute ustring."""
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def jbuf(b):
    """A jute buffer."""
    return struct.pack(">i", len(b)) + b


def read_exact(sock, n):
    """n bytes, or None when the server closed (or reset, or the socket timed out) first."""
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionResetError, TimeoutError):
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    """One frame's payload, or None when the connection ended between frames."""
    head = read_exact(sock, 4)
    if head is None:
        return None
    return read_exact(sock, struct.unpack(">i", head)[0])


def attach(port, session=0, passwd=bytes(16), host="127.0.0.1", timeout_ms=10000):
    """A connection with session `session` (0: a new one): (socket, session, passwd), or None
    if the server refused it."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(frame(struct.pack(">iqiq", 0, 0, timeout_ms, session) + jbuf(passwd) + b"\0"))
    r = read_frame(s)
    if r is None:
        s.close()
        return None
    _proto, _timeout, sid = struct.unpack(">iiq", r[:16])
    (plen,) = struct.unpack(">i", r[16:20])
    if sid == 0:
        s.close()
        return None
    return s, sid, r[20:20 + plen]


def attach_retrying(port, session=0, passwd=bytes(16), tries=100):
    """attach(), retried while the server refuses (a member refuses sessions until it serves);
    bounded."""
    for _ in range(tries):
        got = attach(port, session, passwd)
        if got is not None:
            return got
    raise RuntimeError("port %d refused session 0x%x %d times" % (port, session, tries))


def send_request(sock, xid, op, body):
    """Sends one request; False if the connection is gone."""
    try:
        sock.sendall(frame(struct.pack(">ii", xid, op) + body))
        return True
    except OSError:
        return False


def read_reply(sock):
    """The next reply (xid, zxid, err, body), or None when the connection ended."""
    r = read_frame(sock)
    if r is None:
        return None
    xid, zxid, err = struct.unpack(">iqi", r[:16])
    return xid, zxid, err, r[16:]


def get_data_version(body):
    """The stat version in a GetDataResponse body."""
    (dlen,) = struct.unpack(">i", body[:4])
    stat = body[4 + max(dlen, 0):]
    return struct.unpack(">i", stat[32:36])[0]  # czxid, mzxid, ctime, mtime, version
