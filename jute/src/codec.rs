//! The Jute binary archive: the encoding of `BinaryOutputArchive` /
//! `BinaryInputArchive`.
//!
//! Everything is big-endian and unaligned:
//!
//! | IDL type  | Rust type          | encoding                                             |
//! |-----------|--------------------|------------------------------------------------------|
//! | `int`     | `i32`              | 4 bytes                                              |
//! | `long`    | `i64`              | 8 bytes                                              |
//! | `boolean` | `bool`             | 1 byte; any nonzero byte decodes as true, true encodes as 1 |
//! | `byte`    | `i8`               | 1 byte (Java's byte is signed; the IDL uses none)    |
//! | `ustring` | `String`           | i32 byte length, then UTF-8; length -1 = null        |
//! | `buffer`  | `Option<Vec<u8>>`  | i32 length, then bytes; length -1 = null (`None`)    |
//! | `vector`  | `Vec<T>`           | i32 count, then the elements; count -1 = null        |
//! | record    | the struct         | its fields in IDL order, no framing of its own       |
//!
//! A null ustring or vector decodes as empty: ZooKeeper never gives a null
//! string or list a meaning distinct from empty. A null buffer does have its
//! own meaning (znode data `null` versus empty; zkCli prints "null"), hence
//! `Option`. Encoding never produces a null ustring or vector.
//!
//! Decoding takes `&mut &[u8]` and advances the slice past what it consumed,
//! so records and hand-framed parts can be read one after the other from the
//! same frame. Nothing is allocated on the strength of a length prefix alone:
//! a prefix is first checked against the remaining input.

use bytes::{Buf, BufMut};

use crate::error::{JuteError, Malformation};

/// Encoded size of an `int`.
pub const INT_LEN: usize = 4;
/// Encoded size of a `long`.
pub const LONG_LEN: usize = 8;
/// Encoded size of a `boolean`.
pub const BOOL_LEN: usize = 1;
/// Encoded size of a `byte`.
pub const BYTE_LEN: usize = 1;

/// A Jute record: a class of `zookeeper.jute`, or a hand-framed composite
/// such as a multi request.
pub trait Record: Sized {
    /// Appends this record's Jute encoding.
    fn serialize<B: bytes::BufMut>(&self, out: &mut B);
    /// Exact number of bytes `serialize` writes.
    fn serialized_len(&self) -> usize;
    /// Decodes one record from the front of `input`, advancing it.
    fn deserialize(input: &mut &[u8]) -> Result<Self, JuteError>;
}

/// Anything that can be a field of a record: the primitives, ustring, buffer,
/// vectors and records themselves.
///
/// It differs from [`Record`] only in that decoding is told *which field* is
/// being read, so errors can name it. Every record type implements both.
pub trait Field: Sized {
    /// Appends the encoding of this value.
    fn write<B: BufMut>(&self, out: &mut B);
    /// Exact number of bytes `write` appends.
    fn encoded_len(&self) -> usize;
    /// Decodes a value from the front of `input`, advancing it; `reading`
    /// names the field for error messages.
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError>;
}

/// Encodes a record into a fresh, exactly sized vector.
pub fn to_bytes(record: &impl Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.serialized_len());
    record.serialize(&mut out);
    out
}

/// Decodes a record from the front of `bytes`, ignoring anything after it.
///
/// Ignoring the rest matches ZooKeeper, which decodes a request body from its
/// frame without checking that the whole frame was used.
pub fn from_bytes<T: Record>(bytes: &[u8]) -> Result<T, JuteError> {
    let mut input = bytes;
    T::deserialize(&mut input)
}

/// Decodes a record that must occupy all of `bytes`.
pub fn from_bytes_exact<T: Record>(bytes: &[u8]) -> Result<T, JuteError> {
    let mut input = bytes;
    let record = T::deserialize(&mut input)?;
    if input.is_empty() {
        Ok(record)
    } else {
        Err(JuteError::malformed(
            "end of record",
            Malformation::TrailingBytes(input.len()),
        ))
    }
}

/// Fails with `Truncated` unless `n` bytes remain.
fn need(input: &[u8], n: usize, reading: &'static str) -> Result<(), JuteError> {
    if input.len() < n {
        Err(JuteError::Truncated {
            reading,
            needed: n,
            available: input.len(),
        })
    } else {
        Ok(())
    }
}

/// Splits off the first `n` bytes after checking they exist.
fn take<'a>(input: &mut &'a [u8], n: usize, reading: &'static str) -> Result<&'a [u8], JuteError> {
    need(input, n, reading)?;
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

/// Converts a length to its i32 prefix.
///
/// Jute cannot represent anything of 2 GiB or more; ZooKeeper's own limit
/// (`jute.maxbuffer`) is far below that, so exceeding it is a caller bug,
/// caught in debug builds. Release builds write a saturated prefix rather
/// than a wrapped one.
fn len_prefix(len: usize) -> i32 {
    debug_assert!(len <= i32::MAX as usize, "Jute length {len} exceeds i32");
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// Reads a length prefix: `Ok(None)` for the null marker -1, an error for
/// any other negative value, otherwise a length already checked against the
/// remaining input (so it is safe to allocate).
fn read_len(input: &mut &[u8], reading: &'static str) -> Result<Option<usize>, JuteError> {
    let len = read_int(input, reading)?;
    match len {
        -1 => Ok(None),
        n if n < 0 => Err(JuteError::malformed(
            reading,
            Malformation::NegativeLength(n),
        )),
        n => {
            // Non-negative i32 always fits usize on supported targets.
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            need(input, n, reading)?;
            Ok(Some(n))
        }
    }
}

/// Reads an `int`.
pub fn read_int(input: &mut &[u8], reading: &'static str) -> Result<i32, JuteError> {
    need(input, INT_LEN, reading)?;
    Ok(input.get_i32())
}

/// Reads a `long`.
pub fn read_long(input: &mut &[u8], reading: &'static str) -> Result<i64, JuteError> {
    need(input, LONG_LEN, reading)?;
    Ok(input.get_i64())
}

/// Reads a `boolean`; like Java's `DataInput.readBoolean`, any nonzero byte
/// is true.
pub fn read_bool(input: &mut &[u8], reading: &'static str) -> Result<bool, JuteError> {
    need(input, BOOL_LEN, reading)?;
    Ok(input.get_u8() != 0)
}

/// Reads a `byte` (signed, as in Java).
pub fn read_byte(input: &mut &[u8], reading: &'static str) -> Result<i8, JuteError> {
    need(input, BYTE_LEN, reading)?;
    Ok(input.get_i8())
}

/// Reads a `ustring`; null (-1) gives an empty string.
pub fn read_ustring(input: &mut &[u8], reading: &'static str) -> Result<String, JuteError> {
    match read_len(input, reading)? {
        None => Ok(String::new()),
        Some(n) => {
            let bytes = take(input, n, reading)?;
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| JuteError::malformed(reading, Malformation::InvalidUtf8))
        }
    }
}

/// Reads a `buffer`; null (-1) gives `None`.
pub fn read_buffer(input: &mut &[u8], reading: &'static str) -> Result<Option<Vec<u8>>, JuteError> {
    match read_len(input, reading)? {
        None => Ok(None),
        Some(n) => Ok(Some(take(input, n, reading)?.to_vec())),
    }
}

/// Reads a `vector<T>`; null (-1) gives an empty vector.
///
/// Like ZooKeeper's `BinaryInputArchive`, any negative count reads as an
/// empty vector (Java only treats -1 as null, but its loop runs while the
/// count is positive, so -2 and below also yield no elements). A count larger
/// than the input can hold fails with `Truncated` once the input runs out;
/// the up-front reservation is capped so that it never exceeds the remaining
/// input in bytes.
pub fn read_vector<T: Field>(
    input: &mut &[u8],
    reading: &'static str,
) -> Result<Vec<T>, JuteError> {
    let count = read_int(input, reading)?;
    let Ok(count) = usize::try_from(count) else {
        return Ok(Vec::new());
    };
    let cap = count.min(input.len() / std::mem::size_of::<T>().max(1));
    let mut items = Vec::with_capacity(cap);
    for _ in 0..count {
        items.push(T::read(input, reading)?);
    }
    Ok(items)
}

/// Writes an `int`.
pub fn write_int<B: BufMut>(out: &mut B, value: i32) {
    out.put_i32(value);
}

/// Writes a `long`.
pub fn write_long<B: BufMut>(out: &mut B, value: i64) {
    out.put_i64(value);
}

/// Writes a `boolean` as 0 or 1.
pub fn write_bool<B: BufMut>(out: &mut B, value: bool) {
    out.put_u8(u8::from(value));
}

/// Writes a `byte`.
pub fn write_byte<B: BufMut>(out: &mut B, value: i8) {
    out.put_i8(value);
}

/// Writes a `ustring` (never the null marker).
pub fn write_ustring<B: BufMut>(out: &mut B, value: &str) {
    out.put_i32(len_prefix(value.len()));
    out.put_slice(value.as_bytes());
}

/// Writes a `buffer`; `None` becomes the null marker -1.
pub fn write_buffer<B: BufMut>(out: &mut B, value: Option<&[u8]>) {
    match value {
        None => out.put_i32(-1),
        Some(bytes) => {
            out.put_i32(len_prefix(bytes.len()));
            out.put_slice(bytes);
        }
    }
}

/// Writes a `vector<T>` (never the null marker).
pub fn write_vector<T: Field, B: BufMut>(out: &mut B, items: &[T]) {
    out.put_i32(len_prefix(items.len()));
    for item in items {
        item.write(out);
    }
}

/// Encoded size of a `ustring`.
pub fn ustring_len(value: &str) -> usize {
    INT_LEN + value.len()
}

/// Encoded size of a `buffer`.
pub fn buffer_len(value: Option<&[u8]>) -> usize {
    INT_LEN + value.map_or(0, <[u8]>::len)
}

/// Encoded size of a `vector<T>`.
pub fn vector_len<T: Field>(items: &[T]) -> usize {
    INT_LEN + items.iter().map(Field::encoded_len).sum::<usize>()
}

impl Field for i32 {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_int(out, *self);
    }
    fn encoded_len(&self) -> usize {
        INT_LEN
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_int(input, reading)
    }
}

impl Field for i64 {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_long(out, *self);
    }
    fn encoded_len(&self) -> usize {
        LONG_LEN
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_long(input, reading)
    }
}

impl Field for bool {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_bool(out, *self);
    }
    fn encoded_len(&self) -> usize {
        BOOL_LEN
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_bool(input, reading)
    }
}

impl Field for i8 {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_byte(out, *self);
    }
    fn encoded_len(&self) -> usize {
        BYTE_LEN
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_byte(input, reading)
    }
}

impl Field for String {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_ustring(out, self);
    }
    fn encoded_len(&self) -> usize {
        ustring_len(self)
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_ustring(input, reading)
    }
}

impl Field for Option<Vec<u8>> {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_buffer(out, self.as_deref());
    }
    fn encoded_len(&self) -> usize {
        buffer_len(self.as_deref())
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_buffer(input, reading)
    }
}

impl<T: Field> Field for Vec<T> {
    fn write<B: BufMut>(&self, out: &mut B) {
        write_vector(out, self);
    }
    fn encoded_len(&self) -> usize {
        vector_len(self)
    }
    fn read(input: &mut &[u8], reading: &'static str) -> Result<Self, JuteError> {
        read_vector(input, reading)
    }
}

/// Defines a record of `zookeeper.jute`: the struct (all fields public, the
/// usual derives) plus its [`Record`] and [`Field`] impls, which encode the
/// fields in declaration order, so the declaration must list them in IDL
/// order.
macro_rules! jute_record {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::codec::Record for $name {
            fn serialize<B: ::bytes::BufMut>(&self, out: &mut B) {
                $( $crate::codec::Field::write(&self.$field, out); )*
            }
            fn serialized_len(&self) -> usize {
                0 $( + $crate::codec::Field::encoded_len(&self.$field) )*
            }
            fn deserialize(input: &mut &[u8]) -> Result<Self, $crate::error::JuteError> {
                // Struct literal fields are evaluated in the order written,
                // which is the wire order.
                Ok(Self {
                    $(
                        $field: <$ty as $crate::codec::Field>::read(
                            input,
                            concat!(stringify!($name), ".", stringify!($field)),
                        )?,
                    )*
                })
            }
        }

        impl $crate::codec::Field for $name {
            fn write<B: ::bytes::BufMut>(&self, out: &mut B) {
                $crate::codec::Record::serialize(self, out);
            }
            fn encoded_len(&self) -> usize {
                $crate::codec::Record::serialized_len(self)
            }
            fn read(
                input: &mut &[u8],
                _reading: &'static str,
            ) -> Result<Self, $crate::error::JuteError> {
                // Errors inside a nested record name the inner field, which
                // is the more precise of the two.
                <Self as $crate::codec::Record>::deserialize(input)
            }
        }
    };
}
pub(crate) use jute_record;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_are_big_endian() {
        let mut out = Vec::new();
        write_int(&mut out, -2);
        write_long(&mut out, 0x0102_0304_0506_0708);
        write_bool(&mut out, true);
        write_bool(&mut out, false);
        write_byte(&mut out, -1);
        assert_eq!(
            out,
            [0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0xff]
        );
        let mut input = &out[..];
        assert_eq!(read_int(&mut input, "i"), Ok(-2));
        assert_eq!(read_long(&mut input, "l"), Ok(0x0102_0304_0506_0708));
        assert_eq!(read_bool(&mut input, "t"), Ok(true));
        assert_eq!(read_bool(&mut input, "f"), Ok(false));
        assert_eq!(read_byte(&mut input, "b"), Ok(-1));
        assert!(input.is_empty());
        assert!(read_byte(&mut input, "b").unwrap_err().is_truncated());
    }

    #[test]
    fn strings_buffers_vectors() {
        let mut out = Vec::new();
        write_ustring(&mut out, "ab");
        write_buffer(&mut out, None);
        write_buffer(&mut out, Some(&[7]));
        write_vector(&mut out, &[String::from("x")]);
        assert_eq!(
            out,
            [
                0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 7, 0, 0, 0, 1, 0, 0, 0,
                1, b'x'
            ]
        );
        assert_eq!(ustring_len("ab"), 6);
        assert_eq!(buffer_len(None), 4);
        assert_eq!(buffer_len(Some(&[7])), 5);
        assert_eq!(vector_len(&[String::from("x")]), 9);
        let mut input = &out[..];
        assert_eq!(read_ustring(&mut input, "s").unwrap(), "ab");
        assert_eq!(read_buffer(&mut input, "b").unwrap(), None);
        assert_eq!(read_buffer(&mut input, "b").unwrap(), Some(vec![7]));
        assert_eq!(read_vector::<String>(&mut input, "v").unwrap(), ["x"]);
        assert!(input.is_empty());
    }

    #[test]
    fn failed_reads_of_lengths_do_not_consume_payload() {
        // The prefix is consumed, the payload is not touched.
        let bytes = [0, 0, 0, 9, 1, 2];
        let mut input = &bytes[..];
        let err = read_buffer(&mut input, "b").unwrap_err();
        assert_eq!(
            err,
            JuteError::Truncated {
                reading: "b",
                needed: 9,
                available: 2
            }
        );
    }
}
