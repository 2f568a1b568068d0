//! `nerve cv` (issue 22): k-fold cross-validation with the preprocessing fitted inside each
//! fold, reproducible from the split seed, on both backends; and its refusals.

#![allow(clippy::unwrap_used)]

mod common;

use common::{fails, file, nerve, ok};
use serde_json::Value;

/// `nerve cv ARGS --json`: the one JSON object it prints.
fn cv(args: &[&str]) -> Value {
    let stdout = ok(&[&["cv", "--json", "--quiet"][..], args].concat());
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn cv_scores_every_fold_and_summarizes_each_metric() {
    let out = cv(&["--data", "iris", "--epochs", "30", "--folds", "4"]);
    assert_eq!(out["rows_folded"], 120, "{out}");
    assert_eq!(out["test_rows_left_out"], 30, "{out}");
    let folds = out["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 4);
    let mut held = 0;
    for fold in folds {
        // Stratified: 30 rows per fold, 10 of each species.
        assert_eq!(fold["rows_held_out"], 30, "{fold}");
        assert_eq!(fold["rows_trained"], 90, "{fold}");
        held += fold["rows_held_out"].as_u64().unwrap();
        for metric in [
            "accuracy",
            "balanced_accuracy",
            "f1_macro",
            "roc_auc",
            "log_loss",
            "loss",
        ] {
            assert!(fold["scores"][metric].is_number(), "{metric}: {fold}");
        }
    }
    assert_eq!(held, 120);
    // The summary is the folds' mean and (ddof 0) standard deviation.
    let values: Vec<f64> = folds
        .iter()
        .map(|f| f["scores"]["accuracy"].as_f64().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / 4.0;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    let summary = &out["summary"]["accuracy"];
    assert!(
        (summary["mean"].as_f64().unwrap() - mean).abs() < 1e-12,
        "{summary}"
    );
    assert!(
        (summary["std"].as_f64().unwrap() - std).abs() < 1e-12,
        "{summary}"
    );
    assert!(mean > 0.8, "{mean}");
    // Repeated: 2 x 4 folds, the second repeat shuffled otherwise.
    let repeated = cv(&[
        "--data",
        "iris",
        "--epochs",
        "30",
        "--folds",
        "4",
        "--repeats",
        "2",
    ]);
    let folds = repeated["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 8);
    assert_eq!(folds[4]["repeat"], 1);
    // Regression: r2 and the errors in the target's units; the text table names the metric.
    let out = cv(&["--data", "diabetes", "--epochs", "20", "--folds", "3"]);
    assert_eq!(out["metric"], "r2");
    for metric in ["r2", "mse", "rmse", "mae", "mape", "loss"] {
        assert!(
            out["summary"][metric]["mean"].is_number(),
            "{metric}: {out}"
        );
    }
    let text = ok(&[
        "cv", "--data", "diabetes", "--epochs", "5", "--folds", "3", "--metric", "mae",
    ]);
    assert!(
        text.contains("3-fold cross-validation of diabetes"),
        "{text}"
    );
    assert!(text.contains("mae *"), "{text}");
}

#[test]
fn folds_and_scores_repeat_from_the_seeds_on_both_backends() {
    let args = ["--data", "wine", "--epochs", "15", "--folds", "3"];
    let first = cv(&args);
    let again = cv(&args);
    let scores = |out: &Value| -> Vec<Value> {
        out["per_fold"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["scores"].clone())
            .collect()
    };
    assert_eq!(scores(&first), scores(&again));
    let other_seed = cv(&[&args[..], &["--split-seed", "7"]].concat());
    assert_ne!(scores(&first), scores(&other_seed));
    // The ndarray backend folds the same rows and scores close to flex.
    let ndarray = cv(&[&args[..], &["--backend", "ndarray"]].concat());
    for (a, b) in first["per_fold"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ndarray["per_fold"].as_array().unwrap())
    {
        assert_eq!(a["rows_held_out"], b["rows_held_out"]);
        let (x, y) = (
            a["scores"]["log_loss"].as_f64().unwrap(),
            b["scores"]["log_loss"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-3, "flex {x}, ndarray {y}");
    }
}

#[test]
fn each_fold_fits_its_preprocessing_on_its_own_training_rows() {
    // One row holds an outlier and a category no other row has: only the fold that holds
    // it out meets the category unseen (its scaler never saw the row; a unit test of
    // `Prepared::refit` checks the scale itself).
    let mut text = String::from("x,colour,y\n");
    for i in 0..59 {
        text.push_str(&format!("{},{},{}\n", i % 7, ["red", "blue"][i % 2], i % 2));
    }
    text.push_str("1000000,green,1\n");
    let data = file("leak.csv", text);
    let out = cv(&[
        "--data",
        &data,
        "--test-split",
        "0",
        "--epochs",
        "5",
        "--folds",
        "5",
    ]);
    let unseen: Vec<u64> = out["per_fold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["unseen_categories"].as_u64().unwrap())
        .collect();
    assert_eq!(unseen.iter().sum::<u64>(), 1, "{unseen:?}");
    assert_eq!(out["rows_folded"], 60);
}

#[test]
fn bad_folds_and_metrics_are_refused_and_small_classes_warned_of() {
    fails(
        &["cv", "--data", "iris", "--folds", "1"],
        "at least 2 folds",
    );
    fails(
        &["cv", "--data", "iris", "--folds", "500"],
        "500 folds need at least 500 rows",
    );
    fails(
        &["cv", "--data", "iris", "--repeats", "0"],
        "--repeats must be at least 1",
    );
    fails(
        &["cv", "--data", "iris", "--metric", "r2"],
        "does not score classification",
    );
    let bad = nerve(&["cv", "--data", "iris", "--metric", "nonsense"]);
    assert_eq!(bad.status.code(), Some(2));
    // A class of 3 rows in 5 folds: two held-out folds lack it; a warning, not an error.
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        text.push_str(&format!("{i},{}\n", if i < 3 { "rare" } else { "common" }));
    }
    let data = file("rare.csv", text);
    let out = nerve(&["cv", "--data", &data, "--test-split", "0", "--epochs", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("class `rare` has 3"), "{stderr}");
    assert!(
        stderr.contains("2 held-out folds have none of it"),
        "{stderr}"
    );
}
