#![cfg(not(target_arch = "wasm32"))]
//! Issue 5's options and `/trace/usage` through the native core, on small
//! call sets whose answers are worked out by hand: pricing from rows (each
//! rule of the reference's row choice), `reprice`, the `"dedupe"` rollup on
//! star, chain, mixed and distributed traces, every diagnostic, and trace
//! usage's scope. Every case also goes through a `CallStream` in small
//! chunks, as the accumulator reads it.

mod common;

use common::to_value;
use serde_json::{json, Value as Json};
use weave_usage::{CallStream, UsageError};

/// `/calls/usage` with options, whole body and streamed in 3-byte chunks
/// (the two must agree).
fn usage(calls: &[Json], request: Json, options: Json) -> Result<Json, UsageError> {
    let body = lines(calls);
    let (request, options) = (to_value(&request), to_value(&options));
    let whole = weave_usage::calls_usage_from_json(body.as_bytes(), &request, Some(&options))?;
    let prepared = weave_usage::prepare(&request, Some(&options))?;
    let streamed = streamed(&body, 3, |table| weave_usage::compute(table, &prepared))??;
    assert_eq!(whole.to_json(), streamed.to_json(), "whole and streamed differ");
    Ok(serde_json::from_str(&whole.to_json()?).unwrap())
}

/// `/trace/usage` the same way, in 5-byte chunks.
fn trace(calls: &[Json], request: Json, options: Json) -> Result<Json, UsageError> {
    let body = lines(calls);
    let (request, options) = (to_value(&request), to_value(&options));
    let whole = weave_usage::trace_usage_from_json(body.as_bytes(), &request, Some(&options))?;
    let prepared = weave_usage::prepare_trace(&request, Some(&options))?;
    let streamed = streamed(&body, 5, |table| weave_usage::compute_trace(table, &prepared))??;
    assert_eq!(whole.to_json(), streamed.to_json(), "whole and streamed differ");
    Ok(serde_json::from_str(&whole.to_json()?).unwrap())
}

fn lines(calls: &[Json]) -> String {
    calls.iter().map(|c| format!("{c}\n")).collect()
}

/// `compute` on the table `body` makes when pushed in chunks of `size`.
fn streamed<R>(body: &str, size: usize, compute: impl FnOnce(&weave_usage::internals::CallTable) -> R) -> Result<R, UsageError> {
    let mut stream = CallStream::new();
    for chunk in body.as_bytes().chunks(size) {
        stream.push(chunk)?;
    }
    Ok(compute(stream.finish()?))
}

fn call(id: &str, parent: Option<&str>, summary: Json) -> Json {
    json!({"id": id, "trace_id": "t", "parent_id": parent, "started_at": "2025-03-01T09:00:00Z", "ended_at": "2025-03-01T09:01:00Z", "summary": summary})
}

/// `summary.usage` of one model.
fn tokens(model: &str, prompt: i64, completion: i64) -> Json {
    json!({"usage": {model: {"requests": 1, "prompt_tokens": prompt, "completion_tokens": completion}}})
}

fn req(ids: &[&str], costs: bool) -> Json {
    json!({"project_id": "p", "call_ids": ids, "include_costs": costs})
}

fn costs(u: &Json) -> [f64; 4] {
    [
        "prompt_tokens_total_cost",
        "completion_tokens_total_cost",
        "cache_read_input_tokens_total_cost",
        "cache_creation_input_tokens_total_cost",
    ]
    .map(|k| u[k].as_f64().unwrap_or_else(|| panic!("{k} is not a number in {u}")))
}

fn close(a: [f64; 4], b: [f64; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1e-300))
}

fn row(model: &str, prompt: f64, completion: f64, date: &str) -> Json {
    json!({"llm_id": model, "prompt_token_cost": prompt, "completion_token_cost": completion, "effective_date": date})
}

// ---- pricing ----

#[test]
fn a_model_without_costs_is_priced_and_given_costs_are_kept() {
    let calls = [call(
        "r",
        None,
        json!({"usage": {"gpt": {"prompt_tokens": 1000, "completion_tokens": 100}, "claude": {"prompt_tokens": 10}}, "weave": {"costs": {"claude": {"prompt_tokens_total_cost": 0.5}}}}),
    )];
    let prices = json!({"prices": [row("gpt", 2e-6, 8e-6, "2024-01-01"), row("claude", 1.0, 1.0, "2024-01-01")]});
    let res = usage(&calls, req(&["r"], true), prices.clone()).unwrap();
    assert!(close(costs(&res["call_usage"]["r"]["gpt"]), [1000.0 * 2e-6, 100.0 * 8e-6, 0.0, 0.0]));
    assert_eq!(costs(&res["call_usage"]["r"]["claude"]), [0.5, 0.0, 0.0, 0.0], "given costs win without reprice");
    // reprice ignores summary.weave.costs.
    let mut repriced = prices.clone();
    repriced["reprice"] = json!(true);
    let res = usage(&calls, req(&["r"], true), repriced).unwrap();
    assert_eq!(costs(&res["call_usage"]["r"]["claude"]), [10.0, 0.0, 0.0, 0.0]);
    // Without include_costs, costs stay null whatever the rows.
    let res = usage(&calls, req(&["r"], false), prices).unwrap();
    assert_eq!(res["call_usage"]["r"]["gpt"]["prompt_tokens_total_cost"], Json::Null);
    // Without rows a model stays unpriced (0), with reprice too.
    let res = usage(&calls, req(&["r"], true), json!({"prices": [], "reprice": true})).unwrap();
    assert_eq!(costs(&res["call_usage"]["r"]["claude"]), [0.0; 4]);
    assert_eq!(res["call_usage"]["r"]["claude"]["prompt_tokens"], 10, "tokens still count");
}

#[test]
fn cache_tokens_are_charged_at_their_own_rates() {
    let summary = json!({"usage": {"m": {"input_tokens": 1000, "prompt_tokens": 200, "output_tokens": 50, "cache_read_input_tokens": 300, "cache_creation_input_tokens": 100}}});
    let calls = [call("r", None, summary)];
    let with_cache = json!({"prices": [{"llm_id": "m", "prompt_token_cost": 1.0, "completion_token_cost": 2.0, "cache_read_input_token_cost": 0.1, "cache_creation_input_token_cost": 1.25, "effective_date": "2024-01-01"}]});
    let res = usage(&calls, req(&["r"], true), with_cache).unwrap();
    // Prompt: (1000 + 200) − 300 − 100 = 800 uncached tokens.
    assert!(close(costs(&res["call_usage"]["r"]["m"]), [800.0, 100.0, 30.0, 125.0]));
    // Missing and null cache rates are 0 (a row from /costs/query has none).
    let without = json!({"prices": [{"llm_id": "m", "prompt_token_cost": 1.0, "completion_token_cost": null, "cache_read_input_token_cost": null, "effective_date": "2024-01-01"}]});
    let res = usage(&calls, req(&["r"], true), without).unwrap();
    assert!(close(costs(&res["call_usage"]["r"]["m"]), [800.0, 0.0, 0.0, 0.0]));
}

/// The rate of `m` a call starting at `started` (None: no started_at) is
/// priced at, given `rows`.
fn rate_at(rows: Json, started: Option<&str>) -> f64 {
    let mut c = call("r", None, tokens("m", 1, 0));
    match started {
        Some(s) => c["started_at"] = json!(s),
        None => {
            c.as_object_mut().unwrap().remove("started_at");
        }
    }
    let res = usage(&[c], req(&["r"], true), json!({"prices": rows})).unwrap();
    res["call_usage"]["r"]["m"]["prompt_tokens_total_cost"].as_f64().unwrap()
}

#[test]
fn rows_are_chosen_as_the_reference_chooses_them() {
    let at = |rate: f64, date: &str, level: &str, id: Option<&str>| {
        let mut r = row("m", rate, 0.0, date);
        r["pricing_level"] = json!(level);
        if let Some(id) = id {
            r["pricing_level_id"] = json!(id);
        }
        r
    };
    let started = Some("2025-01-01T00:00:00Z");
    // The latest row in effect at started_at.
    assert_eq!(
        rate_at(json!([row("m", 1.0, 0.0, "2024-01-01"), row("m", 2.0, 0.0, "2024-06-01"), row("m", 3.0, 0.0, "2026-01-01")]), started),
        2.0
    );
    // A row taking effect exactly at started_at is in effect.
    assert_eq!(rate_at(json!([row("m", 1.0, 0.0, "2024-01-01"), row("m", 2.0, 0.0, "2025-01-01T01:00:00+01:00")]), started), 2.0);
    // Only future rows: the latest of them (the reference ranks them the same way).
    assert_eq!(rate_at(json!([row("m", 3.0, 0.0, "2026-01-01"), row("m", 4.0, 0.0, "2027-01-01")]), started), 4.0);
    // The project's row before the default one, even an older one...
    assert_eq!(rate_at(json!([at(1.0, "2024-06-01", "default", None), at(2.0, "2024-01-01", "project", Some("p"))]), started), 2.0);
    // ...but a current default row before a project row from the future.
    assert_eq!(rate_at(json!([at(1.0, "2024-06-01", "default", Some("default")), at(2.0, "2026-01-01", "project", None)]), started), 1.0);
    // Rows of another project, or a default row of another id, never apply.
    assert_eq!(
        rate_at(
            json!([
                at(1.0, "2024-06-01", "project", Some("other")),
                at(5.0, "2024-06-01", "default", Some("p")),
                at(2.0, "2020-01-01", "default", None)
            ]),
            started
        ),
        2.0
    );
    // Same date and level: the first row given.
    assert_eq!(rate_at(json!([row("m", 7.0, 0.0, "2024-01-01T00:00:00Z"), row("m", 8.0, 0.0, "2024-01-01T01:00:00+01:00")]), started), 7.0);
    // No started_at: every row counts as in effect, so the latest wins.
    assert_eq!(rate_at(json!([row("m", 1.0, 0.0, "2024-01-01"), row("m", 3.0, 0.0, "2099-01-01")]), None), 3.0);
    assert_eq!(rate_at(json!([row("m", 1.0, 0.0, "2024-01-01"), row("m", 3.0, 0.0, "2099-01-01")]), Some("not a time")), 3.0);
    // A naive date is UTC; offsets are instants.
    assert_eq!(rate_at(json!([row("m", 1.0, 0.0, "2024-12-31T23:00:00"), row("m", 2.0, 0.0, "2025-01-01T00:30:00+01:00")]), started), 2.0);
}

#[test]
fn priced_costs_roll_up_like_given_ones() {
    let calls = [call("r", None, tokens("m", 10, 0)), call("c", Some("r"), tokens("m", 5, 0)), call("g", Some("c"), tokens("m", 1, 0))];
    let res = usage(&calls, req(&["r", "c"], true), json!({"prices": [row("m", 0.5, 0.0, "2024-01-01")]})).unwrap();
    assert_eq!(costs(&res["call_usage"]["r"]["m"])[0], 8.0);
    assert_eq!(costs(&res["call_usage"]["c"]["m"])[0], 3.0);
}

#[test]
fn invalid_rows_are_422_naming_row_and_field() {
    let calls = [call("r", None, tokens("m", 1, 0))];
    let e = usage(&calls, req(&["r"], true), json!({"prices": [row("m", 1.0, 0.0, "2024-01-01"), {"llm_id": "m", "prompt_token_cost": "cheap", "effective_date": "2024-02-30"}]})).unwrap_err();
    assert_eq!(e.status, 422);
    let got: Vec<(String, String, String)> =
        e.detail.iter().map(|d| (format!("{:?}", d.loc), d.kind.name().to_string(), d.msg.clone())).collect();
    assert_eq!(
        got,
        vec![
            (
                r#"[Key("options"), Key("prices"), Index(1), Key("prompt_token_cost")]"#.into(),
                "float_parsing".into(),
                "Input should be a valid number, unable to parse string as a number".into()
            ),
            (
                r#"[Key("options"), Key("prices"), Index(1), Key("effective_date")]"#.into(),
                "datetime_from_date_parsing".into(),
                "Input should be a valid datetime or date, day value is outside expected range".into()
            ),
        ]
    );
    // The request is still checked first.
    assert_eq!(usage(&calls, json!({}), json!({"prices": 5})).unwrap_err().detail[0].loc[0], weave_usage::Loc::from("body"));
    // Unknown option keys stay refused.
    let e = usage(&calls, req(&["r"], true), json!({"price": []})).unwrap_err();
    assert_eq!(
        (e.detail[0].kind.as_str(), format!("{:?}", e.detail[0].loc)),
        ("extra_forbidden", r#"[Key("options"), Key("price")]"#.into())
    );
}

// ---- rollup: "dedupe" ----

/// Usage of one model per call: `own` tokens (prompt, completion), one request.
fn u(p: i64, c: i64) -> Json {
    tokens("m", p, c)
}

/// Usage as Weave's client reports it for a call that made `requests` LLM
/// requests itself or through its children.
fn ur(p: i64, requests: i64) -> Json {
    json!({"usage": {"m": {"requests": requests, "prompt_tokens": p}}})
}

fn prompt(res: &Json, id: &str) -> i64 {
    res["call_usage"][id]["m"]["prompt_tokens"].as_i64().unwrap_or(0)
}

const DEDUPE: fn() -> Json = || json!({"rollup": "dedupe", "diagnostics": true});

#[test]
fn star_counts_each_leaf_once() {
    // Weave's client summed the three leaves into the root's own usage.
    let calls = [
        call("r", None, ur(1 + 10 + 20 + 30, 4)),
        call("a", Some("r"), ur(10, 1)),
        call("b", Some("r"), ur(20, 1)),
        call("c", Some("r"), ur(30, 1)),
    ];
    let reference = usage(&calls, req(&["r"], false), json!({})).unwrap();
    assert_eq!(prompt(&reference, "r"), 61 + 60, "the reference counts the leaves twice");
    let dedupe = usage(&calls, req(&["r", "a"], false), DEDUPE()).unwrap();
    assert_eq!(prompt(&dedupe, "r"), 61);
    assert_eq!(prompt(&dedupe, "a"), 10);
    assert_eq!(dedupe["diagnostics"]["deduped_call_ids"], json!(["r"]));
}

#[test]
fn chain_counts_the_leaf_once() {
    let calls = [call("r", None, u(7, 3)), call("a", Some("r"), u(7, 3)), call("b", Some("a"), u(7, 3))];
    let reference = usage(&calls, req(&["r"], false), json!({})).unwrap();
    assert_eq!(prompt(&reference, "r"), 21, "3x for a chain");
    let dedupe = usage(&calls, req(&["r", "a", "b"], false), DEDUPE()).unwrap();
    for id in ["r", "a", "b"] {
        assert_eq!(dedupe["call_usage"][id]["m"]["total_tokens"], 10, "{id}");
    }
    assert_eq!(dedupe["diagnostics"]["deduped_call_ids"], json!(["a", "r"]));
}

#[test]
fn children_ending_after_their_parent_are_added_once() {
    // r's client summed a (finished in time) into r; s handed a stream back
    // to r's caller, so s ended with nothing and its child l ended later,
    // in nobody's summary but its own.
    let calls =
        [call("r", None, ur(10, 1)), call("a", Some("r"), ur(10, 1)), call("s", Some("r"), json!({})), call("l", Some("s"), ur(7, 1))];
    let dedupe = usage(&calls, req(&["r", "s"], false), DEDUPE()).unwrap();
    assert_eq!(prompt(&dedupe, "r"), 17);
    assert_eq!(dedupe["call_usage"]["r"]["m"]["requests"], 2);
    assert_eq!(prompt(&dedupe, "s"), 7);
    assert_eq!(dedupe["diagnostics"]["deduped_call_ids"], json!(["r"]));
    let reference = usage(&calls, req(&["r"], false), json!({})).unwrap();
    assert_eq!(prompt(&reference, "r"), 27);
    // A late child with a model its parent lacks, under a deduped parent.
    let calls = [
        call("r", None, ur(10, 1)),
        call("a", Some("r"), ur(10, 1)),
        call("s", Some("r"), json!({})),
        call("l", Some("s"), tokens("n", 4, 2)),
    ];
    let dedupe = usage(&calls, req(&["r"], false), DEDUPE()).unwrap();
    assert_eq!(prompt(&dedupe, "r"), 10);
    assert_eq!(dedupe["call_usage"]["r"]["n"]["total_tokens"], 6);
}

#[test]
fn a_parents_own_usage_on_top_of_its_childrens_is_kept() {
    // r called the model itself (5) after its children (10 + 20) finished.
    let calls = [call("r", None, ur(35, 3)), call("a", Some("r"), ur(10, 1)), call("b", Some("r"), ur(20, 1))];
    let dedupe = usage(&calls, req(&["r"], false), DEDUPE()).unwrap();
    assert_eq!((prompt(&dedupe, "r"), dedupe["call_usage"]["r"]["m"]["requests"].as_i64()), (35, Some(3)));
    // And a grandchild that ended after its parent, under such a call.
    let calls =
        [call("r", None, ur(35, 3)), call("a", Some("r"), ur(10, 1)), call("b", Some("r"), ur(20, 1)), call("g", Some("b"), ur(8, 1))];
    let dedupe = usage(&calls, req(&["r", "b"], false), DEDUPE()).unwrap();
    assert_eq!(prompt(&dedupe, "b"), 20, "b covers g");
    assert_eq!(prompt(&dedupe, "r"), 35);
    let calls = [
        call("r", None, ur(35, 3)),
        call("a", Some("r"), ur(10, 1)),
        call("b", Some("r"), json!({})),
        call("g", Some("b"), ur(8, 1)),
        call("h", Some("a"), json!({})),
    ];
    let dedupe = usage(&calls, req(&["r"], false), DEDUPE()).unwrap();
    assert_eq!(prompt(&dedupe, "r"), 35 + 8, "g ended after b: in neither summary");
}

#[test]
fn distributed_traces_add_up_exactly_as_the_reference() {
    // Nobody's usage covers its children (OTLP spans, remote services): the
    // answer is the reference's, bit for bit, costs included.
    let with_cost =
        |p: i64, c: f64| json!({"usage": {"m": {"prompt_tokens": p}}, "weave": {"costs": {"m": {"prompt_tokens_total_cost": c}}}});
    let calls = [
        call("r", None, json!({})),
        call("a", Some("r"), with_cost(5, 0.1)),
        call("b", Some("r"), with_cost(3, 0.2)),
        call("c", Some("a"), with_cost(9, 0.7)),
    ];
    let ids = ["r", "a", "b", "c"];
    let reference = usage(&calls, req(&ids, true), json!({})).unwrap();
    let mut dedupe = usage(&calls, req(&ids, true), DEDUPE()).unwrap();
    assert_eq!(dedupe["diagnostics"]["deduped_call_ids"], json!([]));
    dedupe.as_object_mut().unwrap().remove("diagnostics");
    assert_eq!(dedupe.to_string(), reference.to_string());
    assert_eq!(prompt(&reference, "r"), 17);
}

#[test]
fn mixed_traces_dedupe_the_local_parts_only() {
    // An OTLP root r (no usage of its own) over two local subtrees: a's
    // client summed a1 and a2 into a; b called a remote service whose span
    // b1 is b's child but not in b's usage; b1's own client summed b2 into it.
    let calls = [
        call("r", None, json!({})),
        call("a", Some("r"), ur(1 + 10 + 20, 3)),
        call("a1", Some("a"), ur(10, 1)),
        call("a2", Some("a"), ur(20, 1)),
        call("b", Some("r"), ur(2, 1)),
        call("b1", Some("b"), ur(3 + 40, 2)),
        call("b2", Some("b1"), ur(40, 1)),
    ];
    let ids = ["r", "a", "b", "b1"];
    let dedupe = usage(&calls, req(&ids, false), DEDUPE()).unwrap();
    // The true total: every call's own LLM usage once.
    assert_eq!(prompt(&dedupe, "r"), 1 + 10 + 20 + 2 + 3 + 40);
    assert_eq!(prompt(&dedupe, "a"), 31);
    assert_eq!(prompt(&dedupe, "b"), 2 + 43, "b does not cover b1: added as before");
    assert_eq!(prompt(&dedupe, "b1"), 43);
    assert_eq!(dedupe["diagnostics"]["deduped_call_ids"], json!(["a", "b1"]));
    let reference = usage(&calls, req(&ids, false), json!({})).unwrap();
    assert_eq!(prompt(&reference, "r"), 31 + 30 + 2 + 43 + 40);
}

#[test]
fn covering_means_every_model_and_every_counter() {
    let two = |a: (i64, i64), b: (i64, i64)| json!({"usage": {"m": {"prompt_tokens": a.0, "completion_tokens": a.1}, "n": {"prompt_tokens": b.0, "completion_tokens": b.1}}});
    // The parent lacks model n: not covered.
    let calls = [call("r", None, u(100, 100)), call("c", Some("r"), two((1, 1), (1, 1)))];
    assert_eq!(prompt(&usage(&calls, req(&["r"], false), DEDUPE()).unwrap(), "r"), 101);
    // One counter smaller (completion): not covered.
    let calls = [call("r", None, two((100, 0), (100, 100))), call("c", Some("r"), two((1, 1), (1, 1)))];
    assert_eq!(prompt(&usage(&calls, req(&["r"], false), DEDUPE()).unwrap(), "r"), 101);
    // Equal counters cover.
    let calls = [call("r", None, two((1, 1), (1, 1))), call("c", Some("r"), two((1, 1), (1, 1)))];
    assert_eq!(prompt(&usage(&calls, req(&["r"], false), DEDUPE()).unwrap(), "r"), 1);
}

#[test]
fn dedupe_terminates_on_cycles() {
    let calls = [call("a", Some("b"), u(5, 0)), call("b", Some("a"), u(5, 0)), call("x", Some("a"), u(2, 0))];
    let res = usage(&calls, req(&["a", "b"], false), DEDUPE()).unwrap();
    // a absorbed x (its own 5 covers x's 2): a counts as itself.
    assert_eq!((prompt(&res, "a"), prompt(&res, "b")), (5, 5));
    assert_eq!(res["diagnostics"]["cycle_call_ids"], json!(["a", "b"]));
    assert_eq!(res["diagnostics"]["deduped_call_ids"], json!(["a"]));
}

// ---- diagnostics ----

#[test]
fn diagnostics_only_when_asked() {
    let calls = [call("r", None, u(1, 1))];
    let plain = usage(&calls, req(&["r"], false), json!({})).unwrap();
    assert!(plain.get("diagnostics").is_none());
    assert!(usage(&calls, req(&["r"], false), json!({"diagnostics": false})).unwrap().get("diagnostics").is_none());
    let with = usage(&calls, req(&["r"], false), json!({"diagnostics": true})).unwrap();
    let mut without = with.clone();
    without.as_object_mut().unwrap().remove("diagnostics");
    assert_eq!(without, plain, "the answer itself does not change");
    assert_eq!(
        with["diagnostics"],
        json!({"calls_in_scope": 1, "calls_cut_by_limit": 0, "orphan_call_ids": [], "cycle_call_ids": [], "duplicate_call_ids": [], "unreadable_values": [], "prompt_and_input_tokens": [], "negative_costs": []})
    );
}

#[test]
fn prompt_and_input_tokens_spares_the_clients_sums() {
    // p's client summed a Chat API child (prompt_tokens) and a Responses API
    // child (input_tokens) of one model: p holds both, as a sum. l holds
    // both itself: that is the suspicious case.
    let both = |p: i64, i: i64| json!({"usage": {"m": {"prompt_tokens": p, "input_tokens": i}}});
    let calls = [
        call("r", None, both(10, 20)),
        call("p", Some("r"), both(10, 20)),
        call("chat", Some("p"), both(10, 0)),
        call("resp", Some("p"), both(0, 20)),
        call("l", Some("r"), json!({"usage": {"n": {"prompt_tokens": 5, "input_tokens": 5}}})),
    ];
    let res = usage(&calls, req(&["r"], false), json!({"diagnostics": true})).unwrap();
    assert_eq!(res["diagnostics"]["prompt_and_input_tokens"], json!([{"call_id": "l", "model": "n"}]));
    // r holds n only through l, which is reported; a parent holding both of
    // a model no child has is reported too.
    let calls = [call("r", None, both(1, 1)), call("c", Some("r"), tokens("other", 1, 1))];
    let res = usage(&calls, req(&["r"], false), json!({"diagnostics": true})).unwrap();
    assert_eq!(res["diagnostics"]["prompt_and_input_tokens"], json!([{"call_id": "r", "model": "m"}]));
}

#[test]
fn negative_costs_and_unpriced_models_are_about_stored_costs() {
    let with_costs = |model: &str, p: i64, costs: Json| json!({"usage": {model: {"input_tokens": p, "cache_read_input_tokens": 100}}, "weave": {"costs": {model: costs}}});
    let calls = [
        call(
            "r",
            None,
            with_costs(
                "claude",
                10,
                json!({"prompt_tokens_total_cost": -0.0003, "completion_tokens_total_cost": 0.0, "cache_read_input_tokens_total_cost": 0.00003}),
            ),
        ),
        call(
            "a",
            Some("r"),
            with_costs("claude", 10, json!({"prompt_tokens_total_cost": -0.0003, "cache_creation_input_tokens_total_cost": -1e-9})),
        ),
        call("b", Some("r"), tokens("unpriced", 5, 5)),
        call("c", Some("r"), tokens("gpt", 5, 5)),
    ];
    let rows = json!([row("gpt", 1.0, 1.0, "2024-01-01")]);
    let res = usage(&calls, req(&["r"], true), json!({"diagnostics": true, "prices": rows})).unwrap();
    let d = &res["diagnostics"];
    assert_eq!(
        d["negative_costs"],
        json!([
            {"call_id": "a", "model": "claude", "field": "prompt_tokens_total_cost"},
            {"call_id": "a", "model": "claude", "field": "cache_creation_input_tokens_total_cost"},
            {"call_id": "r", "model": "claude", "field": "prompt_tokens_total_cost"},
        ])
    );
    // claude has stored costs (used as given), gpt a row: only one model
    // had neither.
    assert_eq!(d["unpriced_models"], json!(["unpriced"]));
    // Repriced, stored costs do not count: claude has no row either.
    let res = usage(&calls, req(&["r"], true), json!({"diagnostics": true, "prices": rows, "reprice": true})).unwrap();
    assert_eq!(res["diagnostics"]["unpriced_models"], json!(["claude", "unpriced"]));
    assert_eq!(res["diagnostics"]["negative_costs"], json!([]), "stored costs not read");
    // Without include_costs, costs are not read: nothing negative.
    let res = usage(&calls, req(&["r"], false), json!({"diagnostics": true})).unwrap();
    assert_eq!(res["diagnostics"]["negative_costs"], json!([]));
}

#[test]
fn every_diagnostic_is_reported() {
    let later = |mut c: Json, at: &str| {
        c["started_at"] = json!(at);
        c
    };
    let calls = [
        call(
            "r",
            None,
            json!({"usage": {"m": {"prompt_tokens": "1.5", "input_tokens": 4, "completion_tokens": [], "requests": {"x": 1}}, "n": {"prompt_tokens": 2, "input_tokens": 2, "total_tokens": "abc", "cache_read_input_tokens": "7"}}, "weave": {"costs": {"m": {"prompt_tokens_total_cost": "cheap", "completion_tokens_total_cost": 0.5}}}}),
        ),
        // Duplicate keys: the last value counts, for diagnostics too.
        json!({"id": "d", "trace_id": "t", "parent_id": "r", "started_at": "2025-03-01T09:00:01Z", "ended_at": "x", "summary": {"usage": {"m": {"prompt_tokens": "x", "prompt_tokens": 3}}}}),
        call("o", Some("gone"), u(1, 0)),
        call("y1", Some("y2"), u(1, 0)),
        call("y2", Some("y1"), u(1, 0)),
        call("dup", Some("r"), u(1, 0)),
        call("dup", Some("r"), u(2, 0)),
        // Deleted copies are not duplicates.
        json!({"id": "o", "trace_id": "t", "deleted_at": "x"}),
        later(call("late1", Some("r"), u(1, 0)), "2025-03-01T10:00:00Z"),
        later(call("late2", Some("r"), u(1, 0)), "2025-03-01T11:00:00Z"),
    ];
    // Scope: 8 distinct live calls; limit 6 cuts late1 and late2.
    let mut request = req(&["r"], true);
    request["limit"] = json!(6);
    let res = usage(&calls, request.clone(), json!({"diagnostics": true, "prices": [row("m", 1.0, 1.0, "2024-01-01")]})).unwrap();
    let d = &res["diagnostics"];
    assert_eq!(d["calls_in_scope"], 6);
    assert_eq!(d["calls_cut_by_limit"], 2);
    assert_eq!(d["orphan_call_ids"], json!(["o"]));
    assert_eq!(d["cycle_call_ids"], json!(["y1", "y2"]));
    assert_eq!(d["duplicate_call_ids"], json!(["dup"]));
    assert_eq!(
        d["unreadable_values"],
        json!([
            {"call_id": "r", "model": "m", "field": "requests"},
            {"call_id": "r", "model": "m", "field": "prompt_tokens"},
            {"call_id": "r", "model": "m", "field": "completion_tokens"},
            {"call_id": "r", "model": "m", "field": "prompt_tokens_total_cost"},
            {"call_id": "r", "model": "n", "field": "total_tokens"},
        ])
    );
    assert_eq!(d["prompt_and_input_tokens"], json!([{"call_id": "r", "model": "n"}]));
    assert_eq!(d["unpriced_models"], json!(["n"]));
    assert!(d.get("deduped_call_ids").is_none(), "only with rollup dedupe");
    // The limit cut the later calls out of the roll-up too.
    // r: its own 4 (the unreadable "1.5" is 0), d's 3 and the last dup's 2.
    assert_eq!(res["call_usage"]["r"]["m"]["prompt_tokens"], 4 + 3 + 2);

    // Cost fields are only reported when costs were read from the calls.
    let d = &usage(
        &calls,
        {
            let mut r = request.clone();
            r["include_costs"] = json!(false);
            r
        },
        json!({"diagnostics": true}),
    )
    .unwrap()["diagnostics"];
    assert_eq!(d["unreadable_values"].as_array().unwrap().len(), 4);
    assert!(d.get("unpriced_models").is_none(), "only with prices");
    let d = &usage(&calls, request, json!({"diagnostics": true, "prices": [], "reprice": true})).unwrap()["diagnostics"];
    assert_eq!(d["unreadable_values"].as_array().unwrap().len(), 4, "repriced: given costs were not read");
    assert_eq!(d["unpriced_models"], json!(["m", "n"]));
}

#[test]
fn diagnostics_without_a_scope() {
    let calls = [call("r", None, u(1, 0))];
    for request in [req(&[], false), req(&["nowhere"], false)] {
        let res = usage(&calls, request, json!({"diagnostics": true})).unwrap();
        assert_eq!(res["diagnostics"]["calls_in_scope"], 0);
    }
}

// ---- /trace/usage ----

#[test]
fn trace_usage_gives_every_call_its_subtree() {
    let calls = [
        call("r", None, u(1, 0)),
        call("a", Some("r"), u(10, 0)),
        json!({"id": "b", "trace_id": "t", "parent_id": "a", "started_at": "2025-03-01T09:00:02Z", "summary": {"usage": {"m": {"prompt_tokens": 100}}}}),
        call("s", None, json!({})),
        json!({"id": "x", "trace_id": "t2", "started_at": "2025-03-01T08:00:00Z", "ended_at": "y", "summary": {"usage": {"m": {"prompt_tokens": 1000}}}}),
        json!({"id": "z", "trace_id": "t2", "project_id": "other", "summary": {"usage": {"m": {"prompt_tokens": 1}}}}),
        json!({"id": "gone", "trace_id": "t2", "deleted_at": "y"}),
    ];
    let res = trace(&calls, json!({"project_id": "p"}), json!({})).unwrap();
    let ids: Vec<&String> = res["call_usage"].as_object().unwrap().keys().collect();
    assert_eq!(ids, ["x", "a", "r", "s", "b"], "every live call of the project, in the server's order");
    assert_eq!((prompt(&res, "r"), prompt(&res, "a"), prompt(&res, "b"), prompt(&res, "x")), (111, 110, 100, 1000));
    assert_eq!(res["call_usage"]["s"], json!({}));
    assert_eq!(res["unfinished_call_ids"], json!(["b"]));
    assert_eq!(res["call_usage"]["r"]["m"]["prompt_tokens_total_cost"], Json::Null);
    // Each call's usage is what /calls/usage gives for it.
    for id in ["r", "a", "b", "s"] {
        let one = usage(&calls, req(&[id], false), json!({})).unwrap();
        assert_eq!(one["call_usage"][id], res["call_usage"][id], "{id}");
    }
    // Filters narrow the scope; limit cuts it in the server's order.
    let only_t2 = trace(&calls, json!({"project_id": "p", "filter": {"trace_ids": ["t2", "unknown"]}}), json!({})).unwrap();
    assert_eq!(only_t2["call_usage"].as_object().unwrap().keys().collect::<Vec<_>>(), ["x"]);
    let by_id = trace(&calls, json!({"project_id": "p", "filter": {"call_ids": ["r", "b"], "trace_ids": []}}), json!({})).unwrap();
    assert_eq!((prompt(&by_id, "r"), prompt(&by_id, "b")), (1, 100), "a is filtered out, so b is an orphan root");
    let cut = trace(&calls, json!({"project_id": "p", "limit": 2}), json!({"diagnostics": true})).unwrap();
    assert_eq!(cut["call_usage"].as_object().unwrap().keys().collect::<Vec<_>>(), ["x", "a"]);
    assert_eq!(cut["diagnostics"]["calls_cut_by_limit"], 3);
    assert_eq!(cut["diagnostics"]["orphan_call_ids"], json!(["a"]));
    let none = trace(&calls, json!({"project_id": "p", "filter": {"trace_ids": ["unknown"]}}), json!({})).unwrap();
    assert_eq!(none, json!({"call_usage": {}, "unfinished_call_ids": []}));
    assert_eq!(trace(&[], json!({"project_id": "p"}), json!({})).unwrap(), json!({"call_usage": {}, "unfinished_call_ids": []}));
}

#[test]
fn trace_usage_takes_the_options() {
    let calls = [call("r", None, u(1 + 10, 0)), call("a", Some("r"), u(10, 0))];
    let res = trace(
        &calls,
        json!({"project_id": "p", "include_costs": true}),
        json!({"rollup": "dedupe", "prices": [row("m", 1.0, 0.0, "2024-01-01")], "diagnostics": true}),
    )
    .unwrap();
    assert_eq!(prompt(&res, "r"), 11);
    assert_eq!(costs(&res["call_usage"]["r"]["m"]), [11.0, 0.0, 0.0, 0.0]);
    assert_eq!(res["diagnostics"]["deduped_call_ids"], json!(["r"]));
    let e = trace(&calls, json!({"project_id": "p", "call_ids": ["r"]}), json!({})).unwrap_err();
    assert_eq!(
        (e.detail[0].kind.as_str(), format!("{:?}", e.detail[0].loc)),
        ("extra_forbidden", r#"[Key("body"), Key("call_ids")]"#.into())
    );
    let e = trace(&calls, json!({"project_id": "p"}), json!({"rollup": "dedup"})).unwrap_err();
    assert_eq!(e.detail[0].msg, "Input should be 'reference' or 'dedupe'");
}
