//! The crate's layers import only downward, and the files of one folder
//! import each other without circles (docs/architecture.md). Read from the
//! source text: `crate::NAME` paths outside comments and test modules, and
//! `super::NAME` paths naming a sibling file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer: a module may import only from
/// lower layers.
const LAYERS: [(&str, u32); 12] = [
    ("error", 0),
    ("hash", 0),
    ("wasm_alloc", 0),
    ("limits", 1),
    ("json", 2),
    ("input", 3),
    ("calls", 4),
    ("response", 5),
    ("usage", 6),
    ("api", 7),
    ("wasm", 8),
    ("lib", 9),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The identifiers that follow each `prefix` in `code`, including inside
/// braces (`crate::{a, b}`).
fn named_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in code.split(prefix).skip(1) {
        let piece = piece.trim_start();
        if let Some(inner) = piece.strip_prefix('{') {
            let inner = &inner[..inner.find('}').unwrap_or(inner.len())];
            for item in inner.split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.push(name);
            }
        } else {
            out.push(piece.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn layers_import_only_downward() {
    let layer: BTreeMap<&str, u32> = LAYERS.into_iter().collect();
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut wrong = Vec::new();
    for path in &all {
        let rel = path.strip_prefix(src()).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs").to_string();
        let mine = *layer.get(top.as_str()).unwrap_or_else(|| panic!("{top} is not in LAYERS: give it a layer"));
        for name in named_after(&code(path), "crate::") {
            if name == top {
                continue;
            }
            match layer.get(name.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(_) => wrong.push(format!("{} imports crate::{name}", rel.display())),
                // A re-export at the root (`crate::Num`): the root is on top.
                None => wrong.push(format!("{} imports crate::{name}, which is not a layer", rel.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "imports that do not go down:\n{}", wrong.join("\n"));
}

#[test]
fn the_files_of_a_folder_import_each_other_without_circles() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut folders: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in all {
        if path.file_name().is_some_and(|n| n != "mod.rs" && n != "lib.rs") {
            folders.entry(path.parent().unwrap().to_path_buf()).or_default().push(path);
        }
    }
    for (folder, paths) in folders {
        let names: Vec<String> = paths.iter().map(|p| p.file_stem().unwrap().to_str().unwrap().to_string()).collect();
        let edges: Vec<Vec<usize>> = paths
            .iter()
            .map(|p| {
                let mut to: Vec<usize> =
                    named_after(&code(p), "super::").iter().filter_map(|n| names.iter().position(|m| m == n)).collect();
                to.sort_unstable();
                to.dedup();
                to
            })
            .collect();
        // Depth-first search for a back edge.
        fn visit(k: usize, edges: &[Vec<usize>], state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
            state[k] = 1;
            path.push(k);
            for &j in &edges[k] {
                if state[j] == 1 {
                    let from = path.iter().position(|&x| x == j).unwrap();
                    return Some(path[from..].to_vec());
                }
                if state[j] == 0 {
                    if let Some(c) = visit(j, edges, state, path) {
                        return Some(c);
                    }
                }
            }
            path.pop();
            state[k] = 2;
            None
        }
        let mut state = vec![0u8; names.len()];
        for k in 0..names.len() {
            if state[k] == 0 {
                if let Some(circle) = visit(k, &edges, &mut state, &mut Vec::new()) {
                    let circle: Vec<&str> = circle.iter().map(|&i| names[i].as_str()).collect();
                    panic!("a circle of imports in {}: {}", folder.display(), circle.join(" -> "));
                }
            }
        }
    }
}
