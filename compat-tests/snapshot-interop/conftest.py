"""Persistence interop tests need Java ZooKeeper (Debian's `zookeeper` package) and the
release build of FerroKeeper's examples. Anything missing FAILS every test: a machine
without Java must not pass this suite by skipping it."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import interop  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _requirements():
    why = interop.java_missing()
    if why:
        pytest.fail(why)
    for name in ("dump_snapshot", "write_sample_snapshot"):
        try:
            interop.example(name)
        except RuntimeError as e:
            pytest.fail(str(e))


@pytest.fixture
def workdir(tmp_path):
    return str(tmp_path)
