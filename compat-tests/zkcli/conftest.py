"""Fixtures for the zkCli suite: a unique per-run root znode, removed at the end."""
import re

import pytest

import zkcli_helper as cli
from zkcli_helper import DIGEST_PASS, DIGEST_USER


@pytest.fixture(scope="session")
def cli_root(zk_connect, run_id):
    root = f"/compat-zkcli-{run_id}"
    out = cli.batch(zk_connect, f"create {root}")
    assert out == [f"Created {root}"], out
    yield root
    cli.batch(zk_connect, f"addauth digest {DIGEST_USER}:{DIGEST_PASS}", f"deleteall {root}")


@pytest.fixture
def node(cli_root, request):
    """A path for this test (not created): <root>/<test name>."""
    return f"{cli_root}/" + re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
