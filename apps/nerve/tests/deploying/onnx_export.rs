//! `nerve export --format onnx` (issue 20): every kind of model nerve trains is exported, run in
//! tract (a pure-Rust ONNX runtime) and, where Python has it, in onnxruntime
//! (`tests/onnx/check_onnxruntime.py`, which also runs `onnx.checker`), and compared with
//! `nerve predict` on the same rows: labels identical, probabilities within 1e-5, values
//! within 1e-5 of their size. The inputs are built as the graph documents them: numeric
//! columns as f64 with NaN for a missing cell, categorical columns as the cells' text.
//!
//! onnxruntime's side skips (saying so) where python3 cannot import it, unless
//! `NERVE_REQUIRE_ONNXRUNTIME=1` (set by `.ci/run`, which installs onnx and onnxruntime).
//! `cargo test ... -- --nocapture` prints the largest difference and file size per case.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fails, file, nerve, ok, read_cells, repo_file, scratch, train};
use serde_json::{Value, json};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid as _;

/// What a runtime answered for some rows.
struct Answers {
    /// Class names, or values printed as `nerve predict` prints them.
    predictions: Vec<String>,
    /// One row of probabilities per input row (classifiers).
    probabilities: Vec<Vec<f32>>,
}

/// `nerve predict` output (`row,prediction[,p_...]`) as answers.
fn read_predictions(path: &Path) -> Answers {
    let (header, rows) = read_cells(path.to_str().unwrap());
    assert_eq!(header[..2], ["row", "prediction"], "{header:?}");
    Answers {
        predictions: rows.iter().map(|r| r[1].clone()).collect(),
        probabilities: rows
            .iter()
            .map(|r| r[2..].iter().map(|p| p.parse().unwrap()).collect())
            .collect(),
    }
}

/// Runs the ONNX model at `model` in tract on rows `rows` of the CSV `data`: each graph input
/// is the column of its name, f64 (NaN where the cell is not a number) or text.
fn run_tract(model: &Path, data: &str, rows: &[usize]) -> Answers {
    let (header, cells) = read_cells(data);
    let inference = tract_onnx::onnx().model_for_path(model).unwrap();
    let mut inputs: TVec<TValue> = tvec![];
    for outlet in inference.input_outlets().unwrap() {
        let name = &inference.node(outlet.node).name;
        let column = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column `{name}` in {data}"));
        let fact = inference.outlet_fact(*outlet).unwrap();
        let tensor: Tensor = if fact.datum_type.concretize() == Some(String::datum_type()) {
            let text: Vec<String> = rows.iter().map(|&r| cells[r][column].clone()).collect();
            tract_ndarray::Array1::from(text).into()
        } else {
            let numbers: Vec<f64> = rows
                .iter()
                .map(|&r| cells[r][column].trim().parse().unwrap_or(f64::NAN))
                .collect();
            tract_ndarray::Array1::from(numbers).into()
        };
        inputs.push(tensor.into());
    }
    // The outputs as the graph names them: the prediction, then the probabilities.
    let names: Vec<String> = inference
        .output_outlets()
        .unwrap()
        .iter()
        .map(|o| inference.outlet_label(*o).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names[0], "prediction", "{names:?}");
    assert!(names.len() == 1 || names[1] == "probabilities", "{names:?}");
    let runnable = inference.into_optimized().unwrap().into_runnable().unwrap();
    let outputs = runnable.run(inputs).unwrap();
    let first = &outputs[0];
    let predictions = if first.datum_type() == String::datum_type() {
        first
            .to_plain_array_view::<String>()
            .unwrap()
            .iter()
            .cloned()
            .collect()
    } else {
        // Values in the target's units are doubles: decoded in f64, as nerve decodes them.
        let values = first.to_plain_array_view::<f64>().unwrap();
        assert_eq!(values.shape(), [rows.len()], "prediction is [N]");
        values.iter().map(f64::to_string).collect()
    };
    let probabilities = match outputs.get(1) {
        Some(p) => {
            let p = p.to_plain_array_view::<f32>().unwrap();
            assert_eq!(p.shape()[0], rows.len(), "probabilities are [N, C]");
            p.outer_iter()
                .map(|row| row.iter().copied().collect())
                .collect()
        }
        None => Vec::new(),
    };
    Answers {
        predictions,
        probabilities,
    }
}

/// The largest difference between `got` and `want` (probabilities absolute, values relative
/// to their size), after checking the labels are identical.
fn compare(got: &Answers, want: &Answers, rows: &[usize], classifier: bool, case: &str) -> f64 {
    let mut worst = 0.0f64;
    for (i, &row) in rows.iter().enumerate() {
        if classifier {
            assert_eq!(
                got.predictions[i], want.predictions[row],
                "{case}: row {row}: label"
            );
            assert_eq!(got.probabilities[i].len(), want.probabilities[row].len());
            for (a, b) in got.probabilities[i].iter().zip(&want.probabilities[row]) {
                // f64::max would pass over a NaN: every answer must be a number.
                assert!(
                    a.is_finite() && b.is_finite(),
                    "{case}: row {row}: {a} vs {b}"
                );
                worst = worst.max(f64::from((a - b).abs()));
            }
        } else {
            let a: f64 = got.predictions[i].parse().unwrap();
            let b: f64 = want.predictions[row].parse().unwrap();
            assert!(
                a.is_finite() && b.is_finite(),
                "{case}: row {row}: {a} vs {b}"
            );
            worst = worst.max((a - b).abs() / b.abs().max(1.0));
        }
    }
    assert!(worst <= 1e-5, "{case}: differs by {worst}");
    worst
}

fn onnxruntime_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import onnx, onnxruntime, pandas"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var("NERVE_REQUIRE_ONNXRUNTIME").is_err(),
            "NERVE_REQUIRE_ONNXRUNTIME is set but python3 cannot import onnx, onnxruntime and pandas"
        );
        eprintln!("skipped onnxruntime: pip install onnx onnxruntime pandas");
    }
    found
}

/// Trains `name` with `train_args`, predicts `data` with `nerve predict` (and `predict_args`),
/// exports, and compares tract (whole file, and batches of 1, 7 and 1000 rows) and
/// onnxruntime with the predictions. Returns the exported file.
fn check(name: &str, train_args: &[&str], data: &str, predict_args: &[&str]) -> PathBuf {
    let (run, _) = train(name, train_args);
    let model = run.join("model.safetensors");
    let predictions = run.join("predictions.csv");
    let onnx = run.join("model.onnx");
    let classifier = !predict_args.contains(&"--values");
    let mut args = vec![
        "predict",
        "-m",
        model.to_str().unwrap(),
        "-d",
        data,
        "-o",
        predictions.to_str().unwrap(),
    ];
    if classifier {
        args.push("--proba");
    }
    args.extend(predict_args.iter().filter(|a| **a != "--values"));
    ok(&args);
    let mut export = vec!["export", "-m", model.to_str().unwrap(), "--format", "onnx"];
    export.extend(predict_args.iter().filter(|a| **a != "--values"));
    let printed = ok(&export);
    assert!(printed.contains("model.onnx"), "{printed}");
    assert!(onnx.is_file(), "the default output is beside the model");

    let want = read_predictions(&predictions);
    let n = want.predictions.len();
    let all: Vec<usize> = (0..n).collect();
    let mut worst = 0.0f64;
    for rows in [
        all.clone(),
        vec![0],
        (0..7.min(n)).collect(),
        (0..1000).map(|i| i % n).collect(),
    ] {
        let got = run_tract(&onnx, data, &rows);
        worst = worst.max(compare(&got, &want, &rows, classifier, name));
    }
    let size = std::fs::metadata(&onnx).unwrap().len();
    eprintln!("{name}: tract's largest difference {worst:.3e}, {size} bytes");

    if onnxruntime_available() {
        let script = repo_file("apps/nerve/tests/onnx/check_onnxruntime.py");
        let out = Command::new("python3")
            .args([
                script.as_str(),
                onnx.to_str().unwrap(),
                data,
                predictions.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: onnxruntime: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{name}: onnxruntime {}",
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    onnx
}

fn dataset(name: &str) -> String {
    repo_file(&format!("datasets/{name}.csv"))
}

#[test]
fn multiclass_models_of_every_activation_match_predict() {
    check(
        "iris",
        &["--data", "iris", "--epochs", "40"],
        &dataset("iris"),
        &[],
    );
    check(
        "wine-tanh",
        &[
            "--data",
            "wine",
            "--epochs",
            "30",
            "--activation",
            "tanh",
            "--hidden",
            "16,8",
        ],
        &dataset("wine"),
        &[],
    );
    check(
        "digits-gelu",
        &["--data", "digits", "--epochs", "5", "--activation", "gelu"],
        &dataset("digits"),
        &[],
    );
    check(
        "xor",
        &[
            "--data",
            "xor",
            "--epochs",
            "50",
            "--activation",
            "leaky-relu",
        ],
        &dataset("xor"),
        &[],
    );
}

#[test]
fn binary_models_with_cross_entropy_bce_and_a_threshold_match_predict() {
    let data = dataset("breast_cancer");
    check(
        "cancer-ce",
        &[
            "--data",
            "breast_cancer",
            "--epochs",
            "10",
            "--activation",
            "sigmoid",
        ],
        &data,
        &[],
    );
    check(
        "cancer-bce",
        &[
            "--data",
            "breast_cancer",
            "--epochs",
            "10",
            "--loss",
            "bce",
            "--activation",
            "leaky-relu",
        ],
        &data,
        &[],
    );
    // A threshold given to both (a stored one is read by both as well, through the same
    // `decision_threshold`).
    check(
        "cancer-threshold",
        &["--data", "breast_cancer", "--epochs", "10", "--loss", "bce"],
        &data,
        &["--threshold", "0.9"],
    );
}

#[test]
fn regression_and_linear_models_match_predict() {
    check(
        "diabetes",
        &["--data", "diabetes", "--epochs", "20"],
        &dataset("diabetes"),
        &["--values"],
    );
    check(
        "diabetes-linear-huber",
        &[
            "--data", "diabetes", "--epochs", "20", "--hidden", "none", "--loss", "huber",
        ],
        &dataset("diabetes"),
        &["--values"],
    );
}

#[test]
fn categorical_and_missing_inputs_match_predict() {
    let penguins = repo_file("tests/data/quirky/penguins.csv");
    check(
        "penguins",
        &[
            "--data",
            &penguins,
            "--ignore",
            "id",
            "--missing",
            "impute",
            "--epochs",
            "30",
        ],
        &penguins,
        &[],
    );
}

/// The pitfalls other exporters' users hit, in one table: a column near 1e6 with a small
/// spread (standardized in f64, as nerve does, so its digits survive), a constant column
/// (scale 1: no inf or NaN), names with spaces and non-ASCII letters, and categories with
/// numeric and truth-value levels; the new rows add missing numbers (filled before
/// standardizing), an unseen category, an empty string, `NA`, a different capitalisation, and
/// other spellings of a number and a truth value.
#[test]
fn the_exporters_pitfalls_give_the_same_answers_as_predict() {
    let mut train_csv = String::from("big value,constant,größe (cm),colour,size,flag,code,class\n");
    for i in 0..120 {
        let big = 1_000_000.0 + f64::from(i % 7) * 0.001;
        let colour = ["red", "green", "blue"][i as usize % 3];
        let size = ["1", "2", "XL"][(i as usize / 3) % 3];
        let flag = ["True", "False"][(i as usize / 2) % 2];
        let class = if (big - 1_000_000.0) * 1000.0 + f64::from(i % 3) > 4.0 {
            "yes"
        } else {
            "no"
        };
        // `-0` first, then `0`: one level (the helper's report), and the missing-value number
        // -999 among text (--na-values), which nerve reads as missing by value.
        let code = ["-0", "0", "7", "z", "-999"][i as usize % 5];
        train_csv += &format!(
            "{big},5,{},{colour},{size},{flag},{code},{class}\n",
            150 + i % 40
        );
    }
    let train_file = file("pitfalls-train.csv", &train_csv);
    let new_rows = "big value,constant,größe (cm),colour,size,flag,code\n\
        1000000.004,5,160,red,1,True,0\n\
        1000000.006,7,171,purple,2,False,-0\n\
        NA,5,,,XL,TRUE,0.0\n\
        1000000.001,,155,RED,2.0,false,-999.0\n\
        1000000.002,5,NA,NA,1.0,,-999\n\
        1000000.003,5,180,green,3,maybe,7.0\n\
        999999.999,5,140,blue,xl,FALSE,Z\n";
    let data = file("pitfalls-new.csv", new_rows);
    check(
        "pitfalls",
        &[
            "--data",
            &train_file,
            "--target",
            "class",
            "--missing",
            "impute",
            "--epochs",
            "60",
            "--test-split",
            "0",
            "--na-values=-999",
        ],
        &data,
        &[],
    );
}

/// Issue 34 in the graph: a column of Unix timestamps standardized with its f64 mean, a
/// regression target of timestamps decoded in f64, and a column forced to be categorical whose
/// codes match only as written (`1E5` is not `100000`, `007` is not `7`).
#[test]
fn large_numbers_and_forced_codes_give_the_same_answers_as_predict() {
    let codes = ["1E5", "100000", "007", "7", "x"];
    let mut train_csv = String::from("stamp,part,due\n");
    for i in 0..150 {
        let k = i % 3;
        let part = codes[i % codes.len()];
        let due = 1_700_000_000 + 3_600 * k + 60 * (i % 5);
        train_csv += &format!("{},{part},{due}\n", 1_700_000_060 + k);
    }
    let train_file = file("stamps-train.csv", &train_csv);
    let data = file(
        "stamps-new.csv",
        "stamp,part\n1700000060,1E5\n1700000061,100000\n1700000062,007\n1700000061,7\n1700000060,1e5\n1700000062,\n",
    );
    let onnx = check(
        "stamps",
        &[
            "--data",
            &train_file,
            "--categorical",
            "part",
            "--task",
            "regression",
            "--missing",
            "impute",
            "--epochs",
            "30",
        ],
        &data,
        &["--values"],
    );
    // `check` compares values relative to their size; near 1.7e9 that is 17,000 seconds a
    // part in 1e5. The graph must agree to the second.
    let want = read_predictions(&onnx.with_file_name("predictions.csv"));
    let rows: Vec<usize> = (0..want.predictions.len()).collect();
    let got = run_tract(&onnx, &data, &rows);
    for (g, w) in got.predictions.iter().zip(&want.predictions) {
        let (g, w): (f64, f64) = (g.parse().unwrap(), w.parse().unwrap());
        assert!((g - w).abs() < 1.0, "the graph answers {g}, predict {w}");
    }
}

#[test]
fn both_backends_predict_what_the_export_answers() {
    // The export reads the weights once; predict on either backend agrees with it.
    let (run, _) = train("iris-backends", &["--data", "iris", "--epochs", "20"]);
    let model = run.join("model.safetensors");
    ok(&["export", "-m", model.to_str().unwrap()]);
    let onnx = run.join("model.onnx");
    let data = dataset("iris");
    let rows: Vec<usize> = (0..150).collect();
    let got = run_tract(&onnx, &data, &rows);
    for backend in ["flex", "ndarray"] {
        let out = run.join(format!("{backend}.csv"));
        ok(&[
            "predict",
            "-m",
            model.to_str().unwrap(),
            "-d",
            &data,
            "--proba",
            "--backend",
            backend,
            "-o",
            out.to_str().unwrap(),
        ]);
        compare(&got, &read_predictions(&out), &rows, true, backend);
    }
}

#[test]
fn what_onnx_cannot_express_is_refused_and_nothing_is_written() {
    let (run, _) = train(
        "spiking",
        &[
            "--data",
            "iris",
            "--epochs",
            "1",
            "--network",
            "spiking",
            "--time-steps",
            "4",
        ],
    );
    let model = run.join("model.safetensors");
    fails(
        &["export", "-m", model.to_str().unwrap()],
        "spiking network: ONNX export covers rate networks",
    );
    assert!(!run.join("model.onnx").exists());

    let dates = "day,x,y\n2024-01-01,1,a\n2024-01-02,2,b\n2024-01-03,3,a\n2024-01-04,4,b\n\
        2024-01-05,5,a\n2024-01-06,6,b\n2024-01-07,7,a\n2024-01-08,8,b\n";
    let dates = file("dates.csv", dates);
    let (run, _) = train("dates", &["--data", &dates, "--epochs", "1"]);
    let model = run.join("model.safetensors");
    fails(
        &["export", "-m", model.to_str().unwrap()],
        "feature `day` is a date column",
    );
    assert!(!run.join("model.onnx").exists());
}

/// Issue 36.5: model files no training makes — a feature named "" (a graph onnx's checker
/// rejects), a scale of 0 (a graph that answers every row predict refuses), and more of the
/// kind: two features of one name, a negative scale, a share above 1 — are refused by the model
/// reader (so predict and export alike), naming the field, and nothing is written.
#[test]
fn model_files_no_training_makes_are_refused_and_nothing_is_exported() {
    let (run, _) = train("edited", &["--data", "iris", "--epochs", "2"]);
    let model = run.join("model.safetensors");
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 5] = [
        (
            "empty-name",
            |p| p["features"][0]["column"] = json!(""),
            "a feature column has an empty name",
        ),
        (
            "zero-scale",
            |p| p["features"][1]["scale"] = json!(0.0),
            "feature `sepal_width_cm`: `scale` is 0",
        ),
        (
            "same-name",
            |p| p["features"][1]["column"] = json!("petal_width_cm"),
            "two feature columns are named `petal_width_cm`",
        ),
        (
            "negative-scale",
            |p| p["features"][2]["scale"] = json!(-1.0),
            "feature `petal_length_cm`: `scale` is -1",
        ),
        (
            "share",
            |p| p["features"][3]["indicator"] = json!(1.5),
            "`indicator` is 1.5",
        ),
    ];
    for (name, edit, want) in cases {
        let bad = run.join(format!("{name}.safetensors"));
        common::edited_model(&model, &bad, |_, nerve| edit(&mut nerve["preprocessing"]));
        let onnx = run.join(format!("{name}.onnx"));
        let out = nerve(&[
            "export",
            "-m",
            bad.to_str().unwrap(),
            "-o",
            onnx.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(want) && stderr.contains(name),
            "{name}: {stderr}"
        );
        assert!(!onnx.exists(), "{name}: an export was written");
        fails(
            &["predict", "-m", bad.to_str().unwrap(), "--data", "iris"],
            want,
        );
    }
}

#[test]
fn the_model_file_is_never_overwritten_and_bad_flags_are_refused() {
    let (run, _) = train("guarded", &["--data", "iris", "--epochs", "1"]);
    let model = run.join("model.safetensors");
    let before = std::fs::read(&model).unwrap();
    fails(
        &[
            "export",
            "-m",
            model.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
        ],
        "is the model file itself",
    );
    // The same file by another spelling of its path.
    let other = format!("{}/./model.safetensors", run.display());
    fails(
        &["export", "-m", model.to_str().unwrap(), "-o", &other],
        "is the model file itself",
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
    fails(
        &[
            "export",
            "-m",
            model.to_str().unwrap(),
            "--threshold",
            "0.5",
        ],
        "--threshold is for two classes",
    );
    let out = nerve(&["export", "-m", model.to_str().unwrap(), "--format", "pmml"]);
    assert_eq!(out.status.code(), Some(2));
    let missing = scratch().join("no-such-folder/m.onnx");
    fails(
        &[
            "export",
            "-m",
            model.to_str().unwrap(),
            "-o",
            missing.to_str().unwrap(),
        ],
        "does not exist",
    );
}

#[test]
fn number_categories_are_named_in_a_warning_with_the_spellings_the_graph_takes() {
    // The helper's report: `3.00` after `3` in one categorical column is one level for nerve,
    // but no string lookup can list every spelling of a number. The export says so, per
    // column, and the metadata lists the spellings the graph takes.
    let mut csv = String::from("c,x,y\n");
    for i in 0..60 {
        let c = ["3", "3.00", "x", "0.25"][i % 4];
        csv += &format!("{c},{},{}\n", i % 7, ["a", "b"][i % 2]);
    }
    let data = file("number-categories.csv", &csv);
    let (run, _) = train(
        "number-categories",
        &["--data", &data, "--target", "y", "--epochs", "2"],
    );
    let model = run.join("model.safetensors");
    let out = nerve(&["export", "-m", model.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: `c` has categories that are numbers"),
        "{err}"
    );
    let bytes = std::fs::read(run.join("model.onnx")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(r#""number_spellings":["0.25","3","3.0"]"#),
        "metadata"
    );

    // A model whose categories are all text gets no warning.
    let penguins = repo_file("tests/data/quirky/penguins.csv");
    let (run, _) = train(
        "penguins-no-warning",
        &[
            "--data",
            &penguins,
            "--ignore",
            "id",
            "--missing",
            "impute",
            "--epochs",
            "1",
        ],
    );
    let out = nerve(&[
        "export",
        "-m",
        run.join("model.safetensors").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_closed_pipe_ends_export_and_the_other_printing_commands_quietly() {
    // The helper's report: `nerve export ... | head -0` panicked in `println!`. Every command
    // now prints through writers whose errors end it quietly (clippy denies `println!`).
    let (run, _) = train("pipe", &["--data", "iris", "--epochs", "1"]);
    let model = run.join("model.safetensors");
    for args in [
        vec!["export", "-m", model.to_str().unwrap()],
        vec!["backends"],
        vec!["plot", run.to_str().unwrap()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(run.join("model.onnx").is_file());
}

#[test]
fn a_model_file_named_onnx_gets_a_default_output_of_another_name() {
    // The helper's report: for `m.onnx` the refusal suggested `m.onnx` itself.
    let (run, _) = train("named-onnx", &["--data", "iris", "--epochs", "1"]);
    let model = run.join("m.onnx");
    std::fs::copy(run.join("model.safetensors"), &model).unwrap();
    let before = std::fs::read(&model).unwrap();
    fails(
        &[
            "export",
            "-m",
            model.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
        ],
        "m-exported.onnx",
    );
    ok(&["export", "-m", model.to_str().unwrap()]);
    assert_eq!(std::fs::read(&model).unwrap(), before);
    assert!(run.join("m-exported.onnx").is_file());
}
