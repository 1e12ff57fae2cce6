//! `module org.apache.zookeeper.proto`: the client–server protocol records.
//! Same order as the IDL.
//!
//! Every client frame after the handshake is a [`RequestHeader`] followed by
//! the request record for its op code; every server frame is a
//! [`ReplyHeader`] followed, when `err` is 0, by the response record.
//! [`ConnectRequest`] and [`ConnectResponse`] are the only records with
//! hand-written codecs: their trailing `readOnly` flag may be absent.

use bytes::BufMut;

use crate::codec::{
    buffer_len, jute_record, read_bool, read_buffer, read_int, read_long, write_bool, write_buffer,
    write_int, write_long, Field, Record, BOOL_LEN, INT_LEN, LONG_LEN,
};
use crate::data::{ClientInfo, Stat, ACL};
use crate::error::JuteError;

/// The first frame a client sends, to open a new session (`session_id` 0) or
/// to resume one.
///
/// `read_only` is the last field and older clients (ZooKeeper 3.3 and
/// before) do not send it. ZooKeeper's server reads the fixed fields, then
/// tries to read the flag and, if the frame has ended, treats the client as
/// "old": `read_only` is false and the [`ConnectResponse`] it gets back also
/// omits the flag. [`Record::deserialize`] accepts both forms;
/// [`ConnectRequest::deserialize_compat`] also reports which one was seen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    /// Highest zxid the client has seen; a server that is behind refuses it.
    pub last_zxid_seen: i64,
    /// Requested session timeout in milliseconds.
    pub time_out: i32,
    /// 0 for a new session, else the session to reattach.
    pub session_id: i64,
    /// Session password (16 bytes from the server, or empty for new).
    pub passwd: Option<Vec<u8>>,
    /// Whether the client accepts a read-only server.
    pub read_only: bool,
}

impl ConnectRequest {
    /// Decodes a connect request, returning it and whether the optional
    /// `readOnly` byte was present (`true`) or the frame ended before it
    /// (`false`, an old client whose response must also omit the flag).
    ///
    /// The byte is considered present when any input remains after `passwd`.
    pub fn deserialize_compat(input: &mut &[u8]) -> Result<(Self, bool), JuteError> {
        let protocol_version = read_int(input, "ConnectRequest.protocol_version")?;
        let last_zxid_seen = read_long(input, "ConnectRequest.last_zxid_seen")?;
        let time_out = read_int(input, "ConnectRequest.time_out")?;
        let session_id = read_long(input, "ConnectRequest.session_id")?;
        let passwd = read_buffer(input, "ConnectRequest.passwd")?;
        let has_read_only = !input.is_empty();
        let read_only = has_read_only && read_bool(input, "ConnectRequest.read_only")?;
        let request = ConnectRequest {
            protocol_version,
            last_zxid_seen,
            time_out,
            session_id,
            passwd,
            read_only,
        };
        Ok((request, has_read_only))
    }

    /// Encodes the request, with the trailing `readOnly` byte only if
    /// `include_read_only` (false imitates a pre-3.4 client).
    pub fn serialize_compat<B: BufMut>(&self, out: &mut B, include_read_only: bool) {
        write_int(out, self.protocol_version);
        write_long(out, self.last_zxid_seen);
        write_int(out, self.time_out);
        write_long(out, self.session_id);
        write_buffer(out, self.passwd.as_deref());
        if include_read_only {
            write_bool(out, self.read_only);
        }
    }

    /// Exact number of bytes [`ConnectRequest::serialize_compat`] writes.
    pub fn serialized_len_compat(&self, include_read_only: bool) -> usize {
        INT_LEN
            + LONG_LEN
            + INT_LEN
            + LONG_LEN
            + buffer_len(self.passwd.as_deref())
            + if include_read_only { BOOL_LEN } else { 0 }
    }
}

impl Record for ConnectRequest {
    /// Always writes `readOnly` (the current protocol).
    fn serialize<B: BufMut>(&self, out: &mut B) {
        self.serialize_compat(out, true);
    }
    fn serialized_len(&self) -> usize {
        self.serialized_len_compat(true)
    }
    /// Accepts the request with or without `readOnly` (absent = false).
    fn deserialize(input: &mut &[u8]) -> Result<Self, JuteError> {
        Self::deserialize_compat(input).map(|(request, _)| request)
    }
}

/// The server's answer to a [`ConnectRequest`].
///
/// ZooKeeper writes the trailing `readOnly` flag only when the client's
/// request carried it; an old client would otherwise misread the frame.
/// [`Record::serialize`] always writes it; the server uses
/// [`ConnectResponse::serialize_compat`] with the presence flag returned by
/// [`ConnectRequest::deserialize_compat`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    /// Negotiated session timeout in milliseconds; 0 when the session is
    /// refused (expired or invalid).
    pub time_out: i32,
    /// The session id; 0 when refused.
    pub session_id: i64,
    /// The session password (16 bytes).
    pub passwd: Option<Vec<u8>>,
    /// Whether this server is a read-only server.
    pub read_only: bool,
}

impl ConnectResponse {
    /// Decodes a connect response, returning it and whether the optional
    /// `readOnly` byte was present (it is when any input remains).
    pub fn deserialize_compat(input: &mut &[u8]) -> Result<(Self, bool), JuteError> {
        let protocol_version = read_int(input, "ConnectResponse.protocol_version")?;
        let time_out = read_int(input, "ConnectResponse.time_out")?;
        let session_id = read_long(input, "ConnectResponse.session_id")?;
        let passwd = read_buffer(input, "ConnectResponse.passwd")?;
        let has_read_only = !input.is_empty();
        let read_only = has_read_only && read_bool(input, "ConnectResponse.read_only")?;
        let response = ConnectResponse {
            protocol_version,
            time_out,
            session_id,
            passwd,
            read_only,
        };
        Ok((response, has_read_only))
    }

    /// Encodes the response, with the trailing `readOnly` byte only if
    /// `include_read_only`, i.e. only if the client's request had it.
    pub fn serialize_compat<B: BufMut>(&self, out: &mut B, include_read_only: bool) {
        write_int(out, self.protocol_version);
        write_int(out, self.time_out);
        write_long(out, self.session_id);
        write_buffer(out, self.passwd.as_deref());
        if include_read_only {
            write_bool(out, self.read_only);
        }
    }

    /// Exact number of bytes [`ConnectResponse::serialize_compat`] writes.
    pub fn serialized_len_compat(&self, include_read_only: bool) -> usize {
        INT_LEN
            + INT_LEN
            + LONG_LEN
            + buffer_len(self.passwd.as_deref())
            + if include_read_only { BOOL_LEN } else { 0 }
    }
}

impl Record for ConnectResponse {
    /// Always writes `readOnly`; see [`ConnectResponse::serialize_compat`]
    /// for old clients.
    fn serialize<B: BufMut>(&self, out: &mut B) {
        self.serialize_compat(out, true);
    }
    fn serialized_len(&self) -> usize {
        self.serialized_len_compat(true)
    }
    /// Accepts the response with or without `readOnly` (absent = false).
    fn deserialize(input: &mut &[u8]) -> Result<Self, JuteError> {
        Self::deserialize_compat(input).map(|(response, _)| response)
    }
}

/// Lets the connect records nest like any other (they never do in the IDL,
/// but the generic vector and field helpers then work for them too).
macro_rules! field_via_record {
    ($($name:ident),*) => {$(
        impl Field for $name {
            fn write<B: BufMut>(&self, out: &mut B) {
                Record::serialize(self, out);
            }
            fn encoded_len(&self) -> usize {
                Record::serialized_len(self)
            }
            fn read(input: &mut &[u8], _reading: &'static str) -> Result<Self, JuteError> {
                <Self as Record>::deserialize(input)
            }
        }
    )*};
}
field_via_record!(ConnectRequest, ConnectResponse);

jute_record! {
    /// Sent (xid -8, op setWatches) after reconnecting, to re-register the
    /// client's watches; the server fires those that changed after
    /// `relative_zxid`.
    SetWatches {
        relative_zxid: i64,
        data_watches: Vec<String>,
        exist_watches: Vec<String>,
        child_watches: Vec<String>,
    }
}

jute_record! {
    /// [`SetWatches`] plus persistent watches (op setWatches2, 3.6+).
    SetWatches2 {
        relative_zxid: i64,
        data_watches: Vec<String>,
        exist_watches: Vec<String>,
        child_watches: Vec<String>,
        persistent_watches: Vec<String>,
        persistent_recursive_watches: Vec<String>,
    }
}

jute_record! {
    /// Prefix of every client request frame after the handshake.
    RequestHeader {
        /// Client-chosen id echoed in the reply; negative values are the
        /// special xids in `crate::consts`.
        xid: i32,
        /// The op code (`crate::consts::OpCode`).
        type_: i32,
    }
}

jute_record! {
    /// Separator inside multi requests and responses (see `crate::multi`).
    MultiHeader {
        type_: i32,
        done: bool,
        err: i32,
    }
}

jute_record! {
    /// Body of an `auth` request (xid -4): `addauth scheme auth`.
    AuthPacket {
        /// Unused by ZooKeeper; clients send 0.
        type_: i32,
        scheme: String,
        auth: Option<Vec<u8>>,
    }
}

jute_record! {
    /// Prefix of every server frame after the handshake.
    ReplyHeader {
        /// The request's xid, or a special xid for notifications and pings.
        xid: i32,
        /// The last zxid the server has applied.
        zxid: i64,
        /// 0 or a `crate::consts::ErrorCode`; a non-zero err has no body.
        err: i32,
    }
}

jute_record! {
    /// Body of `getData`.
    GetDataRequest {
        path: String,
        watch: bool,
    }
}

jute_record! {
    /// Body of `setData`; `version` -1 matches any version.
    SetDataRequest {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    }
}

jute_record! {
    /// Body of `reconfig`: incremental (joining/leaving) or bulk
    /// (new_members) change of the ensemble.
    ReconfigRequest {
        joining_servers: String,
        leaving_servers: String,
        new_members: String,
        /// Expected current config version, -1 for any.
        cur_config_id: i64,
    }
}

jute_record! {
    /// Reply to `setData`.
    SetDataResponse {
        stat: Stat,
    }
}

jute_record! {
    /// Body of a `sasl` request: the client's next SASL token. (Despite
    /// the name, this, not [`SetSASLRequest`], is what clients send.)
    GetSASLRequest {
        token: Option<Vec<u8>>,
    }
}

jute_record! {
    /// Unused by ZooKeeper's client and server; kept because the IDL has it.
    SetSASLRequest {
        token: Option<Vec<u8>>,
    }
}

jute_record! {
    /// Reply to a `sasl` request: the server's SASL challenge (null once
    /// the exchange is complete).
    SetSASLResponse {
        token: Option<Vec<u8>>,
    }
}

jute_record! {
    /// Body of `create`, `create2` and `createContainer`.
    CreateRequest {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        /// A `crate::consts::CreateMode` flag value.
        flags: i32,
    }
}

jute_record! {
    /// Body of `createTTL`: [`CreateRequest`] plus a TTL in milliseconds.
    CreateTTLRequest {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        flags: i32,
        ttl: i64,
    }
}

jute_record! {
    /// Body of `delete` and `deleteContainer`; `version` -1 matches any.
    DeleteRequest {
        path: String,
        version: i32,
    }
}

jute_record! {
    /// Body of `getChildren`.
    GetChildrenRequest {
        path: String,
        watch: bool,
    }
}

jute_record! {
    /// Body of `getAllChildrenNumber`.
    GetAllChildrenNumberRequest {
        path: String,
    }
}

jute_record! {
    /// Body of `getChildren2` (children plus the parent's stat).
    GetChildren2Request {
        path: String,
        watch: bool,
    }
}

jute_record! {
    /// Body of `check` (only inside a multi); `version` -1 matches any.
    CheckVersionRequest {
        path: String,
        version: i32,
    }
}

jute_record! {
    /// Legacy quota request; no op code uses it any more.
    GetMaxChildrenRequest {
        path: String,
    }
}

jute_record! {
    /// Legacy quota reply; no op code uses it any more.
    GetMaxChildrenResponse {
        max: i32,
    }
}

jute_record! {
    /// Legacy quota request; no op code uses it any more.
    SetMaxChildrenRequest {
        path: String,
        max: i32,
    }
}

jute_record! {
    /// Body of `sync`.
    SyncRequest {
        path: String,
    }
}

jute_record! {
    /// Reply to `sync`.
    SyncResponse {
        path: String,
    }
}

jute_record! {
    /// Body of `getACL`.
    GetACLRequest {
        path: String,
    }
}

jute_record! {
    /// Body of `setACL`; `version` is the expected ACL version (-1 = any).
    SetACLRequest {
        path: String,
        acl: Vec<ACL>,
        version: i32,
    }
}

jute_record! {
    /// Reply to `setACL`.
    SetACLResponse {
        stat: Stat,
    }
}

jute_record! {
    /// Body of `addWatch`; `mode` is a `crate::consts::AddWatchMode`.
    AddWatchRequest {
        path: String,
        mode: i32,
    }
}

jute_record! {
    /// A watch notification, sent with xid -1.
    WatcherEvent {
        /// `crate::consts::EventType`.
        type_: i32,
        /// `crate::consts::KeeperState`.
        state: i32,
        path: String,
    }
}

jute_record! {
    /// The result of a failed op inside a multi response.
    ErrorResponse {
        err: i32,
    }
}

jute_record! {
    /// Reply to `create`.
    CreateResponse {
        path: String,
    }
}

jute_record! {
    /// Reply to `create2`, `createContainer` and `createTTL`.
    Create2Response {
        path: String,
        stat: Stat,
    }
}

jute_record! {
    /// Body of `exists`.
    ExistsRequest {
        path: String,
        watch: bool,
    }
}

jute_record! {
    /// Reply to `exists`.
    ExistsResponse {
        stat: Stat,
    }
}

jute_record! {
    /// Reply to `getData`.
    GetDataResponse {
        data: Option<Vec<u8>>,
        stat: Stat,
    }
}

jute_record! {
    /// Reply to `getChildren`.
    GetChildrenResponse {
        children: Vec<String>,
    }
}

jute_record! {
    /// Reply to `getAllChildrenNumber`.
    GetAllChildrenNumberResponse {
        total_number: i32,
    }
}

jute_record! {
    /// Reply to `getChildren2`.
    GetChildren2Response {
        children: Vec<String>,
        stat: Stat,
    }
}

jute_record! {
    /// Reply to `getACL`.
    GetACLResponse {
        acl: Vec<ACL>,
        stat: Stat,
    }
}

jute_record! {
    /// Body of `checkWatches`; `type_` is a `crate::consts::WatcherType`.
    CheckWatchesRequest {
        path: String,
        type_: i32,
    }
}

jute_record! {
    /// Body of `removeWatches`; `type_` is a `crate::consts::WatcherType`.
    RemoveWatchesRequest {
        path: String,
        type_: i32,
    }
}

jute_record! {
    /// Body of `getEphemerals`; an empty or "/" prefix means all.
    GetEphemeralsRequest {
        prefix_path: String,
    }
}

jute_record! {
    /// Reply to `getEphemerals`.
    GetEphemeralsResponse {
        ephemerals: Vec<String>,
    }
}

jute_record! {
    /// Reply to `whoAmI` (the request has no body).
    WhoAmIResponse {
        client_info: Vec<ClientInfo>,
    }
}
