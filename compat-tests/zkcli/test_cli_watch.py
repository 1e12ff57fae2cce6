"""zkCli.sh watches: one-shot (get -w, ls -w, stat -w), addWatch (persistent, recursive),
removewatches. One long-lived CLI session watches, a second CLI session makes changes."""
import pytest

import zkcli_helper as cli


def ev(kind, path):
    return rf"^WatchedEvent state:SyncConnected type:{kind} path:{path}$"


def no_more_events(zk_connect, watcher, node):
    """True if the watcher session has no further event pending: it sets a one-shot watch on
    a marker node, another session changes the marker, and the marker's event must be the
    next event printed (the server sends a session's notifications in order and the CLI's
    event thread prints them in order)."""
    marker = f"{node}-marker"
    cli.batch(zk_connect, f"create {marker}")
    watcher.send(f"get -w {marker}")
    watcher.barrier()
    cli.batch(zk_connect, f"set {marker} x")
    got = watcher.wait_for(r"^WatchedEvent ")
    return got[-1] == f"WatchedEvent state:SyncConnected type:NodeDataChanged path:{marker}"


@pytest.fixture
def watcher(zk_connect):
    s = cli.Session(zk_connect)
    yield s
    s.close()


def test_one_shot_watches(zk_connect, node, watcher):
    assert cli.batch(zk_connect, f"create {node} v0") == [f"Created {node}"]
    watcher.send(f"get -w {node}")
    watcher.send(f"ls -w {node}")
    watcher.send(f"stat -w {node}/later")
    assert watcher.barrier()[:3] == ["v0", "[]", f"Node does not exist: {node}/later"]
    cli.batch(zk_connect, f"set {node} v1")
    watcher.wait_for(ev("NodeDataChanged", node))
    cli.batch(zk_connect, f"create {node}/later")
    # the child watch on node and the exists watch on node/later both fire for this create
    watcher.wait_all([ev("NodeChildrenChanged", node), ev("NodeCreated", f"{node}/later")])
    assert len(watcher.events()) == 3
    # one-shot: further changes produce nothing
    cli.batch(zk_connect, f"set {node} v2", f"create {node}/more")
    assert no_more_events(zk_connect, watcher, node)


def test_add_watch_persistent_recursive(zk_connect, node, watcher):
    assert cli.batch(zk_connect, f"create {node}") == [f"Created {node}"]
    watcher.send(f"addWatch {node}")  # default mode: persistent recursive
    assert watcher.barrier() == []
    cli.batch(zk_connect, f"create {node}/a", f"create {node}/a/b x", f"set {node}/a/b y",
              f"set {node}/a/b z", f"delete {node}/a/b")
    watcher.wait_for(ev("NodeCreated", f"{node}/a"))
    watcher.wait_for(ev("NodeCreated", f"{node}/a/b"))
    watcher.wait_for(ev("NodeDataChanged", f"{node}/a/b"))
    watcher.wait_for(ev("NodeDataChanged", f"{node}/a/b"))  # persistent: fires again
    watcher.wait_for(ev("NodeDeleted", f"{node}/a/b"))
    events = [ln for ln in watcher.lines if ln.startswith("WatchedEvent")]
    # recursive watches never report NodeChildrenChanged
    assert not any("NodeChildrenChanged" in e for e in events)
    watcher.send(f"removewatches {node}")
    watcher.wait_for(rf"^WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:{node}$")
    cli.batch(zk_connect, f"create {node}/after")
    assert no_more_events(zk_connect, watcher, node)


def test_add_watch_persistent(zk_connect, node, watcher):
    assert cli.batch(zk_connect, f"create {node}") == [f"Created {node}"]
    watcher.send(f"addWatch -m PERSISTENT {node}")
    assert watcher.barrier() == []
    cli.batch(zk_connect, f"create {node}/a", f"create {node}/a/deeper", f"set {node} 1",
              f"set {node} 2")
    watcher.wait_for(ev("NodeChildrenChanged", node))
    watcher.wait_for(ev("NodeDataChanged", node))
    watcher.wait_for(ev("NodeDataChanged", node))
    assert no_more_events(zk_connect, watcher, node)
    events = [ln for ln in watcher.lines if ln.startswith("WatchedEvent")]
    assert not any(f"path:{node}/a" in e for e in events)  # not recursive


def test_removewatches_errors(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"removewatches {node}",
                    f"get -w {node}", f"removewatches {node} -d", f"removewatches {node} -d")
    assert out[0] == f"Created {node}"
    assert out[1] == f"KeeperErrorCode = No such watcher for {node}"
    assert out[2] == "null"
    # removing an existing data watch fires a DataWatchRemoved event (printed by the CLI's
    # event thread, so its position relative to the next command's output varies); the
    # second attempt fails
    assert sorted(out[3:]) == sorted([
        f"WatchedEvent state:SyncConnected type:DataWatchRemoved path:{node}",
        f"KeeperErrorCode = No such watcher for {node}"])
