#![cfg(not(target_arch = "wasm32"))]
//! Memory bounds through the native core: the size of an answer is known
//! (and refused when too long for one JavaScript string) before it is
//! built, and the sizes computed on the way never overflow. What memory
//! exhaustion itself gives (the 413s) is tested in wasm, where memory ends
//! at 4 GiB: tests/js/memory.test.mjs.

use weave_usage::internals::{AnswerSize, ANSWER_LIMIT};
use weave_usage::{calls_usage_from_json, trace_usage_from_json, Num, UsageError, Value};

fn request(ids: &[String], limit: i128) -> Value {
    Value::Object(vec![
        ("project_id".into(), Value::String("p".into())),
        ("call_ids".into(), Value::Array(ids.iter().cloned().map(Value::String).collect())),
        ("limit".into(), Value::Number(Num::Int(limit))),
    ])
}

/// A parent chain of `n` calls, each with a model of its own: call `k`'s
/// rolled-up usage has `n - k` models.
fn chain(n: usize) -> String {
    (0..n)
        .map(|i| {
            let parent = if i == 0 { "null".to_string() } else { format!("\"c{}\"", i - 1) };
            format!("{{\"id\":\"c{i}\",\"trace_id\":\"t\",\"parent_id\":{parent},\"ended_at\":\"x\",\"summary\":{{\"usage\":{{\"model-{i}\":{{\"requests\":1,\"prompt_tokens\":10}}}}}}}}\n")
        })
        .collect()
}

fn too_large(e: &UsageError) -> (u16, &str, &str) {
    (e.status, e.detail[0].kind.as_str(), e.detail[0].msg.as_str())
}

#[test]
fn distinct_ids_and_an_empty_body_are_answered_in_text_reserved_at_its_exact_size() {
    // The text was reserved as 64 + 400 bytes per id: for 5,400,000 ids
    // more than a wasm32 allocation can be (2 GiB), which trapped (the
    // package test asks for those). It is reserved at its exact size.
    let n = 540_000;
    let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let res = calls_usage_from_json(b"", &request(&ids, 1), None).unwrap();
    assert_eq!(res.call_usage.len(), n);
    assert!(res.call_usage.iter().all(|(_, models)| models.is_empty()));
    let text = res.to_json().unwrap();
    assert_eq!((text.len(), text.capacity()), (res.json_len(true), res.json_len(true)));
    assert!(text.starts_with(r#"{"call_usage":{"c0":{},"c1":{},"#) && text.ends_with(r#""c539999":{}},"unfinished_call_ids":[]}"#));
}

#[test]
fn a_chain_with_a_model_per_call_and_every_id_requested_is_a_500_before_its_copies_are_made() {
    // 3,000 calls: the answer would hold 4.5 million entries, 1.3 GB of
    // JSON; the rollup stops once the copies it keeps make it too long.
    let n = 3_000;
    let body = chain(n);
    let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let e = calls_usage_from_json(body.as_bytes(), &request(&ids, n as i128), None).unwrap_err();
    let (status, kind, msg) = too_large(&e);
    assert_eq!((status, kind, &e.detail[0].loc), (500, "response_too_large", &vec![weave_usage::Loc::from("response")]));
    let at_least: usize = msg
        .strip_prefix("The answer is at least ")
        .and_then(|m| m.split(' ').next())
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("{msg}"));
    // Stopped at the list that took it over: one list is at most 3,000 entries.
    assert!(at_least > ANSWER_LIMIT && at_least < ANSWER_LIMIT + 3_000 * 300, "{msg}");
    assert!(
        msg.ends_with(
            "more than the 536870888 bytes one JavaScript string can hold (V8's longest string); ask for fewer call ids or a smaller limit"
        ),
        "{msg}"
    );
    // /trace/usage reports every call's subtree: the same.
    let trace = Value::Object(vec![("project_id".into(), Value::String("p".into())), ("limit".into(), Value::Number(Num::Int(n as i128)))]);
    assert_eq!(too_large(&trace_usage_from_json(body.as_bytes(), &trace, None).unwrap_err()).1, "response_too_large");
    // The root alone is a short answer: its 3,000 models.
    let res = calls_usage_from_json(body.as_bytes(), &request(&ids[..1], n as i128), None).unwrap();
    assert_eq!(res.call_usage[0].1.len(), n);
    assert!(res.call_usage[0].1.iter().all(|m| m.tokens[0] == 1 && m.tokens[1] == 10));
    // The lower half of a shorter chain is answered: 125,250 entries.
    let (n, body) = (1_000, chain(1_000));
    let half = calls_usage_from_json(body.as_bytes(), &request(&ids[n / 2..n], n as i128), None).unwrap();
    let entries: usize = half.call_usage.iter().map(|(_, m)| m.len()).sum();
    assert_eq!(entries, (1..=n / 2).sum::<usize>());
    assert_eq!(half.to_json().unwrap().len(), half.json_len(true));
}

#[test]
fn the_answers_size_is_counted_from_below_and_saturates() {
    let mut size = AnswerSize::new(false);
    let base = size.bytes();
    assert_eq!(base, r#"{"call_usage":{},"unfinished_call_ids":[]}"#.len() - 2);
    size.key(2);
    size.entry(1);
    // `{"call_usage":{"ab":{"m":{…}}},…}`: each count one digit, each cost `null`.
    let entry = r#""m":{"requests":0,"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"prompt_tokens_total_cost":null,"completion_tokens_total_cost":null,"cache_read_input_tokens_total_cost":null,"cache_creation_input_tokens_total_cost":null}"#;
    assert_eq!(size.bytes(), base + r#""ab":{},"#.len() + entry.len());
    let mut with_costs = AnswerSize::new(true);
    with_costs.entry(1);
    assert_eq!(with_costs.bytes() - base, entry.len() - 4 * "null".len() + 4 * "0.0".len());
    assert!(size.check().is_ok());
    // Past the limit: a 500 saying how much at least, never an overflow.
    size.add(ANSWER_LIMIT);
    let e = size.check().unwrap_err();
    assert_eq!((e.status, e.detail[0].kind.as_str()), (500, "response_too_large"));
    assert!(e.detail[0].msg.starts_with(&format!("The answer is at least {} bytes of JSON", size.bytes())));
    for add in [AnswerSize::key, AnswerSize::entry, AnswerSize::item] {
        add(&mut size, usize::MAX);
    }
    assert_eq!(size.bytes(), usize::MAX);
    assert!(size.check().is_err());
}
