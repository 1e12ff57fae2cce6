//! Multi requests and responses (`multi` op 14, `multiRead` op 22).
//!
//! ZooKeeper has no IDL class for these; `MultiOperationRecord` and
//! `MultiResponse` frame them by hand as a sequence of
//! ([`MultiHeader`], record) pairs closed by a header with `done` set:
//!
//! ```text
//! request:  {type=op, done=false, err=-1} op-request ... {type=-1, done=true, err=-1}
//! response: {type=t,  done=false, err=e}  result     ... {type=-1, done=true, err=-1}
//! ```
//!
//! In a response, `err` is the error code for an error result (type -1) and
//! 0 for all others. Decoding stops at the first header with `done` set,
//! whatever its other fields, as ZooKeeper does.

use bytes::BufMut;

use crate::codec::{Record, BOOL_LEN, INT_LEN};
use crate::consts::OpCode;
use crate::error::{JuteError, Malformation};
use crate::proto::{
    CheckVersionRequest, Create2Response, CreateRequest, CreateResponse, CreateTTLRequest,
    DeleteRequest, ErrorResponse, GetChildrenRequest, GetChildrenResponse, GetDataRequest,
    GetDataResponse, MultiHeader, SetDataRequest, SetDataResponse,
};

/// Encoded size of a [`MultiHeader`].
const HEADER_LEN: usize = INT_LEN + BOOL_LEN + INT_LEN;

/// Where header errors are reported.
const HEADER_TYPE: &str = "MultiHeader.type_";

fn write_header<B: BufMut>(out: &mut B, type_: i32, done: bool, err: i32) {
    MultiHeader { type_, done, err }.serialize(out);
}

/// The header that ends both requests and responses.
fn write_done<B: BufMut>(out: &mut B) {
    write_header(out, -1, true, -1);
}

/// One operation of a multi request; the variant fixes the op code in its
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// `create` (1).
    Create(CreateRequest),
    /// `create2` (15): like create, but the result carries the stat.
    Create2(CreateRequest),
    /// `createContainer` (19).
    CreateContainer(CreateRequest),
    /// `createTTL` (21).
    CreateTTL(CreateTTLRequest),
    /// `delete` (2).
    Delete(DeleteRequest),
    /// `setData` (5).
    SetData(SetDataRequest),
    /// `check` (13): fails the multi unless the version matches.
    Check(CheckVersionRequest),
    /// `getChildren` (8), only in `multiRead`; clients send `watch` false.
    GetChildren(GetChildrenRequest),
    /// `getData` (4), only in `multiRead`; clients send `watch` false.
    GetData(GetDataRequest),
}

impl MultiOp {
    /// The op code written in this op's header.
    pub fn op_code(&self) -> OpCode {
        match self {
            MultiOp::Create(_) => OpCode::Create,
            MultiOp::Create2(_) => OpCode::Create2,
            MultiOp::CreateContainer(_) => OpCode::CreateContainer,
            MultiOp::CreateTTL(_) => OpCode::CreateTTL,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }

    /// True for the read ops allowed in `multiRead`, false for the
    /// transaction ops allowed in `multi`.
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }

    /// The znode path the op addresses.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => &r.path,
            MultiOp::CreateTTL(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }

    fn write_body<B: BufMut>(&self, out: &mut B) {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => {
                r.serialize(out)
            }
            MultiOp::CreateTTL(r) => r.serialize(out),
            MultiOp::Delete(r) => r.serialize(out),
            MultiOp::SetData(r) => r.serialize(out),
            MultiOp::Check(r) => r.serialize(out),
            MultiOp::GetChildren(r) => r.serialize(out),
            MultiOp::GetData(r) => r.serialize(out),
        }
    }

    fn body_len(&self) -> usize {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => {
                r.serialized_len()
            }
            MultiOp::CreateTTL(r) => r.serialized_len(),
            MultiOp::Delete(r) => r.serialized_len(),
            MultiOp::SetData(r) => r.serialized_len(),
            MultiOp::Check(r) => r.serialized_len(),
            MultiOp::GetChildren(r) => r.serialized_len(),
            MultiOp::GetData(r) => r.serialized_len(),
        }
    }

    /// Decodes the body that follows a header of type `type_`.
    fn read_body(type_: i32, input: &mut &[u8]) -> Result<MultiOp, JuteError> {
        let op = match OpCode::try_from(type_) {
            Ok(OpCode::Create) => MultiOp::Create(read_create(input)?),
            Ok(OpCode::Create2) => MultiOp::Create2(read_create(input)?),
            Ok(OpCode::CreateContainer) => MultiOp::CreateContainer(read_create(input)?),
            // ZooKeeper does not validate TTL-request flags while decoding
            // (it falls back to PERSISTENT), so neither does this.
            Ok(OpCode::CreateTTL) => MultiOp::CreateTTL(CreateTTLRequest::deserialize(input)?),
            Ok(OpCode::Delete) => MultiOp::Delete(DeleteRequest::deserialize(input)?),
            Ok(OpCode::SetData) => MultiOp::SetData(SetDataRequest::deserialize(input)?),
            Ok(OpCode::Check) => MultiOp::Check(CheckVersionRequest::deserialize(input)?),
            Ok(OpCode::GetChildren) => {
                MultiOp::GetChildren(GetChildrenRequest::deserialize(input)?)
            }
            Ok(OpCode::GetData) => MultiOp::GetData(GetDataRequest::deserialize(input)?),
            _ => {
                return Err(JuteError::malformed(
                    HEADER_TYPE,
                    Malformation::UnknownOpType(type_),
                ))
            }
        };
        Ok(op)
    }
}

/// Decodes a create/create2/createContainer body. ZooKeeper 3.8.0's decoder
/// (`Op.create` with `CreateMode.fromFlag(flags, PERSISTENT)`) accepts any
/// flags here; invalid ones fail later, in prep, as BadArguments.
fn read_create(input: &mut &[u8]) -> Result<CreateRequest, JuteError> {
    CreateRequest::deserialize(input)
}

/// The body of a `multi` or `multiRead` request.
///
/// Decoding mirrors `MultiOperationRecord.deserialize`: besides structural
/// errors it refuses, as [`JuteError::Malformed`], a header type that is not
/// one of the [`MultiOp`] codes, create flags that are no [`CreateMode`]
/// (create, create2, createContainer only), and a mix of read and write
/// ops. Whether the ops suit the outer op code (multi vs multiRead) is left
/// to the caller. Encoding writes whatever it is given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiRequest {
    pub ops: Vec<MultiOp>,
}

impl MultiRequest {
    /// `Some(true)` if all ops are reads, `Some(false)` if all are writes,
    /// `None` if the request is empty or mixed.
    pub fn is_read(&self) -> Option<bool> {
        let first = self.ops.first()?.is_read();
        self.ops
            .iter()
            .all(|op| op.is_read() == first)
            .then_some(first)
    }
}

impl Record for MultiRequest {
    fn serialize<B: BufMut>(&self, out: &mut B) {
        for op in &self.ops {
            write_header(out, op.op_code().code(), false, -1);
            op.write_body(out);
        }
        write_done(out);
    }

    fn serialized_len(&self) -> usize {
        self.ops
            .iter()
            .map(|op| HEADER_LEN + op.body_len())
            .sum::<usize>()
            + HEADER_LEN
    }

    fn deserialize(input: &mut &[u8]) -> Result<Self, JuteError> {
        let mut ops: Vec<MultiOp> = Vec::new();
        loop {
            let header = MultiHeader::deserialize(input)?;
            if header.done {
                return Ok(MultiRequest { ops });
            }
            let op = MultiOp::read_body(header.type_, input)?;
            if let Some(first) = ops.first() {
                if first.is_read() != op.is_read() {
                    return Err(JuteError::malformed(
                        HEADER_TYPE,
                        Malformation::MixedOpKinds,
                    ));
                }
            }
            ops.push(op);
        }
    }
}

/// The result of one op in a multi response.
///
/// The header type ZooKeeper writes is fixed by the variant: a create op
/// answers [`OpResult::Create`] (type 1) while create2, createContainer and
/// createTTL all answer [`OpResult::Create2`] (type 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// Type 1, result of `create`.
    Create(CreateResponse),
    /// Type 15, result of `create2`, `createContainer` and `createTTL`.
    Create2(Create2Response),
    /// Type 2, no body.
    Delete,
    /// Type 5.
    SetData(SetDataResponse),
    /// Type 13, no body.
    Check,
    /// Type 8 (multiRead).
    GetChildren(GetChildrenResponse),
    /// Type 4 (multiRead).
    GetData(GetDataResponse),
    /// Type -1, with the code also in the header's `err`. When a multi
    /// fails, every op gets an error result: ZooKeeper gives the ops before
    /// the failing one code 0 and those after it RuntimeInconsistency.
    Error(ErrorResponse),
}

impl OpResult {
    /// The type code written in this result's header.
    pub fn op_code(&self) -> OpCode {
        match self {
            OpResult::Create(_) => OpCode::Create,
            OpResult::Create2(_) => OpCode::Create2,
            OpResult::Delete => OpCode::Delete,
            OpResult::SetData(_) => OpCode::SetData,
            OpResult::Check => OpCode::Check,
            OpResult::GetChildren(_) => OpCode::GetChildren,
            OpResult::GetData(_) => OpCode::GetData,
            OpResult::Error(_) => OpCode::Error,
        }
    }

    /// The header's `err`: the code for an error result, else 0.
    pub fn header_err(&self) -> i32 {
        match self {
            OpResult::Error(e) => e.err,
            _ => 0,
        }
    }

    fn write_body<B: BufMut>(&self, out: &mut B) {
        match self {
            OpResult::Create(r) => r.serialize(out),
            OpResult::Create2(r) => r.serialize(out),
            OpResult::Delete | OpResult::Check => {}
            OpResult::SetData(r) => r.serialize(out),
            OpResult::GetChildren(r) => r.serialize(out),
            OpResult::GetData(r) => r.serialize(out),
            OpResult::Error(r) => r.serialize(out),
        }
    }

    fn body_len(&self) -> usize {
        match self {
            OpResult::Create(r) => r.serialized_len(),
            OpResult::Create2(r) => r.serialized_len(),
            OpResult::Delete | OpResult::Check => 0,
            OpResult::SetData(r) => r.serialized_len(),
            OpResult::GetChildren(r) => r.serialized_len(),
            OpResult::GetData(r) => r.serialized_len(),
            OpResult::Error(r) => r.serialized_len(),
        }
    }

    /// Decodes the body that follows a header of type `type_`. As in
    /// ZooKeeper, an error result's code is taken from its body.
    fn read_body(type_: i32, input: &mut &[u8]) -> Result<OpResult, JuteError> {
        let result = match OpCode::try_from(type_) {
            Ok(OpCode::Create) => OpResult::Create(CreateResponse::deserialize(input)?),
            Ok(OpCode::Create2) => OpResult::Create2(Create2Response::deserialize(input)?),
            Ok(OpCode::Delete) => OpResult::Delete,
            Ok(OpCode::SetData) => OpResult::SetData(SetDataResponse::deserialize(input)?),
            Ok(OpCode::Check) => OpResult::Check,
            Ok(OpCode::GetChildren) => {
                OpResult::GetChildren(GetChildrenResponse::deserialize(input)?)
            }
            Ok(OpCode::GetData) => OpResult::GetData(GetDataResponse::deserialize(input)?),
            Ok(OpCode::Error) => OpResult::Error(ErrorResponse::deserialize(input)?),
            _ => {
                return Err(JuteError::malformed(
                    HEADER_TYPE,
                    Malformation::UnknownOpType(type_),
                ))
            }
        };
        Ok(result)
    }
}

/// The body of a `multi` or `multiRead` reply: one result per op, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiResponse {
    pub results: Vec<OpResult>,
}

impl Record for MultiResponse {
    fn serialize<B: BufMut>(&self, out: &mut B) {
        for result in &self.results {
            write_header(out, result.op_code().code(), false, result.header_err());
            result.write_body(out);
        }
        write_done(out);
    }

    fn serialized_len(&self) -> usize {
        self.results
            .iter()
            .map(|r| HEADER_LEN + r.body_len())
            .sum::<usize>()
            + HEADER_LEN
    }

    fn deserialize(input: &mut &[u8]) -> Result<Self, JuteError> {
        let mut results = Vec::new();
        loop {
            let header = MultiHeader::deserialize(input)?;
            if header.done {
                return Ok(MultiResponse { results });
            }
            results.push(OpResult::read_body(header.type_, input)?);
        }
    }
}
