#![cfg(not(target_arch = "wasm32"))]
//! Every input a fuzzer crashed on (tests/fixtures/fuzz-regressions/<target>/),
//! replayed through the very checks the fuzz targets run (tests/harness), so
//! a fixed crash stays fixed. The fuzzers themselves are not run here; see
//! fuzz/README.md. Also runs the checks over the reference fixtures' bodies
//! and requests, so the harness is known to pass on real inputs.

mod common;
mod harness;

use std::path::PathBuf;

/// The files of one target's regression directory, by name.
fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// Runs `check` on every regression input of `target`, reporting all
/// failures (by file name) rather than the first.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let inputs = regressions(target);
    let failed: Vec<String> =
        inputs.iter().filter(|(_, data)| std::panic::catch_unwind(|| check(data)).is_err()).map(|(name, _)| name.clone()).collect();
    assert!(failed.is_empty(), "{target}: {} regression(s) fail again: {failed:?}", failed.len());
    inputs.len()
}

#[test]
fn bytes_regressions() {
    replay("bytes", harness::bytes);
}

#[test]
fn request_regressions() {
    replay("request", harness::request);
}

#[test]
fn stream_regressions() {
    replay("stream", harness::stream);
}

#[test]
fn parts_regressions() {
    replay("parts", harness::parts);
}

#[test]
fn the_checks_pass_on_the_reference_fixtures() {
    for (name, f) in common::fixtures() {
        for (_, body) in common::bodies(&f["calls"]) {
            harness::bytes(body.as_bytes());
            for header in [[0u8, 1, 0], [6, 7, 7], [8, 2, 9]] {
                harness::stream(&[&header[..], body.as_bytes()].concat());
            }
            // Cut after the first, second and fourth line, read plain (mode
            // bit 2 clear) and for stats; and the body as parts (refused).
            for mode in [1u8, 5, 13, 3, 7, 15, 0] {
                harness::parts(&[&[mode][..], body.as_bytes()].concat());
            }
        }
        harness::request(serde_json::to_string(&common::request_as_sent(&f)).unwrap().as_bytes());
        let _ = name;
    }
}
