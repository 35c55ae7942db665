#![cfg(not(target_arch = "wasm32"))]
//! The real-client corpus (tests/fixtures/client, made by
//! tests/gen/client_corpus.py: traces logged by Weave's Python client and the
//! same server's answers) through the native core: every `/calls/usage`
//! request and every `/trace/usage` request, with the calls as a JSON array
//! and as JSON Lines, whole and streamed in random chunks.
//!
//! Cases listed in `KNOWN_FAILURES` are expected to differ (each with the
//! reason); the test fails if one of them starts passing, so the list is
//! kept exact.

mod common;

use std::collections::BTreeMap;

use common::{bodies, compare, to_value};
use serde_json::Value as Json;
use weave_usage::{CallStream, UsageError, Value};

/// (fixture, request kind and index, reason). Kind is `usage` or `trace`.
const KNOWN_FAILURES: &[(&str, &str, usize, &str)] = &[];

fn corpus() -> Vec<(String, Json)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/client");
    let mut out: Vec<(String, Json)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/client")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.file_stem().is_some_and(|s| s != "coverage"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture readable");
            (p.file_stem().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).expect("fixture is JSON"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The next chunk size (1 to 64 bytes) of a seeded xorshift sequence.
fn chunk_sizes(seed: u64) -> impl FnMut() -> usize {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 64) as usize + 1
    }
}

/// The body pushed through a `CallStream` in random chunks, as a
/// `UsageAccumulator` receives a fetch body.
fn streamed(body: &[u8], seed: u64) -> CallStream {
    let mut next = chunk_sizes(seed);
    let mut stream = CallStream::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(next().min(rest.len()));
        stream.push(chunk).expect("the corpus reads");
        rest = tail;
    }
    stream
}

fn as_json(s: String) -> Json {
    serde_json::from_str(&s).expect("response is JSON")
}

/// One request's answer by each path: `*_from_json` on each body form, and
/// `compute`/`compute_trace` on the tables streamed from it (one table per
/// form and seed answers every request, as `finish` may be called again).
fn outcomes(
    bodies: &[(&str, String)],
    streams: &mut [(String, CallStream)],
    kind: &str,
    request: &Value,
) -> Vec<(String, Result<Json, String>)> {
    let mut out = Vec::new();
    for (form, body) in bodies {
        let whole = match kind {
            "usage" => weave_usage::calls_usage_from_json(body.as_bytes(), request, None).and_then(|r| r.to_json()).map(as_json),
            _ => weave_usage::trace_usage_from_json(body.as_bytes(), request, None).and_then(|r| r.to_json()).map(as_json),
        };
        out.push((form.to_string(), whole.map_err(|e: UsageError| e.to_string())));
    }
    for (path, stream) in streams.iter_mut() {
        let table = stream.finish().expect("the corpus reads");
        let got = match kind {
            "usage" => as_json(
                weave_usage::compute(table, &weave_usage::prepare(request, None).expect("valid request"))
                    .and_then(|r| r.to_json())
                    .expect("answered"),
            ),
            _ => as_json(
                weave_usage::compute_trace(table, &weave_usage::prepare_trace(request, None).expect("valid request"))
                    .and_then(|r| r.to_json())
                    .expect("answered"),
            ),
        };
        out.push((path.clone(), Ok(got)));
    }
    out
}

#[test]
fn the_corpus_is_here() {
    let all = corpus();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["agents", "agents-running", "evals", "mixed-projects", "pricing", "stream-open", "support"]);
    for (name, f) in &all {
        assert!(f["calls"].as_array().is_some_and(|c| !c.is_empty()), "{name}: calls");
        assert!(f["requests"].as_array().is_some_and(|r| r.len() >= 7), "{name}: requests");
        assert!(f["trace_requests"].as_array().is_some_and(|r| r.len() >= 6), "{name}: trace requests");
        assert!(f["provider_truth"].as_object().is_some_and(|t| !t.is_empty()), "{name}: provider truth");
    }
}

#[test]
fn every_request_through_every_path() {
    let mut passed: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    for (name, f) in corpus() {
        let bodies = bodies(&f["calls"]);
        let mut streams: Vec<(String, CallStream)> = Vec::new();
        for (form, body) in &bodies {
            for seed in 0..4 {
                streams.push((format!("{form} in random chunks"), streamed(body.as_bytes(), seed)));
            }
        }
        for kind in ["usage", "trace"] {
            let key = if kind == "usage" { "requests" } else { "trace_requests" };
            for (i, case) in f[key].as_array().unwrap().iter().enumerate() {
                let known = KNOWN_FAILURES.iter().find(|k| k.0 == name && k.1 == kind && k.2 == i);
                let request = to_value(&case["request"]);
                let mut failed_here = false;
                for (path, outcome) in outcomes(&bodies, &mut streams, kind, &request) {
                    let verdict = outcome.and_then(|got| compare(&got, &case["expected"], ""));
                    let path = format!("{kind}: {path}");
                    match verdict {
                        Ok(()) => *passed.entry(path).or_default() += 1,
                        Err(why) => {
                            failed_here = true;
                            if known.is_none() {
                                failures.push(format!("{name} {kind}[{i}] via {path}: {why}"));
                            }
                        }
                    }
                }
                if let Some(k) = known {
                    known_seen.push(*k);
                    assert!(failed_here, "{name} {kind}[{i}] is listed as a known failure but passes: remove it from KNOWN_FAILURES");
                }
            }
        }
    }
    eprintln!("client corpus, passes per path:");
    for (path, n) in &passed {
        eprintln!("  {path}: {n}");
    }
    assert_eq!(known_seen.len(), KNOWN_FAILURES.len(), "a KNOWN_FAILURES entry names no case");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn provider_truth_is_per_llm_call() {
    for (name, f) in corpus() {
        let calls: BTreeMap<&str, &Json> = f["calls"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap(), c)).collect();
        for (id, models) in f["provider_truth"].as_object().unwrap() {
            let op = calls.get(id.as_str()).unwrap_or_else(|| panic!("{name}: truth for {id}, not a call"))["op_name"].as_str().unwrap();
            assert!(op.contains("/op/openai.") || op.contains("/op/anthropic."), "{name}: {id} is {op}, not an LLM call");
            for (model, u) in models.as_object().unwrap() {
                assert!(u["requests"].as_i64() >= Some(1), "{name}: {id} {model}");
            }
        }
        for case in f["requests"].as_array().unwrap() {
            let asked: Vec<&str> = case["request"]["call_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            for root in case["provider_truth_rollup"].as_object().unwrap().keys() {
                assert!(asked.contains(&root.as_str()), "{name}: rollup for {root}, which was not asked for");
            }
        }
    }
}
