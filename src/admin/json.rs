//! JSON laid out as ZooKeeper's AdminServer writes it: Jackson's
//! `ObjectMapper` with `INDENT_OUTPUT` (its `DefaultPrettyPrinter`).
//!
//! Objects put each field on its own line, indented two spaces per level of
//! object nesting, as `"name" : value`; arrays stay on one line as
//! `[ a, b ]`; empty ones are `{ }` and `[ ]`. Doubles are printed as Java's
//! `Double.toString` prints them (`0.0`, `1.0E7`), and strings are escaped
//! as Jackson escapes them. Scripts that parse the JSON do not care, but
//! people diffing the two servers' replies do.

use serde_json::Value;

use super::java_fmt::java_double;

/// `value` as Jackson's pretty printer writes it (no trailing newline).
pub fn to_jackson_pretty(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value, 0);
    out
}

fn indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(f) = n.as_f64() {
                out.push_str(&java_double(f));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[ ]");
                return;
            }
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                // Arrays are "inline" for Jackson: they add no indentation level.
                write_value(out, item, level);
            }
            out.push_str(" ]");
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{ }");
                return;
            }
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_string(out, k);
                out.push_str(" : ");
                write_value(out, v, level + 1);
            }
            indent(out, level);
            out.push('}');
        }
    }
}

/// Jackson's default escaping: quote, backslash and control characters
/// (short forms where JSON has them, else `\u00XX` in upper case).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lays_out_like_jackson() {
        // The shape of Java's `stats` reply (compat-tests/admin/java-3.8.0/stats.json).
        let v = json!({
            "read_only": false,
            "server_stats": { "avg_latency": 7.2857, "uptime": 2494 },
            "connections": [ { "interest_ops": 1, "packets_sent": 7 } ],
            "secure_connections": [],
            "empty": {},
            "ids": [1, 2],
            "error": null
        });
        let want = "{\n  \"read_only\" : false,\n  \"server_stats\" : {\n    \"avg_latency\" : 7.2857,\n    \"uptime\" : 2494\n  },\n  \"connections\" : [ {\n    \"interest_ops\" : 1,\n    \"packets_sent\" : 7\n  } ],\n  \"secure_connections\" : [ ],\n  \"empty\" : { },\n  \"ids\" : [ 1, 2 ],\n  \"error\" : null\n}";
        assert_eq!(to_jackson_pretty(&v), want);
    }

    #[test]
    fn doubles_and_strings_as_java() {
        assert_eq!(to_jackson_pretty(&json!(0.0)), "0.0");
        assert_eq!(to_jackson_pretty(&json!(12345678.0)), "1.2345678E7");
        assert_eq!(
            to_jackson_pretty(&json!("a\"b\\c\nd\u{1}")),
            "\"a\\\"b\\\\c\\nd\\u0001\""
        );
    }
}
