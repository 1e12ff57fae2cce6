//! Session passwords derived the way Java ZooKeeper derives them.
//!
//! ZooKeeper never stores passwords: it regenerates them from the session id
//! with `java.util.Random(sessionId ^ 0xB3415C00).nextBytes(16)`. Doing the
//! same here means a client that reconnects after a restart — or after a
//! migration from a Java server (sessions live in the snapshot without their
//! passwords) — is accepted with the password it already holds.

use super::SessionId;

const SUPER_SECRET: i64 = 0xB341_5C00;
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const MASK_48: u64 = (1 << 48) - 1;

/// `java.util.Random`'s 48-bit linear congruential generator.
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ MULTIPLIER) & MASK_48,
        }
    }

    fn next_int(&mut self) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB) & MASK_48;
        (self.seed >> 16) as i32
    }

    fn next_bytes(&mut self, out: &mut [u8]) {
        let mut i = 0;
        while i < out.len() {
            let mut rnd = self.next_int();
            for _ in 0..(out.len() - i).min(4) {
                out[i] = rnd as u8;
                rnd >>= 8;
                i += 1;
            }
        }
    }
}

/// The 16-byte password ZooKeeper hands out for `session_id`.
pub fn session_password(session_id: SessionId) -> [u8; 16] {
    let mut out = [0u8; 16];
    JavaRandom::new(session_id ^ SUPER_SECRET).next_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected bytes printed by Java 17:
    /// `new java.util.Random(id ^ 0xB3415C00L).nextBytes(b)` for the ids below.
    #[test]
    fn matches_java_util_random() {
        assert_eq!(
            session_password(0x0100_0000_0000_0001),
            JAVA_PASSWD_1,
            "password for 0x0100000000000001"
        );
        assert_eq!(session_password(0), JAVA_PASSWD_0, "password for 0");
    }

    const JAVA_PASSWD_1: [u8; 16] = include!("testdata/passwd_0100000000000001.txt");
    const JAVA_PASSWD_0: [u8; 16] = include!("testdata/passwd_0.txt");
}
