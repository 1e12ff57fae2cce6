"""pytest options and fixtures for the persistence suite (see README.md).

Options (run.sh passes them through):
  --server-a java|fk      writes the data set, is stopped                (default java)
  --server-b java|fk      restarts on A's data directories               (default java)
  --crash-server java|fk  the server kill -9'd in the crash test         (default: --server-b)
  --fk-bin PATH           FerroKeeper binary (default $FK_BIN or <repo>/target/release/ferrokeeper)
  --rounds N              crash rounds                                    (default 10)
  --load-seconds S        upper bound of the load before each kill -9     (default 2.0)
  --writers N             concurrent writer clients in the crash test     (default 4)
  --snap-count N          snapCount for every server                      (default 100)
  --seed N                random seed (default: time-based, printed in the report)
  --workdir DIR           where data dirs, zoo.cfg files and server logs go
                          (default compat-tests/.work/persistence/<timestamp>)
  --keep                  keep the work directory even when every test passed
"""

import os
import shutil
import time

import pytest

from servers import Server, ServerError

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("java", "fk")


def pytest_addoption(parser):
    g = parser.getgroup("persistence")
    g.addoption("--server-a", choices=KINDS, default="java")
    g.addoption("--server-b", choices=KINDS, default="java")
    g.addoption("--crash-server", choices=KINDS, default=None)
    g.addoption("--fk-bin", default=None)
    g.addoption("--rounds", type=int, default=10)
    g.addoption("--load-seconds", type=float, default=2.0)
    g.addoption("--writers", type=int, default=4)
    g.addoption("--snap-count", type=int, default=100)
    g.addoption("--seed", type=int, default=None)
    g.addoption("--workdir", default=None)
    g.addoption("--keep", action="store_true", default=False)


class Settings:
    def __init__(self, config):
        o = config.getoption
        self.server_a = o("--server-a")
        self.server_b = o("--server-b")
        self.crash_server = o("--crash-server") or self.server_b
        self.fk_bin = o("--fk-bin")
        self.rounds = max(1, min(o("--rounds"), 100))
        self.load_seconds = max(0.2, min(o("--load-seconds"), 30.0))
        self.writers = max(1, min(o("--writers"), 32))
        self.snap_count = max(2, o("--snap-count"))
        self.seed = o("--seed") if o("--seed") is not None else int(time.time()) % 1_000_000
        self.workdir = os.path.abspath(o("--workdir") or os.path.join(
            HERE, "..", ".work", "persistence", time.strftime("%Y%m%d-%H%M%S")))
        self.keep = o("--keep")


def pytest_configure(config):
    config._persist = Settings(config)


def pytest_report_header(config):
    s = config._persist
    return ("persistence: server-a=%s server-b=%s crash-server=%s seed=%d rounds=%d "
            "load=%.1fs writers=%d snapCount=%d workdir=%s"
            % (s.server_a, s.server_b, s.crash_server, s.seed, s.rounds, s.load_seconds,
               s.writers, s.snap_count, s.workdir))


@pytest.fixture(scope="session")
def settings(request):
    return request.config._persist


_failed = []
_notes = []


@pytest.fixture
def note(request):
    """note(text): a line for the "persistence report" section printed at the end of the run
    (round summaries, timings), kept even when the test fails later."""
    def add(text):
        _notes.append("%s: %s" % (request.node.name, text))
    return add


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _notes:
        terminalreporter.section("persistence report")
        for line in _notes:
            terminalreporter.write_line(line)
    s = config._persist
    if _failed or s.keep:
        terminalreporter.write_line("work directory (data dirs, zoo.cfg, server logs): %s"
                                    % s.workdir)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        _failed.append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    s = session.config._persist
    if not _failed and not s.keep and os.path.isdir(s.workdir):
        shutil.rmtree(s.workdir, ignore_errors=True)


@pytest.fixture
def testdir(settings, request):
    """A fresh directory for this test under the run's work directory."""
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    d = os.path.join(settings.workdir, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


@pytest.fixture
def make_server(settings, testdir):
    """make_server(kind, name, data_dir, data_log_dir=None) -> Server (not started).
    Every server made here is killed at teardown if still running (by its own pid)."""
    made = []

    def make(kind, name, data_dir, data_log_dir=None, **kw):
        kw.setdefault("snap_count", settings.snap_count)
        s = Server(kind, testdir, data_dir, data_log_dir, fk_bin=settings.fk_bin, name=name, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.running:
            s.kill()
