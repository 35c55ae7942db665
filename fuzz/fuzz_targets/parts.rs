//! Parts (`callsUsageFromParts`, the merge of `weave-usage/parallel`):
//! arbitrary bytes imported as parts, and the parts of a body cut in two,
//! whole, cut short and altered.
//! The checks live in tests/harness, shared with tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::parts(data));
