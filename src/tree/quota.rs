//! Quota bookkeeping that lives inside ZooKeeper's `DataTree`.
//!
//! A quota on `/app` is configured by creating `/zookeeper/quota/app/zookeeper_limits`;
//! the tree then keeps `/zookeeper/quota/app/zookeeper_stats` holding
//! `count=N,bytes=M` for the subtree, rewriting that node's data in place on every
//! create/delete/setData beneath `/app`. Clients observe this (the `listquota` CLI reads
//! it; quota enforcement in prep reads it), so the tree reproduces it.

use std::collections::HashSet;

/// `Quotas.quotaZookeeper`.
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
/// `Quotas.limitNode`.
pub const LIMIT_NODE: &str = "zookeeper_limits";
/// `Quotas.statNode`.
pub const STAT_NODE: &str = "zookeeper_stats";

/// `Quotas.statPath`.
pub fn stat_path(path: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{path}/{STAT_NODE}")
}

/// `Quotas.limitPath`.
pub fn limit_path(path: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{path}/{LIMIT_NODE}")
}

/// Components as `PathTrie.split` sees them: split on '/', dropping components that are
/// empty after Java's `trim()` (which strips every char <= U+0020).
fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.chars().all(|ch| ch <= ' '))
}

/// The set of quota roots (`PathTrie` with its "property" flags).
///
/// Only `findMaxPrefix` is ever asked of ZooKeeper's trie, and its answer depends only on
/// which component paths carry the property, so a set of normalised paths is equivalent.
#[derive(Debug, Default, Clone)]
pub struct QuotaTrie {
    roots: HashSet<String>,
}

impl QuotaTrie {
    fn normalise(path: &str) -> String {
        let mut s = String::with_capacity(path.len() + 1);
        for c in components(path) {
            s.push('/');
            s.push_str(c);
        }
        s
    }

    /// `PathTrie.addPath`; ZooKeeper throws for "", which is ignored here.
    pub fn add_path(&mut self, path: &str) {
        if path.is_empty() {
            return;
        }
        let n = Self::normalise(path);
        // A trie property on the trie's own root is never consulted by findMaxPrefix.
        if !n.is_empty() {
            self.roots.insert(n);
        }
    }

    /// `PathTrie.deletePath`.
    pub fn delete_path(&mut self, path: &str) {
        if path.is_empty() {
            return;
        }
        self.roots.remove(&Self::normalise(path));
    }

    /// `DataTree.getMaxPrefixWithQuota`: the deepest quota root that is a component prefix
    /// of `path` (in normalised form), or `None` when there is none.
    pub fn max_prefix(&self, path: &str) -> Option<String> {
        if self.roots.is_empty() {
            return None;
        }
        let mut s = String::with_capacity(path.len() + 1);
        let mut best = 0;
        for c in components(path) {
            s.push('/');
            s.push_str(c);
            if self.roots.contains(&s) {
                best = s.len();
            }
        }
        if best == 0 {
            None
        } else {
            s.truncate(best);
            Some(s)
        }
    }

    /// All quota roots, sorted (for diagnostics and tests).
    pub fn roots(&self) -> Vec<String> {
        let mut v: Vec<String> = self.roots.iter().cloned().collect();
        v.sort();
        v
    }
}

/// `org.apache.zookeeper.StatsTrack`: a `key=value` list such as
/// `count=3,bytes=10` or `count=3,bytes=10=;countHardLimit=5`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    /// Later duplicates overwrite earlier ones, as Java's HashMap.put does.
    entries: Vec<(String, i64)>,
}

impl StatsTrack {
    /// Parses like the Java constructor. Java throws (and the surrounding transaction
    /// aborts half-way) on malformed input; here that is an `Err` the caller logs.
    pub fn parse(bytes: &[u8]) -> Result<StatsTrack, String> {
        let text = String::from_utf8_lossy(bytes);
        let mut st = StatsTrack::default();
        if text.is_empty() {
            return Ok(st);
        }
        for pair in java_split(&text, |c| c == ',' || c == ';') {
            let kv = java_split(pair, |c| c == '=');
            let key = kv.first().copied().unwrap_or("");
            let Some(value) = kv.get(1) else {
                return Err(format!("malformed quota stats entry {pair:?}"));
            };
            let value = if value.is_empty() { "-1" } else { value };
            let v: i64 = value
                .parse()
                .map_err(|_| format!("malformed quota stats number {value:?}"))?;
            st.set(key, v);
        }
        Ok(st)
    }

    fn get(&self, key: &str) -> i64 {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map_or(-1, |(_, v)| *v)
    }

    fn set(&mut self, key: &str, v: i64) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = v,
            None => self.entries.push((key.to_owned(), v)),
        }
    }

    pub fn count(&self) -> i64 {
        self.get("count")
    }
    pub fn set_count(&mut self, v: i64) {
        self.set("count", v)
    }
    pub fn bytes(&self) -> i64 {
        self.get("bytes")
    }
    pub fn set_bytes(&mut self, v: i64) {
        self.set("bytes", v)
    }
    pub fn count_hard_limit(&self) -> i64 {
        self.get("countHardLimit")
    }
    pub fn byte_hard_limit(&self) -> i64 {
        self.get("byteHardLimit")
    }

    /// `StatsTrack.toString`: count and bytes first (for old parsers), then, if there are
    /// other keys, a stray '=' and the rest sorted as `;key=value`.
    pub fn to_text(&self) -> String {
        let mut s = format!("count={},bytes={}", self.count(), self.bytes());
        let mut rest: Vec<&(String, i64)> = self
            .entries
            .iter()
            .filter(|(k, _)| k != "count" && k != "bytes")
            .collect();
        if !rest.is_empty() {
            s.push('=');
            rest.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in rest {
                s.push_str(&format!(";{k}={v}"));
            }
        }
        s
    }
}

/// Java's `String.split` with limit 0 for a single-character (or class+) separator:
/// runs of separators in `[,;]+` are one match only for the pair splitter, so the caller's
/// predicate decides; trailing empty strings are dropped, a leading one is kept.
fn java_split(s: &str, sep: impl Fn(char) -> bool + Copy) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if sep(c) {
            parts.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            // "[,;]+" swallows a whole run; "=" has no '+', but consecutive '=' then give
            // empty pieces, which the caller handles exactly as Java does.
            while let Some(&(j, d)) = chars.peek() {
                if sep(d) && is_run_separator(c) {
                    chars.next();
                    end = j + d.len_utf8();
                } else {
                    break;
                }
            }
            start = end;
        }
    }
    parts.push(&s[start..]);
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    // Java: splitting "" yields [""]; a string made only of separators yields [].
    if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
        parts.clear();
    }
    parts
}

/// Only the pair separator class `[,;]+` collapses runs.
fn is_run_separator(c: char) -> bool {
    c == ',' || c == ';'
}
