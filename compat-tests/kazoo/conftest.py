"""Fixtures for the kazoo suite: connected clients and a unique per-run root znode."""
import re

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

START_TIMEOUT = 10.0


def new_client(zk_connect, **kw):
    kw.setdefault("timeout", 10.0)
    c = KazooClient(hosts=zk_connect, **kw)
    c.start(timeout=START_TIMEOUT)
    return c


def close_client(c):
    try:
        c.stop()
    finally:
        c.close()


@pytest.fixture(scope="session")
def kz_root(zk_connect, run_id):
    """/compat-kazoo-<random>, created once per run and deleted recursively at the end."""
    c = new_client(zk_connect)
    path = f"/compat-kazoo-{run_id}"
    c.create(path, b"")
    yield path
    # identities used by the ACL tests, so that protected leftovers can be read and removed
    for ident in ("alice:secret", "carol:pw", "admin:pw"):
        c.add_auth("digest", ident)
    try:
        c.delete(path, recursive=True)
    except NoNodeError:
        pass
    close_client(c)


@pytest.fixture
def zk(zk_connect):
    c = new_client(zk_connect)
    yield c
    close_client(c)


@pytest.fixture
def zk2(zk_connect):
    c = new_client(zk_connect)
    yield c
    close_client(c)


@pytest.fixture
def make_client(zk_connect):
    """Factory for extra clients; all are closed after the test."""
    made = []

    def make(**kw):
        c = new_client(zk_connect, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            close_client(c)
        except Exception:
            pass


@pytest.fixture
def base(zk, kz_root, request):
    """A fresh persistent znode for this test: <root>/<test name>."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    path = f"{kz_root}/{name}"
    zk.create(path, b"")
    return path
