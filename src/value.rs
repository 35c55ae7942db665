//! A small JSON value: what the request and options are read into for
//! validation, and what each scalar field of a usage or cost entry is read
//! into before Python's number rules apply (`pynum.rs`). Calls themselves
//! never become values: `table.rs` reads them straight into records.
//!
//! Numbers keep the distinction Python's `json` module makes, because the
//! reference reads values with Python's `int()` and `float()`: an integer
//! literal is an exact integer, anything with a fraction or exponent is a float.

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
