//! Interpretation of a znode's `ephemeralOwner` field (ZooKeeper's `EphemeralType`).
//!
//! The field is overloaded: 0 means persistent, a session id means a normal ephemeral,
//! `i64::MIN` marks a container and, when extended types are enabled, a value whose high
//! byte is `0xff` is a TTL node whose low 40 bits hold the TTL in milliseconds. Whether the
//! TTL encoding is recognised depends on server configuration
//! (`zookeeper.extendedTypesEnabled`, `zookeeper.emulate353TTLNodes`), so classification
//! always takes an [`EphemeralTypes`] value.

use std::fmt;

/// `ephemeralOwner` of a container node: only the sign bit set.
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;

/// Largest server id allowed when extended types are enabled: session ids start with the
/// server id in the high byte, and 0xff would collide with the TTL marker.
pub const MAX_EXTENDED_SERVER_ID: i64 = 0xfe;

/// Largest TTL in milliseconds (40 bits, about 34 years).
pub const MAX_TTL: i64 = 0xff_ffff_ffff;

/// High byte that marks an "extended" owner.
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;
/// The two bytes after the marker select the extended feature; TTL is feature 0.
const RESERVED_BITS_MASK: i64 = 0x00ff_ff00_0000_0000;
const RESERVED_BITS_SHIFT: u32 = 40;
const EXTENDED_BIT_TTL: i64 = 0;
/// The bits an extended feature may use for its value (the TTL).
const EXTENDED_FEATURE_VALUE_MASK: i64 = !(EXTENDED_MASK | RESERVED_BITS_MASK);

/// Server settings that change how `ephemeralOwner` values are classified.
///
/// Both default to off, as in ZooKeeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EphemeralTypes {
    /// `zookeeper.extendedTypesEnabled`: recognise TTL owners (and allow TTL creates).
    pub extended_types_enabled: bool,
    /// `zookeeper.emulate353TTLNodes`: additionally treat every negative owner other than
    /// the container marker as a TTL node, as 3.5.3 wrote them (ZOOKEEPER-2901). Only
    /// consulted when extended types are enabled.
    pub emulate_353_ttl: bool,
}

/// What kind of node an `ephemeralOwner` denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EphemeralType {
    /// Persistent node (owner 0).
    Void,
    /// Ephemeral node owned by the session whose id is the owner.
    Normal,
    /// Container node.
    Container,
    /// TTL node.
    Ttl,
}

/// A rejected argument, carrying the exact message ZooKeeper's `IllegalArgumentException`
/// would have. Clients only ever see `BadArguments`; the text is for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument(pub String);

impl fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidArgument {}

impl EphemeralType {
    /// Classifies an owner value (`EphemeralType.get`).
    ///
    /// ZooKeeper throws for an extended owner with an unknown feature selector; that cannot
    /// arise from a session id (server ids are capped at [`MAX_EXTENDED_SERVER_ID`] when
    /// extended types are on), so such a value is reported as `Normal` instead of failing.
    pub fn of(owner: i64, types: EphemeralTypes) -> EphemeralType {
        if types.extended_types_enabled {
            // 3.5.3 encoded TTLs as "sign bit | ttl"; the container marker stays a container.
            if types.emulate_353_ttl && owner < 0 && owner != CONTAINER_EPHEMERAL_OWNER {
                return EphemeralType::Ttl;
            }
            if owner & EXTENDED_MASK == EXTENDED_MASK {
                let feature = (owner & RESERVED_BITS_MASK) >> RESERVED_BITS_SHIFT;
                if feature == EXTENDED_BIT_TTL {
                    return EphemeralType::Ttl;
                }
                return EphemeralType::Normal;
            }
        }
        if owner == CONTAINER_EPHEMERAL_OWNER {
            EphemeralType::Container
        } else if owner == 0 {
            EphemeralType::Void
        } else {
            EphemeralType::Normal
        }
    }

    /// The TTL in milliseconds carried by a TTL owner (`EphemeralType.TTL.getValue`):
    /// simply the low 40 bits, whatever the owner is.
    pub fn ttl_of(owner: i64) -> i64 {
        owner & EXTENDED_FEATURE_VALUE_MASK
    }

    /// Encodes a TTL as an owner value (`EphemeralType.TTL.toEphemeralOwner`), rejecting
    /// TTLs outside `1..=MAX_TTL` with ZooKeeper's message.
    pub fn ttl_owner(ttl: i64) -> Result<i64, InvalidArgument> {
        if ttl > MAX_TTL || ttl <= 0 {
            return Err(InvalidArgument(format!(
                "ttl must be positive and cannot be larger than: {MAX_TTL}"
            )));
        }
        Ok(EXTENDED_MASK | (EXTENDED_BIT_TTL << RESERVED_BITS_SHIFT) | ttl)
    }

    /// The owner value a client sees in its `Stat` (`DataNode.getClientEphemeralOwner`):
    /// only normal ephemerals expose their session; containers and TTL nodes show 0.
    pub fn client_owner(owner: i64, types: EphemeralTypes) -> i64 {
        if EphemeralType::of(owner, types) == EphemeralType::Normal {
            owner
        } else {
            0
        }
    }
}

/// Validates the TTL of a create request (`EphemeralType.validateTTL`).
///
/// `mode_is_ttl` says whether the create mode is one of the `*_WITH_TTL` modes and
/// `mode_name` is the Java `CreateMode` constant name (e.g. `PERSISTENT`), used only in the
/// message. Non-TTL creates carry ttl -1; any ttl >= 0 with them is rejected. Whether TTL
/// modes are allowed at all (extended types enabled, else `Unimplemented`) is checked by
/// the caller first, as in `PrepRequestProcessor.validateCreateRequest`.
pub fn validate_ttl(mode_is_ttl: bool, mode_name: &str, ttl: i64) -> Result<(), InvalidArgument> {
    if mode_is_ttl {
        EphemeralType::ttl_owner(ttl).map(|_| ())
    } else if ttl >= 0 {
        Err(InvalidArgument(format!(
            "ttl not valid for mode: {mode_name}"
        )))
    } else {
        Ok(())
    }
}
