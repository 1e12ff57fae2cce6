//! The JDK's string-to-value conversions that decide what ZooKeeper accepts.
//!
//! ZooKeeper uses several different parsers for what look like the same
//! kind of setting: zoo.cfg keys it knows go through `Integer.parseInt`
//! (decimal only, an error otherwise), while settings read from system
//! properties go through `Integer.getInteger`, which uses `Integer.decode`
//! (also `0x`/`#` hex and leading-zero octal) and silently falls back to the
//! default on garbage. Reproducing each one is what keeps `snapCount=0x100`
//! meaning 256 and `tickTime=0x100` being rejected, as in Java.

/// `String.trim()`: strips every char at or below U+0020 from both ends.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= '\u{20}')
}

/// `Long.parseLong(s)`: optional sign then decimal digits; no whitespace.
pub(crate) fn parse_long(s: &str) -> Option<i64> {
    parse_radix(s, 10)
}

/// `Integer.parseInt(s)`.
pub(crate) fn parse_int(s: &str) -> Option<i32> {
    parse_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `Long.parseLong(s, radix)` for radix 8, 10 or 16.
fn parse_radix(s: &str, radix: u32) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut magnitude: i128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        magnitude = magnitude * i128::from(radix) + i128::from(d);
        if magnitude > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// `Long.decode(s)`: sign, then `0x`/`0X`/`#` for hex or a leading `0` for octal.
pub(crate) fn decode_long(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => ("-", &s[1..]),
        b'+' => ("", &s[1..]),
        _ => ("", s),
    };
    let (radix, digits) =
        if let Some(d) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = rest.strip_prefix('#') {
            (16, d)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.starts_with('-') || digits.starts_with('+') {
        return None;
    }
    parse_radix(&format!("{sign}{digits}"), radix)
}

/// `Integer.decode(s)`.
pub(crate) fn decode_int(s: &str) -> Option<i32> {
    decode_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `Double.parseDouble(s)` for decimal input: surrounding whitespace trimmed
/// (`String.trim`), optional sign, `NaN`, `Infinity`, or digits with an
/// optional fraction and exponent, optionally ending in one of `fFdD`.
/// Java's hexadecimal floats (`0x1p-2`) are not accepted.
pub(crate) fn parse_double(s: &str) -> Option<f64> {
    let t = java_trim(s);
    let (negative, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let number = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            let (mantissa, exponent) = match number.find(['e', 'E']) {
                Some(i) => (&number[..i], Some(&number[i + 1..])),
                None => (number, None),
            };
            let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
            let exponent_ok = exponent.is_none_or(|e| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                !e.is_empty() && digits(e)
            });
            if whole.len() + fraction.len() == 0
                || !digits(whole)
                || !digits(fraction)
                || !exponent_ok
            {
                return None;
            }
            number.parse::<f64>().ok()?
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `QuorumPeerConfig.parseBoolean`: exactly `true` or `false`, any case;
/// anything else is a configuration error.
pub(crate) fn parse_strict_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `Boolean.parseBoolean(s)` / `Boolean.getBoolean`: `true` in any case, else false.
pub(crate) fn java_bool(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_double_like_java() {
        for (text, want) in [
            ("0.33", 0.33),
            (" 0.5 ", 0.5),
            ("1", 1.0),
            ("-1", -1.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e-1", 0.1),
            ("2.5E+1", 25.0),
            ("0.25f", 0.25),
            ("0.25D", 0.25),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse_double(text), Some(want), "{text:?}");
        }
        assert!(parse_double("NaN").is_some_and(f64::is_nan));
        for bad in [
            "", ".", "e5", "1e", "abc", "inf", "nan", "1,5", "0x1p-2", "1.2.3", "--1",
        ] {
            assert_eq!(parse_double(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn trim_like_java() {
        assert_eq!(java_trim(" \t\u{0} x y \r\n"), "x y");
        assert_eq!(java_trim("\u{00A0}x"), "\u{00A0}x");
    }

    #[test]
    fn parse_int_like_java() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("+42"), Some(42));
        assert_eq!(parse_int("-42"), Some(-42));
        assert_eq!(parse_int("007"), Some(7));
        assert_eq!(parse_int("2147483647"), Some(i32::MAX));
        assert_eq!(parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_int("0x10"), None);
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_int("1 "), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("1_000"), None);
        assert_eq!(parse_long("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_long("9223372036854775808"), None);
        assert_eq!(parse_long("99999999999999999999999999"), None);
    }

    #[test]
    fn decode_like_java() {
        assert_eq!(decode_int("0xfffff"), Some(0xfffff));
        assert_eq!(decode_int("0XFF"), Some(255));
        assert_eq!(decode_int("#ff"), Some(255));
        assert_eq!(decode_int("-0x10"), Some(-16));
        assert_eq!(decode_int("010"), Some(8));
        assert_eq!(decode_int("0"), Some(0));
        assert_eq!(decode_int("08"), None);
        assert_eq!(decode_int("0x"), None);
        assert_eq!(decode_int("+-1"), None);
        assert_eq!(decode_int("0x-1"), None);
        assert_eq!(decode_int("-2147483648"), Some(i32::MIN));
        assert_eq!(decode_int("-0x80000000"), Some(i32::MIN));
        assert_eq!(decode_int("0x80000000"), None);
        assert_eq!(decode_long("100000"), Some(100_000));
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_strict_bool("TRUE"), Some(true));
        assert_eq!(parse_strict_bool("False"), Some(false));
        assert_eq!(parse_strict_bool("yes"), None);
        assert!(java_bool("tRuE"));
        assert!(!java_bool("yes"));
    }
}
