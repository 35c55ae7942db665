//! The boundary under wasm-bindgen-test, in headless Chromium
//! (`wasm-pack test --headless --chrome`) and in Node (`wasm-pack test
//! --node`): every reference fixture through the exported functions, with
//! JavaScript values built the way a page builds them (`JSON.parse`,
//! `TextEncoder`).
//!
//! Built without the crate's `stats` feature (the main module), the stats
//! exports must refuse with a 501; with it (`wasm-pack test --node --
//! --features stats`, scripts/test.sh), they must work.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{compare, request_as_sent};
use js_sys::{Object, Reflect, Uint8Array, JSON};
use serde_json::Value as Json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use weave_usage::wasm::{
    calls_usage, calls_usage_from_json, trace_usage, trace_usage_from_json, usage_stats, usage_stats_from_json, AccumulatorOptionsArg,
    OptionsArg, UsageAccumulator,
};

/// Every fixture, embedded (a browser has no file system). The list must name
/// 76 distinct files; `include_str!` fails to compile for a missing one, and
/// the native suite checks that the directory holds exactly 76.
macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("fixtures/conformance/", $name, ".json")))),*]
    };
}
const FIXTURES: &[(&str, &str)] = embed![
    "invalid-0",
    "invalid-1",
    "invalid-10",
    "invalid-11",
    "invalid-12",
    "invalid-13",
    "invalid-14",
    "invalid-15",
    "invalid-16",
    "invalid-17",
    "invalid-18",
    "invalid-2",
    "invalid-3",
    "invalid-4",
    "invalid-5",
    "invalid-6",
    "invalid-7",
    "invalid-8",
    "invalid-9",
    "lax-ok-19",
    "lax-ok-20",
    "lax-ok-21",
    "s2-case000",
    "s2-case000-messy",
    "s2-case001",
    "s2-case002",
    "s2-case003",
    "s2-case003-messy",
    "s2-case004",
    "s2-case005",
    "s2-case006",
    "s2-case006-messy",
    "s2-case007",
    "s2-case008",
    "s2-case009",
    "s2-case009-messy",
    "s2-case010",
    "s2-case011",
    "s2-case012",
    "s2-case012-messy",
    "s2-case013",
    "s2-case014",
    "s2-case015",
    "s2-case015-messy",
    "s2-case016",
    "s2-case017",
    "s2-case018",
    "s2-case018-messy",
    "s2-case019",
    "s2-case020",
    "s2-case021",
    "s2-case021-messy",
    "s2-case022",
    "s2-case023",
    "s2-case024",
    "s2-case024-messy",
    "s2-case025",
    "s2-case026",
    "s2-case027",
    "s2-case027-messy",
    "s2-case028",
    "s2-case029",
    "s2-case030",
    "s2-case030-messy",
    "s2-case031",
    "s2-case032",
    "s2-case033",
    "s2-case033-messy",
    "s2-case034",
    "s2-case035",
    "s2-case036",
    "s2-case036-messy",
    "s2-case037",
    "s2-case038",
    "s2-case039",
    "s2-case039-messy",
];

fn js(j: &Json) -> JsValue {
    JSON::parse(&j.to_string()).expect("valid JSON")
}

fn json(v: &JsValue) -> Json {
    let text: String = JSON::stringify(v).expect("stringify").into();
    serde_json::from_str(&text).expect("JSON")
}

/// Checks one outcome against the fixture; returns the reason it differs.
fn check(fixture: &Json, outcome: Result<JsValue, JsValue>) -> Result<(), String> {
    match (outcome, fixture.get("expected"), fixture.get("expected_error")) {
        (Ok(res), Some(want), _) => compare(&json(&res), want, ""),
        (Err(e), _, Some(want)) => {
            if !e.is_instance_of::<js_sys::Error>() {
                return Err("thrown value is not an Error".into());
            }
            let status = Reflect::get(&e, &"status".into()).ok().and_then(|s| s.as_f64());
            let detail = json(&Reflect::get(&e, &"detail".into()).unwrap_or(JsValue::NULL));
            if status != Some(422.0) {
                return Err(format!("status {status:?}"));
            }
            if detail != want["detail"] {
                return Err(format!("detail {detail}, want {}", want["detail"]));
            }
            Ok(())
        }
        (Ok(res), _, Some(_)) => Err(format!("expected an error, got {}", json(&res))),
        (Err(e), _, _) => Err(format!("unexpected error {}", json(&Reflect::get(&e, &"message".into()).unwrap_or(JsValue::NULL)))),
        (Ok(_), None, None) => Err("fixture has neither expected nor expected_error".into()),
    }
}

#[wasm_bindgen_test]
fn every_fixture_through_both_exports() {
    let names: std::collections::HashSet<&str> = FIXTURES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), 76);
    let mut failures = Vec::new();
    for (name, text) in FIXTURES {
        let f: Json = serde_json::from_str(text).expect("fixture");
        let request = js(&request_as_sent(&f));
        let calls = f["calls"].as_array().expect("calls");
        let array = serde_json::to_string(calls).unwrap();
        let lines: Vec<String> = calls.iter().map(|c| c.to_string()).collect();
        let lines = lines.join("\n");
        let runs: Vec<(&str, Result<JsValue, JsValue>)> = vec![
            ("objects", calls_usage(js(&f["calls"]), request.clone(), None)),
            ("array string", calls_usage_from_json(JsValue::from_str(&array), request.clone(), None)),
            ("array bytes", calls_usage_from_json(Uint8Array::from(array.as_bytes()).into(), request.clone(), None)),
            ("jsonl string", calls_usage_from_json(JsValue::from_str(&lines), request.clone(), None)),
            ("jsonl bytes", calls_usage_from_json(Uint8Array::from(lines.as_bytes()).into(), request.clone(), None)),
        ];
        // And streamed through the accumulator, 7 bytes at a time.
        let mut acc = UsageAccumulator::new(None).unwrap();
        let pushed: Result<(), JsValue> = lines.as_bytes().chunks(7).try_for_each(|c| acc.push(Uint8Array::from(c).into()));
        let streamed = pushed.and_then(|()| acc.finish(request.clone(), None));
        let runs: Vec<(&str, Result<JsValue, JsValue>)> = runs.into_iter().chain([("accumulator, 7-byte chunks", streamed)]).collect();
        for (how, outcome) in runs {
            if let Err(why) = check(&f, outcome) {
                failures.push(format!("{name} via {how}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[wasm_bindgen_test]
fn hostile_keys_stay_own_properties() {
    let calls = JSON::parse(r#"[{"id":"__proto__","trace_id":"t","ended_at":"x","summary":{"usage":{"constructor":{"prompt_tokens":1},"__proto__":{"prompt_tokens":2}}}}]"#).unwrap();
    let request = JSON::parse(r#"{"project_id":"p","call_ids":["__proto__","toString"]}"#).unwrap();
    let res = calls_usage(calls, request, None).expect("result");
    let by_call = Reflect::get(&res, &"call_usage".into()).unwrap();
    assert_eq!(keys(&by_call), ["__proto__", "toString"]);
    let proto: JsValue = Object::get_prototype_of(&by_call).into();
    let plain: JsValue = Object::get_prototype_of(&Object::new().into()).into();
    assert_eq!(proto, plain, "call_usage keeps Object.prototype");
    let own = Reflect::get(&by_call, &"__proto__".into()).unwrap();
    assert_eq!(keys(&own), ["constructor", "__proto__"]);
}

fn keys(v: &JsValue) -> Vec<String> {
    Object::keys(v.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()).collect()
}

#[wasm_bindgen_test]
fn errors_leave_the_module_working() {
    let request = || JSON::parse(r#"{"project_id":"p","call_ids":["a"]}"#).unwrap();
    for _ in 0..100 {
        assert!(calls_usage_from_json(JsValue::from_str("{"), request(), None).is_err());
        assert!(calls_usage(JsValue::from_f64(1.0), request(), None).is_err());
    }
    let body = JsValue::from_str(r#"{"id":"a","trace_id":"t","summary":{"usage":{"m":{"prompt_tokens":2}}}}"#);
    let res = json(&calls_usage_from_json(body, request(), None).expect("works"));
    assert_eq!(res["call_usage"]["a"]["m"]["total_tokens"], 2);
    assert_eq!(res["unfinished_call_ids"], serde_json::json!(["a"]));
}

fn options(text: &str) -> Option<OptionsArg> {
    Some(JSON::parse(text).expect("options JSON").unchecked_into())
}

#[wasm_bindgen_test]
fn options_and_trace_usage_through_every_export() {
    // A star whose root's usage already holds its children's (Weave's client
    // sums them), one child without costs, priced from a row.
    let calls = r#"[
        {"id":"r","trace_id":"t","started_at":"2025-03-01T09:00:00Z","ended_at":"x","summary":{"usage":{"m":{"requests":2,"prompt_tokens":30}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":0.3}}}}},
        {"id":"a","trace_id":"t","parent_id":"r","started_at":"2025-03-01T09:00:01Z","ended_at":"x","summary":{"usage":{"m":{"requests":1,"prompt_tokens":10}}}},
        {"id":"b","trace_id":"t","parent_id":"r","started_at":"2025-03-01T09:00:02Z","summary":{"usage":{"m":{"requests":1,"prompt_tokens":20}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":0.2}}}}}
    ]"#;
    let opts = r#"{"rollup":"dedupe","diagnostics":true,"prices":[{"llm_id":"m","prompt_token_cost":0.01,"effective_date":"2024-01-01"}]}"#;
    let request = || JSON::parse(r#"{"project_id":"p","call_ids":["r","a"],"include_costs":true}"#).unwrap();
    let trace_request = || JSON::parse(r#"{"project_id":"p","include_costs":true,"filter":{"trace_ids":["t"]}}"#).unwrap();
    let lines: Vec<String> = serde_json::from_str::<Vec<Json>>(calls).unwrap().iter().map(|c| c.to_string()).collect();
    let body = lines.join("\n");

    let by_objects = json(&calls_usage(JSON::parse(calls).unwrap(), request(), options(opts)).expect("objects"));
    let by_bytes = json(&calls_usage_from_json(Uint8Array::from(body.as_bytes()).into(), request(), options(opts)).expect("bytes"));
    assert_eq!(by_objects, by_bytes);
    assert_eq!(by_objects["call_usage"]["r"]["m"]["prompt_tokens"], 30, "deduped");
    assert_eq!(by_objects["call_usage"]["a"]["m"]["prompt_tokens_total_cost"], 0.1, "priced from the row");
    assert_eq!(by_objects["diagnostics"]["deduped_call_ids"], serde_json::json!(["r"]));
    assert_eq!(by_objects["diagnostics"]["unpriced_models"], serde_json::json!([]));

    let traced = json(&trace_usage(JSON::parse(calls).unwrap(), trace_request(), options(opts)).expect("trace objects"));
    let traced_bytes = json(&trace_usage_from_json(JsValue::from_str(&body), trace_request(), options(opts)).expect("trace bytes"));
    let mut acc = UsageAccumulator::new(None).unwrap();
    body.as_bytes().chunks(5).for_each(|c| acc.push(Uint8Array::from(c).into()).expect("push"));
    let traced_acc = json(&acc.finish_trace(trace_request(), options(opts)).expect("finishTrace"));
    assert_eq!(traced, traced_bytes);
    assert_eq!(traced, traced_acc);
    assert_eq!(keys(&JSON::parse(&traced["call_usage"].to_string()).unwrap()), ["r", "a", "b"]);
    assert_eq!(traced["call_usage"]["b"]["m"]["prompt_tokens_total_cost"], 0.2);
    assert_eq!(traced["unfinished_call_ids"], serde_json::json!(["b"]));
    // The same accumulator still answers /calls/usage.
    assert_eq!(json(&acc.finish(request(), options(opts)).expect("finish")), by_objects);

    // Without options: the reference's sum, and no diagnostics key.
    let plain = json(&calls_usage(JSON::parse(calls).unwrap(), request(), None).expect("plain"));
    assert_eq!(plain["call_usage"]["r"]["m"]["prompt_tokens"], 60);
    assert!(plain.get("diagnostics").is_none());

    // A bad row: 422 at its index and field, thrown as an Error.
    let e =
        calls_usage(JSON::parse(calls).unwrap(), request(), options(r#"{"prices":[{"llm_id":"m","effective_date":"soon"}]}"#)).unwrap_err();
    assert!(e.is_instance_of::<js_sys::Error>());
    let detail = json(&Reflect::get(&e, &"detail".into()).unwrap());
    assert_eq!(detail[0]["loc"], serde_json::json!(["options", "prices", 0, "effective_date"]));
    assert_eq!(detail[0]["type"], "datetime_from_date_parsing");
}

/// Stats through the boundary: buckets made by js/zone.js (New York's
/// spring-forward day is 23 hours), objects, bytes and a stats accumulator
/// alike, and the errors that only the boundary can give.
#[cfg(feature = "stats")]
#[wasm_bindgen_test]
fn stats_bucket_in_the_zone_through_every_path() {
    let calls = r#"[{"id":"a","trace_id":"t","op_name":"weave:///e/p/op/agent:1","started_at":"2025-03-09T04:59:00Z","summary":{"usage":{"m":{"prompt_tokens":3}}}},
        {"id":"b","trace_id":"t","parent_id":"a","op_name":"weave:///e/p/op/llm:2","started_at":"2025-03-10T03:59:00Z","exception":"x","summary":{"usage":{"m":{"prompt_tokens":2}}}}]"#;
    let body: String = serde_json::from_str::<Vec<Json>>(calls).unwrap().iter().map(|c| c.to_string() + "\n").collect();
    let request = || JSON::parse(r#"{"project_id":"p","timezone":"America/New_York","group_by":["op_name"]}"#).unwrap();
    let json = |v: &JsValue| -> Json { serde_json::from_str(&String::from(JSON::stringify(v).unwrap())).unwrap() };
    let by_objects = json(&usage_stats(JSON::parse(calls).unwrap(), request(), None).expect("objects"));
    let by_bytes = json(&usage_stats_from_json(Uint8Array::from(body.as_bytes()).into(), request(), None).expect("bytes"));
    let options: AccumulatorOptionsArg = JSON::parse(r#"{"stats":true}"#).unwrap().unchecked_into();
    let mut acc = UsageAccumulator::new(Some(options)).expect("a stats accumulator");
    body.as_bytes().chunks(7).for_each(|c| acc.push(Uint8Array::from(c).into()).expect("push"));
    let by_acc = json(&acc.finish_stats(request(), None).expect("finishStats"));
    assert_eq!(by_objects, by_bytes);
    assert_eq!(by_objects, by_acc);
    let stamps: Vec<&str> = by_objects["call_buckets"].as_array().unwrap().iter().map(|r| r["timestamp"].as_str().unwrap()).collect();
    // a is at 23:59 on the 8th (EST), b at 23:59 on the 9th (EDT).
    assert_eq!(
        stamps,
        ["2025-03-08T00:00:00-05:00", "2025-03-08T00:00:00-05:00", "2025-03-09T00:00:00-05:00", "2025-03-09T00:00:00-05:00"]
    );
    assert_eq!(by_objects["end"], "2025-03-10T00:00:00-04:00");
    let errors: u64 = by_objects["call_buckets"].as_array().unwrap().iter().map(|r| r["error_count"].as_u64().unwrap()).sum();
    assert_eq!(errors, 1);

    let refused = |e: JsValue| json(&Reflect::get(&e, &"detail".into()).unwrap())[0].clone();
    let bad_zone = JSON::parse(r#"{"project_id":"p","timezone":"Mars/Olympus"}"#).unwrap();
    let d = refused(usage_stats(JSON::parse(calls).unwrap(), bad_zone, None).unwrap_err());
    assert_eq!((d["loc"].clone(), d["type"].clone()), (serde_json::json!(["body", "timezone"]), Json::from("value_error")));
    let mut plain = UsageAccumulator::new(None).unwrap();
    plain.push(JsValue::from_str(&body)).unwrap();
    let d = refused(plain.finish_stats(request(), None).unwrap_err());
    assert_eq!(d["type"], "accumulator_not_for_stats");
}

/// Without the `stats` feature (the main module): every stats export, and
/// `{ stats: true }`, is a 501 `stats_unavailable` naming weave-usage/stats,
/// and the module works on after.
#[cfg(not(feature = "stats"))]
#[wasm_bindgen_test]
fn stats_are_refused_without_the_feature() {
    let json = |v: &JsValue| -> Json { serde_json::from_str(&String::from(JSON::stringify(v).unwrap())).unwrap() };
    let refused = |e: JsValue| {
        assert_eq!(Reflect::get(&e, &"status".into()).unwrap(), 501);
        let d = json(&Reflect::get(&e, &"detail".into()).unwrap())[0].clone();
        assert_eq!(d["type"], "stats_unavailable");
        assert!(d["msg"].as_str().unwrap().contains("weave-usage/stats"), "{d}");
        d["loc"].clone()
    };
    let request = || JSON::parse(r#"{"project_id":"p"}"#).unwrap();
    let calls = || JSON::parse(r#"[{"id":"a","trace_id":"t"}]"#).unwrap();
    assert_eq!(refused(usage_stats(calls(), request(), None).unwrap_err()), serde_json::json!(["module"]));
    assert_eq!(refused(usage_stats_from_json(JsValue::from_str(""), request(), None).unwrap_err()), serde_json::json!(["module"]));
    let options: AccumulatorOptionsArg = JSON::parse(r#"{"stats":true}"#).unwrap().unchecked_into();
    let Err(e) = UsageAccumulator::new(Some(options)) else { panic!("a stats accumulator without the feature") };
    assert_eq!(refused(e), serde_json::json!(["options", "stats"]));
    let mut plain = UsageAccumulator::new(None).unwrap();
    assert_eq!(refused(plain.finish_stats(request(), None).unwrap_err()), serde_json::json!(["accumulator"]));
    let body = JsValue::from_str("{\"id\":\"a\",\"trace_id\":\"t\"}\n");
    let answer = json(&calls_usage_from_json(body, JSON::parse(r#"{"project_id":"p","call_ids":["a"]}"#).unwrap(), None).unwrap());
    assert_eq!(answer["call_usage"]["a"], serde_json::json!({}));
}
