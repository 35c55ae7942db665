//! The wire schema JavaScript and Rust share is written once, in
//! `src/calls/wire.rs`: the lists in `js/pick.js` are generated from it, and
//! the objects path's hand-unrolled readers there name exactly its fields,
//! in its order. `UPDATE_WIRE=1 cargo test --test wire` rewrites the
//! generated block.

use weave_usage::internals::wire::{javascript, CALL_FIELDS, COMPACT_CALL, COST_FIELDS, STATS_FIELDS, USAGE_FIELDS};

const PICK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/js/pick.js");
const BEGIN: &str = "// BEGIN wire";
const END: &str = "// END wire";

/// `text` split around the generated block: before it (through the BEGIN
/// comment lines), the block, and from `// END wire` on.
fn split(text: &str) -> (&str, &str, &str) {
    let begin = text.find(BEGIN).expect("js/pick.js has a `// BEGIN wire` line");
    // The BEGIN comment may run over several lines, each starting with `//`.
    let mut body = begin;
    for line in text[begin..].split_inclusive('\n') {
        if !line.starts_with("//") || line.starts_with(END) {
            break;
        }
        body += line.len();
    }
    let end = text.find(END).expect("js/pick.js has a `// END wire` line");
    assert!(body <= end, "`// END wire` comes after `// BEGIN wire`");
    (&text[..body], &text[body..end], &text[end..])
}

#[test]
fn the_lists_in_pick_js_are_generated_from_the_rust_schema() {
    let text = std::fs::read_to_string(PICK).unwrap();
    let (before, block, after) = split(&text);
    let want = javascript();
    if std::env::var_os("UPDATE_WIRE").is_some() && block != want {
        // Written aside and renamed: the other test may be reading it.
        let new = format!("{PICK}.new");
        std::fs::write(&new, format!("{before}{want}{after}")).unwrap();
        std::fs::rename(&new, PICK).unwrap();
        return;
    }
    assert_eq!(block, want, "js/pick.js's wire block is stale: run `UPDATE_WIRE=1 cargo test --test wire`");
}

/// The `case '…'` labels of the JavaScript function `name`, in order.
fn cases(text: &str, name: &str) -> Vec<String> {
    let start = text.find(&format!("function {name}(")).unwrap_or_else(|| panic!("js/pick.js defines {name}"));
    let body = &text[start..];
    let end = body.find("\n}\n").expect("the function ends");
    body[..end].split("case '").skip(1).map(|rest| rest.split('\'').next().unwrap().to_string()).collect()
}

#[test]
fn the_objects_path_readers_name_the_schema_fields_in_order() {
    let text = std::fs::read_to_string(PICK).unwrap();
    assert_eq!(cases(&text, "usageList"), USAGE_FIELDS);
    assert_eq!(cases(&text, "costList"), COST_FIELDS);
    // `compact` reads the call's id and trace id directly, the rest by for-in.
    assert_eq!(cases(&text, "compact"), CALL_FIELDS[2..]);
    // A stats pick appends the stats fields, read by for-in, in order.
    assert_eq!(cases(&text, "statsList"), STATS_FIELDS);
    // The compact form is the call's fields with `summary` as its two maps.
    assert_eq!(COMPACT_CALL[..7], CALL_FIELDS[..7]);
    assert_eq!(COMPACT_CALL[7..], ["usage", "costs"]);
}
