//! The unit of change: a `TxnHeader` plus the body its type names.
//!
//! Everything that modifies the tree is one of these, produced by prep,
//! logged by sync and applied by final — for live requests, log replay and
//! (later) learner sync alike. It sits below both the pipeline and
//! [`crate::persist`], which read and write it.
//!
//! A txn has one byte encoding, ZooKeeper's `Util.marshallTxnEntry`
//! (header, body, optional digest: [`crate::persist::txnlog::format::marshal_txn`]).
//! Encoded once into a [`bytes::Bytes`], the same allocation is what the log
//! writer appends ([`crate::persist::FileTxnLog::append_marshalled`]), what a
//! leader sends in a PROPOSAL, and what the committed-proposal window holds
//! ([`crate::persist::CommittedLog`]); a txn read back from the log keeps the
//! bytes it was read from ([`crate::persist::txnlog::LogEntry`]'s `bytes`),
//! so replay fills the window without encoding again.

use jute::consts::OpCode;
use jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, DeleteTxn, ErrorTxn, MultiTxn, SetACLTxn, SetDataTxn, Txn, TxnDigest, TxnHeader,
};
use jute::{JuteError, Record};

/// Why a logged txn body could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum TxnDecodeError {
    Jute(JuteError),
    /// The header names an op code that carries no txn.
    UnknownType(i32),
    /// A multi txn lists a multi among its sub-txns. ZooKeeper never writes
    /// one and refuses to apply one ("Invalid type of op"); decoding it
    /// would recurse once per level, so a crafted log entry could exhaust
    /// the stack.
    NestedMulti,
}

impl std::fmt::Display for TxnDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxnDecodeError::Jute(e) => write!(f, "{e}"),
            TxnDecodeError::UnknownType(t) => write!(f, "txn type {t} carries no txn"),
            TxnDecodeError::NestedMulti => f.write_str("multi txn inside a multi txn"),
        }
    }
}

impl std::error::Error for TxnDecodeError {}

impl From<JuteError> for TxnDecodeError {
    fn from(e: JuteError) -> Self {
        TxnDecodeError::Jute(e)
    }
}

/// A txn body, tagged by the op code that `TxnHeader.type` carries.
#[derive(Debug, Clone, PartialEq)]
pub enum TxnBody {
    Create(CreateTxn),
    /// `create2` is logged with the create op code in ZooKeeper's multi, but
    /// as a top-level txn it keeps its own type; the body is a CreateTxn.
    Create2(CreateTxn),
    CreateContainer(CreateContainerTxn),
    CreateTtl(CreateTTLTxn),
    Delete(DeleteTxn),
    DeleteContainer(DeleteTxn),
    SetData(SetDataTxn),
    SetAcl(SetACLTxn),
    Check(CheckVersionTxn),
    CreateSession(CreateSessionTxn),
    CloseSession(CloseSessionTxn),
    Error(ErrorTxn),
    Multi(Vec<TxnBody>),
}

impl TxnBody {
    /// The op code this body is logged under.
    pub fn op_code(&self) -> OpCode {
        match self {
            TxnBody::Create(_) => OpCode::Create,
            TxnBody::Create2(_) => OpCode::Create2,
            TxnBody::CreateContainer(_) => OpCode::CreateContainer,
            TxnBody::CreateTtl(_) => OpCode::CreateTTL,
            TxnBody::Delete(_) => OpCode::Delete,
            TxnBody::DeleteContainer(_) => OpCode::DeleteContainer,
            TxnBody::SetData(_) => OpCode::SetData,
            TxnBody::SetAcl(_) => OpCode::SetACL,
            TxnBody::Check(_) => OpCode::Check,
            TxnBody::CreateSession(_) => OpCode::CreateSession,
            TxnBody::CloseSession(_) => OpCode::CloseSession,
            TxnBody::Error(_) => OpCode::Error,
            TxnBody::Multi(_) => OpCode::Multi,
        }
    }

    /// Serializes the body as ZooKeeper logs it (multi as a `MultiTxn` of
    /// `Txn{type, data}` entries).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize_into(&mut out);
        out
    }

    fn serialize_into(&self, out: &mut Vec<u8>) {
        match self {
            TxnBody::Create(t) | TxnBody::Create2(t) => t.serialize(out),
            TxnBody::CreateContainer(t) => t.serialize(out),
            TxnBody::CreateTtl(t) => t.serialize(out),
            TxnBody::Delete(t) | TxnBody::DeleteContainer(t) => t.serialize(out),
            TxnBody::SetData(t) => t.serialize(out),
            TxnBody::SetAcl(t) => t.serialize(out),
            TxnBody::Check(t) => t.serialize(out),
            TxnBody::CreateSession(t) => t.serialize(out),
            TxnBody::CloseSession(t) => t.serialize(out),
            TxnBody::Error(t) => t.serialize(out),
            TxnBody::Multi(subs) => {
                let txns = subs
                    .iter()
                    .map(|s| Txn {
                        type_: s.op_code() as i32,
                        data: Some(s.to_bytes()),
                    })
                    .collect();
                MultiTxn { txns }.serialize(out);
            }
        }
    }

    /// Decodes a body logged under `op`, ignoring anything after it.
    pub fn from_bytes(op: i32, mut input: &[u8]) -> Result<TxnBody, TxnDecodeError> {
        Self::decode(op, &mut input)
    }

    /// Decodes a body logged under `op` from the front of `input`, advancing
    /// it past the body (a log entry may carry a `TxnDigest` after it).
    pub fn decode(op: i32, input: &mut &[u8]) -> Result<TxnBody, TxnDecodeError> {
        let code = OpCode::try_from(op).map_err(|_| TxnDecodeError::UnknownType(op))?;
        Ok(match code {
            OpCode::Create => TxnBody::Create(CreateTxn::deserialize(input)?),
            OpCode::Create2 => TxnBody::Create2(CreateTxn::deserialize(input)?),
            OpCode::CreateContainer => {
                TxnBody::CreateContainer(CreateContainerTxn::deserialize(input)?)
            }
            OpCode::CreateTTL => TxnBody::CreateTtl(CreateTTLTxn::deserialize(input)?),
            OpCode::Delete => TxnBody::Delete(DeleteTxn::deserialize(input)?),
            OpCode::DeleteContainer => TxnBody::DeleteContainer(DeleteTxn::deserialize(input)?),
            OpCode::SetData => TxnBody::SetData(SetDataTxn::deserialize(input)?),
            OpCode::SetACL => TxnBody::SetAcl(SetACLTxn::deserialize(input)?),
            OpCode::Check => TxnBody::Check(CheckVersionTxn::deserialize(input)?),
            OpCode::CreateSession => TxnBody::CreateSession(CreateSessionTxn::deserialize(input)?),
            OpCode::CloseSession => TxnBody::CloseSession(CloseSessionTxn::deserialize(input)?),
            OpCode::Error => TxnBody::Error(ErrorTxn::deserialize(input)?),
            OpCode::Multi => {
                let multi = MultiTxn::deserialize(input)?;
                let mut subs = Vec::with_capacity(multi.txns.len());
                for t in multi.txns {
                    if t.type_ == OpCode::Multi as i32 {
                        return Err(TxnDecodeError::NestedMulti);
                    }
                    subs.push(TxnBody::from_bytes(
                        t.type_,
                        t.data.as_deref().unwrap_or(&[]),
                    )?);
                }
                TxnBody::Multi(subs)
            }
            _ => return Err(TxnDecodeError::UnknownType(op)),
        })
    }
}

/// A prepared change: what sync logs and final applies.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedTxn {
    pub header: TxnHeader,
    pub body: TxnBody,
    /// The tree digest once this txn is applied, as prep computed it
    /// (ZooKeeper 3.6+ logs it after the txn); `None` for error txns and
    /// when `zookeeper.digest.enabled=false`.
    pub digest: Option<TxnDigest>,
}

impl LoggedTxn {
    pub fn zxid(&self) -> i64 {
        self.header.zxid
    }
}
