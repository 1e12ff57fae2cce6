"""Fixtures for the C-client suite (cli_mt)."""
import re

import pytest
from kazoo.client import KazooClient

from cclient_helper import CliMt


@pytest.fixture
def cli(zk_connect):
    c = CliMt(zk_connect)
    yield c
    c.close()


@pytest.fixture
def cli2(zk_connect):
    c = CliMt(zk_connect)
    yield c
    c.close()


@pytest.fixture(scope="session")
def c_root(zk_connect, run_id):
    """/compat-cclient-<random>, created with the C client, removed with kazoo at the end."""
    root = f"/compat-cclient-{run_id}"
    c = CliMt(zk_connect)
    try:
        rc, name, _ = c.create(root)
        assert rc == 0 and name == root
    finally:
        c.close()
    yield root
    k = KazooClient(hosts=zk_connect, timeout=10.0)
    k.start(timeout=10)
    k.add_auth("digest", "cuser:cpass")
    k.delete(root, recursive=True)
    k.stop()
    k.close()


@pytest.fixture
def node(c_root, request):
    return f"{c_root}/" + re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
