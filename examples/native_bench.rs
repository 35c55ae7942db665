//! Times the core natively on a calls export, to profile the parser and the
//! rollup without a JS engine in the way:
//!     cargo run --release --example native_bench -- FILE.jsonl [ROOT_ID ...]
//! Without root ids it asks for the first 100 calls without a parent. Also
//! prints the scanner alone (every value checked and skipped), for JSON Lines.
//! With WEAVE_COMPACT=1 in the environment it reads the file as the objects
//! path's text (compact calls allowed), e.g. a dump of what `selectCalls`
//! returns. WEAVE_RUNS=N times N runs of each instead of 7 and 5 (1 under
//! `valgrind --tool=callgrind`, whose instruction counts repeat exactly).

use std::time::Instant;

use weave_usage::{compute, prepare, read_for, CallStream, Num, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: native_bench FILE [ROOT_ID ...]");
        std::process::exit(2);
    };
    let body = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let mut roots: Vec<String> = args.collect();
    let compact = std::env::var_os("WEAVE_COMPACT").is_some();
    let runs: Option<usize> = std::env::var("WEAVE_RUNS").ok().and_then(|n| n.parse().ok());
    let mut times = Vec::new();
    for run in 0..runs.unwrap_or(7).max(1) {
        let t = Instant::now();
        let mut stream = if compact { CallStream::with_compact_calls() } else { CallStream::new() };
        for chunk in body.chunks(4 << 20) {
            stream.push(chunk).expect("valid body");
        }
        let table = stream.finish().expect("valid body");
        let parsed = t.elapsed();
        if run == 0 && roots.is_empty() {
            roots = table
                .calls()
                .iter()
                .filter(|c| c.parent == weave_usage::internals::NONE)
                .take(100)
                .map(|c| table.str(c.id).to_string())
                .collect();
        }
        let t2 = Instant::now();
        let res = compute(table, &prepare(&request_for(&roots), None).expect("valid request")).expect("an answer");
        let rolled = t2.elapsed();
        times.push((parsed, rolled));
        if run == 0 {
            println!(
                "{} calls, {} bytes, {} roots, table ~{} MB",
                table.calls().len(),
                body.len(),
                res.call_usage.len(),
                table.heap_bytes() >> 20
            );
        }
    }
    // The one-call path: reading in full only the calls the request reaches.
    let prepared = prepare(&request_for(&roots), None).expect("valid request");
    let mut aware = Vec::new();
    for _ in 0..runs.unwrap_or(7).max(1) {
        let t = Instant::now();
        let stream = read_for(&prepared, |stream| body.chunks(4 << 20).try_for_each(|chunk| stream.push(chunk))).expect("valid body");
        let read = t.elapsed();
        compute(stream.table(), &prepared).expect("an answer");
        aware.push((read, t.elapsed() - read, stream.table().calls().len(), stream.table().heap_bytes()));
    }
    aware.sort();
    let (read, rolled, calls, heap) = aware[aware.len() / 2];
    println!(
        "for the request: read {:.1} ms ({:.0} MB/s, {calls} calls read in full, table ~{} MB), rollup {:.1} ms",
        read.as_secs_f64() * 1e3,
        body.len() as f64 / read.as_secs_f64() / 1e6,
        heap >> 20,
        rolled.as_secs_f64() * 1e3
    );
    // The scanner alone: every call checked and skipped, nothing read.
    let mut scan = Vec::new();
    for _ in 0..runs.unwrap_or(5).max(1) {
        let t = Instant::now();
        let mut p = weave_usage::internals::Parser::new(&body, 0, true, Default::default());
        loop {
            p.skip_ws();
            if p.at_end() {
                break;
            }
            p.skip_value().expect("valid JSON");
        }
        scan.push(t.elapsed());
    }
    scan.sort();
    let s = scan[scan.len() / 2];
    println!("scan only: {:.1} ms ({:.0} MB/s)", s.as_secs_f64() * 1e3, body.len() as f64 / s.as_secs_f64() / 1e6);
    times.sort();
    let (p, r) = times[times.len() / 2];
    println!(
        "median: parse {:.1} ms ({:.0} MB/s), rollup {:.1} ms",
        p.as_secs_f64() * 1e3,
        body.len() as f64 / p.as_secs_f64() / 1e6,
        r.as_secs_f64() * 1e3
    );
}

/// The benchmark's request: the roots, with costs, and no limit in the way.
fn request_for(roots: &[String]) -> Value {
    Value::Object(vec![
        ("project_id".into(), Value::String("acme/agents".into())),
        ("call_ids".into(), Value::Array(roots.iter().cloned().map(Value::String).collect())),
        ("include_costs".into(), Value::Bool(true)),
        ("limit".into(), Value::Number(Num::Int(100_000_000))),
    ])
}
