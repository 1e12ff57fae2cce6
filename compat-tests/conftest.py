"""Shared pytest setup for the Python-driven suites (zkcli/, kazoo/, cclient/).

The target server comes from the environment variable ZK_CONNECT (host:port[,host:port...]).
If it is unset, or no listed address accepts a TCP connection, every test FAILS at once
(rather than each one waiting for its own client time-out), so a run against a server that is
not running can never pass or skip.
"""
import os
import socket
import uuid

import pytest


def _hosts(connect):
    out = []
    for part in connect.split(","):
        part = part.strip()
        if not part:
            continue
        host, _, port = part.rpartition(":")
        out.append((host.strip("[]") or "127.0.0.1", int(port)))
    return out


def _reachable(connect):
    for host, port in _hosts(connect):
        try:
            with socket.create_connection((host, port), timeout=3):
                return True
        except OSError:
            continue
    return False


@pytest.fixture(scope="session")
def zk_connect():
    connect = os.environ.get("ZK_CONNECT", "").strip()
    if not connect:
        pytest.fail("ZK_CONNECT is not set (expected 127.0.0.1:PORT)")
    if not _reachable(connect):
        pytest.fail(f"ZooKeeper server at ZK_CONNECT={connect} is not accepting connections")
    return connect


@pytest.fixture(autouse=True)
def _require_server(zk_connect):
    """Every test needs a reachable server; the session fixture fails them all if not."""
    return zk_connect


@pytest.fixture(scope="session")
def run_id():
    return uuid.uuid4().hex[:10]
