#![cfg(not(target_arch = "wasm32"))]
//! The crate against answers recorded from pydantic v2 and CPython 3.11
//! (tests/gen/python_corpus.py): request validation, and `int()`/`float()`
//! on numeric strings.

use serde_json::Value as Json;
use weave_usage::json::ARGUMENT_SHAPE;
use weave_usage::pynum::{parse_float_str, parse_int_str};
use weave_usage::{UsageRequest, Value};

fn corpus(name: &str) -> Vec<Json> {
    let path = format!("{}/tests/fixtures/python/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let j: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    j["cases"].as_array().unwrap().clone()
}

/// Reads a request body with the crate's own parser, which keeps integers
/// exact and key order as written (serde_json would turn 10**30 into a float).
fn read(text: &str) -> Value {
    weave_usage::json::parse_value(text.as_bytes(), &ARGUMENT_SHAPE).unwrap()
}

#[test]
fn requests_validate_like_pydantic() {
    let cases = corpus("requests");
    assert!(cases.len() > 300);
    let mut failures = Vec::new();
    for case in &cases {
        let body = case["body"].as_str().unwrap();
        let got = match UsageRequest::from_value(&read(body)) {
            Ok(r) => serde_json::json!({"ok": {
                "project_id": r.project_id, "call_ids": r.call_ids, "include_costs": r.include_costs,
                // pydantic keeps big ints; the crate clamps what it cannot use.
                "limit": if r.limit == u64::MAX { case["ok"]["limit"].clone() } else { Json::from(r.limit.to_string()) },
            }}),
            Err(e) => {
                assert_eq!(e.status, 422);
                let detail: Vec<Json> = e
                    .detail
                    .iter()
                    .map(|d| {
                        let loc: Vec<Json> = d.loc.iter().map(|l| match l {
                            weave_usage::Loc::Key(k) => Json::from(k.as_str()),
                            weave_usage::Loc::Index(i) => Json::from(*i),
                        }).collect();
                        serde_json::json!({"loc": loc, "msg": d.msg, "type": d.kind})
                    })
                    .collect();
                serde_json::json!({"detail": detail})
            }
        };
        let want = match (case.get("ok"), case.get("detail")) {
            (Some(ok), _) => serde_json::json!({"ok": ok}),
            (_, Some(d)) => serde_json::json!({"detail": d}),
            _ => panic!("bad case"),
        };
        if got != want {
            failures.push(format!("{body}\n  got  {got}\n  want {want}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn numeric_strings_read_like_cpython() {
    let cases = corpus("numbers");
    assert!(cases.len() > 2000);
    let mut failures = Vec::new();
    for case in &cases {
        let s = case["s"].as_str().unwrap();
        let int = parse_int_str(s);
        let int_ok = match &case["int"] {
            Json::Null => int.is_none(),
            Json::String(x) if x == "saturates" => int == Some(i128::MAX),
            // Values beyond i128 saturate by design.
            Json::String(x) => x.parse::<i128>().map_or(int.is_some_and(|v| v == i128::MAX || v == i128::MIN), |v| int == Some(v)),
            other => panic!("bad case {other}"),
        };
        let float = parse_float_str(s);
        let float_ok = match &case["float"] {
            Json::Null => float.is_none(),
            Json::String(x) if x == "nan" => float.is_some_and(f64::is_nan),
            Json::String(x) if x == "inf" => float == Some(f64::INFINITY),
            Json::String(x) if x == "-inf" => float == Some(f64::NEG_INFINITY),
            Json::String(hex) => float.is_some_and(|f| float_hex(f) == *hex),
            other => panic!("bad case {other}"),
        };
        if !int_ok || !float_ok {
            failures.push(format!("{s:?}: int {int:?} want {}, float {float:?} want {}", case["int"], case["float"]));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Python's `float.hex()`, for exact comparison.
fn float_hex(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0x0.0p+0".into() } else { "0x0.0p+0".into() };
    }
    let bits = f.to_bits();
    let sign = if f < 0.0 { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mant = bits & ((1u64 << 52) - 1);
    let (lead, e) = if exp == 0 { (0, -1022) } else { (1, exp - 1023) };
    let hex = format!("{mant:013x}");
    format!("{sign}0x{lead}.{hex}p{}{e}", if e >= 0 { "+" } else { "" })
}
