use super::perms::*;
use super::*;
use std::net::{IpAddr, Ipv4Addr};

fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

fn ident(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.into(),
        id: id.into(),
    }
}

const ALICE: &str = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";
const SUPER: &str = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

fn client() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))
}

#[test]
fn authenticate_digest_ip_and_unknown() {
    let cfg = AuthConfig::default();
    assert_eq!(
        cfg.authenticate("digest", b"alice:secret", client()),
        Ok(vec![ident("digest", ALICE)])
    );
    // A wrong password is not a failure: it is just another identity.
    assert_eq!(
        cfg.authenticate("digest", b"alice:wrong", client())
            .map(|v| v.len()),
        Ok(1)
    );
    assert_eq!(
        cfg.authenticate("ip", b"ignored", client()),
        Ok(vec![ident("ip", "10.1.2.3")])
    );
    for scheme in ["world", "super", "auth", "sasl", "x509", "", "DIGEST"] {
        assert_eq!(
            cfg.authenticate(scheme, b"x:y", client()),
            Err(AuthFailed),
            "{scheme}"
        );
    }
    assert_eq!(AuthFailed::CODE, -115);
    let no_digest = AuthConfig {
        digest_enabled: false,
        ..AuthConfig::default()
    };
    assert_eq!(
        no_digest.authenticate("digest", b"alice:secret", client()),
        Err(AuthFailed)
    );
}

#[test]
fn super_digest_adds_super_id() {
    let cfg = AuthConfig {
        super_digest: Some(SUPER.to_string()),
        ..AuthConfig::default()
    };
    assert_eq!(
        cfg.authenticate("digest", b"super:test", client()),
        Ok(vec![ident("super", ""), ident("digest", SUPER)])
    );
    assert_eq!(
        cfg.authenticate("digest", b"super:nope", client())
            .map(|v| v.len()),
        Ok(1)
    );
    // The configured string is compared with the whole digest id, user
    // name included.
    let other_user = generate_digest("root:test");
    let cfg = AuthConfig {
        super_digest: Some(other_user),
        ..AuthConfig::default()
    };
    assert_eq!(
        cfg.authenticate("digest", b"super:test", client())
            .map(|v| v.len()),
        Ok(1)
    );
    assert_eq!(
        cfg.authenticate("digest", b"root:test", client())
            .map(|v| v.len()),
        Ok(2)
    );
}

#[test]
fn session_ids_are_a_set() {
    let mut ids = vec![connection_id(client())];
    add_auth_id(&mut ids, ident("ip", "10.1.2.3"));
    add_auth_id(&mut ids, ident("digest", ALICE));
    add_auth_id(&mut ids, ident("digest", ALICE));
    // In the order Java's ConcurrentHashMap-backed set iterates them (printed
    // by Java 17 for these two ids).
    assert_eq!(ids, vec![ident("digest", ALICE), ident("ip", "10.1.2.3")]);
}

#[test]
fn check_acl_rules() {
    let cfg = AuthConfig::default();
    let anon = vec![connection_id(client())];
    let alice = vec![connection_id(client()), ident("digest", ALICE)];

    // Empty ACL list: everything allowed.
    assert_eq!(cfg.check_acl(&[], ALL, &anon), Ok(()));
    // world:anyone with the right bit.
    let open = open_acl_unsafe();
    assert_eq!(cfg.check_acl(&open, WRITE, &anon), Ok(()));
    let read_only = read_acl_unsafe();
    assert_eq!(cfg.check_acl(&read_only, READ, &anon), Ok(()));
    assert_eq!(cfg.check_acl(&read_only, WRITE, &anon), Err(NoAuth));
    assert_eq!(NoAuth::CODE, -102);
    // Any shared bit is enough (ZooKeeper tests perms & perm != 0).
    assert_eq!(cfg.check_acl(&read_only, READ | ADMIN, &anon), Ok(()));
    // Other world ids match nobody.
    let world_bob = vec![acl(ALL, "world", "bob")];
    assert_eq!(cfg.check_acl(&world_bob, READ, &anon), Err(NoAuth));
    // Digest: exact id equality.
    let alice_only = vec![acl(READ | WRITE, "digest", ALICE)];
    assert_eq!(cfg.check_acl(&alice_only, READ, &alice), Ok(()));
    assert_eq!(cfg.check_acl(&alice_only, DELETE, &alice), Err(NoAuth));
    assert_eq!(cfg.check_acl(&alice_only, READ, &anon), Err(NoAuth));
    let other = vec![ident("digest", &generate_digest("alice:wrong"))];
    assert_eq!(cfg.check_acl(&alice_only, READ, &other), Err(NoAuth));
    // The scheme must agree: a digest id never satisfies an ip ACL.
    let ip_acl = vec![acl(ALL, "ip", "10.0.0.0/8")];
    assert_eq!(cfg.check_acl(&ip_acl, READ, &anon), Ok(()));
    assert_eq!(
        cfg.check_acl(&ip_acl, READ, &[ident("digest", "10.1.2.3")]),
        Err(NoAuth)
    );
    let other_net = vec![connection_id(IpAddr::V4(Ipv4Addr::new(11, 0, 0, 1)))];
    assert_eq!(cfg.check_acl(&ip_acl, READ, &other_net), Err(NoAuth));
    // Unknown schemes never match, even with an identical session id.
    let x509 = vec![acl(ALL, "x509", "CN=a")];
    assert_eq!(
        cfg.check_acl(&x509, READ, &[ident("x509", "CN=a")]),
        Err(NoAuth)
    );
    // Later entries are tried when earlier ones do not grant the bit.
    let mixed = vec![acl(READ, "digest", ALICE), acl(WRITE, "world", "anyone")];
    assert_eq!(cfg.check_acl(&mixed, WRITE, &anon), Ok(()));
    assert_eq!(cfg.check_acl(&mixed, READ, &anon), Err(NoAuth));
    // Perms 0 entries grant nothing.
    let zero = vec![acl(0, "world", "anyone")];
    assert_eq!(cfg.check_acl(&zero, READ, &anon), Err(NoAuth));
    // Digest disabled: digest ACLs stop matching.
    let no_digest = AuthConfig {
        digest_enabled: false,
        ..AuthConfig::default()
    };
    assert_eq!(no_digest.check_acl(&alice_only, READ, &alice), Err(NoAuth));
}

#[test]
fn super_and_skip_acl_pass_everything() {
    let cfg = AuthConfig::default();
    let locked = vec![acl(READ, "digest", ALICE)];
    let sup = vec![connection_id(client()), ident("super", "")];
    assert_eq!(cfg.check_acl(&locked, ADMIN, &sup), Ok(()));
    // Any id of scheme super counts, whatever its id part.
    assert_eq!(
        cfg.check_acl(&locked, ADMIN, &[ident("super", "x")]),
        Ok(())
    );
    let zero = vec![acl(0, "world", "anyone")];
    assert_eq!(cfg.check_acl(&zero, ALL, &sup), Ok(()));
    let skip = AuthConfig {
        skip_acl: true,
        ..AuthConfig::default()
    };
    assert_eq!(skip.check_acl(&locked, ADMIN, &[]), Ok(()));
    assert_eq!(skip.check_acl(&zero, ALL, &[]), Ok(()));
}

#[test]
fn super_end_to_end() {
    let cfg = AuthConfig {
        super_digest: Some(SUPER.to_string()),
        ..AuthConfig::default()
    };
    let mut ids = vec![connection_id(client())];
    for id in cfg
        .authenticate("digest", b"super:test", client())
        .unwrap_or_default()
    {
        add_auth_id(&mut ids, id);
    }
    let locked = vec![acl(READ, "digest", ALICE)];
    assert_eq!(cfg.check_acl(&locked, ADMIN, &ids), Ok(()));
    assert_eq!(
        cfg.client_info(&ids),
        // Java's set order for these three ids (printed by Java 17).
        vec![
            ("super".to_string(), String::new()),
            ("ip".to_string(), "10.1.2.3".to_string()),
            ("digest".to_string(), "super".to_string()),
        ]
    );
}

#[test]
fn fixup_keeps_valid_and_drops_duplicates() {
    let cfg = AuthConfig::default();
    let anon = vec![connection_id(client())];
    let input = vec![
        acl(ALL, "world", "anyone"),
        acl(READ, "ip", "10.0.0.0/8"),
        acl(ALL, "world", "anyone"),
        acl(READ, "digest", ALICE),
        acl(READ, "ip", "10.0.0.0/8"),
        acl(WRITE, "ip", "10.0.0.0/8"),
    ];
    assert_eq!(
        cfg.fixup_acl(&anon, &input),
        Ok(vec![
            acl(ALL, "world", "anyone"),
            acl(READ, "ip", "10.0.0.0/8"),
            acl(READ, "digest", ALICE),
            acl(WRITE, "ip", "10.0.0.0/8"),
        ])
    );
    // Perms are not validated.
    assert_eq!(
        cfg.fixup_acl(&anon, &[acl(0, "world", "anyone")]),
        Ok(vec![acl(0, "world", "anyone")])
    );
    assert_eq!(
        cfg.fixup_acl(&anon, &[acl(-1, "digest", "a:b")]),
        Ok(vec![acl(-1, "digest", "a:b")])
    );
}

#[test]
fn fixup_rejects_invalid() {
    let cfg = AuthConfig::default();
    let anon = vec![connection_id(client())];
    let bad: Vec<Vec<ACL>> = vec![
        vec![],
        vec![acl(ALL, "world", "everyone")],
        vec![acl(ALL, "world", "anyone"), acl(ALL, "ip", "300.0.0.1")],
        vec![acl(ALL, "ip", "10.0.0.0/33")],
        vec![acl(ALL, "digest", "alice")],
        vec![acl(ALL, "digest", "alice:")],
        vec![acl(ALL, "super", "")],
        vec![acl(ALL, "x509", "CN=a")],
        vec![acl(ALL, "sasl", "bob")],
        vec![acl(ALL, "", "")],
        vec![acl(ALL, "World", "anyone")],
        // auth without an authenticated id (ip ids do not count).
        vec![acl(ALL, "auth", "")],
    ];
    for list in bad {
        assert_eq!(cfg.fixup_acl(&anon, &list), Err(InvalidAcl), "{list:?}");
    }
    assert_eq!(InvalidAcl::CODE, -114);
    let no_digest = AuthConfig {
        digest_enabled: false,
        ..AuthConfig::default()
    };
    assert_eq!(
        no_digest.fixup_acl(&anon, &[acl(ALL, "digest", ALICE)]),
        Err(InvalidAcl)
    );
}

#[test]
fn fixup_expands_auth() {
    let cfg = AuthConfig::default();
    let bob = generate_digest("bob:pw");
    let ids = vec![
        connection_id(client()),
        ident("digest", ALICE),
        ident("super", ""),
        ident("digest", &bob),
    ];
    // Every authenticated id gets the auth entry's perms; ip and super ids
    // are skipped; the id part of the auth entry is ignored.
    assert_eq!(
        cfg.fixup_acl(&ids, &[acl(READ | ADMIN, "auth", "whatever")]),
        Ok(vec![
            acl(READ | ADMIN, "digest", ALICE),
            acl(READ | ADMIN, "digest", &bob),
        ])
    );
    // CREATOR_ALL_ACL after addauth.
    assert_eq!(
        cfg.fixup_acl(&ids[..2], &creator_all_acl()),
        Ok(vec![acl(ALL, "digest", ALICE)])
    );
    // Expansion results are not deduplicated against explicit entries.
    assert_eq!(
        cfg.fixup_acl(
            &ids[..2],
            &[acl(ALL, "digest", ALICE), acl(ALL, "auth", "")]
        ),
        Ok(vec![acl(ALL, "digest", ALICE), acl(ALL, "digest", ALICE)])
    );
    // A super-only session cannot use auth.
    assert_eq!(
        cfg.fixup_acl(&[ident("super", "")], &creator_all_acl()),
        Err(InvalidAcl)
    );
    // An invalid entry after a good one still fails the whole list.
    assert_eq!(
        cfg.fixup_acl(&ids, &[acl(ALL, "auth", ""), acl(ALL, "ip", "x")]),
        Err(InvalidAcl)
    );
}

#[test]
fn provider_registry() {
    let cfg = AuthConfig::default();
    assert_eq!(cfg.provider("ip"), Some(Provider::Ip));
    assert_eq!(cfg.provider("digest"), Some(Provider::Digest));
    for s in ["world", "auth", "super", "sasl", "x509", "key"] {
        assert_eq!(cfg.provider(s), None, "{s}");
    }
    assert!(Provider::Digest.is_authenticated());
    assert!(!Provider::Ip.is_authenticated());
    assert_eq!(Provider::Digest.scheme(), "digest");
    assert_eq!(Provider::Ip.scheme(), "ip");
    assert_eq!(
        cfg.client_info(&[ident("digest", ALICE), ident("x509", "CN=a")]),
        vec![
            ("digest".to_string(), "alice".to_string()),
            ("x509".to_string(), String::new())
        ]
    );
}

#[test]
fn cache_ids_and_refcounts() {
    let mut c = AclCache::new();
    let a = vec![acl(ALL, "digest", ALICE)];
    let b = read_acl_unsafe();
    assert_eq!(c.convert_acls(&a), 1);
    assert_eq!(c.convert_acls(&b), 2);
    assert_eq!(c.convert_acls(&a), 1);
    assert_eq!(c.refs(1), Some(2));
    assert_eq!(c.refs(2), Some(1));
    assert_eq!(c.len(), 2);
    assert_eq!(c.convert_long(1), Some(a.as_slice()));
    assert_eq!(c.convert_long(99), None);
    // -1 is OPEN_ACL_UNSAFE and never counted.
    assert_eq!(
        c.convert_long(OPEN_UNSAFE_ACL_ID),
        Some(&open_acl_unsafe()[..])
    );
    c.add_usage(OPEN_UNSAFE_ACL_ID);
    c.remove_usage(OPEN_UNSAFE_ACL_ID);
    assert_eq!(c.refs(OPEN_UNSAFE_ACL_ID), None);
    // A list equal to OPEN_ACL_UNSAFE gets an ordinary id.
    assert_eq!(c.convert_acls(&open_acl_unsafe()), 3);
    // Order matters: a permuted list is a different list.
    let ab: Vec<ACL> = a.iter().chain(b.iter()).cloned().collect();
    let ba: Vec<ACL> = b.iter().chain(a.iter()).cloned().collect();
    assert_eq!(c.convert_acls(&ab), 4);
    assert_eq!(c.convert_acls(&ba), 5);
    // Unknown ids are ignored.
    c.add_usage(42);
    c.remove_usage(42);
    assert_eq!(c.refs(42), None);
    // Dropping to zero removes the entry; ids are never reused.
    c.remove_usage(2);
    assert_eq!(c.refs(2), None);
    assert_eq!(c.convert_long(2), None);
    assert_eq!(c.convert_acls(&b), 6);
    c.remove_usage(1);
    assert_eq!(c.refs(1), Some(1));
    c.remove_usage(1);
    assert_eq!(c.convert_long(1), None);
    assert_eq!(c.len(), 4);
    let ids: Vec<i64> = c.iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![3, 4, 5, 6]);
}

#[test]
fn cache_load_and_purge() {
    let mut c = AclCache::new();
    let a = vec![acl(ALL, "digest", ALICE)];
    let b = read_acl_unsafe();
    let z = vec![acl(READ, "ip", "1.2.3.4")];
    c.convert_acls(&z);
    c.load(vec![(7, a.clone()), (3, b.clone())]);
    // Loaded entries start at zero references.
    assert_eq!(c.refs(7), Some(0));
    assert_eq!(c.refs(3), Some(0));
    assert_eq!(c.convert_long(1), None, "load replaces the content");
    // The loader counts the nodes that refer to them, then purges.
    c.add_usage(7);
    c.add_usage(7);
    c.purge_unused();
    assert_eq!(c.refs(3), None);
    assert_eq!(c.refs(7), Some(2));
    assert_eq!(c.len(), 1);
    // Existing lists are found; new ones continue after the highest id.
    assert_eq!(c.convert_acls(&a), 7);
    assert_eq!(c.convert_acls(&b), 8);
    assert_eq!(c.refs(7), Some(3));
    // The counter is not lowered by a later load.
    c.load(vec![(2, z.clone())]);
    assert_eq!(c.convert_acls(&b), 9);
    assert_eq!(c.convert_acls(&z), 2);
}

#[test]
fn cache_duplicate_lists_in_snapshot_behave_like_zookeeper() {
    // Two ids with the same list: the later one is the lookup target, and
    // dropping the other forgets the list, so a new id is made next time.
    let mut c = AclCache::new();
    let a = vec![acl(ALL, "digest", ALICE)];
    c.load(vec![(1, a.clone()), (2, a.clone())]);
    assert_eq!(c.len(), 1);
    c.add_usage(1);
    c.add_usage(2);
    assert_eq!(c.convert_acls(&a), 2);
    c.remove_usage(1);
    assert_eq!(c.refs(1), None);
    assert_eq!(c.refs(2), Some(2));
    assert_eq!(c.convert_acls(&a), 3);
    assert!(!c.is_empty());
}

#[test]
fn error_codes_come_from_jute() {
    use jute::consts::ErrorCode;
    assert_eq!(ErrorCode::from(NoAuth), ErrorCode::NoAuth);
    assert_eq!(ErrorCode::from(InvalidAcl), ErrorCode::InvalidACL);
    assert_eq!(ErrorCode::from(AuthFailed), ErrorCode::AuthFailed);
    assert_eq!(perms::ALL, 31);
}

/// Differential seed 1399 against Java 3.8.0: a session on 127.0.0.1 adds
/// `bob:pw-bob`, then `bob:wrong`, and creates a node with
/// `[alice ALL, alice ALL, auth READ|CREATE, cleaner ADMIN]`. Java stores the
/// `auth` entries in its id set's hash order — `bob:wrong`'s first.
#[test]
fn auth_expands_in_javas_set_order() {
    let cfg = AuthConfig::default();
    let alice = "alice:aJ/Pdx7TadRgI84JsdYLXEn9EPw=";
    let cleaner = "cleaner:oPCZznli3+0nTV6nCKoOAksHCiU=";
    let mut ids = vec![connection_id(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    for auth in [&b"bob:pw-bob"[..], b"bob:wrong"] {
        for id in cfg
            .authenticate("digest", auth, IpAddr::V4(Ipv4Addr::LOCALHOST))
            .unwrap()
        {
            add_auth_id(&mut ids, id);
        }
    }
    let acl = |perms, scheme: &str, id: &str| ACL {
        perms,
        id: ident(scheme, id),
    };
    let asked = [
        acl(perms::ALL, "digest", alice),
        acl(perms::ALL, "digest", alice),
        acl(perms::READ | perms::CREATE, "auth", ""),
        acl(perms::ADMIN, "digest", cleaner),
    ];
    let stored = cfg.fixup_acl(&ids, &asked).unwrap();
    let got: Vec<(i32, &str)> = stored.iter().map(|a| (a.perms, a.id.id.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (perms::ALL, alice),
            (5, "bob:7e5oQdf4IqOAJ9OLk9OTl5I4cwM="),
            (5, "bob:BTRNYL8KcNNgC4a+msxZF+R1b34="),
            (perms::ADMIN, cleaner),
        ]
    );
}

#[test]
fn enforcement_needs_an_id_of_a_required_scheme() {
    let open = AuthConfig::default();
    assert_eq!(open.enforcement_refusal(&[connection_id(client())]), None);
    let cfg = AuthConfig {
        enforce_schemes: vec!["digest".into()],
        ..AuthConfig::default()
    };
    let mut ids = vec![connection_id(client())];
    assert_eq!(
        cfg.enforcement_refusal(&ids).as_deref(),
        Some(
            "Client authentication scheme(s) [ip] does not match with any of the expected \
             authentication scheme [digest], closing session."
        )
    );
    add_auth_id(&mut ids, ident("digest", ALICE));
    assert_eq!(cfg.enforcement_refusal(&ids), None);
    let by_ip = AuthConfig {
        enforce_schemes: vec!["x".into(), "ip".into()],
        ..AuthConfig::default()
    };
    assert_eq!(by_ip.enforcement_refusal(&[connection_id(client())]), None);
}
