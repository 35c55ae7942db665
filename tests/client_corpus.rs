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

/// The six counters provider truth records, as the answer names them.
const COUNTERS: [&str; 6] =
    ["requests", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"];

/// Where `got` (an answer's models for one id) and `truth` (provider truth
/// for it) differ, counter by counter; a model absent on one side is zeros.
fn truth_differences(got: &Json, truth: &Json) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (got, truth) = (got.as_object().unwrap_or(&empty), truth.as_object().unwrap_or(&empty));
    let mut models: Vec<&String> = got.keys().chain(truth.keys()).collect();
    models.sort();
    models.dedup();
    let mut out = Vec::new();
    for m in models {
        for k in COUNTERS {
            let (g, t) = (got.get(m).map_or(0, |u| u[k].as_i64().unwrap_or(0)), truth.get(m).map_or(0, |u| u[k].as_i64().unwrap_or(0)));
            if g != t {
                out.push(format!("{m}.{k}: {g}, truth {t}"));
            }
        }
    }
    out
}

/// Sums provider-truth-like maps (model → counters) into `into`.
fn add_truth(into: &mut BTreeMap<String, [i64; 6]>, usage: &Json) {
    for (m, u) in usage.as_object().into_iter().flatten() {
        let t = into.entry(m.clone()).or_default();
        for (k, name) in COUNTERS.iter().enumerate() {
            t[k] += u[*name].as_i64().unwrap_or(0);
        }
    }
}

fn truth_json(t: &BTreeMap<String, [i64; 6]>) -> Json {
    let mut out = serde_json::Map::new();
    for (m, c) in t.iter().filter(|(_, c)| c.iter().any(|&x| x != 0)) {
        out.insert(m.clone(), COUNTERS.iter().zip(c).map(|(k, v)| (k.to_string(), Json::from(*v))).collect());
    }
    Json::Object(out)
}

/// A call's `summary.usage` read as the answer reads it, per model: prompt
/// with `input_tokens`, completion with `output_tokens`, total as given or
/// prompt + completion.
fn recorded(call: &Json) -> Json {
    let mut out = serde_json::Map::new();
    for (m, u) in call["summary"]["usage"].as_object().into_iter().flatten() {
        let n = |k: &str| u[k].as_i64().unwrap_or(0);
        let (p, c) = (n("prompt_tokens") + n("input_tokens"), n("completion_tokens") + n("output_tokens"));
        let total = if n("total_tokens") == 0 { p + c } else { n("total_tokens") };
        let v = [n("requests"), p, c, total, n("cache_read_input_tokens"), n("cache_creation_input_tokens")];
        if v.iter().any(|&x| x != 0) {
            out.insert(m.clone(), COUNTERS.iter().zip(v).map(|(k, v)| (k.to_string(), Json::from(v))).collect());
        }
    }
    Json::Object(out)
}

/// `rollup: "dedupe"` against provider truth, for every requested id of
/// every `/calls/usage` request.
///
/// Where the calls hold all the truth — every descendant of the id (through
/// `parent_id`, over every call given, deleted ones too) is in the
/// request's scope, and each LLM call recorded exactly what its provider
/// served — the answer must equal provider truth. Elsewhere no rollup of
/// the calls in scope can: the client recorded less than was served
/// (`messages.stream` logs no usage; an abandoned stream logs what it had
/// read), or a summary holds the usage of descendants outside the scope
/// (deleted, or cut by `limit`). There each counter must lie between
/// provider truth over the scope and the whole subtree's recorded usage
/// (each LLM call once, as it recorded it, the scope ignored): what the
/// calls' summaries hold, and nothing counted twice.
#[test]
fn dedupe_equals_provider_truth() {
    let options = to_value(&serde_json::json!({"rollup": "dedupe"}));
    let (mut exact, mut total, mut complete, mut beyond, mut as_recorded) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for (name, f) in corpus() {
        let body = serde_json::to_string(&f["calls"]).unwrap();
        let truth = &f["provider_truth"];
        // The last copy of each id, and children by parent.
        let calls: BTreeMap<&str, &Json> = f["calls"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap(), c)).collect();
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (id, c) in &calls {
            if let Some(p) = c["parent_id"].as_str() {
                children.entry(p).or_default().push(id);
            }
        }
        for (i, case) in f["requests"].as_array().unwrap().iter().enumerate() {
            let res = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(&case["request"]), Some(&options)).expect("answered");
            let res: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
            for (id, want) in case["provider_truth_rollup"].as_object().unwrap() {
                total += 1;
                let got = &res["call_usage"][id];
                // The id's whole subtree over every call given.
                let mut subtree = vec![id.as_str()];
                let mut at = 0;
                while let Some(&c) = subtree.get(at) {
                    subtree.extend(children.get(c).into_iter().flatten());
                    at += 1;
                }
                let mut whole_truth = BTreeMap::new();
                let mut whole_recorded = BTreeMap::new();
                let mut lossless = true;
                for c in &subtree {
                    if let Some(t) = truth.get(*c) {
                        add_truth(&mut whole_truth, t);
                        let r = recorded(calls[c]);
                        lossless &= truth_differences(&r, t).is_empty();
                        add_truth(&mut whole_recorded, &r);
                    }
                }
                let in_scope = truth_differences(&truth_json(&whole_truth), want).is_empty();
                let diff = truth_differences(got, want);
                if diff.is_empty() {
                    exact += 1;
                }
                if lossless && in_scope {
                    complete += 1;
                    if !diff.is_empty() {
                        failures.push(format!("{name} requests[{i}] {id}: {}", diff.join("; ")));
                    }
                } else {
                    beyond += 1;
                    let whole = truth_json(&whole_recorded);
                    if truth_differences(got, &whole).is_empty() {
                        as_recorded += 1;
                    }
                    let empty = serde_json::Map::new();
                    let models = |j: &Json| j.as_object().unwrap_or(&empty).keys().cloned().collect::<Vec<_>>();
                    for m in models(got).into_iter().chain(models(want)).chain(models(&whole)) {
                        for k in COUNTERS {
                            let n = |j: &Json| j[&m][k].as_i64().unwrap_or(0);
                            let (g, a, b) = (n(got), n(want), n(&whole));
                            if g < a.min(b) || g > a.max(b) {
                                failures.push(format!(
                                    "{name} requests[{i}] {id} {m}.{k}: {g}, not between {a} (truth in scope) and {b} (recorded)"
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "dedupe equals provider truth on {exact} of {total} requested ids: {complete} of {complete} with all the truth in the calls in \
         scope; of the {beyond} others, {} exact, {as_recorded} equal to the subtree's recorded usage",
        exact - complete
    );
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
    assert_eq!((total, complete), (155, 108), "the corpus changed: check these counts");
}

/// Diagnostics on real traces, over each project whole (`/trace/usage`,
/// costs read from the calls, and `prices: []` so that `unpriced_models`
/// is reported): `prompt_and_input_tokens` stays silent where only the
/// client's sums hold both (a parent of a Chat API and a Responses API
/// call), `negative_costs` names exactly the calls whose stored costs are
/// negative, and `unpriced_models` lists only models that have usage
/// without stored costs.
#[test]
fn diagnostics_are_true_on_real_traces() {
    let options = to_value(&serde_json::json!({"diagnostics": true, "prices": []}));
    let (mut negative, mut both_as_sums) = (0, 0);
    for (name, f) in corpus() {
        let body = serde_json::to_string(&f["calls"]).unwrap();
        let mut last: BTreeMap<&str, &Json> = BTreeMap::new();
        for c in f["calls"].as_array().unwrap() {
            if c["deleted_at"].is_null() {
                last.insert(c["id"].as_str().unwrap(), c);
            } else {
                last.remove(c["id"].as_str().unwrap());
            }
        }
        for project in f["projects"].as_array().unwrap() {
            let request = serde_json::json!({"project_id": project, "include_costs": true, "limit": 100_000});
            let res = weave_usage::trace_usage_from_json(body.as_bytes(), &to_value(&request), Some(&options)).expect("answered");
            let d: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
            let d = &d["diagnostics"];
            let mut want_negative = Vec::new();
            let mut want_unpriced = Vec::new();
            for (id, c) in last.iter().filter(|(_, c)| c["project_id"] == *project) {
                let costs = &c["summary"]["weave"]["costs"];
                for (model, u) in c["summary"]["usage"].as_object().into_iter().flatten() {
                    let n = |k: &str| u[k].as_i64().unwrap_or(0);
                    if n("prompt_tokens") != 0 && n("input_tokens") != 0 {
                        both_as_sums += 1;
                    }
                    if costs[model].is_object() {
                        for field in [
                            "prompt_tokens_total_cost",
                            "completion_tokens_total_cost",
                            "cache_read_input_tokens_total_cost",
                            "cache_creation_input_tokens_total_cost",
                        ] {
                            if costs[model][field].as_f64().is_some_and(|x| x < 0.0) {
                                want_negative.push(serde_json::json!({"call_id": id, "model": model, "field": field}));
                            }
                        }
                    } else if !recorded(c)[model].is_null() {
                        want_unpriced.push(model.clone());
                    }
                }
            }
            negative += want_negative.len();
            want_unpriced.sort();
            want_unpriced.dedup();
            assert_eq!(d["prompt_and_input_tokens"], serde_json::json!([]), "{name} {project}");
            assert_eq!(d["negative_costs"], Json::Array(want_negative), "{name} {project}");
            assert_eq!(d["unpriced_models"], serde_json::json!(want_unpriced), "{name} {project}");
        }
    }
    eprintln!("diagnostics: {negative} negative stored costs named; {both_as_sums} entries holding both prompt and input tokens, all client sums, none reported");
    assert!(negative > 0 && both_as_sums > 0, "the corpus has both situations");
}

/// Usage stats (docs/stats.md) on real client traces: each call's own usage
/// counted once, so the stats summed over every bucket equal, per model and
/// counter, the `rollup: "dedupe"` totals of every root of the project
/// (from `/calls/usage`); with `trace_roots_only` too. Roots: live calls
/// whose parent is not a live call of the project.
#[test]
fn stats_count_what_the_dedupe_totals_of_all_roots_count() {
    let options = to_value(&serde_json::json!({"rollup": "dedupe"}));
    let mut checked = 0;
    for (name, f) in corpus() {
        let calls = f["calls"].as_array().unwrap();
        let body: String = calls.iter().map(|c| c.to_string() + "\n").collect();
        let mut projects: Vec<&str> = calls.iter().filter_map(|c| c["project_id"].as_str()).collect();
        projects.sort();
        projects.dedup();
        for project in projects {
            let live: Vec<&Json> =
                calls.iter().filter(|c| c["deleted_at"].is_null() && (c["project_id"].is_null() || c["project_id"] == project)).collect();
            let ids: std::collections::BTreeSet<&str> = live.iter().map(|c| c["id"].as_str().unwrap()).collect();
            let roots: Vec<&str> = live
                .iter()
                .filter(|c| c["parent_id"].as_str().is_none_or(|p| p.is_empty() || !ids.contains(p)))
                .map(|c| c["id"].as_str().unwrap())
                .collect();
            let request = to_value(&serde_json::json!({"project_id": project, "call_ids": roots, "limit": 1_000_000}));
            let usage = as_json(weave_usage::calls_usage_from_json(body.as_bytes(), &request, Some(&options)).unwrap().to_json().unwrap());
            let mut want = BTreeMap::new();
            for models in usage["call_usage"].as_object().unwrap().values() {
                add_truth(&mut want, models);
            }
            for filter in [serde_json::json!({}), serde_json::json!({"trace_roots_only": true})] {
                let req = serde_json::json!({"project_id": project, "group_by": ["model"], "granularity": "hour", "filter": filter});
                let req = weave_usage::stats_request_from_json(req.to_string().as_bytes()).unwrap();
                let stats = as_json(weave_usage::usage_stats_from_json(body.as_bytes(), &req, None).unwrap().to_json().unwrap());
                let mut got = BTreeMap::new();
                for row in stats["usage_buckets"].as_array().unwrap() {
                    let model = row["model"].as_str().unwrap().to_string();
                    add_truth(&mut got, &serde_json::json!({ model: row }));
                }
                assert_eq!(truth_json(&got), truth_json(&want), "{name} {project} {filter}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 14, "{checked} cases");
}
