//! The house's layers, checked: reads every `src/` file, collects which top-level modules each
//! top-level module uses (`crate::name`), and fails when two modules use each other through
//! any path (a cycle) or when a module uses one from a higher layer than its own.
//!
//! The layers, bottom up, are those of ARCHITECTURE.md; a new top-level module must be added
//! to `LAYERS` below, so its place is decided on purpose.
//! `cargo test --test layers -- --nocapture` prints the `module -> modules it uses` list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of `src/` and its layer (0 = bottom). A module may use modules of its
/// own layer or below, never above, and never in a cycle.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("text", 0),
    ("secret", 0),
    ("crm_kind", 0),
    ("email", 0),
    ("contact", 0),
    ("meta_keys", 0),
    ("password", 0),
    ("site", 0),
    ("settings", 1),
    ("webhook", 2),
    ("crm", 2),
    ("sync", 2),
    ("queue", 3),
    ("pipeline", 3),
    ("php", 4),
];

/// The crate root's own items (`crate::VERSION`, the re-exported `crate::Result`), usable
/// from every layer.
const ROOT_ITEMS: &[&str] = &["VERSION", "Error", "Result"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/sync/add.rs` -> `sync`, `src/text.rs` -> `text`.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?;
    let name = first.as_os_str().to_str()?;
    Some(name.trim_end_matches(".rs").to_string())
}

/// Every `crate::name` in the code of a file (comments skipped).
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            if tail.starts_with('{') {
                // `use crate::{a, b::c}`: each name before `::` or `,` is a module.
                let group = &tail[1..tail.find('}').unwrap_or(tail.len())];
                for item in group.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        used.insert(name);
                    }
                }
            } else {
                let name: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    used.insert(name);
                }
            }
            rest = tail;
        }
    }
    used
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        if module == "lib" {
            continue;
        }
        let code = std::fs::read_to_string(&file).expect("source is UTF-8");
        let uses = graph.entry(module.clone()).or_default();
        for used in used_modules(&code) {
            if used != module && !ROOT_ITEMS.contains(&used.as_str()) {
                uses.insert(used);
            }
        }
    }
    graph
}

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("top-level module `{module}` has no layer: add it to LAYERS in tests/layers.rs and to ARCHITECTURE.md"))
}

/// A cycle through `start`, as a path, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let current = path.last().cloned().unwrap_or_default();
        for next in graph.get(&current).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn top_level_modules_form_no_cycle_and_respect_the_layers() {
    let graph = graph();
    for (module, uses) in &graph {
        println!(
            "{module} -> {}",
            uses.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let mut problems = Vec::new();
    for (module, uses) in &graph {
        if let Some(cycle) = cycle_from(&graph, module) {
            problems.push(format!("cycle: {}", cycle.join(" -> ")));
        }
        for used in uses {
            if layer(used) > layer(module) {
                problems.push(format!(
                    "{module} (layer {}) uses {used} (layer {}), a higher layer",
                    layer(module),
                    layer(used)
                ));
            }
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_uses_and_cycles() {
    let code = "use crate::{text, webhook::Request};\n// crate::php in a comment\nlet x = crate::error::Error::MissingAction;";
    assert_eq!(
        used_modules(code),
        BTreeSet::from(["text".into(), "webhook".into(), "error".into()])
    );
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
        ("d".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(cycle_from(&graph, "d"), None);
}
