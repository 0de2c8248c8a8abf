//! The layering guard: layers point one way (see `ARCHITECTURE.md`).
//!
//! Reads every source file under `src/` and fails when a module names a
//! layer it must not know: the engine and its parts (`resolve`, `cache`,
//! `net`, `trace`, `validate`, `config.rs`) never name a face (`server`,
//! `lab`, `cli`, `bench`, `check`, `operation`); `cache`, `net`, `trace`
//! and `validate` never name `resolve`; the daemon and the lab never name the command line.

use std::path::{Path, PathBuf};

/// The faces: the programs built on the library.
const FACES: &[&str] = &["server", "lab", "cli", "bench", "check", "operation"];

/// (the files a rule covers, the modules they must not name).
fn rules() -> Vec<(&'static [&'static str], Vec<&'static str>)> {
    vec![
        (
            &["resolve", "cache", "net", "trace", "validate", "config.rs"],
            FACES.to_vec(),
        ),
        (&["cache", "net", "trace", "validate"], vec!["resolve"]),
        (&["server", "lab"], vec!["cli", "operation"]),
    ]
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `text` names through `crate::`, including those
/// inside `use crate::{a, b::c}` groups. Comment lines are skipped.
fn named_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split at commas outside braces.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.push(first_segment(&item));
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

fn first_segment(text: &str) -> String {
    text.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Whether `file` (relative to `src/`) is covered by `scope`.
fn covered(file: &Path, scope: &[&str]) -> bool {
    let first = file
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    scope
        .iter()
        .any(|s| first == *s || first == format!("{s}.rs"))
}

#[test]
fn layers_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "found only {} sources", files.len());
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        let named = named_modules(&text);
        for (scope, forbidden) in rules() {
            if !covered(relative, scope) {
                continue;
            }
            for module in &named {
                if forbidden.contains(&module.as_str()) {
                    violations.push(format!("{} names crate::{module}", relative.display()));
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "layer violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_guard_sees_grouped_and_plain_paths() {
    let text = "use crate::resolve::Resolver;\n\
                use crate::{cache::RrsetCache, server::{Acl, Server}};\n\
                // use crate::lab::Lab;\n\
                let x = crate::cli::Cli::parse();";
    assert_eq!(
        named_modules(text),
        vec!["resolve", "cache", "server", "cli"]
    );
    assert!(covered(Path::new("resolve/iterator.rs"), &["resolve"]));
    assert!(covered(Path::new("config.rs"), &["config.rs"]));
    assert!(!covered(Path::new("resolver.rs"), &["resolve"]));
    assert!(covered(Path::new("trace/render/text.rs"), &["trace"]));
}
