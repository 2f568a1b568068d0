//! The `nerve` binary, run as a user runs it.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use serde_json::Value;

fn nerve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `nerve` with `args` and asserts that it fails with exit `code`, without a panic, and
/// that stderr contains `expected`.
#[track_caller]
fn assert_fails(args: &[&str], code: i32, expected: &str) {
    let out = nerve(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(expected), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    if code == 1 {
        // Errors after argument parsing go through main's one `error: ...` report.
        assert!(
            err.starts_with("error: ") || err.contains("\nerror: "),
            "{args:?}: {err}"
        );
    }
}

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nerve-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn train_without_arguments_fits_the_tutorial_table_on_every_backend() {
    for backend in ["flex", "ndarray"] {
        let out = nerve(&["train", "--backend", backend]);
        assert!(out.status.success(), "{backend}: {}", stderr(&out));
        let text = stdout(&out);
        // The tutorial's "Output:" table: each row's inputs, target and output.
        let rows: Vec<Vec<f64>> = text
            .lines()
            .filter_map(|line| {
                let cells: Vec<f64> = line
                    .split_whitespace()
                    .filter_map(|c| c.parse().ok())
                    .collect();
                (cells.len() == 6).then_some(cells)
            })
            .collect();
        assert_eq!(rows.len(), 4, "{backend}: {text}");
        for row in rows {
            assert!((row[5] - row[4]).abs() < 0.05, "{backend}: row {row:?}");
        }
        let final_line = text
            .lines()
            .find(|l| l.starts_with("Final mse loss:"))
            .unwrap();
        let loss: f64 = final_line
            .split_whitespace()
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        assert!(loss < 1e-3, "{backend}: {final_line}");
        assert!(
            final_line.contains(&format!("backend {backend}")),
            "{final_line}"
        );
    }
}

#[test]
fn json_prints_epoch_lines_then_a_summary() {
    let out = nerve(&["train", "--json", "--backend", "ndarray"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    let (summary, epochs) = lines.split_last().unwrap();
    assert!(!epochs.is_empty());
    for (i, epoch) in epochs.iter().enumerate() {
        assert_eq!(epoch["event"], "epoch");
        assert_eq!(epoch["epoch"].as_u64().unwrap() as usize, i + 1);
        assert!(epoch["loss"].as_f64().unwrap().is_finite());
        assert!(epoch["grad_norm"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["backend"], "ndarray");
    assert_eq!(
        summary["epochs_run"].as_u64().unwrap() as usize,
        epochs.len()
    );
    assert!(summary["final_loss"].as_f64().unwrap() < 1e-3);
    let outputs = summary["outputs"].as_array().unwrap();
    let targets = [0.0, 1.0, 1.0, 0.0];
    assert_eq!(outputs.len(), 4);
    for (output, target) in outputs.iter().zip(targets) {
        assert!(
            (output[0].as_f64().unwrap() - target).abs() < 0.05,
            "{output}"
        );
    }
}

#[test]
fn unknown_backend_names_the_available_ones() {
    assert_fails(
        &["train", "--backend", "gpu"],
        2,
        "unknown backend `gpu`; available backends: flex, ndarray",
    );
}

#[test]
fn bad_flags_are_clear_errors() {
    for (args, expected) in [
        (
            &["train", "--lr", "fast"][..],
            "invalid value 'fast' for '--lr",
        ),
        (&["train", "--hidden", "64,x"], "`x` is not a layer width"),
        (
            &["train", "--activation", "swish"],
            "unknown activation `swish`; expected one of relu",
        ),
        (&["train", "--loss", "l1"], "unknown loss `l1`"),
        (
            &["train", "--batch-size", "0"],
            "expected a positive integer or `full`",
        ),
        (
            &["train", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
    ] {
        assert_fails(args, 2, expected);
    }
    for (args, expected) in [
        (
            &["train", "--lr", "-1"][..],
            "`learning_rate` must be a positive number, got -1",
        ),
        (
            &["train", "--hidden", "100000000,100000000"],
            "more than the 2147483648 nerve allows",
        ),
        (
            &["train", "--data", "no-such.csv"],
            "no such file no-such.csv, and no built-in data set",
        ),
        (
            &["train", "--target", "price"],
            "xor has no column `price`; its columns are: x0, x1, x2, x3, target",
        ),
    ] {
        assert_fails(args, 1, expected);
    }
}

#[test]
fn bad_config_and_data_files_name_the_place() {
    let dir = temp_dir("bad-files");
    let config = dir.join("typo.toml");
    std::fs::write(&config, "[data]\npath = \"xor\"\n\n[train]\nepochs = 10\n").unwrap();
    let config = config.to_str().unwrap();
    for expected in ["typo.toml", "line 5", "unknown field `epochs`"] {
        assert_fails(&["train", "--config", config], 1, expected);
    }

    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "a,b,y\n1,2,0\n3,oops,1\n").unwrap();
    assert_fails(
        &["train", "--data", csv.to_str().unwrap()],
        1,
        "bad.csv, line 3, column `b`: expected a finite number, found `oops`",
    );

    let labels = dir.join("labels.csv");
    std::fs::write(&labels, "a,y\n1,0\n2,2\n").unwrap();
    let labels_args = ["train", "--data", labels.to_str().unwrap(), "--loss", "bce"];
    for expected in ["target column `y`", "is 2; expected 0 or 1"] {
        assert_fails(&labels_args, 1, expected);
    }

    let huge = dir.join("huge.csv");
    std::fs::write(&huge, "a,y\n1,0\n2,1e9\n").unwrap();
    assert_fails(
        &[
            "train",
            "--data",
            huge.to_str().unwrap(),
            "--loss",
            "cross-entropy",
        ],
        1,
        "class id 1000000000 is too large",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_saved_config_repeats_the_run_exactly() {
    let dir = temp_dir("repeat");
    let run = dir.join("run");
    let first = nerve(&[
        "train",
        "--json",
        "--seed",
        "3",
        "--epochs",
        "300",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let saved = run.join("config.toml");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        text.contains("seed = 3") && text.contains("num_epochs = 300"),
        "{text}"
    );
    let again = nerve(&["train", "--json", "--config", saved.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let losses = |out: &Output| -> Vec<Value> {
        json_lines(out).iter().map(|l| l["loss"].clone()).collect()
    };
    assert_eq!(losses(&first), losses(&again));
    assert_eq!(
        json_lines(&first).last().unwrap()["final_loss"],
        json_lines(&again).last().unwrap()["final_loss"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_flag_is_accepted_and_applied() {
    let out = nerve(&[
        "train",
        "--json",
        "--data",
        "xor",
        "--target",
        "target",
        "--hidden",
        "8,4",
        "--activation",
        "tanh",
        "--initializer",
        "xavier-uniform",
        "--loss",
        "huber",
        "--optimizer",
        "adam",
        "--momentum",
        "0",
        "--lr",
        "0.01",
        "--epochs",
        "7",
        "--batch-size",
        "2",
        "--tol",
        "0",
        "--seed",
        "5",
        "--backend",
        "ndarray",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 8, "7 epochs and a summary");
    assert_eq!(lines[7]["epochs_run"], 7);
    let out = nerve(&[
        "train",
        "--json",
        "--hidden",
        "none",
        "--batch-size",
        "full",
        "--epochs",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn semicolon_and_tab_files_are_read() {
    let dir = temp_dir("delimiters");
    let semicolons = dir.join("xor.csv");
    std::fs::write(
        &semicolons,
        "x0;x1;x2;x3;target\r\n1;0;0;1;0\r\n0;1;0;0;1\r\n0;0;1;0;1\r\n1;1;1;1;0\r\n",
    )
    .unwrap();
    let tabs = dir.join("xor.tsv");
    std::fs::write(&tabs, "\u{feff}x0\tx1\tx2\tx3\ttarget\n1\t0\t0\t1\t0\n0\t1\t0\t0\t1\n0\t0\t1\t0\t1\n1\t1\t1\t1\t0\n").unwrap();
    let run = |args: &[&str]| -> Value {
        let out = nerve(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        json_lines(&out).pop().unwrap()
    };
    let builtin = run(&["train", "--json"]);
    for file in [&semicolons, &tabs] {
        let summary = run(&["train", "--json", "--data", file.to_str().unwrap()]);
        assert_eq!(
            summary["final_loss"],
            builtin["final_loss"],
            "{}",
            file.display()
        );
    }
    let explicit = run(&[
        "train",
        "--json",
        "--data",
        tabs.to_str().unwrap(),
        "--delimiter",
        "tab",
    ]);
    assert_eq!(explicit["final_loss"], builtin["final_loss"]);
    assert_fails(
        &[
            "train",
            "--data",
            semicolons.to_str().unwrap(),
            "--delimiter",
            ",",
        ],
        1,
        "column `x0;x1;x2;x3;target`",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rows_with_missing_values_are_dropped_with_a_note_or_refused() {
    let dir = temp_dir("missing");
    let csv = dir.join("gaps.csv");
    std::fs::write(
        &csv,
        "x0,x1,x2,x3,target\n1,0,0,1,0\n0,1,0,0,1\nNA,1,1,,1\n0,0,1,0,1\n1,1,1,1,0\n",
    )
    .unwrap();
    let out = nerve(&["train", "--data", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "left out 1 of 5 rows with missing values (missing per column: `x0` 1, `x3` 1)"
        ),
        "{err}"
    );
    assert_fails(
        &[
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--missing",
            "error",
        ],
        1,
        "gaps.csv, line 4, column `x0`: missing value (`NA`)",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn backends_lists_both() {
    let out = nerve(&["backends"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("flex") && text.contains("(default)") && text.contains("ndarray"),
        "{text}"
    );
}
