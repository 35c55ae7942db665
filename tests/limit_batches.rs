#![cfg(not(target_arch = "wasm32"))]
//! The `limit` rule of Weave 0.53.12's `/calls/usage` (tests/fixtures/limit-batches,
//! made by tests/gen/limit_batches_corpus.py from both servers' own code; the
//! rule is in that directory's README).
//!
//! The crate's default is 0.53.0's rule, so every case's recorded 0.53.0
//! answer must come out of the native core with no options, from the calls
//! as a JSON array and as JSON Lines — except `limit` < 1, which the crate
//! refuses with 422 by design where 0.53.0 read it as no limit. With the
//! case's options (`limit: "per-batch"`) every 0.53.12 answer must come out,
//! errors included (status, and the server's message in `detail`), from
//! both body forms and from a table streamed in chunks.
//!
//! Cases listed in `KNOWN_FAILURES` are expected to differ on the default
//! path (each with the reason); the test fails if one of them passes.

mod common;

use common::{bodies, compare, to_value};
use serde_json::Value as Json;

/// (scenario, case, reason).
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// Every scenario, by name, with its calls resolved (`calls_from` names a
/// client-corpus file relative to the scenario's directory).
fn scenarios() -> Vec<(String, Json, Json)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/limit-batches");
    let mut out: Vec<(String, Json, Json)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/limit-batches")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let s: Json = serde_json::from_str(&std::fs::read_to_string(&p).expect("readable")).expect("JSON");
            let calls = match s["calls_from"].as_str() {
                Some(from) => {
                    let f: Json =
                        serde_json::from_str(&std::fs::read_to_string(dir.join(from)).expect("calls_from readable")).expect("JSON");
                    f["calls"].clone()
                }
                None => s["calls"].clone(),
            };
            (s["name"].as_str().expect("name").to_string(), s, calls)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_fixtures_are_here() {
    let all = scenarios();
    let mut cases = 0;
    for (name, s, calls) in &all {
        assert_eq!(s["versions"]["weave"], "0.53.12", "{name}");
        assert_eq!(s["versions"]["reference_0_53_0"], "0.53.0", "{name}");
        assert!(calls.as_array().is_some_and(|c| !c.is_empty()), "{name}: calls");
        for c in s["cases"].as_array().expect("cases") {
            cases += 1;
            let id = format!("{name}/{}", c["name"]);
            assert_eq!(c["options"], serde_json::json!({"limit": "per-batch"}), "{id}");
            assert!(c["validated_limit"].is_i64(), "{id}");
            assert!(c["expected"].is_object() != c["expected_error"].is_object(), "{id}: expected or expected_error");
            if let Some(e) = c["expected_error"].as_object() {
                let status = e["status"].as_u64().unwrap();
                assert!(status == 400 || status == 413, "{id}: status {status}");
                assert!(e["body"]["reason"].is_string(), "{id}: body");
            }
            let r = &c["reference_0_53_0"];
            assert!(r["calls_in_scope"].is_u64(), "{id}");
            assert_eq!(r["same_as_expected"] == true, c["differs"] == false, "{id}");
        }
    }
    assert_eq!(all.len(), 14);
    assert_eq!(cases, 82);
}

#[test]
fn the_default_path_gives_0_53_0s_answers() {
    let mut failures = Vec::new();
    let mut known_seen = 0;
    for (name, s, calls) in scenarios() {
        let forms = bodies(&calls);
        for c in s["cases"].as_array().unwrap() {
            let case = c["name"].as_str().unwrap();
            let known = KNOWN_FAILURES.iter().find(|k| k.0 == name && k.1 == case);
            let request = to_value(&c["request"]);
            let want = if c["reference_0_53_0"]["same_as_expected"] == true { &c["expected"] } else { &c["reference_0_53_0"]["expected"] };
            let below_one = c["validated_limit"].as_i64().unwrap() < 1;
            let mut failed = false;
            for (form, body) in &forms {
                let got = weave_usage::calls_usage_from_json(body.as_bytes(), &request, None);
                let verdict = match (below_one, got) {
                    // The crate's documented addition: limit < 1 is a 422.
                    (true, Err(e))
                        if e.status == 422 && e.to_string().contains("body.limit: Input should be greater than or equal to 1") =>
                    {
                        Ok(())
                    }
                    (true, other) => {
                        Err(format!("want 422 for limit < 1, got {:?}", other.and_then(|r| r.to_json()).map_err(|e| e.to_string())))
                    }
                    (false, Ok(res)) => compare(&serde_json::from_str(&res.to_json().expect("the answer is written")).unwrap(), want, ""),
                    (false, Err(e)) => Err(e.to_string()),
                };
                if let Err(why) = verdict {
                    failed = true;
                    if known.is_none() {
                        failures.push(format!("{name}/{case} ({form}): {why}"));
                    }
                }
            }
            if known.is_some() {
                known_seen += 1;
                assert!(failed, "{name}/{case} is a known failure but passes: remove it from KNOWN_FAILURES");
            }
        }
    }
    assert_eq!(known_seen, KNOWN_FAILURES.len(), "a KNOWN_FAILURES entry names no case");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn per_batch_gives_0_53_12s_answers() {
    let mut failures = Vec::new();
    let mut passed = 0;
    for (name, s, calls) in scenarios() {
        let forms = bodies(&calls);
        // A streamed table answers every case, as an accumulator does.
        let mut stream = weave_usage::CallStream::new();
        for chunk in forms[1].1.as_bytes().chunks(97) {
            stream.push(chunk).expect("the calls read");
        }
        let table = stream.finish().expect("the calls read");
        for c in s["cases"].as_array().unwrap() {
            let case = c["name"].as_str().unwrap();
            let request = to_value(&c["request"]);
            let options = to_value(&c["options"]);
            let mut outcomes: Vec<(String, Result<weave_usage::CallsUsageRes, weave_usage::UsageError>)> = forms
                .iter()
                .map(|(form, body)| (form.to_string(), weave_usage::calls_usage_from_json(body.as_bytes(), &request, Some(&options))))
                .collect();
            outcomes
                .push(("streamed".into(), weave_usage::prepare(&request, Some(&options)).and_then(|p| weave_usage::compute(table, &p))));
            for (form, outcome) in outcomes {
                let verdict = match outcome {
                    Ok(res) if c["expected"].is_object() => {
                        compare(&serde_json::from_str(&res.to_json().expect("the answer is written")).unwrap(), &c["expected"], "")
                    }
                    Ok(res) => Err(format!("want status {}, got {:?}", c["expected_error"]["status"], res.to_json())),
                    Err(e) => {
                        let want = &c["expected_error"];
                        let kind = if want["status"] == 400 { "invalid_request" } else { "request_too_large" };
                        match e.detail.as_slice() {
                            [d] if want["status"].as_u64() == Some(u64::from(e.status))
                                && want["message"] == d.msg.as_str()
                                && d.kind == kind
                                && format!("{:?}", d.loc) == r#"[Key("body"), Key("limit")]"# =>
                            {
                                Ok(())
                            }
                            _ => Err(format!("want {want}, got {e:?}")),
                        }
                    }
                };
                match verdict {
                    Ok(()) => passed += 1,
                    Err(why) => failures.push(format!("{name}/{case} ({form}): {why}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(passed, 82 * 3);
}

#[test]
fn per_batch_refuses_in_the_servers_order() {
    let calls = r#"[{"id":"a","trace_id":"t","started_at":"2025-01-01T00:00:00Z","ended_at":"x"}]"#;
    let per_batch = to_value(&serde_json::json!({"limit": "per-batch"}));
    // Validation (422) first, the options' own problems next, then the 400.
    let e = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": 1, "call_ids": ["a"], "limit": 0})),
        Some(&per_batch),
    )
    .unwrap_err();
    assert_eq!((e.status, e.detail.len(), e.detail[0].kind.as_str()), (422, 1, "string_type"));
    let bad = to_value(&serde_json::json!({"limit": "per-batch", "rollup": "x"}));
    let e = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": "p", "call_ids": [], "limit": 0})),
        Some(&bad),
    )
    .unwrap_err();
    assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "literal_error"));
    let e = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": "p", "call_ids": [], "limit": -3})),
        Some(&per_batch),
    )
    .unwrap_err();
    assert_eq!((e.status, e.to_string().as_str()), (400, "400: body.limit: Usage aggregation limit must be positive"));
    // The option's values; the default rule keeps its 422 for limit < 1.
    let e = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": "p", "call_ids": ["a"]})),
        Some(&to_value(&serde_json::json!({"limit": 5}))),
    )
    .unwrap_err();
    assert_eq!((e.status, e.detail[0].msg.as_str()), (422, "Input should be 'cut' or 'per-batch'"));
    let cut = to_value(&serde_json::json!({"limit": "cut"}));
    let e = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": "p", "call_ids": ["a"], "limit": 0})),
        Some(&cut),
    )
    .unwrap_err();
    assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "greater_than_equal"));
    // Diagnostics: nothing is ever cut.
    let with = to_value(&serde_json::json!({"limit": "per-batch", "diagnostics": true}));
    let res = weave_usage::calls_usage_from_json(
        calls.as_bytes(),
        &to_value(&serde_json::json!({"project_id": "p", "call_ids": ["a"], "limit": 1})),
        Some(&with),
    )
    .unwrap();
    let res: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
    assert_eq!((res["diagnostics"]["calls_in_scope"].as_u64(), res["diagnostics"]["calls_cut_by_limit"].as_u64()), (Some(1), Some(0)));
}
