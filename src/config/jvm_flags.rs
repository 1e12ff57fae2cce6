//! `-Dkey=value` flags from the environment variables zkServer.sh passes to
//! the JVM.
//!
//! Operators configure much of ZooKeeper with system properties placed in
//! `SERVER_JVMFLAGS` or `JVMFLAGS` (typically in `conf/java.env` or
//! `zookeeper-env.sh`). zkServer.sh runs
//! `java ... $JVMFLAGS QuorumPeerMain zoo.cfg` with
//! `JVMFLAGS="$SERVER_JVMFLAGS $JVMFLAGS"`; `CLIENT_JVMFLAGS` only reaches the
//! client tools (and the `status` probe), never the server. When a key is
//! given twice, the JVM keeps the last one, so `JVMFLAGS` wins over
//! `SERVER_JVMFLAGS`.
//!
//! Quoting: zkServer.sh expands `$JVMFLAGS` unquoted, so the shell only
//! splits it on whitespace and quote characters inside the variable reach
//! Java literally. FerroKeeper instead honours `'...'`, `"..."` and `\`
//! quoting so that values containing spaces can be written at all. For flags
//! without quotes or backslashes (the normal case) the result is identical.
//! If the quoting is unbalanced, the variable is split on whitespace exactly
//! like zkServer.sh would and a warning is reported.

/// Why quote-aware splitting failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuoteError {
    UnterminatedSingleQuote,
    UnterminatedDoubleQuote,
    TrailingBackslash,
}

impl QuoteError {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            QuoteError::UnterminatedSingleQuote => "unterminated single quote",
            QuoteError::UnterminatedDoubleQuote => "unterminated double quote",
            QuoteError::TrailingBackslash => "trailing backslash",
        }
    }
}

fn is_ifs(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n'
}

/// Splits like a POSIX shell word list: whitespace separates words, `'...'`
/// is literal, `"..."` allows `\"`, `\\`, `\$` and `` \` `` escapes, and a
/// backslash outside quotes escapes the next character.
pub(crate) fn shell_words(s: &str) -> Result<Vec<String>, QuoteError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if is_ifs(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(QuoteError::UnterminatedSingleQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek().copied() {
                            Some(next @ ('"' | '\\' | '$' | '`')) => {
                                word.push(next);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            Some(_) => word.push('\\'),
                            None => return Err(QuoteError::UnterminatedDoubleQuote),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(QuoteError::UnterminatedDoubleQuote),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    in_word = true;
                    word.push(next);
                }
                None => return Err(QuoteError::TrailingBackslash),
            },
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// What the shell does to an unquoted `$VAR`: split on whitespace, no quote removal.
pub(crate) fn whitespace_words(s: &str) -> Vec<String> {
    s.split(is_ifs)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Interprets one JVM argument: `-Dkey=value` sets `key` to `value`, and
/// `-Dkey` sets it to the empty string, as the `java` launcher does. Any
/// other argument (`-Xmx1g`, `-XX:...`) is not a system property.
pub fn parse_jvm_flag(arg: &str) -> Option<(String, String)> {
    let definition = arg.strip_prefix("-D")?;
    let (key, value) = match definition.split_once('=') {
        Some((k, v)) => (k, v),
        None => (definition, ""),
    };
    if key.is_empty() {
        return None;
    }
    Some((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_splitting() {
        assert_eq!(
            shell_words("  -Xmx1g\t-Da=b \n -Dc ").unwrap(),
            vec!["-Xmx1g", "-Da=b", "-Dc"]
        );
        assert_eq!(shell_words("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_words(r#"-Dzookeeper.4lw.commands.whitelist="stat, ruok" -Db='x y' -Dc=a\ b"#)
                .unwrap(),
            vec![
                "-Dzookeeper.4lw.commands.whitelist=stat, ruok",
                "-Db=x y",
                "-Dc=a b"
            ]
        );
        assert_eq!(shell_words(r#""a\"b\\c\d""#).unwrap(), vec![r#"a"b\c\d"#]);
        assert_eq!(shell_words("''").unwrap(), vec![""]);
        assert_eq!(shell_words("a'b'\"c\"d").unwrap(), vec!["abcd"]);
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(
            shell_words("-Da='x"),
            Err(QuoteError::UnterminatedSingleQuote)
        );
        assert_eq!(
            shell_words("-Da=\"x"),
            Err(QuoteError::UnterminatedDoubleQuote)
        );
        assert_eq!(shell_words("-Da=x\\"), Err(QuoteError::TrailingBackslash));
        assert_eq!(whitespace_words("-Da=\"x y"), vec!["-Da=\"x", "y"]);
    }

    #[test]
    fn jvm_flags() {
        assert_eq!(parse_jvm_flag("-Da=b"), Some(("a".into(), "b".into())));
        assert_eq!(parse_jvm_flag("-Da=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(parse_jvm_flag("-Da"), Some(("a".into(), "".into())));
        assert_eq!(parse_jvm_flag("-Da="), Some(("a".into(), "".into())));
        assert_eq!(parse_jvm_flag("-D"), None);
        assert_eq!(parse_jvm_flag("-D=x"), None);
        assert_eq!(parse_jvm_flag("-Xmx1g"), None);
        assert_eq!(parse_jvm_flag("D=x"), None);
    }
}
