//! The crates depend on each other only as ARCHITECTURE.md allows, read from their manifests:
//! each library uses only the nerve crates below it (`nerve-choice` under all, for parsing
//! names; `nerve-train` is where data, model and loss meet; `nerve-data` never uses
//! `nerve-model`; `nerve-onnx` reads a model, never the trainer; `nerve-run` is the run above
//! them all), takes `nerve-backend` only to test itself (so it stays backend-free; nerve-run,
//! whose configs name a backend, is the one library that creates a device), never switches on
//! a burn backend feature, links nothing only the app needs (the command line, the terminal,
//! charts, HTTP) and returns typed errors (no `anyhow`). In the app, no command module imports another.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

/// Each library crate and the nerve crates its normal dependencies may include.
const ALLOWED: [(&str, &[&str]); 8] = [
    ("nerve-choice", &[]),
    ("nerve-backend", &["nerve-choice"]),
    ("nerve-data", &["nerve-choice"]),
    ("nerve-model", &["nerve-choice"]),
    ("nerve-loss", &["nerve-choice"]),
    (
        "nerve-train",
        &["nerve-choice", "nerve-data", "nerve-model", "nerve-loss"],
    ),
    // ONNX export reads a model (network, preprocessing, loss), not the trainer.
    (
        "nerve-onnx",
        &["nerve-choice", "nerve-data", "nerve-model", "nerve-loss"],
    ),
    // The run as a library: above the trainer, and the one library that may create a device
    // (a run config names its backend), through nerve-backend, never burn's features.
    (
        "nerve-run",
        &[
            "nerve-choice",
            "nerve-backend",
            "nerve-data",
            "nerve-model",
            "nerve-loss",
            "nerve-train",
        ],
    ),
];

/// What only the app links: the command line, the terminal, charts and the HTTP stack. A
/// library (nerve-run above all, which the Python package and other programs call) has none.
const APP_ONLY: [&str; 9] = [
    "anyhow",
    "clap",
    "indicatif",
    "plotters",
    "axum",
    "tokio",
    "hyper",
    "ctrlc",
    "tracing-subscriber",
];

/// burn's features that compile a concrete backend: only `nerve-backend` may switch them on.
const BACKEND_FEATURES: [&str; 6] = ["flex", "ndarray", "wgpu", "cuda", "tch", "candle"];

fn manifest(crate_name: &str) -> toml::Table {
    let path = nerve_tests::repo_path(&format!("crates/{crate_name}/Cargo.toml"));
    std::fs::read_to_string(&path)
        .unwrap()
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names(section: Option<&toml::Value>) -> Vec<String> {
    section
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_crate_depends_only_on_what_the_architecture_allows() {
    for (name, allowed) in ALLOWED {
        let manifest = manifest(name);
        let normal = names(manifest.get("dependencies"));
        let nerve: Vec<&String> = normal.iter().filter(|d| d.starts_with("nerve-")).collect();
        for dependency in &nerve {
            assert!(
                allowed.contains(&dependency.as_str()),
                "{name} depends on {dependency}; ARCHITECTURE.md allows only {allowed:?}"
            );
        }
        assert!(
            !normal.iter().any(|d| d == "anyhow"),
            "{name} is a library: typed errors (thiserror), not anyhow"
        );
        for app_only in APP_ONLY {
            assert!(
                !normal.iter().any(|d| d == app_only),
                "{name} is a library; {app_only} belongs to the app"
            );
        }
        for dev in names(manifest.get("dev-dependencies")) {
            assert!(
                !dev.starts_with("nerve-")
                    || dev == "nerve-backend"
                    || allowed.contains(&dev.as_str()),
                "{name}'s tests use {dev}"
            );
        }
    }
}

#[test]
fn only_nerve_backend_switches_on_a_burn_backend() {
    for (name, _) in ALLOWED {
        let manifest = manifest(name);
        let text = toml::to_string(&manifest).unwrap();
        for feature in BACKEND_FEATURES {
            let names_it = text.contains(&format!("\"burn/{feature}\""))
                || manifest
                    .get("dependencies")
                    .and_then(|d| d.get("burn"))
                    .and_then(|b| b.get("features"))
                    .and_then(toml::Value::as_array)
                    .is_some_and(|f| f.iter().any(|v| v.as_str() == Some(feature)));
            assert!(
                name == "nerve-backend" || !names_it,
                "{name} switches on burn's `{feature}` backend; only nerve-backend names a backend"
            );
        }
    }
}

#[test]
fn the_rules_are_not_vacuous() {
    // nerve-train really uses the three crates below it, and nerve-backend really switches on
    // both CPU backends, so the checks above look at the right fields.
    let train = names(manifest("nerve-train").get("dependencies"));
    for dependency in ["nerve-data", "nerve-model", "nerve-loss"] {
        assert!(train.iter().any(|d| d == dependency), "{train:?}");
    }
    let backend = toml::to_string(&manifest("nerve-backend")).unwrap();
    assert!(backend.contains("\"burn/flex\"") && backend.contains("\"burn/ndarray\""));
}

/// The app's command modules (`apps/nerve/src/commands/NAME.rs` or `NAME/`), with each file's
/// text.
fn command_files() -> Vec<(String, PathBuf, String)> {
    let commands = nerve_tests::repo_path("apps/nerve/src/commands");
    let mut files = Vec::new();
    let mut stack = vec![commands.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && path != commands.join("mod.rs")
            {
                let relative = path.strip_prefix(&commands).unwrap();
                let command = relative
                    .components()
                    .next()
                    .unwrap()
                    .as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((command, path, text));
            }
        }
    }
    files
}

#[test]
fn no_command_imports_another() {
    // Commands share the modules above them (output, model input, charts, the run folder);
    // a helper one command needs from another belongs there (ARCHITECTURE.md).
    let files = command_files();
    let names: Vec<&str> = files
        .iter()
        .map(|(command, _, _)| command.as_str())
        .collect();
    assert!(
        names.contains(&"train") && names.contains(&"predict"),
        "{names:?}"
    );
    for (command, path, text) in &files {
        for other in &names {
            if other == command {
                continue;
            }
            for reference in [format!("commands::{other}::"), format!("super::{other}::")] {
                assert!(
                    !text.contains(&reference),
                    "{} (command `{command}`) uses `{reference}`",
                    path.display()
                );
            }
        }
    }
}

/// Each crate `cargo tree` lists, with the features it is built with, for `args`.
fn features(
    args: &[&str],
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .current_dir(nerve_tests::repo_path(""))
        .args([
            "tree",
            "--offline",
            "--prefix",
            "none",
            "--format",
            "{p} {f}",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = std::collections::BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        // `name vX.Y.Z [(path)] [(*)] feature,feature`
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let features: std::collections::BTreeSet<String> = words
            .last()
            .filter(|w| !w.starts_with('('))
            .map(|w| w.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        all.entry(format!("{name} {version}"))
            .or_insert_with(std::collections::BTreeSet::new)
            .extend(features);
    }
    all
}

#[test]
fn the_tests_share_the_build_of_burn_with_the_binary() {
    // Cargo unifies features over one build: a dev-dependency (tract-onnx) that switches on a
    // feature of a crate under burn makes `cargo test --workspace` compile burn a second time
    // (~12 minutes here). The feature pins in nerve-backend's manifest prevent it; this checks
    // that every crate burn's CPU backends use is built alike by `cargo build -p nerve` and by
    // the tests.
    let burn = features(&["-p", "nerve-backend", "-e", "normal"]);
    let binary = features(&["-p", "nerve", "-e", "normal"]);
    let tests = features(&["--workspace", "-e", "normal,dev"]);
    assert!(burn.contains_key("burn v0.22.1"), "{:?}", burn.keys());
    // nerve's own crates differ (the tests switch on nerve-backend's default features) and
    // are cheap; burn and what it builds on must not.
    for name in burn.keys().filter(|name| !name.starts_with("nerve")) {
        assert_eq!(
            binary.get(name),
            tests.get(name),
            "`{name}` is built with other features by the tests than by `cargo build -p nerve`: pin them in the root Cargo.toml"
        );
    }
}
