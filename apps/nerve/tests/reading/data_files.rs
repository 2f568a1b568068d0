//! The corpora under `tests/data/`: bad files must fail with their recorded message, quirky but
//! valid files must train.
//!
//! Each bad case is `NAME.stderr` (the exact expected stderr) with an optional data file
//! `NAME.csv` / `NAME.bin` and an optional `NAME.args` (extra flags, split on whitespace). The
//! command runs from the corpus folder, so messages name files by relative path. Run with
//! `NERVE_BLESS=1` to rewrite the `.stderr` files after a deliberate message change.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn corpus(name: &str) -> PathBuf {
    Path::new(&common::repo_file("tests/data")).join(name)
}

/// The cases of a corpus: (name, data file if any, extra args).
fn cases(dir: &Path, marker: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| file.strip_suffix(marker).map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let data = ["csv", "bin"]
                .iter()
                .map(|ext| format!("{name}.{ext}"))
                .find(|file| dir.join(file).is_file());
            let args = std::fs::read_to_string(dir.join(format!("{name}.args")))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            (name, data, args)
        })
        .collect()
}

fn train(dir: &Path, data: Option<&str>, args: &[String], extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nerve"));
    command.current_dir(dir).arg("train");
    if let Some(data) = data {
        command.args(["--data", data]);
    }
    command
        .args(args)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// stderr without the note a debug build adds.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|line| !line.starts_with("warning: this is a debug build"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn every_bad_file_fails_with_its_recorded_message() {
    let dir = corpus("bad");
    let bless = std::env::var_os("NERVE_BLESS").is_some();
    let cases = cases(&dir, ".stderr");
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, data, args) in cases {
        let out = train(&dir, data.as_deref(), &args, &["--epochs", "1"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(err.starts_with("error: "), "{name}: {err}");
        let expected_file = dir.join(format!("{name}.stderr"));
        if bless {
            std::fs::write(&expected_file, &err).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap();
        if err != expected {
            failures.push(format!("{name}:\n  expected: {expected}  found:    {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn quirky_valid_files_train() {
    let dir = corpus("quirky");
    let cases = cases(&dir, ".csv");
    assert!(cases.len() >= 4);
    for (name, data, args) in cases {
        let run = common::scratch().join(format!("quirky-{name}"));
        let run = run.to_str().unwrap();
        let out = train(
            &dir,
            data.as_deref(),
            &args,
            &["--json", "--epochs", "30", "--out", run],
        );
        let _ = std::fs::remove_dir_all(run);
        let err = stderr(&out);
        assert!(out.status.success(), "{name}: {err}");
        let summary: Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap())
                .unwrap();
        assert_eq!(summary["event"], "summary", "{name}");
        assert!(
            summary["final_loss"].as_f64().unwrap().is_finite(),
            "{name}"
        );
        match name.as_str() {
            "penguins" => {
                assert_eq!(summary["target"], "species");
                assert_eq!(
                    summary["labels"],
                    serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
                );
                assert_eq!(summary["test"]["rows"], 18, "{summary}");
                assert!(
                    summary["test"]["accuracy"].as_f64().unwrap() > 0.8,
                    "{summary}"
                );
            }
            "quoted_headers_target_first" => {
                assert_eq!(summary["target"], "species");
                assert_eq!(summary["test"]["rows"], 30);
            }
            "semicolons_decimal_comma" => {
                assert_eq!(summary["target"], "shoe_size");
                assert_eq!(summary["train"]["rows"], 24, "{summary}");
            }
            "bom_crlf_quoted" => {
                assert_eq!(summary["labels"], serde_json::json!(["off", "on"]));
            }
            _ => {}
        }
    }
}
