#![cfg(not(target_arch = "wasm32"))]
//! The crate against answers recorded from pydantic v2 and CPython 3.11
//! (tests/gen/python_corpus.py): request validation, and `int()`/`float()`
//! on numeric strings; and (tests/gen/options_corpus.py) the options'
//! validation, and costs as the reference server's own pricing code computes
//! them from price rows.

use serde_json::Value as Json;
use weave_usage::internals::Level;
use weave_usage::internals::ARGUMENT_SHAPE;
use weave_usage::internals::{parse_float_str, parse_int_str};
use weave_usage::{Rollup, UsageOptions, UsageRequest, Value};

fn corpus(name: &str) -> Vec<Json> {
    let path = format!("{}/tests/fixtures/python/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let j: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    j["cases"].as_array().unwrap().clone()
}

/// Reads a request body with the crate's own parser, which keeps integers
/// exact and key order as written (serde_json would turn 10**30 into a float).
fn read(text: &str) -> Value {
    weave_usage::internals::parse_value(text.as_bytes(), &ARGUMENT_SHAPE).unwrap()
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
                serde_json::json!({"detail": detail(&e)})
            }
        };
        let want = want(case);
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

/// What a validation case expects: `{"ok": …}` or `{"detail": …}`.
fn want(case: &Json) -> Json {
    match (case.get("ok"), case.get("detail")) {
        (Some(ok), _) => serde_json::json!({"ok": ok}),
        (_, Some(d)) => serde_json::json!({"detail": d}),
        _ => panic!("bad case"),
    }
}

/// A crate error's detail as FastAPI writes it.
fn detail(e: &weave_usage::UsageError) -> Json {
    let detail: Vec<Json> = e
        .detail
        .iter()
        .map(|d| {
            let loc: Vec<Json> = d
                .loc
                .iter()
                .map(|l| match l {
                    weave_usage::Loc::Key(k) => Json::from(k.as_str()),
                    weave_usage::Loc::Index(i) => Json::from(*i),
                })
                .collect();
            serde_json::json!({"loc": loc, "msg": d.msg, "type": d.kind.name()})
        })
        .collect();
    Json::Array(detail)
}

/// A rate as the corpus writes it: a number, or the name of a non-finite one.
fn rate(x: f64) -> Json {
    match x {
        x if x.is_nan() => Json::from("nan"),
        f64::INFINITY => Json::from("inf"),
        f64::NEG_INFINITY => Json::from("-inf"),
        x => Json::from(x),
    }
}

#[test]
fn options_validate_like_pydantic() {
    let cases = corpus("options");
    assert!(cases.len() > 200);
    let mut failures = Vec::new();
    for case in &cases {
        let text = case["options"].as_str().unwrap();
        let value = weave_usage::argument_from_json(text.as_bytes(), "options").unwrap();
        let got = match UsageOptions::from_value(Some(&value)) {
            Ok(o) => {
                let prices = o.prices.map(|rows| {
                    rows.iter()
                        .map(|r| {
                            serde_json::json!({
                                "llm_id": r.llm_id,
                                "rates": r.rates.iter().map(|&x| rate(x)).collect::<Vec<_>>(),
                                "effective": r.effective,
                                "level": match r.level { Level::Project => "project", Level::Default => "default" },
                                "level_id": r.level_id,
                            })
                        })
                        .collect::<Vec<_>>()
                });
                let rollup = match o.rollup {
                    Rollup::Reference => "reference",
                    Rollup::Dedupe => "dedupe",
                };
                serde_json::json!({"ok": {"prices": prices, "reprice": o.reprice, "rollup": rollup, "diagnostics": o.diagnostics}})
            }
            Err(e) => serde_json::json!({"detail": detail(&e)}),
        };
        let want = want(case);
        if got != want {
            failures.push(format!("{text}\n  got  {got}\n  want {want}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn prices_give_the_reference_servers_costs() {
    let cases = corpus("pricing");
    assert!(cases.len() >= 300);
    let (mut failures, mut compared, mut nonzero) = (Vec::new(), 0, 0);
    for (n, case) in cases.iter().enumerate() {
        // Every call is a root, so its rolled-up usage is its own.
        let body: String = case["calls"].as_array().unwrap().iter().map(|c| format!("{c}\n")).collect();
        let request = read(r#"{"project_id":"p","include_costs":true}"#);
        for reprice in [true, false] {
            let options = serde_json::json!({"prices": case["rows"], "reprice": reprice}).to_string();
            let options = weave_usage::argument_from_json(options.as_bytes(), "options").unwrap();
            let res = weave_usage::trace_usage_from_json(body.as_bytes(), &request, Some(&options)).expect("valid case");
            let got: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
            let want = &case["costs"];
            for (id, models) in got["call_usage"].as_object().unwrap() {
                for (model, u) in models.as_object().unwrap() {
                    let fields = [
                        "prompt_tokens_total_cost",
                        "completion_tokens_total_cost",
                        "cache_read_input_tokens_total_cost",
                        "cache_creation_input_tokens_total_cost",
                    ];
                    let got_costs: Vec<f64> = fields.iter().map(|f| u[*f].as_f64().unwrap()).collect();
                    let want_costs: Vec<f64> = match want[id][model].as_array() {
                        Some(w) => w.iter().map(|x| x.as_f64().unwrap()).collect(),
                        None => vec![0.0; 4],
                    };
                    compared += 1;
                    nonzero += usize::from(want_costs.iter().any(|&x| x != 0.0));
                    if got_costs != want_costs {
                        failures.push(format!("case {n} (reprice {reprice}) {id} {model}: got {got_costs:?}, want {want_costs:?}"));
                    }
                }
                // A model the reference gave a cost must be in the answer.
                for (model, costs) in want[id].as_object().unwrap() {
                    if costs.as_array().unwrap().iter().any(|x| x.as_f64() != Some(0.0)) && models.get(model).is_none() {
                        failures.push(format!("case {n} {id} {model}: missing, want {costs}"));
                    }
                }
            }
        }
    }
    assert!(compared > 500 && nonzero > 300, "the corpus exercises pricing ({compared} compared, {nonzero} non-zero)");
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
}
