//! Protocol constants: op codes (`ZooDefs.OpCode`), error codes
//! (`KeeperException.Code`), watch event types and states (`Watcher`),
//! permissions (`ZooDefs.Perms`), create modes (`CreateMode`), add-watch
//! modes (`AddWatchMode`), watcher types (`Watcher.WatcherType`) and the
//! special xids (`ClientCnxn`). Every value is the one ZooKeeper puts on the
//! wire.
//!
//! The record fields stay plain `i32` (they are what the wire carries, and a
//! peer may send any value); these enums convert with `TryFrom<i32>` and
//! `i32::from`.

use std::fmt;

/// An `i32` that is not one of the values of the named constant set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownValue {
    /// The constant set, e.g. "OpCode".
    pub kind: &'static str,
    /// The offending value.
    pub value: i32,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {}", self.kind, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// Defines a `#[repr(i32)]` enum with `TryFrom<i32>`, `From<Enum> for i32`
/// and `code()`.
macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire value.
            pub const fn code(self) -> i32 {
                self as i32
            }
        }

        impl TryFrom<i32> for $name {
            type Error = UnknownValue;
            fn try_from(value: i32) -> Result<$name, UnknownValue> {
                match value {
                    $( $value => Ok($name::$variant), )*
                    _ => Err(UnknownValue { kind: stringify!($name), value }),
                }
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value as i32
            }
        }
    };
}

int_enum! {
    /// Request type codes (`ZooDefs.OpCode`), carried in
    /// `RequestHeader.type_`, `MultiHeader.type_` and `TxnHeader.type_`.
    OpCode {
        Notification = 0,
        Create = 1,
        Delete = 2,
        Exists = 3,
        GetData = 4,
        SetData = 5,
        GetACL = 6,
        SetACL = 7,
        GetChildren = 8,
        Sync = 9,
        Ping = 11,
        GetChildren2 = 12,
        /// Version check; only valid inside a multi.
        Check = 13,
        Multi = 14,
        Create2 = 15,
        Reconfig = 16,
        CheckWatches = 17,
        RemoveWatches = 18,
        CreateContainer = 19,
        /// Server-internal (container cleanup), never sent by clients.
        DeleteContainer = 20,
        CreateTTL = 21,
        MultiRead = 22,
        Auth = 100,
        SetWatches = 101,
        Sasl = 102,
        GetEphemerals = 103,
        GetAllChildrenNumber = 104,
        SetWatches2 = 105,
        AddWatch = 106,
        WhoAmI = 107,
        /// Server-internal (session creation transaction).
        CreateSession = -10,
        CloseSession = -11,
        /// Failed op inside a multi response / error transaction.
        Error = -1,
    }
}

int_enum! {
    /// Error codes (`KeeperException.Code`), carried in `ReplyHeader.err`
    /// and in multi results.
    ErrorCode {
        Ok = 0,
        /// Never sent; marks the start of the system-error range.
        SystemError = -1,
        RuntimeInconsistency = -2,
        DataInconsistency = -3,
        ConnectionLoss = -4,
        MarshallingError = -5,
        Unimplemented = -6,
        OperationTimeout = -7,
        BadArguments = -8,
        /// Server-internal.
        UnknownSession = -12,
        NewConfigNoQuorum = -13,
        ReconfigInProgress = -14,
        /// Never sent; marks the start of the API-error range.
        ApiError = -100,
        NoNode = -101,
        NoAuth = -102,
        BadVersion = -103,
        NoChildrenForEphemerals = -108,
        NodeExists = -110,
        NotEmpty = -111,
        SessionExpired = -112,
        InvalidCallback = -113,
        InvalidACL = -114,
        AuthFailed = -115,
        SessionMoved = -118,
        NotReadOnly = -119,
        EphemeralOnLocalSession = -120,
        NoWatcher = -121,
        RequestTimeout = -122,
        ReconfigDisabled = -123,
        SessionClosedRequireSasl = -124,
        QuotaExceeded = -125,
        /// `THROTTLEDOP`.
        Throttled = -127,
    }
}

int_enum! {
    /// Watch event types (`Watcher.Event.EventType`), in
    /// `WatcherEvent.type_`.
    EventType {
        /// A state change with no znode involved.
        None = -1,
        NodeCreated = 1,
        NodeDeleted = 2,
        NodeDataChanged = 3,
        NodeChildrenChanged = 4,
        DataWatchRemoved = 5,
        ChildWatchRemoved = 6,
        PersistentWatchRemoved = 7,
    }
}

int_enum! {
    /// Connection states (`Watcher.Event.KeeperState`), in
    /// `WatcherEvent.state`.
    KeeperState {
        /// Deprecated, never generated by the server.
        Unknown = -1,
        Disconnected = 0,
        /// Deprecated, never generated by the server.
        NoSyncConnected = 1,
        SyncConnected = 3,
        AuthFailed = 4,
        ConnectedReadOnly = 5,
        SaslAuthenticated = 6,
        Expired = -112,
        /// Client-local, never generated by the server.
        Closed = 7,
    }
}

int_enum! {
    /// Mode of an `addWatch` request (`AddWatchMode`).
    AddWatchMode {
        Persistent = 0,
        PersistentRecursive = 1,
    }
}

int_enum! {
    /// Watch kind of `checkWatches` / `removeWatches`
    /// (`Watcher.WatcherType`; Persistent and PersistentRecursive are 3.9+).
    WatcherType {
        Children = 1,
        Data = 2,
        Any = 3,
        Persistent = 4,
        PersistentRecursive = 5,
    }
}

int_enum! {
    /// Znode creation modes (`CreateMode`), as the `flags` of a create
    /// request.
    CreateMode {
        Persistent = 0,
        Ephemeral = 1,
        PersistentSequential = 2,
        EphemeralSequential = 3,
        Container = 4,
        PersistentWithTTL = 5,
        PersistentSequentialWithTTL = 6,
    }
}

impl CreateMode {
    /// Like `CreateMode.fromFlag(flag, null)`: `None` for unknown flags.
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        CreateMode::try_from(flag).ok()
    }

    /// The `flags` value of a create request.
    pub const fn flag(self) -> i32 {
        self as i32
    }

    /// The znode dies with its session.
    pub const fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// The server appends a 10-digit sequence number to the name.
    pub const fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTTL
        )
    }

    /// The znode is deleted once its last child is.
    pub const fn is_container(self) -> bool {
        matches!(self, CreateMode::Container)
    }

    /// The znode expires when unmodified and childless for its TTL.
    pub const fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTTL | CreateMode::PersistentSequentialWithTTL
        )
    }
}

/// Permission bits of `ACL.perms` (`ZooDefs.Perms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms;

impl Perms {
    /// getData, getChildren, exists' stat.
    pub const READ: i32 = 1;
    /// setData.
    pub const WRITE: i32 = 1 << 1;
    /// Creating children.
    pub const CREATE: i32 = 1 << 2;
    /// Deleting children.
    pub const DELETE: i32 = 1 << 3;
    /// setACL.
    pub const ADMIN: i32 = 1 << 4;
    /// All of the above.
    pub const ALL: i32 = Self::READ | Self::WRITE | Self::CREATE | Self::DELETE | Self::ADMIN;
}

/// xid of server-to-client watch notifications.
pub const NOTIFICATION_XID: i32 = -1;
/// xid of pings and their replies.
pub const PING_XID: i32 = -2;
/// xid of `auth` requests and their replies.
pub const AUTH_XID: i32 = -4;
/// xid of `setWatches`/`setWatches2` requests and their replies.
pub const SET_WATCHES_XID: i32 = -8;
