#![cfg(not(target_arch = "wasm32"))]
//! Every reference fixture through the native core, with the calls as a
//! JSON array and as JSON Lines, whole and streamed in random chunks (split
//! mid-line, mid-string, mid-UTF-8 sequence). The objects path is JS-side
//! and is tested through the package (tests/js, tests/wasm.rs).

mod common;

use common::{bodies, compare, detail_json, fixtures, request_as_sent, to_value};
use serde_json::Value as Json;
use weave_usage::{CallStream, CallsUsageRes, UsageError, Value};

/// The body pushed through a `CallStream` in chunks of random sizes (1 byte
/// to 64), as a `UsageAccumulator` receives a fetch body.
fn streamed(body: &[u8], request: &Value, seed: u64) -> Result<CallsUsageRes, UsageError> {
    // The request first, as callsUsageFromJson does, so errors compare equal.
    let prepared = weave_usage::prepare(request, None)?;
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    let mut stream = CallStream::new();
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = ((state % 64) as usize + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        stream.push(chunk)?;
        rest = tail;
    }
    weave_usage::compute(stream.finish()?, &prepared)
}

#[test]
fn there_are_76_fixtures() {
    assert_eq!(fixtures().len(), 76);
}

#[test]
fn every_fixture_through_every_path() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, f) in fixtures() {
        let request = to_value(&request_as_sent(&f));
        let calls = &f["calls"];
        let mut outcomes = Vec::new();
        for (form, body) in bodies(calls) {
            outcomes.push((form.to_string(), weave_usage::calls_usage_from_json(body.as_bytes(), &request, None)));
            for seed in 0..4 {
                outcomes.push((format!("{form} in random chunks (seed {seed})"), streamed(body.as_bytes(), &request, seed)));
            }
        }
        for (path, outcome) in outcomes {
            checked += 1;
            let verdict = match (&outcome, f.get("expected"), f.get("expected_error")) {
                (Ok(res), Some(want), _) => {
                    let got: Json = serde_json::from_str(&res.to_json().expect("the answer is written")).expect("response is JSON");
                    compare(&got, want, "")
                }
                (Err(e), _, Some(want)) if e.status == 422 => {
                    let got = detail_json(e);
                    if got == want["detail"] {
                        Ok(())
                    } else {
                        Err(format!("detail {got}, want {}", want["detail"]))
                    }
                }
                (Ok(res), _, Some(_)) => Err(format!("expected an error, got {:?}", res.to_json())),
                (Err(e), _, _) => Err(format!("unexpected error {e}")),
                _ => Err("fixture has neither expected nor expected_error".into()),
            };
            if let Err(why) = verdict {
                failures.push(format!("{name} via {path}: {why}"));
            }
        }
    }
    assert_eq!(checked, 76 * 10);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_comparison_can_fail() {
    use serde_json::json;
    assert!(compare(&json!({"a": 1}), &json!({"a": 2}), "").is_err());
    assert!(compare(&json!({"a": 1.0}), &json!({"a": 1.000001}), "").is_err());
    assert!(compare(&json!({"a": 1.0}), &json!({"a": 1.0000000000001}), "").is_ok());
    assert!(compare(&json!({"a": null}), &json!({"a": 0.0}), "").is_err());
    assert!(compare(&json!({"a": {}}), &json!({"b": {}}), "").is_err());
    assert!(compare(&json!(["x"]), &json!(["x", "y"]), "").is_err());
}
