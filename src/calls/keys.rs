//! Recognising the keys of objects that come in long runs of one shape.
//!
//! A producer writes every call (every usage entry, every cost entry) with
//! its keys in one order, so the key at a position is almost always the one
//! seen there last time. [`KeyOrder`] remembers each position's key as it
//! was written (`"key":`) and what it means to the reader; the next key is
//! then recognised by one comparison, where reading it means scanning for
//! its end and working out which field it names. Anything else is read the
//! long way and remembered instead, so any order, or none, reads the same.

use crate::json::{Parsed, Parser};

/// The keys seen at each position of one kind of object, and what each
/// means (`F`, as the reader classified it).
pub struct KeyOrder<F> {
    keys: Vec<Known<F>>,
}

impl<F> Default for KeyOrder<F> {
    fn default() -> Self {
        KeyOrder { keys: Vec::new() }
    }
}

#[derive(Clone, Copy)]
struct Known<F> {
    /// `"key":` as written.
    text: [u8; 32],
    /// 0: nothing to recognise at this position.
    len: u8,
    field: F,
}

impl<F: Copy> KeyOrder<F> {
    /// Positions remembered: keys past them are read the long way, and
    /// memory stays bounded whatever an object holds.
    const MAX: usize = 64;

    /// Reads the key at position `at` of an object (the parser before it,
    /// white space allowed) and its colon; `classify` says what a key means, and
    /// is only asked about keys not recognised.
    #[inline(always)]
    pub fn key(&mut self, p: &mut Parser<'_>, at: usize, classify: impl Fn(&[u8]) -> F) -> Parsed<F> {
        // Pretty-printed input has white space before each key.
        p.skip_ws();
        if let Some(known) = self.keys.get(at) {
            // `len` is at most the buffer's, by construction (see `learn`).
            debug_assert!(usize::from(known.len) <= known.text.len());
            if known.len > 0 && p.eat(known.text.get(..usize::from(known.len)).unwrap_or_default()) {
                return Ok(known.field);
            }
        }
        let start = p.pos();
        let key = p.key()?;
        let field = classify(&key);
        self.learn(at, p.since(start), key.len(), field);
        Ok(field)
    }

    /// Remembers `raw`, the input that held a key of `len` bytes, for
    /// position `at`: only a key written plainly (`"key":`, no escapes or
    /// white space, so that matching its text means reading that key), in
    /// ASCII (reading a non-ASCII one also counts its characters for error
    /// columns, which a match would skip) and short enough; anything else
    /// clears the position.
    #[inline(never)]
    fn learn(&mut self, at: usize, raw: &[u8], len: usize, field: F) {
        let mut known = Known { text: [0; 32], len: 0, field };
        if raw.len() == len + 3 && raw.first() == Some(&b'"') && raw.is_ascii() {
            if let Some(text) = known.text.get_mut(..raw.len()) {
                text.copy_from_slice(raw);
                known.len = raw.len() as u8;
            }
        }
        let count = self.keys.len();
        match self.keys.get_mut(at) {
            Some(slot) => *slot = known,
            None if at == count && at < Self::MAX => self.keys.push(known),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Lines;

    /// Reads the keys of a flat object of nulls through `order`.
    fn keys_of(order: &mut KeyOrder<usize>, text: &str) -> Vec<usize> {
        let mut p = Parser::new(text.as_bytes(), 0, true, Lines::default());
        p.bump();
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            out.push(order.key(&mut p, at, |k| k.len()).unwrap());
            at += 1;
            p.skip_ws();
            p.literal(b"null").unwrap();
            if !p.member_end().unwrap() {
                return out;
            }
        }
    }

    #[test]
    fn a_key_is_what_it_says_whatever_was_seen_before() {
        let mut order = KeyOrder::default();
        assert_eq!(keys_of(&mut order, r#"{"a":null,"bb":null,"ccc":null}"#), [1, 2, 3]);
        // Same order: recognised.
        assert_eq!(keys_of(&mut order, r#"{"a":null,"bb":null,"ccc":null}"#), [1, 2, 3]);
        // A longer key starting like a known one, a shorter one, another order.
        assert_eq!(keys_of(&mut order, r#"{"ab":null,"b":null,"ccc":null,"dddd":null}"#), [2, 1, 3, 4]);
        // Escapes, white space and non-ASCII are read the long way, every time.
        for _ in 0..2 {
            assert_eq!(keys_of(&mut order, "{\"\\u0061\":null, \"bb\" :null,\"\u{e9}\":null}"), [1, 2, 2]);
        }
        // Not one of those was learnt: the escaped key and the non-ASCII one
        // (whose characters count for error columns) in particular.
        assert!(order.keys.iter().take(3).all(|k| k.len == 0), "learnt {:?}", order.keys.iter().map(|k| k.len).collect::<Vec<_>>());
        // White space around keys (pretty-printed input) is fine, and learnt.
        for _ in 0..2 {
            assert_eq!(keys_of(&mut order, "{\n  \"a\": null,\n  \"bb\": null\n}"), [1, 2]);
        }
        assert!(order.keys.iter().take(2).all(|k| k.len > 0));
        // A prefix of a known key followed by more text is not that key.
        assert_eq!(keys_of(&mut order, r#"{"a":null,"bb":null,"ccc":null}"#), [1, 2, 3]);
        assert_eq!(keys_of(&mut order, r#"{"a:":null}"#), [2]);
    }

    #[test]
    fn long_keys_and_many_keys_are_read_the_long_way() {
        let mut order = KeyOrder::default();
        let long = "k".repeat(40);
        let text = format!("{{\"{long}\":null}}");
        assert_eq!(keys_of(&mut order, &text), [40]);
        assert_eq!(keys_of(&mut order, &text), [40]);
        let many: Vec<String> = (0..100).map(|i| format!("\"{}\":null", "x".repeat(i % 7 + 1))).collect();
        let text = format!("{{{}}}", many.join(","));
        let want: Vec<usize> = (0..100).map(|i| i % 7 + 1).collect();
        assert_eq!(keys_of(&mut order, &text), want);
        assert_eq!(keys_of(&mut order, &text), want);
        assert!(order.keys.len() <= KeyOrder::<usize>::MAX);
    }
}
