//! The bytes path (`callsUsageFromJson`): an arbitrary body through the
//! framing, the call reader and the rollup, answered for a fixed request and
//! for requests naming ids the body holds.
//! The checks live in tests/harness, shared with tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::bytes(data));
