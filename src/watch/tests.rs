use super::table::{Ancestors, Modes};
use super::*;
use std::collections::HashMap;

use EventType::*;

const A: WatcherId = WatcherId(1);
const B: WatcherId = WatcherId(2);
const C: WatcherId = WatcherId(3);

const BOTH: [WatchSemantics; 2] = [WatchSemantics::Zk38, WatchSemantics::Zk39];

fn check(m: &WatchManager) {
    m.data.assert_consistent();
    m.child.assert_consistent();
}

fn ids(fired: &[(WatcherId, EventType)], ev: EventType) -> Vec<WatcherId> {
    assert!(fired.iter().all(|(_, e)| *e == ev));
    fired.iter().map(|(w, _)| *w).collect()
}

/// Runs the trigger calls DataTree makes for a create.
fn create(m: &mut WatchManager, path: &str) -> (Vec<WatcherId>, Vec<WatcherId>) {
    let node = ids(&m.trigger(path, NodeCreated), NodeCreated);
    let parent = ids(
        &m.trigger(parent_path(path), NodeChildrenChanged),
        NodeChildrenChanged,
    );
    check(m);
    (node, parent)
}

/// Runs the trigger calls DataTree makes for a delete.
fn delete(m: &mut WatchManager, path: &str) -> (Vec<WatcherId>, Vec<WatcherId>) {
    let node = ids(&m.trigger(path, NodeDeleted), NodeDeleted);
    let parent = ids(
        &m.trigger(parent_path(path), NodeChildrenChanged),
        NodeChildrenChanged,
    );
    check(m);
    (node, parent)
}

fn set_data(m: &mut WatchManager, path: &str) -> Vec<WatcherId> {
    let r = ids(&m.trigger(path, NodeDataChanged), NodeDataChanged);
    check(m);
    r
}

#[test]
fn wire_values() {
    assert_eq!(NodeCreated.as_i32(), 1);
    assert_eq!(NodeDeleted.as_i32(), 2);
    assert_eq!(NodeDataChanged.as_i32(), 3);
    assert_eq!(NodeChildrenChanged.as_i32(), 4);
    assert_eq!(AddWatchMode::from_i32(0), Some(AddWatchMode::Persistent));
    assert_eq!(
        AddWatchMode::from_i32(1),
        Some(AddWatchMode::PersistentRecursive)
    );
    assert_eq!(AddWatchMode::from_i32(2), None);
    assert_eq!(AddWatchMode::from_i32(-1), None);
    let z38 = WatchSemantics::Zk38;
    let z39 = WatchSemantics::Zk39;
    assert_eq!(WatcherType::from_i32(1, z38), Some(WatcherType::Children));
    assert_eq!(WatcherType::from_i32(2, z38), Some(WatcherType::Data));
    assert_eq!(WatcherType::from_i32(3, z38), Some(WatcherType::Any));
    assert_eq!(WatcherType::from_i32(4, z38), None);
    assert_eq!(WatcherType::from_i32(5, z38), None);
    assert_eq!(WatcherType::from_i32(4, z39), Some(WatcherType::Persistent));
    assert_eq!(
        WatcherType::from_i32(5, z39),
        Some(WatcherType::PersistentRecursive)
    );
    assert_eq!(WatcherType::from_i32(0, z39), None);
    assert_eq!(WatcherType::from_i32(6, z39), None);
    assert_eq!(
        WatcherType::PersistentRecursive.name(),
        "PersistentRecursive"
    );
    assert_eq!(WatchSemantics::default(), WatchSemantics::Zk38);
}

#[test]
fn parent_and_ancestors() {
    assert_eq!(parent_path("/a"), "/");
    assert_eq!(parent_path("/a/b"), "/a");
    assert_eq!(parent_path("/a/b/c"), "/a/b");
    assert_eq!(parent_path("/"), "/");
    let v: Vec<&str> = Ancestors::of("/a/b/c").collect();
    assert_eq!(v, ["/a/b", "/a", "/"]);
    assert_eq!(Ancestors::of("/a").collect::<Vec<_>>(), ["/"]);
    assert_eq!(Ancestors::of("/").count(), 0);
    assert_eq!(Ancestors::of("").count(), 0);
    assert_eq!(Ancestors::of("junk").count(), 0);
}

#[test]
fn data_watch_is_one_shot() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        assert!(m.add_data_watch("/a", A));
        assert!(!m.add_data_watch("/a", A), "{sem:?}: second add is no news");
        assert_eq!(m.watch_count(), 1);
        assert_eq!(set_data(&mut m, "/a"), [A]);
        assert_eq!(set_data(&mut m, "/a"), []);
        assert_eq!(m.watch_count(), 0);
        check(&m);
    }
}

#[test]
fn data_watch_events() {
    for sem in BOTH {
        // getData / exists watches see NodeCreated, NodeDataChanged and
        // NodeDeleted on their path, never NodeChildrenChanged.
        let mut m = WatchManager::new(sem);
        m.add_data_watch("/a", A);
        assert_eq!(create(&mut m, "/a/x"), (vec![], vec![]));
        assert_eq!(m.trigger("/a", NodeChildrenChanged), []);
        assert_eq!(create(&mut m, "/a"), (vec![A], vec![]));
        m.add_data_watch("/a", A);
        assert_eq!(delete(&mut m, "/a"), (vec![A], vec![]));
        assert_eq!(m.watch_count(), 0);
    }
}

#[test]
fn child_watch_events() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_child_watch("/a", A);
        // No data-table events reach a child watch.
        assert_eq!(set_data(&mut m, "/a"), []);
        assert_eq!(m.trigger("/a", NodeCreated), []);
        assert_eq!(create(&mut m, "/a/x"), (vec![], vec![A]));
        assert_eq!(create(&mut m, "/a/y"), (vec![], vec![]), "consumed");
        // Deleting the watched node itself reports NodeDeleted.
        m.add_child_watch("/a", A);
        assert_eq!(delete(&mut m, "/a"), (vec![A], vec![]));
        assert_eq!(m.watch_count(), 0);
        // Deleting a child reports NodeChildrenChanged on the parent.
        m.add_child_watch("/a", B);
        assert_eq!(delete(&mut m, "/a/x"), (vec![], vec![B]));
        // Top-level nodes report to "/".
        m.add_child_watch("/", C);
        assert_eq!(create(&mut m, "/top"), (vec![], vec![C]));
    }
}

#[test]
fn delete_with_data_and_child_watch_gives_one_event_and_consumes_both() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_data_watch("/a", A);
        m.add_child_watch("/a", A);
        m.add_child_watch("/a", B);
        m.add_data_watch("/a", C);
        assert_eq!(m.watch_count(), 4);
        let fired = m.trigger("/a", NodeDeleted);
        assert_eq!(
            fired,
            [(A, NodeDeleted), (B, NodeDeleted), (C, NodeDeleted)]
        );
        assert_eq!(m.watch_count(), 0);
        check(&m);
    }
}

#[test]
fn data_and_child_watch_on_create_of_child_and_data_change_are_separate() {
    for sem in BOTH {
        // A watcher with both kinds on one path gets one event per trigger
        // call, so a create under it and a setData on it are two events.
        let mut m = WatchManager::new(sem);
        m.add_data_watch("/a", A);
        m.add_child_watch("/a", A);
        assert_eq!(create(&mut m, "/a/b"), (vec![], vec![A]));
        assert_eq!(set_data(&mut m, "/a"), [A]);
        assert_eq!(m.watch_count(), 0);
    }
}

#[test]
fn many_watchers_sorted_and_unique() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        for i in (0..100).rev() {
            m.add_data_watch("/n", WatcherId(i));
            m.add_data_watch("/n", WatcherId(i));
        }
        let fired = set_data(&mut m, "/n");
        assert_eq!(fired, (0..100).map(WatcherId).collect::<Vec<_>>());
    }
}

#[test]
fn persistent_watch_fires_data_and_child_events_and_stays() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_watch("/p", A, AddWatchMode::Persistent);
        assert_eq!(m.watch_count(), 2, "{sem:?}: one entry in each table");
        assert_eq!(create(&mut m, "/p"), (vec![A], vec![]));
        for _ in 0..3 {
            assert_eq!(set_data(&mut m, "/p"), [A]);
        }
        assert_eq!(create(&mut m, "/p/c"), (vec![], vec![A]));
        assert_eq!(delete(&mut m, "/p/c"), (vec![], vec![A]));
        // Not recursive: grandchildren and children's data are not reported.
        assert_eq!(set_data(&mut m, "/p/c"), []);
        assert_eq!(create(&mut m, "/p/c/d"), (vec![], vec![]));
        // Its own deletion is one event; the watch survives it.
        assert_eq!(delete(&mut m, "/p"), (vec![A], vec![]));
        assert_eq!(create(&mut m, "/p"), (vec![A], vec![]));
        assert_eq!(m.watch_count(), 2);
        // Parent events do not reach it.
        assert_eq!(m.trigger("/", NodeChildrenChanged), []);
    }
}

#[test]
fn recursive_watch_fires_for_descendants_with_actual_path() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
        let expected_count = if sem == WatchSemantics::Zk38 { 2 } else { 1 };
        assert_eq!(m.watch_count(), expected_count, "{sem:?}");
        assert_eq!(create(&mut m, "/r"), (vec![A], vec![]));
        // Children and grandchildren, with the event's own path (the
        // caller sends the path it triggered).
        assert_eq!(create(&mut m, "/r/a"), (vec![A], vec![]));
        assert_eq!(create(&mut m, "/r/a/b"), (vec![A], vec![]));
        assert_eq!(set_data(&mut m, "/r/a/b"), [A]);
        assert_eq!(set_data(&mut m, "/r"), [A]);
        assert_eq!(delete(&mut m, "/r/a/b"), (vec![A], vec![]));
        // Never NodeChildrenChanged, neither for its own path nor below.
        assert_eq!(m.trigger("/r", NodeChildrenChanged), []);
        assert_eq!(m.trigger("/r/a", NodeChildrenChanged), []);
        // Prefix siblings are not descendants.
        assert_eq!(create(&mut m, "/rr"), (vec![], vec![]));
        assert_eq!(set_data(&mut m, "/r2/x"), []);
        // Ancestors of the watched path are not reported.
        assert_eq!(set_data(&mut m, "/"), []);
        assert_eq!(delete(&mut m, "/r"), (vec![A], vec![]));
        assert_eq!(m.watch_count(), expected_count, "persistent");
    }
}

#[test]
fn recursive_on_root_sees_everything() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_watch("/", A, AddWatchMode::PersistentRecursive);
        assert_eq!(create(&mut m, "/x"), (vec![A], vec![]));
        assert_eq!(set_data(&mut m, "/x/y/z"), [A]);
        assert_eq!(set_data(&mut m, "/"), [A]);
    }
}

#[test]
fn recursive_and_one_shot_from_same_watcher_fire_once() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
        m.add_data_watch("/r/x", A);
        m.add_data_watch("/r/x", B);
        assert_eq!(set_data(&mut m, "/r/x"), [A, B]);
        // The one-shot entries are consumed; the recursive one stays.
        assert!(!m.contains_watch("/r/x", WatcherType::Data, A));
        assert_eq!(set_data(&mut m, "/r/x"), [A]);
        // Two recursive watches of one watcher on a chain: still one event.
        m.add_watch("/r/x", A, AddWatchMode::PersistentRecursive);
        assert_eq!(set_data(&mut m, "/r/x/y"), [A]);
        assert_eq!(delete(&mut m, "/r/x/y"), (vec![A], vec![]));
    }
}

#[test]
fn recursive_counter_limits_ancestor_walk() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        assert_eq!(m.recursive_watch_counts(), (0, 0));
        m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
        m.add_watch("/s", A, AddWatchMode::PersistentRecursive);
        m.add_watch("/r", B, AddWatchMode::PersistentRecursive);
        let child = if sem == WatchSemantics::Zk38 { 3 } else { 0 };
        assert_eq!(m.recursive_watch_counts(), (3, child));
        assert!(m.remove_watch("/r", WatcherType::Any, B));
        assert_eq!(m.recursive_watch_counts(), (2, child * 2 / 3));
        m.remove_watcher(A);
        assert_eq!(m.recursive_watch_counts(), (0, 0));
        // Persistent (non-recursive) and one-shot watches never count.
        m.add_watch("/p", A, AddWatchMode::Persistent);
        m.add_data_watch("/p", B);
        assert_eq!(m.recursive_watch_counts(), (0, 0));
        check(&m);
    }
}

#[test]
fn zk38_one_shot_replaces_persistent_in_its_table() {
    let mut m = WatchManager::new(WatchSemantics::Zk38);
    m.add_watch("/p", A, AddWatchMode::Persistent);
    // getData with a watch on the same path: the data entry becomes one-shot.
    assert!(!m.add_data_watch("/p", A));
    assert_eq!(m.data.modes("/p", A), Modes::STANDARD);
    assert_eq!(m.child.modes("/p", A), Modes::PERSISTENT);
    assert_eq!(set_data(&mut m, "/p"), [A]);
    assert_eq!(set_data(&mut m, "/p"), [], "data half is gone");
    assert_eq!(
        create(&mut m, "/p/c"),
        (vec![], vec![A]),
        "child half stays"
    );
    // Now deletion is reported by the child table.
    assert_eq!(delete(&mut m, "/p"), (vec![A], vec![]));
    assert_eq!(delete(&mut m, "/p"), (vec![A], vec![]));

    // And the other way round: a persistent watch upgrades a one-shot one.
    let mut m = WatchManager::new(WatchSemantics::Zk38);
    m.add_data_watch("/q", A);
    m.add_watch("/q", A, AddWatchMode::Persistent);
    assert_eq!(set_data(&mut m, "/q"), [A]);
    assert_eq!(set_data(&mut m, "/q"), [A]);
    // Recursive replaces persistent, and back.
    m.add_watch("/q", A, AddWatchMode::PersistentRecursive);
    assert_eq!(m.recursive_watch_counts(), (1, 1));
    assert_eq!(set_data(&mut m, "/q/x"), [A]);
    m.add_watch("/q", A, AddWatchMode::Persistent);
    assert_eq!(m.recursive_watch_counts(), (0, 0));
    assert_eq!(set_data(&mut m, "/q/x"), []);
    // A one-shot watch replacing a recursive one drops the count.
    m.add_watch("/q", A, AddWatchMode::PersistentRecursive);
    m.add_child_watch("/q", A);
    assert_eq!(m.recursive_watch_counts(), (1, 0));
    assert_eq!(m.watch_count(), 2);
    check(&m);
}

#[test]
fn zk39_modes_accumulate() {
    let mut m = WatchManager::new(WatchSemantics::Zk39);
    m.add_watch("/p", A, AddWatchMode::Persistent);
    assert!(m.add_data_watch("/p", A), "new mode is news in 3.9");
    assert!(!m.add_data_watch("/p", A));
    assert_eq!(m.data.modes("/p", A), Modes(3));
    assert_eq!(m.watch_count(), 2, "entries, not modes");
    assert_eq!(set_data(&mut m, "/p"), [A]);
    assert_eq!(
        m.data.modes("/p", A),
        Modes::PERSISTENT,
        "one-shot consumed"
    );
    assert_eq!(set_data(&mut m, "/p"), [A]);
    m.add_watch("/p", A, AddWatchMode::PersistentRecursive);
    assert_eq!(m.data.modes("/p", A), Modes(6));
    assert_eq!(set_data(&mut m, "/p/x"), [A]);
    assert_eq!(create(&mut m, "/p/y"), (vec![A], vec![A]));
    check(&m);
}

#[test]
fn zk38_remove_watches() {
    let mut m = WatchManager::new(WatchSemantics::Zk38);
    // NoWatcher conditions.
    assert!(!m.remove_watch("/a", WatcherType::Data, A));
    assert!(!m.remove_watch("/a", WatcherType::Any, A));
    m.add_data_watch("/a", A);
    assert!(!m.remove_watch("/a", WatcherType::Children, A));
    assert!(!m.remove_watch("/a", WatcherType::Data, B));
    assert!(!m.remove_watch("/b", WatcherType::Data, A));
    assert!(m.remove_watch("/a", WatcherType::Data, A));
    assert!(!m.remove_watch("/a", WatcherType::Data, A));
    assert_eq!(set_data(&mut m, "/a"), []);

    m.add_child_watch("/a", A);
    m.add_data_watch("/a", A);
    assert!(m.remove_watch("/a", WatcherType::Any, A));
    assert_eq!(m.watch_count(), 0);

    // Persistent watches: Data removes only the data-table half.
    m.add_watch("/p", A, AddWatchMode::Persistent);
    assert!(m.remove_watch("/p", WatcherType::Data, A));
    assert_eq!(set_data(&mut m, "/p"), []);
    assert_eq!(create(&mut m, "/p/c"), (vec![], vec![A]));
    assert!(m.remove_watch("/p", WatcherType::Children, A));
    assert_eq!(m.watch_count(), 0);
    // Any removes both halves; the 3.9-only types do nothing.
    m.add_watch("/p", A, AddWatchMode::PersistentRecursive);
    assert!(!m.remove_watch("/p", WatcherType::Persistent, A));
    assert!(!m.remove_watch("/p", WatcherType::PersistentRecursive, A));
    assert!(m.remove_watch("/p", WatcherType::Any, A));
    assert_eq!(m.watch_count(), 0);
    assert_eq!(m.recursive_watch_counts(), (0, 0));
    check(&m);
    // 3.8 keeps the emptied reverse entry: the watcher still counts as a
    // connection in wchs until it disconnects.
    assert_eq!(m.summary().num_connections, 1);
    m.remove_watcher(A);
    assert_eq!(m.summary().num_connections, 0);
}

#[test]
fn zk39_remove_watches() {
    let mut m = WatchManager::new(WatchSemantics::Zk39);
    m.add_watch("/p", A, AddWatchMode::Persistent);
    // Data / Children only remove one-shot watches.
    assert!(!m.remove_watch("/p", WatcherType::Data, A));
    assert!(!m.remove_watch("/p", WatcherType::Children, A));
    assert!(!m.remove_watch("/p", WatcherType::PersistentRecursive, A));
    m.add_data_watch("/p", A);
    assert!(m.remove_watch("/p", WatcherType::Data, A));
    assert_eq!(m.data.modes("/p", A), Modes::PERSISTENT);
    // Persistent removes the persistent mode from both tables.
    assert!(m.remove_watch("/p", WatcherType::Persistent, A));
    assert_eq!(m.watch_count(), 0);
    assert!(!m.remove_watch("/p", WatcherType::Persistent, A));
    // The emptied watcher no longer counts as a connection.
    assert_eq!(m.summary().num_connections, 0);

    m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
    m.add_data_watch("/r", A);
    assert!(m.remove_watch("/r", WatcherType::PersistentRecursive, A));
    assert_eq!(m.recursive_watch_counts(), (0, 0));
    assert_eq!(m.data.modes("/r", A), Modes::STANDARD);
    m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
    m.add_child_watch("/r", A);
    assert!(m.remove_watch("/r", WatcherType::Any, A));
    assert_eq!(m.watch_count(), 0);
    assert_eq!(m.recursive_watch_counts(), (0, 0));
    assert!(!m.remove_watch("/r", WatcherType::Any, A));
    check(&m);
}

#[test]
fn zk38_check_watches_answers_for_any_watcher() {
    let mut m = WatchManager::new(WatchSemantics::Zk38);
    assert!(!m.contains_watch("/a", WatcherType::Any, A));
    m.add_data_watch("/a", B);
    // The 3.8 quirk: A has no watch, but B's watch makes the answer true.
    assert!(m.contains_watch("/a", WatcherType::Data, A));
    assert!(m.contains_watch("/a", WatcherType::Any, A));
    assert!(!m.contains_watch("/a", WatcherType::Children, A));
    assert!(!m.contains_watch("/a", WatcherType::Persistent, B));
    m.add_child_watch("/c", A);
    assert!(m.contains_watch("/c", WatcherType::Children, A));
    assert!(m.contains_watch("/c", WatcherType::Any, A));
    assert!(!m.contains_watch("/c", WatcherType::Data, A));
    // A recursive watch on an ancestor does not count.
    m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
    assert!(!m.contains_watch("/r/x", WatcherType::Any, A));
    assert!(m.contains_watch("/r", WatcherType::Data, A));
}

#[test]
fn zk39_check_watches_is_per_watcher_and_mode() {
    let mut m = WatchManager::new(WatchSemantics::Zk39);
    m.add_data_watch("/a", B);
    assert!(!m.contains_watch("/a", WatcherType::Data, A));
    assert!(m.contains_watch("/a", WatcherType::Data, B));
    assert!(m.contains_watch("/a", WatcherType::Any, B));
    assert!(!m.contains_watch("/a", WatcherType::Children, B));
    m.add_watch("/p", A, AddWatchMode::Persistent);
    assert!(!m.contains_watch("/p", WatcherType::Data, A));
    assert!(!m.contains_watch("/p", WatcherType::Children, A));
    assert!(m.contains_watch("/p", WatcherType::Persistent, A));
    assert!(!m.contains_watch("/p", WatcherType::PersistentRecursive, A));
    assert!(m.contains_watch("/p", WatcherType::Any, A));
    m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
    assert!(m.contains_watch("/r", WatcherType::PersistentRecursive, A));
    assert!(!m.contains_watch("/r/x", WatcherType::Any, A));
    m.add_child_watch("/c", A);
    assert!(m.contains_watch("/c", WatcherType::Children, A));
}

#[test]
fn remove_watcher_on_disconnect() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_data_watch("/a", A);
        m.add_child_watch("/a", A);
        m.add_data_watch("/a", B);
        m.add_watch("/p", A, AddWatchMode::Persistent);
        m.add_watch("/r", A, AddWatchMode::PersistentRecursive);
        m.remove_watcher(A);
        check(&m);
        assert_eq!(m.watch_count(), 1);
        assert_eq!(m.recursive_watch_counts(), (0, 0));
        assert_eq!(set_data(&mut m, "/a"), [B]);
        assert_eq!(set_data(&mut m, "/r/x"), []);
        m.remove_watcher(A);
        m.remove_watcher(C);
        check(&m);
    }
}

fn tree(nodes: &[(&str, i64, i64, i64)]) -> HashMap<String, NodeZxids> {
    nodes
        .iter()
        .map(|&(p, czxid, mzxid, pzxid)| {
            (
                p.to_string(),
                NodeZxids {
                    czxid,
                    mzxid,
                    pzxid,
                },
            )
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn set_watches_fires_or_registers() {
    for sem in BOTH {
        let t = tree(&[
            ("/same", 5, 10, 10),
            ("/changed", 5, 11, 5),
            ("/kids", 5, 5, 11),
            ("/exists", 12, 12, 12),
        ]);
        let view = |p: &str| t.get(p).copied();
        let data = strings(&["/same", "/changed", "/gone"]);
        let exist = strings(&["/exists", "/absent"]);
        let child = strings(&["/kids", "/same", "/gone2"]);
        let persistent = strings(&["/gone3"]);
        let recursive = strings(&["/changed"]);
        let lists = SetWatchesLists {
            data: &data,
            exist: &exist,
            child: &child,
            persistent: &persistent,
            persistent_recursive: &recursive,
        };
        let mut m = WatchManager::new(sem);
        let events = m.set_watches(10, &lists, A, &view);
        let expected: Vec<(String, EventType)> = vec![
            ("/changed".into(), NodeDataChanged),
            ("/gone".into(), NodeDeleted),
            ("/exists".into(), NodeCreated),
            ("/kids".into(), NodeChildrenChanged),
            ("/gone2".into(), NodeDeleted),
        ];
        assert_eq!(events, expected, "{sem:?}");
        check(&m);
        // Registered: data /same, exist /absent, child /same, persistent
        // /gone3 (even though missing), recursive /changed.
        assert!(m.data.modes("/same", A) == Modes::STANDARD);
        assert!(m.data.modes("/absent", A) == Modes::STANDARD);
        assert!(m.child.modes("/same", A) == Modes::STANDARD);
        assert!(m.data.modes("/gone3", A) == Modes::PERSISTENT);
        assert!(m.child.modes("/gone3", A) == Modes::PERSISTENT);
        assert!(m.data.modes("/changed", A) == Modes::RECURSIVE);
        assert!(m.data.modes("/gone", A).is_none());
        assert!(m.data.modes("/exists", A).is_none());
        assert!(m.child.modes("/kids", A).is_none());
        assert_eq!(create(&mut m, "/absent"), (vec![A], vec![]));
        assert_eq!(set_data(&mut m, "/changed/x"), [A]);
    }
}

#[test]
fn set_watches_boundaries() {
    // Equal zxids do not fire; a zxid one above does.
    let t = tree(&[("/n", 1, 7, 7)]);
    let view = |p: &str| t.get(p).copied();
    let data = strings(&["/n"]);
    let lists = SetWatchesLists {
        data: &data,
        child: &data,
        ..Default::default()
    };
    let mut m = WatchManager::default();
    assert_eq!(m.set_watches(7, &lists, A, &view), []);
    assert_eq!(m.watch_count(), 2);
    let mut m = WatchManager::default();
    assert_eq!(
        m.set_watches(6, &lists, A, &view),
        [
            ("/n".to_string(), NodeDataChanged),
            ("/n".to_string(), NodeChildrenChanged)
        ]
    );
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn reports_cover_data_table_only() {
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        m.add_data_watch("/b", A);
        m.add_data_watch("/a", A);
        m.add_data_watch("/a", B);
        m.add_child_watch("/c", C);
        assert_eq!(m.watch_count(), 4);
        let s = m.summary();
        assert_eq!(
            s,
            WatchesSummary {
                num_connections: 2,
                num_paths: 2,
                total_watches: 3
            }
        );
        assert_eq!(
            s.format_4lw(),
            "2 connections watching 2 paths\nTotal watches:3\n"
        );
        let by_w = m.watches_by_watcher();
        assert_eq!(
            by_w.0,
            vec![
                (A, vec!["/a".to_string(), "/b".to_string()]),
                (B, vec!["/a".to_string()])
            ]
        );
        let session = |w: WatcherId| 0x100 + w.0 as i64;
        assert_eq!(
            by_w.format_4lw(session),
            "0x101\n\t/a\n\t/b\n0x102\n\t/a\n\n"
        );
        let by_p = m.watches_by_path();
        assert_eq!(
            by_p.0,
            vec![("/a".to_string(), vec![A, B]), ("/b".to_string(), vec![A])]
        );
        assert_eq!(
            by_p.format_4lw(session),
            "/a\n\t0x101\n\t0x102\n/b\n\t0x101\n\n"
        );
        // After B's only watch fires, B still shows up (empty) until it
        // disconnects, as in ZooKeeper.
        m.trigger("/a", NodeDataChanged);
        assert_eq!(m.summary().num_connections, 2);
        assert_eq!(m.summary().total_watches, 1);
        assert_eq!(
            m.watches_by_watcher().format_4lw(session),
            "0x101\n\t/b\n0x102\n\n"
        );
        m.remove_watcher(B);
        assert_eq!(m.summary().num_connections, 1);
    }
}

#[test]
fn report_formats_negative_session_as_unsigned_hex() {
    let r = WatchesByPath(vec![("/x".into(), vec![A])]);
    assert_eq!(r.format_4lw(|_| -1), "/x\n\t0xffffffffffffffff\n\n");
    let empty = WatchesByWatcher::default();
    assert_eq!(empty.format_4lw(|_| 0), "\n");
}

#[test]
fn randomized_consistency() {
    // A small deterministic pseudo-random walk over every operation, checking
    // the indexes and counters after each step.
    let paths = ["/", "/a", "/a/b", "/a/b/c", "/d", "/d/e"];
    let kinds = [
        WatcherType::Children,
        WatcherType::Data,
        WatcherType::Any,
        WatcherType::Persistent,
        WatcherType::PersistentRecursive,
    ];
    for sem in BOTH {
        let mut m = WatchManager::new(sem);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = paths[(x % 6) as usize];
            let w = WatcherId((x >> 8) % 4);
            match (x >> 16) % 10 {
                0 => {
                    m.add_data_watch(p, w);
                }
                1 => {
                    m.add_child_watch(p, w);
                }
                2 => m.add_watch(p, w, AddWatchMode::Persistent),
                3 => m.add_watch(p, w, AddWatchMode::PersistentRecursive),
                4 => {
                    create(&mut m, p);
                }
                5 => {
                    delete(&mut m, p);
                }
                6 => {
                    set_data(&mut m, p);
                }
                7 => {
                    m.remove_watch(p, kinds[((x >> 24) % 5) as usize], w);
                }
                8 => m.remove_watcher(w),
                _ => {
                    m.contains_watch(p, kinds[((x >> 24) % 5) as usize], w);
                }
            }
            check(&m);
        }
    }
}

#[test]
fn jute_conversions() {
    use jute::consts as jc;
    for (ours, theirs) in [
        (NodeCreated, jc::EventType::NodeCreated),
        (NodeDeleted, jc::EventType::NodeDeleted),
        (NodeDataChanged, jc::EventType::NodeDataChanged),
        (NodeChildrenChanged, jc::EventType::NodeChildrenChanged),
    ] {
        assert_eq!(jc::EventType::from(ours), theirs);
        assert_eq!(ours.as_i32(), theirs.code());
    }
    assert_eq!(
        AddWatchMode::from_jute(jc::AddWatchMode::Persistent),
        AddWatchMode::Persistent
    );
    assert_eq!(
        AddWatchMode::from_jute(jc::AddWatchMode::PersistentRecursive),
        AddWatchMode::PersistentRecursive
    );
    for t in [
        WatcherType::Children,
        WatcherType::Data,
        WatcherType::Any,
        WatcherType::Persistent,
        WatcherType::PersistentRecursive,
    ] {
        let code = t as i32;
        assert_eq!(jc::WatcherType::try_from(code).map(|j| j.code()), Ok(code));
        assert_eq!(WatcherType::from_i32(code, WatchSemantics::Zk39), Some(t));
    }
}
