//! Helpers shared by the native integration tests: fixtures, conversion from
//! serde_json (an independent JSON reader), and result comparison.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value as Json;
use weave_usage::{Num, Value};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance")
}

/// Every conformance fixture, by name, in name order.
pub fn fixtures() -> Vec<(String, Json)> {
    let mut out: Vec<(String, Json)> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture readable");
            (p.file_stem().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).expect("fixture is JSON"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// serde_json's value as the crate's value (objects keep their order).
pub fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Number(Num::Int(i128::from(i))),
            (None, Some(u)) => Value::Number(Num::Int(i128::from(u))),
            _ => Value::Number(Num::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(to_value).collect()),
        Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

/// The fixture files were written with sorted keys, which loses the order in
/// which the reference received the request's keys — and pydantic reports
/// unknown keys in that order. Restore the order a client would send: the
/// model's fields first, then unknown keys in the order the reference
/// reported them.
pub fn request_as_sent(fixture: &Json) -> Json {
    let request = &fixture["request"];
    let Json::Object(map) = request else { return request.clone() };
    let reported: Vec<String> = fixture["expected_error"]["detail"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["type"] == "extra_forbidden")
        .filter_map(|d| d["loc"][1].as_str().map(str::to_string))
        .collect();
    let fields = ["project_id", "call_ids", "include_costs", "limit"];
    let mut keys: Vec<&String> = map.keys().collect();
    let rank = |k: &str| {
        fields.iter().position(|f| *f == k).or_else(|| reported.iter().position(|r| r == k).map(|i| fields.len() + i)).unwrap_or(usize::MAX)
    };
    keys.sort_by_key(|k| rank(k));
    Json::Object(keys.into_iter().map(|k| (k.clone(), map[k].clone())).collect())
}

/// The calls as a JSON array and as JSON Lines.
pub fn bodies(calls: &Json) -> [(&'static str, String); 2] {
    let array = serde_json::to_string(calls).unwrap();
    let lines: Vec<String> = calls.as_array().unwrap().iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    [("json-array", array), ("jsonl", lines.join("\n") + "\n")]
}

/// Compares a response with the expected one: integers exactly, costs within
/// 1e-9 relative, nulls as nulls. Returns the first difference.
pub fn compare(got: &Json, want: &Json, path: &str) -> Result<(), String> {
    match (got, want) {
        (Json::Number(g), Json::Number(w)) => {
            if let (Some(g), Some(w)) = (g.as_i64(), w.as_i64()) {
                return if g == w { Ok(()) } else { Err(format!("{path}: got {g}, want {w}")) };
            }
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            let tol = 1e-9 * g.abs().max(w.abs());
            if (g - w).abs() <= tol {
                Ok(())
            } else {
                Err(format!("{path}: got {g}, want {w}"))
            }
        }
        (Json::Object(g), Json::Object(w)) => {
            let mut gk: Vec<&String> = g.keys().collect();
            let mut wk: Vec<&String> = w.keys().collect();
            gk.sort();
            wk.sort();
            if gk != wk {
                return Err(format!("{path}: keys {gk:?}, want {wk:?}"));
            }
            for k in wk {
                compare(&g[k], &w[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Json::Array(g), Json::Array(w)) => {
            if g.len() != w.len() {
                return Err(format!("{path}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                compare(a, b, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (g, w) if g == w => Ok(()),
        (g, w) => Err(format!("{path}: got {g}, want {w}")),
    }
}

/// An error's detail as JSON, for comparison with `expected_error.detail`.
pub fn detail_json(e: &weave_usage::UsageError) -> Json {
    Json::Array(
        e.detail
            .iter()
            .map(|d| {
                serde_json::json!({
                    "loc": d.loc.iter().map(|l| match l {
                        weave_usage::Loc::Key(k) => Json::String(k.clone()),
                        weave_usage::Loc::Index(i) => Json::from(*i),
                    }).collect::<Vec<_>>(),
                    "msg": d.msg,
                    "type": d.kind.name(),
                })
            })
            .collect(),
    )
}
