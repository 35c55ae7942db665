//! The JSON value model that both input paths produce: the bytes parser
//! (`json.rs`) and the JavaScript boundary (`wasm.rs`) turn what they read into
//! a [`Value`], and everything after that is shared.
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
    /// A literal with a fraction or an exponent (or a non-integral JS number).
    Float(f64),
}

impl Num {
    /// The number JavaScript's `JSON.stringify` would write, as Python would
    /// read it back: integral values below 1e21 print without exponent, so they
    /// are integers; everything else is a float. NaN and ±Infinity stringify
    /// as `null`, which the caller handles.
    pub fn from_js(x: f64) -> Num {
        if x.fract() == 0.0 && x.abs() < 1e21 {
            // Exact: |x| < 1e21 < 2^70, and x is integral.
            Num::Int(x as i128)
        } else {
            Num::Float(x)
        }
    }
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

    /// The entries of an object as a Python dict would hold them: each key once,
    /// at the position of its first occurrence, with the value of its last.
    pub fn dict_entries(entries: &[(String, Value)]) -> Vec<(&str, &Value)> {
        let mut out: Vec<(&str, &Value)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match out.iter_mut().find(|(seen, _)| *seen == k.as_str()) {
                Some(slot) => slot.1 = v,
                None => out.push((k.as_str(), v)),
            }
        }
        out
    }

    /// The name of the value's JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_takes_the_last_duplicate() {
        let v = Value::Object(vec![
            ("a".into(), Value::Bool(true)),
            ("a".into(), Value::Null),
        ]);
        assert_eq!(v.get("a"), Some(&Value::Null));
        assert_eq!(v.get("b"), None);
        assert_eq!(Value::Null.get("a"), None);
    }

    #[test]
    fn dict_entries_keep_first_position_last_value() {
        let entries = vec![
            ("a".to_string(), Value::Bool(true)),
            ("b".to_string(), Value::Null),
            ("a".to_string(), Value::Bool(false)),
        ];
        let d = Value::dict_entries(&entries);
        assert_eq!(d, vec![("a", &Value::Bool(false)), ("b", &Value::Null)]);
    }

    #[test]
    fn js_numbers_map_like_json_stringify() {
        assert_eq!(Num::from_js(5.0), Num::Int(5));
        assert_eq!(Num::from_js(-0.0), Num::Int(0));
        assert_eq!(Num::from_js(1e20), Num::Int(100_000_000_000_000_000_000));
        assert_eq!(Num::from_js(1e21), Num::Float(1e21));
        assert_eq!(Num::from_js(2.5), Num::Float(2.5));
    }
}
