"""Jute framing over a plain socket, for probes that must see exactly what a server sends
(no client library reconnecting or answering on their behalf)."""
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
