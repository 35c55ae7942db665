//! A small JSON value and the shaped reader that builds one: what the
//! request and options are read into for validation, and what each scalar
//! field of a usage or cost entry is read into before Python's number rules
//! apply (`input::pynum`). Calls themselves never become values: the call
//! reader takes them straight into records.
//!
//! Numbers keep the distinction Python's `json` module makes, because the
//! reference reads values with Python's `int()` and `float()`: an integer
//! literal is an exact integer, anything with a fraction or exponent is a float.

use super::{Failure, Lines, Parsed, Parser, Stop};

/// A number as Python would hold it after `json.loads`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer literal that fits in an `i128`.
    Int(i128),
    /// An integer literal beyond `i128`; `approx` is its nearest `f64`
    /// (possibly infinite), which is all `float()` needs. `int()` saturates.
    BigInt { approx: f64 },
    /// A literal with a fraction or an exponent.
    Float(f64),
}

/// A JSON value. Objects keep every entry in source order, duplicates
/// included; [`Value::get`] applies the "last one wins" rule of `json.loads`
/// and `JSON.parse`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Num),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` in an object (the last entry of that name), or
    /// `None` when absent or when `self` is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
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
    /// `EachValue` for an object, `Items` for an array.
    Nested(&'static Shape),
}

impl<'a> Parser<'a> {
    /// One value, built as far as `shape` asks. Recursion here follows the
    /// shape (at most three levels), never the input.
    pub fn value(&mut self, shape: &Shape) -> Parsed<Value> {
        self.skip_ws();
        match (self.peek(), shape) {
            (Some(b'{'), Shape::EachValue(sub) | Shape::Nested(sub)) => {
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
            (Some(b'['), Shape::Items(item) | Shape::Nested(item)) => {
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

/// The one value `text` holds (surrounding white space allowed), built as
/// `shape` asks. For the request and options, which arrive as JSON text.
pub fn parse_value(text: &[u8], shape: &Shape) -> Result<Value, Failure> {
    let mut p = Parser::new(text, 0, true, Lines::default());
    let read = p.value(shape).and_then(|v| {
        p.skip_ws();
        if p.at_end() {
            Ok(v)
        } else {
            Err(p.fail("unexpected content after the value"))
        }
    });
    read.map_err(|stop| match stop {
        Stop::Invalid(f) => f,
        // The text is the whole input, so nothing more can come: a parser
        // told so never stops for more.
        Stop::NeedMore => {
            debug_assert!(!p.is_last(), "a parser of the last slice stopped for more input");
            Failure { offset: text.len(), what: "unexpected end of input" }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_takes_the_last_duplicate() {
        let v = Value::Object(vec![("a".into(), Value::Bool(true)), ("a".into(), Value::Null)]);
        assert_eq!(v.get("a"), Some(&Value::Null));
        assert_eq!(v.get("b"), None);
        assert_eq!(Value::Null.get("a"), None);
    }
}
