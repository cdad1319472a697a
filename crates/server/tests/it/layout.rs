//! The house rule (ADR 0007), checked over the source: the kit imports no feature and not
//! the root; no feature imports the root (`app`, `openapi`); a feature reaches another only
//! through that feature's root module (its public types and functions), never into its
//! submodules (its helpers); and the features depend on each other without a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules at the root of the crate that are neither the kit nor a feature.
const ROOT: &[&str] = &["app", "openapi"];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b...` path in the code (comments and doc comments left out), with `a`
/// and, when there is one, the segment after it.
fn crate_paths(text: &str) -> Vec<(String, Option<String>)> {
    let mut paths = Vec::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let word = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            let first = word(after);
            let tail = &after[first.len()..];
            let second = tail.strip_prefix("::").map(word).filter(|w| !w.is_empty());
            if !first.is_empty() {
                paths.push((first, second));
            }
            rest = after;
        }
    }
    paths
}

/// Modules of the crate: `kit`, the root modules, and the features (every other top-level
/// module), read from `lib.rs`.
fn top_modules(src: &Path) -> Vec<String> {
    std::fs::read_to_string(src.join("lib.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

/// Which top-level module a file belongs to (`lib.rs` belongs to none).
fn owner(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_str()?
        .to_string();
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(module) => Some(module.to_string()),
        None => Some(first),
    }
}

/// Is `name` a submodule of `feature` (a file or folder under it)?
fn is_submodule(src: &Path, feature: &str, name: &str) -> bool {
    let dir = src.join(feature);
    dir.join(format!("{name}.rs")).exists() || dir.join(name).is_dir()
}

struct Violations(Vec<String>);

impl Violations {
    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(message());
        }
    }
}

#[test]
fn the_kit_and_the_features_keep_to_the_house_rule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_modules(&src);
    let features: BTreeSet<String> = modules
        .iter()
        .filter(|m| *m != "kit" && !ROOT.contains(&m.as_str()))
        .cloned()
        .collect();
    assert!(
        features.len() >= 8,
        "the features were not found: {features:?}"
    );
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut violations = Violations(Vec::new());
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = owner(&src, file) else {
            continue;
        };
        let name = file.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        for (first, second) in crate_paths(&text) {
            if module == "kit" {
                violations.check(first == "kit", || {
                    format!("{name}: the kit imports crate::{first}")
                });
            } else if features.contains(&module) {
                violations.check(!ROOT.contains(&first.as_str()), || {
                    format!("{name}: a feature imports the root (crate::{first})")
                });
                if features.contains(&first) && first != module {
                    depends
                        .entry(module.clone())
                        .or_default()
                        .insert(first.clone());
                    if let Some(second) = &second {
                        violations.check(!is_submodule(&src, &first, second), || {
                            format!(
                                "{name}: reaches into another feature's helpers (crate::{first}::{second}); \
                                 use what crate::{first} exports, or move the helper into the kit"
                            )
                        });
                    }
                }
            }
        }
    }
    // `use super::...` cannot leave a feature's folder from its root file, and from a
    // submodule it reaches its own feature: nothing to check there.
    if let Some(cycle) = find_cycle(&depends) {
        violations.0.push(format!(
            "the features depend on each other in a circle: {}",
            cycle.join(" -> ")
        ));
    }
    assert!(
        violations.0.is_empty(),
        "the house rule is broken (docs/adr/0007-server-layout.md):\n{}",
        violations.0.join("\n")
    );
}

/// A circle in the feature graph, as the features on it (the first repeated at the end).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_checker_finds_paths_and_circles() {
    // The scanner sees the paths of code, not of comments.
    let paths = crate_paths(
        "use crate::alerts::rules::tick; // crate::app::AppState\nlet x = crate::kit::time::now_ms();",
    );
    assert_eq!(
        paths,
        vec![
            ("alerts".to_string(), Some("rules".to_string())),
            ("kit".to_string(), Some("time".to_string())),
        ]
    );
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
            .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let acyclic: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(find_cycle(&acyclic), None);
}
