//! Request validation: arbitrary argument text through
//! `argument_from_json` (compared with serde_json) and `prepare`, as a
//! request and as options.
//! The checks live in tests/harness, shared with tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::request(data));
