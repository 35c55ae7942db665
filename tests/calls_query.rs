#![cfg(not(target_arch = "wasm32"))]
//! The calls' listing and the projects (docs/stats.md, "Listing the
//! calls") against a naive oracle written from their definitions: random
//! calls with repeated ids, deletions, calls of several projects and of
//! none, parents, unreadable start times and display names of every type;
//! read as a body and through parts (which must carry every field).

use proptest::prelude::*;
use serde_json::{json, Value as Json};
use weave_usage::{compute_projects, compute_query, prepare_query, query_request_from_json, table_from_parts, CallStream, Select};

/// One generated call.
#[derive(Debug, Clone)]
struct Gen {
    id: usize,
    trace: usize,
    /// None: absent; Some(None): null.
    parent: Option<Option<usize>>,
    /// None: absent; Some(None): null.
    project: Option<Option<usize>>,
    deleted: bool,
    /// None: absent; Some(None): unreadable; Some(Some(s)): seconds.
    started: Option<Option<i64>>,
    op: Option<usize>,
    /// 0 absent, 1 null, 2 a number (not read), 3 and up: a name.
    display: usize,
    exception: bool,
    ended: bool,
}

fn arb_call() -> impl Strategy<Value = Gen> {
    (
        (0usize..8, 0usize..3, prop::option::of(prop::option::of(0usize..8)), prop::option::of(prop::option::of(0usize..3))),
        (any::<bool>(), prop::option::of(prop::option::of(0i64..5)), prop::option::of(0usize..3), 0usize..5, any::<bool>(), any::<bool>()),
    )
        .prop_map(|((id, trace, parent, project), (deleted, started, op, display, exception, ended))| Gen {
            id,
            trace,
            parent,
            project,
            deleted: deleted && id % 3 == 0,
            started,
            op,
            display,
            exception,
            ended,
        })
}

fn id(i: usize) -> String {
    format!("c{i}")
}

fn project(p: usize) -> String {
    format!("e/p{p}")
}

fn instant(s: i64) -> String {
    // Whole seconds, or with a fraction on odd ones (to see it written back).
    if s % 2 == 1 {
        format!("2025-01-01T00:00:0{s}.250000Z")
    } else {
        format!("2025-01-01T00:00:0{s}Z")
    }
}

fn body(calls: &[Gen]) -> String {
    let mut out = String::new();
    for c in calls {
        let mut o = serde_json::Map::new();
        o.insert("id".into(), json!(id(c.id)));
        o.insert("trace_id".into(), json!(format!("t{}", c.trace)));
        if let Some(p) = c.parent {
            o.insert("parent_id".into(), p.map_or(Json::Null, |p| json!(id(p))));
        }
        if let Some(p) = c.project {
            o.insert("project_id".into(), p.map_or(Json::Null, |p| json!(project(p))));
        }
        if c.deleted {
            o.insert("deleted_at".into(), json!("2025-02-01T00:00:00Z"));
        }
        if let Some(s) = c.started {
            o.insert("started_at".into(), s.map_or(json!("yesterday"), |s| json!(instant(s))));
        }
        if let Some(op) = c.op {
            o.insert("op_name".into(), json!(format!("weave:///e/p/op/op{op}:abc")));
        }
        match c.display {
            0 => {}
            1 => drop(o.insert("display_name".into(), Json::Null)),
            2 => drop(o.insert("display_name".into(), json!(7))),
            n => drop(o.insert("display_name".into(), json!(format!("run \"{n}\"")))),
        }
        if c.exception {
            o.insert("exception".into(), json!("boom"));
        }
        if c.ended {
            o.insert("ended_at".into(), json!("2025-01-02T00:00:00Z"));
        }
        o.insert("inputs".into(), json!({"display_name": 1, "project_id": [2]}));
        out.push_str(&Json::Object(o).to_string());
        out.push('\n');
    }
    out
}

/// Per id, the index of its live call for project `p` (None: of no project).
fn live(calls: &[Gen], p: Option<usize>) -> Vec<usize> {
    let mut last: std::collections::BTreeMap<usize, usize> = Default::default();
    for (i, c) in calls.iter().enumerate() {
        let of = match c.project {
            None | Some(None) => true,
            Some(Some(q)) => Some(q) == p,
        };
        if !c.deleted && of {
            last.insert(c.id, i);
        }
    }
    last.into_values().collect()
}

/// The listing, from its definition.
fn oracle(calls: &[Gen], p: Option<usize>, traces: &[usize], ids: &[usize], roots: bool, limit: Option<usize>) -> Json {
    let live = live(calls, p);
    let size = |t: usize| live.iter().filter(|&&i| calls[i].trace == t).count();
    let mut listed: Vec<usize> = live
        .iter()
        .copied()
        .filter(|&i| traces.is_empty() || traces.contains(&calls[i].trace))
        .filter(|&i| ids.is_empty() || ids.contains(&calls[i].id))
        .filter(|&i| !roots || !matches!(calls[i].parent, Some(Some(_))))
        .collect();
    let start = |i: usize| match calls[i].started {
        Some(Some(s)) => s * 1_000_000 + if s % 2 == 1 { 250_000 } else { 0 },
        _ => i64::MAX,
    };
    listed.sort_by(|&a, &b| start(a).cmp(&start(b)).then_with(|| id(calls[a].id).cmp(&id(calls[b].id))));
    listed.truncate(limit.unwrap_or(usize::MAX));
    let calls_json: Vec<Json> = listed
        .iter()
        .map(|&i| {
            let c = &calls[i];
            json!({
                "id": id(c.id),
                "trace_id": format!("t{}", c.trace),
                "parent_id": c.parent.flatten().map(id),
                "project_id": c.project.flatten().map(project),
                "op_name": c.op.map(|op| format!("weave:///e/p/op/op{op}:abc")),
                "display_name": (c.display >= 3).then(|| format!("run \"{}\"", c.display)),
                "started_at": c.started.flatten().map(instant),
                "ended": c.ended,
                "has_exception": c.exception,
                "trace_calls": size(c.trace),
            })
        })
        .collect();
    json!({ "calls": calls_json })
}

/// The projects, from their definition: per project named, the ids whose
/// live call for it names it.
fn projects_oracle(calls: &[Gen]) -> Json {
    let mut named: Vec<(String, usize)> = (0..3)
        .map(|p| (project(p), live(calls, Some(p)).iter().filter(|&&i| calls[i].project == Some(Some(p))).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    json!({ "projects": named.iter().map(|(p, n)| json!({"project_id": p, "calls": n})).collect::<Vec<_>>() })
}

fn query(table: &weave_usage::internals::CallTable, request: &Json) -> Result<Json, weave_usage::UsageError> {
    let value = query_request_from_json(request.to_string().as_bytes())?;
    let prepared = prepare_query(&value)?;
    let text = compute_query(table, &prepared)?.to_json()?;
    Ok(serde_json::from_str(&text).unwrap())
}

fn stats_table(body: &str) -> CallStream {
    let mut s = CallStream::for_stats(false);
    s.push(body.as_bytes()).unwrap();
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn the_listing_and_the_projects_match_the_naive_oracle(
        calls in prop::collection::vec(arb_call(), 0..20),
        p in prop::option::of(0usize..3),
        traces in prop::collection::vec(0usize..4, 0..2),
        ids in prop::collection::vec(0usize..9, 0..3),
        roots in any::<bool>(),
        limit in prop::option::of(1usize..6),
    ) {
        let text = body(&calls);
        let mut stream = stats_table(&text);
        let table = stream.finish().unwrap();
        // A project no call names lists only the calls of none.
        let pid = p.map_or_else(|| "nobody/none".to_string(), project);
        let request = json!({
            "project_id": pid,
            "filter": {
                "trace_ids": traces.iter().map(|t| format!("t{t}")).collect::<Vec<_>>(),
                "call_ids": ids.iter().map(|&i| id(i)).collect::<Vec<_>>(),
                "trace_roots_only": roots,
            },
            "limit": limit,
        });
        let expected = oracle(&calls, p, &traces, &ids, roots, limit);
        prop_assert_eq!(query(table, &request).unwrap(), expected.clone());
        let projects: Json = serde_json::from_str(&compute_projects(table).unwrap().to_json().unwrap()).unwrap();
        prop_assert_eq!(&projects, &projects_oracle(&calls));

        // Through parts, split anywhere: the same answers.
        let cut = text.lines().count() / 2;
        let (a, b): (Vec<&str>, Vec<&str>) = (text.lines().take(cut).collect(), text.lines().skip(cut).collect());
        let mut parts = Vec::new();
        for half in [a, b] {
            let mut s = stats_table(&(half.join("\n") + "\n"));
            parts.extend(s.finish().unwrap().part(&Select::All).unwrap());
        }
        let joined = table_from_parts(&parts).unwrap();
        prop_assert_eq!(query(&joined, &request).unwrap(), expected);
        let again: Json = serde_json::from_str(&compute_projects(&joined).unwrap().to_json().unwrap()).unwrap();
        prop_assert_eq!(again, projects);
    }
}

#[test]
fn a_table_not_made_for_stats_is_a_409_and_bad_requests_422_in_field_order() {
    let mut s = CallStream::new();
    s.push(b"{\"id\":\"a\",\"trace_id\":\"t\"}\n").unwrap();
    let e = query(s.finish().unwrap(), &json!({"project_id": "p"})).unwrap_err();
    assert_eq!((e.status, e.detail[0].kind.as_str()), (409, "accumulator_not_for_stats"));
    // The projects need no stats fields.
    let text = compute_projects(s.finish().unwrap()).unwrap().to_json().unwrap();
    assert_eq!(text, r#"{"projects":[]}"#);

    let mut s = stats_table("{\"id\":\"a\",\"trace_id\":\"t\",\"project_id\":\"p\"}\n");
    let table = s.finish().unwrap();
    let e = query(table, &json!({"limit": 0, "filter": {"op_names": ["x"], "trace_roots_only": "maybe", "trace_ids": [1]}, "zz": 1}))
        .unwrap_err();
    let got: Vec<(String, &str)> = e.detail.iter().map(|d| (format!("{:?}", d.loc), d.kind.as_str())).collect();
    let kinds: Vec<&str> = got.iter().map(|g| g.1).collect();
    assert_eq!(kinds, ["missing", "not_supported", "string_type", "bool_parsing", "greater_than_equal", "extra_forbidden"], "{got:?}");
    assert!(format!("{:?}", e.detail[1].msg).contains("trace_roots_only"), "{:?}", e.detail[1].msg);
    assert_eq!(query(table, &json!("p")).unwrap_err().detail[0].msg, "Input should be a valid dictionary or instance of CallsQueryReq");
    let listed = query(table, &json!({"project_id": "p", "filter": null, "limit": null})).unwrap();
    assert_eq!(listed["calls"][0]["id"], "a");
    assert_eq!(compute_projects(table).unwrap().to_json().unwrap(), r#"{"projects":[{"project_id":"p","calls":1}]}"#);
}

#[test]
fn an_id_counts_for_a_project_through_its_latest_live_call_of_it_or_of_none() {
    // a: of p, then of none (none wins for every project); b: of p, then of
    // q, then deleted of q (q's live call of b is still its first); c: of q
    // twice (counted once).
    let body = [
        r#"{"id":"a","trace_id":"t","project_id":"p"}"#,
        r#"{"id":"a","trace_id":"t"}"#,
        r#"{"id":"b","trace_id":"t","project_id":"p"}"#,
        r#"{"id":"b","trace_id":"t","project_id":"q"}"#,
        r#"{"id":"b","trace_id":"t","project_id":"q","deleted_at":"2025-01-01T00:00:00Z"}"#,
        r#"{"id":"c","trace_id":"t","project_id":"q"}"#,
        r#"{"id":"c","trace_id":"t","project_id":"q"}"#,
    ]
    .join("\n");
    let mut s = stats_table(&body);
    let table = s.finish().unwrap();
    assert_eq!(
        compute_projects(table).unwrap().to_json().unwrap(),
        r#"{"projects":[{"project_id":"q","calls":2},{"project_id":"p","calls":1}]}"#
    );
    let listed = query(table, &json!({"project_id": "q", "filter": {"trace_roots_only": true}})).unwrap();
    let ids: Vec<&str> = listed["calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(listed["calls"][0]["project_id"], Json::Null);
    assert_eq!(listed["calls"][0]["trace_calls"], 3);
}
