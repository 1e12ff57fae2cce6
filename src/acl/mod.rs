//! ACL checks and authentication, reproducing ZooKeeper's
//! `ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`, the
//! `ip` / `digest` providers, super users and `ReferenceCountedACLCache`.
//!
//! A session carries a set of [`Id`]s: every connection starts with
//! `ip:<client address>` ([`connection_id`]), and each successful auth
//! packet adds the ids [`AuthConfig::authenticate`] returns. The set has set
//! semantics (adding an id twice keeps one; [`add_auth_id`]); whoAmI lists it
//! ([`AuthConfig::client_info`]).
//!
//! Schemes: only `ip` and `digest` are providers, as in a default
//! ZooKeeper (`digest` can be switched off). `world:anyone` and `auth` are
//! handled inline by the checks, `super` is a marker id. `x509`, `sasl` and
//! anything else are unknown: an auth packet for them fails, ACLs using them
//! are invalid and never match.

mod cache;
mod digest;
mod id_set;
mod ip;
mod java;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use jute::consts::ErrorCode;

pub use cache::{AclCache, OPEN_UNSAFE_ACL_ID};
pub use digest::generate_digest;
pub use ip::host_address;
pub use jute::data::{Id, ACL};

/// Permission bits (`ZooDefs.Perms`), as plain consts for terse call sites.
pub mod perms {
    use jute::consts::Perms;
    pub const READ: i32 = Perms::READ;
    pub const WRITE: i32 = Perms::WRITE;
    pub const CREATE: i32 = Perms::CREATE;
    pub const DELETE: i32 = Perms::DELETE;
    pub const ADMIN: i32 = Perms::ADMIN;
    pub const ALL: i32 = Perms::ALL;
}

/// NoAuth (-102): the check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoAuth;

impl NoAuth {
    pub const CODE: i32 = ErrorCode::NoAuth.code();
}

impl From<NoAuth> for ErrorCode {
    fn from(_: NoAuth) -> ErrorCode {
        ErrorCode::NoAuth
    }
}

/// InvalidACL (-114): the ACL list of a create / setACL is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidAcl;

impl InvalidAcl {
    pub const CODE: i32 = ErrorCode::InvalidACL.code();
}

impl From<InvalidAcl> for ErrorCode {
    fn from(_: InvalidAcl) -> ErrorCode {
        ErrorCode::InvalidACL
    }
}

/// AuthFailed (-115): answer the auth packet with this code (xid of the
/// packet, zxid 0), then close the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailed;

impl AuthFailed {
    pub const CODE: i32 = ErrorCode::AuthFailed.code();
}

impl From<AuthFailed> for ErrorCode {
    fn from(_: AuthFailed) -> ErrorCode {
        ErrorCode::AuthFailed
    }
}

fn id(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.to_string(),
        id: id.to_string(),
    }
}

/// `world:anyone` with all permissions (`Ids.OPEN_ACL_UNSAFE`).
pub fn open_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: perms::ALL,
        id: id("world", "anyone"),
    }]
}

/// `auth:` with all permissions (`Ids.CREATOR_ALL_ACL`).
pub fn creator_all_acl() -> Vec<ACL> {
    vec![ACL {
        perms: perms::ALL,
        id: id("auth", ""),
    }]
}

/// `world:anyone` read-only (`Ids.READ_ACL_UNSAFE`), the ACL of
/// `/zookeeper/config`.
pub fn read_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: perms::READ,
        id: id("world", "anyone"),
    }]
}

/// The `ip` id every connection starts with.
pub fn connection_id(remote: IpAddr) -> Id {
    Id {
        scheme: "ip".to_string(),
        id: host_address(remote),
    }
}

/// Adds `new` to a session's ids unless already present. ZooKeeper keeps
/// them in a hash set whose iteration order decides the order of entries an
/// `auth` ACL expands to (and whoAmI's); `ids` is kept in that order.
pub fn add_auth_id(ids: &mut Vec<Id>, new: Id) {
    id_set::insert(ids, new);
}

/// A registered authentication provider.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    Ip,
    Digest,
}

impl Provider {
    pub fn scheme(self) -> &'static str {
        match self {
            Provider::Ip => "ip",
            Provider::Digest => "digest",
        }
    }

    /// `isAuthenticated`: whether its ids stand for an authenticated user,
    /// i.e. whether the `auth` ACL scheme may expand to them.
    pub fn is_authenticated(self) -> bool {
        match self {
            Provider::Ip => false,
            Provider::Digest => true,
        }
    }

    /// `isValid`: whether an ACL may name this id.
    pub fn is_valid(self, acl_id: &str) -> bool {
        match self {
            Provider::Ip => ip::is_valid(acl_id),
            Provider::Digest => digest::is_valid(acl_id),
        }
    }

    /// `matches`: whether a session id satisfies an ACL id.
    pub fn matches(self, session_id: &str, acl_id: &str) -> bool {
        match self {
            Provider::Ip => ip::matches(session_id, acl_id),
            Provider::Digest => session_id == acl_id,
        }
    }

    /// `getUserName`, for whoAmI.
    pub fn user_name(self, id: &str) -> &str {
        match self {
            Provider::Ip => id,
            Provider::Digest => digest::user_name(id),
        }
    }
}

/// Server-wide ACL settings (Java system properties in ZooKeeper).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// `zookeeper.skipACL=yes`: every check passes (fixup still runs).
    pub skip_acl: bool,
    /// `zookeeper.DigestAuthenticationProvider.superDigest`, in digest id
    /// form `user:base64(sha1(user:password))`; a session that authenticates
    /// to exactly this id also gets `super:` and passes every check.
    pub super_digest: Option<String>,
    /// `zookeeper.DigestAuthenticationProvider.enabled` (default true).
    pub digest_enabled: bool,
    /// `zookeeper.enforce.auth.schemes` when `enforce.auth.enabled`: every
    /// request but auth and sasl needs a session id of one of these schemes.
    /// Empty: not enforced.
    pub enforce_schemes: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            skip_acl: false,
            super_digest: None,
            digest_enabled: true,
            enforce_schemes: Vec::new(),
        }
    }
}

impl AuthConfig {
    /// `ProviderRegistry.getProvider`.
    pub fn provider(&self, scheme: &str) -> Option<Provider> {
        match scheme {
            "ip" => Some(Provider::Ip),
            "digest" if self.digest_enabled => Some(Provider::Digest),
            _ => None,
        }
    }

    /// An auth packet (`AuthPacket{type, scheme, auth}`): the ids to add to
    /// the session, which answers OK; or [`AuthFailed`] for a scheme without
    /// provider (including `world`, `super`, `sasl`, `x509`).
    ///
    /// - `digest`: `auth` is `user:password`; adds `super:` first when the
    ///   digest equals the configured super digest, then `digest:<digest>`.
    /// - `ip`: ignores `auth`, adds `ip:<client address>` again.
    pub fn authenticate(
        &self,
        scheme: &str,
        auth: &[u8],
        remote: IpAddr,
    ) -> Result<Vec<Id>, AuthFailed> {
        match self.provider(scheme).ok_or(AuthFailed)? {
            Provider::Ip => Ok(vec![connection_id(remote)]),
            Provider::Digest => {
                let digest = digest::digest_id_from_auth(auth);
                let mut ids = Vec::with_capacity(2);
                if self.super_digest.as_deref() == Some(digest.as_str()) {
                    ids.push(id("super", ""));
                }
                ids.push(Id {
                    scheme: "digest".to_string(),
                    id: digest,
                });
                Ok(ids)
            }
        }
    }

    /// `ZooKeeperServer.checkACL`: may a session with `auth_ids` do `perm`
    /// on a node with `acls`?
    ///
    /// In order: skipACL passes; an empty list passes; a `super` id passes;
    /// then the first ACL entry sharing a bit with `perm` whose id is
    /// `world:anyone`, or whose provider matches one of the session's ids of
    /// the same scheme, passes. Otherwise NoAuth.
    pub fn check_acl(&self, acls: &[ACL], perm: i32, auth_ids: &[Id]) -> Result<(), NoAuth> {
        if self.skip_acl || acls.is_empty() {
            return Ok(());
        }
        if auth_ids.iter().any(|a| a.scheme == "super") {
            return Ok(());
        }
        for acl in acls {
            if acl.perms & perm == 0 {
                continue;
            }
            if acl.id.scheme == "world" && acl.id.id == "anyone" {
                return Ok(());
            }
            let Some(provider) = self.provider(&acl.id.scheme) else {
                continue;
            };
            let matched = auth_ids
                .iter()
                .any(|a| a.scheme == acl.id.scheme && provider.matches(&a.id, &acl.id.id));
            if matched {
                return Ok(());
            }
        }
        Err(NoAuth)
    }

    /// `PrepRequestProcessor.fixupACL` for create and setACL: the list to
    /// store, or InvalidACL.
    ///
    /// Duplicates are dropped first (first occurrence kept); an empty list
    /// is invalid. Then each entry: `world:anyone` is kept as is (with any
    /// perms); `auth:<anything>` is replaced by one entry per session id
    /// whose provider is authenticated (digest, not ip), and is invalid if
    /// there is none; any other id needs a provider that finds it valid.
    /// Perms are never checked, and entries made by `auth` expansion are not
    /// deduplicated again. `auth` expands in the order of `auth_ids`, which
    /// [`add_auth_id`] keeps in Java's set order.
    pub fn fixup_acl(&self, auth_ids: &[Id], acls: &[ACL]) -> Result<Vec<ACL>, InvalidAcl> {
        let mut unique: Vec<&ACL> = Vec::with_capacity(acls.len());
        for acl in acls {
            if !unique.contains(&acl) {
                unique.push(acl);
            }
        }
        if unique.is_empty() {
            return Err(InvalidAcl);
        }
        let mut out = Vec::with_capacity(unique.len());
        for acl in unique {
            if acl.id.scheme == "world" && acl.id.id == "anyone" {
                out.push(acl.clone());
            } else if acl.id.scheme == "auth" {
                let before = out.len();
                for session_id in auth_ids {
                    let authenticated = self
                        .provider(&session_id.scheme)
                        .is_some_and(Provider::is_authenticated);
                    if authenticated {
                        out.push(ACL {
                            perms: acl.perms,
                            id: session_id.clone(),
                        });
                    }
                }
                if out.len() == before {
                    return Err(InvalidAcl);
                }
            } else {
                match self.provider(&acl.id.scheme) {
                    Some(p) if p.is_valid(&acl.id.id) => out.push(acl.clone()),
                    _ => return Err(InvalidAcl),
                }
            }
        }
        Ok(out)
    }

    /// `AuthenticationHelper.enforceAuthentication`: None when the session
    /// may be served; else the line ZooKeeper logs (at error) before it
    /// answers SessionClosedRequireSasl (-124) and closes the connection.
    /// A session passes with any id of a required scheme (the `ip` id every
    /// connection has passes `ip`).
    pub fn enforcement_refusal(&self, auth_ids: &[Id]) -> Option<String> {
        if self.enforce_schemes.is_empty()
            || auth_ids
                .iter()
                .any(|a| self.enforce_schemes.contains(&a.scheme))
        {
            return None;
        }
        let held: Vec<&str> = auth_ids.iter().map(|a| a.scheme.as_str()).collect();
        Some(format!(
            "Client authentication scheme(s) [{}] does not match with any of the expected \
             authentication scheme [{}], closing session.",
            held.join(", "),
            self.enforce_schemes.join(", ")
        ))
    }

    /// whoAmI's `(scheme, user)` pairs (`AuthUtil.getClientInfos`): the user
    /// is the provider's user name, or "" for schemes without provider (such
    /// as `super`).
    pub fn client_info(&self, auth_ids: &[Id]) -> Vec<(String, String)> {
        auth_ids
            .iter()
            .map(|a| {
                let user = self
                    .provider(&a.scheme)
                    .map(|p| p.user_name(&a.id))
                    .unwrap_or("");
                (a.scheme.clone(), user.to_string())
            })
            .collect()
    }
}
