#![cfg(not(target_arch = "wasm32"))]
//! Usage stats (docs/stats.md) against a naive oracle: random forests of
//! calls, some of whose parents hold their children's usage as Weave's
//! client writes it, binned and grouped by hand from `/trace/usage`'s
//! dedupe totals (each call's own usage = its total less its children's);
//! the counted-once invariant (every row summed = the dedupe totals of the
//! roots, from `/calls/usage`); top-N plus "other" = the whole.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value as Json};
use weave_usage::{
    calls_usage_from_json, internals::parse_value, stats_request_from_json, trace_usage_from_json, usage_stats_from_json, Value,
};

const MODELS: [&str; 3] = ["gpt-4o", "claude", "o1"];
const OPS: [&str; 3] = ["weave:///e/p/op/agent:abc", "weave:///e/p/op/llm:def", "weave:///e/p/op/llm:123"];
const DAY: i64 = 86_400;

fn value(j: &Json) -> Value {
    parse_value(j.to_string().as_bytes(), &weave_usage::internals::ARGUMENT_SHAPE).unwrap()
}

fn stats(body: &str, request: Json) -> Json {
    let req = stats_request_from_json(request.to_string().as_bytes()).unwrap();
    let res = usage_stats_from_json(body.as_bytes(), &req, None).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&res.to_json().unwrap()).unwrap()
}

fn time(t: i64) -> String {
    // Seconds since 2025-01-01 as RFC 3339.
    let base = 1_735_689_600;
    let s = base + t;
    let (d, r) = (s.div_euclid(DAY), s.rem_euclid(DAY));
    let days = d - 20_089; // 2025-01-01
    format!("2025-01-{:02}T{:02}:{:02}:{:02}Z", 1 + days, r / 3600, r / 60 % 60, r % 60)
}

/// One generated call: parent (an earlier index), op, user, start second,
/// own usage per model, error, ended, and whether it sums its children
/// (as the client does) on top of its own.
#[derive(Debug, Clone)]
struct Gen {
    parent: Option<usize>,
    op: usize,
    user: usize,
    start: i64,
    usage: Vec<(usize, [i64; 3])>,
    error: bool,
    ended: bool,
    rolls: bool,
}

fn arb_calls() -> impl Strategy<Value = Vec<Gen>> {
    prop::collection::vec(
        (
            prop::option::of(0usize..40),
            0..OPS.len(),
            0usize..3,
            0i64..(4 * DAY),
            prop::collection::vec((0..MODELS.len(), prop::array::uniform3(0i64..50)), 0..3),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.9),
            any::<bool>(),
        )
            .prop_map(|(parent, op, user, start, usage, error, ended, rolls)| Gen {
                parent,
                op,
                user,
                start,
                usage,
                error,
                ended,
                rolls,
            }),
        1..40,
    )
    .prop_map(|mut calls| {
        for (i, c) in calls.iter_mut().enumerate() {
            c.parent = c.parent.filter(|&p| p < i);
        }
        calls
    })
}

/// The calls as JSON Lines: a rolling call's summary adds its children's
/// (already rolled) usage to its own, as the client writes it.
fn body(calls: &[Gen]) -> String {
    let n = calls.len();
    let mut written: Vec<BTreeMap<usize, [i64; 3]>> = vec![BTreeMap::new(); n];
    for i in (0..n).rev() {
        let mut mine: BTreeMap<usize, [i64; 3]> = BTreeMap::new();
        for (m, t) in &calls[i].usage {
            let e = mine.entry(*m).or_default();
            for k in 0..3 {
                e[k] += t[k];
            }
        }
        if calls[i].rolls {
            for j in (i + 1)..n {
                if calls[j].parent == Some(i) {
                    for (m, t) in &written[j] {
                        let e = mine.entry(*m).or_default();
                        for k in 0..3 {
                            e[k] += t[k];
                        }
                    }
                }
            }
        }
        written[i] = mine;
    }
    let mut out = String::new();
    for (i, c) in calls.iter().enumerate() {
        let mut usage = serde_json::Map::new();
        let mut costs = serde_json::Map::new();
        for (m, t) in &written[i] {
            usage.insert(MODELS[*m].into(), json!({"requests": t[0], "prompt_tokens": t[1], "completion_tokens": t[2]}));
            costs.insert(
                MODELS[*m].into(),
                json!({"prompt_tokens_total_cost": t[1] as f64 * 0.5, "completion_tokens_total_cost": t[2] as f64 * 0.25}),
            );
        }
        let root = (0..=i).rev().fold(i, |r, _| calls[r].parent.unwrap_or(r));
        let call = json!({
            "id": format!("c{i}"), "trace_id": format!("t{root}"), "parent_id": c.parent.map(|p| format!("c{p}")),
            "project_id": "p", "op_name": OPS[c.op], "wb_user_id": format!("u{}", c.user), "started_at": time(c.start),
            "ended_at": if c.ended { Some(time(c.start + 1)) } else { None }, "exception": if c.error { Some("boom") } else { None },
            "summary": {"usage": usage, "weave": {"costs": costs}},
        });
        out.push_str(&call.to_string());
        out.push('\n');
    }
    out
}

/// Per call: its dedupe total per model (tokens: requests, prompt,
/// completion, total), from `/trace/usage`.
fn dedupe_totals(body: &str, n: usize) -> Vec<BTreeMap<String, [i64; 4]>> {
    let req = value(&json!({"project_id": "p", "limit": 100000}));
    let opts = value(&json!({"rollup": "dedupe"}));
    let res = trace_usage_from_json(body.as_bytes(), &req, Some(&opts)).unwrap();
    let res: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
    (0..n)
        .map(|i| {
            res["call_usage"][format!("c{i}")]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(model, t)| {
                            let f = |k: &str| t[k].as_i64().unwrap();
                            (model.clone(), [f("requests"), f("prompt_tokens"), f("completion_tokens"), f("total_tokens")])
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn op_name(op: usize) -> &'static str {
    ["agent", "llm", "llm"][op]
}

type Key = (String, String, String); // day, op name, model

/// The oracle: per (day, op name, model), own usage = total − Σ children's totals.
fn oracle(calls: &[Gen], totals: &[BTreeMap<String, [i64; 4]>]) -> BTreeMap<Key, [i64; 4]> {
    let mut out: BTreeMap<Key, [i64; 4]> = BTreeMap::new();
    for (i, c) in calls.iter().enumerate() {
        let mut own = totals[i].clone();
        for (j, d) in calls.iter().enumerate() {
            if d.parent == Some(i) {
                for (m, t) in &totals[j] {
                    let e = own.entry(m.clone()).or_default();
                    for k in 0..4 {
                        e[k] -= t[k];
                    }
                }
            }
        }
        let day = time(c.start.div_euclid(DAY) * DAY);
        for (m, t) in own {
            let e = out.entry((day.clone(), op_name(c.op).to_string(), m)).or_default();
            for k in 0..4 {
                e[k] += t[k];
            }
        }
    }
    out.retain(|_, v| v.iter().any(|&x| x != 0));
    out
}

fn rows(res: &Json) -> BTreeMap<Key, [i64; 4]> {
    let mut out: BTreeMap<Key, [i64; 4]> = BTreeMap::new();
    for r in res["usage_buckets"].as_array().unwrap() {
        let key = (
            r["timestamp"].as_str().unwrap().to_string(),
            r["op_name"].as_str().unwrap_or("").to_string(),
            r["model"].as_str().unwrap_or("").to_string(),
        );
        let f = |k: &str| r[k].as_i64().unwrap();
        let e = out.entry(key).or_default();
        for (k, name) in ["requests", "prompt_tokens", "completion_tokens", "total_tokens"].iter().enumerate() {
            e[k] += f(name);
        }
    }
    out.retain(|_, v| v.iter().any(|&x| x != 0));
    out
}

fn grand(res: &Json) -> ([i64; 4], f64, u64) {
    let mut t = [0i64; 4];
    let mut cost = 0.0;
    for r in res["usage_buckets"].as_array().unwrap() {
        for (k, name) in ["requests", "prompt_tokens", "completion_tokens", "total_tokens"].iter().enumerate() {
            t[k] += r[name].as_i64().unwrap();
        }
        cost += r["prompt_tokens_total_cost"].as_f64().unwrap_or(0.0) + r["completion_tokens_total_cost"].as_f64().unwrap_or(0.0);
    }
    let calls = res["call_buckets"].as_array().unwrap().iter().map(|r| r["call_count"].as_u64().unwrap()).sum();
    (t, cost, calls)
}

/// The dedupe totals of every root, from `/calls/usage`, summed.
fn roots_total(body: &str, calls: &[Gen]) -> ([i64; 4], f64) {
    let roots: Vec<String> = (0..calls.len()).filter(|&i| calls[i].parent.is_none()).map(|i| format!("c{i}")).collect();
    let req = value(&json!({"project_id": "p", "call_ids": roots, "include_costs": true, "limit": 100000}));
    let opts = value(&json!({"rollup": "dedupe"}));
    let res = calls_usage_from_json(body.as_bytes(), &req, Some(&opts)).unwrap();
    let res: Json = serde_json::from_str(&res.to_json().unwrap()).unwrap();
    let mut t = [0i64; 4];
    let mut cost = 0.0;
    for (_, models) in res["call_usage"].as_object().unwrap() {
        for (_, u) in models.as_object().unwrap() {
            for (k, name) in ["requests", "prompt_tokens", "completion_tokens", "total_tokens"].iter().enumerate() {
                t[k] += u[name].as_i64().unwrap();
            }
            cost += u["prompt_tokens_total_cost"].as_f64().unwrap() + u["completion_tokens_total_cost"].as_f64().unwrap();
        }
    }
    (t, cost)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn rows_match_the_oracle_and_count_each_call_once(calls in arb_calls()) {
        let body = body(&calls);
        let totals = dedupe_totals(&body, calls.len());
        let res = stats(&body, json!({"project_id": "p", "group_by": ["model", "op_name"], "include_costs": true}));
        prop_assert_eq!(rows(&res), oracle(&calls, &totals));
        let (t, cost, n) = grand(&res);
        let (want, want_cost) = roots_total(&body, &calls);
        prop_assert_eq!(t, want);
        prop_assert!(close(cost, want_cost), "{} vs {}", cost, want_cost);
        prop_assert_eq!(n, calls.len() as u64);
        // Roots only: each tree at its root, the same grand total.
        let roots = stats(&body, json!({"project_id": "p", "filter": {"trace_roots_only": true}, "include_costs": true}));
        let (rt, rcost, rn) = grand(&roots);
        prop_assert_eq!(rt, want);
        prop_assert!(close(rcost, want_cost));
        prop_assert_eq!(rn, calls.iter().filter(|c| c.parent.is_none()).count() as u64);
        // Calls, errors and unfinished calls per day, by hand.
        let mut by_day: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for c in &calls {
            let e = by_day.entry(time(c.start.div_euclid(DAY) * DAY)).or_default();
            e[0] += 1;
            e[1] += u64::from(c.error);
            e[2] += u64::from(!c.ended);
        }
        let plain = stats(&body, json!({"project_id": "p"}));
        let mut got: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for r in plain["call_buckets"].as_array().unwrap() {
            let v = [r["call_count"].as_u64().unwrap(), r["error_count"].as_u64().unwrap(), r["unfinished_count"].as_u64().unwrap()];
            if v[0] > 0 {
                got.insert(r["timestamp"].as_str().unwrap().to_string(), v);
            }
        }
        prop_assert_eq!(got, by_day);
    }

    #[test]
    fn top_n_and_other_sum_to_the_whole(calls in arb_calls(), limit in 1u64..4, by in 0usize..3) {
        let body = body(&calls);
        let group_by = [json!(["wb_user_id"]), json!(["model"]), json!(["op_name", "model"])][by].clone();
        let all = stats(&body, json!({"project_id": "p", "group_by": group_by, "granularity": "week"}));
        let top = stats(&body, json!({"project_id": "p", "group_by": group_by, "granularity": "week", "limit": limit}));
        let (a, _, an) = grand(&all);
        let (b, _, bn) = grand(&top);
        prop_assert_eq!(a, b);
        prop_assert_eq!(an, bn);
        // At most `limit` named groups (and models, when ranked) per bucket, and one other.
        let stamps: std::collections::BTreeSet<&str> = top["call_buckets"].as_array().unwrap().iter().map(|r| r["timestamp"].as_str().unwrap()).collect();
        for s in stamps {
            let named = top["call_buckets"].as_array().unwrap().iter().filter(|r| r["timestamp"] == s && r.get("other").is_none()).count();
            if by != 1 {
                prop_assert!(named as u64 <= limit);
            }
        }
    }
}

#[test]
fn a_client_rolled_trace_counts_each_request_once_on_its_own_day() {
    // An agent (day 1) whose summary holds its LLM child's usage (day 2).
    let body = r#"{"id":"a","trace_id":"t","project_id":"p","op_name":"weave:///e/p/op/agent:1","started_at":"2025-01-01T23:59:00Z","ended_at":"x","summary":{"usage":{"m":{"requests":1,"prompt_tokens":10,"completion_tokens":5}}}}
{"id":"b","trace_id":"t","parent_id":"a","project_id":"p","op_name":"weave:///e/p/op/openai.chat:2","started_at":"2025-01-02T00:00:01Z","exception":"boom","summary":{"usage":{"m":{"requests":1,"prompt_tokens":10,"completion_tokens":5}}}}
"#;
    let res = stats(body, json!({"project_id": "p", "group_by": ["op_name", "root_op_name"]}));
    let usage: Vec<(String, String, i64)> = res["usage_buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["timestamp"].as_str().unwrap().into(), r["op_name"].as_str().unwrap().into(), r["total_tokens"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        usage,
        [
            // Groups ranked by total tokens: the LLM call's first.
            ("2025-01-01T00:00:00Z".into(), "openai.chat".into(), 0),
            ("2025-01-01T00:00:00Z".into(), "agent".into(), 0),
            ("2025-01-02T00:00:00Z".into(), "openai.chat".into(), 15),
            ("2025-01-02T00:00:00Z".into(), "agent".into(), 0),
        ]
    );
    let calls: Vec<[u64; 3]> = res["call_buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| [r["call_count"].as_u64().unwrap(), r["error_count"].as_u64().unwrap(), r["unfinished_count"].as_u64().unwrap()])
        .collect();
    assert_eq!(calls, [[0, 0, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]]);
    assert!(res["call_buckets"].as_array().unwrap().iter().all(|r| r["root_op_name"] == "agent"));
    assert_eq!((res["start"].as_str(), res["end"].as_str()), (Some("2025-01-01T00:00:00Z"), Some("2025-01-03T00:00:00Z")));
}

#[test]
fn fixed_offsets_weeks_and_months_bucket_in_local_time() {
    let body = r#"{"id":"a","trace_id":"t","started_at":"2025-03-02T20:00:00Z","summary":{"usage":{"m":{"total_tokens":1}}}}
{"id":"b","trace_id":"t","started_at":"2025-03-03T06:00:00Z","summary":{"usage":{"m":{"total_tokens":2}}}}
"#;
    // 2025-03-03 is a Monday; in +05:30, a is already on Monday 01:30.
    let weeks = |tz: &str| {
        let res = stats(body, json!({"project_id": "p", "granularity": "week", "timezone": tz}));
        res["usage_buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["timestamp"].as_str().unwrap().to_string(), r["total_tokens"].as_i64().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(weeks("UTC"), [("2025-02-24T00:00:00Z".to_string(), 1), ("2025-03-03T00:00:00Z".to_string(), 2)]);
    assert_eq!(weeks("+05:30"), [("2025-03-03T00:00:00+05:30".to_string(), 3)]);
    let res = stats(
        body,
        json!({"project_id": "p", "granularity": "month", "timezone": "-08:00", "start": "2025-01-15T00:00:00Z", "end": "2025-04-01T00:00:00Z"}),
    );
    let stamps: Vec<&str> = res["call_buckets"].as_array().unwrap().iter().map(|r| r["timestamp"].as_str().unwrap()).collect();
    // The end, 2025-03-31T16:00-08:00, falls in March.
    assert_eq!(stamps, ["2025-01-01T00:00:00-08:00", "2025-02-01T00:00:00-08:00", "2025-03-01T00:00:00-08:00"]);
}

#[test]
fn errors_are_422_with_their_loc() {
    let err = |request: Json, options: Option<Json>| {
        let req = stats_request_from_json(request.to_string().as_bytes()).unwrap();
        let opts = options.map(|o| value(&o));
        let e = usage_stats_from_json(b"{\"id\":\"a\",\"trace_id\":\"t\",\"started_at\":\"2025-01-01T00:00:00Z\"}", &req, opts.as_ref())
            .unwrap_err();
        (e.status, format!("{:?}", e.detail[0].loc), e.detail[0].kind.name())
    };
    let loc = |p: &[&str]| format!("{:?}", p.iter().map(|s| weave_usage::Loc::from(*s)).collect::<Vec<_>>());
    assert_eq!(err(json!({"project_id": "p", "timezone": "Mars/Olympus"}), None), (422, loc(&["body", "timezone"]), "value_error"));
    assert_eq!(
        err(json!({"project_id": "p", "granularity": "hour", "start": "2024-01-01T00:00:00Z", "end": "2025-06-01T00:00:00Z"}), None),
        (422, loc(&["body", "granularity"]), "value_error")
    );
    assert_eq!(err(json!({"project_id": "p"}), Some(json!({"rollup": "dedupe"}))), (422, loc(&["options", "rollup"]), "not_supported"));
    // A table not made for stats: 409.
    let req = stats_request_from_json(br#"{"project_id":"p"}"#).unwrap();
    let prepared = weave_usage::prepare_stats(&req, None).unwrap();
    let mut s = weave_usage::CallStream::new();
    s.push(b"{\"id\":\"a\",\"trace_id\":\"t\"}").unwrap();
    let e = weave_usage::compute_stats(s.finish().unwrap(), &prepared, &weave_usage::fixed_offset_buckets).unwrap_err();
    assert_eq!((e.status, e.detail[0].kind.name()), (409, "accumulator_not_for_stats"));
}
