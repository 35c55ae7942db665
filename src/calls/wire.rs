//! What JavaScript and Rust exchange about calls, defined once: the fields
//! of a call, of a usage entry and of a cost entry that are read, and the
//! compact form in which the objects path sends a call it has checked.
//! The lists in `js/pick.js` are generated from this module
//! ([`javascript`]; `UPDATE_WIRE=1 cargo test --test wire` rewrites them),
//! and `tests/wire.rs` fails if they differ or if the objects path's
//! readers there name other fields than these, in another order.
//!
//! The compact form of a call is a JSON array of [`COMPACT_CALL`]'s fields
//! in order; its usage and cost maps hold, per model, an array of
//! [`USAGE_FIELDS`] or [`COST_FIELDS`] in order (`null` for an absent
//! one). A trace, parent or project id may instead be the index (in the
//! text) of an earlier call whose trace id, id or project id it is; an
//! `ended_at` or `deleted_at` string may be `""` (only its presence is
//! read). Only the objects path writes this form, for calls it has checked;
//! a body's calls are always objects.

/// The keys of a call that are read, in the order Weave writes them.
pub const CALL_FIELDS: [&str; 8] = ["id", "trace_id", "parent_id", "project_id", "started_at", "ended_at", "deleted_at", "summary"];

/// The keys of a call read only by a table made for stats
/// ([`CallStream::for_stats`](super::CallStream::for_stats)): the
/// `/calls/usage` path never looks at them, so they cost it nothing. Of
/// `exception` only whether it is non-null is read. A compact call of such
/// a table has them after its costs, in this order (`exception` as `1` or
/// `null`). Such a table also reads `display_name` from a body's calls,
/// for the calls' listing alone; the objects path, which lists nothing,
/// does not send it.
pub const STATS_FIELDS: [&str; 4] = ["op_name", "wb_user_id", "thread_id", "exception"];

/// The counters of a usage entry (`summary.usage[model]`) that are read.
pub const USAGE_FIELDS: [&str; 8] = [
    "requests",
    "prompt_tokens",
    "input_tokens",
    "completion_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// The costs of a cost entry (`summary.weave.costs[model]`) that are read,
/// in response order.
pub const COST_FIELDS: [&str; 4] = [
    "prompt_tokens_total_cost",
    "completion_tokens_total_cost",
    "cache_read_input_tokens_total_cost",
    "cache_creation_input_tokens_total_cost",
];

/// The fields of a compact call, in order: the call's, with `summary`
/// replaced by its usage map and its cost map.
pub const COMPACT_CALL: [&str; 9] = ["id", "trace_id", "parent_id", "project_id", "started_at", "ended_at", "deleted_at", "usage", "costs"];

/// The name of a value of a usage or cost entry, numbered as the table
/// numbers them: the usage counters ([`USAGE_FIELDS`]), then the costs
/// ([`COST_FIELDS`]).
pub fn value_field(field: u8) -> Option<&'static str> {
    let i = usize::from(field);
    USAGE_FIELDS.get(i).or_else(|| COST_FIELDS.get(i.checked_sub(USAGE_FIELDS.len())?)).copied()
}

/// The JavaScript that declares these lists: the block between `// BEGIN
/// wire` and `// END wire` in `js/pick.js` (wasm-bindgen copies that file
/// alone into the package, so the lists are written into it rather than
/// imported from a file of their own).
pub fn javascript() -> String {
    let list = |names: &[&str]| names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    format!(
        "/** The keys of a call that are read. */\n\
         const CALL_FIELDS = [{}];\n\
         /** The keys of a call read for stats only, in compact order. */\n\
         const STATS_FIELDS = [{}];\n\
         /** The counters of a usage entry that are read, in compact order. */\n\
         const USAGE_FIELDS = [{}];\n\
         /** The costs of a cost entry that are read, in compact order. */\n\
         const COST_FIELDS = [{}];\n",
        list(&CALL_FIELDS),
        list(&STATS_FIELDS),
        list(&USAGE_FIELDS),
        list(&COST_FIELDS)
    )
}
