//! Imbalanced classes: the report beside every score (per-class scores, balanced accuracy,
//! ROC-AUC, the majority baseline) and the warning when a model does not beat the baseline.

#![allow(clippy::unwrap_used)]

use crate::common;

use crate::common::{fails, file, nerve, ok, scratch, train};
use serde_json::Value;

/// A seeded churn-like table: 500 customers, 20 % churners, whose three features are shifted
/// by `shift` (0: pure noise) against uniform values spread over 2.
fn churn(name: &str, seed: u64, shift: f64) -> String {
    let mut state = seed;
    let mut uniform = move || {
        // SplitMix64, so the table is the same on every run.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut text = String::from("tenure,charges,calls,churn\n");
    for i in 0..500 {
        let churned = i % 5 == 0;
        let shift = if churned { shift } else { 0.0 };
        text.push_str(&format!(
            "{:.3},{:.3},{:.3},{}\n",
            uniform() * 2.0 - shift,
            uniform() * 2.0 + shift,
            uniform() * 2.0 + shift,
            if churned { "Yes" } else { "No" }
        ));
    }
    file(name, text)
}

#[test]
fn a_model_that_learns_nothing_is_compared_with_the_majority_and_warned_about() {
    let data = churn("churn-noise.csv", 0x5EED, 0.0);
    let dir = scratch().join("churn-noise");
    let _ = std::fs::remove_dir_all(&dir);
    let out = nerve(&[
        "train",
        "--data",
        &data,
        "--epochs",
        "30",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("always answering `No`: accuracy 0.8000"),
        "{text}"
    );
    assert!(
        text.contains("warning: on the test rows the model's accuracy")
            && text.contains("does not beat always answering `No` (0.8000)"),
        "{text}"
    );
    // The per-class table: the churners' recall is what accuracy hides.
    assert!(text.contains("precision  recall"), "{text}");
}

#[test]
fn the_report_is_in_metrics_json_eval_and_json() {
    let data = churn("churn-signal.csv", 0x5EED, 1.0);
    let (dir, _) = train("churn-signal", &["--data", &data, "--epochs", "60"]);
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let report = &metrics["test"]["report"];
    assert_eq!(report["per_class"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["majority_accuracy"], 0.8, "{report}");
    let auc = report["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.9, "informative features rank churners first: {auc}");
    let support: u64 = report["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["support"].as_u64().unwrap())
        .sum();
    assert_eq!(support, 100, "the test rows");
    // eval --split test gives the same report.
    let model = dir.join("model.safetensors");
    let eval = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
        "--split",
        "test",
        "--json",
    ]);
    let eval: Value = serde_json::from_str(eval.trim()).unwrap();
    assert_eq!(eval["report"], *report);
    let text = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
        "--split",
        "test",
    ]);
    assert!(text.contains("Test rows: balanced accuracy"), "{text}");
}

/// The churn-like case: on an 80/20 table whose churners differ only a little, weighting the
/// classes finds churners (minority recall above 0.5) and beats the majority baseline on
/// balanced accuracy (0.5).
#[test]
fn balanced_class_weights_find_the_minority() {
    // Churners shifted by 0.6 over features spread over 2: separable only in part.
    let data = churn("churn-weak.csv", 0xC0FFEE, 0.6);
    let report = |extra: &[&str], name: &str| -> Value {
        let dir = scratch().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let args = [
            &[
                "train",
                "--data",
                &data,
                "--quiet",
                "--out",
                dir.to_str().unwrap(),
            ][..],
            extra,
        ]
        .concat();
        ok(&args);
        let metrics: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap())
                .unwrap();
        metrics["test"]["report"].clone()
    };
    let weighted = report(&["--class-weight", "balanced"], "churn-weighted");
    let recall = weighted["per_class"][1]["recall"].as_f64().unwrap();
    let balanced = weighted["balanced_accuracy"].as_f64().unwrap();
    assert!(recall > 0.5, "churners found: recall {recall}");
    assert!(balanced > 0.5, "balanced accuracy {balanced}");
    // Without weights the same run finds fewer churners.
    let plain = report(&[], "churn-plain");
    let plain_recall = plain["per_class"][1]["recall"].as_f64().unwrap();
    assert!(plain_recall < recall, "{plain_recall} vs {recall}");
    // The weights are saved: in the config and the model file's training config.
    let config =
        std::fs::read_to_string(scratch().join("churn-weighted").join("config.toml")).unwrap();
    assert!(config.contains("class_weight = \"balanced\""), "{config}");
}

/// A class under 10 % of the training rows gets a note before training, naming it and the flag;
/// with weights, the run says what they are.
#[test]
fn a_rare_class_is_pointed_out_and_weights_are_shown() {
    let mut text = String::from("a,y\n");
    for i in 0..200 {
        text.push_str(&format!(
            "{i}.5,{}\n",
            if i % 20 == 0 { "rare" } else { "common" }
        ));
    }
    let data = file("rare.csv", text);
    let run = |extra: &[&str], name: &str| -> String {
        let dir = scratch().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let args = [
            &[
                "train",
                "--data",
                &data,
                "--epochs",
                "1",
                "--out",
                dir.to_str().unwrap(),
            ][..],
            extra,
        ]
        .concat();
        let out = nerve(&args);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&[], "rare-plain");
    assert!(
        err.contains("note: class `rare` is 5.0 % of the training rows")
            && err.contains("--class-weight balanced"),
        "{err}"
    );
    let err = run(&["--class-weight", "balanced"], "rare-weighted");
    assert!(
        err.contains("Class weights: common 0.5263, rare 10"),
        "{err}"
    );
    assert!(!err.contains("note: class `rare`"), "{err}");
}

/// `--weight-column`: row weights of 4 for churners and 1 for the others find churners as
/// class weights `No=1,Yes=4` do (the same loss); the column is not a feature, it is saved in
/// the config, and `predict` reads the same file (weights and all).
#[test]
fn a_weight_column_weighs_rows_and_is_not_a_feature() {
    let plain = std::fs::read_to_string(churn("churn-rows.csv", 0xC0FFEE, 0.6)).unwrap();
    let mut text = String::new();
    for (i, line) in plain.lines().enumerate() {
        let w = match (i, line.ends_with(",Yes")) {
            (0, _) => "w",
            (_, true) => "4",
            (_, false) => "1",
        };
        // The weight column first, so that the target stays the last column.
        text.push_str(&format!("{w},{line}\n"));
    }
    let data = file("churn-rows-weighted.csv", text);
    let train = |extra: &[&str], name: &str| -> (Value, String) {
        let dir = scratch().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let args = [
            &["train", "--data", &data, "--out", dir.to_str().unwrap()][..],
            extra,
        ]
        .concat();
        let out = nerve(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metrics: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap())
                .unwrap();
        (
            metrics["test"]["report"].clone(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let recall = |report: &Value| report["per_class"][1]["recall"].as_f64().unwrap();
    let (rows, err) = train(&["--weight-column", "w"], "churn-rows");
    assert!(
        err.contains("Features: 3 numeric `tenure`, `charges`, `calls`"),
        "{err}"
    );
    assert!(
        err.contains("Row weights: `w` (1.000 to 4.000, mean 1.600 over the training rows)"),
        "{err}"
    );
    let (classes, _) = train(
        &["--ignore", "w", "--class-weight", "No=1,Yes=4"],
        "churn-cw",
    );
    let (unweighted, _) = train(&["--ignore", "w"], "churn-unweighted");
    assert!(recall(&rows) > 0.5, "{rows}");
    assert!(
        recall(&rows) > recall(&unweighted),
        "{rows} vs {unweighted}"
    );
    assert!(
        (recall(&rows) - recall(&classes)).abs() <= 0.1,
        "row weights 4/1 and class weights 4/1 are the same loss: {rows} vs {classes}"
    );
    let config = std::fs::read_to_string(scratch().join("churn-rows").join("config.toml")).unwrap();
    assert!(config.contains("weight_column = \"w\""), "{config}");
    let model = scratch().join("churn-rows").join("model.safetensors");
    let out = ok(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
    ]);
    assert_eq!(out.lines().count(), 501, "{out}");
}

/// A weight that is not one stops the run before training, naming the file, line and column.
#[test]
fn a_bad_weight_is_named_by_line() {
    let data = file(
        "bad-weight.csv",
        "w,a,y\n1,0.5,x\n1,0.7,y\n-1,0.2,x\n1,0.9,y\n",
    );
    let dir = scratch().join("bad-weight");
    let out = nerve(&[
        "train",
        "--data",
        &data,
        "--weight-column",
        "w",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-weight.csv") && err.contains("line 4") && err.contains("`w`"),
        "{err}"
    );
    assert!(!dir.join("model.safetensors").exists());
}

/// `eval --optimize-threshold`: chosen on the validation rows, printed, stored in a copy with
/// `--output` that `predict` and `eval` then use; `--threshold` overrides it; a threshold for a
/// model without two classes, or out of [0, 1], is refused.
#[test]
fn a_threshold_is_chosen_stored_and_used() {
    let data = churn("churn-threshold.csv", 0xC0FFEE, 0.6);
    let (dir, _) = train(
        "churn-threshold",
        &["--data", &data, "--val-split", "0.2", "--epochs", "60"],
    );
    let model = dir.join("model.safetensors");
    let model = model.to_str().unwrap();
    let tuned = dir.join("tuned.safetensors");
    let tuned = tuned.to_str().unwrap();
    let out = ok(&[
        "eval",
        "--model",
        model,
        "--data",
        &data,
        "--optimize-threshold",
        "balanced-accuracy",
        "--output",
        tuned,
        "--json",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    let choice = &json["threshold_choice"];
    let threshold = choice["threshold"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&threshold), "{choice}");
    assert_eq!(choice["metric"], "balanced-accuracy");
    // The validation rows of the model's split: 20 % of the 500 rows.
    assert_eq!(choice["rows"], 100, "{choice}");
    assert!(choice["score"].as_f64() >= choice["score_at_default"].as_f64());
    // Scored at the threshold: the report's balanced accuracy is the chosen score.
    assert_eq!(json["report"]["balanced_accuracy"], choice["score"]);
    assert_eq!(json["report"]["threshold"], choice["threshold"]);
    // predict with the copy answers at the stored threshold, as --threshold on the original.
    let stored = ok(&["predict", "--model", tuned, "--data", &data]);
    let flagged = ok(&[
        "predict",
        "--model",
        model,
        "--data",
        &data,
        "--threshold",
        &threshold.to_string(),
    ]);
    assert_eq!(stored, flagged);
    let lowest = ok(&[
        "predict",
        "--model",
        model,
        "--data",
        &data,
        "--threshold",
        "0",
    ]);
    assert!(
        lowest.lines().skip(1).all(|l| l.ends_with(",Yes")),
        "{lowest}"
    );
    for (args, expected) in [
        (vec!["--threshold", "1.5"], "between 0 and 1"),
        (vec!["--threshold", "-0.1"], "between 0 and 1"),
    ] {
        fails(
            &[&["predict", "--model", model, "--data", &data][..], &args].concat(),
            expected,
        );
    }
    // Three classes: no threshold.
    let (iris, _) = train("iris-threshold", &["--data", "iris", "--epochs", "2"]);
    let iris_model = iris.join("model.safetensors");
    fails(
        &[
            "eval",
            "--model",
            iris_model.to_str().unwrap(),
            "--data",
            "iris",
            "--optimize-threshold",
            "f1",
        ],
        "two classes",
    );
}

/// Calibration: the run folder holds calibration.svg (and roc.svg for two classes), metrics.json
/// the reliability table with all 10 bins (empty ones with count 0) and the variant named, and
/// `eval --calibration` prints it.
#[test]
fn calibration_is_reported_drawn_and_printed() {
    let data = churn("churn-calibration.csv", 0x5EED, 1.0);
    let (dir, _) = train("churn-calibration", &["--data", &data, "--epochs", "40"]);
    for file in ["calibration.svg", "roc.svg"] {
        let svg = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(svg.starts_with("<svg"), "{file}");
    }
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let calibration = &metrics["test"]["report"]["calibration"];
    assert_eq!(calibration["variant"], "positive-class");
    let bins = calibration["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    let rows: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(rows, 100);
    assert!(calibration["ece"].as_f64().unwrap() >= 0.0);
    let model = dir.join("model.safetensors");
    let out = ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
        "--split",
        "test",
        "--calibration",
    ]);
    assert!(out.contains("Calibration of P(`Yes`)"), "{out}");
    assert!(out.contains("0.9-1.0"), "{out}");
    assert!(out.contains("ECE "), "{out}");
    // Three classes: top-label, and no ROC chart.
    let (iris, _) = train("iris-calibration", &["--data", "iris", "--epochs", "5"]);
    assert!(iris.join("calibration.svg").exists());
    assert!(!iris.join("roc.svg").exists());
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(iris.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        metrics["test"]["report"]["calibration"]["variant"],
        "top-label"
    );
}

/// `--monitor val_accuracy` keeps the epoch of the best validation accuracy; a score the run
/// cannot watch is refused before a run folder is made.
#[test]
fn early_stopping_watches_the_chosen_quantity() {
    let data = churn("churn-monitor.csv", 0xC0FFEE, 0.6);
    for (monitor, column) in [("val_accuracy", "val_accuracy"), ("val_auc", "val_auc")] {
        let dir = scratch().join(format!("churn-monitor-{monitor}"));
        let _ = std::fs::remove_dir_all(&dir);
        let out = nerve(&[
            "train",
            "--data",
            &data,
            "--val-split",
            "0.2",
            "--patience",
            "10",
            "--monitor",
            monitor,
            "--epochs",
            "300",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("without a {monitor} (maximized) improvement")),
            "{err}"
        );
        let metrics: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap())
                .unwrap();
        let best = metrics["best_epoch"].as_u64().unwrap() as usize;
        let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
        let header: Vec<&str> = history.lines().next().unwrap().split(',').collect();
        let column = header.iter().position(|h| *h == column).unwrap();
        let scores: Vec<f64> = history
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
            .collect();
        let top = scores.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(
            scores[best - 1],
            top,
            "{monitor}: kept epoch {best} of {scores:?}"
        );
        // The first epoch reaching the top is kept (an improvement must be strict).
        assert_eq!(scores.iter().position(|&a| a == top), Some(best - 1));
    }

    let refused = scratch().join("churn-monitor-refused");
    fails(
        &[
            "train",
            "--data",
            &data,
            "--monitor",
            "val_r2",
            "--val-split",
            "0.2",
            "--out",
            refused.to_str().unwrap(),
        ],
        "regression score",
    );
    assert!(!refused.exists());
}

/// A run that has already stopped (early stopping's patience ran out, or the gradient norm fell
/// below --tol) is not resumed: resuming used to train one more epoch each time.
#[test]
fn a_finished_run_is_not_resumed() {
    let data = churn("churn-finished.csv", 0xC0FFEE, 0.6);
    for (name, stop) in [
        (
            "finished-patience",
            &["--val-split", "0.2", "--patience", "2", "--lr", "0.05"][..],
        ),
        ("finished-tol", &["--tol", "1e9"][..]),
    ] {
        let dir = scratch().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        ok(&[
            &[
                "train",
                "--data",
                &data,
                "--epochs",
                "300",
                "--quiet",
                "--out",
                dir.to_str().unwrap(),
            ][..],
            stop,
        ]
        .concat());
        let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
        fails(
            &[
                "train",
                "--resume",
                dir.to_str().unwrap(),
                "--epochs",
                "400",
            ],
            "there is nothing to resume",
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("history.csv")).unwrap(),
            history,
            "{name}"
        );
    }
}

/// `--resume` refuses rows whose weights changed since the checkpoint, as it refuses changed
/// values: all weights set to 1, or one row's weight set to 0.
#[test]
fn resume_refuses_changed_weights() {
    let write = |name: &str, weight: &dyn Fn(usize) -> &'static str| {
        let mut text = String::from("w,a,b,y\n");
        for i in 0..60 {
            text.push_str(&format!(
                "{},{},{},{}\n",
                weight(i),
                i % 7,
                i % 5,
                if i % 3 == 0 { "x" } else { "z" }
            ));
        }
        file(name, text)
    };
    let data = write("resume-weights.csv", &|i| {
        if i % 3 == 0 { "3" } else { "1" }
    });
    let (dir, _) = train(
        "resume-weights",
        &["--data", &data, "--weight-column", "w", "--epochs", "3"],
    );
    for changed in [&(|_| "1") as &dyn Fn(usize) -> &'static str, &|i| {
        if i == 7 {
            "0"
        } else if i % 3 == 0 {
            "3"
        } else {
            "1"
        }
    }] {
        write("resume-weights.csv", changed);
        fails(
            &["train", "--resume", dir.to_str().unwrap(), "--epochs", "6"],
            "trained on other rows",
        );
    }
}

/// The weight column is passed over when the target defaults to the last column; a missing
/// weight is named as such, without --missing advice that cannot help.
#[test]
fn the_weight_column_is_never_the_default_target() {
    let mut text = String::from("a,y,w\n");
    for i in 0..40 {
        text.push_str(&format!(
            "{i}.5,{},{}\n",
            if i % 2 == 0 { "p" } else { "q" },
            1 + i % 3
        ));
    }
    let data = file("weight-last.csv", text.clone());
    let dir = scratch().join("weight-last");
    let _ = std::fs::remove_dir_all(&dir);
    let out = nerve(&[
        "train",
        "--data",
        &data,
        "--weight-column",
        "w",
        "--epochs",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("target `y`"));
    for (cell, line) in [("", "line 5"), ("NaN", "line 5")] {
        let broken = text.replacen("3.5,q,1\n", &format!("3.5,q,{cell}\n"), 1);
        let data = file("weight-missing.csv", broken);
        let out = nerve(&[
            "train",
            "--data",
            &data,
            "--weight-column",
            "w",
            "--epochs",
            "2",
            "--out",
            scratch().join("weight-missing").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(line) && err.contains("weights cannot be missing"),
            "{cell:?}: {err}"
        );
        assert!(!err.contains("--missing"), "{err}");
    }
}

/// `eval -o` writes a copy only with a threshold to store (`--threshold` too), never over the
/// model read (by any path), a run folder's model, or under a name that is not .safetensors;
/// `--calibration` is refused for a regression model; a threshold typed from a printed
/// probability includes that row.
#[test]
fn eval_output_copies_are_checked() {
    let data = churn("churn-copies.csv", 0x5EED, 1.0);
    let (dir, _) = train("churn-copies", &["--data", &data, "--epochs", "20"]);
    let model = dir.join("model.safetensors");
    let model = model.to_str().unwrap();
    let copy = scratch().join("copy-0.3.safetensors");
    ok(&[
        "eval",
        "--model",
        model,
        "--data",
        &data,
        "--threshold",
        "0.3",
        "-o",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(
        ok(&[
            "predict",
            "--model",
            copy.to_str().unwrap(),
            "--data",
            &data
        ]),
        ok(&[
            "predict",
            "--model",
            model,
            "--data",
            &data,
            "--threshold",
            "0.3"
        ])
    );
    let dotted = format!("{}/./model.safetensors", dir.display());
    let (other_run, _) = train("churn-copies-2", &["--data", &data, "--epochs", "2"]);
    let other_model = other_run.join("model.safetensors");
    for (output, extra, expected) in [
        (dotted.as_str(), "--threshold", "is the model being read"),
        (
            other_model.to_str().unwrap(),
            "--threshold",
            "is a run folder's model",
        ),
        ("copy.csv", "--threshold", "ends in .safetensors"),
        (
            "copy.safetensors",
            "",
            "give --threshold P or --optimize-threshold",
        ),
    ] {
        let mut args = vec!["eval", "--model", model, "--data", &data, "-o", output];
        if !extra.is_empty() {
            args.extend([extra, "0.4"]);
        }
        fails(&args, expected);
    }
    // The printed probability of a row, as a threshold, answers that row's positive class.
    let proba = ok(&["predict", "--model", model, "--data", &data, "--proba"]);
    let row = proba.lines().nth(1).unwrap();
    let p_yes = row.rsplit(',').next().unwrap();
    let at = ok(&[
        "predict",
        "--model",
        model,
        "--data",
        &data,
        "--threshold",
        p_yes,
    ]);
    assert!(
        at.lines().nth(1).unwrap().ends_with(",Yes"),
        "{row} at {p_yes}: {at}"
    );
    // Regression: no calibration.
    let (diabetes, _) = train(
        "diabetes-calibration",
        &["--data", "diabetes", "--epochs", "2"],
    );
    fails(
        &[
            "eval",
            "--model",
            diabetes.join("model.safetensors").to_str().unwrap(),
            "--data",
            "diabetes",
            "--calibration",
        ],
        "classification",
    );
}

/// `nerve calibrate`: temperature scaling on the validation rows keeps every row's answer,
/// lowers (or keeps) the fitted rows' log loss, finds T ≈ 1 for a model it already calibrated,
/// keeps a stored threshold's answers, and refuses what it cannot do.
#[test]
fn calibrate_fits_a_temperature_and_keeps_the_answers() {
    let data = churn("churn-calibrate.csv", 0x5EED, 1.0);
    for loss in ["cross-entropy", "bce"] {
        let dir = scratch().join(format!("churn-calibrate-{loss}"));
        let _ = std::fs::remove_dir_all(&dir);
        ok(&[
            "train",
            "--data",
            &data,
            "--loss",
            loss,
            "--val-split",
            "0.2",
            "--epochs",
            "150",
            "--lr",
            "0.01",
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let model = dir.join("model.safetensors");
        let model = model.to_str().unwrap();
        let calibrated = dir.join("calibrated.safetensors");
        let calibrated = calibrated.to_str().unwrap();
        let out = ok(&[
            "calibrate",
            "--model",
            model,
            "--data",
            &data,
            "-o",
            calibrated,
            "--json",
        ]);
        let json: Value = serde_json::from_str(&out).unwrap();
        let t = json["temperature"].as_f64().unwrap();
        assert!(t > 0.0, "{json}");
        assert!(
            json["log_loss_after"].as_f64().unwrap()
                <= json["log_loss_before"].as_f64().unwrap() + 1e-9,
            "{json}"
        );
        assert!(
            json["ece_after"].is_number() && json["test"]["ece_after"].is_number(),
            "{json}"
        );
        assert_eq!(
            ok(&["predict", "--model", model, "--data", &data]),
            ok(&["predict", "--model", calibrated, "--data", &data]),
            "{loss}: the answers change"
        );
        let again = dir.join("again.safetensors");
        let out = ok(&[
            "calibrate",
            "--model",
            calibrated,
            "--data",
            &data,
            "-o",
            again.to_str().unwrap(),
            "--json",
        ]);
        let json: Value = serde_json::from_str(&out).unwrap();
        let t = json["temperature"].as_f64().unwrap();
        assert!(
            (t - 1.0).abs() < 0.01,
            "{loss}: recalibrating finds T = {t}"
        );
    }
    // A stored threshold moves with the probabilities, keeping its answers.
    let dir = scratch().join("churn-calibrate-cross-entropy");
    let model = dir.join("model.safetensors");
    let tuned = dir.join("tuned.safetensors");
    let tuned_calibrated = dir.join("tuned-calibrated.safetensors");
    ok(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
        "--threshold",
        "0.3",
        "-o",
        tuned.to_str().unwrap(),
    ]);
    let out = ok(&[
        "calibrate",
        "--model",
        tuned.to_str().unwrap(),
        "--data",
        &data,
        "-o",
        tuned_calibrated.to_str().unwrap(),
    ]);
    assert!(
        out.contains("The stored decision threshold becomes"),
        "{out}"
    );
    assert_eq!(
        ok(&[
            "predict",
            "--model",
            tuned.to_str().unwrap(),
            "--data",
            &data
        ]),
        ok(&[
            "predict",
            "--model",
            tuned_calibrated.to_str().unwrap(),
            "--data",
            &data
        ]),
    );
    // Refusals: regression, the model itself as the output.
    let (diabetes, _) = train(
        "diabetes-calibrate",
        &["--data", "diabetes", "--epochs", "2", "--val-split", "0.2"],
    );
    fails(
        &[
            "calibrate",
            "--model",
            diabetes.join("model.safetensors").to_str().unwrap(),
            "--data",
            "diabetes",
            "-o",
            "x.safetensors",
        ],
        "predicts values",
    );
    fails(
        &[
            "calibrate",
            "--model",
            tuned.to_str().unwrap(),
            "--data",
            &data,
            "-o",
            tuned.to_str().unwrap(),
        ],
        "is the model being read",
    );
}

/// The fitted temperature scales with the logits (issue 36.9): an iris model whose output
/// layer is scaled x1e6 ranks its rows as well as before, and calibrate fits T about 1e6 times
/// the original's where it said "no better than chance"; scaled x1e-6, about 1e-6 times.
#[test]
fn calibrate_fits_a_temperature_however_large_or_small_the_logits() {
    let (run, _) = train(
        "iris-calibrate-scaled",
        &["--data", "iris", "--epochs", "60", "--val-split", "0.2"],
    );
    let model = run.join("model.safetensors");
    let temperature = |model: &std::path::Path| -> f64 {
        let out = ok(&[
            "calibrate",
            "--model",
            model.to_str().unwrap(),
            "--data",
            "iris",
            "-o",
            run.join("calibrated.safetensors").to_str().unwrap(),
            "--json",
        ]);
        let json: Value = serde_json::from_str(&out).unwrap();
        json["temperature"].as_f64().unwrap()
    };
    let original = temperature(&model);
    for factor in [1e6f32, 1e-6] {
        let scaled = run.join(format!("scaled-{factor}.safetensors"));
        common::edited_model(&model, &scaled, |tensors, _| {
            for name in ["layers.1.weight", "layers.1.bias"] {
                for v in tensors.get_mut(name).unwrap() {
                    *v *= factor;
                }
            }
        });
        let t = temperature(&scaled);
        let ratio = t / (original * f64::from(factor));
        assert!(
            (ratio - 1.0).abs() < 1e-3,
            "x{factor}: T = {t}, the original's {original}"
        );
    }
}

/// A spiking network's readout is not linear in its output layer: calibrate refuses it.
#[test]
fn calibrate_refuses_a_spiking_network() {
    let data = churn("churn-spiking.csv", 0x5EED, 1.0);
    let (dir, _) = train(
        "churn-spiking",
        &[
            "--data",
            &data,
            "--network",
            "spiking",
            "--time-steps",
            "4",
            "--epochs",
            "1",
            "--val-split",
            "0.2",
        ],
    );
    fails(
        &[
            "calibrate",
            "--model",
            dir.join("model.safetensors").to_str().unwrap(),
            "--data",
            &data,
            "-o",
            scratch()
                .join("spiking-calibrated.safetensors")
                .to_str()
                .unwrap(),
        ],
        "spiking",
    );
    assert!(!scratch().join("spiking-calibrated.safetensors").exists());
}

/// Calibrate refuses rows it cannot fit a temperature on: rows of one class, and rows the model
/// separates perfectly (the fitted temperature would run to its bound); `--split all` warns.
#[test]
fn calibrate_refuses_rows_without_a_finite_temperature() {
    let data = churn("churn-bounds.csv", 0x5EED, 3.0);
    let (dir, _) = train(
        "churn-bounds",
        &[
            "--data",
            &data,
            "--val-split",
            "0.2",
            "--epochs",
            "300",
            "--lr",
            "0.01",
        ],
    );
    let model = dir.join("model.safetensors");
    let output = scratch().join("bounds.safetensors");
    let out = nerve(&[
        "calibrate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &data,
        "--split",
        "train",
        "-o",
        output.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("keeps falling as T goes to 0"), "{err}");
    assert!(!output.exists());
    // A stored threshold of 1 (met only by probabilities saturated at 1 in f32) cannot be
    // moved exactly: calibrate says so rather than claiming the same answers.
    let data = churn("churn-saturated.csv", 0x5EED, 1.5);
    let (saturated, _) = train(
        "churn-saturated",
        &[
            "--data",
            &data,
            "--val-split",
            "0.2",
            "--epochs",
            "300",
            "--lr",
            "0.01",
        ],
    );
    let saturated_model = saturated.join("model.safetensors");
    let tuned = scratch().join("bounds-tuned.safetensors");
    let tuned_calibrated = scratch().join("bounds-tuned-calibrated.safetensors");
    ok(&[
        "eval",
        "--model",
        saturated_model.to_str().unwrap(),
        "--data",
        &data,
        "--threshold",
        "1",
        "-o",
        tuned.to_str().unwrap(),
    ]);
    let said = ok(&[
        "calibrate",
        "--model",
        tuned.to_str().unwrap(),
        "--data",
        &data,
        "-o",
        tuned_calibrated.to_str().unwrap(),
    ]);
    let before = ok(&[
        "predict",
        "--model",
        tuned.to_str().unwrap(),
        "--data",
        &data,
    ]);
    let after = ok(&[
        "predict",
        "--model",
        tuned_calibrated.to_str().unwrap(),
        "--data",
        &data,
    ]);
    if before == after {
        assert!(said.contains("the same answers"), "{said}");
    } else {
        assert!(said.contains("change answer"), "{said}");
    }
    // Only churners: one class.
    let one_class: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.ends_with(",Yes"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let one_class = file("churners-only.csv", one_class);
    let out = nerve(&[
        "calibrate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &one_class,
        "--split",
        "all",
        "-o",
        output.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("every row (the test rows too)"), "{err}");
    assert!(err.contains("one class only"), "{err}");
}
