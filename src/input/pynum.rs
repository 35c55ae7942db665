//! Reading token counts and costs the way the reference does: with Python's
//! `int()` and `float()`, where anything they reject counts as zero.
//!
//! The details matter because hand-made summaries carry strings, floats and
//! booleans: `int(" 1_000 ")` is 1000, `int("1.5")` fails (so 0), `int(2.9)` is
//! 2, `int(True)` is 1, and `float("1e-3")` is 0.001. Python also reads
//! Unicode decimal digits and Unicode white space in numeric strings, so this
//! module carries those two tables (Unicode 14, as in CPython 3.11).

use crate::json::{Num, Value};

/// CPython refuses to convert decimal strings longer than this (since 3.11,
/// `sys.int_info.default_max_str_digits`): `int()` raises, so the value is 0.
const MAX_STR_DIGITS: usize = 4300;

/// `int(value)` as the reference's `_safe_int` reads it, telling an
/// unreadable value (`None`: `int()` raises; `_safe_int` gives 0) from a
/// readable one; `null` is a readable 0, as `_safe_int(None)` is 0 by
/// design. Integers beyond ±2^127 saturate.
/// The reader records unreadable values for `options.diagnostics`.
pub fn try_py_int(value: &Value) -> Option<i128> {
    match value {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(Num::Int(i)) => Some(*i),
        Value::Number(Num::BigInt { approx }) => float_to_int(*approx),
        Value::Number(Num::Float(f)) => float_to_int(*f),
        Value::String(s) => parse_int_str(s),
        Value::Null => Some(0),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `float(value)` as the reference's `_safe_float` reads it, with `None`
/// where `float()` raises (`_safe_float` gives 0.0; `null` reads as 0.0).
pub fn try_py_float(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        // Rust's `as` rounds to nearest, ties to even, as `float(int)` does.
        Value::Number(Num::Int(i)) => Some(*i as f64),
        Value::Number(Num::BigInt { approx }) => Some(*approx),
        Value::Number(Num::Float(f)) => Some(*f),
        Value::String(s) => parse_float_str(s),
        Value::Null => Some(0.0),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `int(x)` for a float truncates toward zero. NaN and ±inf make `int()` raise
/// (`ValueError`, and `OverflowError`, which the reference does not even catch);
/// both count as unreadable here. Beyond ±2^127 the result saturates.
fn float_to_int(f: f64) -> Option<i128> {
    // `as` truncates toward zero and saturates at the i128 bounds.
    f.is_finite().then(|| f.trunc() as i128)
}

/// Python's `int(str)` in base 10: surrounding white space, an optional sign,
/// digits with single underscores between them. `None` where Python raises.
pub fn parse_int_str(s: &str) -> Option<i128> {
    let ascii = to_ascii_numeral(s)?;
    let t = ascii.trim_matches(is_ascii_space);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !underscores_between_digits(digits) {
        return None;
    }
    let mut value: i128 = 0;
    let mut count = 0usize;
    for b in digits.bytes() {
        if b == b'_' {
            continue;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        count += 1;
        value = value.saturating_mul(10).saturating_add(i128::from(b - b'0'));
    }
    if count == 0 || count > MAX_STR_DIGITS {
        return None;
    }
    Some(if negative { value.saturating_neg() } else { value })
}

/// Python's `float(str)`: surrounding white space, underscores only between
/// digits, decimal notation with optional exponent, or `inf`/`infinity`/`nan`
/// in any case with an optional sign. `None` where Python raises.
pub fn parse_float_str(s: &str) -> Option<f64> {
    let ascii = to_ascii_numeral(s)?;
    let t = ascii.trim_matches(is_ascii_space);
    if !underscores_between_digits(t) {
        return None;
    }
    let cleaned: String = t.chars().filter(|&c| c != '_').collect();
    // Rust's grammar for f64 equals Python's here: optional sign, digits with
    // an optional point ("1.", ".5"), optional exponent, or inf/infinity/nan.
    // Only characters Python accepts can reach it.
    if !cleaned.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// Python maps Unicode white space to ' ' and Unicode decimal digits to
/// ASCII before parsing a number; any other non-ASCII character makes the
/// string unparsable (`None` here).
fn to_ascii_numeral(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if s.is_ascii() {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if is_unicode_space(c) {
            out.push(' ');
        } else if let Some(d) = unicode_decimal(c) {
            out.push(char::from(b'0' + d));
        } else {
            return None;
        }
    }
    Some(std::borrow::Cow::Owned(out))
}

/// White space as CPython's `Py_ISSPACE` strips it after the mapping above.
/// (`str.isspace()` also counts U+001C..U+001F, but `int()`/`float()` do not
/// strip them: checked against CPython 3.11.)
fn is_ascii_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// Every `_` must sit between two ASCII digits.
fn underscores_between_digits(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'_' || (i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_digit) && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
}

/// Non-ASCII characters for which `str.isspace()` is true (Unicode 14).
fn is_unicode_space(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// The first code point (the zero) of every run of ten Unicode decimal digits
/// (general category Nd) outside ASCII, Unicode 14.
const DECIMAL_ZEROS: [u32; 65] = [
    0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0,
    0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50,
    0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

fn unicode_decimal(c: char) -> Option<u8> {
    let cp = u32::from(c);
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= cp);
    let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    u8::try_from(cp - zero).ok().filter(|d| *d < 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `_safe_int` and `_safe_float` read: 0 for what is unreadable.
    fn py_int(value: &Value) -> i128 {
        try_py_int(value).unwrap_or(0)
    }

    fn py_float(value: &Value) -> f64 {
        try_py_float(value).unwrap_or(0.0)
    }

    fn s(x: &str) -> Value {
        Value::String(x.to_string())
    }

    #[test]
    fn int_reads_like_python() {
        // Each pair was checked against CPython 3.11's int().
        let cases: &[(&str, Option<i128>)] = &[
            (" 7 ", Some(7)),
            ("+5", Some(5)),
            ("-3", Some(-3)),
            ("1_000", Some(1000)),
            (" 1_000 ", Some(1000)),
            ("010", Some(10)),
            ("-0", Some(0)),
            ("\t12\n", Some(12)),
            ("\u{a0}12\u{3000}", Some(12)),
            ("\u{1c}3", None),
            ("\u{a0}\u{1c}3", None),
            ("١٢", Some(12)),
            ("１２", Some(12)),
            ("1.5", None),
            ("", None),
            ("   ", None),
            ("abc", None),
            ("_1", None),
            ("1_", None),
            ("1__0", None),
            ("- 5", None),
            ("--5", None),
            ("0x10", None),
            ("1e3", None),
            ("+", None),
            ("5 5", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_int_str(input), *want, "int({input:?})");
        }
    }

    #[test]
    fn int_refuses_more_digits_than_cpython_allows() {
        assert_eq!(parse_int_str(&"1".repeat(4300)), Some(i128::MAX));
        assert_eq!(parse_int_str(&"1".repeat(4301)), None);
    }

    #[test]
    fn int_of_other_types() {
        assert_eq!(py_int(&Value::Bool(true)), 1);
        assert_eq!(py_int(&Value::Bool(false)), 0);
        assert_eq!(py_int(&Value::Number(Num::Float(3.9))), 3);
        assert_eq!(py_int(&Value::Number(Num::Float(-2.5))), -2);
        assert_eq!(py_int(&Value::Number(Num::Float(f64::NAN))), 0);
        assert_eq!(py_int(&Value::Number(Num::Float(f64::INFINITY))), 0);
        assert_eq!(py_int(&Value::Number(Num::Float(1e300))), i128::MAX);
        assert_eq!(py_int(&Value::Number(Num::Int(9_007_199_254_740_993))), 9_007_199_254_740_993);
        assert_eq!(py_int(&Value::Null), 0);
        assert_eq!(py_int(&Value::Array(vec![])), 0);
        assert_eq!(py_int(&Value::Object(vec![])), 0);
        assert_eq!(py_int(&s(" 1_000 ")), 1000);
    }

    #[test]
    fn float_reads_like_python() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1e-3", Some(0.001)),
            (" 2 ", Some(2.0)),
            ("0.25", Some(0.25)),
            ("1_000.5", Some(1000.5)),
            ("1e1_0", Some(1e10)),
            ("5.", Some(5.0)),
            (".5", Some(0.5)),
            ("-inf", Some(f64::NEG_INFINITY)),
            ("Infinity", Some(f64::INFINITY)),
            ("1e400", Some(f64::INFINITY)),
            ("１.５", Some(1.5)),
            ("abc", None),
            ("", None),
            (".", None),
            ("1_.5", None),
            ("1._5", None),
            ("1e", None),
            ("0x1p3", None),
            ("1,5", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_float_str(input), *want, "float({input:?})");
        }
        assert!(parse_float_str(" nan ").is_some_and(f64::is_nan));
        assert!(parse_float_str("-NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn float_of_other_types() {
        assert_eq!(py_float(&Value::Bool(true)), 1.0);
        assert_eq!(py_float(&Value::Number(Num::Int(3))), 3.0);
        assert_eq!(py_float(&Value::Number(Num::BigInt { approx: 1e40 })), 1e40);
        assert_eq!(py_float(&Value::Null), 0.0);
        assert_eq!(py_float(&s("abc")), 0.0);
        assert_eq!(py_float(&Value::Array(vec![])), 0.0);
    }

    #[test]
    fn decimal_table_finds_digits_and_rejects_neighbours() {
        assert_eq!(unicode_decimal('٠'), Some(0));
        assert_eq!(unicode_decimal('٩'), Some(9));
        assert_eq!(unicode_decimal('\u{66a}'), None);
        assert_eq!(unicode_decimal('é'), None);
        assert_eq!(unicode_decimal('\u{1fbf9}'), Some(9));
    }
}
