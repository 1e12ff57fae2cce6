//! Stand-ins for `jute::data::{ACL, Id}` until the jute crate lands: same
//! names, fields and derives, so switching is a one-line `pub use`.

/// `org.apache.zookeeper.data.Id`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Id {
    pub scheme: String,
    pub id: String,
}

/// `org.apache.zookeeper.data.ACL`.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ACL {
    pub perms: i32,
    pub id: Id,
}
