//! The `digest` scheme (`DigestAuthenticationProvider`).
//!
//! A client authenticates with `user:password`; its id becomes
//! `user:base64(sha1("user:password"))`, which is also the form ACLs are
//! written in. Matching is plain string equality.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest as _, Sha1};

use super::java::split_count;

/// `DigestAuthenticationProvider.generateDigest`: the part before the first
/// ':' (the whole input if there is none), ':', then the padded standard
/// base64 of SHA-1 over the whole input's UTF-8 bytes.
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(id_password.as_bytes());
    format!("{user}:{}", STANDARD.encode(hash))
}

/// Id from the raw auth packet data. Java decodes the bytes with the
/// platform charset (UTF-8 on current JVMs), replacing invalid sequences.
pub fn digest_id_from_auth(auth: &[u8]) -> String {
    generate_digest(&String::from_utf8_lossy(auth))
}

/// `isValid`: exactly two pieces under Java's `split(":")`, which drops
/// trailing empty pieces — so `user:` is invalid but `user:hash:` is valid.
pub fn is_valid(id: &str) -> bool {
    split_count(id, ':') == 2
}

/// `getUserName`: the user part of a digest id (shown by whoAmI).
pub fn user_name(id: &str) -> &str {
    id.split(':').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values computed once with Python's hashlib.sha1 + base64.
    #[test]
    fn digest_vectors() {
        let vectors = [
            ("super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="),
            ("user:password", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
            ("alice:secret", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="),
            ("bob:", "bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0="),
            ("nocolon", "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g="),
            (":pw", ":krPDEYdCl854cFNT6IXnoMv+VVA="),
            // Only the first ':' separates the user; the hash covers all.
            ("a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="),
            ("üser:pässword", "üser:S/LHSCEmmE6GVxI+xd586A6+JlE="),
            ("", ":2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        ];
        for (input, expected) in vectors {
            assert_eq!(generate_digest(input), expected, "{input:?}");
        }
        assert_eq!(
            digest_id_from_auth(b"super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let id = digest_id_from_auth(b"u\xff:p");
        assert!(id.starts_with("u\u{fffd}:"), "{id}");
    }

    #[test]
    fn validity() {
        assert!(is_valid("user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="));
        assert!(is_valid("user:x"));
        assert!(is_valid(":x"));
        assert!(is_valid("user:x:"));
        assert!(is_valid("user:x::"));
        assert!(!is_valid("user"));
        assert!(!is_valid("user:"));
        assert!(!is_valid(""));
        assert!(!is_valid(":"));
        assert!(!is_valid("a:b:c"));
        assert!(!is_valid("a::b"));
    }

    #[test]
    fn user_names() {
        assert_eq!(user_name("bob:abc="), "bob");
        assert_eq!(user_name("bob"), "bob");
        assert_eq!(user_name(""), "");
    }
}
