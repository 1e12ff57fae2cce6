//! Client requests as the pipeline receives them: decoded once, in the
//! connection task, and never re-parsed.

use jute::consts::OpCode;
use jute::multi::MultiRequest;
use jute::proto::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, CreateRequest,
    CreateTTLRequest, DeleteRequest, ExistsRequest, GetACLRequest, GetAllChildrenNumberRequest,
    GetChildren2Request, GetChildrenRequest, GetDataRequest, GetEphemeralsRequest,
    RemoveWatchesRequest, SetACLRequest, SetDataRequest, SetWatches, SetWatches2, SyncRequest,
};
use jute::Record;

/// One decoded client operation.
#[derive(Debug, Clone)]
pub enum ClientOp {
    /// create, create2 and createContainer share a request record; `op` keeps
    /// which one was asked for, since replies and txns differ.
    Create {
        op: OpCode,
        req: CreateRequest,
    },
    CreateTtl(CreateTTLRequest),
    Delete(DeleteRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetACLRequest),
    SetAcl(SetACLRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    GetEphemerals(GetEphemeralsRequest),
    Check(CheckVersionRequest),
    Multi(MultiRequest),
    MultiRead(MultiRequest),
    Sync(SyncRequest),
    Ping,
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    AddWatch(AddWatchRequest),
    RemoveWatches(RemoveWatchesRequest),
    CheckWatches(CheckWatchesRequest),
    WhoAmI,
    CloseSession,
    /// A known op code this server does not serve here (sasl, reconfig in
    /// standalone, deleteContainer from a client, …) or an unknown one.
    Unimplemented(i32),
    /// The op code is known but the body did not decode: ZooKeeper answers
    /// MarshallingError and keeps the connection.
    Malformed(i32),
    /// A request of this op code waited at the request throttler longer
    /// than `zookeeper.throttled_op_wait_time`: it is not prepared, logged or
    /// applied, and is answered THROTTLEDOP in its place among the
    /// connection's replies (`Request.isThrottled`).
    Throttled(i32),
}

impl ClientOp {
    /// Decodes the body that follows a `RequestHeader` of type `op`.
    pub fn decode(op: i32, body: &[u8]) -> ClientOp {
        let Ok(code) = OpCode::try_from(op) else {
            return ClientOp::Unimplemented(op);
        };
        let mut input = body;
        let r = &mut input;
        let decoded = match code {
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer => {
                CreateRequest::deserialize(r).map(|req| ClientOp::Create { op: code, req })
            }
            OpCode::CreateTTL => CreateTTLRequest::deserialize(r).map(ClientOp::CreateTtl),
            OpCode::Delete => DeleteRequest::deserialize(r).map(ClientOp::Delete),
            OpCode::Exists => ExistsRequest::deserialize(r).map(ClientOp::Exists),
            OpCode::GetData => GetDataRequest::deserialize(r).map(ClientOp::GetData),
            OpCode::SetData => SetDataRequest::deserialize(r).map(ClientOp::SetData),
            OpCode::GetACL => GetACLRequest::deserialize(r).map(ClientOp::GetAcl),
            OpCode::SetACL => SetACLRequest::deserialize(r).map(ClientOp::SetAcl),
            OpCode::GetChildren => GetChildrenRequest::deserialize(r).map(ClientOp::GetChildren),
            OpCode::GetChildren2 => GetChildren2Request::deserialize(r).map(ClientOp::GetChildren2),
            OpCode::GetAllChildrenNumber => {
                GetAllChildrenNumberRequest::deserialize(r).map(ClientOp::GetAllChildrenNumber)
            }
            OpCode::GetEphemerals => {
                GetEphemeralsRequest::deserialize(r).map(ClientOp::GetEphemerals)
            }
            OpCode::Check => CheckVersionRequest::deserialize(r).map(ClientOp::Check),
            OpCode::Multi => MultiRequest::deserialize(r).map(ClientOp::Multi),
            OpCode::MultiRead => MultiRequest::deserialize(r).map(ClientOp::MultiRead),
            OpCode::Sync => SyncRequest::deserialize(r).map(ClientOp::Sync),
            OpCode::Ping => Ok(ClientOp::Ping),
            OpCode::Auth => AuthPacket::deserialize(r).map(ClientOp::Auth),
            OpCode::SetWatches => SetWatches::deserialize(r).map(ClientOp::SetWatches),
            OpCode::SetWatches2 => SetWatches2::deserialize(r).map(ClientOp::SetWatches2),
            OpCode::AddWatch => AddWatchRequest::deserialize(r).map(ClientOp::AddWatch),
            OpCode::RemoveWatches => {
                RemoveWatchesRequest::deserialize(r).map(ClientOp::RemoveWatches)
            }
            OpCode::CheckWatches => CheckWatchesRequest::deserialize(r).map(ClientOp::CheckWatches),
            OpCode::WhoAmI => Ok(ClientOp::WhoAmI),
            OpCode::CloseSession => Ok(ClientOp::CloseSession),
            _ => return ClientOp::Unimplemented(op),
        };
        decoded.unwrap_or(ClientOp::Malformed(op))
    }

    /// `Request.isThrottlable` for a request of op code `op` that reaches
    /// the request throttler: not ping, createSession or closeSession. Op
    /// codes `Request.isValid` refuses (unknown ones, notification, auth,
    /// sasl) are answered as they would be unthrottled, so never count.
    pub fn is_throttlable(op: i32) -> bool {
        match OpCode::try_from(op) {
            Ok(
                OpCode::Ping
                | OpCode::CloseSession
                | OpCode::CreateSession
                | OpCode::Notification
                | OpCode::Auth
                | OpCode::Sasl
                | OpCode::Error,
            ) => false,
            Ok(_) => true,
            Err(_) => false,
        }
    }

    /// Whether this op becomes a txn (goes through sync before final).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            ClientOp::Create { .. }
                | ClientOp::CreateTtl(_)
                | ClientOp::Delete(_)
                | ClientOp::SetData(_)
                | ClientOp::SetAcl(_)
                | ClientOp::Check(_)
                | ClientOp::Multi(_)
                | ClientOp::CloseSession
        )
    }
}

impl ClientOp {
    /// The op code and request record a follower forwards to the leader
    /// (`Learner.request`: the client's request as it arrived). Writes and
    /// sync only; a malformed write goes with an empty body, which the
    /// leader's prep refuses the same way (MarshallingError).
    pub fn forward_body(&self) -> (i32, Vec<u8>) {
        fn enc<R: Record>(op: OpCode, r: &R) -> (i32, Vec<u8>) {
            let mut out = Vec::with_capacity(r.serialized_len());
            r.serialize(&mut out);
            (op as i32, out)
        }
        match self {
            ClientOp::Create { op, req } => enc(*op, req),
            ClientOp::CreateTtl(r) => enc(OpCode::CreateTTL, r),
            ClientOp::Delete(r) => enc(OpCode::Delete, r),
            ClientOp::SetData(r) => enc(OpCode::SetData, r),
            ClientOp::SetAcl(r) => enc(OpCode::SetACL, r),
            ClientOp::Check(r) => enc(OpCode::Check, r),
            ClientOp::Multi(r) => enc(OpCode::Multi, r),
            ClientOp::Sync(r) => enc(OpCode::Sync, r),
            ClientOp::CloseSession => (OpCode::CloseSession as i32, Vec::new()),
            ClientOp::Malformed(code) => (*code, Vec::new()),
            other => (other.op_code_guess(), Vec::new()),
        }
    }

    /// The op code of a request that is never forwarded (for logs only).
    fn op_code_guess(&self) -> i32 {
        match self {
            ClientOp::Unimplemented(c) | ClientOp::Throttled(c) => *c,
            _ => OpCode::Error as i32,
        }
    }
}
