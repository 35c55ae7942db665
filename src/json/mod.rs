//! A strict JSON (RFC 8259) scanner over bytes that may be only part of a
//! stream ([`Parser`]), and a small shaped reader for the request and
//! options ([`parse_value`]). It knows nothing of calls.
//!
//! What makes it fit for the bytes path:
//! - it skips values it does not need in one flat loop (no recursion on the
//!   input's nesting, no allocation), checking them as it goes (`skip`);
//! - strings are borrowed from the input unless they hold escapes;
//! - UTF-8 is checked only inside strings (the only place JSON allows
//!   non-ASCII bytes), so there is no separate pass over the body; the
//!   byte scans go 16 bytes a step with wasm SIMD (`bytes`);
//! - line breaks can only appear in white space, so counting them there gives
//!   exact line numbers for errors at no extra cost;
//! - a scan that reaches the end of a slice which more input may follow
//!   stops with [`Stop::NeedMore`], not an error: that is how a stream
//!   reader knows to wait for the next chunk.
//!
//! Invariant: the position never passes the end of the slice, and every
//! byte before it has been checked.

use std::borrow::Cow;

mod bytes;
mod skip;
mod value;
mod write;

pub use bytes::same;
pub use value::{parse_value, Num, Shape, Value};
pub use write::{int_len, str_len, write_str};

use bytes::plain_run;

/// Where and why the input is not JSON: `offset` into the scanned slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub offset: usize,
    pub what: &'static str,
}

/// Why a scan stopped before the end of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The slice ended where the value goes on, and more input may follow:
    /// not an error yet; read the value again once more has come.
    NeedMore,
    /// The input is not JSON here.
    Invalid(Failure),
}

pub type Parsed<T> = std::result::Result<T, Stop>;

/// Where lines start, in absolute stream offsets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lines {
    /// Line breaks seen so far.
    pub breaks: u64,
    /// Absolute offset of the current line's first byte.
    pub start: u64,
    /// UTF-8 continuation bytes seen on the current line (bytes minus these
    /// is the column in characters).
    pub continuation: u64,
}

/// A parser's position and line counts, to go back to ([`Parser::reset`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pos: usize,
    lines: Lines,
}

/// A cursor over one slice of the input.
pub struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// No more input will follow `b`.
    last: bool,
    /// Absolute stream offset of `b[0]`.
    base: u64,
    lines: Lines,
}

impl<'a> Parser<'a> {
    pub fn new(b: &'a [u8], base: u64, last: bool, lines: Lines) -> Parser<'a> {
        Parser { b, pos: 0, last, base, lines }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    pub fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// A stop at `offset`: at the end of a slice that is not the last of the
    /// input, the value may go on in the next one (`Stop::NeedMore`);
    /// anywhere else the input is not JSON there (`Stop::Invalid`).
    pub fn fail_at(&self, offset: usize, what: &'static str) -> Stop {
        if offset >= self.b.len() && !self.last {
            return Stop::NeedMore;
        }
        Stop::Invalid(Failure { offset: offset.min(self.b.len()), what })
    }

    /// [`Parser::fail_at`] the current position.
    pub fn fail(&self, what: &'static str) -> Stop {
        self.fail_at(self.pos, what)
    }

    /// The position in the slice.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Steps over the byte [`Parser::peek`] saw (never a line break: those
    /// are white space, counted by [`Parser::skip_ws`]).
    #[inline]
    pub fn bump(&mut self) {
        debug_assert!(self.peek().is_some_and(|c| c != b'\n'), "bump steps over a byte that was peeked, not a line break");
        self.pos += 1;
    }

    /// The input from `start` to the position (`start` at or before it).
    #[inline]
    pub fn since(&self, start: usize) -> &'a [u8] {
        span(self.b, start, self.pos)
    }

    /// The input from the position on.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        span(self.b, self.pos, self.b.len())
    }

    /// Whether the position is the first byte of the whole input.
    pub fn at_input_start(&self) -> bool {
        self.base == 0 && self.pos == 0
    }

    /// Whether no more input follows this slice.
    pub fn is_last(&self) -> bool {
        self.last
    }

    /// Line counts as of the position.
    pub fn lines(&self) -> Lines {
        self.lines
    }

    /// Where the parser is, to come back to with [`Parser::reset`].
    pub fn mark(&self) -> Mark {
        Mark { pos: self.pos, lines: self.lines }
    }

    /// Back to a [`Parser::mark`] of this parser.
    pub fn reset(&mut self, mark: Mark) {
        debug_assert!(mark.pos <= self.pos);
        self.pos = mark.pos;
        self.lines = mark.lines;
    }

    /// Consumes `pattern`, which is one character (a byte order mark) for
    /// error columns, if the input continues with it.
    pub fn eat_character(&mut self, pattern: &[u8]) -> bool {
        let eaten = self.eat(pattern);
        if eaten {
            self.lines.continuation += pattern.len().saturating_sub(1) as u64;
        }
        eaten
    }

    /// Skips white space, counting line breaks.
    #[inline]
    pub fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.lines.breaks += 1;
                    self.lines.start = self.base + self.pos as u64;
                    self.lines.continuation = 0;
                }
                _ => break,
            }
        }
    }

    /// Consumes `c` after optional white space.
    #[inline]
    pub fn expect(&mut self, c: u8, what: &'static str) -> Parsed<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// After an object member: `,` (true: another member follows) or `}`.
    #[inline]
    pub fn member_end(&mut self) -> Parsed<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.fail("expected ',' or '}' after an object member")),
        }
    }

    /// `{` has been consumed: true if the object is empty (and now closed).
    #[inline]
    pub fn empty_object(&mut self) -> bool {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// An object key and its colon, as bytes: keys are mostly compared, and
    /// comparing bytes spares a UTF-8 conversion per key. (A key is valid
    /// UTF-8: `scan_string` checked it.) The common case is inlined into the
    /// readers; the rest is `key_slow`.
    #[inline(always)]
    pub fn key(&mut self) -> Parsed<Cow<'a, [u8]>> {
        // Fast path: a plain ASCII key right before its colon, as JSON
        // writers produce them: nothing to decode or check further.
        let b: &'a [u8] = self.b;
        if b.get(self.pos) == Some(&b'"') {
            let start = self.pos + 1;
            let (end, non_ascii) = plain_run(b, start);
            if !non_ascii && b.get(end) == Some(&b'"') && b.get(end + 1) == Some(&b':') {
                self.pos = end + 2;
                return Ok(Cow::Borrowed(span(b, start, end)));
            }
        }
        self.key_slow()
    }

    /// Consumes `pattern` if the input continues with it, byte for byte.
    #[inline(always)]
    pub fn eat(&mut self, pattern: &[u8]) -> bool {
        let end = self.pos + pattern.len();
        if self.b.get(self.pos..end).is_some_and(|s| same(s, pattern)) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    #[inline(never)]
    fn key_slow(&mut self) -> Parsed<Cow<'a, [u8]>> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.fail("expected a string key"));
        }
        let key = self.raw_string()?;
        self.expect(b':', "expected ':' after an object key")?;
        Ok(key)
    }

    /// A string (its opening quote at `pos`) as UTF-8 bytes, checked and with
    /// escapes decoded; borrowed unless it has escapes. For strings that are
    /// only compared, hashed or stored, this spares a `str` conversion.
    pub fn raw_string(&mut self) -> Parsed<Cow<'a, [u8]>> {
        let (start, end, escapes) = self.scan_string()?;
        let b: &'a [u8] = self.b;
        let raw = span(b, start, end);
        if !escapes {
            return Ok(Cow::Borrowed(raw));
        }
        let text = std::str::from_utf8(raw).map_err(|e| self.fail_at(start + e.valid_up_to(), "invalid UTF-8"))?;
        Ok(Cow::Owned(unescape(text).into_bytes()))
    }

    #[inline]
    pub fn literal(&mut self, word: &'static [u8]) -> Parsed<()> {
        let rest = self.rest();
        if rest.starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else if word.starts_with(rest) {
            Err(self.fail_at(self.b.len(), "unexpected end of input"))
        } else {
            Err(self.fail("invalid literal"))
        }
    }

    /// Scans a string whose opening quote is at `pos`: checks escapes, raw
    /// control characters and UTF-8. Returns the raw content's span and
    /// whether it holds escapes; `pos` ends after the closing quote.
    pub fn scan_string(&mut self) -> Parsed<(usize, usize, bool)> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escapes = false;
        let mut non_ascii = false;
        let b = self.b;
        loop {
            let (end, more) = plain_run(b, i);
            i = end;
            non_ascii |= more;
            let Some(&c) = b.get(i) else {
                return Err(self.fail_in_string(start, b.len(), "unterminated string"));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escapes = true;
                    i += 1;
                    match b.get(i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 1,
                        Some(b'u') => {
                            for k in 1..=4 {
                                match b.get(i + k) {
                                    Some(h) if h.is_ascii_hexdigit() => {}
                                    Some(_) => return Err(self.fail_in_string(start, i + k, "invalid \\u escape in a string")),
                                    None => return Err(self.fail_in_string(start, b.len(), "unterminated string")),
                                }
                            }
                            i += 5;
                        }
                        Some(_) => return Err(self.fail_in_string(start, i, "invalid escape in a string")),
                        None => return Err(self.fail_in_string(start, b.len(), "unterminated string")),
                    }
                }
                _ => return Err(self.fail_in_string(start, i, "control character in a string")),
            }
        }
        if non_ascii {
            let raw = span(b, start, i);
            if let Err(e) = std::str::from_utf8(raw) {
                return Err(self.fail_in_string(start, start + e.valid_up_to(), "invalid UTF-8"));
            }
            self.lines.continuation += raw.iter().filter(|&&c| (0x80..0xc0).contains(&c)).count() as u64;
        }
        self.pos = i + 1;
        Ok((start, i, escapes))
    }

    /// A failure inside the string whose content starts at `start`: counts
    /// the string's characters before it, so that the column is in
    /// characters (a string's are otherwise counted once it has been read).
    /// (Not for [`Stop::NeedMore`]: that step is read again with more input.)
    fn fail_in_string(&mut self, start: usize, offset: usize, what: &'static str) -> Stop {
        let stop = self.fail_at(offset, what);
        if let Stop::Invalid(f) = stop {
            let before = span(self.b, start, f.offset);
            self.lines.continuation += before.iter().filter(|&&c| (0x80..0xc0).contains(&c)).count() as u64;
        }
        stop
    }

    /// Reads a string (its opening quote at `pos`): borrowed unless it has
    /// escapes. A lone surrogate escape (`"\ud800"`, valid JSON but not
    /// Unicode) becomes U+FFFD.
    pub fn string(&mut self) -> Parsed<Cow<'a, str>> {
        let (start, end, escapes) = self.scan_string()?;
        let b: &'a [u8] = self.b;
        let raw = span(b, start, end);
        let text = std::str::from_utf8(raw).map_err(|e| self.fail_at(start + e.valid_up_to(), "invalid UTF-8"))?;
        if !escapes {
            return Ok(Cow::Borrowed(text));
        }
        Ok(Cow::Owned(unescape(text)))
    }

    /// Checks the number grammar at `pos`; returns its text and whether it
    /// is an integer literal. A number running to the end of a slice that is
    /// not the last may continue in the next one.
    pub fn scan_number(&mut self) -> Parsed<(&'a [u8], bool)> {
        let b: &'a [u8] = self.b;
        let start = self.pos;
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            _ => return Err(self.fail_at(i, "invalid number")),
        }
        // One or more digits from `j`: the index after them.
        let more_digits = |mut j: usize| {
            if !digit(j) {
                return Err(self.fail_at(j, "invalid number"));
            }
            while digit(j) {
                j += 1;
            }
            Ok(j)
        };
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            i = more_digits(i + 1)?;
            integer = false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = more_digits(i)?;
            integer = false;
        }
        if i >= b.len() && !self.last {
            return Err(self.fail_at(i, "unexpected end of input"));
        }
        self.pos = i;
        Ok((span(b, start, i), integer))
    }

    /// A number: integer literals exactly (as Python reads them), others as
    /// the nearest f64.
    pub fn number(&mut self) -> Parsed<Num> {
        let (raw, integer) = self.scan_number()?;
        if integer && raw.len() <= 18 {
            // Fits an i64 whatever the digits: skip the general parser.
            let (negative, digits) = raw.strip_prefix(b"-").map_or((false, raw), |d| (true, d));
            let v = digits.iter().fold(0i64, |v, c| v * 10 + i64::from(c - b'0'));
            return Ok(Num::Int(i128::from(if negative { -v } else { v })));
        }
        // The grammar was checked: ASCII only, and a number Rust parses.
        debug_assert!(raw.is_ascii() && std::str::from_utf8(raw).is_ok_and(|t| t.parse::<f64>().is_ok()));
        let text = std::str::from_utf8(raw).unwrap_or("0");
        let approx = || text.parse::<f64>().unwrap_or(f64::NAN);
        Ok(if integer { text.parse::<i128>().map_or_else(|_| Num::BigInt { approx: approx() }, Num::Int) } else { Num::Float(approx()) })
    }
}

/// `b[start..end]` for a span the scanner itself found, in bounds by
/// construction.
#[inline(always)]
fn span(b: &[u8], start: usize, end: usize) -> &[u8] {
    debug_assert!(start <= end && end <= b.len(), "a span the scanner found lies in its input");
    b.get(start..end).unwrap_or_default()
}

/// Decodes the escapes of a string whose raw text has been checked.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    // `scan_string` checked that four hex digits follow each `\u`.
    let hex4 = |chars: &mut std::str::Chars<'_>| -> u32 {
        (0..4).fold(0, |v, _| {
            let digit = chars.next().and_then(|c| c.to_digit(16));
            debug_assert!(digit.is_some(), "a checked \\u escape has four hex digits");
            v * 16 + digit.unwrap_or(0)
        })
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hi = hex4(&mut chars);
                if (0xD800..0xDC00).contains(&hi) && chars.as_str().starts_with("\\u") {
                    let mut ahead = chars.clone();
                    ahead.next();
                    ahead.next();
                    let lo = hex4(&mut ahead);
                    if (0xDC00..0xE000).contains(&lo) {
                        chars = ahead;
                        // A surrogate pair always makes a character.
                        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                        debug_assert!(c.is_some());
                        out.push(c.unwrap_or('\u{fffd}'));
                        continue;
                    }
                }
                // A lone surrogate (valid JSON, not Unicode): U+FFFD.
                out.push(char::from_u32(hi).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other), // '"', '\\', '/'
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    // Under wasm-bindgen-test these run as wasm too, SIMD scan included.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Keeps every object member and array item.
    static ALL: Shape = Shape::EachValue(&ALL_ITEMS);
    static ALL_ITEMS: Shape = Shape::Items(&ALL);

    fn parse(text: &str) -> Result<Value, Failure> {
        let shape = if text.trim_start().starts_with('[') { &ALL_ITEMS } else { &ALL };
        parse_value(text.as_bytes(), shape)
    }

    #[test]
    fn values_and_shapes() {
        let v = parse(r#" {"a":[1,{"b":2}],"a":"x"} "#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::String("x".into())));
        let v = parse_value(br#"{"call_ids":["a",1,[2],{"x":3}],"limit":"5"}"#, &Shape::EachValue(&Shape::Items(&Shape::Scalar))).unwrap();
        assert_eq!(
            v.get("call_ids"),
            Some(&Value::Array(vec![Value::String("a".into()), Value::Number(Num::Int(1)), Value::Array(vec![]), Value::Object(vec![])]))
        );
    }

    #[test]
    fn numbers_keep_integers_exact() {
        let v = parse("[9007199254740993, -0, 1.5, 1e2, 170141183460469231731687303715884105728, -1E-2]").unwrap();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Number(Num::Int(9_007_199_254_740_993)),
                Value::Number(Num::Int(0)),
                Value::Number(Num::Float(1.5)),
                Value::Number(Num::Float(100.0)),
                Value::Number(Num::BigInt { approx: 1.7014118346046923e38 }),
                Value::Number(Num::Float(-0.01)),
            ])
        );
    }

    #[test]
    fn strings_decode_escapes_and_surrogates() {
        let v = parse(r#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "\ud800", "\ud800\u0041", "\udc00x", "é"]"#).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::String("a\"\\/\u{8}\u{c}\n\r\té😀".into()),
                Value::String("\u{fffd}".into()),
                Value::String("\u{fffd}A".into()),
                Value::String("\u{fffd}x".into()),
                Value::String("é".into()),
            ])
        );
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        let depth = 1_000_000;
        let body = format!("{{\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_value(body.as_bytes(), &Shape::EachValue(&Shape::Scalar)).is_ok());
        let body = format!("{{\"x\":{}}}", "[".repeat(depth));
        assert_eq!(parse_value(body.as_bytes(), &Shape::EachValue(&Shape::Scalar)).unwrap_err().what, "expected a value");
    }

    #[test]
    fn nesting_mixes_objects_and_arrays_at_any_depth() {
        for depth in [1, 63, 64, 65, 127, 128, 129, 300] {
            let open: String = (0..depth).map(|i| if i % 3 == 0 { "{\"k\":" } else { "[" }).collect();
            let close: String = (0..depth).rev().map(|i| if i % 3 == 0 { "}" } else { "]" }).collect();
            let text = format!("{open}1{close}");
            let mut p = Parser::new(text.as_bytes(), 0, true, Lines::default());
            assert_eq!(p.skip_value(), Ok(()), "depth {depth}");
            assert!(p.at_end());
            // The innermost closer swapped for the other kind.
            let swapped = if close.starts_with('}') { "]" } else { "}" };
            let wrong = format!("{open}1{swapped}{}", &close[1..]);
            let mut p = Parser::new(wrong.as_bytes(), 0, true, Lines::default());
            assert!(p.skip_value().is_err(), "depth {depth}: {wrong}");
        }
    }

    #[test]
    fn failures_know_whether_more_input_could_help() {
        let partial = |text: &str| {
            let mut p = Parser::new(text.as_bytes(), 0, false, Lines::default());
            p.skip_value().unwrap_err()
        };
        for text in [r#"{"a":"#, r#"{"a":"x"#, r#"{"a":tr"#, r#"{"a":12"#, r#"{"a":1.5e"#, r#"["\u00"#, r#"[1,"#, r#"{"a":"\"#] {
            assert_eq!(partial(text), Stop::NeedMore, "{text}");
        }
        for text in [r#"{"a":tx"#, r#"{"a":01"#, r#"{1"#, "[1 2", r#"["\x"]"#, "[\"\u{1}\"]"] {
            assert!(matches!(partial(text), Stop::Invalid(_)), "{text}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse(r#"{"a":1"#).unwrap_err().what, "expected ',' or '}' after an object member");
        assert_eq!(parse("\"\u{1}\"").unwrap_err().what, "control character in a string");
        assert_eq!(parse_value(b"\"a\xff\"", &ALL).unwrap_err(), Failure { offset: 2, what: "invalid UTF-8" });
        assert_eq!(parse("tru").unwrap_err().what, "unexpected end of input");
        assert_eq!(parse("1.").unwrap_err().what, "invalid number");
        assert_eq!(parse("[1] 2").unwrap_err().what, "unexpected content after the value");
    }

    #[test]
    fn strings_of_every_length_around_the_word_size() {
        // Strings of every length around the word size, with a quote at each end.
        for n in 0..40 {
            let text = format!("\"{}\"", "y".repeat(n));
            assert_eq!(parse(&text).unwrap(), Value::String("y".repeat(n)));
            let text = format!("\"{}\\n{}\"", "y".repeat(n), "z".repeat(n % 9));
            assert_eq!(parse(&text).unwrap(), Value::String(format!("{}\n{}", "y".repeat(n), "z".repeat(n % 9))));
        }
    }

    #[test]
    fn lines_are_counted_in_white_space() {
        let mut p = Parser::new(b"[\n1,\r\n \"\xc3\xa9\" ,\n", 0, false, Lines::default());
        let _ = p.skip_value();
        assert_eq!(p.lines.breaks, 3);
        assert_eq!(p.lines.start, 14);
        assert_eq!(p.lines.continuation, 0);
    }
}
