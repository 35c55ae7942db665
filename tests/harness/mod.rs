//! The checks behind the fuzz targets (`fuzz/fuzz_targets/*.rs` include this
//! file by path) and behind `tests/fuzz_regressions.rs`, which replays every
//! input a fuzzer ever crashed on: one copy, so a replayed input is checked
//! exactly as the fuzzer checked it.
//!
//! Each check panics on a violation. Beyond "no panic in the crate", they
//! assert what must hold for any input:
//! - [`bytes`]: the parser and rollup on an arbitrary body: a response keeps
//!   its invariants, an error has the contract's shape, and the framing
//!   agrees with serde_json (an independent, strict JSON reader) about which
//!   bodies are JSON at all;
//! - [`request`]: an arbitrary argument text read, compared with serde_json
//!   value by value, and validated;
//! - [`stream`]: an arbitrary body in arbitrary chunks gives exactly what it
//!   gives in one piece (a differential check), call by call; and so does a
//!   table made for stats, which reads the same calls (or refuses one whose
//!   stats fields are of the wrong type) and answers a stats request alike;
//! - [`parts`]: arbitrary bytes imported as parts (`callsUsageFromParts`)
//!   are a table that answers like any other, or a 422 at `["parts"]`; and
//!   the parts of a body cut in two make the table of the whole body (and,
//!   each piece read for one request, as weave-usage/parallel reads shards,
//!   answer that request as it does), while a cut-short or altered part is
//!   imported or refused, never a panic.
#![allow(dead_code)]

use serde_json::Value as Json;
use weave_usage::internals::{CallTable, NONE};
use weave_usage::{CallStream, CallsUsageRes, Num, Select, UsageError, UsageRequest, Value};
use weave_usage::{Kind, Loc};

// ---------------------------------------------------------------- bytes

/// The bytes path (`callsUsageFromJson`): `data` is the body.
pub fn bytes(data: &[u8]) {
    let mut stream = CallStream::new();
    let outcome = stream.push(data).and_then(|()| stream.finish().map(|_| ()));
    framing_agrees_with_serde(data, outcome.as_ref().map(|_| ()));
    match outcome {
        Err(e) => {
            check_body_error(&e, data);
            // The one-call API reports the same error, for a request that
            // reaches none of the calls read and for one that reaches some
            // (it passes over the calls it cannot reach).
            for req in [fixed_request(), derived_request(stream.table(), data.len() as u64)] {
                assert_eq!(weave_usage::calls_usage_from_json(data, &req, None).err(), Some(e.clone()));
            }
        }
        Ok(()) => {
            assert!(stream.finish().is_ok(), "a second finish fails");
            let table = stream.table();
            assert_eq!(stream.bytes_read(), data.len() as u64, "a finished stream has read the whole body");
            assert_eq!(stream.calls(), table.calls().len());
            for req in [fixed_request(), derived_request(table, data.len() as u64), derived_request(table, 1)] {
                let prepared = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
                let res = weave_usage::compute(table, &prepared).expect("a small body has a small answer");
                check_response(&res, &prepared.request, table);
                if req != derived_request(table, 1) {
                    // The one-call API, which reads in full only the calls the
                    // request reaches: the same answer, diagnostics included.
                    let once = weave_usage::calls_usage_from_json(data, &req, None).expect("the same body read again");
                    assert_eq!(once.to_json(), res.to_json());
                    let options = Value::Object(vec![("diagnostics".into(), Value::Bool(true))]);
                    let prepared = weave_usage::prepare(&req, Some(&options)).expect("valid options");
                    let with = weave_usage::calls_usage_from_json(data, &req, Some(&options)).and_then(|r| r.to_json());
                    assert_eq!(with, weave_usage::compute(table, &prepared).and_then(|r| r.to_json()));
                }
            }
        }
    }
}

/// A request with ids of every awkward kind.
fn fixed_request() -> Value {
    request_value("acme/agents", &["a", "__proto__", "", "a", "root"], true, 10_000)
}

/// A request for ids the body holds: the first, middle and last calls and
/// the first one's parent, in the first call's project; `salt` picks the
/// limit (sometimes below the scope's size) and whether costs are included.
fn derived_request(table: &CallTable, salt: u64) -> Value {
    let calls = table.calls();
    let mut ids: Vec<&str> = Vec::new();
    let mut project = "acme/agents";
    if let (Some(first), Some(last)) = (calls.first(), calls.last()) {
        ids.push(table.str(first.id));
        ids.push(table.str(last.id));
        if let Some(mid) = calls.get(calls.len() / 2) {
            ids.push(table.str(mid.id));
        }
        if first.parent != NONE {
            ids.push(table.str(first.parent));
        }
        if first.project != NONE {
            project = table.str(first.project);
        }
    }
    ids.push("no such call");
    let limit = 1 + salt % (calls.len() as u64 + 3);
    request_value(project, &ids, salt.is_multiple_of(2), limit)
}

fn request_value(project: &str, ids: &[&str], include_costs: bool, limit: u64) -> Value {
    Value::Object(vec![
        ("project_id".into(), Value::String(project.into())),
        ("call_ids".into(), Value::Array(ids.iter().map(|s| Value::String((*s).into())).collect())),
        ("include_costs".into(), Value::Bool(include_costs)),
        ("limit".into(), Value::Number(Num::Int(i128::from(limit)))),
    ])
}

/// What every response must satisfy, whatever the calls.
fn check_response(res: &CallsUsageRes, req: &UsageRequest, table: &CallTable) {
    // Each requested id once, in request order.
    let mut distinct: Vec<&str> = Vec::new();
    for id in &req.call_ids {
        if !distinct.contains(&id.as_str()) {
            distinct.push(id);
        }
    }
    let keys: Vec<&str> = res.call_usage.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(keys, distinct, "call_usage has each requested id once, in order");
    for (id, models) in &res.call_usage {
        for (i, m) in models.iter().enumerate() {
            assert!(models.iter().skip(i + 1).all(|n| n.model != m.model), "model {:?} twice under {id:?}", m.model);
            if !req.include_costs {
                assert!(m.costs.iter().all(|&c| c == 0.0), "costs without include_costs");
            }
        }
    }
    // Unfinished: distinct, sorted, ids of calls that were read, at most `limit`.
    let u = &res.unfinished_call_ids;
    assert!(u.windows(2).all(|w| w[0] < w[1]), "unfinished_call_ids sorted and distinct: {u:?}");
    assert!(u.iter().all(|id| table.lookup(id).is_some()), "unfinished ids are read ids");
    assert!(u.len() as u64 <= req.limit);
    if req.call_ids.is_empty() {
        assert!(res.call_usage.is_empty() && u.is_empty());
    }
    // The text handed to JSON.parse is JSON, with the same keys.
    let text = res.to_json().expect("a small answer is written");
    let json: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"));
    let by_id = json["call_usage"].as_object().expect("call_usage is an object");
    assert_eq!(by_id.len(), res.call_usage.len());
    for (id, models) in &res.call_usage {
        let written = by_id[id.as_str()].as_object().expect("a call's usage is an object");
        assert_eq!(written.len(), models.len());
        for entry in written.values() {
            assert_eq!(entry.as_object().map(|o| o.len()), Some(10), "ten fields per model");
        }
    }
    assert_eq!(json["unfinished_call_ids"].as_array().map(Vec::len), Some(u.len()));
}

/// A body's error: 400 at a byte offset inside the body (with its line and
/// column), or 422 at a call.
fn check_body_error(e: &UsageError, body: &[u8]) {
    let body_len = body.len();
    assert!(!e.detail.is_empty(), "an error has detail");
    assert!(!e.to_string().is_empty());
    match e.status {
        400 => {
            assert_eq!(e.detail.len(), 1);
            let d = &e.detail[0];
            assert_eq!(d.kind, "json_invalid");
            let [Loc::Key(key), Loc::Index(at)] = d.loc.as_slice() else { panic!("400 loc {:?}", d.loc) };
            assert_eq!(key, "body");
            assert!(*at <= body_len, "offset {at} beyond the body ({body_len})");
            // Line and column, counted independently: raw line breaks only
            // occur in white space, and a column counts characters (bytes
            // that are not UTF-8 continuation bytes) since the last one.
            let before = body.get(..*at).unwrap_or_default();
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = 1 + before.get(start..).unwrap_or_default().iter().filter(|&&b| !(0x80..0xc0).contains(&b)).count();
            let prefix = format!("Invalid JSON at line {line}, column {column} (byte {at}): ");
            assert!(d.msg.starts_with(&prefix), "{} (want {prefix}…)", d.msg);
        }
        422 => {
            for d in &e.detail {
                assert!(matches!(d.loc.as_slice(), [Loc::Key(c), Loc::Index(_), ..] if c == "calls"), "422 loc {:?}", d.loc);
                assert!(["dict_type", "missing", "string_type"].contains(&d.kind.as_str()), "{}", d.kind);
            }
        }
        s => panic!("status {s}"),
    }
}

/// serde_json's verdicts that this crate deliberately does not share: it
/// reads lone surrogate escapes (as U+FFFD), numbers beyond f64 (as
/// infinities; integers exactly) and nesting of any depth.
fn serde_is_only_stricter(e: &serde_json::Error) -> bool {
    let m = e.to_string();
    ["surrogate", "hex escape", "unicode code point", "number out of range", "recursion limit"].iter().any(|s| m.contains(s))
}

/// The framing against serde_json: a body that is JSON (an array, or one
/// value per line) is never refused as "not JSON" (400); a body that is read
/// whole is JSON by serde_json's reading too.
fn framing_agrees_with_serde(data: &[u8], ours: Result<(), &UsageError>) {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let first = body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if first == Some(&b'[') {
        let theirs = serde_json::from_slice::<Json>(body);
        match (&theirs, ours) {
            (Ok(_), Err(e)) => assert_ne!(e.status, 400, "serde_json reads this array: {e}"),
            (Err(t), Ok(())) => assert!(serde_is_only_stricter(t), "read an array serde_json refuses: {t}"),
            _ => {}
        }
        return;
    }
    // JSON Lines. One value on each non-blank line: never a 400.
    let line_wise = body.split(|&b| b == b'\n').all(|line| {
        let t = trim_ws(line);
        t.is_empty() || serde_json::from_slice::<Json>(t).is_ok()
    });
    if line_wise {
        if let Err(e) = ours {
            assert_ne!(e.status, 400, "every line is a JSON value: {e}");
        }
    }
    // Read whole: serde_json reads the same sequence of values.
    if ours.is_ok() {
        for v in serde_json::Deserializer::from_slice(body).into_iter::<Json>() {
            if let Err(t) = v {
                assert!(serde_is_only_stricter(&t), "read JSON Lines serde_json refuses: {t}");
                break;
            }
        }
    }
}

fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

// ---------------------------------------------------------------- request

/// Request validation: `data` is the JSON text of a request (or options)
/// argument, as the boundary receives it from `JSON.stringify`.
pub fn request(data: &[u8]) {
    let ours = weave_usage::argument_from_json(data, "body");
    let theirs = serde_json::from_slice::<Json>(data);
    let v = match (ours, &theirs) {
        (Err(e), Ok(_)) => panic!("serde_json reads an argument this crate refuses: {e}"),
        (Ok(_), Err(t)) if !serde_is_only_stricter(t) => panic!("read an argument serde_json refuses: {t}"),
        (Err(e), Err(_)) => {
            assert_eq!(e.status, 422);
            assert_eq!(e.detail[0].kind, "json_invalid");
            assert!(e.detail[0].msg.starts_with("body is not JSON: "));
            return;
        }
        (Ok(v), _) => v,
    };
    if let Ok(j) = &theirs {
        assert_same_value(&v, &shaped(j, 0), "$");
    }

    match weave_usage::prepare(&v, None) {
        Ok(p) => {
            let r = &p.request;
            assert!(r.limit >= 1);
            if let Ok(j) = &theirs {
                assert_eq!(j["project_id"].as_str(), Some(r.project_id.as_str()));
                let ids: Vec<&str> = j["call_ids"].as_array().expect("call_ids is a list").iter().filter_map(Json::as_str).collect();
                assert_eq!(ids, r.call_ids);
            }
            // And the request answers over a small fixed table.
            let mut stream = CallStream::new();
            stream.push(SMALL_BODY.as_bytes()).expect("the fixed body is valid");
            let table = stream.finish().expect("the fixed body is valid");
            check_response(&weave_usage::compute(table, &p).expect("a small body has a small answer"), r, table);
        }
        Err(e) => {
            assert_eq!(e.status, 422);
            assert!(!e.detail.is_empty());
            for d in &e.detail {
                assert!(matches!(d.loc.first(), Some(Loc::Key(b)) if b == "body"), "{:?}", d.loc);
                let known = [
                    "model_type",
                    "missing",
                    "string_type",
                    "list_type",
                    "bool_type",
                    "bool_parsing",
                    "int_type",
                    "int_parsing",
                    "int_from_float",
                    "int_parsing_size",
                    "finite_number",
                    "greater_than_equal",
                    "extra_forbidden",
                ];
                assert!(known.contains(&d.kind.as_str()), "{}", d.kind);
            }
        }
    }

    // The same text as options: null and {} pass; anything but an object
    // fails as a whole, an object with a key that is not an option fails on
    // that key; every failure is a 422 under "options".
    let valid = request_value("p", &["a"], false, 5);
    let as_options = weave_usage::prepare(&valid, Some(&v));
    const OPTIONS: [&str; 5] = ["prices", "reprice", "rollup", "diagnostics", "limit"];
    match (&v, &as_options) {
        (Value::Null, _) => assert!(as_options.is_ok(), "null options"),
        (Value::Object(e), _) if e.is_empty() => assert!(as_options.is_ok(), "empty options"),
        (Value::Object(_), Ok(_)) => {}
        (_, Ok(_)) => panic!("options {v:?} are not an object, yet accepted"),
        (_, Err(e)) => {
            assert_eq!(e.status, 422);
            assert!(!e.detail.is_empty());
            for d in &e.detail {
                assert!(matches!(d.loc.first(), Some(Loc::Key(k)) if k == "options"), "{:?}", d.loc);
            }
        }
    }
    if let Value::Object(entries) = &v {
        for (key, _) in entries.iter().filter(|(k, _)| !OPTIONS.contains(&k.as_str())) {
            let e = as_options.as_ref().err().unwrap_or_else(|| panic!("unknown option {key:?} accepted"));
            assert!(
                e.detail.iter().any(|d| d.kind == "extra_forbidden" && d.loc == [Loc::from("options"), Loc::from(key.as_str())]),
                "{key:?}: {:?}",
                e.detail
            );
        }
    } else if !matches!(v, Value::Null) {
        assert!(as_options.as_ref().is_err_and(|e| e.detail.iter().any(|d| d.kind == "model_type")), "options {v:?}");
    }
}

/// A body with cycles, a self-parent, an orphan, a duplicate, a deleted call,
/// another project and hostile ids, for requests to answer over.
const SMALL_BODY: &str = r#"{"id":"a","trace_id":"t","summary":{"usage":{"m":{"prompt_tokens":1}}}}
{"id":"b","trace_id":"t","parent_id":"a","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":2},"__proto__":{"requests":1}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":0.5}}}}}
{"id":"__proto__","trace_id":"t","parent_id":"b","started_at":"2025-01-01T00:00:00Z","summary":{"usage":{"m":{"completion_tokens":"4"}}}}
{"id":"c","trace_id":"u","parent_id":"d","summary":{"usage":{"n":{"total_tokens":8}}}}
{"id":"d","trace_id":"u","parent_id":"c","summary":{"usage":{"n":{"total_tokens":16}}}}
{"id":"s","trace_id":"u","parent_id":"s","ended_at":null}
{"id":"o","trace_id":"u","parent_id":"gone","project_id":"p","summary":{"usage":{"n":{"requests":32}}}}
{"id":"a","trace_id":"t","summary":{"usage":{"m":{"prompt_tokens":64}}}}
{"id":"x","trace_id":"t","deleted_at":"2025-01-01T00:00:00Z"}
{"id":"y","trace_id":"t","project_id":"other"}
"#;

/// serde_json's value cut to the shape the crate builds for arguments
/// (`ARGUMENT_SHAPE`): an object's values, and the items of arrays among
/// them; deeper containers are empty.
fn shaped(j: &Json, level: u8) -> Value {
    match j {
        Json::Object(m) if level == 0 => Value::Object(m.iter().map(|(k, v)| (k.clone(), shaped(v, 1))).collect()),
        Json::Array(a) if level == 1 => Value::Array(a.iter().map(|v| shaped(v, 2)).collect()),
        Json::Object(_) => Value::Object(Vec::new()),
        Json::Array(_) => Value::Array(Vec::new()),
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::String(s) => Value::String(s.clone()),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Number(Num::Int(i128::from(i))),
            (None, Some(u)) => Value::Number(Num::Int(i128::from(u))),
            _ => Value::Number(Num::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
    }
}

/// The entries of an object as a Python dict would hold them: each key once,
/// at the position of its first occurrence, with the value of its last.
fn dict_entries(entries: &[(String, Value)]) -> Vec<(&str, &Value)> {
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        match out.iter_mut().find(|(seen, _)| *seen == k.as_str()) {
            Some(slot) => slot.1 = v,
            None => out.push((k.as_str(), v)),
        }
    }
    out
}

/// The crate's value against serde_json's (shaped): objects compared as a
/// Python dict holds them (first position, last value); numbers by what they
/// denote, since serde_json reads integers beyond u64 as floats.
fn assert_same_value(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let a = dict_entries(a);
            assert_eq!(a.len(), b.len(), "{path}: keys");
            for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                assert_eq!(*ka, kb.as_str(), "{path}: key order");
                assert_same_value(va, vb, &format!("{path}.{ka}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: items");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same_value(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x, y) {
                (Num::Int(i), Num::Int(j)) => i == j,
                (Num::Int(i), Num::Float(f)) => (*i as f64) == *f,
                (Num::BigInt { approx }, Num::Float(f)) | (Num::Float(approx), Num::Float(f)) => approx == f,
                _ => false,
            };
            assert!(same, "{path}: {x:?} vs {y:?}");
        }
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

// ---------------------------------------------------------------- stream

/// The streaming accumulator: `data[0]` picks the largest chunk (and, by its
/// top bit, whether compact calls are read), `data[1..3]` seeds the chunk
/// sizes (0 to that largest), and the rest is the body.
/// Chunked, it must give exactly what one piece gives.
pub fn stream(data: &[u8]) {
    let [pick, lo, hi, body @ ..] = data else { return };
    const LARGEST: [usize; 10] = [1, 2, 3, 5, 8, 16, 64, 256, 4096, 1 << 17];
    let largest = LARGEST[usize::from(*pick & 0x7f) % LARGEST.len()];
    let state = u32::from(*lo) | u32::from(*hi) << 8 | 0x1_0000;
    // The top bit: read as the objects path's text, where a call may also
    // come compact (see `CallTable::compact_calls`).
    let new_stream = || if *pick & 0x80 != 0 { CallStream::with_compact_calls() } else { CallStream::new() };

    let mut whole = new_stream();
    let whole_outcome = whole.push(body).and_then(|()| whole.finish().map(|_| ()));

    let mut chunked = new_stream();
    let chunked_outcome = push_chunked(&mut chunked, body, largest, state);

    match (&whole_outcome, &chunked_outcome) {
        (Err(a), Err(b)) => {
            check_body_error(a, body);
            assert_eq!(a, b, "the same error whatever the chunking");
            // It sticks.
            assert_eq!(chunked.push(b"{}").as_ref().err(), Some(b));
            assert_eq!(chunked.finish().err().as_ref(), Some(b));
        }
        (Ok(()), Ok(())) => {
            assert!(whole.finish().is_ok() && chunked.finish().is_ok(), "a second finish fails");
            let (a, b) = (whole.table(), chunked.table());
            assert_eq!(calls_of(a), calls_of(b), "the same calls whatever the chunking");
            assert_eq!(whole.bytes_read(), chunked.bytes_read());
            assert_eq!(whole.calls(), chunked.calls());
            for req in [fixed_request(), derived_request(a, u64::from(*lo)), derived_request(a, u64::from(*hi))] {
                let p = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
                assert_eq!(weave_usage::compute(a, &p).map(|r| r.to_json()), weave_usage::compute(b, &p).map(|r| r.to_json()));
            }
        }
        (a, b) => panic!("whole: {a:?}\nchunked: {b:?}"),
    }
    if *pick & 0x80 == 0 {
        // Read for one request, in the same chunks: calls passed over may
        // be cut anywhere too. The same error; if complete, the same answer.
        let req = match whole_outcome {
            Ok(()) => derived_request(whole.table(), u64::from(*lo)),
            Err(_) => derived_request(whole.table(), 1),
        };
        let p = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
        let mut some = CallStream::for_calls(&p.request.call_ids).expect("a few ids fit");
        match (push_chunked(&mut some, body, largest, state), &whole_outcome) {
            (Err(got), Err(want)) => assert_eq!(&got, want, "the same error when reading for a request"),
            (Ok(()), Ok(())) => {
                if some.table().complete() {
                    let want = weave_usage::compute(whole.table(), &p).map(|r| r.to_json());
                    assert_eq!(weave_usage::compute(some.table(), &p).map(|r| r.to_json()), want);
                }
            }
            (got, want) => panic!("for a request: {got:?}\nevery call: {want:?}"),
        }
    }
    stats_stream(
        *pick & 0x80 != 0,
        largest,
        u32::from(*lo) | u32::from(*hi) << 8 | 0x1_0000,
        body,
        whole_outcome.is_ok().then(|| calls_of(whole.table())),
    );
}

/// Pushes `body` into `stream` in chunks of 0 to `largest` bytes drawn by
/// xorshift from `state` (so a stats table is chunked as its plain twin
/// was), then finishes it.
fn push_chunked(stream: &mut CallStream, body: &[u8], largest: usize, mut state: u32) -> Result<(), UsageError> {
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state as usize % (largest + 1)).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        stream.push(chunk)?;
        rest = tail;
    }
    stream.finish().map(|_| ())
}

/// [`stream`] for a table made for stats, chunked the same way: whole and
/// chunked agree (calls, stats fields, a stats answer); against the plain
/// table (`plain`: its calls, when it read the body), the same calls, or a
/// 422 at a stats field.
fn stats_stream(compact: bool, largest: usize, state: u32, body: &[u8], plain: Option<Vec<CallText>>) {
    let mut whole = CallStream::for_stats(compact);
    let whole_outcome = whole.push(body).and_then(|()| whole.finish().map(|_| ()));
    let mut chunked = CallStream::for_stats(compact);
    let chunked_outcome = push_chunked(&mut chunked, body, largest, state);
    match (&whole_outcome, &chunked_outcome) {
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "the same error whatever the chunking");
            if plain.is_some() {
                // A compact call for a stats table carries the stats fields
                // too (the objects path writes that form for stats), so a
                // plain table's compact call is not one.
                let stats_field = a.detail.iter().all(|d| {
                    (a.status == 422
                        && matches!(d.loc.as_slice(), [Loc::Key(c), Loc::Index(_), Loc::Key(f)] if c == "calls" && ["op_name", "wb_user_id", "thread_id"].contains(&f.as_str())))
                        || (compact && a.status == 400 && d.kind == Kind::JsonInvalid && d.msg.ends_with("expected a compact call as the objects path writes it"))
                });
                assert!(stats_field, "a body the plain table reads is refused only for a stats field (or, compact, for the form): {a:?}");
            }
        }
        (Ok(()), Ok(())) => {
            let (a, b) = (whole.table(), chunked.table());
            assert_eq!(calls_of(a), calls_of(b), "the same calls whatever the chunking");
            assert_eq!(stats_of(a), stats_of(b), "the same stats fields whatever the chunking");
            assert_eq!(a.stats().map(<[_]>::len), Some(a.calls().len()), "one stats record per call");
            if let Some(plain) = &plain {
                assert_eq!(&calls_of(a), plain, "a stats table reads the calls a plain one reads");
            }
            let text = br#"{"project_id":"p","group_by":["model","op_name","wb_user_id","thread_id","root_op_name"],"limit":3,"include_costs":true,"granularity":"month"}"#;
            let req = weave_usage::stats_request_from_json(text).expect("the harness's stats request reads");
            let p = weave_usage::prepare_stats(&req, None).expect("the harness's stats request is valid");
            let (x, y) = (
                weave_usage::compute_stats(a, &p, &weave_usage::fixed_offset_buckets).and_then(|r| r.to_json()),
                weave_usage::compute_stats(b, &p, &weave_usage::fixed_offset_buckets).and_then(|r| r.to_json()),
            );
            assert_eq!(x, y, "the same stats whatever the chunking");
        }
        (a, b) => panic!("stats table, whole: {a:?}\nchunked: {b:?}"),
    }
}

/// A call's stats fields as text: op name, user, thread, error.
type StatsText = (Option<String>, Option<String>, Option<String>, bool);

/// Each call's stats fields as text.
fn stats_of(t: &CallTable) -> Vec<StatsText> {
    let opt = |s| (s != NONE).then(|| t.str(s).to_string());
    t.stats().unwrap_or_default().iter().map(|r| (opt(r.op), opt(r.user), opt(r.thread), r.error)).collect()
}

/// A call as text (symbols differ between tables that interned in a
/// different order): id, trace, parent, project, started, ended, deleted,
/// and usage with costs as bits (NaN-safe).
type CallText = (String, String, Option<String>, Option<String>, i64, bool, bool, Vec<(String, [i128; 6], [u64; 4])>);

fn calls_of(t: &CallTable) -> Vec<CallText> {
    let opt = |s| (s != NONE).then(|| t.str(s).to_string());
    t.calls()
        .iter()
        .map(|c| {
            let usage = t.usage_of(c).iter().map(|u| (t.str(u.model).to_string(), u.tokens, u.costs.map(f64::to_bits))).collect();
            (t.str(c.id).to_string(), t.str(c.trace).to_string(), opt(c.parent), opt(c.project), c.started, c.ended, c.deleted, usage)
        })
        .collect()
}

// ---------------------------------------------------------------- parts

/// Parts, as the parallel path hands them over: `data[0]`'s low bit picks
/// what the rest is. 0: bytes given as parts, imported or refused. 1: a
/// body, cut after the line `data[0] >> 1` names (modulo the lines); the
/// parts of the two pieces, imported in order, must make exactly the table
/// of the whole body; then those parts cut short and with one byte changed
/// (where: from the body's hash) are imported or refused.
pub fn parts(data: &[u8]) {
    let [mode, rest @ ..] = data else { return };
    if mode & 1 == 0 {
        imported_or_refused(rest);
        return;
    }
    // Tables made for stats write their stats fields into parts too.
    let stats = mode & 2 != 0;
    let read = |body: &[u8]| {
        let mut s = if stats { CallStream::for_stats(false) } else { CallStream::new() };
        s.push(body).and_then(|()| s.finish().map(|_| ())).ok().map(|()| s)
    };
    let Some(whole) = read(rest) else { return };
    let lines = rest.iter().filter(|&&c| c == b'\n').count();
    let nth = usize::from(mode >> 2) % (lines + 1);
    let cut = rest.iter().enumerate().filter(|(_, &c)| c == b'\n').nth(nth).map_or(rest.len(), |(i, _)| i + 1);
    let (x, y) = rest.split_at(cut);
    // A cut inside a JSON array leaves pieces that are no bodies: the
    // parallel path never makes such a split (it checks every shard).
    let (Some(a), Some(b)) = (read(x), read(y)) else { return };
    let mut joined = a.table().part(&Select::All).expect("a small part is written");
    joined.extend(b.table().part(&Select::All).expect("a small part is written"));
    let merged = weave_usage::table_from_parts(&joined).expect("parts as written are imported");
    let w = whole.table();
    assert_eq!(calls_of(&merged), calls_of(w), "the parts of the pieces make the whole body's table");
    assert_eq!(stats_of(&merged), stats_of(w), "and its stats fields, if it has them");
    assert_eq!(merged.stats().is_some(), stats, "a table made for stats exactly from parts with stats fields");
    for req in [fixed_request(), derived_request(w, cut as u64), derived_request(w, 1)] {
        let p = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
        assert_eq!(weave_usage::compute(&merged, &p).map(|r| r.to_json()), weave_usage::compute(w, &p).map(|r| r.to_json()));
    }
    // Read for one request, as weave-usage/parallel reads shards over shared
    // bytes: the same answer (what such a reading fails on, a full one fails on).
    if !stats {
        for req in [derived_request(w, cut as u64), derived_request(w, 1)] {
            let p = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
            let (merged, _) = merged_for_request(&[x, y], &p.request.call_ids).expect("shards read in full are read for a request");
            assert_eq!(
                weave_usage::compute(&merged, &p).map(|r| r.to_json()),
                weave_usage::compute(w, &p).map(|r| r.to_json()),
                "shards read for a request"
            );
        }
    }
    // A selection keeps exactly the calls of its traces and with its ids, in order.
    if let Some(first) = w.calls().first() {
        let (trace, id) = (w.str(first.trace).to_string(), w.str(first.id).to_string());
        let (traces, ids) = (vec![trace.clone()], vec![id.clone()]);
        let part = w.part(&Select::Of { traces: &traces, ids: &ids }).expect("a small part is written");
        let some = weave_usage::table_from_parts(&part).expect("a part as written is imported");
        let kept: Vec<CallText> = calls_of(w).into_iter().filter(|c| c.0 == id || c.1 == trace).collect();
        assert_eq!(calls_of(&some), kept, "a selection keeps its traces' calls and its ids'");
        let kept_stats: Vec<StatsText> =
            calls_of(w).into_iter().zip(stats_of(w)).filter(|(c, _)| c.0 == id || c.1 == trace).map(|(_, s)| s).collect();
        assert_eq!(stats_of(&some), kept_stats, "with their stats fields");
    }
    // Damaged on the way: never a panic, never a table that breaks an answer.
    let h = rest.iter().fold(0x811c_9dc5u32, |h, &c| (h ^ u32::from(c)).wrapping_mul(0x0100_0193));
    let at = h as usize % joined.len().max(1);
    imported_or_refused(joined.get(..at).unwrap_or_default());
    let mut changed = joined.clone();
    if let Some(byte) = changed.get_mut(at) {
        *byte ^= (h >> 24) as u8 | 1;
    }
    imported_or_refused(&changed);
}

/// The table weave-usage/parallel's merge makes of `shards` (a body's
/// pieces, cut between calls), each read for one request's `ids`
/// (`CallStream::for_calls_from_middle`): the traces of the calls with those
/// ids, the ids of those traces' calls, each shard that did not read all of
/// those in full (`read_all_of`) read again in full, until none did; then
/// the parts of those traces and ids, in order. Also how many shards were
/// read again (each at most once).
pub fn merged_for_request(shards: &[&[u8]], ids: &[String]) -> Result<(CallTable, usize), UsageError> {
    let read = |body: &[u8], stream: &mut CallStream| stream.push(body).and_then(|()| stream.finish().map(|_| ()));
    let mut tables = Vec::new();
    for body in shards {
        let mut stream = CallStream::for_calls_from_middle(ids)?;
        read(body, &mut stream)?;
        tables.push(stream);
    }
    let select =
        |s: &CallStream, traces: &[String], ids: &[String]| s.table().part(&Select::Of { traces, ids }).expect("a small part is written");
    let strings_of = |parts: Vec<Vec<u8>>, traces: bool| -> Vec<String> {
        let table = weave_usage::table_from_parts(&parts.concat()).expect("parts as written are imported");
        let mut out: Vec<String> = table.calls().iter().map(|c| table.str(if traces { c.trace } else { c.id }).to_string()).collect();
        out.sort();
        out.dedup();
        out
    };
    let mut rereads = 0;
    loop {
        let traces = strings_of(tables.iter().map(|s| select(s, &[], ids)).collect(), true);
        let mut named = [ids.to_vec(), strings_of(tables.iter().map(|s| select(s, &traces, &[])).collect(), false)].concat();
        named.sort();
        named.dedup();
        let mut stale = Vec::new();
        for (i, s) in tables.iter().enumerate() {
            if !weave_usage::read_all_of(s.table(), &traces, &named)? {
                stale.push(i);
            }
        }
        if stale.is_empty() {
            let parts: Vec<Vec<u8>> = tables.iter().map(|s| select(s, &traces, &named)).collect();
            return Ok((weave_usage::table_from_parts(&parts.concat())?, rereads));
        }
        for i in stale {
            let mut full = CallStream::new();
            read(shards[i], &mut full)?;
            tables[i] = full;
            rereads += 1;
            assert!(rereads <= shards.len(), "each shard is read again at most once");
        }
    }
}

/// `bytes` imported as parts: a table whose answers keep their invariants,
/// or a 422 at `["parts"]` (a 413 only if memory ran out).
fn imported_or_refused(bytes: &[u8]) {
    match weave_usage::table_from_parts(bytes) {
        Ok(table) => {
            for req in [fixed_request(), derived_request(&table, bytes.len() as u64)] {
                let p = weave_usage::prepare(&req, None).expect("the harness's requests are valid");
                if let Ok(res) = weave_usage::compute(&table, &p) {
                    check_response(&res, &p.request, &table);
                }
            }
        }
        Err(e) => {
            assert_eq!(e.status, 422, "refused parts are a 422: {e:?}");
            assert!(matches!(e.detail.first().map(|d| d.loc.as_slice()), Some([Loc::Key(k)]) if k == "parts"), "at [\"parts\"]: {e:?}");
        }
    }
}
