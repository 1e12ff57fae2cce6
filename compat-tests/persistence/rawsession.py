"""A minimal raw ZooKeeper session: just enough protocol to own an ephemeral node and to
walk away WITHOUT closing the session (closing the socket sends no closeSession), so that
the session can be resumed on another server by id and password.

Wire format (big-endian): every message is int32 length + payload.
  ConnectRequest  int protocolVersion, long lastZxidSeen, int timeOut, long sessionId,
                  buffer passwd, bool readOnly
  ConnectResponse int protocolVersion, int timeOut, long sessionId, buffer passwd, bool readOnly
  request         int xid, int opcode, body      reply  int xid, long zxid, int err, body
  create (op 1)   ustring path, buffer data, vector<ACL{int perms, ustring scheme, ustring id}>,
                  int flags                       reply  ustring path
  ping  (op 11, xid -2)
"""

import socket
import struct
import time


class RawError(Exception):
    pass


def _buf(b):
    return struct.pack(">i", len(b)) + b


def _ustr(s):
    return _buf(s.encode("utf-8"))


class RawSession:
    def __init__(self, port, timeout_ms=30000, io_timeout=10.0):
        self.port = port
        self.timeout_ms = timeout_ms
        self.io_timeout = io_timeout
        self.sock = None
        self.buf = b""
        self.xid = 0
        self.session_id = None
        self.passwd = None
        self.negotiated = None
        self.last_zxid = 0

    def _send(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv(self):
        deadline = time.monotonic() + self.io_timeout
        for _ in range(100_000):
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">i", self.buf[:4])
                if n < 0 or n > (1 << 24):
                    raise RawError("bad frame length %d" % n)
                if len(self.buf) >= 4 + n:
                    frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RawError("connection closed by the server")
            self.buf += chunk
        raise RawError("no reply within %.0f s" % self.io_timeout)

    def connect(self, session_id=0, passwd=b"\0" * 16):
        """Establish (session_id=0) or resume a session. Returns the negotiated timeout
        (<= 0 means the server refused, e.g. the session expired)."""
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.io_timeout)
        self._send(struct.pack(">iqiq", 0, self.last_zxid, self.timeout_ms, session_id)
                   + _buf(passwd) + b"\0")
        r = self._recv()
        _proto, self.negotiated, sid = struct.unpack(">iiq", r[:16])
        (plen,) = struct.unpack(">i", r[16:20])
        pw = r[20:20 + max(plen, 0)]
        if self.negotiated > 0:
            self.session_id, self.passwd = sid, pw
        return self.negotiated

    def _call(self, opcode, body, xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self._send(struct.pack(">ii", xid, opcode) + body)
        for _ in range(1000):  # skip watch notifications (xid -1); we set no watches
            r = self._recv()
            rxid, zxid, err = struct.unpack(">iqi", r[:16])
            if rxid == -1:
                continue
            if rxid != xid:
                raise RawError("reply xid %d, expected %d" % (rxid, xid))
            self.last_zxid = max(self.last_zxid, zxid)
            return zxid, err, r[16:]
        raise RawError("too many notifications")

    def create(self, path, data, flags, acl=((31, "world", "anyone"),)):
        """Create; returns (zxid, path created). flags: 1 ephemeral, 2 sequential, 3 both."""
        body = _ustr(path) + _buf(data) + struct.pack(">i", len(acl))
        for perms, scheme, ident in acl:
            body += struct.pack(">i", perms) + _ustr(scheme) + _ustr(ident)
        body += struct.pack(">i", flags)
        zxid, err, rest = self._call(1, body)
        if err != 0:
            raise RawError("create %s failed with error %d" % (path, err))
        (n,) = struct.unpack(">i", rest[:4])
        return zxid, rest[4:4 + n].decode("utf-8")

    def ping(self):
        zxid, err, _ = self._call(11, b"", xid=-2)
        if err != 0:
            raise RawError("ping failed with error %d" % err)

    def drop(self):
        """Close the TCP connection only: the session stays alive on the server."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
