//! The streaming accumulator (`UsageAccumulator`): an arbitrary body cut
//! into chunks at arbitrary places must give exactly what it gives whole.
//! The checks live in tests/harness, shared with tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::stream(data));
