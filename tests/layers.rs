//! The house's layers, checked: reads every `src/` file, collects which top-level modules each
//! top-level module uses (`crate::name`), and fails when two modules use each other through
//! any path (a cycle) or when a module uses one from a higher layer than its own.
//!
//! Inside each folder of `src/` the files depend one way too: a file (or subfolder) of a folder
//! may use its siblings, but no sibling may come back to it through any path. Uses are read
//! from `crate::`, `super::` and `self::` paths, resolved to the sibling they name; a name the
//! folder's `mod.rs` re-exports (`pub use answer::Answer`) counts as the file it comes from.
//! `mod.rs` itself is the folder's face (it declares and re-exports its files), not one of them.
//!
//! The layers, bottom up, are those of ARCHITECTURE.md; a new top-level module must be added
//! to `LAYERS` below, so its place is decided on purpose.
//! `cargo test --test layers -- --nocapture` prints the `module -> modules it uses` list, then
//! each folder's `file -> files it uses`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// A module path: `["crm", "http", "answer"]` is `crate::crm::http::answer`.
type ModPath = Vec<String>;

/// The module path of a file: `src/crm/http/answer.rs` and `src/crm/http/mod.rs` are
/// `crm::http::answer` and `crm::http`; `lib.rs` is the crate root.
fn module_path(src: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut path: ModPath = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The paths of a `use` tree or path expression after its first `::`: `a::b` gives `[a, b]`,
/// `{a, b::{c, d}}` gives `[a]`, `[b, c]`, `[b, d]`. Stops where the path ends.
fn path_tails(text: &str) -> Vec<ModPath> {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        // Split at the group's top-level commas, up to its closing brace.
        let mut items = Vec::new();
        let (mut depth, mut start) = (0usize, 0usize);
        for (at, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..at]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..at]);
                    start = at + 1;
                }
                _ => {}
            }
        }
        if depth > 0 || items.is_empty() {
            // A group continued on the next lines: take what this line holds.
            items = group.split(',').collect();
        }
        return items.into_iter().flat_map(path_tails).collect();
    }
    let name = identifier(text);
    if name.is_empty() || name == "self" {
        return vec![Vec::new()];
    }
    let rest = &text[name.len()..];
    match rest.strip_prefix("::") {
        Some(rest) => path_tails(rest)
            .into_iter()
            .map(|mut tail| {
                tail.insert(0, name.to_string());
                tail
            })
            .collect(),
        None => vec![vec![name.to_string()]],
    }
}

/// Every module path a file's code names through `crate::`, `super::` or `self::`, made
/// absolute. `module` is the file's module path; code after a `mod tests {` line is one level
/// deeper (its `super::` is the file itself).
fn named_paths(module: &[String], code: &str) -> Vec<ModPath> {
    let mut named = Vec::new();
    let mut here: ModPath = module.to_vec();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        if line.starts_with("mod tests {") {
            here.push("tests".into());
        }
        let mut rest = line;
        while let Some(at) = ["crate::", "super::", "self::"]
            .iter()
            .filter_map(|start| rest.find(start))
            .min()
        {
            let preceded = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let mut tail = &rest[at..];
            let mut base = here.clone();
            if let Some(after) = tail.strip_prefix("crate::") {
                base.clear();
                tail = after;
            } else if let Some(after) = tail.strip_prefix("self::") {
                tail = after;
            } else {
                while let Some(after) = tail.strip_prefix("super::") {
                    base.pop();
                    tail = after;
                }
            }
            if !preceded {
                for path in path_tails(tail) {
                    let mut absolute = base.clone();
                    absolute.extend(path);
                    named.push(absolute);
                }
            }
            rest = &rest[at + 1..];
        }
    }
    named
}

/// The names a folder's `mod.rs` re-exports, and the file each comes from:
/// `pub use answer::{id_string, Answer};` maps `id_string` and `Answer` to `answer`.
fn reexports(mod_rs: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in mod_rs.split(';') {
        let statement = statement.trim_start();
        let Some(at) = statement.find("use ") else {
            continue;
        };
        if !statement[..at].trim().starts_with("pub") {
            continue;
        }
        for path in path_tails(&statement[at + "use ".len()..]) {
            if let [file, .., last] = path.as_slice() {
                names.insert(identifier(last).to_string(), file.clone());
            }
        }
        // `pub use x::Y as Z`: Z comes from x as well.
        if let Some((before, alias)) = statement.rsplit_once(" as ") {
            if let Some(file) = path_tails(&before[at + "use ".len()..])
                .first()
                .and_then(|path| path.first())
            {
                names.insert(identifier(alias.trim()).to_string(), file.clone());
            }
        }
    }
    names
}

/// For each folder of `src/` (by module path), `file -> files of the same folder it uses`.
fn folder_graphs() -> BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = Vec::new();
    rust_files(&src, &mut files);
    let mut folders: BTreeMap<ModPath, (BTreeSet<String>, BTreeMap<String, String>)> =
        BTreeMap::new();
    for file in &files {
        if file.file_name().is_some_and(|name| name == "mod.rs") {
            let code = std::fs::read_to_string(file).expect("source is UTF-8");
            let folder = module_path(&src, file);
            let units = std::fs::read_dir(file.parent().expect("a folder"))
                .expect("folder is readable")
                .filter_map(|entry| {
                    let path = entry.ok()?.path();
                    let name = path.file_name()?.to_str()?.to_string();
                    if path.is_dir() && path.join("mod.rs").exists() {
                        Some(name)
                    } else if name != "mod.rs" {
                        name.strip_suffix(".rs").map(str::to_string)
                    } else {
                        None
                    }
                })
                .collect();
            folders.insert(folder, (units, reexports(&code)));
        }
    }
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let module = module_path(&src, file);
        let code = std::fs::read_to_string(file).expect("source is UTF-8");
        let named = named_paths(&module, &code);
        for (folder, (units, reexported)) in &folders {
            // The file's place in this folder: one of its files or subfolders (not mod.rs).
            if module.len() <= folder.len() || !module.starts_with(folder) {
                continue;
            }
            let unit = &module[folder.len()];
            let uses = graphs
                .entry(folder.clone())
                .or_default()
                .entry(unit.clone())
                .or_default();
            for path in &named {
                if path.len() <= folder.len() || !path.starts_with(folder) {
                    continue;
                }
                let name = &path[folder.len()];
                let target = if units.contains(name) {
                    Some(name)
                } else {
                    reexported.get(name)
                };
                // A name mod.rs defines, or re-exports from outside the folder, is no sibling.
                let sibling = target.filter(|target| *target != unit && units.contains(*target));
                if let Some(target) = sibling {
                    uses.insert(target.clone());
                }
            }
        }
    }
    graphs
}

#[test]
fn files_inside_each_folder_form_no_cycle() {
    let mut problems = Vec::new();
    for (folder, graph) in folder_graphs() {
        println!("{}/", folder.join("/"));
        for (file, uses) in &graph {
            println!(
                "  {file} -> {}",
                uses.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        for file in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, file) {
                problems.push(format!(
                    "cycle in src/{}/: {}",
                    folder.join("/"),
                    cycle.join(" -> ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_folder_checker_resolves_paths() {
    let module: ModPath = vec!["crm".into(), "http".into(), "client".into()];
    let code = "use super::answer::{self, Answer};\nuse super::{agent, errors::x};\n\
                // super::message in a comment\nlet m = crate::crm::http::spec::Method::Get;\n\
                mod tests {\n    use super::*;\n    use super::super::transport;\n}";
    let named: BTreeSet<String> = named_paths(&module, code)
        .into_iter()
        .map(|path| path.join("::"))
        .collect();
    for expected in [
        "crm::http::answer",
        "crm::http::answer::Answer",
        "crm::http::agent",
        "crm::http::errors::x",
        "crm::http::spec::Method::Get",
        "crm::http::transport",
    ] {
        assert!(named.contains(expected), "{expected} not in {named:?}");
    }
    assert!(!named.iter().any(|path| path.contains("message")));
    let names = reexports("mod a;\npub use answer::{id_string, Answer};\npub use drain::{\n    drain, Report,\n};\nuse x::Private;\npub use spec::Method as Verb;");
    assert_eq!(names.get("Answer").map(String::as_str), Some("answer"));
    assert_eq!(names.get("Report").map(String::as_str), Some("drain"));
    assert_eq!(names.get("Verb").map(String::as_str), Some("spec"));
    assert_eq!(names.get("Private"), None);
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
