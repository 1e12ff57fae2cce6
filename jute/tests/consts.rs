//! Constant values as ZooKeeper defines them (ZooDefs, KeeperException,
//! Watcher, CreateMode, AddWatchMode, ClientCnxn).

use jute::consts::*;

/// Every enum value converts to its code and back.
fn round_trip<T>(all: &[T])
where
    T: Copy + PartialEq + std::fmt::Debug + TryFrom<i32, Error = UnknownValue> + Into<i32>,
{
    for &value in all {
        let code: i32 = value.into();
        assert_eq!(T::try_from(code), Ok(value));
    }
}

#[test]
fn op_codes() {
    round_trip(OpCode::ALL);
    assert_eq!(OpCode::ALL.len(), 33);
    let expected = [
        (OpCode::Notification, 0),
        (OpCode::Create, 1),
        (OpCode::Delete, 2),
        (OpCode::Exists, 3),
        (OpCode::GetData, 4),
        (OpCode::SetData, 5),
        (OpCode::GetACL, 6),
        (OpCode::SetACL, 7),
        (OpCode::GetChildren, 8),
        (OpCode::Sync, 9),
        (OpCode::Ping, 11),
        (OpCode::GetChildren2, 12),
        (OpCode::Check, 13),
        (OpCode::Multi, 14),
        (OpCode::Create2, 15),
        (OpCode::Reconfig, 16),
        (OpCode::CheckWatches, 17),
        (OpCode::RemoveWatches, 18),
        (OpCode::CreateContainer, 19),
        (OpCode::DeleteContainer, 20),
        (OpCode::CreateTTL, 21),
        (OpCode::MultiRead, 22),
        (OpCode::Auth, 100),
        (OpCode::SetWatches, 101),
        (OpCode::Sasl, 102),
        (OpCode::GetEphemerals, 103),
        (OpCode::GetAllChildrenNumber, 104),
        (OpCode::SetWatches2, 105),
        (OpCode::AddWatch, 106),
        (OpCode::WhoAmI, 107),
        (OpCode::CreateSession, -10),
        (OpCode::CloseSession, -11),
        (OpCode::Error, -1),
    ];
    for (op, code) in expected {
        assert_eq!(op.code(), code, "{op:?}");
    }
    assert_eq!(
        OpCode::try_from(10),
        Err(UnknownValue {
            kind: "OpCode",
            value: 10
        })
    );
    assert_eq!(
        OpCode::try_from(10).unwrap_err().to_string(),
        "unknown OpCode 10"
    );
}

#[test]
fn error_codes() {
    round_trip(ErrorCode::ALL);
    let expected = [
        (ErrorCode::Ok, 0),
        (ErrorCode::SystemError, -1),
        (ErrorCode::RuntimeInconsistency, -2),
        (ErrorCode::DataInconsistency, -3),
        (ErrorCode::ConnectionLoss, -4),
        (ErrorCode::MarshallingError, -5),
        (ErrorCode::Unimplemented, -6),
        (ErrorCode::OperationTimeout, -7),
        (ErrorCode::BadArguments, -8),
        (ErrorCode::UnknownSession, -12),
        (ErrorCode::NewConfigNoQuorum, -13),
        (ErrorCode::ReconfigInProgress, -14),
        (ErrorCode::ApiError, -100),
        (ErrorCode::NoNode, -101),
        (ErrorCode::NoAuth, -102),
        (ErrorCode::BadVersion, -103),
        (ErrorCode::NoChildrenForEphemerals, -108),
        (ErrorCode::NodeExists, -110),
        (ErrorCode::NotEmpty, -111),
        (ErrorCode::SessionExpired, -112),
        (ErrorCode::InvalidCallback, -113),
        (ErrorCode::InvalidACL, -114),
        (ErrorCode::AuthFailed, -115),
        (ErrorCode::SessionMoved, -118),
        (ErrorCode::NotReadOnly, -119),
        (ErrorCode::EphemeralOnLocalSession, -120),
        (ErrorCode::NoWatcher, -121),
        (ErrorCode::RequestTimeout, -122),
        (ErrorCode::ReconfigDisabled, -123),
        (ErrorCode::SessionClosedRequireSasl, -124),
        (ErrorCode::QuotaExceeded, -125),
        (ErrorCode::Throttled, -127),
    ];
    assert_eq!(ErrorCode::ALL.len(), expected.len());
    for (code, value) in expected {
        assert_eq!(i32::from(code), value, "{code:?}");
    }
    assert!(ErrorCode::try_from(-126).is_err());
}

#[test]
fn watcher_constants() {
    round_trip(EventType::ALL);
    round_trip(KeeperState::ALL);
    round_trip(AddWatchMode::ALL);
    round_trip(WatcherType::ALL);
    let events: Vec<i32> = EventType::ALL.iter().map(|e| e.code()).collect();
    assert_eq!(events, [-1, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(KeeperState::SyncConnected.code(), 3);
    assert_eq!(KeeperState::Disconnected.code(), 0);
    assert_eq!(KeeperState::Expired.code(), -112);
    assert_eq!(KeeperState::AuthFailed.code(), 4);
    assert_eq!(KeeperState::ConnectedReadOnly.code(), 5);
    assert_eq!(KeeperState::SaslAuthenticated.code(), 6);
    assert_eq!(KeeperState::Closed.code(), 7);
    assert_eq!(AddWatchMode::Persistent.code(), 0);
    assert_eq!(AddWatchMode::PersistentRecursive.code(), 1);
    assert_eq!(WatcherType::Children.code(), 1);
    assert_eq!(WatcherType::Data.code(), 2);
    assert_eq!(WatcherType::Any.code(), 3);
    assert_eq!(WatcherType::Persistent.code(), 4);
    assert_eq!(WatcherType::PersistentRecursive.code(), 5);
}

#[test]
fn create_modes() {
    round_trip(CreateMode::ALL);
    let table = [
        // flag, ephemeral, sequential, container, ttl
        (CreateMode::Persistent, 0, false, false, false, false),
        (CreateMode::Ephemeral, 1, true, false, false, false),
        (
            CreateMode::PersistentSequential,
            2,
            false,
            true,
            false,
            false,
        ),
        (CreateMode::EphemeralSequential, 3, true, true, false, false),
        (CreateMode::Container, 4, false, false, true, false),
        (CreateMode::PersistentWithTTL, 5, false, false, false, true),
        (
            CreateMode::PersistentSequentialWithTTL,
            6,
            false,
            true,
            false,
            true,
        ),
    ];
    for (mode, flag, eph, seq, container, ttl) in table {
        assert_eq!(CreateMode::from_flag(flag), Some(mode));
        assert_eq!(mode.flag(), flag);
        assert_eq!(mode.is_ephemeral(), eph, "{mode:?}");
        assert_eq!(mode.is_sequential(), seq, "{mode:?}");
        assert_eq!(mode.is_container(), container, "{mode:?}");
        assert_eq!(mode.is_ttl(), ttl, "{mode:?}");
    }
    assert_eq!(CreateMode::from_flag(7), None);
    assert_eq!(CreateMode::from_flag(-1), None);
}

#[test]
fn perms_and_xids() {
    assert_eq!(
        [
            Perms::READ,
            Perms::WRITE,
            Perms::CREATE,
            Perms::DELETE,
            Perms::ADMIN,
            Perms::ALL
        ],
        [1, 2, 4, 8, 16, 31]
    );
    assert_eq!(
        [NOTIFICATION_XID, PING_XID, AUTH_XID, SET_WATCHES_XID],
        [-1, -2, -4, -8]
    );
}
