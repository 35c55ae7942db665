//! The `options` argument: what the library adds to the reference's answer.
//! Validated like a pydantic model with `extra="forbid"` (lax mode, errors
//! at `["options", …]` in field order, then one `extra_forbidden` per unknown
//! key): a typo never passes silently. With `options` omitted, `null` or
//! `{}`, every answer is exactly the reference's.
//!
//! - `prices` (`prices.rs`, priced by `usage::pricer`): price rows; with `include_costs`, models
//!   without costs in `summary.weave.costs` are priced from them;
//! - `reprice`: price every model from the rows, ignoring `summary.weave.costs`;
//! - `rollup`: `"reference"` or `"dedupe"` (`usage::rollup`);
//! - `diagnostics`: add a `diagnostics` object (`usage::diagnostics`);
//! - `limit`: `"cut"` (Weave 0.53.0's rule) or `"per-batch"` (0.53.12's),
//!   for `/calls/usage` (`usage::per_batch`).

use super::lax::{boolean, collect, extra_keys};
use super::prices::PriceRow;
use crate::error::{Detail, Kind, Loc, Result, UsageError};
use crate::json::{Shape, Value};

/// How usage rolls up from children into parents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rollup {
    /// The reference's sum: every call adds its children's totals.
    #[default]
    Reference,
    /// A call whose own usage covers its children's totals (every model,
    /// every token counter at least as large) counts as its subtree total.
    Dedupe,
}

/// What `/calls/usage`'s `limit` means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LimitRule {
    /// Weave 0.53.0: the requested traces' calls are cut to the first
    /// `limit` in the server's order (a partial answer, silently).
    #[default]
    Cut,
    /// Weave 0.53.12: whole traces, aggregated in batches of at most `limit`
    /// calls; a single trace over `limit` is a 413, `limit` < 1 a 400.
    PerBatch,
}

/// The validated `options`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageOptions {
    /// `None` when not given (or null).
    pub prices: Option<Vec<PriceRow>>,
    pub reprice: bool,
    pub rollup: Rollup,
    pub diagnostics: bool,
    pub limit: LimitRule,
}

const FIELDS: [&str; 5] = ["prices", "reprice", "rollup", "diagnostics", "limit"];

/// Whether raw `options` ask for `limit: "per-batch"`: the request's `limit`
/// is then validated as that rule needs (below 1 is the method's 400, not a
/// validation error), before the options themselves are.
pub fn asks_per_batch(options: Option<&Value>) -> bool {
    matches!(options.and_then(|o| o.get("limit")), Some(Value::String(s)) if s == "per-batch")
}

/// The parts of the options argument to build from its JSON text: every key,
/// scalars, arrays (`prices`) of objects (rows) of scalars.
pub const OPTIONS_SHAPE: Shape = Shape::EachValue(&Shape::Items(&Shape::EachValue(&Shape::Scalar)));

impl UsageOptions {
    pub fn from_value(options: Option<&Value>) -> Result<UsageOptions> {
        let v = match options {
            None | Some(Value::Null) => return Ok(UsageOptions::default()),
            Some(v) => v,
        };
        let Value::Object(entries) = v else {
            return Err(UsageError::invalid(
                vec!["options".into()],
                Kind::ModelType,
                "Input should be a valid dictionary or instance of UsageOptions",
            ));
        };
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("options"), Loc::from(field)];

        let prices = match v.get("prices") {
            None | Some(Value::Null) => Some(None),
            Some(Value::Array(rows)) => {
                let before = errors.len();
                let rows: Vec<PriceRow> =
                    rows.iter().enumerate().filter_map(|(i, row)| PriceRow::from_value(row, i, &mut errors)).collect();
                (errors.len() == before).then_some(Some(rows))
            }
            Some(_) => {
                errors.push(Detail::of(at("prices"), Kind::ListType));
                None
            }
        };
        let reprice = match v.get("reprice") {
            None => Some(false),
            Some(x) => collect(&mut errors, at("reprice"), boolean(x)),
        };
        let rollup = match v.get("rollup") {
            None => Some(Rollup::Reference),
            Some(Value::String(s)) if s == "reference" => Some(Rollup::Reference),
            Some(Value::String(s)) if s == "dedupe" => Some(Rollup::Dedupe),
            Some(_) => collect(&mut errors, at("rollup"), Err((Kind::LiteralError, "Input should be 'reference' or 'dedupe'"))),
        };
        let diagnostics = match v.get("diagnostics") {
            None => Some(false),
            Some(x) => collect(&mut errors, at("diagnostics"), boolean(x)),
        };
        let limit = match v.get("limit") {
            None => Some(LimitRule::Cut),
            Some(Value::String(s)) if s == "cut" => Some(LimitRule::Cut),
            Some(Value::String(s)) if s == "per-batch" => Some(LimitRule::PerBatch),
            Some(_) => collect(&mut errors, at("limit"), Err((Kind::LiteralError, "Input should be 'cut' or 'per-batch'"))),
        };
        extra_keys(entries, &FIELDS, &[Loc::from("options")], &mut errors);

        match (prices, reprice, rollup, diagnostics, limit) {
            (Some(prices), Some(reprice), Some(rollup), Some(diagnostics), Some(limit)) if errors.is_empty() => {
                Ok(UsageOptions { prices, reprice, rollup, diagnostics, limit })
            }
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Num;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn absent_null_and_empty_are_the_defaults() {
        for o in [None, Some(&Value::Null), Some(&obj(&[]))] {
            assert_eq!(UsageOptions::from_value(o).unwrap(), UsageOptions::default());
        }
    }

    #[test]
    fn lax_values_are_read() {
        let o = UsageOptions::from_value(Some(&obj(&[
            ("reprice", Value::String("yes".into())),
            ("rollup", Value::String("dedupe".into())),
            ("diagnostics", Value::Number(Num::Int(1))),
            ("prices", Value::Array(vec![])),
        ])))
        .unwrap();
        assert_eq!(
            o,
            UsageOptions { prices: Some(vec![]), reprice: true, rollup: Rollup::Dedupe, diagnostics: true, limit: LimitRule::Cut }
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_in_field_order() {
        let e = UsageOptions::from_value(Some(&obj(&[
            ("includeCosts", Value::Bool(true)),
            ("diagnostics", Value::Number(Num::Int(2))),
            ("rollup", Value::Null),
            ("prices", Value::Array(vec![Value::Number(Num::Int(5))])),
            ("reprice", Value::Null),
        ])))
        .unwrap_err();
        assert_eq!(e.status, 422);
        let got: Vec<(Vec<Loc>, &str)> = e.detail.iter().map(|d| (d.loc.clone(), d.kind.as_str())).collect();
        let at = |path: &[&str]| path.iter().map(|p| p.parse::<usize>().map_or(Loc::from(*p), Loc::Index)).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (at(&["options", "prices", "0"]), "model_type"),
                (at(&["options", "reprice"]), "bool_type"),
                (at(&["options", "rollup"]), "literal_error"),
                (at(&["options", "diagnostics"]), "bool_parsing"),
                (at(&["options", "includeCosts"]), "extra_forbidden"),
            ]
        );
        let e = UsageOptions::from_value(Some(&Value::Bool(true))).unwrap_err();
        assert_eq!(
            (e.detail[0].kind.as_str(), e.detail[0].msg.as_str()),
            ("model_type", "Input should be a valid dictionary or instance of UsageOptions")
        );
        let e = UsageOptions::from_value(Some(&obj(&[("prices", Value::String("x".into()))]))).unwrap_err();
        assert_eq!(e.detail[0].msg, "Input should be a valid list");
    }
}
