//! Model files: written by `nerve train`, read by `nerve eval`, `predict`, `inspect`,
//! `train --init` and `train --resume`, by the `safetensors` crate and (when installed) by
//! Python's `safetensors` with a NumPy forward pass.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common;

use std::path::Path;
use std::process::Command;

use safetensors::SafeTensors;
use serde_json::Value;

use crate::common::{fails, nerve, ok, scratch, tensors, train};

fn model(run: &Path) -> String {
    run.join("model.safetensors").to_str().unwrap().to_owned()
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_trained_model_evaluates_predicts_and_inspects() {
    let (run, summary) = train("iris", &["--data", "iris", "--epochs", "60"]);
    let model = model(&run);

    // eval on the model's own test split reproduces the run's test metrics.
    let eval: Value = serde_json::from_str(&ok(&[
        "eval", "--model", &model, "--data", "iris", "--split", "test", "--json",
    ]))
    .unwrap();
    for key in [
        "rows",
        "loss",
        "accuracy",
        "f1_macro",
        "confusion_matrix",
        "labels",
    ] {
        assert_eq!(eval[key], summary["test"][key], "{key}");
    }
    let all: Value = serde_json::from_str(&ok(&[
        "eval", "--model", &model, "--data", "iris", "--json",
    ]))
    .unwrap();
    assert_eq!(all["rows"], 150);
    let text = ok(&[
        "eval", "--model", &model, "--data", "iris", "--split", "test",
    ]);
    assert!(text.contains("(30 rows, test split)"), "{text}");

    // predict: one line per row, the class with the highest probability, as accurate as eval.
    let stdout = ok(&["predict", "--model", &model, "--data", "iris", "--proba"]);
    let rows = parse_csv(&stdout);
    assert_eq!(
        rows[0],
        [
            "row",
            "prediction",
            "p_setosa",
            "p_versicolor",
            "p_virginica"
        ]
    );
    assert_eq!(rows.len(), 151);
    let labels = ["setosa", "versicolor", "virginica"];
    let truth: Vec<String> = include_str!("../../../../datasets/iris.csv")
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect();
    let mut correct = 0;
    for (i, row) in rows[1..].iter().enumerate() {
        // `row` is 0-based, the DataFrame index of the data rows (issue 16).
        assert_eq!(row[0], i.to_string());
        let p: Vec<f64> = row[2..].iter().map(|v| v.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{row:?}");
        let best = (0..3).fold(0, |b, k| if p[k] > p[b] { k } else { b });
        assert_eq!(row[1], labels[best]);
        correct += usize::from(row[1] == truth[i]);
    }
    let accuracy = correct as f64 / 150.0;
    assert!((accuracy - all["accuracy"].as_f64().unwrap()).abs() < 1e-12);

    // Columns by name in any order, extra columns and the target ignored; --output file.
    let shuffled = scratch().join("iris-shuffled.csv");
    let mut text =
        String::from("note,petal_width_cm,petal_length_cm,sepal_width_cm,sepal_length_cm\n");
    for line in include_str!("../../../../datasets/iris.csv")
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = line.split(',').collect();
        text.push_str(&format!("x,{},{},{},{}\n", f[3], f[2], f[1], f[0]));
    }
    std::fs::write(&shuffled, text).unwrap();
    let output = scratch().join("predictions.csv");
    ok(&[
        "predict",
        "--model",
        &model,
        "--data",
        shuffled.to_str().unwrap(),
        "--proba",
        "--output",
        output.to_str().unwrap(),
        "--batch-rows",
        "7",
    ]);
    assert_eq!(std::fs::read_to_string(&output).unwrap(), stdout);

    // A missing feature column is named.
    let missing = scratch().join("iris-missing.csv");
    std::fs::write(
        &missing,
        "sepal_length_cm,sepal_width_cm,petal_length_cm\n5,3,1\n",
    )
    .unwrap();
    fails(
        &[
            "predict",
            "--model",
            &model,
            "--data",
            missing.to_str().unwrap(),
        ],
        "has no column `petal_width_cm`",
    );

    let text = ok(&["inspect", "--model", &model]);
    for expected in [
        "Mlp 4 -> 100 (relu) -> 3, 803 parameters",
        "3 classes: setosa, versicolor, virginica",
        "sepal_length_cm",
        "Training: data iris, cross-entropy loss, adam lr 0.001",
        "test (30 rows): loss",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    for (tensor, values) in [("layers.0.weight", "400"), ("layers.1.bias", "3")] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(tensor))
            .unwrap();
        assert_eq!(line.split_whitespace().nth(1), Some(values), "{line}");
    }
}

#[test]
fn unseen_categories_warn_and_regression_predicts_in_target_units() {
    let penguins = &common::repo_file("tests/data/quirky/penguins.csv");
    let (run, _) = train(
        "penguins",
        &[
            "--data",
            penguins,
            "--ignore",
            "id",
            "--missing",
            "impute",
            "--epochs",
            "5",
        ],
    );
    let new = scratch().join("new-penguins.csv");
    std::fs::write(
        &new,
        "island,bill_length_mm,flipper_length_mm,sex\nAtlantis,40,190,male\nDream,NA,200,female\nBiscoe,45,,male\n",
    )
    .unwrap();
    let out = nerve(&[
        "predict",
        "--model",
        &model(&run),
        "--data",
        new.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 value(s) of `island` were not seen in training"),
        "{err}"
    );
    // The training rows had blanks in `bill_length_mm`: a blank is encoded as in training
    // (its indicator input), nothing is made up.
    assert!(!err.contains("`bill_length_mm` were filled"), "{err}");
    // `flipper_length_mm` had none: its blank is filled with the training mean, and said so.
    assert!(
        err.contains("1 missing value(s) of `flipper_length_mm` were filled"),
        "{err}"
    );
    assert_eq!(parse_csv(&String::from_utf8_lossy(&out.stdout)).len(), 4);

    let (run, _) = train("diabetes", &["--data", "diabetes", "--epochs", "20"]);
    let stdout = ok(&["predict", "--model", &model(&run), "--data", "diabetes"]);
    let values: Vec<f64> = parse_csv(&stdout)[1..]
        .iter()
        .map(|r| r[1].parse().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    // Disease progression is about 152 on average: predictions come back in those units.
    assert!((100.0..200.0).contains(&mean), "{mean}");
    fails(
        &[
            "predict",
            "--model",
            &model(&run),
            "--data",
            "diabetes",
            "--proba",
        ],
        "--proba needs a classification model",
    );
}

#[test]
fn the_file_is_plain_safetensors_with_nerve_metadata() {
    let (run, _) = train(
        "digits",
        &["--data", "digits", "--epochs", "2", "--hidden", "32,16"],
    );
    let bytes = std::fs::read(run.join("model.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.weight",
            "layers.2.bias",
            "layers.2.weight"
        ]
    );
    for (name, shape) in [
        ("layers.0.weight", vec![64, 32]),
        ("layers.0.bias", vec![32]),
        ("layers.1.weight", vec![32, 16]),
        ("layers.2.weight", vec![16, 10]),
        ("layers.2.bias", vec![10]),
    ] {
        let view = file.tensor(name).unwrap();
        assert_eq!(view.shape(), shape, "{name}");
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
    }
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let nerve: Value =
        serde_json::from_str(&metadata.metadata().as_ref().unwrap()["nerve"]).unwrap();
    assert_eq!(nerve["format_version"], 6);
    assert!(nerve["nerve_version"].is_string());
    assert_eq!(
        nerve["architecture"]["d_hidden"],
        serde_json::json!([32, 16])
    );
    assert_eq!(nerve["task"], "classification");
    assert_eq!(
        nerve["preprocessing"]["features"].as_array().unwrap().len(),
        64
    );
    assert_eq!(nerve["preprocessing"]["target"]["labels"][9], "9");
    assert_eq!(nerve["training"]["optimizer"]["name"], "adam");
    assert!(nerve["metrics"]["test"]["accuracy"].is_number());
}

#[test]
fn numpy_reads_the_file_and_reproduces_the_predictions() {
    let probe = Command::new("python3")
        .args(["-c", "import numpy, safetensors"])
        .output();
    if !probe.is_ok_and(|out| out.status.success()) {
        eprintln!(
            "skipped: python3 with numpy and safetensors is not installed (pip install numpy safetensors)"
        );
        return;
    }
    let (run, _) = train(
        "numpy",
        &["--data", "wine", "--epochs", "10", "--hidden", "8,6"],
    );
    let model = model(&run);
    let predictions = ok(&["predict", "--model", &model, "--data", "wine", "--proba"]);
    let script = r#"
import csv, json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

model, data, predictions = sys.argv[1:4]
weights = load_file(model)
with safe_open(model, "np") as f:
    nerve = json.loads(f.metadata()["nerve"])
rows = list(csv.DictReader(open(data)))
def scaled(value, f):
    z = (value - f["offset"]) / f["scale"]
    # The default smooth clipping, pytabkit's smooth_clip_func: z / sqrt(1 + (z / c)^2).
    c = f.get("smooth_clip")
    return z / np.sqrt(1 + (z / c) ** 2) if c else z
x = np.array([[scaled(float(r[f["column"]]), f)
               for f in nerve["preprocessing"]["features"]] for r in rows], dtype=np.float32)
layers = len(nerve["architecture"]["d_hidden"]) + 1
for i in range(layers):
    x = x @ weights[f"layers.{i}.weight"] + weights[f"layers.{i}.bias"]
    if i + 1 < layers:
        x = np.maximum(x, 0)
p = np.exp(x - x.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
ours = np.array([[float(v) for v in r[2:]] for r in list(csv.reader(open(predictions)))[1:]])
print(float(np.abs(p - ours).max()))
"#;
    let predictions_file = scratch().join("wine-predictions.csv");
    std::fs::write(&predictions_file, predictions).unwrap();
    let wine = &common::repo_file("datasets/wine.csv");
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            &model,
            wine,
            predictions_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let max_error: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(max_error < 1e-5, "NumPy and nerve differ by {max_error}");
}

#[test]
fn a_resumed_run_matches_an_uninterrupted_one() {
    let args = [
        "--data",
        "iris",
        "--val-split",
        "0.2",
        "--batch-size",
        "16",
        "--schedule",
        "step",
        "--step-size",
        "5",
        "--gamma",
        "0.5",
    ];
    let (whole, whole_summary) = train("whole", &[&args[..], &["--epochs", "20"]].concat());
    let (part, _) = train("part", &[&args[..], &["--epochs", "8"]].concat());
    let manifest = std::fs::read_to_string(part.join("checkpoint/manifest.json")).unwrap();
    assert!(manifest.contains("\"epoch\": 8,"), "{manifest}");
    let stdout = ok(&[
        "train",
        "--resume",
        part.to_str().unwrap(),
        "--epochs",
        "20",
        "--json",
        "--quiet",
    ]);
    let resumed: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(resumed["epochs_run"], 20);
    assert_eq!(resumed["test"], whole_summary["test"]);
    assert_eq!(tensors(model(&whole)), tensors(model(&part)));
    fails(
        &["train", "--resume", scratch().to_str().unwrap()],
        "is not a run folder to resume",
    );
}

#[test]
fn init_starts_from_a_model_and_zero_epochs_just_write_it() {
    let (run, _) = train(
        "base",
        &["--data", "iris", "--epochs", "5", "--hidden", "7"],
    );
    let (copy, summary) = train(
        "copy",
        &["--data", "iris", "--init", &model(&run), "--epochs", "0"],
    );
    assert_eq!(summary["epochs_run"], 0);
    assert_eq!(tensors(model(&run)), tensors(model(&copy)));
    let config = std::fs::read_to_string(copy.join("config.toml")).unwrap();
    assert!(config.contains("d_hidden = [7]"), "{config}");
    fails(
        &[
            "train",
            "--data",
            "wine",
            "--init",
            &model(&run),
            "--out",
            scratch().join("x").to_str().unwrap(),
        ],
        "the data does not fit the preprocessing",
    );
}

#[test]
fn bad_model_files_are_clear_errors() {
    let (run, _) = train("bad", &["--data", "iris", "--epochs", "1"]);
    let good = std::fs::read(run.join("model.safetensors")).unwrap();
    let dir = scratch();
    let write = |name: &str, bytes: &[u8]| -> String {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let truncated = write("truncated.safetensors", &good[..good.len() - 100]);
    let text = write("text.safetensors", b"sepal_length_cm,species\n5.1,setosa\n");
    let data = [0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    let foreign = write(
        "foreign.safetensors",
        &safetensors::serialize([("w", view)], None).unwrap(),
    );
    let pattern = b"\\\"format_version\\\":6";
    let at = good
        .windows(pattern.len())
        .position(|w| w == pattern)
        .unwrap();
    let mut newer_bytes = good.clone();
    newer_bytes[at + pattern.len() - 1] = b'7';
    let newer = write("newer.safetensors", &newer_bytes);
    // A file of the format before spiking networks (3) still loads.
    let mut older_bytes = good.clone();
    older_bytes[at + pattern.len() - 1] = b'3';
    let older = write("older.safetensors", &older_bytes);
    let inspected = ok(&["inspect", "--model", &older]);
    assert!(inspected.contains("(model format 3,"), "{inspected}");
    ok(&["predict", "--model", &older, "--data", "iris"]);
    let missing = dir.join("nope.safetensors").to_str().unwrap().to_owned();
    for (file, expected) in [
        (&truncated, "truncated"),
        (&text, "not a safetensors model file, or a truncated one"),
        (&foreign, "not a nerve model"),
        (&newer, "written by a newer nerve (model format 7"),
        (&missing, "cannot read"),
    ] {
        fails(&["inspect", "--model", file], expected);
        fails(&["eval", "--model", file, "--data", "iris"], expected);
        fails(&["predict", "--model", file, "--data", "iris"], expected);
        fails(&["train", "--data", "iris", "--init", file], expected);
    }
}
