#![cfg(not(target_arch = "wasm32"))]
//! Property tests: random call forests (orphans, cycles, self-parents,
//! duplicate and hostile ids, deleted calls, other projects, unreadable
//! timestamps, random `limit`) against a deliberately naive recursive oracle
//! written from the contract's words, plus invariants across input forms.

mod common;
mod harness;

use std::collections::{BTreeMap, HashSet};

use common::{compare, to_value};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const IDS: [&str; 9] = ["a", "b", "c", "d", "e", "__proto__", "toString", "x y", ""];
const MODELS: [&str; 3] = ["gpt-4o", "claude", "constructor"];
const STARTS: [Option<&str>; 6] = [
    Some("2025-01-01T00:00:00Z"),
    Some("2025-01-01T01:00:00+01:00"), // the same instant as the first
    Some("2025-01-01T00:00:00.5Z"),
    Some("2024-12-31T20:00:01-04:00"),
    Some("not a time"),
    None,
];

fn arb_usage() -> impl Strategy<Value = Json> {
    prop::collection::vec((0..MODELS.len(), prop::array::uniform6(0i64..4), prop::array::uniform2(0u8..3)), 0..3).prop_map(|entries| {
        let mut usage = serde_json::Map::new();
        let mut costs = serde_json::Map::new();
        for (m, t, c) in entries {
            usage.insert(
                MODELS[m].into(),
                json!({"requests": t[0], "prompt_tokens": t[1], "input_tokens": t[2], "completion_tokens": t[3], "total_tokens": t[4], "cache_read_input_tokens": t[5]}),
            );
            costs.insert(MODELS[m].into(), json!({"prompt_tokens_total_cost": f64::from(c[0]) * 0.1, "completion_tokens_total_cost": f64::from(c[1]) * 0.01}));
        }
        json!({"usage": usage, "weave": {"costs": costs}})
    })
}

fn arb_call() -> impl Strategy<Value = Json> {
    (
        0..IDS.len(),
        0..2usize,
        prop::option::of(0..IDS.len() + 2),
        0..4usize,
        0..STARTS.len(),
        any::<bool>(),
        prop::bool::weighted(0.15),
        arb_usage(),
    )
        .prop_map(|(id, trace, parent, project, start, ended, deleted, summary)| {
            let parent = parent.map(|p| match p {
                p if p < IDS.len() => IDS[p],
                p if p == IDS.len() => "",
                _ => "nowhere",
            });
            let trace = ["t1", "t2"][trace];
            let mut c = json!({"id": IDS[id], "trace_id": trace, "parent_id": parent, "summary": summary});
            match project {
                0 => {}
                1 => c["project_id"] = json!("other"),
                _ => c["project_id"] = json!("p"),
            }
            if let Some(s) = STARTS[start] {
                c["started_at"] = json!(s);
            }
            if ended {
                c["ended_at"] = json!("2025-01-02T00:00:00Z");
            }
            if deleted {
                c["deleted_at"] = json!("2025-01-02T00:00:00Z");
            }
            c
        })
}

fn arb_request() -> impl Strategy<Value = Json> {
    (prop::collection::vec(0..IDS.len() + 1, 0..5), any::<bool>(), 1u64..25).prop_map(|(ids, costs, limit)| {
        let ids: Vec<&str> = ids.into_iter().map(|i| IDS.get(i).copied().unwrap_or("missing")).collect();
        json!({"project_id": "p", "call_ids": ids, "include_costs": costs, "limit": limit})
    })
}

// ---- The oracle: the contract, read literally, with plain recursion. ----

fn s<'a>(c: &'a Json, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Json::as_str)
}

fn instant(c: &Json) -> Option<i64> {
    // The generator only produces these forms.
    match s(c, "started_at")? {
        "2025-01-01T00:00:00Z" | "2025-01-01T01:00:00+01:00" => Some(0),
        "2025-01-01T00:00:00.5Z" => Some(500_000),
        "2024-12-31T20:00:01-04:00" => Some(1_000_000),
        _ => None,
    }
}

type Usage = BTreeMap<String, ([i64; 6], [f64; 4])>;

fn own_usage(c: &Json, include_costs: bool) -> Usage {
    let mut out = Usage::new();
    let Some(usage) = c["summary"]["usage"].as_object() else { return out };
    for (model, u) in usage {
        let int = |k: &str| u.get(k).and_then(Json::as_i64).unwrap_or(0);
        let prompt = int("prompt_tokens") + int("input_tokens");
        let completion = int("completion_tokens") + int("output_tokens");
        let total = if int("total_tokens") == 0 { prompt + completion } else { int("total_tokens") };
        let tokens = [int("requests"), prompt, completion, total, int("cache_read_input_tokens"), int("cache_creation_input_tokens")];
        let cost = |k: &str| c["summary"]["weave"]["costs"][model.as_str()][k].as_f64().unwrap_or(0.0);
        let costs = if include_costs {
            [
                cost("prompt_tokens_total_cost"),
                cost("completion_tokens_total_cost"),
                cost("cache_read_input_tokens_total_cost"),
                cost("cache_creation_input_tokens_total_cost"),
            ]
        } else {
            [0.0; 4]
        };
        if tokens.iter().any(|&t| t != 0) || costs.iter().any(|&x| x != 0.0) {
            out.insert(model.clone(), (tokens, costs));
        }
    }
    out
}

fn add(into: &mut Usage, from: &Usage) {
    for (m, (t, c)) in from {
        let e = into.entry(m.clone()).or_insert(([0; 6], [0.0; 4]));
        for (sum, x) in e.0.iter_mut().zip(t) {
            *sum += x;
        }
        for (sum, x) in e.1.iter_mut().zip(c) {
            *sum += x;
        }
    }
}

fn oracle(calls: &[Json], request: &Json) -> Json {
    let project = request["project_id"].as_str().unwrap();
    let include_costs = request["include_costs"].as_bool().unwrap();
    let limit = request["limit"].as_u64().unwrap() as usize;
    let mut requested: Vec<&str> = Vec::new();
    for id in request["call_ids"].as_array().unwrap() {
        let id = id.as_str().unwrap();
        if !requested.contains(&id) {
            requested.push(id);
        }
    }
    if requested.is_empty() {
        return json!({"call_usage": {}, "unfinished_call_ids": []});
    }
    // Live calls; a later duplicate replaces an earlier one.
    let mut live: Vec<&Json> = Vec::new();
    for c in calls {
        let other = s(c, "project_id").is_some_and(|p| p != project);
        if s(c, "deleted_at").is_some() || other {
            continue;
        }
        match live.iter().position(|l| s(l, "id") == s(c, "id")) {
            Some(i) => live[i] = c,
            None => live.push(c),
        }
    }
    let traces: HashSet<&str> =
        live.iter().filter(|c| requested.contains(&s(c, "id").unwrap())).map(|c| s(c, "trace_id").unwrap()).collect();
    if traces.is_empty() {
        let empty: serde_json::Map<String, Json> = requested.iter().map(|id| (id.to_string(), json!({}))).collect();
        return json!({"call_usage": empty, "unfinished_call_ids": []});
    }
    let mut scope: Vec<&Json> = live.into_iter().filter(|c| traces.contains(s(c, "trace_id").unwrap())).collect();
    scope.sort_by(|a, b| {
        let key = |c: &Json| (instant(c).is_none(), instant(c), s(c, "id").unwrap().to_string());
        key(a).cmp(&key(b))
    });
    scope.truncate(limit);

    let parent = |c: &Json| -> Option<usize> {
        let p = s(c, "parent_id").filter(|p| !p.is_empty())?;
        scope.iter().position(|x| s(x, "id") == Some(p))
    };
    let on_cycle = |start: usize| {
        let mut at = start;
        for _ in 0..scope.len() {
            match parent(scope[at]) {
                Some(p) if p == start => return true,
                Some(p) => at = p,
                None => return false,
            }
        }
        false
    };
    // A call's total: its own usage plus the totals of its children that are
    // not on a cycle (those are never absorbed).
    fn total(i: usize, scope: &[&Json], parent: &dyn Fn(&Json) -> Option<usize>, on_cycle: &dyn Fn(usize) -> bool, costs: bool) -> Usage {
        let mut u = own_usage(scope[i], costs);
        for (j, c) in scope.iter().enumerate() {
            if parent(c) == Some(i) && !on_cycle(j) {
                add(&mut u, &total(j, scope, parent, on_cycle, costs));
            }
        }
        u
    }
    let mut by_id = serde_json::Map::new();
    for id in &requested {
        let usage = match scope.iter().position(|c| s(c, "id") == Some(id)) {
            None => json!({}),
            Some(i) => {
                let u = total(i, &scope, &parent, &on_cycle, include_costs);
                let models: serde_json::Map<String, Json> = u
                    .into_iter()
                    .map(|(m, (t, c))| {
                        let cost = |x: f64| if include_costs { json!(x) } else { Json::Null };
                        (
                            m,
                            json!({
                                "requests": t[0], "prompt_tokens": t[1], "completion_tokens": t[2], "total_tokens": t[3],
                                "cache_read_input_tokens": t[4], "cache_creation_input_tokens": t[5],
                                "prompt_tokens_total_cost": cost(c[0]), "completion_tokens_total_cost": cost(c[1]),
                                "cache_read_input_tokens_total_cost": cost(c[2]), "cache_creation_input_tokens_total_cost": cost(c[3]),
                            }),
                        )
                    })
                    .collect();
                Json::Object(models)
            }
        };
        by_id.insert(id.to_string(), usage);
    }
    let mut unfinished: Vec<&str> = scope.iter().filter(|c| s(c, "ended_at").is_none()).map(|c| s(c, "id").unwrap()).collect();
    unfinished.sort();
    unfinished.dedup();
    json!({"call_usage": by_id, "unfinished_call_ids": unfinished})
}

// ---- The library, through every input form. ----

/// The calls as a JSON array body.
fn via_array(calls: &[Json], request: &Json) -> Json {
    via_bytes(&serde_json::to_string(calls).unwrap(), request)
}

fn via_bytes(body: &str, request: &Json) -> Json {
    let res = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(request), None).expect("valid input");
    serde_json::from_str(&res.to_json().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn matches_the_naive_oracle(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request()) {
        let got = via_array(&calls, &request);
        let want = oracle(&calls, &request);
        prop_assert!(compare(&got, &want, "").is_ok(), "{:?}\ngot  {got}\nwant {want}", compare(&got, &want, ""));
    }

    #[test]
    fn every_input_form_gives_the_same_answer(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request(), cuts in prop::collection::vec(0usize..1000, 1..8)) {
        let array = via_array(&calls, &request);
        let lines: Vec<String> = calls.iter().map(Json::to_string).collect();
        let jsonl = via_bytes(&(lines.join("\r\n") + "\n\n"), &request);
        let pretty = via_bytes(&serde_json::to_string_pretty(&calls).unwrap(), &request);
        prop_assert_eq!(&array, &jsonl);
        prop_assert_eq!(&array, &pretty);
        // Streamed in chunks cut at arbitrary points.
        let body = lines.join("\n");
        let mut stream = weave_usage::CallStream::new();
        let mut rest = body.as_bytes();
        let mut k = 0;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at((cuts[k % cuts.len()] % 40 + 1).min(rest.len()));
            stream.push(chunk).unwrap();
            rest = tail;
            k += 1;
        }
        let res = weave_usage::compute(stream.finish().unwrap(), &weave_usage::prepare(&to_value(&request), None).unwrap()).unwrap();
        let streamed: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
        prop_assert_eq!(&array, &streamed);
    }

    #[test]
    fn input_order_does_not_matter_without_duplicate_ids(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request(), seed in any::<u64>()) {
        let mut seen = HashSet::new();
        let mut unique: Vec<Json> = calls.into_iter().filter(|c| seen.insert(c["id"].as_str().unwrap().to_string())).collect();
        let before = via_array(&unique, &request);
        shuffle(&mut unique, seed);
        let after = via_array(&unique, &request);
        prop_assert!(compare(&after, &before, "").is_ok());
    }

    #[test]
    fn roots_conserve_the_usage_of_an_acyclic_forest(parents in prop::collection::vec(prop::option::of(0usize..40), 1..40), usage in prop::collection::vec(arb_usage(), 40)) {
        // Call i's parent is an earlier call (so no cycles), or none, or an
        // id that is not there (an orphan, hence a root).
        let calls: Vec<Json> = parents.iter().enumerate().map(|(i, p)| {
            let parent = match p { Some(p) if *p < i => json!(format!("c{p}")), Some(_) => json!("gone"), None => Json::Null };
            json!({"id": format!("c{i}"), "trace_id": "t", "parent_id": parent, "ended_at": "x", "summary": usage[i]})
        }).collect();
        let ids: Vec<String> = (0..calls.len()).map(|i| format!("c{i}")).collect();
        let request = json!({"project_id": "p", "call_ids": ids, "include_costs": true, "limit": 1000});
        let res = via_array(&calls, &request);
        let roots = parents.iter().enumerate().filter(|(i, p)| !matches!(p, Some(p) if p < i)).map(|(i, _)| format!("c{i}"));
        let mut by_roots = Usage::new();
        for r in roots {
            for (m, u) in res["call_usage"][r.as_str()].as_object().unwrap() {
                let t: Vec<i64> = ["requests", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"].iter().map(|k| u[*k].as_i64().unwrap()).collect();
                let c: Vec<f64> = ["prompt_tokens_total_cost", "completion_tokens_total_cost", "cache_read_input_tokens_total_cost", "cache_creation_input_tokens_total_cost"].iter().map(|k| u[*k].as_f64().unwrap()).collect();
                add(&mut by_roots, &BTreeMap::from([(m.clone(), (t.try_into().unwrap(), c.try_into().unwrap()))]));
            }
        }
        let mut own = Usage::new();
        for c in &calls {
            add(&mut own, &own_usage(c, true));
        }
        prop_assert_eq!(by_roots.keys().collect::<Vec<_>>(), own.keys().collect::<Vec<_>>());
        for (m, (t, c)) in &own {
            prop_assert_eq!(&by_roots[m].0, t);
            for (got, want) in by_roots[m].1.iter().zip(c) {
                prop_assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0));
            }
        }
    }
}

/// A body's answer (or error) for `request` with `options`, from `table`.
fn answer_of(table: &weave_usage::internals::CallTable, request: &Json, options: &Json) -> Result<String, weave_usage::UsageError> {
    let prepared = weave_usage::prepare(&to_value(request), Some(&to_value(options)))?;
    weave_usage::compute(table, &prepared)?.to_json()
}

/// Key orders of a call: Weave's; every other string field before the ids;
/// `summary` first.
const ORDERS: [[&str; 8]; 3] = [
    ["id", "project_id", "trace_id", "parent_id", "started_at", "ended_at", "summary", "deleted_at"],
    ["parent_id", "project_id", "started_at", "ended_at", "deleted_at", "id", "trace_id", "summary"],
    ["summary", "deleted_at", "ended_at", "started_at", "project_id", "parent_id", "trace_id", "id"],
];

/// A call as one JSON line with its keys in `order`.
fn in_order(call: &Json, order: &[&str]) -> String {
    let members: Vec<String> = order.iter().filter_map(|k| call.get(k).map(|v| format!("{}:{v}", Json::from(*k)))).collect();
    assert_eq!(members.len(), call.as_object().map_or(0, |o| o.len()), "every key of a generated call is in the order");
    format!("{{{}}}", members.join(","))
}

/// The options the reading for one request must answer alike under:
/// diagnostics count every live copy of an id in scope, and the
/// per-batch rule batches the requested traces.
fn options_of(diagnostics: bool, per_batch: bool) -> Json {
    let mut options = json!({"diagnostics": diagnostics});
    if per_batch {
        options["limit"] = json!("per-batch");
    }
    options
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Reading in full only the calls a request can reach
    /// (`CallStream::for_calls`): whenever its table says it is complete,
    /// it answers exactly as the table of every call; and the one-call API,
    /// which falls back to reading every call otherwise, always does.
    /// Bodies in random order, so that a trace's calls often come before
    /// its requested call (not complete) and often after it (complete).
    #[test]
    fn reading_what_a_request_reaches_answers_as_reading_all(
        calls in prop::collection::vec(arb_call(), 0..24),
        request in arb_request(),
        diagnostics in any::<bool>(),
        per_batch in any::<bool>(),
        order in 0..3usize,
    ) {
        // Keys in Weave's order (a call reached is read in full from its
        // trace id on), with the other string fields before the ids (held,
        // then read), or with `summary` first (a call reached is read again
        // from its start).
        let body = calls.iter().map(|c| in_order(c, &ORDERS[order])).collect::<Vec<_>>().join("\n");
        let options = options_of(diagnostics, per_batch);
        let mut all = weave_usage::CallStream::new();
        all.push(body.as_bytes()).unwrap();
        let want = answer_of(all.finish().unwrap(), &request, &options);

        let ids: Vec<String> = request["call_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let mut some = weave_usage::CallStream::for_calls(&ids).unwrap();
        some.push(body.as_bytes()).unwrap();
        let table = some.finish().unwrap();
        if table.complete() {
            prop_assert_eq!(&answer_of(table, &request, &options), &want);
        }
        let once = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(&request), Some(&to_value(&options))).and_then(|r| r.to_json());
        prop_assert_eq!(once, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Shards of a body cut between calls, each read for one request's
    /// calls alone (`CallStream::for_calls_from_middle`), then merged as
    /// weave-usage/parallel merges them: the traces of the requested ids,
    /// the ids of their calls, and each shard that did not read all of
    /// those (`read_all_of`) read again in full, until none; the parts of
    /// those traces and ids, imported in order, answer as every call does.
    #[test]
    fn shards_read_for_one_request_merge_as_reading_all(
        calls in prop::collection::vec(arb_call(), 1..24),
        cuts in prop::collection::btree_set(1..24usize, 0..4),
        request in arb_request(),
        order in 0..3usize,
    ) {
        let lines: Vec<String> = calls.iter().map(|c| in_order(c, &ORDERS[order])).collect();
        let options = options_of(false, false);
        let mut all = weave_usage::CallStream::new();
        all.push(lines.join("\n").as_bytes()).unwrap();
        let want = answer_of(all.finish().unwrap(), &request, &options);

        let ids: Vec<String> = request["call_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < lines.len()).collect();
        bounds.insert(0, 0);
        bounds.push(lines.len());
        let shard_bodies: Vec<String> = bounds.windows(2).map(|w| lines[w[0]..w[1]].join("\n")).collect();
        let shards: Vec<&[u8]> = shard_bodies.iter().map(|b| b.as_bytes()).collect();
        let (merged, _) = harness::merged_for_request(&shards, &ids).unwrap();
        prop_assert_eq!(answer_of(&merged, &request, &options), want);
    }
}

/// What `for_calls` reads and when it says it has read enough: a trace's
/// calls after its requested root are read and the rest passed over; a
/// call passed over before its trace (or its id) became wanted makes the
/// table incomplete, and the one-call API still answers as for every call.
#[test]
fn a_request_reads_its_traces_and_tells_when_it_passed_one_over() {
    let call = |id: &str, trace: &str, parent: Option<&str>| {
        json!({"id": id, "trace_id": trace, "parent_id": parent, "started_at": "2025-01-01T00:00:00Z", "summary": {"usage": {"m": {"requests": 1}}}}).to_string()
    };
    let read = |lines: &[String], ids: &[&str]| {
        let mut stream = weave_usage::CallStream::for_calls(&ids.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        stream.push(lines.join("\n").as_bytes()).unwrap();
        let table = stream.finish().unwrap();
        (table.calls().len(), table.complete())
    };
    let root_first = [call("r", "t", None), call("x", "u", None), call("c", "t", Some("r")), call("y", "u", Some("x"))];
    assert_eq!(read(&root_first, &["r"]), (2, true), "r and c read, the other trace passed over");
    assert_eq!(read(&root_first, &["nothing"]), (0, true));
    // The child is requested: the root came before it, passed over.
    assert_eq!(read(&root_first, &["c"]), (1, false));
    // An earlier copy of a call read in full, passed over: a duplicate the
    // diagnostics count.
    let copy_first = [call("c", "u", None), call("r", "t", None), call("c", "t", Some("r"))];
    assert_eq!(read(&copy_first, &["r"]), (2, false));
    // A later copy is read in full, whatever its trace.
    let copy_later = [call("r", "t", None), call("c", "t", Some("r")), call("c", "u", None)];
    assert_eq!(read(&copy_later, &["r"]), (3, true));
    for (lines, ids) in [(&root_first[..], "c"), (&copy_first[..], "r")] {
        let body = lines.join("\n");
        let request = json!({"project_id": "p", "call_ids": [ids], "include_costs": false, "limit": 100});
        let options = json!({"diagnostics": true});
        let mut all = weave_usage::CallStream::new();
        all.push(body.as_bytes()).unwrap();
        let want = answer_of(all.finish().unwrap(), &request, &options).unwrap();
        let once = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(&request), Some(&to_value(&options))).unwrap();
        assert_eq!(once.to_json().unwrap(), want);
    }
}

/// A call that a request does not reach but that is malformed (a later
/// duplicate key, a wrong type, bad JSON past its ids) is reported exactly
/// as when every call is read in full.
#[test]
fn a_call_passed_over_is_still_checked() {
    let ok = r#"{"id":"r","trace_id":"t","summary":{"usage":{"m":{"requests":1}}}}"#;
    let request = json!({"project_id": "p", "call_ids": ["r"]});
    for bad in [
        r#"{"id":"x","trace_id":"u","id":null}"#,
        r#"{"id":"x","trace_id":"u","trace_id":7}"#,
        r#"{"id":"x","trace_id":"u","parent_id":{}}"#,
        r#"{"id":"x","trace_id":"u","summary":[]}"#,
        r#"{"id":"x","trace_id":"u","deleted_at":1}"#,
        r#"{"id":"x","trace_id":"u","project_id":5}"#,
        r#"{"id":"x","trace_id":"u","started_at":[]}"#,
        r#"{"id":"x","trace_id":"u","ended_at":{}}"#,
        r#"{"project_id":true,"started_at":1,"id":"x","trace_id":"u"}"#,
        r#"{"id":"x","trace_id":"u","inputs":{"a":[1,}}"#,
        r#"{"id":"x","trace_id":"u","summary":{"usage":{"m":{"requests":01}}}}"#,
        r#"{"id":"x","trace_id":"u","output":"\x"}"#,
        r#"{"trace_id":"u"}"#,
    ] {
        let body = format!("{ok}\n{bad}\n{ok}");
        let mut all = weave_usage::CallStream::new();
        let want = all.push(body.as_bytes()).and_then(|()| all.finish().map(|_| ())).expect_err(bad);
        let got = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(&request), None).expect_err(bad);
        assert_eq!(got, want, "{bad}");
    }
}

/// `/calls/usage` with options, as JSON.
fn with_options(calls: &[Json], request: &Json, options: Json) -> Json {
    let body = serde_json::to_string(calls).unwrap();
    let res = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(request), Some(&to_value(&options))).expect("valid input");
    serde_json::from_str(&res.to_json().unwrap()).unwrap()
}

const COUNTERS: [&str; 6] =
    ["requests", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn dedupe_never_adds_and_changes_nothing_unless_a_call_covers(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request()) {
        let reference = via_array(&calls, &request);
        let mut dedupe = with_options(&calls, &request, json!({"rollup": "dedupe", "diagnostics": true}));
        let deduped = dedupe["diagnostics"]["deduped_call_ids"].as_array().unwrap().len();
        dedupe.as_object_mut().unwrap().remove("diagnostics");
        if deduped == 0 {
            // Same sums in the same order: identical, costs included.
            prop_assert_eq!(&dedupe, &reference);
        }
        // The generator's counters are never negative, so dedupe only removes.
        for (id, models) in dedupe["call_usage"].as_object().unwrap() {
            for (model, u) in models.as_object().unwrap() {
                for k in COUNTERS {
                    prop_assert!(u[k].as_i64() <= reference["call_usage"][id][model][k].as_i64(), "{id} {model} {k}");
                }
            }
        }
        prop_assert_eq!(&dedupe["unfinished_call_ids"], &reference["unfinished_call_ids"]);
    }

    #[test]
    fn dedupe_counts_a_locally_summed_tree_once(parents in prop::collection::vec(prop::option::of(0usize..30), 1..30), own in prop::collection::vec((0..MODELS.len(), prop::array::uniform4(0i64..5)), 30)) {
        // As Weave's client reports a trace run in one process: each call's
        // summary.usage is its own LLM usage plus its children's summaries.
        let n = parents.len();
        let parent: Vec<Option<usize>> = parents.iter().enumerate().map(|(i, p)| p.filter(|p| *p < i)).collect();
        let mut summary: Vec<Usage> = (0..n)
            .map(|i| {
                let (m, t) = own[i];
                let tokens = [t[0], t[1], t[2], t[1] + t[2], t[3], 0];
                if tokens.iter().all(|&x| x == 0) { Usage::new() } else { BTreeMap::from([(MODELS[m].to_string(), (tokens, [0.0; 4]))]) }
            })
            .collect();
        let llm = summary.clone();
        // Children come after their parents: sum from the last call back.
        for i in (0..n).rev() {
            if let Some(p) = parent[i] {
                let child = summary[i].clone();
                add(&mut summary[p], &child);
            }
        }
        let calls: Vec<Json> = (0..n).map(|i| {
            let usage: serde_json::Map<String, Json> = summary[i].iter().map(|(m, (t, _))| (m.clone(), json!({"requests": t[0], "prompt_tokens": t[1], "completion_tokens": t[2], "cache_read_input_tokens": t[4]}))).collect();
            json!({"id": format!("c{i}"), "trace_id": "t", "parent_id": parent[i].map(|p| format!("c{p}")), "ended_at": "x", "summary": {"usage": usage}})
        }).collect();
        let roots: Vec<String> = (0..n).filter(|&i| parent[i].is_none()).map(|i| format!("c{i}")).collect();
        let request = json!({"project_id": "p", "call_ids": roots, "limit": 1000});
        let res = with_options(&calls, &request, json!({"rollup": "dedupe"}));
        for r in (0..n).filter(|&i| parent[i].is_none()) {
            // The root's total is the LLM usage of its tree, each call once.
            let mut want = Usage::new();
            for i in (0..n).filter(|&i| { let mut a = i; while let Some(p) = parent[a] { a = p; } a == r }) {
                add(&mut want, &llm[i]);
            }
            let got = res["call_usage"][format!("c{r}")].as_object().unwrap();
            prop_assert_eq!(got.len(), want.len());
            for (m, (t, _)) in &want {
                for (k, name) in COUNTERS.iter().enumerate() {
                    prop_assert_eq!(got[m][*name].as_i64(), Some(t[k]), "c{} {} {}", r, m, name);
                }
            }
        }
    }

    #[test]
    fn trace_usage_agrees_with_calls_usage_call_by_call(calls in prop::collection::vec(arb_call(), 0..24), costs in any::<bool>(), limit in 1u64..25) {
        let body = serde_json::to_string(&calls).unwrap();
        for trace in ["t1", "t2"] {
            let request = json!({"project_id": "p", "filter": {"trace_ids": [trace]}, "include_costs": costs, "limit": limit});
            let res = weave_usage::trace_usage_from_json(body.as_bytes(), &to_value(&request), None).expect("valid input");
            let traced: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
            for (id, usage) in traced["call_usage"].as_object().unwrap() {
                let one = via_array(&calls, &json!({"project_id": "p", "call_ids": [id], "include_costs": costs, "limit": limit}));
                prop_assert_eq!(&one["call_usage"][id.as_str()], usage, "{}", id);
                prop_assert_eq!(&one["unfinished_call_ids"], &traced["unfinished_call_ids"]);
            }
        }
    }
}

#[test]
fn a_long_chain_does_not_recurse() {
    // 200,000 calls in one parent chain: the rollup must be iterative.
    let n = 200_000;
    let mut body = String::new();
    for i in 0..n {
        let parent = if i == 0 { Json::Null } else { json!(format!("c{}", i - 1)) };
        body.push_str(&json!({"id": format!("c{i}"), "trace_id": "t", "parent_id": parent, "ended_at": "x", "started_at": "2025-01-01T00:00:00Z", "summary": {"usage": {"m": {"prompt_tokens": 1}}}}).to_string());
        body.push('\n');
    }
    let request = json!({"project_id": "p", "call_ids": ["c0", "c199999"], "limit": n});
    let res = via_bytes(&body, &request);
    assert_eq!(res["call_usage"]["c0"]["m"]["prompt_tokens"], n);
    assert_eq!(res["call_usage"]["c199999"]["m"]["prompt_tokens"], 1);
    // Each call's 1 covers its child's 1: dedupe counts the chain as one call.
    let options = to_value(&json!({"rollup": "dedupe", "diagnostics": true}));
    let res = weave_usage::calls_usage_from_json(body.as_bytes(), &to_value(&request), Some(&options)).unwrap();
    let res: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
    assert_eq!(res["call_usage"]["c0"]["m"]["prompt_tokens"], 1);
    assert_eq!(res["diagnostics"]["deduped_call_ids"].as_array().unwrap().len(), n - 1);
    // And /trace/usage reports every call of it.
    let res = weave_usage::trace_usage_from_json(body.as_bytes(), &to_value(&json!({"project_id": "p", "limit": n})), None).unwrap();
    assert_eq!(res.call_usage.len(), n);
}

// ---- More invariants: chunking of every form, order, what is never read. ----

/// The response text for `body` read by a `CallStream` in chunks of the
/// given sizes (cycled; 0 is an empty push), or the error.
fn via_chunks(body: &[u8], request: &Json, sizes: &[usize]) -> Result<String, weave_usage::UsageError> {
    let prepared = weave_usage::prepare(&to_value(request), None)?;
    let mut stream = weave_usage::CallStream::new();
    let mut rest = body;
    let mut k = 0;
    // An empty push now and then, but always progress.
    let all_empty = sizes.iter().all(|&n| n == 0);
    while !rest.is_empty() {
        let n = if all_empty { 1 } else { sizes[k % sizes.len()] };
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        stream.push(chunk)?;
        rest = tail;
        k += 1;
    }
    stream.finish()?;
    assert_eq!(stream.bytes_read(), body.len() as u64);
    weave_usage::compute(stream.table(), &prepared)?.to_json()
}

/// The response text for a body read in one piece.
fn text_of(body: &[u8], request: &Json) -> String {
    weave_usage::calls_usage_from_json(body, &to_value(request), None).expect("valid input").to_json().expect("the answer is written")
}

/// The calls in every body form the framing accepts.
fn forms(calls: &[Json]) -> Vec<(&'static str, String)> {
    let lines: Vec<String> = calls.iter().map(Json::to_string).collect();
    vec![
        ("array", serde_json::to_string(calls).unwrap()),
        ("pretty array", serde_json::to_string_pretty(calls).unwrap()),
        ("JSON Lines", lines.join("\n")),
        ("JSON Lines, CRLF, blank lines, BOM", format!("\u{feff}\r\n{}\r\n \t\r\n", lines.join("\r\n\r\n"))),
        ("array, BOM, white space", format!("\u{feff} \n[ {} ]\n", lines.join(" ,\n"))),
    ]
}

/// Chunk sizes: mostly small (cuts inside strings, numbers, UTF-8
/// sequences, the BOM), some empty, some large.
fn arb_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![4 => 1usize..8, 2 => 8usize..200, 1 => Just(0usize), 1 => 200usize..5000], 1..12)
}

/// An id for the generated calls: also multi-byte ones, so that chunk cuts
/// fall inside UTF-8 sequences.
const WIDE_IDS: [&str; 4] = ["é", "日本", "😀", "a\"b\\c\u{1}"];

fn arb_wide_call() -> impl Strategy<Value = Json> {
    (arb_call(), prop::option::of(0..WIDE_IDS.len())).prop_map(|(mut c, wide)| {
        if let Some(w) = wide {
            c["id"] = json!(WIDE_IDS[w]);
        }
        c
    })
}

/// A deterministic shuffle of `items` from `seed` (Fisher–Yates over xorshift).
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// A permutation of `0..n` from `seed` in which the positions that hold
/// calls with one id keep those calls in their original order (the last
/// copy of an id is the one that counts, so it must stay last).
fn id_stable_permutation(calls: &[Json], seed: u64) -> Vec<Json> {
    let mut order: Vec<usize> = (0..calls.len()).collect();
    shuffle(&mut order, seed);
    // Per id, hand its calls out in original order to the slots it got.
    let mut queues: BTreeMap<&str, std::collections::VecDeque<&Json>> = BTreeMap::new();
    for c in calls {
        queues.entry(c["id"].as_str().unwrap()).or_default().push_back(c);
    }
    order.iter().map(|&i| queues.get_mut(calls[i]["id"].as_str().unwrap()).unwrap().pop_front().unwrap().clone()).collect()
}

/// Deeply nested junk of the kind `inputs` and `output` carry.
fn arb_junk() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        "[a-z\"\\\\é]{0,6}".prop_map(Json::from)
    ];
    leaf.prop_recursive(6, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            // Keys that look like the fields that are read, at the wrong depth.
            prop::collection::vec((prop::sample::select(vec!["id", "parent_id", "summary", "usage", "x"]), inner), 0..4)
                .prop_map(|kv| Json::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Every body form, in any chunking, gives the very same response text
    /// (not just an equal one: same key order, same float bits).
    #[test]
    fn any_chunking_of_any_form_gives_the_same_text(calls in prop::collection::vec(arb_wide_call(), 0..16), request in arb_request(), sizes in arb_sizes()) {
        let want = text_of(serde_json::to_string(&calls).unwrap().as_bytes(), &request);
        for (form, body) in forms(&calls) {
            prop_assert_eq!(&text_of(body.as_bytes(), &request), &want, "{} whole", form);
            let got = via_chunks(body.as_bytes(), &request, &sizes).map_err(|e| e.to_string());
            prop_assert_eq!(got.as_ref(), Ok(&want), "{} in chunks {:?}", form, sizes);
        }
    }

    /// Any reordering of the input gives the same response text, provided
    /// that calls sharing an id keep their relative order (the last copy is
    /// the one that counts).
    #[test]
    fn permuting_the_input_never_changes_the_answer(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request(), seed in any::<u64>()) {
        let before = text_of(serde_json::to_string(&calls).unwrap().as_bytes(), &request);
        let permuted = id_stable_permutation(&calls, seed);
        prop_assert_eq!(text_of(serde_json::to_string(&permuted).unwrap().as_bytes(), &request), before);
    }

    /// Deleted calls and calls of other projects never matter, wherever
    /// they are and whatever ids they carry (the ids of live calls too).
    #[test]
    fn deleted_and_foreign_calls_never_matter(calls in prop::collection::vec(arb_call(), 0..20), extra in prop::collection::vec((arb_call(), any::<bool>(), any::<prop::sample::Index>()), 1..8), request in arb_request()) {
        let before = text_of(serde_json::to_string(&calls).unwrap().as_bytes(), &request);
        let mut mixed = calls.clone();
        for (mut c, deleted, at) in extra {
            if deleted {
                c["deleted_at"] = json!("2025-01-02T00:00:00Z");
            } else {
                c["project_id"] = json!("another project");
            }
            mixed.insert(at.index(mixed.len() + 1), c);
        }
        prop_assert_eq!(text_of(serde_json::to_string(&mixed).unwrap().as_bytes(), &request), before);
    }

    /// Fields that are not read (`inputs`, `output`, `attributes`, unknown
    /// keys in `summary`, in usage entries and in `weave`) never matter,
    /// however they nest.
    #[test]
    fn fields_that_are_not_read_never_matter(calls in prop::collection::vec(arb_call(), 0..12), junk in prop::collection::vec(arb_junk(), 12), request in arb_request()) {
        let before = text_of(serde_json::to_string(&calls).unwrap().as_bytes(), &request);
        let noisy: Vec<Json> = calls.iter().zip(&junk).map(|(c, j)| {
            let mut c = c.clone();
            c["inputs"] = j.clone();
            c["output"] = json!([j, {"nested": j}]);
            c["attributes"] = json!({"weave": j});
            if c["summary"].is_object() {
                c["summary"]["junk"] = j.clone();
                c["summary"]["weave"]["other"] = j.clone();
                if let Some(usage) = c["summary"]["usage"].as_object_mut() {
                    for entry in usage.values_mut() {
                        entry["not_a_counter"] = j.clone();
                    }
                }
            }
            c
        }).collect();
        prop_assert_eq!(text_of(serde_json::to_string(&noisy).unwrap().as_bytes(), &request), before);
    }

    /// A limit at least as large as the input is no limit at all.
    #[test]
    fn a_limit_beyond_the_input_is_no_limit(calls in prop::collection::vec(arb_call(), 0..24), request in arb_request()) {
        let mut big = request.clone();
        big["limit"] = json!(calls.len().max(1));
        let mut default = request.clone();
        default.as_object_mut().unwrap().remove("limit");
        let body = serde_json::to_string(&calls).unwrap();
        prop_assert_eq!(text_of(body.as_bytes(), &big), text_of(body.as_bytes(), &default));
    }

    /// Each call's total is its own usage plus that of every call it
    /// absorbs: the calls below it whose way up reaches it without passing
    /// through a parent cycle (a call on a cycle is never absorbed, so what
    /// it holds stops there). Checked for every call of random graphs with
    /// cycles, self-parents and orphans, by walking up from each call
    /// (no recursion, independent of the rollup's queue).
    #[test]
    fn each_total_is_the_sum_over_the_calls_it_absorbs(parents in prop::collection::vec(prop::option::of(0usize..30), 1..30), usage in prop::collection::vec(arb_usage(), 30)) {
        let n = parents.len();
        let parent_of = |i: usize| parents[i].filter(|&p| p < n);
        let on_cycle = |i: usize| {
            let mut at = i;
            for _ in 0..n {
                match parent_of(at) {
                    Some(p) if p == i => return true,
                    Some(p) => at = p,
                    None => return false,
                }
            }
            false
        };
        let calls: Vec<Json> = (0..n).map(|i| {
            let parent = match parents[i] { Some(p) if p < n => json!(format!("c{p}")), Some(_) => json!("gone"), None => Json::Null };
            json!({"id": format!("c{i}"), "trace_id": "t", "parent_id": parent, "ended_at": "x", "summary": usage[i]})
        }).collect();
        let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let request = json!({"project_id": "p", "call_ids": ids, "include_costs": true});
        let res: Json = serde_json::from_str(&text_of(serde_json::to_string(&calls).unwrap().as_bytes(), &request)).unwrap();

        let mut want: Vec<Usage> = (0..n).map(|i| own_usage(&calls[i], true)).collect();
        for (d, call) in calls.iter().enumerate() {
            if on_cycle(d) {
                continue;
            }
            // Up from d: every ancestor receives d's usage, until one on a cycle (which keeps it).
            let mut at = d;
            while let Some(p) = parent_of(at) {
                let own = own_usage(call, true);
                add(&mut want[p], &own);
                if on_cycle(p) {
                    break;
                }
                at = p;
            }
        }
        for i in 0..n {
            let models: serde_json::Map<String, Json> = want[i].iter().map(|(m, (t, c))| (m.clone(), json!({
                "requests": t[0], "prompt_tokens": t[1], "completion_tokens": t[2], "total_tokens": t[3],
                "cache_read_input_tokens": t[4], "cache_creation_input_tokens": t[5],
                "prompt_tokens_total_cost": c[0], "completion_tokens_total_cost": c[1],
                "cache_read_input_tokens_total_cost": c[2], "cache_creation_input_tokens_total_cost": c[3],
            }))).collect();
            let got = &res["call_usage"][format!("c{i}").as_str()];
            prop_assert!(compare(got, &Json::Object(models.clone()), "").is_ok(), "c{}: {:?}\ngot  {}\nwant {}", i, compare(got, &Json::Object(models.clone()), ""), got, Json::Object(models));
        }
    }
}

/// Usage over a large pool of models (more than a call's list holds before
/// it is indexed), so that long lists are merged and absorbed.
fn arb_wide_usage() -> impl Strategy<Value = Json> {
    prop::collection::vec((0..60usize, 0i64..5, 0u8..3), 0..24).prop_map(|entries| {
        let mut usage = serde_json::Map::new();
        let mut costs = serde_json::Map::new();
        for (m, t, c) in entries {
            usage.insert(format!("model-{m}"), json!({"prompt_tokens": t, "completion_tokens": 1}));
            costs.insert(format!("model-{m}"), json!({"prompt_tokens_total_cost": f64::from(c) * 0.1}));
        }
        json!({"usage": usage, "weave": {"costs": costs}})
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// With many models per subtree: the oracle's sums, and requesting more
    /// ids of the same trace never changes the text of the others' answers
    /// (a requested call's totals are merged as a copy, an unrequested one's
    /// are absorbed in place, small list into large: same models, same
    /// order, same float bits).
    #[test]
    fn many_models_merge_and_absorb_alike(parents in prop::collection::vec(prop::option::of(0usize..40), 1..40), usage in prop::collection::vec(arb_wide_usage(), 40), pick in prop::collection::vec(any::<prop::sample::Index>(), 1..4)) {
        let n = parents.len();
        let calls: Vec<Json> = (0..n).map(|i| {
            let parent = match parents[i] { Some(p) if p < n => json!(format!("c{p}")), _ => Json::Null };
            json!({"id": format!("c{i}"), "trace_id": "t", "parent_id": parent, "summary": usage[i]})
        }).collect();
        let body = serde_json::to_string(&calls).unwrap();
        let some: Vec<String> = pick.iter().map(|p| format!("c{}", p.index(n))).collect();
        let all: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let few = json!({"project_id": "p", "call_ids": some, "include_costs": true});
        let many = json!({"project_id": "p", "call_ids": all, "include_costs": true});
        let few_res: Json = serde_json::from_str(&text_of(body.as_bytes(), &few)).unwrap();
        let many_res: Json = serde_json::from_str(&text_of(body.as_bytes(), &many)).unwrap();
        let want = oracle(&calls, &json!({"project_id": "p", "call_ids": some, "include_costs": true, "limit": 10000}));
        let verdict = compare(&few_res, &want, "");
        prop_assert!(verdict.is_ok(), "{:?}", verdict);
        for id in &some {
            // serde_json with preserve_order: the text, key order included.
            prop_assert_eq!(few_res["call_usage"][id.as_str()].to_string(), many_res["call_usage"][id.as_str()].to_string(), "{}", id);
        }
    }
}
