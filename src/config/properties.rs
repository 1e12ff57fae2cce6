//! Java `.properties` syntax, exactly as `java.util.Properties.load` reads it.
//!
//! zoo.cfg is not an INI file: ZooKeeper hands it to `Properties.load`, so
//! `key value` and `key: value` work as well as `key=value`, `!` starts a
//! comment, a trailing backslash continues the line and `\uXXXX` escapes are
//! decoded. A drop-in replacement has to accept every file the JVM accepts
//! and read the same keys and values out of it, so this module mirrors the
//! JDK's `LineReader` and `loadConvert` step by step.
//!
//! Keys and values are returned the way `Properties` stores them: the key is
//! not trimmed beyond what the syntax consumes, and the value keeps trailing
//! whitespace. ZooKeeper trims both afterwards (see `zoo_cfg`).

use std::fmt;

/// One `key=value` pair and the 1-based line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyEntry {
    /// The key with escapes decoded.
    pub key: String,
    /// The value with escapes decoded; leading whitespace removed, trailing kept.
    pub value: String,
    /// Physical line where the logical line begins (continuations do not move it).
    pub line: usize,
}

/// A syntax error: the only one `Properties.load` raises is a malformed `\uXXXX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertiesError {
    /// 1-based line of the logical line holding the bad escape.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PropertiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for PropertiesError {}

/// The entries of a properties file in file order, duplicates included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<PropertyEntry>,
}

impl Properties {
    /// Parses already-decoded text (what `Properties.load(Reader)` sees).
    pub fn parse(text: &str) -> Result<Self, PropertiesError> {
        let chars: Vec<char> = text.chars().collect();
        let mut entries = Vec::new();
        for logical in logical_lines(&chars) {
            entries.push(split_entry(&logical.chars, logical.line)?);
        }
        Ok(Properties { entries })
    }

    /// Parses raw file bytes the way `Properties.load(InputStream)` does:
    /// as ISO-8859-1, one byte per character.
    ///
    /// ZooKeeper loads zoo.cfg from a `FileInputStream`, so a UTF-8 `é` in a
    /// value reaches Java as the two characters `Ã©`, and a `dataDir` written
    /// that way names a different directory than the bytes suggest. Decoding
    /// identically keeps FerroKeeper pointed at the directory the JVM used.
    pub fn parse_latin1(bytes: &[u8]) -> Result<Self, PropertiesError> {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        Self::parse(&text)
    }

    /// Every entry in file order, including keys that appear more than once.
    pub fn all_entries(&self) -> &[PropertyEntry] {
        &self.entries
    }

    /// The effective entries: for a repeated key the last one wins, as in
    /// `Hashtable.put`. Order is the file order of the winning occurrences.
    pub fn effective_entries(&self) -> Vec<&PropertyEntry> {
        let mut out: Vec<&PropertyEntry> = Vec::with_capacity(self.entries.len());
        for (i, entry) in self.entries.iter().enumerate() {
            let overridden = self.entries[i + 1..].iter().any(|e| e.key == entry.key);
            if !overridden {
                out.push(entry);
            }
        }
        out
    }

    /// The last entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&PropertyEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Whether `key` appears at all.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

struct LogicalLine {
    chars: Vec<char>,
    line: usize,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{000C}'
}

/// 1-based physical line number of each character index; `\r\n` is one break.
fn line_numbers(chars: &[char]) -> Vec<usize> {
    let mut out = Vec::with_capacity(chars.len());
    let mut line = 1;
    for (i, &c) in chars.iter().enumerate() {
        out.push(line);
        let ends_line = c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n'));
        if ends_line {
            line += 1;
        }
    }
    out
}

/// The JDK's `Properties.LineReader.readLine`, applied until end of input.
fn logical_lines(chars: &[char]) -> Vec<LogicalLine> {
    let lines = line_numbers(chars);
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let mut buf: Vec<char> = Vec::new();
        let mut start_line = 0;
        let mut skip_white_space = true;
        let mut is_comment_line = false;
        let mut is_new_line = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        let mut skip_lf = false;
        let finished = loop {
            let Some(&c) = chars.get(i) else {
                // End of input.
                if buf.is_empty() || is_comment_line {
                    break None;
                }
                if preceding_backslash {
                    buf.pop();
                }
                break Some(std::mem::take(&mut buf));
            };
            i += 1;
            if skip_lf {
                skip_lf = false;
                if c == '\n' {
                    continue;
                }
            }
            if skip_white_space {
                if is_blank(c) {
                    continue;
                }
                if !appended_line_begin && (c == '\r' || c == '\n') {
                    continue;
                }
                skip_white_space = false;
                appended_line_begin = false;
            }
            if is_new_line {
                is_new_line = false;
                start_line = lines[i - 1];
                if c == '#' || c == '!' {
                    is_comment_line = true;
                    continue;
                }
            }
            if c != '\n' && c != '\r' {
                buf.push(c);
                preceding_backslash = c == '\\' && !preceding_backslash;
                continue;
            }
            // End of a physical line.
            if is_comment_line || buf.is_empty() {
                is_comment_line = false;
                is_new_line = true;
                skip_white_space = true;
                preceding_backslash = false;
                buf.clear();
                continue;
            }
            if i >= chars.len() {
                if preceding_backslash {
                    buf.pop();
                }
                break Some(std::mem::take(&mut buf));
            }
            if preceding_backslash {
                // Continuation: drop the backslash, skip the next line's indent.
                buf.pop();
                skip_white_space = true;
                appended_line_begin = true;
                preceding_backslash = false;
                if c == '\r' {
                    skip_lf = true;
                }
            } else {
                break Some(std::mem::take(&mut buf));
            }
        };
        match finished {
            Some(chars) => out.push(LogicalLine {
                chars,
                line: start_line,
            }),
            None => return out,
        }
    }
}

/// The key/value split of `Properties.load0`.
fn split_entry(line: &[char], line_no: usize) -> Result<PropertyEntry, PropertiesError> {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if is_blank(c) && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = c == '\\' && !preceding_backslash;
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if !is_blank(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    let key = unescape(&line[..key_len], line_no)?;
    let value = unescape(&line[value_start..], line_no)?;
    Ok(PropertyEntry {
        key,
        value,
        line: line_no,
    })
}

/// `Properties.loadConvert`: `\t \n \r \f`, `\uXXXX`, and `\x` = `x` otherwise.
fn unescape(chars: &[char], line_no: usize) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            push_char(&mut units, c);
            continue;
        }
        let Some(&escaped) = chars.get(i) else {
            // A lone trailing backslash cannot survive readLine; drop it.
            break;
        };
        i += 1;
        match escaped {
            'u' => {
                let hex: String = chars.iter().skip(i).take(4).collect();
                let valid = hex.chars().count() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit());
                let unit = if valid {
                    u16::from_str_radix(&hex, 16).ok()
                } else {
                    None
                };
                let Some(unit) = unit else {
                    return Err(PropertiesError {
                        line: line_no,
                        message: format!(
                            "malformed \\uxxxx escape: expected four hex digits after \\u, got {:?}",
                            hex
                        ),
                    });
                };
                units.push(unit);
                i += 4;
            }
            't' => units.push(u16::from(b'\t')),
            'r' => units.push(u16::from(b'\r')),
            'n' => units.push(u16::from(b'\n')),
            'f' => units.push(0x0C),
            other => push_char(&mut units, other),
        }
    }
    // Java strings are UTF-16, so \uD83D\uDE00 is one character; a lone
    // surrogate has no Rust representation and becomes U+FFFD.
    Ok(char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

fn push_char(units: &mut Vec<u16>, c: char) {
    let mut buf = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, String, usize)> {
        Properties::parse(text)
            .unwrap()
            .all_entries()
            .iter()
            .map(|e| (e.key.clone(), e.value.clone(), e.line))
            .collect()
    }

    fn one(text: &str) -> (String, String) {
        let v = kv(text);
        assert_eq!(v.len(), 1, "entries of {text:?}: {v:?}");
        (v[0].0.clone(), v[0].1.clone())
    }

    #[test]
    fn separators() {
        assert_eq!(one("a=b"), ("a".into(), "b".into()));
        assert_eq!(one("a:b"), ("a".into(), "b".into()));
        assert_eq!(one("a b"), ("a".into(), "b".into()));
        assert_eq!(one("a\tb"), ("a".into(), "b".into()));
        assert_eq!(one("a \t = \t b"), ("a".into(), "b".into()));
        assert_eq!(one("a : b"), ("a".into(), "b".into()));
        assert_eq!(one("a=b=c"), ("a".into(), "b=c".into()));
        assert_eq!(one("a==b"), ("a".into(), "=b".into()));
        assert_eq!(one("a = = b"), ("a".into(), "= b".into()));
        assert_eq!(one("a b c"), ("a".into(), "b c".into()));
        assert_eq!(one("a:=b"), ("a".into(), "=b".into()));
    }

    #[test]
    fn key_without_value() {
        assert_eq!(one("a"), ("a".into(), "".into()));
        assert_eq!(one("a="), ("a".into(), "".into()));
        assert_eq!(one("a   "), ("a".into(), "".into()));
        assert_eq!(one("=b"), ("".into(), "b".into()));
    }

    #[test]
    fn whitespace_rules() {
        // Leading whitespace of the line and of the value is dropped,
        // trailing whitespace of the value is kept (ZooKeeper trims later).
        assert_eq!(one("   a=b  "), ("a".into(), "b  ".into()));
        assert_eq!(one("\u{000C}a=b"), ("a".into(), "b".into()));
        // A non-breaking space is not whitespace to Properties.
        assert_eq!(one("\u{00A0}a=b"), ("\u{00A0}a".into(), "b".into()));
    }

    #[test]
    fn comments_and_blank_lines() {
        let text = "# comment\n! also a comment\n   # indented comment\n\n  \t \na=b\n";
        assert_eq!(kv(text), vec![("a".into(), "b".into(), 6)]);
        // '#' inside a value is not a comment.
        assert_eq!(one("a=b # c"), ("a".into(), "b # c".into()));
    }

    #[test]
    fn comment_lines_do_not_continue() {
        let text = "# comment \\\na=b\n";
        assert_eq!(kv(text), vec![("a".into(), "b".into(), 2)]);
    }

    #[test]
    fn continuation_lines() {
        let text = "a=one, \\\n    two, \\\n\tthree\nb=c\n";
        assert_eq!(
            kv(text),
            vec![
                ("a".into(), "one, two, three".into(), 1),
                ("b".into(), "c".into(), 4)
            ]
        );
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(
            kv("a=x\\\\\nb=y"),
            vec![("a".into(), "x\\".into(), 1), ("b".into(), "y".into(), 2)]
        );
        // Continuation into a line starting with '#' keeps the '#'.
        assert_eq!(one("a=x\\\n#y"), ("a".into(), "x#y".into()));
        // A continuation followed by an empty line ends the logical line.
        assert_eq!(
            kv("a=x\\\n\nb=y"),
            vec![("a".into(), "x".into(), 1), ("b".into(), "y".into(), 3)]
        );
        // Trailing backslash at end of input is dropped.
        assert_eq!(one("a=x\\"), ("a".into(), "x".into()));
        // Continuation in the key.
        assert_eq!(one("ab\\\n  cd=e"), ("abcd".into(), "e".into()));
    }

    #[test]
    fn line_terminators() {
        let text = "a=1\r\nb=2\rc=3\nd=4";
        assert_eq!(
            kv(text),
            vec![
                ("a".into(), "1".into(), 1),
                ("b".into(), "2".into(), 2),
                ("c".into(), "3".into(), 3),
                ("d".into(), "4".into(), 4)
            ]
        );
        assert_eq!(one("a=x\\\r\n  y"), ("a".into(), "xy".into()));
    }

    #[test]
    fn escapes() {
        assert_eq!(one(r"a=x\ty"), ("a".into(), "x\ty".into()));
        assert_eq!(one(r"a=x\ny\rz\f"), ("a".into(), "x\ny\rz\u{000C}".into()));
        assert_eq!(one(r"a=\u0041\u00e9"), ("a".into(), "Aé".into()));
        assert_eq!(one(r"a=\uD83D\uDE00"), ("a".into(), "😀".into()));
        assert_eq!(one(r"a=\q\\"), ("a".into(), "q\\".into()));
        assert_eq!(
            one(r"key\:with\=seps\ x=v"),
            ("key:with=seps x".into(), "v".into())
        );
        assert_eq!(one(r"a=\ lead"), ("a".into(), " lead".into()));
        assert_eq!(one(r"a=C:\\data"), ("a".into(), "C:\\data".into()));
        // A single backslash before an ordinary character just disappears,
        // which is what bites Windows paths in zoo.cfg.
        assert_eq!(one(r"a=C:\data"), ("a".into(), "C:data".into()));
    }

    #[test]
    fn malformed_unicode_escape_is_an_error_with_line() {
        let err = Properties::parse("a=1\nb=\\u12G4\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("\\uxxxx"), "{}", err.message);
        assert!(Properties::parse("a=\\u12").is_err());
    }

    #[test]
    fn duplicates_last_wins() {
        let p = Properties::parse("a=1\nb=2\na=3\n").unwrap();
        assert_eq!(p.get("a").unwrap().value, "3");
        assert_eq!(p.get("a").unwrap().line, 3);
        let eff: Vec<_> = p
            .effective_entries()
            .iter()
            .map(|e| e.key.clone())
            .collect();
        assert_eq!(eff, vec!["b", "a"]);
        assert_eq!(p.all_entries().len(), 3);
    }

    #[test]
    fn latin1_decoding() {
        let p = Properties::parse_latin1(b"dataDir=/d\xc3\xa9\n").unwrap();
        assert_eq!(p.get("dataDir").unwrap().value, "/d\u{00C3}\u{00A9}");
    }

    #[test]
    fn empty_input() {
        assert!(Properties::parse("").unwrap().all_entries().is_empty());
        assert!(Properties::parse("\n\n# x\n")
            .unwrap()
            .all_entries()
            .is_empty());
        assert!(Properties::parse("# x").unwrap().all_entries().is_empty());
    }
}
