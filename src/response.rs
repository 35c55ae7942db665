//! The response (`CallsUsageRes`) and its JSON text.
//!
//! The JS boundary hands this text to `JSON.parse`, which is both the fastest
//! way to build many small objects in JavaScript and the safe one: it defines
//! every key as an own property, so a model or call id named `__proto__`
//! stays an ordinary key instead of replacing the object's prototype.

use std::fmt::Write;

use crate::diagnostics::Diagnostics;
use crate::table::{Costs, Tokens, COST_FIELDS};

/// The response's token fields, in the reference's order.
const TOKEN_FIELDS: [&str; 6] = [
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// One model's rolled-up usage (`LLMAggregatedUsage`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTotals {
    pub model: String,
    /// `requests`, `prompt_tokens`, `completion_tokens`, `total_tokens`,
    /// `cache_read_input_tokens`, `cache_creation_input_tokens`.
    pub tokens: Tokens,
    /// The four `*_total_cost` fields; written as `null` unless the request
    /// asked for costs.
    pub costs: Costs,
}

/// `CallsUsageRes`: per requested id (each once, in request order), the
/// usage per model of that call and everything it absorbs; and the ids in
/// scope that have not ended, sorted. (`TraceUsageRes` is the same shape,
/// with every call in scope.)
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallsUsageRes {
    pub call_usage: Vec<(String, Vec<ModelTotals>)>,
    pub unfinished_call_ids: Vec<String>,
    pub include_costs: bool,
    /// Only with `options.diagnostics`; written after the reference's fields.
    pub diagnostics: Option<Diagnostics>,
}

impl CallsUsageRes {
    /// The response as JSON text. Integers are written exactly (`JSON.parse`
    /// then rounds once, to the nearest JS number). JSON has no NaN or
    /// infinity: such a cost (only a cost string like `"nan"` or `"1e999"`
    /// can produce one) is written as the string `"NaN"`, `"Infinity"` or
    /// `"-Infinity"`, and [`CallsUsageRes::has_non_finite_costs`] says when a
    /// reader must turn those back into numbers.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + self.call_usage.len() * 400);
        out.push_str("{\"call_usage\":{");
        for (i, (id, models)) in self.call_usage.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, id);
            out.push_str(":{");
            for (j, m) in models.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_str(&mut out, &m.model);
                out.push(':');
                self.write_totals(&mut out, m);
            }
            out.push('}');
        }
        out.push_str("},\"unfinished_call_ids\":[");
        for (i, id) in self.unfinished_call_ids.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, id);
        }
        out.push(']');
        if let Some(d) = &self.diagnostics {
            out.push(',');
            d.write_json(&mut out);
        }
        out.push('}');
        out
    }

    fn write_totals(&self, out: &mut String, m: &ModelTotals) {
        out.push('{');
        for (k, (name, value)) in TOKEN_FIELDS.iter().zip(m.tokens).enumerate() {
            if k > 0 {
                out.push(',');
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "\"{name}\":{value}");
        }
        for (name, value) in COST_FIELDS.iter().zip(m.costs) {
            let _ = write!(out, ",\"{name}\":");
            match (self.include_costs, value) {
                (false, _) => out.push_str("null"),
                (true, v) if v.is_nan() => out.push_str("\"NaN\""),
                (true, v) if v == f64::INFINITY => out.push_str("\"Infinity\""),
                (true, v) if v == f64::NEG_INFINITY => out.push_str("\"-Infinity\""),
                // `{:?}` is the shortest text that reads back as the same f64.
                (true, v) => {
                    let _ = write!(out, "{v:?}");
                }
            }
        }
        out.push('}');
    }

    /// Whether [`CallsUsageRes::to_json`] wrote any cost as a string.
    pub fn has_non_finite_costs(&self) -> bool {
        self.include_costs
            && self.call_usage.iter().any(|(_, models)| models.iter().any(|m| m.costs.iter().any(|c| !c.is_finite())))
    }
}

/// A JSON string literal.
pub(crate) fn write_str(out: &mut String, s: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_json_with_nulls_without_costs() {
        let r = CallsUsageRes {
            call_usage: vec![
                ("a\"\u{1}".into(), vec![ModelTotals { model: "__proto__".into(), tokens: [1, 2, 3, 5, 0, 0], costs: [0.0; 4] }]),
                ("b".into(), vec![]),
            ],
            unfinished_call_ids: vec!["x".into()],
            include_costs: false,
            diagnostics: None,
        };
        assert_eq!(
            r.to_json(),
            r#"{"call_usage":{"a\"\u0001":{"__proto__":{"requests":1,"prompt_tokens":2,"completion_tokens":3,"total_tokens":5,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"prompt_tokens_total_cost":null,"completion_tokens_total_cost":null,"cache_read_input_tokens_total_cost":null,"cache_creation_input_tokens_total_cost":null}},"b":{}},"unfinished_call_ids":["x"]}"#
        );
        assert!(!r.has_non_finite_costs());
    }

    #[test]
    fn writes_costs_round_trip_and_marks_non_finite() {
        let r = CallsUsageRes {
            call_usage: vec![("a".into(), vec![ModelTotals { model: "m".into(), tokens: [0; 6], costs: [0.1 + 0.2, 1e-7, f64::NAN, f64::NEG_INFINITY] }])],
            unfinished_call_ids: vec![],
            include_costs: true,
            diagnostics: None,
        };
        let json = r.to_json();
        assert!(json.contains(r#""prompt_tokens_total_cost":0.30000000000000004,"completion_tokens_total_cost":1e-7,"cache_read_input_tokens_total_cost":"NaN","cache_creation_input_tokens_total_cost":"-Infinity""#), "{json}");
        assert!(r.has_non_finite_costs());
    }

    #[test]
    fn big_integers_are_written_exactly() {
        let r = CallsUsageRes {
            call_usage: vec![("a".into(), vec![ModelTotals { model: "m".into(), tokens: [9_007_199_254_740_993, 0, 0, 0, 0, 0], costs: [0.0; 4] }])],
            ..Default::default()
        };
        assert!(r.to_json().contains(r#""requests":9007199254740993,"#));
    }
}
