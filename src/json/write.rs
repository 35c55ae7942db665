//! Writing JSON text: string literals, and the exact length of what is
//! written, so that an answer's size is known before it is built.

use std::fmt::Write;

/// The length of an integer's decimal text (compared with powers of ten:
/// a 128-bit division is a library call in wasm).
pub fn int_len(v: i128) -> usize {
    let (abs, mut digits, mut power) = (v.unsigned_abs(), 1, 10u128);
    while digits < 39 && abs >= power {
        digits += 1;
        power = power.saturating_mul(10);
    }
    digits + usize::from(v < 0)
}

/// The length of [`write_str`]'s text for `s` (saturating).
pub fn str_len(s: &str) -> usize {
    s.bytes().fold(2usize, |n, b| {
        n.saturating_add(match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 2,
            b if b < 0x20 => 6,
            _ => 1,
        })
    })
}

/// A JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
