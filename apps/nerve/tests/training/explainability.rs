//! Seeing inside a network from the command line: the pictures every run draws (`curves.svg`,
//! `confusion.svg`), `nerve plot`, `nerve explain` and `nerve inspect --data`.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;

use crate::common::{fails, ok, scratch, svg_texts, train};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The point counts of an SVG's polylines (plotters draws each line series as one).
fn polyline_lengths(svg: &str) -> Vec<usize> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

#[test]
fn a_run_draws_its_curves_and_confusion_matrix_and_plot_redraws_them() {
    let epochs = 30;
    let (run, summary) = train(
        "pictures",
        &[
            "--data",
            "breast_cancer",
            "--val-split",
            "0.2",
            "--epochs",
            &epochs.to_string(),
        ],
    );
    let (curves, texts) = svg_texts(&run.join("curves.svg"));
    // Train and validation loss above, train and validation accuracy below: four lines of one
    // point per epoch.
    let lines: Vec<usize> = polyline_lengths(&curves)
        .into_iter()
        .filter(|&n| n > 2)
        .collect();
    assert_eq!(lines, vec![epochs; 4], "{lines:?}");
    // The loss axis names the loss (issue 16), the kept epoch is in the legend.
    for expected in [
        "cross-entropy loss",
        "accuracy",
        "epoch",
        "train",
        "validation",
        &format!("kept: epoch {}", summary["best_epoch"]),
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }

    let (_, texts) = svg_texts(&run.join("confusion.svg"));
    let matrix = summary["test"]["confusion_matrix"].as_array().unwrap();
    let counts: Vec<String> = matrix
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(Value::to_string))
        .collect();
    for expected in
        counts
            .iter()
            .map(String::as_str)
            .chain(["benign", "malignant", "predicted", "true"])
    {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }

    // `nerve plot` redraws the same SVG from the run's files, and PNGs on request.
    let before = std::fs::read(run.join("curves.svg")).unwrap();
    std::fs::remove_file(run.join("curves.svg")).unwrap();
    let out = ok(&["plot", path(&run)]);
    assert!(
        out.contains("curves.svg") && out.contains("confusion.svg"),
        "{out}"
    );
    assert_eq!(std::fs::read(run.join("curves.svg")).unwrap(), before);
    ok(&["plot", path(&run), "--png"]);
    for name in ["curves.png", "confusion.png"] {
        let png = std::fs::read(run.join(name)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
    }

    fails(&["plot", path(&run.join("missing"))], "is not a run folder");
    let empty = scratch().join("not-a-run");
    std::fs::create_dir_all(&empty).unwrap();
    fails(&["plot", path(&empty)], "history.csv");
}

#[test]
fn a_regression_run_draws_r2_and_no_confusion_matrix() {
    let (run, _) = train(
        "regression-pictures",
        &["--data", "diabetes", "--epochs", "5"],
    );
    let (_, texts) = svg_texts(&run.join("curves.svg"));
    assert!(texts.iter().any(|t| t == "R²"), "{texts:?}");
    assert!(!run.join("confusion.svg").exists());
}

#[test]
fn explain_ranks_features_and_its_attributions_are_complete() {
    let (run, _) = train("explain", &["--data", "breast_cancer", "--epochs", "50"]);
    let model = run.join("model.safetensors");
    let text = ok(&[
        "explain",
        "--model",
        path(&model),
        "--data",
        "breast_cancer",
    ]);
    assert!(text.contains("rank"), "{text}");
    assert!(
        text.contains("benign") && text.contains("malignant"),
        "{text}"
    );
    let (svg, texts) = svg_texts(&run.join("explain.svg"));
    assert!(svg.contains("<rect"), "bars");
    // Binary: signed bars either side of zero, towards each class, under the target's name.
    for expected in ["diagnosis", "towards malignant", "towards benign"] {
        assert!(texts.iter().any(|t| t == expected), "legend: {texts:?}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with('-') && t[1..].parse::<f64>().is_ok()),
        "a negative side on the axis: {texts:?}"
    );

    let json: Value = serde_json::from_str(
        ok(&[
            "explain",
            "--model",
            path(&model),
            "--data",
            "breast_cancer",
            "--json",
            "--rows",
            "0,7",
            "--steps",
            "200",
            "--plot",
            path(&run.join("rows.svg")),
        ])
        .trim(),
    )
    .unwrap();
    // Ranked by the mean over the classes, largest first, every column once.
    let features = json["features"].as_array().unwrap();
    assert_eq!(features.len(), 30);
    let means: Vec<f64> = features
        .iter()
        .map(|f| f["mean_abs"].as_f64().unwrap())
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    // Completeness: each row's attributions add up to its output minus the baseline's.
    let rows = json["row_attributions"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        for k in 0..2 {
            let sum: f64 = row["attributions"]
                .as_object()
                .unwrap()
                .values()
                .map(|a| a[k].as_f64().unwrap())
                .sum();
            let difference =
                row["output"][k].as_f64().unwrap() - row["baseline_output"][k].as_f64().unwrap();
            assert!(
                (sum - difference).abs() < 0.02 * difference.abs().max(1.0),
                "{sum} vs {difference}"
            );
        }
    }
    assert!(run.join("rows.svg").exists());
    // The signed means are those of the log-odds' attributions (the second class's logit minus
    // the first's), over the rows explained.
    assert_eq!(json["direction"]["positive"], "towards malignant");
    for feature in features {
        let name = feature["feature"].as_str().unwrap();
        let log_odds: Vec<f64> = rows
            .iter()
            .map(|row| {
                let a = &row["attributions"][name];
                a[1].as_f64().unwrap() - a[0].as_f64().unwrap()
            })
            .collect();
        let mean = |part: fn(f64) -> f64| log_odds.iter().map(|&a| part(a)).sum::<f64>() / 2.0;
        let positive = feature["mean_positive"].as_f64().unwrap();
        let negative = feature["mean_negative"].as_f64().unwrap();
        assert!(
            (positive - mean(|a| a.max(0.0))).abs() < 1e-5,
            "{name}: {positive}"
        );
        assert!(
            (negative - mean(|a| a.min(0.0))).abs() < 1e-5,
            "{name}: {negative}"
        );
    }

    // A single row's prediction and probability are `nerve predict --proba`'s.
    let text = ok(&[
        "explain",
        "--model",
        path(&model),
        "--data",
        "breast_cancer",
        "--rows",
        "7",
    ]);
    let predictions = ok(&[
        "predict",
        "--model",
        path(&model),
        "--data",
        "breast_cancer",
        "--proba",
    ]);
    let row: Vec<&str> = predictions.lines().nth(8).unwrap().split(',').collect();
    let probability: f64 = row[2..]
        .iter()
        .map(|p| p.parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let expected = format!("predicted {} (probability {probability:.3})", row[1]);
    assert!(text.contains(&expected), "{expected} in {text}");

    fails(
        &[
            "explain",
            "--model",
            path(&model),
            "--data",
            "breast_cancer",
            "--rows",
            "569",
        ],
        "row 569 does not exist; breast_cancer has 569 data rows, numbered 0 to 568",
    );
    fails(
        &["explain", "--model", path(&model), "--data", "iris"],
        "mean_radius",
    );
}

#[test]
fn categorical_attributions_sum_to_their_column_or_split_by_category() {
    let dir = scratch().join("categories");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("shop.csv");
    let mut text = String::from("colour,size,price\n");
    for i in 0..60 {
        let colour = ["red", "green", "blue"][i % 3];
        let size = (i % 7) as f64;
        let price = size * 2.0 + if colour == "red" { 5.0 } else { 0.0 };
        text.push_str(&format!("{colour},{size},{price}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let (run, _) = train(
        "categories-run",
        &[
            "--data",
            path(&csv),
            "--target",
            "price",
            "--task",
            "regression",
            "--epochs",
            "20",
        ],
    );
    let model = run.join("model.safetensors");
    let names = |extra: &[&str]| -> Vec<String> {
        let args = [
            &[
                "explain",
                "--model",
                path(&model),
                "--data",
                path(&csv),
                "--json",
            ][..],
            extra,
        ]
        .concat();
        let json: Value = serde_json::from_str(ok(&args).trim()).unwrap();
        let mut names: Vec<String> = json["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["feature"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&[]), ["colour", "size"]);
    // Regression: one output, so the positive and negative parts' widths add up to its mean
    // |attribution|, and the legend says which way the target moves.
    let json: Value = serde_json::from_str(
        ok(&[
            "explain",
            "--model",
            path(&model),
            "--data",
            path(&csv),
            "--json",
        ])
        .trim(),
    )
    .unwrap();
    for feature in json["features"].as_array().unwrap() {
        let width =
            feature["mean_positive"].as_f64().unwrap() - feature["mean_negative"].as_f64().unwrap();
        let mean_abs = feature["mean_abs"].as_f64().unwrap();
        assert!(
            (width - mean_abs).abs() < 1e-9 * mean_abs.max(1.0),
            "{feature}"
        );
    }
    let (_, texts) = svg_texts(&run.join("explain.svg"));
    for expected in ["price", "raises price", "lowers price"] {
        assert!(texts.iter().any(|t| t == expected), "legend: {texts:?}");
    }
    assert_eq!(
        names(&["--by-category"]),
        ["colour=blue", "colour=green", "colour=red", "size"]
    );
}

#[test]
fn inspect_with_data_reports_hidden_activity() {
    let (run, _) = train(
        "activity",
        &["--data", "iris", "--hidden", "8,4", "--epochs", "5"],
    );
    let text = ok(&[
        "inspect",
        "--model",
        path(&run.join("model.safetensors")),
        "--data",
        "iris",
    ]);
    assert!(text.contains("Hidden activity on iris (150 rows"), "{text}");
    let layer_lines = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("layers.0 ") || l.starts_with("layers.1 "))
        .filter(|l| l.contains('%'))
        .count();
    assert_eq!(layer_lines, 2, "{text}");
}

/// More than two classes: one stacked bar segment per class, the legend titled with the target
/// and the axis starting at zero (sizes, not directions).
#[test]
fn multiclass_attributions_are_stacked_under_a_titled_legend() {
    let (run, _) = train("explain-iris", &["--data", "iris", "--epochs", "5"]);
    let json: Value = serde_json::from_str(
        ok(&[
            "explain",
            "--model",
            path(&run.join("model.safetensors")),
            "--data",
            "iris",
            "--json",
        ])
        .trim(),
    )
    .unwrap();
    assert!(json["direction"].is_null(), "{json}");
    let (_, texts) = svg_texts(&run.join("explain.svg"));
    for expected in ["species", "setosa", "versicolor", "virginica"] {
        assert!(texts.iter().any(|t| t == expected), "legend: {texts:?}");
    }
    assert!(
        !texts
            .iter()
            .any(|t| t.starts_with('-') && t[1..].parse::<f64>().is_ok()),
        "no negative side: {texts:?}"
    );
}
