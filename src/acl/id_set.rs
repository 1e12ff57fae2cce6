//! A session's ids in the order ZooKeeper 3.8 iterates them.
//!
//! `ServerCnxn.authInfo` is `Collections.newSetFromMap(new
//! ConcurrentHashMap<>())`, so everything that walks a session's ids —
//! `fixupACL` expanding the `auth` scheme into the stored ACL, whoAmI, the
//! enforce.auth log line — sees them in that hash table's order: by bucket,
//! and within a bucket in insertion order, reshuffled by each resize. The
//! order shows on the wire (getACL of a node created with `auth` entries by
//! a session holding several digest ids), so the list is kept in exactly
//! that order: [`insert`] replays `ConcurrentHashMap.putVal` and `transfer`
//! on the bucket layout the list encodes.
//!
//! Not modelled: a bucket reaching 9 entries (treeifyBin's early resize,
//! tree bins). That takes 9 of a session's ids hashing into one of 16+
//! buckets; no client adds that many identities.

use jute::data::Id;

/// `ConcurrentHashMap`'s default capacity; the table is created with it on
/// the first insert.
const INITIAL_TABLE: usize = 16;

/// `String.hashCode`: over UTF-16 code units, wrapping.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `Id.hashCode` as jute generates it: 17, then `37 * h + field.hashCode()`
/// for scheme and id.
fn id_hash(id: &Id) -> i32 {
    let h = 17i32
        .wrapping_mul(37)
        .wrapping_add(java_string_hash(&id.scheme));
    h.wrapping_mul(37).wrapping_add(java_string_hash(&id.id))
}

/// `ConcurrentHashMap.spread`: the high half folded into the low one, sign
/// bit cleared.
fn spread(id: &Id) -> usize {
    let h = id_hash(id) as u32;
    ((h ^ (h >> 16)) & 0x7fff_ffff) as usize
}

/// The table length after `count` inserts without removal: it doubles when
/// the count reaches three quarters of it (`addCount` against `sizeCtl`).
fn table_len(count: usize) -> usize {
    let mut n = INITIAL_TABLE;
    while count >= n - (n >> 2) {
        n <<= 1;
    }
    n
}

/// Adds `new` to `ids` (kept in iteration order) unless already present,
/// as `Set.add` on ZooKeeper's set does.
pub fn insert(ids: &mut Vec<Id>, new: Id) {
    if ids.contains(&new) {
        return;
    }
    let n = table_len(ids.len());
    let mut bins: Vec<Vec<Id>> = vec![Vec::new(); n];
    for id in ids.drain(..) {
        bins[spread(&id) & (n - 1)].push(id);
    }
    // putVal appends to the tail of the bucket's list.
    bins[spread(&new) & (n - 1)].push(new);
    let count = bins.iter().map(Vec::len).sum::<usize>();
    if count >= n - (n >> 2) {
        bins = transfer(bins);
    }
    ids.extend(bins.into_iter().flatten());
}

/// `ConcurrentHashMap.transfer` for list bins: each bucket `i` splits into
/// `i` and `i + n` by the hash bit `n`. The tail from `lastRun` (the longest
/// run ending the list whose entries all go the same way) is moved as is;
/// the entries before it are prepended one by one, which reverses them.
fn transfer(bins: Vec<Vec<Id>>) -> Vec<Vec<Id>> {
    let n = bins.len();
    let mut next: Vec<Vec<Id>> = vec![Vec::new(); 2 * n];
    for (i, bin) in bins.into_iter().enumerate() {
        let Some(first) = bin.first() else {
            continue;
        };
        let high = |id: &Id| spread(id) & n != 0;
        let mut run_high = high(first);
        let mut last_run = 0;
        for (k, id) in bin.iter().enumerate().skip(1) {
            if high(id) != run_high {
                run_high = high(id);
                last_run = k;
            }
        }
        let mut low: Vec<Id> = Vec::new();
        let mut hi: Vec<Id> = Vec::new();
        let mut entries = bin.into_iter();
        let head: Vec<Id> = entries.by_ref().take(last_run).collect();
        let tail: Vec<Id> = entries.collect();
        if run_high {
            hi = tail;
        } else {
            low = tail;
        }
        for id in head {
            if high(&id) {
                hi.insert(0, id);
            } else {
                low.insert(0, id);
            }
        }
        next[i] = low;
        next[i + n] = hi;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    #[test]
    fn hashes_are_javas() {
        // "digest".hashCode() and new Id("ip", "127.0.0.1").hashCode(), printed
        // by Java 17 with Debian's zookeeper-jute 3.8.0.
        assert_eq!(java_string_hash("digest"), -1331913276);
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(id_hash(&id("ip", "127.0.0.1")), 1506146057);
    }

    #[test]
    fn table_grows_at_three_quarters() {
        assert_eq!(table_len(0), 16);
        assert_eq!(table_len(11), 16);
        assert_eq!(table_len(12), 32);
        assert_eq!(table_len(23), 32);
        assert_eq!(table_len(24), 64);
    }

    /// The iteration order of Java 17's `newSetFromMap(new ConcurrentHashMap<>())`
    /// after adding `ip:127.0.0.1`, then `digest:u<i>:pw<7i>` for i = 0..40, printed
    /// at 3, 12, 13 (first resize), 26 (second) and 41 ids (a Java program over
    /// zookeeper-jute 3.8.0's `Id`; the ids are printed without their scheme).
    #[test]
    fn iteration_order_is_javas() {
        let expected: [(usize, &str); 5] = [
            (3, "u1:pw7 127.0.0.1 u0:pw0"),
            (12, "127.0.0.1 u0:pw0 u8:pw56 u10:pw70 u2:pw14 u9:pw63 u5:pw35 u3:pw21 u1:pw7 u4:pw28 u6:pw42 u7:pw49"),
            (13, "u11:pw77 127.0.0.1 u0:pw0 u8:pw56 u10:pw70 u2:pw14 u9:pw63 u5:pw35 u3:pw21 u1:pw7 u4:pw28 u6:pw42 u7:pw49"),
            (26, "u17:pw119 u24:pw168 u14:pw98 u11:pw77 127.0.0.1 u8:pw56 u9:pw63 u13:pw91 u21:pw147 \
                  u20:pw140 u3:pw21 u18:pw126 u22:pw154 u6:pw42 u23:pw161 u16:pw112 u19:pw133 u15:pw105 \
                  u0:pw0 u10:pw70 u2:pw14 u12:pw84 u5:pw35 u1:pw7 u4:pw28 u7:pw49"),
            (41, "u17:pw119 u24:pw168 u14:pw98 u11:pw77 u25:pw175 127.0.0.1 u8:pw56 u26:pw182 u29:pw203 \
                  u9:pw63 u13:pw91 u21:pw147 u20:pw140 u38:pw266 u3:pw21 u18:pw126 u22:pw154 u6:pw42 \
                  u37:pw259 u23:pw161 u16:pw112 u39:pw273 u19:pw133 u15:pw105 u35:pw245 u0:pw0 u34:pw238 \
                  u10:pw70 u2:pw14 u12:pw84 u5:pw35 u32:pw224 u36:pw252 u30:pw210 u31:pw217 u1:pw7 \
                  u4:pw28 u33:pw231 u7:pw49 u27:pw189 u28:pw196"),
        ];
        let mut ids = vec![id("ip", "127.0.0.1")];
        for i in 0..40 {
            insert(&mut ids, id("digest", &format!("u{i}:pw{}", i * 7)));
            if let Some((_, want)) = expected.iter().find(|(n, _)| *n == ids.len()) {
                let got: Vec<&str> = ids.iter().map(|i| i.id.as_str()).collect();
                let want: Vec<&str> = want.split_whitespace().collect();
                assert_eq!(got, want, "after {} ids", ids.len());
            }
        }
    }

    #[test]
    fn duplicates_are_kept_once() {
        let mut ids = vec![id("ip", "127.0.0.1")];
        insert(&mut ids, id("digest", "a:b"));
        insert(&mut ids, id("digest", "a:b"));
        insert(&mut ids, id("ip", "127.0.0.1"));
        assert_eq!(ids.len(), 2);
    }
}
