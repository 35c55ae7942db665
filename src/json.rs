//! Parsing a `/calls/stream_query` body: JSON Lines (one call per line) or a
//! JSON array of calls, from bytes.
//!
//! It is a strict JSON parser (RFC 8259) that only builds what a [`Shape`]
//! asks for: the parts of a call outside [`crate::call::CALL_SHAPE`] are
//! checked and skipped in one flat loop — no recursion on input nesting, no
//! allocation — which is what makes the bytes path fast and safe on hostile
//! input. Objects keep duplicate keys in order (the last one wins on lookup,
//! as in `JSON.parse` and Python's `json.loads`).
//!
//! Framing: a UTF-8 byte order mark is skipped; if the first non-blank byte
//! is `[`, the body is one array; otherwise it is a sequence of values each
//! followed by a line break (or the end), blank lines allowed, CRLF fine.
//! Errors give the line, the column and the byte offset.

use crate::call::Shape;
use crate::error::{Result, UsageError};
use crate::value::{Num, Value};

/// A parse failure: the byte offset and what was wrong there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Failure {
    offset: usize,
    what: &'static str,
}

type Parsed<T> = std::result::Result<T, Failure>;

/// Calls `each(index, call)` for every top-level call in `body`, in order,
/// each read with `shape`. Stops at the first error `each` returns.
pub fn for_each_value(body: &[u8], shape: &Shape, mut each: impl FnMut(usize, Value) -> Result<()>) -> Result<()> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(bad(body, Failure { offset: e.valid_up_to(), what: "invalid UTF-8" }));
    }
    let mut p = Parser { b: body, pos: 0 };
    if body.starts_with(b"\xEF\xBB\xBF") {
        p.pos = 3;
    }
    p.skip_ws();
    let mut index = 0usize;
    if p.peek() == Some(b'[') {
        p.pos += 1;
        p.skip_ws();
        if p.peek() == Some(b']') {
            p.pos += 1;
        } else {
            loop {
                let v = p.value(shape).map_err(|f| bad(body, f))?;
                each(index, v)?;
                index += 1;
                p.skip_ws();
                match p.next() {
                    Some(b',') => {}
                    Some(b']') => break,
                    _ => return Err(bad(body, p.fail_back("expected ',' or ']' after an array element"))),
                }
            }
        }
        p.skip_ws();
        if p.peek().is_some() {
            return Err(bad(body, p.fail("unexpected content after the array")));
        }
        return Ok(());
    }
    while p.peek().is_some() {
        let v = p.value(shape).map_err(|f| bad(body, f))?;
        each(index, v)?;
        index += 1;
        // The rest of the line must be blank.
        while matches!(p.peek(), Some(b' ' | b'\t' | b'\r')) {
            p.pos += 1;
        }
        match p.peek() {
            None | Some(b'\n') => p.skip_ws(),
            Some(_) => return Err(bad(body, p.fail("expected a line break after the value"))),
        }
    }
    Ok(())
}

/// The 400 error for a failure, with the line and column spelled out.
fn bad(body: &[u8], f: Failure) -> UsageError {
    let before = body.get(..f.offset).unwrap_or(body);
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default()).chars().count() + 1;
    UsageError::bad_json(
        f.offset,
        format!("Invalid JSON at line {line}, column {column} (byte {}): {}", f.offset, f.what),
    )
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn fail(&self, what: &'static str) -> Failure {
        Failure { offset: self.pos.min(self.b.len()), what }
    }

    /// A failure at the byte just consumed.
    fn fail_back(&self, what: &'static str) -> Failure {
        Failure { offset: self.pos.saturating_sub(1).min(self.b.len()), what }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Parsed<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// One value, built as far as `shape` asks. Recursion here follows the
    /// shape (a handful of levels), never the input.
    fn value(&mut self, shape: &Shape) -> Parsed<Value> {
        self.skip_ws();
        match (self.peek(), shape) {
            (Some(b'{'), Shape::Fields(_) | Shape::EachValue(_)) => self.object(shape),
            (Some(b'{'), Shape::Scalar | Shape::Items(_)) => self.skip_value().map(|()| Value::Object(Vec::new())),
            (Some(b'['), Shape::Items(item)) => self.array(item),
            (Some(b'['), _) => self.skip_value().map(|()| Value::Array(Vec::new())),
            (Some(b'"'), _) => self.string().map(Value::String),
            (Some(b't'), _) => self.literal(b"true").map(|()| Value::Bool(true)),
            (Some(b'f'), _) => self.literal(b"false").map(|()| Value::Bool(false)),
            (Some(b'n'), _) => self.literal(b"null").map(|()| Value::Null),
            (Some(b'-' | b'0'..=b'9'), _) => self.number().map(Value::Number),
            (None, _) => Err(self.fail("unexpected end of input")),
            (Some(_), _) => Err(self.fail("expected a value")),
        }
    }

    fn object(&mut self, shape: &Shape) -> Parsed<Value> {
        self.pos += 1; // '{'
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a string key"));
            }
            let key = self.string()?;
            self.expect(b':', "expected ':' after an object key")?;
            let sub = match shape {
                Shape::Fields(fields) => fields.iter().find(|(name, _)| *name == key).map(|(_, s)| s),
                Shape::EachValue(s) => Some(*s),
                Shape::Scalar | Shape::Items(_) => None,
            };
            match sub {
                Some(s) => entries.push((key, self.value(s)?)),
                None => self.skip_value()?,
            }
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(Value::Object(entries)),
                _ => return Err(self.fail_back("expected ',' or '}' after an object member")),
            }
        }
    }

    fn array(&mut self, item: &Shape) -> Parsed<Value> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(item)?);
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(Value::Array(items)),
                _ => return Err(self.fail_back("expected ',' or ']' after an array element")),
            }
        }
    }

    /// Checks and skips one value of any depth without building it, with an
    /// explicit stack of open containers instead of recursion.
    fn skip_value(&mut self) -> Parsed<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value starts here.
            self.skip_ws();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        open.push(b'}');
                        self.member_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                Some(b'"') => self.skip_string()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.skip_number()?,
                None => return Err(self.fail("unexpected end of input")),
                Some(_) => return Err(self.fail("expected a value")),
            }
            // A value ended: close containers or move to the next element.
            loop {
                let Some(&close) = open.last() else { return Ok(()) };
                self.skip_ws();
                match self.next() {
                    Some(b',') => {
                        if close == b'}' {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        open.pop();
                    }
                    _ if close == b'}' => return Err(self.fail_back("expected ',' or '}' after an object member")),
                    _ => return Err(self.fail_back("expected ',' or ']' after an array element")),
                }
            }
        }
    }

    /// `"key":` inside a skipped object.
    fn member_key(&mut self) -> Parsed<()> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.fail("expected a string key"));
        }
        self.skip_string()?;
        self.expect(b':', "expected ':' after an object key")
    }

    fn literal(&mut self, word: &'static [u8]) -> Parsed<()> {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.fail("invalid literal"))
        }
    }

    /// Skips a string, checking escapes and refusing raw control characters.
    /// The body is valid UTF-8 (checked up front), so other bytes pass.
    fn skip_string(&mut self) -> Parsed<()> {
        self.pos += 1; // opening quote
        loop {
            match self.next() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => self.escape(&mut None)?,
                Some(0x00..=0x1f) => return Err(self.fail_back("control character in a string")),
                Some(_) => {}
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    /// Reads a string. Escapes are decoded; a lone surrogate (`"\ud800"`,
    /// which JSON allows but UTF-8 cannot hold) becomes U+FFFD.
    fn string(&mut self) -> Parsed<String> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes.
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    let s = self.utf8(start, self.pos)?;
                    self.pos += 1;
                    return Ok(s.to_string());
                }
                b'\\' => break,
                0x00..=0x1f => return Err(self.fail("control character in a string")),
                _ => self.pos += 1,
            }
        }
        let mut out = Some(self.utf8(start, self.pos)?.to_string());
        loop {
            let run = self.pos;
            while let Some(c) = self.peek() {
                if matches!(c, b'"' | b'\\' | 0x00..=0x1f) {
                    break;
                }
                self.pos += 1;
            }
            let text = self.utf8(run, self.pos)?;
            if let Some(o) = out.as_mut() {
                o.push_str(text);
            }
            match self.next() {
                Some(b'"') => return Ok(out.unwrap_or_default()),
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return Err(self.fail_back("control character in a string")),
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    fn utf8(&self, from: usize, to: usize) -> Parsed<&'a str> {
        let bytes = self.b.get(from..to).ok_or(Failure { offset: from, what: "unterminated string" })?;
        std::str::from_utf8(bytes).map_err(|e| Failure { offset: from + e.valid_up_to(), what: "invalid UTF-8" })
    }

    /// One escape after its backslash, appended to `out` when decoding.
    fn escape(&mut self, out: &mut Option<String>) -> Parsed<()> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) && self.b.get(self.pos..self.pos + 2) == Some(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{fffd}')
                    } else {
                        // Not a pair: decode the high half alone, then the next escape.
                        self.pos = save;
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            _ => return Err(self.fail_back("invalid escape in a string")),
        };
        if let Some(o) = out.as_mut() {
            o.push(c);
        }
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.next() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.fail_back("invalid \\u escape in a string")),
            };
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }

    /// Checks the number grammar; returns (start, is_integer).
    fn scan_number(&mut self) -> Parsed<(usize, bool)> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.fail("invalid number")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.fail("invalid number"));
            }
            self.skip_digits();
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.fail("invalid number"));
            }
            self.skip_digits();
            integer = false;
        }
        Ok((start, integer))
    }

    fn skip_digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn skip_number(&mut self) -> Parsed<()> {
        self.scan_number().map(|_| ())
    }

    /// A number: integer literals exactly (as Python reads them), others as
    /// the nearest f64.
    fn number(&mut self) -> Parsed<Num> {
        let (start, integer) = self.scan_number()?;
        let text = self.b.get(start..self.pos).and_then(|t| std::str::from_utf8(t).ok()).unwrap_or("0");
        let approx = || text.parse::<f64>().unwrap_or(f64::NAN);
        if integer {
            Ok(text.parse::<i128>().map_or_else(|_| Num::BigInt { approx: approx() }, Num::Int))
        } else {
            Ok(Num::Float(approx()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::CALL_SHAPE;

    /// Keeps every object member (arrays are still skipped).
    static ALL: Shape = Shape::EachValue(&ALL);

    fn values(body: &str, shape: &Shape) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for_each_value(body.as_bytes(), shape, |i, v| {
            assert_eq!(i, out.len());
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    fn err(body: &[u8]) -> String {
        let e = for_each_value(body, &CALL_SHAPE, |_, _| Ok(())).unwrap_err();
        assert_eq!(e.status, 400);
        e.detail[0].msg.clone()
    }

    #[test]
    fn jsonl_and_array_framing() {
        let want = vec![Value::Object(vec![("id".into(), Value::String("a".into()))]), Value::Null];
        assert_eq!(values("{\"id\":\"a\"}\nnull\n", &ALL).unwrap(), want);
        assert_eq!(values("\u{feff}\r\n  {\"id\":\"a\"} \r\n\n\t\nnull", &ALL).unwrap(), want);
        assert_eq!(values("[{\"id\":\"a\"},\nnull]", &ALL).unwrap(), want);
        assert_eq!(values(" [ ] ", &ALL).unwrap(), vec![]);
        assert_eq!(values("", &ALL).unwrap(), vec![]);
        assert_eq!(values(" \n\n ", &ALL).unwrap(), vec![]);
        // A value may span lines; two on one line may not.
        assert_eq!(values("{\n\"id\":\n\"a\"}\nnull", &ALL).unwrap(), want);
        assert!(err(b"{} {}").contains("expected a line break"));
    }

    #[test]
    fn shape_skips_what_is_not_read() {
        let body = r#"{"inputs":{"deep":[[[{"x":"\u00e9"}]]]},"id":"a","summary":{"usage":{"m":{"prompt_tokens":1,"junk":2}},"status":"ok"},"id":"b"}"#;
        let v = values(body, &CALL_SHAPE).unwrap();
        let want = Value::Object(vec![
            ("id".into(), Value::String("a".into())),
            (
                "summary".into(),
                Value::Object(vec![(
                    "usage".into(),
                    Value::Object(vec![(
                        "m".into(),
                        Value::Object(vec![("prompt_tokens".into(), Value::Number(Num::Int(1)))]),
                    )]),
                )]),
            ),
            ("id".into(), Value::String("b".into())),
        ]);
        assert_eq!(v, vec![want]);
    }

    #[test]
    fn items_shape_keeps_array_elements() {
        let v = values(r#"{"call_ids":["a",1,[2],{"x":3}],"limit":"5"}"#, &crate::call::ARGUMENT_SHAPE).unwrap();
        let want = Value::Object(vec![
            (
                "call_ids".into(),
                Value::Array(vec![
                    Value::String("a".into()),
                    Value::Number(Num::Int(1)),
                    Value::Array(vec![]),
                    Value::Object(vec![]),
                ]),
            ),
            ("limit".into(), Value::String("5".into())),
        ]);
        assert_eq!(v, vec![want]);
    }

    #[test]
    fn numbers_keep_integers_exact() {
        let v = values("[9007199254740993, -0, 1.5, 1e2, 170141183460469231731687303715884105728, -1E-2]", &ALL).unwrap();
        assert_eq!(
            v,
            vec![
                Value::Number(Num::Int(9_007_199_254_740_993)),
                Value::Number(Num::Int(0)),
                Value::Number(Num::Float(1.5)),
                Value::Number(Num::Float(100.0)),
                Value::Number(Num::BigInt { approx: 1.7014118346046923e38 }),
                Value::Number(Num::Float(-0.01)),
            ]
        );
    }

    #[test]
    fn strings_decode_escapes_and_surrogates() {
        let v = values(r#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "\ud800", "\ud800\u0041", "\udc00x"]"#, &ALL).unwrap();
        assert_eq!(
            v,
            vec![
                Value::String("a\"\\/\u{8}\u{c}\n\r\té😀".into()),
                Value::String("\u{fffd}".into()),
                Value::String("\u{fffd}A".into()),
                Value::String("\u{fffd}x".into()),
            ]
        );
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        let depth = 1_000_000;
        let body = format!("{{\"inputs\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(values(&body, &CALL_SHAPE).unwrap().len(), 1);
        let body = format!("{{\"inputs\":{}}}", "[".repeat(depth));
        assert!(err(body.as_bytes()).contains("expected a value"));
        let body = format!("{{\"inputs\":{}", "[".repeat(depth));
        assert!(err(body.as_bytes()).contains("unexpected end of input"));
    }

    #[test]
    fn errors_name_line_column_and_byte() {
        assert_eq!(err(b"{\"id\":\"a\"}\n{\"id\":}"), "Invalid JSON at line 2, column 7 (byte 17): expected a value");
        assert_eq!(err(b"[{\"id\":1},]"), "Invalid JSON at line 1, column 11 (byte 10): expected a value");
        assert_eq!(err(b"{\"a\":1"), "Invalid JSON at line 1, column 7 (byte 6): expected ',' or '}' after an object member");
        assert_eq!(err(b"{\"a\":\"\xff\"}"), "Invalid JSON at line 1, column 7 (byte 6): invalid UTF-8");
        assert!(err(b"[1] 2").contains("unexpected content after the array"));
        assert!(err(b"{\"inputs\":\"a\nb\"}").contains("control character"));
        assert!(err(b"{\"inputs\":\"\\x\"}").contains("invalid escape"));
        assert!(err(b"{\"inputs\":tru}").contains("invalid literal"));
        assert!(err(b"{\"inputs\":01}").contains("expected ',' or '}'"));
        assert!(err(b"{\"inputs\":-}").contains("invalid number"));
        assert!(err(b"{\"inputs\":1.}").contains("invalid number"));
        assert!(err(b"{\"inputs\":{1:2}}").contains("expected a string key"));
        assert!(err(b"{\"inputs\":[1 2]}").contains("expected ',' or ']'"));
        assert!(err(b"{\"id\":\"abc").contains("unterminated string"));
        assert!(err(b"NaN").contains("expected a value"));
    }

    #[test]
    fn the_error_loc_is_the_byte_offset() {
        let e = for_each_value(b"\n\n{", &CALL_SHAPE, |_, _| Ok(())).unwrap_err();
        assert_eq!(e.detail[0].loc, vec![crate::error::Loc::from("body"), crate::error::Loc::Index(3)]);
        assert_eq!(e.detail[0].kind, "json_invalid");
    }
}
