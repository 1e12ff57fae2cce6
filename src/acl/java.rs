//! The two bits of `java.lang` string handling whose quirks decide which ACL
//! ids ZooKeeper accepts, reproduced so validity checks agree with it.

/// Number of pieces `s.split(sep)` (no limit) yields in Java: trailing empty
/// pieces are dropped, and an empty input is one (empty) piece.
pub(crate) fn split_count(s: &str, sep: char) -> usize {
    if s.is_empty() {
        return 1;
    }
    let pieces: Vec<&str> = s.split(sep).collect();
    let trailing_empty = pieces.iter().rev().take_while(|p| p.is_empty()).count();
    pieces.len() - trailing_empty
}

/// `Integer.parseInt(s, radix)`: optional `+`/`-`, at least one digit, no
/// overflow. Java also accepts non-ASCII Unicode digits; we only take ASCII
/// ones, which differs only for ids nobody writes.
pub(crate) fn parse_int(s: &str, radix: u32) -> Option<i32> {
    i32::from_str_radix(s, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_count_matches_java() {
        // Values checked against String.split semantics.
        assert_eq!(split_count("", ':'), 1);
        assert_eq!(split_count("a", ':'), 1);
        assert_eq!(split_count("a:b", ':'), 2);
        assert_eq!(split_count("a:b:", ':'), 2);
        assert_eq!(split_count("a:b::", ':'), 2);
        assert_eq!(split_count(":b", ':'), 2);
        assert_eq!(split_count("a:", ':'), 1);
        assert_eq!(split_count(":", ':'), 0);
        assert_eq!(split_count("::", ':'), 0);
        assert_eq!(split_count("a::b", ':'), 3);
    }

    #[test]
    fn parse_int_matches_java() {
        assert_eq!(parse_int("10", 10), Some(10));
        assert_eq!(parse_int("+10", 10), Some(10));
        assert_eq!(parse_int("-0", 10), Some(0));
        assert_eq!(parse_int("007", 10), Some(7));
        assert_eq!(parse_int("", 10), None);
        assert_eq!(parse_int("+", 10), None);
        assert_eq!(parse_int(" 1", 10), None);
        assert_eq!(parse_int("1 ", 10), None);
        assert_eq!(parse_int("99999999999", 10), None);
        assert_eq!(parse_int("fF", 16), Some(255));
        assert_eq!(parse_int("-1", 16), Some(-1));
        assert_eq!(parse_int("0x1", 16), None);
    }
}
