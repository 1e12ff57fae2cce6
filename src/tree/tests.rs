//! Tests of the data tree against ZooKeeper's DataTree rules.
//!
//! `testdata/zk_scenario.txt` is the output of a small Java driver run against the real
//! `org.apache.zookeeper.server.DataTree` of ZooKeeper 3.8.0 (Debian's libzookeeper-java);
//! `golden_scenario_matches_zookeeper` replays the same calls here and must print the same
//! text. The scenario avoids the one DataTree difference between 3.8.0 and current 3.8.x
//! (3.8.0 did not overwrite the ACL of an existing node on NodeExists).

use super::*;

const OPEN: AclRef = AclRef(2); // the id 3.8's ACL cache gives OPEN_ACL_UNSAFE as a list
const READ: AclRef = AclRef::FRESH_READ_ACL_UNSAFE;

fn tree() -> DataTree {
    DataTree::default()
}

fn ttl_tree() -> DataTree {
    let cfg = TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    };
    DataTree::new(cfg, READ)
}

fn stat(t: &DataTree, path: &str) -> Stat {
    t.node_stat(t.lookup(path).unwrap_or_else(|| panic!("{path} missing")))
}

fn pstat(t: &DataTree, path: &str) -> StatPersisted {
    t.node_stat_persisted(t.lookup(path).unwrap_or_else(|| panic!("{path} missing")))
}

fn data(t: &DataTree, path: &str) -> Option<Vec<u8>> {
    t.node_data(t.lookup(path).unwrap()).map(<[u8]>::to_vec)
}

fn mk(t: &mut DataTree, path: &str, zxid: i64) -> NodeId {
    t.create_node(path, Some(b"v".to_vec()), OPEN, 0, -1, zxid, zxid * 100)
        .unwrap()
}

fn ok(t: &DataTree) {
    if let Err(e) = t.check_invariants() {
        panic!("invariant violated: {e}");
    }
}

// ----------------------------------------------------------------------------------------
// Golden comparison with ZooKeeper 3.8
// ----------------------------------------------------------------------------------------

fn java_err(e: TreeError) -> &'static str {
    match e {
        TreeError::NoNode => "NoNodeException",
        TreeError::NodeExists => "NodeExistsException",
        TreeError::NotEmpty => "NotEmptyException",
        TreeError::InvalidPath => "InvalidPath",
        TreeError::Full => "Full",
    }
}

fn dump(t: &DataTree, tag: &str, out: &mut String) {
    let sessions: Vec<String> = t.ephemeral_sessions().iter().map(i64::to_string).collect();
    out.push_str(&format!(
        "== {tag} digest={} approx={} recomputed={} count={} all(/)={} all(/a)={} eph={} sessions=[{}] containers=[{}] ttls=[{}]\n",
        t.digest(),
        t.approximate_data_size(),
        t.compute_approximate_data_size(),
        t.node_count(),
        t.get_all_children_number("/"),
        t.get_all_children_number("/a"),
        t.ephemerals_count(),
        sessions.join(", "),
        t.containers().join(", "),
        t.ttls().join(", "),
    ));
    walk(t, "/", out);
}

fn walk(t: &DataTree, path: &str, out: &mut String) {
    let id = t.lookup(path).unwrap();
    let p = t.node_stat_persisted(id);
    let s = t.node_stat(id);
    let d = match t.node_data(id) {
        None => "null".to_owned(),
        Some(d) => format!("'{}'", String::from_utf8_lossy(d)),
    };
    out.push_str(&format!(
        "{path} data={d} acl={} P[{},{},{},{},{},{},{},{},{}] S[{},{},{},{}]\n",
        t.node_acl(id).0,
        p.czxid,
        p.mzxid,
        p.ctime,
        p.mtime,
        p.version,
        p.cversion,
        p.aversion,
        p.ephemeral_owner,
        p.pzxid,
        s.cversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children
    ));
    let mut kids: Vec<&str> = t.child_names(id).collect();
    kids.sort_unstable();
    for k in kids {
        let child = if path == "/" {
            format!("/{k}")
        } else {
            format!("{path}/{k}")
        };
        walk(t, &child, out);
    }
}

fn record<T>(out: &mut String, what: &str, r: Result<T, TreeError>) {
    let res = match r {
        Ok(_) => "ok",
        Err(e) => java_err(e),
    };
    out.push_str(&format!("{what}: {res}\n"));
}

#[test]
fn golden_scenario_matches_zookeeper() {
    let mut t = tree();
    let mut out = String::new();
    let b = |s: &str| Some(s.as_bytes().to_vec());
    dump(&t, "fresh", &mut out);
    record(
        &mut out,
        "create /a",
        t.create_node("/a", b("hello"), OPEN, 0, -1, 10, 1000),
    );
    record(
        &mut out,
        "create /a/b",
        t.create_node("/a/b", None, OPEN, 0, -1, 11, 1001),
    );
    record(
        &mut out,
        "create /a/c",
        t.create_node("/a/c", b(""), OPEN, 0x100, -1, 12, 1002),
    );
    record(
        &mut out,
        "create /a/d",
        t.create_node("/a/d", b("x"), READ, i64::MIN, 5, 13, 1003),
    );
    record(
        &mut out,
        "create /a/e",
        t.create_node("/a/e", b("yy"), OPEN, 0x200, 2, 14, 1004),
    );
    record(
        &mut out,
        "create /a/e again",
        t.create_node("/a/e", b("zz"), OPEN, 0, -1, 15, 1005),
    );
    record(
        &mut out,
        "create /nope/x",
        t.create_node("/nope/x", None, OPEN, 0, -1, 15, 1005),
    );
    dump(&t, "after creates", &mut out);
    record(&mut out, "delete /a/b", t.delete_node("/a/b", 16));
    record(&mut out, "delete /a/zz", t.delete_node("/a/zz", 17));
    record(&mut out, "delete /a/e old zxid", t.delete_node("/a/e", 3));
    record(
        &mut out,
        "setData /a",
        t.set_data("/a", b("world!"), 1, 18, 2000),
    );
    record(
        &mut out,
        "setData /a/d null",
        t.set_data("/a/d", None, 7, 19, 2001),
    );
    record(&mut out, "setACL /a", t.set_acl("/a", READ, 1));
    record(
        &mut out,
        "setCversionPzxid /a/",
        t.set_cversion_pzxid("/a/", -1, 20),
    );
    record(
        &mut out,
        "setCversionPzxid /a low",
        t.set_cversion_pzxid("/a", 1, 21),
    );
    dump(&t, "after mutations", &mut out);
    t.kill_session(0x100, 22, None);
    out.push_str("killSession 0x100: ok\n");
    let q = "/zookeeper/quota/a";
    record(
        &mut out,
        "create /q1",
        t.create_node(q, None, OPEN, 0, -1, 24, 1007),
    );
    record(
        &mut out,
        "create limits",
        t.create_node(
            &format!("{q}/zookeeper_limits"),
            b("count=10,bytes=-1"),
            OPEN,
            0,
            -1,
            25,
            1008,
        ),
    );
    record(
        &mut out,
        "create stats",
        t.create_node(
            &format!("{q}/zookeeper_stats"),
            b("count=0,bytes=0"),
            OPEN,
            0,
            -1,
            26,
            1009,
        ),
    );
    record(
        &mut out,
        "create /a/f",
        t.create_node("/a/f", b("12345"), OPEN, 0, -1, 27, 1010),
    );
    record(
        &mut out,
        "setData /a/d",
        t.set_data("/a/d", b("abc"), 8, 28, 2002),
    );
    record(&mut out, "delete /a/f", t.delete_node("/a/f", 29));
    record(
        &mut out,
        "setData /zookeeper/config",
        t.set_data(CONFIG_NODE, b("server.1=x"), -1, 30, 2003),
    );
    record(
        &mut out,
        "setData /zookeeper",
        t.set_data("/zookeeper", b("p"), 1, 31, 2004),
    );
    record(
        &mut out,
        "setData /",
        t.set_data("/", b("root"), 1, 32, 2005),
    );
    dump(&t, "after quota", &mut out);
    record(
        &mut out,
        "delete limits",
        t.delete_node(&format!("{q}/zookeeper_limits"), 33),
    );
    record(
        &mut out,
        "create /a/g",
        t.create_node("/a/g", b("1"), OPEN, 0, -1, 34, 1011),
    );
    dump(&t, "end", &mut out);
    ok(&t);

    let expected = include_str!("testdata/zk_scenario.txt");
    for (i, (got, want)) in out.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "line {} differs", i + 1);
    }
    assert_eq!(out.lines().count(), expected.lines().count());
}

#[test]
fn node_digest_matches_zookeeper() {
    // Values printed by DigestCalculator.calculateDigest in ZooKeeper 3.8.
    assert_eq!(
        node_digest("/a", Some(b"x"), &StatPersisted::new_for_create(5, 6, 7)),
        329398815
    );
    assert_eq!(node_digest("/", None, &StatPersisted::default()), 68323592);
    assert_eq!(
        node_digest("", Some(b""), &StatPersisted::default()),
        68323592
    );
    assert_eq!(
        node_digest("/zookeeper/quota", None, &StatPersisted::default()),
        0
    );
    assert_ne!(
        node_digest("/zookeeper", None, &StatPersisted::default()),
        0
    );
}

// ----------------------------------------------------------------------------------------
// Initial tree
// ----------------------------------------------------------------------------------------

#[test]
fn fresh_tree_matches_zookeeper_constructor() {
    let t = tree();
    ok(&t);
    assert_eq!(t.znode_count(), 4);
    assert_eq!(t.node_count(), 5);
    assert_eq!(t.approximate_data_size(), 44);
    assert_eq!(t.get_all_children_number("/"), 3);
    assert_eq!(t.get_all_children_number(""), 4);
    assert_eq!(t.get_all_children_number("/zookeeper"), 2);
    assert_eq!(t.get_all_children_number("/nope"), 0);
    assert_eq!(t.digest(), 1371985504);
    for p in ["/", "/zookeeper", "/zookeeper/quota", CONFIG_NODE] {
        assert_eq!(data(&t, p), Some(vec![]), "{p} data is empty, not null");
    }
    let root = stat(&t, "/");
    assert_eq!(
        (root.cversion, root.num_children, root.pzxid, root.czxid),
        (-1, 1, 0, 0)
    );
    assert_eq!(stat(&t, "/zookeeper").cversion, -2);
    let cfg = pstat(&t, CONFIG_NODE);
    assert_eq!(
        cfg,
        StatPersisted {
            aversion: -1,
            ..StatPersisted::default()
        }
    );
    assert_eq!(t.node_acl(t.lookup(CONFIG_NODE).unwrap()), READ);
    assert_eq!(t.node_acl(NodeId::ROOT), AclRef::OPEN_ACL_UNSAFE);
    assert_eq!(
        t.node_acl(t.lookup("/zookeeper/quota").unwrap()),
        AclRef::OPEN_ACL_UNSAFE
    );
    let mut names: Vec<&str> = t.child_names(t.lookup("/zookeeper").unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["config", "quota"]);
    assert!(DataTree::is_special_path("/zookeeper/config"));
    assert!(!DataTree::is_special_path("/zookeeper/x"));
}

#[test]
fn add_config_node_recreates_it() {
    let mut t = tree();
    t.set_data(CONFIG_NODE, Some(b"x".to_vec()), 3, 9, 9)
        .unwrap();
    t.add_config_node(AclRef(7));
    assert_eq!(data(&t, CONFIG_NODE), Some(vec![]));
    assert_eq!(
        pstat(&t, CONFIG_NODE),
        StatPersisted {
            aversion: -1,
            ..Default::default()
        }
    );
    assert_eq!(t.node_acl(t.lookup(CONFIG_NODE).unwrap()), AclRef(7));
    ok(&t);
}

#[test]
fn tree_can_move_to_its_owning_task() {
    fn is_send<T: Send>() {}
    is_send::<DataTree>();
}

#[test]
fn slot_is_packed() {
    assert_eq!(std::mem::size_of::<Option<node::Node>>(), 88);
}

// ----------------------------------------------------------------------------------------
// create
// ----------------------------------------------------------------------------------------

#[test]
fn create_sets_every_stat_field() {
    let mut t = tree();
    let id = t
        .create_node("/a", Some(b"hello".to_vec()), OPEN, 0, -1, 0x10, 1234)
        .unwrap();
    assert_eq!(t.lookup("/a"), Some(id));
    assert_eq!(
        t.node_stat(id),
        Stat {
            czxid: 0x10,
            mzxid: 0x10,
            ctime: 1234,
            mtime: 1234,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            data_length: 5,
            num_children: 0,
            pzxid: 0x10,
        }
    );
    let root = pstat(&t, "/");
    assert_eq!((root.cversion, root.pzxid), (1, 0x10));
    assert_eq!(stat(&t, "/").cversion, 0); // 2*1 - 2 children
    assert_eq!(t.node_acl(id), OPEN);
    assert_eq!(t.approximate_data_size(), 44 + 2 + 5);
    ok(&t);
}

#[test]
fn create_parent_cversion_rules() {
    let mut t = tree();
    mk(&mut t, "/p", 1);
    // explicit cversion larger than current: taken, with pzxid
    t.create_node("/p/a", None, OPEN, 0, 7, 2, 0).unwrap();
    assert_eq!((pstat(&t, "/p").cversion, pstat(&t, "/p").pzxid), (7, 2));
    // smaller or equal: neither cversion nor pzxid moves
    t.create_node("/p/b", None, OPEN, 0, 7, 3, 0).unwrap();
    t.create_node("/p/c", None, OPEN, 0, 4, 4, 0).unwrap();
    assert_eq!((pstat(&t, "/p").cversion, pstat(&t, "/p").pzxid), (7, 2));
    // -1: current + 1
    t.create_node("/p/d", None, OPEN, 0, -1, 5, 0).unwrap();
    assert_eq!((pstat(&t, "/p").cversion, pstat(&t, "/p").pzxid), (8, 5));
    assert_eq!(stat(&t, "/p").cversion, 16 - 4);
    ok(&t);
}

#[test]
fn create_cversion_overflow_wraps_like_java() {
    let mut t = tree();
    mk(&mut t, "/p", 1);
    t.set_cversion_pzxid("/p", i32::MAX, 2).unwrap();
    // prep would send i32::MAX + 1 == i32::MIN; -1 means the same here. Neither is larger.
    t.create_node("/p/a", None, OPEN, 0, -1, 3, 0).unwrap();
    t.create_node("/p/b", None, OPEN, 0, i32::MIN, 4, 0)
        .unwrap();
    let p = pstat(&t, "/p");
    assert_eq!((p.cversion, p.pzxid), (i32::MAX, 2));
    assert_eq!(
        stat(&t, "/p").cversion,
        i32::MAX.wrapping_mul(2).wrapping_sub(2)
    );
    assert_eq!(sequential_path("/p/s-", p.cversion), "/p/s-2147483647");
}

#[test]
fn create_errors() {
    let mut t = tree();
    mk(&mut t, "/a", 1);
    let before = pstat(&t, "/");
    assert_eq!(
        t.create_node("/x/y", None, OPEN, 0, -1, 2, 0),
        Err(TreeError::NoNode)
    );
    assert_eq!(
        t.create_node("nope", None, OPEN, 0, -1, 2, 0),
        Err(TreeError::NoNode)
    );
    assert_eq!(
        t.create_node("/a/", None, OPEN, 0, -1, 2, 0),
        Err(TreeError::InvalidPath)
    );
    // NodeExists overwrites the existing node's ACL and nothing else (ZOOKEEPER-4846).
    assert_eq!(
        t.create_node("/a", None, AclRef(9), 0, -1, 2, 0),
        Err(TreeError::NodeExists)
    );
    assert_eq!(t.node_acl(t.lookup("/a").unwrap()), AclRef(9));
    assert_eq!(data(&t, "/a"), Some(b"v".to_vec()));
    assert_eq!(pstat(&t, "/"), before);
    // "/" is found as an existing node: the root.
    assert_eq!(
        t.create_node("/", None, AclRef(5), 0, -1, 2, 0),
        Err(TreeError::NodeExists)
    );
    assert_eq!(t.node_acl(NodeId::ROOT), AclRef(5));
    ok(&t);
}

#[test]
fn null_and_empty_data_are_distinct() {
    let mut t = tree();
    t.create_node("/n", None, OPEN, 0, -1, 1, 0).unwrap();
    t.create_node("/e", Some(vec![]), OPEN, 0, -1, 2, 0)
        .unwrap();
    assert_eq!(data(&t, "/n"), None);
    assert_eq!(data(&t, "/e"), Some(vec![]));
    assert_eq!(stat(&t, "/n").data_length, 0);
    t.set_data("/e", None, 1, 3, 0).unwrap();
    t.set_data("/n", Some(vec![]), 1, 4, 0).unwrap();
    assert_eq!(data(&t, "/e"), None);
    assert_eq!(data(&t, "/n"), Some(vec![]));
    assert_eq!(t.node_name(t.lookup("/n").unwrap()), "n");
    ok(&t);
}

// ----------------------------------------------------------------------------------------
// delete
// ----------------------------------------------------------------------------------------

#[test]
fn delete_updates_parent_like_zookeeper() {
    let mut t = tree();
    mk(&mut t, "/p", 1);
    mk(&mut t, "/p/a", 2);
    mk(&mut t, "/p/b", 3);
    assert_eq!(stat(&t, "/p").cversion, 2);
    assert_eq!(t.delete_node("/p/a", 10), Ok(OPEN));
    let p = pstat(&t, "/p");
    assert_eq!(
        (p.cversion, p.pzxid),
        (2, 10),
        "persisted cversion unchanged, pzxid = zxid"
    );
    let s = stat(&t, "/p");
    assert_eq!(
        (s.cversion, s.num_children),
        (3, 1),
        "visible cversion counts the delete"
    );
    assert!(t.lookup("/p/a").is_none());
    // an older zxid never lowers pzxid
    t.delete_node("/p/b", 5).unwrap();
    assert_eq!(pstat(&t, "/p").pzxid, 10);
    assert_eq!(stat(&t, "/p").cversion, 4);
    assert_eq!(t.approximate_data_size(), 44 + 2 + 1);
    ok(&t);
}

#[test]
fn delete_errors() {
    let mut t = tree();
    mk(&mut t, "/p", 1);
    mk(&mut t, "/p/c", 2);
    assert_eq!(t.delete_node("/x/y", 3), Err(TreeError::NoNode));
    // missing child: NoNode, yet the parent's pzxid was already bumped (as in ZooKeeper)
    assert_eq!(t.delete_node("/p/zz", 7), Err(TreeError::NoNode));
    assert_eq!(pstat(&t, "/p").pzxid, 7);
    // node with children: refused after the parent update, nothing removed
    assert_eq!(t.delete_node("/p", 8), Err(TreeError::NotEmpty));
    assert_eq!(pstat(&t, "/").pzxid, 8);
    assert!(t.lookup("/p/c").is_some());
    assert_eq!(t.delete_node("/", 9), Err(TreeError::InvalidPath));
    assert_eq!(t.delete_node("", 9), Err(TreeError::NoNode));
    ok(&t);
}

#[test]
fn arena_slots_are_reused() {
    let mut t = tree();
    let a = mk(&mut t, "/a", 1);
    let b = mk(&mut t, "/b", 2);
    t.delete_node("/a", 3).unwrap();
    t.delete_node("/b", 4).unwrap();
    assert!(!t.contains(a) && !t.contains(b));
    let c = mk(&mut t, "/c", 5);
    let d = mk(&mut t, "/d", 6);
    assert_eq!((c, d), (b, a), "free list is LIFO");
    assert_eq!(t.path_of(c), "/c");
    assert_eq!(t.znode_count(), 6);
    ok(&t);
}

#[test]
fn big_fanout_shrinks_after_deletes() {
    let mut t = tree();
    mk(&mut t, "/f", 1);
    for i in 0..2000 {
        mk(&mut t, &format!("/f/n{i}"), 10 + i);
    }
    assert_eq!(t.num_children(t.lookup("/f").unwrap()), 2000);
    for i in 0..1990 {
        t.delete_node(&format!("/f/n{i}"), 5000 + i).unwrap();
    }
    let f = t.lookup("/f").unwrap();
    let cap = t.slot(f.0).kids.as_ref().unwrap().table.capacity();
    assert!(cap < 100, "table shrank to {cap}");
    for i in 1990..2000 {
        assert!(t.lookup(&format!("/f/n{i}")).is_some());
    }
    for i in 1990..2000 {
        t.delete_node(&format!("/f/n{i}"), 9000 + i).unwrap();
    }
    assert_eq!(t.slot(f.0).kids.as_ref().unwrap().table.capacity(), 0);
    ok(&t);
    t.check_zxid_invariants().unwrap();
}

// ----------------------------------------------------------------------------------------
// setData / setACL / setCversionPzxid
// ----------------------------------------------------------------------------------------

#[test]
fn set_data_transitions() {
    let mut t = tree();
    t.create_node("/a", Some(b"12".to_vec()), OPEN, 0, -1, 5, 500)
        .unwrap();
    mk(&mut t, "/a/k", 6);
    let s = t
        .set_data("/a", Some(b"12345".to_vec()), 1, 9, 900)
        .unwrap();
    assert_eq!(s, stat(&t, "/a"));
    assert_eq!(
        (s.czxid, s.ctime, s.mzxid, s.mtime, s.version),
        (5, 500, 9, 900, 1)
    );
    assert_eq!(
        (
            s.data_length,
            s.num_children,
            s.pzxid,
            s.cversion,
            s.aversion
        ),
        (5, 1, 6, 1, 0)
    );
    assert_eq!(data(&t, "/a"), Some(b"12345".to_vec()));
    assert_eq!(
        t.lookup("/a/k").map(|k| t.path_of(k)).as_deref(),
        Some("/a/k")
    );
    assert_eq!(t.approximate_data_size(), 44 + (2 + 5) + (4 + 1));
    assert_eq!(t.set_data("/zz", None, 1, 10, 0), Err(TreeError::NoNode));
    ok(&t);
}

#[test]
fn set_acl_transitions() {
    let mut t = tree();
    mk(&mut t, "/a", 1);
    let d0 = t.digest();
    let (s, old) = t.set_acl("/a", AclRef(42), 3).unwrap();
    assert_eq!(old, OPEN);
    assert_eq!(s.aversion, 3);
    assert_eq!(s.mzxid, 1);
    assert_eq!(t.node_acl(t.lookup("/a").unwrap()), AclRef(42));
    assert_ne!(t.digest(), d0, "aversion is part of the digest");
    assert_eq!(t.set_acl("/b", OPEN, 1), Err(TreeError::NoNode));
    ok(&t);
}

#[test]
fn set_cversion_pzxid_rules() {
    let mut t = tree();
    mk(&mut t, "/a", 1);
    t.set_cversion_pzxid("/a/", -1, 5).unwrap();
    assert_eq!((pstat(&t, "/a").cversion, pstat(&t, "/a").pzxid), (1, 5));
    t.set_cversion_pzxid("/a", 1, 6).unwrap();
    assert_eq!(pstat(&t, "/a").pzxid, 5);
    t.set_cversion_pzxid("/a", 4, 7).unwrap();
    assert_eq!((pstat(&t, "/a").cversion, pstat(&t, "/a").pzxid), (4, 7));
    assert_eq!(t.set_cversion_pzxid("/b", 1, 1), Err(TreeError::NoNode));
    // "" + "/" stripping: "/" names the root
    t.set_cversion_pzxid("/", -1, 8).unwrap();
    assert_eq!(pstat(&t, "/").pzxid, 8);
    ok(&t);
}

// ----------------------------------------------------------------------------------------
// Sequential names
// ----------------------------------------------------------------------------------------

#[test]
fn sequential_suffix_formats_like_java() {
    assert_eq!(sequential_path("/a/s-", 0), "/a/s-0000000000");
    assert_eq!(sequential_path("/a/s-", 42), "/a/s-0000000042");
    assert_eq!(sequential_path("/a/", 1234567890), "/a/1234567890");
    assert_eq!(sequential_path("/a/", -5), "/a/-000000005");
    assert_eq!(sequential_path("/a/", i32::MIN), "/a/-2147483648");
}

#[test]
fn sequential_flow_uses_persisted_cversion() {
    // What prep does: suffix = parent's persisted cversion, txn parent_cversion = +1.
    let mut t = tree();
    mk(&mut t, "/q", 1);
    let create_seq = |t: &mut DataTree, zxid| {
        let cv = pstat(t, "/q").cversion;
        let p = sequential_path("/q/job-", cv);
        t.create_node(&p, None, OPEN, 0, cv + 1, zxid, 0).unwrap();
        p
    };
    assert_eq!(create_seq(&mut t, 2), "/q/job-0000000000");
    assert_eq!(create_seq(&mut t, 3), "/q/job-0000000001");
    t.delete_node("/q/job-0000000000", 4).unwrap();
    // deletes do not advance the persisted cversion, so the next suffix is 2
    assert_eq!(create_seq(&mut t, 5), "/q/job-0000000002");
    assert_eq!(stat(&t, "/q").cversion, 4);
    ok(&t);
    t.check_zxid_invariants().unwrap();
}

// ----------------------------------------------------------------------------------------
// Ephemerals and sessions
// ----------------------------------------------------------------------------------------

#[test]
fn ephemeral_index_and_kill_session() {
    let mut t = tree();
    mk(&mut t, "/e", 1);
    let s1 = 0x1000_0000_0000_0001_i64;
    let s2 = 0x1000_0000_0000_0002_i64;
    t.create_node("/e/b", None, OPEN, s1, -1, 2, 0).unwrap();
    t.create_node("/e/a", None, AclRef(3), s1, -1, 3, 0)
        .unwrap();
    t.create_node("/e/c", None, OPEN, s2, -1, 4, 0).unwrap();
    t.create_node("/top", None, OPEN, s1, -1, 5, 0).unwrap();
    assert_eq!(t.ephemerals(s1), ["/e/a", "/e/b", "/top"]);
    assert_eq!(t.ephemeral_sessions(), [s1, s2]);
    assert_eq!(t.ephemerals_count(), 4);
    assert_eq!(stat(&t, "/e/c").ephemeral_owner, s2);
    ok(&t);

    // an individually deleted ephemeral leaves its session's (maybe empty) entry
    t.delete_node("/e/c", 6).unwrap();
    assert_eq!(t.ephemeral_sessions(), [s1, s2]);
    assert!(t.ephemerals(s2).is_empty());

    let removed = t.kill_session(s1, 7, None);
    let paths: Vec<&str> = removed.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/top", "/e/b", "/e/a"]);
    assert_eq!(removed[2].acl, AclRef(3));
    assert_eq!(t.ephemeral_sessions(), [s2]);
    assert!(t.lookup("/e/a").is_none() && t.lookup("/top").is_none());
    assert_eq!(pstat(&t, "/e").pzxid, 7);
    assert_eq!(pstat(&t, "/").pzxid, 7);
    assert!(t.kill_session(s1, 8, None).is_empty());
    ok(&t);
    assert_eq!(
        t.dump_ephemerals(),
        "Sessions with Ephemerals (1):\n0x1000000000000002:\n"
    );
}

#[test]
fn kill_session_with_txn_paths() {
    let mut t = tree();
    let s = 0x77;
    for p in ["/a", "/b", "/c"] {
        t.create_node(p, None, OPEN, s, -1, 1, 0).unwrap();
    }
    mk(&mut t, "/other", 2);
    let txn = vec!["/c".to_owned(), "/gone".to_owned(), "/other".to_owned()];
    let removed = t.kill_session(s, 9, Some(&txn));
    let paths: Vec<&str> = removed.iter().map(|r| r.path.as_str()).collect();
    // txn order first (a listed persistent node is deleted too; missing paths skipped),
    // then the index's remaining paths
    assert_eq!(paths, ["/c", "/other", "/b", "/a"]);
    assert_eq!(t.znode_count(), 4);
    ok(&t);
}

#[test]
fn dump_ephemerals_format() {
    let mut t = tree();
    t.create_node("/x", None, OPEN, -5, -1, 1, 0).unwrap();
    t.create_node("/y", None, OPEN, 0x2a, -1, 2, 0).unwrap();
    assert_eq!(
        t.dump_ephemerals(),
        "Sessions with Ephemerals (2):\n0xfffffffffffffffb:\n\t/x\n0x2a:\n\t/y\n"
    );
    assert_eq!(
        t.all_ephemerals(),
        vec![(-5, vec!["/x".to_owned()]), (0x2a, vec!["/y".to_owned()])]
    );
}

// ----------------------------------------------------------------------------------------
// Containers and TTL nodes
// ----------------------------------------------------------------------------------------

#[test]
fn container_candidates() {
    let mut t = tree();
    t.create_node("/c", None, OPEN, CONTAINER_EPHEMERAL_OWNER, -1, 1, 1000)
        .unwrap();
    t.create_node("/d", None, OPEN, CONTAINER_EPHEMERAL_OWNER, -1, 2, 1000)
        .unwrap();
    assert_eq!(stat(&t, "/c").ephemeral_owner, 0, "containers show owner 0");
    assert_eq!(t.containers(), ["/c", "/d"]);
    assert!(t.ephemeral_sessions().is_empty());
    // never used: not a candidate unless maxNeverUsedIntervalMs says so
    assert!(t.expiry_candidates(10_000, 0).is_empty());
    assert_eq!(t.expiry_candidates(10_000, 8_999), ["/c", "/d"]);
    assert!(
        t.expiry_candidates(10_000, 9_000).is_empty(),
        "strictly greater"
    );
    // used: a candidate once empty again
    mk(&mut t, "/c/x", 3);
    assert!(t.expiry_candidates(10_000, 0).is_empty());
    t.delete_node("/c/x", 4).unwrap();
    assert_eq!(t.expiry_candidates(10_000, 0), ["/c"]);
    t.delete_node("/c", 5).unwrap();
    assert_eq!(t.containers(), ["/d"]);
    ok(&t);
}

#[test]
fn ttl_candidates() {
    let mut t = ttl_tree();
    let owner = EphemeralType::ttl_owner(1000).unwrap();
    assert_eq!(owner as u64, 0xff00_0000_0000_03e8);
    t.create_node("/t", None, OPEN, owner, -1, 1, 5000).unwrap();
    t.create_node("/u", None, OPEN, owner, -1, 2, 5000).unwrap();
    mk(&mut t, "/u/kid", 3);
    assert_eq!(t.ttls(), ["/t", "/u"]);
    assert_eq!(stat(&t, "/t").ephemeral_owner, 0);
    assert!(
        t.expiry_candidates(6000, 0).is_empty(),
        "elapsed == ttl is not expired"
    );
    assert_eq!(
        t.expiry_candidates(6001, 0),
        ["/t"],
        "nodes with children never expire"
    );
    // setData refreshes mtime
    t.set_data("/t", None, 1, 4, 5500).unwrap();
    assert!(t.expiry_candidates(6001, 0).is_empty());
    t.delete_node("/t", 5).unwrap();
    assert_eq!(t.ttls(), ["/u"]);
    ok(&t);
}

#[test]
fn ttl_owner_without_extended_types_is_a_session() {
    let mut t = tree();
    let owner = EphemeralType::ttl_owner(1000).unwrap();
    t.create_node("/t", None, OPEN, owner, -1, 1, 0).unwrap();
    assert!(t.ttls().is_empty());
    assert_eq!(t.ephemerals(owner), ["/t"]);
    assert_eq!(stat(&t, "/t").ephemeral_owner, owner);
    ok(&t);
}

#[test]
fn ephemeral_type_classification() {
    let off = EphemeralTypes::default();
    let on = EphemeralTypes {
        extended_types_enabled: true,
        emulate_353_ttl: false,
    };
    let emu = EphemeralTypes {
        extended_types_enabled: true,
        emulate_353_ttl: true,
    };
    let ttl = EphemeralType::ttl_owner(5).unwrap();
    assert_eq!(EphemeralType::of(0, off), EphemeralType::Void);
    assert_eq!(EphemeralType::of(0x1234, off), EphemeralType::Normal);
    assert_eq!(EphemeralType::of(i64::MIN, off), EphemeralType::Container);
    assert_eq!(EphemeralType::of(ttl, off), EphemeralType::Normal);
    assert_eq!(EphemeralType::of(ttl, on), EphemeralType::Ttl);
    assert_eq!(EphemeralType::of(i64::MIN, on), EphemeralType::Container);
    assert_eq!(EphemeralType::of(-2, on), EphemeralType::Normal);
    assert_eq!(EphemeralType::of(-2, emu), EphemeralType::Ttl);
    assert_eq!(EphemeralType::of(i64::MIN, emu), EphemeralType::Container);
    // unknown extended feature selector
    assert_eq!(
        EphemeralType::of(0xff00_0100_0000_0001_u64 as i64, on),
        EphemeralType::Normal
    );
    assert_eq!(EphemeralType::ttl_of(ttl), 5);
    assert_eq!(EphemeralType::client_owner(ttl, on), 0);
    assert_eq!(EphemeralType::client_owner(ttl, off), ttl);
}

#[test]
fn ttl_validation_messages() {
    let msg = "ttl must be positive and cannot be larger than: 1099511627775";
    assert_eq!(MAX_TTL, 1099511627775);
    for bad in [0, -1, MAX_TTL + 1, i64::MAX, i64::MIN] {
        assert_eq!(
            EphemeralType::ttl_owner(bad),
            Err(InvalidArgument(msg.into())),
            "{bad}"
        );
    }
    assert_eq!(
        EphemeralType::ttl_owner(MAX_TTL),
        Ok(-1_i64 ^ 0x00ff_ff00_0000_0000)
    );
    assert_eq!(
        EphemeralType::ttl_owner(1),
        Ok(0xff00_0000_0000_0001_u64 as i64)
    );
    assert_eq!(
        validate_ttl(true, "PERSISTENT_WITH_TTL", 0),
        Err(InvalidArgument(msg.into()))
    );
    assert_eq!(validate_ttl(true, "PERSISTENT_WITH_TTL", 10), Ok(()));
    assert_eq!(
        validate_ttl(false, "PERSISTENT", 0),
        Err(InvalidArgument("ttl not valid for mode: PERSISTENT".into()))
    );
    assert_eq!(validate_ttl(false, "EPHEMERAL", -1), Ok(()));
}

// ----------------------------------------------------------------------------------------
// Paths
// ----------------------------------------------------------------------------------------

#[test]
fn path_validation_matches_zookeeper() {
    // (path, None = valid / Some(message)); messages printed by PathUtils in 3.8.
    let inv = |p: &str, why: &str| Some(format!("Invalid path string \"{p}\" caused by {why}"));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("", Some("Path length must be > 0".into())),
        ("a", Some("Path must start with / character".into())),
        ("/", None),
        ("//", Some("Path must not end with / character".into())),
        ("/a/", Some("Path must not end with / character".into())),
        ("/a", None),
        ("/a//b", inv("/a//b", "empty node name specified @3")),
        ("/.", inv("/.", "relative paths not allowed @1")),
        ("/..", inv("/..", "relative paths not allowed @2")),
        ("/...", None),
        ("/a/.", inv("/a/.", "relative paths not allowed @3")),
        ("/a/..", inv("/a/..", "relative paths not allowed @4")),
        ("/a/./b", inv("/a/./b", "relative paths not allowed @3")),
        ("/a/../b", inv("/a/../b", "relative paths not allowed @4")),
        ("/.a", None),
        ("/a.", None),
        ("/..a", None),
        ("/a\u{0}b", inv("/a\u{0}b", "null character not allowed @2")),
        ("/a\u{1}", inv("/a\u{1}", "invalid character @2")),
        ("/\u{1f}", inv("/\u{1f}", "invalid character @1")),
        ("/ ", None),
        ("/\u{7f}", inv("/\u{7f}", "invalid character @1")),
        ("/\u{9f}", inv("/\u{9f}", "invalid character @1")),
        ("/\u{a0}", None),
        ("/\u{fc}", None),
        ("/\u{d7ff}", None),
        ("/\u{e000}", inv("/\u{e000}", "invalid character @1")),
        ("/\u{f8ff}", inv("/\u{f8ff}", "invalid character @1")),
        ("/\u{f900}", None),
        ("/\u{ffef}", None),
        ("/\u{fff0}", inv("/\u{fff0}", "invalid character @1")),
        ("/\u{ffff}", inv("/\u{ffff}", "invalid character @1")),
        ("/\u{1f600}", inv("/\u{1f600}", "invalid character @1")),
        // positions count UTF-16 units, not bytes
        (
            "/\u{e9}/.",
            inv("/\u{e9}/.", "relative paths not allowed @3"),
        ),
        (
            "/\u{e9}\u{e9}//",
            Some("Path must not end with / character".into()),
        ),
        ("/zookeeper/quota", None),
    ];
    for (p, want) in cases {
        let got = validate_path(p).err().map(|e| e.0);
        assert_eq!(got, want, "path {p:?}");
    }
    assert_eq!(validate_path_seq("/a/", true), Ok(()));
    assert!(validate_path_seq("/a/", false).is_err());
    assert_eq!(
        validate_nullable_path(None, true).unwrap_err().0,
        "Path must start with / character"
    );
    assert_eq!(
        validate_nullable_path(None, false).unwrap_err().0,
        "Path cannot be null"
    );
    assert_eq!(validate_nullable_path(Some("/x"), false), Ok(()));
}

#[test]
fn lookup_and_path_of_deep_paths() {
    let mut t = tree();
    let mut path = String::new();
    let mut ids = Vec::new();
    for depth in 0..200 {
        path.push_str(&format!("/d{depth}"));
        ids.push(mk(&mut t, &path, 1 + depth));
    }
    assert_eq!(t.lookup(&path), ids.last().copied());
    assert_eq!(t.path_of(*ids.last().unwrap()), path);
    assert_eq!(t.get_all_children_number("/d0"), 199);
    assert_eq!(t.parent_of(ids[1]), Some(ids[0]));
    assert_eq!(t.parent_of(NodeId::ROOT), None);
    assert_eq!(t.lookup(""), Some(NodeId::ROOT));
    assert_eq!(t.lookup("/"), Some(NodeId::ROOT));
    for bad in [
        "d0",
        "/d0/",
        "//d0",
        "/d0//d1",
        "/d0/d2",
        "/d0/d1/x",
        "/zookeeper/",
    ] {
        assert_eq!(t.lookup(bad), None, "{bad}");
    }
    assert_eq!(t.path_of(NodeId::ROOT), "/");
    let mut visited = 0;
    t.for_each_preorder(|p, id| {
        visited += 1;
        if id == NodeId::ROOT {
            assert_eq!(p, "");
        } else {
            assert_eq!(t.path_of(id), p);
        }
    });
    assert_eq!(visited, t.znode_count());
    ok(&t);
    t.check_zxid_invariants().unwrap();
}

#[test]
fn unicode_names() {
    let mut t = tree();
    mk(&mut t, "/é", 1);
    mk(&mut t, "/é/日本", 2);
    assert_eq!(t.path_of(t.lookup("/é/日本").unwrap()), "/é/日本");
    // approximate size counts Java chars: "/é" = 2, "/é/日本" = 5
    assert_eq!(t.approximate_data_size(), 44 + 2 + 1 + 5 + 1);
    assert_eq!(t.compute_approximate_data_size(), t.approximate_data_size());
    ok(&t);
}

// ----------------------------------------------------------------------------------------
// Quotas
// ----------------------------------------------------------------------------------------

fn quota_data(t: &DataTree, root: &str) -> String {
    String::from_utf8(data(t, &stat_path(root)).unwrap()).unwrap()
}

#[test]
fn quota_accounting() {
    let mut t = tree();
    t.create_node("/app", Some(b"abc".to_vec()), OPEN, 0, -1, 1, 0)
        .unwrap();
    t.create_node("/app/x", Some(b"12".to_vec()), OPEN, 0, -1, 2, 0)
        .unwrap();
    t.create_node("/zookeeper/quota/app", None, OPEN, 0, -1, 3, 0)
        .unwrap();
    t.create_node(
        &limit_path("/app"),
        Some(b"count=10,bytes=-1".to_vec()),
        OPEN,
        0,
        -1,
        4,
        0,
    )
    .unwrap();
    assert_eq!(t.quota_roots(), ["/app"]);
    t.create_node(
        &stat_path("/app"),
        Some(b"count=0,bytes=0".to_vec()),
        OPEN,
        0,
        -1,
        5,
        0,
    )
    .unwrap();
    assert_eq!(quota_data(&t, "/app"), "count=2,bytes=5");
    let approx = t.approximate_data_size();
    let stats_before = pstat(&t, &stat_path("/app"));

    t.create_node("/app/y", Some(b"4444".to_vec()), OPEN, 0, -1, 6, 0)
        .unwrap();
    assert_eq!(quota_data(&t, "/app"), "count=3,bytes=9");
    t.set_data("/app/y", Some(b"1".to_vec()), 1, 7, 0).unwrap();
    assert_eq!(quota_data(&t, "/app"), "count=3,bytes=6");
    t.delete_node("/app/x", 8).unwrap();
    assert_eq!(quota_data(&t, "/app"), "count=2,bytes=4");
    // the stats node changed in place: no stat change, and the size statistic does not
    // see the rewrite (it only sees /app/y and /app/x changes)
    assert_eq!(pstat(&t, &stat_path("/app")), stats_before);
    assert_eq!(t.approximate_data_size(), approx + (6 + 4) - 3 - (6 + 2));
    assert_eq!(t.quota_prefix("/app/y/z"), Some("/app".to_owned()));
    assert_eq!(t.quota_prefix("/apple"), None);
    ok(&t);

    t.delete_node(&limit_path("/app"), 9).unwrap();
    assert!(t.quota_roots().is_empty());
    t.create_node("/app/z", Some(b"zz".to_vec()), OPEN, 0, -1, 10, 0)
        .unwrap();
    assert_eq!(quota_data(&t, "/app"), "count=2,bytes=4");
    ok(&t);
}

#[test]
fn quota_nested_roots_and_whitespace_components() {
    let mut q = quota::QuotaTrie::default();
    q.add_path("/a");
    q.add_path("/a/b/c");
    assert_eq!(q.max_prefix("/a/b/c/d"), Some("/a/b/c".into()));
    assert_eq!(q.max_prefix("/a/b"), Some("/a".into()));
    assert_eq!(q.max_prefix("/a"), Some("/a".into()));
    assert_eq!(q.max_prefix("/b"), None);
    // PathTrie drops components that are blank after trim()
    assert_eq!(q.max_prefix("/a/ /b/c"), Some("/a/b/c".into()));
    q.delete_path("/a");
    assert_eq!(q.max_prefix("/a/b"), None);
    assert_eq!(q.max_prefix("/a/b/c"), Some("/a/b/c".into()));
}

#[test]
fn stats_track_parse_and_format() {
    // StatsTrack.toString in 3.8 gives "count=1,bytes=2=;countHardLimit=5;zeta=9"
    let st = StatsTrack::parse(b"count=1,bytes=2=;zeta=9;countHardLimit=5").unwrap();
    assert_eq!(st.to_text(), "count=1,bytes=2=;countHardLimit=5;zeta=9");
    assert_eq!(
        (
            st.count(),
            st.bytes(),
            st.count_hard_limit(),
            st.byte_hard_limit()
        ),
        (1, 2, 5, -1)
    );
    assert_eq!(
        StatsTrack::parse(b"").unwrap().to_text(),
        "count=-1,bytes=-1"
    );
    assert_eq!(
        StatsTrack::parse(b"count=,,bytes=3;;").unwrap_err(),
        "malformed quota stats entry \"count=\""
    );
    assert_eq!(StatsTrack::parse(b"count==4").unwrap().count(), -1);
    assert!(StatsTrack::parse(b",count=1").is_err());
    assert!(StatsTrack::parse(b"count=x").is_err());
    assert_eq!(StatsTrack::parse(b"count=1;count=7").unwrap().count(), 7);
}

#[test]
fn malformed_quota_stats_are_left_alone() {
    let mut t = tree();
    mk(&mut t, "/app", 1);
    mk(&mut t, "/zookeeper/quota/app", 2);
    mk(&mut t, &limit_path("/app"), 3);
    mk(&mut t, &stat_path("/app"), 4);
    t.set_data(&stat_path("/app"), Some(b"garbage".to_vec()), 1, 5, 0)
        .unwrap();
    mk(&mut t, "/app/x", 6);
    assert_eq!(quota_data(&t, "/app"), "garbage");
    assert!(t.lookup("/app/x").is_some());
    ok(&t);
}

// ----------------------------------------------------------------------------------------
// Snapshot round trip
// ----------------------------------------------------------------------------------------

#[test]
fn snapshot_round_trip() {
    let mut t = ttl_tree();
    mk(&mut t, "/app", 1);
    t.create_node("/app/e", None, AclRef(4), 0x55, -1, 2, 10)
        .unwrap();
    t.create_node(
        "/app/c",
        Some(vec![1, 2, 3]),
        OPEN,
        CONTAINER_EPHEMERAL_OWNER,
        -1,
        3,
        11,
    )
    .unwrap();
    t.create_node(
        "/app/t",
        None,
        OPEN,
        EphemeralType::ttl_owner(9).unwrap(),
        -1,
        4,
        12,
    )
    .unwrap();
    mk(&mut t, "/app/c/k", 5);
    t.delete_node("/app/c/k", 6).unwrap();
    mk(&mut t, "/zookeeper/quota/app", 7);
    t.create_node(
        &limit_path("/app"),
        Some(b"count=9".to_vec()),
        OPEN,
        0,
        -1,
        8,
        0,
    )
    .unwrap();
    mk(&mut t, &stat_path("/app"), 9);
    t.set_data("/", Some(b"r".to_vec()), 1, 10, 99).unwrap();

    let mut records = Vec::new();
    t.for_each_preorder(|p, id| {
        records.push((
            p.to_owned(),
            t.node_data(id).map(<[u8]>::to_vec),
            t.node_acl(id),
            t.node_stat_persisted(id),
        ));
    });
    assert_eq!(records[0].0, "");

    let mut u = ttl_tree();
    mk(&mut u, "/junk", 1);
    u.begin_snapshot_load();
    for (p, d, a, s) in &records {
        u.load_node(p, d.clone(), *a, s).unwrap();
    }
    u.finish_snapshot_load();
    ok(&u);
    assert_eq!(u.digest(), t.digest());
    assert_eq!(u.znode_count(), t.znode_count());
    assert!(u.lookup("/junk").is_none());
    for (p, d, a, s) in &records {
        let id = u.lookup(p).unwrap();
        assert_eq!(u.node_data(id).map(<[u8]>::to_vec), *d, "{p}");
        assert_eq!(u.node_acl(id), *a);
        assert_eq!(u.node_stat_persisted(id), *s);
        assert_eq!(u.node_stat(id), t.node_stat(t.lookup(p).unwrap()));
    }
    assert_eq!(u.ephemerals(0x55), ["/app/e"]);
    assert_eq!(u.containers(), ["/app/c"]);
    assert_eq!(u.ttls(), ["/app/t"]);
    assert_eq!(u.quota_roots(), ["/app"]);
    assert_eq!(quota_data(&u, "/app"), "count=4,bytes=4");
    assert_eq!(u.approximate_data_size(), t.compute_approximate_data_size());
    // a missing parent is an error
    assert_eq!(
        u.load_node("/x/y", None, OPEN, &StatPersisted::default()),
        Err(TreeError::NoNode)
    );
}

// ----------------------------------------------------------------------------------------
// Randomised comparison with a naive model of DataTree
// ----------------------------------------------------------------------------------------

/// A straightforward path-keyed model of DataTree's rules, used as the oracle.
#[derive(Clone, Debug)]
struct MNode {
    data: Option<Vec<u8>>,
    acl: AclRef,
    st: StatPersisted,
    kids: std::collections::BTreeSet<String>,
}

struct Model {
    nodes: std::collections::BTreeMap<String, MNode>,
}

fn parent_of(p: &str) -> (&str, &str) {
    let i = p.rfind('/').unwrap();
    (if i == 0 { "/" } else { &p[..i] }, &p[i + 1..])
}

impl Model {
    fn new(t: &DataTree) -> Model {
        let mut nodes = std::collections::BTreeMap::new();
        t.for_each_preorder(|p, id| {
            let p = if p.is_empty() { "/" } else { p };
            nodes.insert(
                p.to_owned(),
                MNode {
                    data: t.node_data(id).map(<[u8]>::to_vec),
                    acl: t.node_acl(id),
                    st: t.node_stat_persisted(id),
                    kids: t.child_names(id).map(str::to_owned).collect(),
                },
            );
        });
        Model { nodes }
    }

    fn create(
        &mut self,
        p: &str,
        d: Option<Vec<u8>>,
        acl: AclRef,
        owner: i64,
        pcv: i32,
        zxid: i64,
    ) -> Result<(), TreeError> {
        let (pp, name) = parent_of(p);
        if !self.nodes.contains_key(pp) {
            return Err(TreeError::NoNode);
        }
        if let Some(n) = self.nodes.get_mut(p) {
            n.acl = acl;
            return Err(TreeError::NodeExists);
        }
        let parent = self.nodes.get_mut(pp).unwrap();
        let pcv = if pcv == -1 {
            parent.st.cversion.wrapping_add(1)
        } else {
            pcv
        };
        if pcv > parent.st.cversion {
            parent.st.cversion = pcv;
            parent.st.pzxid = zxid;
        }
        parent.kids.insert(name.to_owned());
        let st = StatPersisted::new_for_create(zxid, zxid * 10, owner);
        self.nodes.insert(
            p.to_owned(),
            MNode {
                data: d,
                acl,
                st,
                kids: Default::default(),
            },
        );
        Ok(())
    }

    fn delete(&mut self, p: &str, zxid: i64) -> Result<(), TreeError> {
        let (pp, name) = parent_of(p);
        let parent = self.nodes.get_mut(pp).ok_or(TreeError::NoNode)?;
        if zxid > parent.st.pzxid {
            parent.st.pzxid = zxid;
        }
        let n = self.nodes.get(p).ok_or(TreeError::NoNode)?;
        if !n.kids.is_empty() {
            return Err(TreeError::NotEmpty);
        }
        self.nodes.remove(p);
        self.nodes.get_mut(pp).unwrap().kids.remove(name);
        Ok(())
    }

    fn set_data(
        &mut self,
        p: &str,
        d: Option<Vec<u8>>,
        v: i32,
        zxid: i64,
    ) -> Result<(), TreeError> {
        let n = self.nodes.get_mut(p).ok_or(TreeError::NoNode)?;
        n.data = d;
        n.st.version = v;
        n.st.mzxid = zxid;
        n.st.mtime = zxid * 10;
        Ok(())
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn randomised_against_model() {
    let mut t = tree();
    let mut m = Model::new(&t);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names = ["a", "b", "c", "dd", "é", "x1"];
    let sessions = [0, 0, 0, 0x11, 0x22, CONTAINER_EPHEMERAL_OWNER];
    for step in 0..20_000i64 {
        let zxid = 100 + step;
        // pick a path of depth 1..=4 over a small alphabet so operations collide often
        let depth = 1 + rng.below(4);
        let path: String = (0..depth)
            .map(|_| format!("/{}", names[rng.below(names.len())]))
            .collect();
        match rng.below(10) {
            0..=4 => {
                let d = if rng.below(4) == 0 {
                    None
                } else {
                    Some(vec![b'z'; rng.below(20)])
                };
                let owner = sessions[rng.below(sessions.len())];
                let pcv = if rng.below(3) == 0 {
                    rng.below(5) as i32
                } else {
                    -1
                };
                let acl = AclRef(rng.below(3) as i64);
                let a = t
                    .create_node(&path, d.clone(), acl, owner, pcv, zxid, zxid * 10)
                    .map(|_| ());
                let b = m.create(&path, d, acl, owner, pcv, zxid);
                assert_eq!(a, b, "create {path} at {step}");
            }
            5..=7 => {
                let a = t.delete_node(&path, zxid).map(|_| ());
                let b = m.delete(&path, zxid);
                assert_eq!(a, b, "delete {path} at {step}");
            }
            8 => {
                let d = Some(vec![b'q'; rng.below(8)]);
                let a = t
                    .set_data(&path, d.clone(), step as i32, zxid, zxid * 10)
                    .map(|_| ());
                let b = m.set_data(&path, d, step as i32, zxid);
                assert_eq!(a, b, "setData {path} at {step}");
            }
            _ => {
                let s = [0x11, 0x22][rng.below(2)];
                let removed: Vec<String> = t
                    .kill_session(s, zxid, None)
                    .into_iter()
                    .map(|r| r.path)
                    .collect();
                let mut owned: Vec<String> = m
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.st.ephemeral_owner == s)
                    .map(|(p, _)| p.clone())
                    .collect();
                owned.sort_unstable_by(|a, b| b.cmp(a));
                let expected: Vec<String> = owned
                    .into_iter()
                    .filter(|p| m.delete(p, zxid).is_ok())
                    .collect();
                assert_eq!(removed, expected, "kill_session 0x{s:x} at {step}");
            }
        }
        if step % 2000 == 0 {
            ok(&t);
        }
    }
    ok(&t);
    let fresh = Model::new(&t);
    assert_eq!(fresh.nodes.len(), m.nodes.len());
    for (p, want) in &m.nodes {
        let got = &fresh.nodes[p];
        assert_eq!(got.data, want.data, "{p}");
        assert_eq!(got.acl, want.acl, "{p}");
        assert_eq!(got.st, want.st, "{p}");
        assert_eq!(got.kids, want.kids, "{p}");
    }
    assert_eq!(t.compute_approximate_data_size(), t.approximate_data_size());
}

// ----------------------------------------------------------------------------------------
// Memory measurement
// ----------------------------------------------------------------------------------------

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Run alone for a meaningful number:
/// `cargo test --release --lib tree::tests::memory_per_znode -- --ignored --nocapture`
#[test]
#[ignore]
fn memory_per_znode() {
    const N: usize = 1_000_000;
    let mut t = tree();
    mk(&mut t, "/d", 1);
    let before = vm_rss_kib();
    let payload = vec![0x5a_u8; 100];
    let start = std::time::Instant::now();
    for i in 0..N {
        let p = format!("/d/n{i:07}");
        t.create_node(&p, Some(payload.clone()), OPEN, 0, -1, 2 + i as i64, 0)
            .unwrap();
    }
    let create_time = start.elapsed();
    let after = vm_rss_kib();
    let per_node = (after - before) as f64 * 1024.0 / N as f64;
    println!(
        "RSS before {before} KiB, after {after} KiB: {per_node:.1} bytes per znode (100 B data, 9-byte names)"
    );
    let start = std::time::Instant::now();
    let mut found = 0;
    for i in 0..N {
        found += usize::from(t.lookup(&format!("/d/n{i:07}")).is_some());
    }
    let lookup_time = start.elapsed();
    assert_eq!(found, N);
    println!(
        "create {:.0} ns/op, lookup {:.0} ns/op (both including path formatting)",
        create_time.as_nanos() as f64 / N as f64,
        lookup_time.as_nanos() as f64 / N as f64
    );
    assert_eq!(t.znode_count(), N + 5);
    assert!(per_node < 250.0, "{per_node:.1} bytes per znode");
}
