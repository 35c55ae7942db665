//! A strict JSON (RFC 8259) scanner over bytes that may be only part of a
//! stream, and a small shaped reader for the request and options.
//!
//! What makes it fit for the bytes path:
//! - it skips values it does not need in one flat loop (no recursion on the
//!   input's nesting, no allocation), checking them as it goes;
//! - strings are borrowed from the input unless they hold escapes;
//! - UTF-8 is checked only inside strings (the only place JSON allows
//!   non-ASCII bytes), so there is no separate pass over the body;
//! - line breaks can only appear in white space, so counting them there gives
//!   exact line numbers for errors at no extra cost;
//! - a failure says whether more input could have avoided it (`eof`), which
//!   is how the stream reader (`stream.rs`) knows to wait for the next chunk.

use std::borrow::Cow;

use crate::value::{Num, Value};

/// A parse failure at `offset` (into the scanned slice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub offset: usize,
    pub what: &'static str,
    /// The input ended first, and more was expected: not an error yet.
    pub eof: bool,
}

pub type Parsed<T> = std::result::Result<T, Failure>;

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

/// Which parts of a value to build (for the request and options); anything
/// else is checked and skipped.
#[derive(Debug)]
pub enum Shape {
    /// Keep a scalar; an array or object becomes an empty one (its type is
    /// all validation needs).
    Scalar,
    /// In an object keep every key, each value with this shape.
    EachValue(&'static Shape),
    /// In an array keep every item, with this shape.
    Items(&'static Shape),
}

/// A request or options object: every key (unknown keys must be reported),
/// scalars, and arrays of scalars (`call_ids`).
pub const ARGUMENT_SHAPE: Shape = Shape::EachValue(&Shape::Items(&Shape::Scalar));

pub struct Parser<'a> {
    pub b: &'a [u8],
    pub pos: usize,
    /// No more input will follow `b`.
    pub last: bool,
    /// Absolute stream offset of `b[0]`.
    pub base: u64,
    pub lines: Lines,
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

    /// A failure at `offset`; at the end of the slice it is `eof` unless this
    /// is the last of the input.
    pub fn fail_at(&self, offset: usize, what: &'static str) -> Failure {
        let offset = offset.min(self.b.len());
        Failure { offset, what, eof: offset >= self.b.len() && !self.last }
    }

    pub fn fail(&self, what: &'static str) -> Failure {
        self.fail_at(self.pos, what)
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
                return Ok(Cow::Borrowed(b.get(start..end).unwrap_or_default()));
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
        let raw = b.get(start..end).unwrap_or_default();
        if !escapes {
            return Ok(Cow::Borrowed(raw));
        }
        let text = std::str::from_utf8(raw).map_err(|e| self.fail_at(start + e.valid_up_to(), "invalid UTF-8"))?;
        Ok(Cow::Owned(unescape(text).into_bytes()))
    }

    /// Checks and skips one value of any depth without building it, with an
    /// explicit stack of open containers instead of recursion. The hot loop
    /// of the bytes path: it works on a local index, scans plain strings and
    /// numbers inline, and leaves escapes, non-ASCII and errors to the full
    /// scanners.
    #[inline(always)]
    pub fn skip_value(&mut self) -> Parsed<()> {
        // Most skipped values of a call are `null` or a plain string: those
        // are done here, inlined, without setting up the loop below.
        let b: &'a [u8] = self.b;
        let i = self.pos;
        match b.get(i) {
            Some(b'n') if b.get(i..i + 4) == Some(b"null") => {
                self.pos = i + 4;
                return Ok(());
            }
            Some(b'"') => {
                self.pos = self.skip_string_at(i)?;
                return Ok(());
            }
            _ => {}
        }
        self.skip_any()
    }

    /// `skip_value` for containers, numbers, and strings that need a closer look.
    #[inline(never)]
    fn skip_any(&mut self) -> Parsed<()> {
        let b: &'a [u8] = self.b;
        let mut i = self.pos;
        let mut open = Nesting::default();
        'value: loop {
            // A value starts here.
            i = self.ws(i);
            match b.get(i) {
                Some(b'"') => i = self.skip_string_at(i)?,
                Some(b'{') => {
                    i = self.ws(i + 1);
                    if b.get(i) == Some(&b'}') {
                        i += 1;
                    } else {
                        open.push(true);
                        i = self.skip_key_at(i)?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    i = self.ws(i + 1);
                    if b.get(i) == Some(&b']') {
                        i += 1;
                    } else {
                        open.push(false);
                        continue 'value;
                    }
                }
                Some(b'-' | b'0'..=b'9') => i = self.skip_number_at(i)?,
                Some(b't' | b'f' | b'n') => {
                    self.pos = i;
                    let word: &'static [u8] = match b.get(i) {
                        Some(b't') => b"true",
                        Some(b'f') => b"false",
                        _ => b"null",
                    };
                    self.literal(word)?;
                    i = self.pos;
                }
                None => return Err(self.fail_at(i, "unexpected end of input")),
                Some(_) => return Err(self.fail_at(i, "expected a value")),
            }
            // A value ended: close containers or move to the next element.
            loop {
                let Some(object) = open.top() else {
                    self.pos = i;
                    return Ok(());
                };
                i = self.ws(i);
                match b.get(i) {
                    Some(b',') => {
                        i += 1;
                        if object {
                            let at = self.ws(i);
                            i = self.skip_key_at(at)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {
                        i += 1;
                        open.pop();
                    }
                    Some(b']') if !object => {
                        i += 1;
                        open.pop();
                    }
                    _ if object => return Err(self.fail_at(i, "expected ',' or '}' after an object member")),
                    _ => return Err(self.fail_at(i, "expected ',' or ']' after an array element")),
                }
            }
        }
    }

    /// White space from `i`, counting line breaks; the index after it.
    #[inline(always)]
    fn ws(&mut self, mut i: usize) -> usize {
        while let Some(&c) = self.b.get(i) {
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\n' => {
                    i += 1;
                    self.lines.breaks += 1;
                    self.lines.start = self.base + i as u64;
                    self.lines.continuation = 0;
                }
                _ => break,
            }
        }
        i
    }

    /// A string at `i` (its opening quote): the index after it. Plain ASCII
    /// strings are scanned here; the rest by `scan_string`.
    #[inline(always)]
    fn skip_string_at(&mut self, i: usize) -> Parsed<usize> {
        let (end, non_ascii) = plain_run(self.b, i + 1);
        if !non_ascii && self.b.get(end) == Some(&b'"') {
            return Ok(end + 1);
        }
        self.pos = i;
        self.scan_string()?;
        Ok(self.pos)
    }

    /// A number at `i`: the index after it. Plain integers are scanned here;
    /// the rest by `scan_number`.
    #[inline(always)]
    fn skip_number_at(&mut self, i: usize) -> Parsed<usize> {
        let b = self.b;
        let mut j = i + usize::from(b.get(i) == Some(&b'-'));
        let first = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        // A lone 0 or digits not starting with 0, ended by a delimiter.
        let digits = j - first;
        let ended = matches!(b.get(j), Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'));
        if ended && (digits == 1 || (digits > 1 && b.get(first) != Some(&b'0'))) {
            return Ok(j);
        }
        self.pos = i;
        self.scan_number()?;
        Ok(self.pos)
    }

    /// `"key":` at `i` inside a skipped object: the index after the colon.
    #[inline(always)]
    fn skip_key_at(&mut self, i: usize) -> Parsed<usize> {
        if self.b.get(i) != Some(&b'"') {
            return Err(self.fail_at(i, "expected a string key"));
        }
        let after = self.skip_string_at(i)?;
        let i = self.ws(after);
        if self.b.get(i) == Some(&b':') {
            Ok(i + 1)
        } else {
            Err(self.fail_at(i, "expected ':' after an object key"))
        }
    }

    #[inline]
    pub fn literal(&mut self, word: &'static [u8]) -> Parsed<()> {
        let rest = self.b.get(self.pos..).unwrap_or_default();
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
            let raw = b.get(start..i).unwrap_or_default();
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
    /// (Not for `eof`: that step is read again with more input.)
    fn fail_in_string(&mut self, start: usize, offset: usize, what: &'static str) -> Failure {
        let f = self.fail_at(offset, what);
        if !f.eof {
            let before = self.b.get(start..f.offset).unwrap_or_default();
            self.lines.continuation += before.iter().filter(|&&c| (0x80..0xc0).contains(&c)).count() as u64;
        }
        f
    }

    /// Reads a string (its opening quote at `pos`): borrowed unless it has
    /// escapes. A lone surrogate escape (`"\ud800"`, valid JSON but not
    /// Unicode) becomes U+FFFD.
    pub fn string(&mut self) -> Parsed<Cow<'a, str>> {
        let (start, end, escapes) = self.scan_string()?;
        let b: &'a [u8] = self.b;
        let raw = b.get(start..end).unwrap_or_default();
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
        Ok((b.get(start..i).unwrap_or(b"0"), integer))
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
        // The grammar was checked: ASCII only.
        let text = std::str::from_utf8(raw).unwrap_or("0");
        let approx = || text.parse::<f64>().unwrap_or(f64::NAN);
        Ok(if integer { text.parse::<i128>().map_or_else(|_| Num::BigInt { approx: approx() }, Num::Int) } else { Num::Float(approx()) })
    }

    /// One value, built as far as `shape` asks. Recursion here follows the
    /// shape (at most three levels), never the input.
    pub fn value(&mut self, shape: &Shape) -> Parsed<Value> {
        self.skip_ws();
        match (self.peek(), shape) {
            (Some(b'{'), Shape::EachValue(sub)) => {
                self.pos += 1;
                let mut entries = Vec::new();
                if !self.empty_object() {
                    loop {
                        let key = String::from_utf8_lossy(&self.key()?).into_owned();
                        entries.push((key, self.value(sub)?));
                        if !self.member_end()? {
                            break;
                        }
                    }
                }
                Ok(Value::Object(entries))
            }
            (Some(b'['), Shape::Items(item)) => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(item)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(self.fail("expected ',' or ']' after an array element")),
                    }
                }
            }
            (Some(b'{'), _) => self.skip_value().map(|()| Value::Object(Vec::new())),
            (Some(b'['), _) => self.skip_value().map(|()| Value::Array(Vec::new())),
            (Some(b'"'), _) => self.string().map(|s| Value::String(s.into_owned())),
            (Some(b't'), _) => self.literal(b"true").map(|()| Value::Bool(true)),
            (Some(b'f'), _) => self.literal(b"false").map(|()| Value::Bool(false)),
            (Some(b'n'), _) => self.literal(b"null").map(|()| Value::Null),
            (Some(b'-' | b'0'..=b'9'), _) => self.number().map(Value::Number),
            (None, _) => Err(self.fail("unexpected end of input")),
            (Some(_), _) => Err(self.fail("expected a value")),
        }
    }
}

/// From `i`: the index of the first byte that is `"`, `\\` or a control
/// character (or the end of `b`), and whether a non-ASCII byte comes before
/// it. Sixteen bytes a step with wasm SIMD, eight with plain integer tricks
/// (SWAR), then one.
#[inline(always)]
fn plain_run(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut non_ascii = false;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    while let Some(block) = b.get(i..i + 16).and_then(|w| <&[u8; 16]>::try_from(w).ok()) {
        let (special, high) = simd::scan16(block);
        if special != 0 {
            // Only the non-ASCII bytes before the special one count.
            let before = special & special.wrapping_neg();
            return (i + special.trailing_zeros() as usize, non_ascii || high & before.wrapping_sub(1) != 0);
        }
        non_ascii |= high != 0;
        i += 16;
    }
    while let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(word);
        let special = needs_a_look(x);
        if special != 0 {
            let k = special.trailing_zeros() / 8;
            let before = if k == 0 { 0 } else { x & (u64::MAX >> (64 - 8 * k)) };
            return (i + k as usize, non_ascii || before & 0x8080_8080_8080_8080 != 0);
        }
        non_ascii |= x & 0x8080_8080_8080_8080 != 0;
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        non_ascii |= c >= 0x80;
        i += 1;
    }
    (i, non_ascii)
}

/// Whether two byte strings are equal, eight bytes a step (the last step
/// overlapping the one before). Slice `==` calls `memcmp`, which on wasm32
/// is compiler-builtins' byte-at-a-time loop; ids and keys are compared on
/// every call.
#[inline]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes);
    let half = |s: &[u8], i: usize| s.get(i..i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_le_bytes);
    if n < 8 {
        return if n < 4 { a == b } else { half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4) };
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// A word with the high bit set in the lowest byte that is `"`, `\\` or a
/// control character (bytes above it may be flagged falsely; the lowest is
/// exact), or 0 if there is none. The classic SWAR zero-byte test.
fn needs_a_look(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_byte(x ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
// A 128-bit load from a pointer is unsafe (see `scan16`'s SAFETY).
#[allow(unsafe_code)]
mod simd {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or};

    /// A bit per byte that is `"`, `\\` or a control character, and a bit per
    /// non-ASCII byte.
    #[inline(always)]
    pub fn scan16(block: &[u8; 16]) -> (u16, u16) {
        // SAFETY: reads the 16 bytes of `block`; v128_load allows unaligned reads.
        let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
        let quote = u8x16_eq(v, u8x16_splat(b'"'));
        let backslash = u8x16_eq(v, u8x16_splat(b'\\'));
        let control = u8x16_lt(v, u8x16_splat(0x20));
        (u8x16_bitmask(v128_or(v128_or(quote, backslash), control)), u8x16_bitmask(v))
    }
}

/// The open containers of a skipped value (true: object), as bits: no
/// allocation unless nesting passes [`Nesting::BITS`] levels. A `u64`, not
/// a `u128`: wasm32 has no 128-bit shifts, and each became a call into a
/// helper routine on every container opened or closed.
#[derive(Default)]
struct Nesting {
    depth: usize,
    bits: u64,
    deeper: Vec<bool>,
}

impl Nesting {
    const BITS: usize = 64;

    fn push(&mut self, object: bool) {
        if self.depth < Self::BITS {
            self.bits = (self.bits & !(1 << self.depth)) | (u64::from(object) << self.depth);
        } else {
            self.deeper.push(object);
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        if self.depth > Self::BITS {
            self.deeper.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether the innermost open container is an object; `None` if none is.
    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= Self::BITS => Some(self.bits >> (d - 1) & 1 == 1),
            _ => self.deeper.last().copied(),
        }
    }
}

/// Decodes the escapes of a string whose raw text has been checked.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    let hex4 =
        |chars: &mut std::str::Chars<'_>| -> u32 { (0..4).fold(0, |v, _| v * 16 + chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0)) };
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
                        out.push(char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{fffd}'));
                        continue;
                    }
                }
                out.push(char::from_u32(hi).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other), // '"', '\\', '/'
            None => {}
        }
    }
    out
}

/// The one value `text` holds (surrounding white space allowed), built as
/// `shape` asks. For the request and options, which arrive as JSON text.
pub fn parse_value(text: &[u8], shape: &Shape) -> std::result::Result<Value, Failure> {
    let mut p = Parser::new(text, 0, true, Lines::default());
    let v = p.value(shape)?;
    p.skip_ws();
    if p.at_end() {
        Ok(v)
    } else {
        Err(p.fail("unexpected content after the value"))
    }
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

    fn parse(text: &str) -> Parsed<Value> {
        let shape = if text.trim_start().starts_with('[') { &ALL_ITEMS } else { &ALL };
        parse_value(text.as_bytes(), shape)
    }

    #[test]
    fn values_and_shapes() {
        let v = parse(r#" {"a":[1,{"b":2}],"a":"x"} "#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::String("x".into())));
        let v = parse_value(br#"{"call_ids":["a",1,[2],{"x":3}],"limit":"5"}"#, &ARGUMENT_SHAPE).unwrap();
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
            assert!(partial(text).eof, "{text}");
        }
        for text in [r#"{"a":tx"#, r#"{"a":01"#, r#"{1"#, "[1 2", r#"["\x"]"#, "[\"\u{1}\"]"] {
            assert!(!partial(text).eof, "{text}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse(r#"{"a":1"#).unwrap_err().what, "expected ',' or '}' after an object member");
        assert_eq!(parse("\"\u{1}\"").unwrap_err().what, "control character in a string");
        assert_eq!(parse_value(b"\"a\xff\"", &ALL).unwrap_err(), Failure { offset: 2, what: "invalid UTF-8", eof: false });
        assert_eq!(parse("tru").unwrap_err().what, "unexpected end of input");
        assert_eq!(parse("1.").unwrap_err().what, "invalid number");
        assert_eq!(parse("[1] 2").unwrap_err().what, "unexpected content after the value");
    }

    #[test]
    fn plain_run_stops_exactly_and_sees_only_what_precedes() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x01] {
                let mut text = vec![b'a'; len];
                text.push(stop);
                text.extend_from_slice("é tail".as_bytes());
                assert_eq!(plain_run(&text, 0), (len, false), "len {len} stop {stop}: non-ASCII after the stop is not seen");
                if len > 0 {
                    text[len - 1] = 0xc3;
                    assert_eq!(plain_run(&text, 0), (len, true), "len {len} stop {stop}: non-ASCII before the stop is seen");
                }
            }
            assert_eq!(plain_run(&vec![b'z'; len], 0), (len, false));
        }
    }

    #[test]
    fn same_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..base.len() {
            let a = &base[..n];
            assert!(same(a, a));
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] ^= 1;
                assert!(!same(a, &b), "differs at {k} of {n}");
            }
            assert!(!same(a, &base[..n + 1]));
        }
    }

    #[test]
    fn the_word_scan_finds_every_special_byte() {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = special;
                assert_eq!(needs_a_look(u64::from_le_bytes(w)).trailing_zeros() / 8, at as u32, "{special} at {at}");
            }
        }
        assert_eq!(needs_a_look(u64::from_le_bytes(*b"ab\xc3\xa9 ~\x7f\x20")), 0);
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
