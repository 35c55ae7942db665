//! Skipping values: checked, never built, in one flat loop whatever their
//! nesting (a bit set of open containers, not recursion).

use super::bytes::plain_run;
use super::{Parsed, Parser};

impl<'a> Parser<'a> {
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
