//! nerve-train's report (per-class scores, balanced accuracy, ROC-AUC, average precision, log
//! loss, Brier score, MAPE, the reliability table and ECE, tuned thresholds) against scikit-learn's values (`tests/fixtures/report.json`, written
//! by `tests/fixtures/report_fixtures.py`), within 1e-6; undefined scores where scikit-learn
//! refuses them.

#![allow(clippy::unwrap_used)]

use nerve_train::{
    Calibration, ClassificationReport, RegressionReport, ReportError, Score, ThresholdMetric,
    best_threshold, roc_auc_of,
};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/report.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= TOL,
        "{what}: {actual} vs scikit-learn's {expected}"
    );
}

#[test]
fn classification_reports_match_scikit_learn() {
    let fixtures = fixtures();
    for case in fixtures["classification"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let classes = case["classes"].as_u64().unwrap() as usize;
        let actual: Vec<usize> = case["actual"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_u64().unwrap() as usize)
            .collect();
        let probabilities: Vec<f32> = case["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| floats(row).into_iter().map(|p| p as f32))
            .collect();
        let report = ClassificationReport::new(&probabilities, &actual, classes).unwrap();
        for (k, scores) in report.per_class.iter().enumerate() {
            close(
                &format!("{name} precision[{k}]"),
                scores.precision,
                floats(&case["precision"])[k],
            );
            close(
                &format!("{name} recall[{k}]"),
                scores.recall,
                floats(&case["recall"])[k],
            );
            close(
                &format!("{name} f1[{k}]"),
                scores.f1,
                floats(&case["f1"])[k],
            );
            assert_eq!(
                scores.support as f64,
                floats(&case["support"])[k],
                "{name} support[{k}]"
            );
        }
        close(
            &format!("{name} balanced accuracy"),
            report.balanced_accuracy,
            case["balanced_accuracy"].as_f64().unwrap(),
        );
        close(
            &format!("{name} log loss"),
            report.log_loss,
            case["log_loss"].as_f64().unwrap(),
        );
        close(
            &format!("{name} brier"),
            report.brier,
            case["brier"].as_f64().unwrap(),
        );
        for (key, score) in [
            ("roc_auc", &report.roc_auc),
            ("average_precision", &report.average_precision),
        ] {
            match (score, case[key].as_f64()) {
                (Score::Value(v), Some(expected)) => close(&format!("{name} {key}"), *v, expected),
                (Score::Undefined { undefined }, None) => {
                    assert!(!undefined.is_empty(), "{name} {key}: a reason");
                }
                (score, expected) => {
                    panic!("{name} {key}: {score:?} vs scikit-learn's {expected:?}")
                }
            }
        }
        check_calibration(name, &report.calibration, &case["calibration"]);
        // The per-epoch ROC-AUC (`--monitor val_auc`) is the report's.
        assert_eq!(
            roc_auc_of(&probabilities, &actual, classes).value(),
            report.roc_auc.value(),
            "{name}: roc_auc_of"
        );
        if let Some(best) = case.get("best_threshold") {
            check_best_threshold(name, &probabilities, &actual, best);
        }
        match (&report.curves, case.get("curves")) {
            (Some(curves), Some(expected)) => {
                for (key, points) in [
                    ("fpr", &curves.fpr),
                    ("tpr", &curves.tpr),
                    ("precision", &curves.precision),
                    ("recall", &curves.recall),
                ] {
                    let expected = floats(&expected[key]);
                    assert_eq!(points.len(), expected.len(), "{name} {key} points");
                    for (i, (&a, &e)) in points.iter().zip(&expected).enumerate() {
                        close(&format!("{name} {key}[{i}]"), a, e);
                    }
                }
            }
            (None, None) => {}
            (curves, expected) => panic!("{name}: curves {curves:?} vs {expected:?}"),
        }
    }
}

/// The reliability table against scikit-learn's `calibration_curve`: every bin (empty ones
/// with count 0), its observed share and mean probability, the ECE, and the variant's name.
fn check_calibration(name: &str, calibration: &Calibration, expected: &Value) {
    let json = serde_json::to_value(calibration).unwrap();
    assert_eq!(json["variant"], expected["variant"], "{name}: variant");
    let counts: Vec<usize> = calibration.bins.iter().map(|b| b.count).collect();
    let expected_counts: Vec<usize> = floats(&expected["count"])
        .iter()
        .map(|&c| c as usize)
        .collect();
    assert_eq!(counts, expected_counts, "{name}: counts per bin");
    for (b, bin) in calibration.bins.iter().enumerate() {
        for (key, value) in [
            ("observed", bin.observed),
            ("mean_predicted", bin.mean_predicted),
        ] {
            match (value, expected[key][b].as_f64()) {
                (Some(v), Some(e)) => close(&format!("{name} bin {b} {key}"), v, e),
                (None, None) => {}
                (v, e) => panic!("{name} bin {b} {key}: {v:?} vs scikit-learn's {e:?}"),
            }
        }
    }
    close(
        &format!("{name} ECE"),
        calibration.ece,
        expected["ece"].as_f64().unwrap(),
    );
}

/// The tuned threshold reaches scikit-learn's best score over every threshold, and the report
/// at that threshold scores it.
fn check_best_threshold(name: &str, probabilities: &[f32], actual: &[usize], best: &Value) {
    let scores: Vec<f64> = probabilities
        .chunks(2)
        .map(|row| f64::from(row[1]))
        .collect();
    let positive: Vec<bool> = actual.iter().map(|&a| a == 1).collect();
    for metric in ThresholdMetric::ALL {
        let choice = best_threshold(&scores, &positive, metric).unwrap();
        let expected = best[metric.name()].as_f64().unwrap();
        close(&format!("{name} best {metric}"), choice.score, expected);
        let report =
            ClassificationReport::with_threshold(probabilities, actual, 2, Some(choice.threshold))
                .unwrap();
        let at_threshold = match metric {
            ThresholdMetric::F1 => report.per_class[1].f1,
            ThresholdMetric::BalancedAccuracy => report.balanced_accuracy,
        };
        close(
            &format!("{name} {metric} at the threshold"),
            at_threshold,
            expected,
        );
    }
}

/// The single-class pitfall: ROC-AUC says why it is undefined, in JSON too (never 0.5 or NaN).
#[test]
fn roc_auc_of_one_class_is_undefined_with_a_reason() {
    let report = ClassificationReport::new(&[0.7, 0.3, 0.4, 0.6], &[0, 0], 2).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let reason = json["roc_auc"]["undefined"].as_str().unwrap();
    assert!(reason.contains("one class only"), "{json}");
    // The majority baseline answers the only class: accuracy 1.
    assert_eq!(report.majority_accuracy, 1.0);
}

/// Probabilities that are not a distribution are refused where the definitions need one.
#[test]
fn rows_that_are_not_distributions_are_refused() {
    let err = ClassificationReport::new(&[0.5, 0.4, 0.2, 0.3, 0.3, 0.4], &[0, 1], 3).unwrap_err();
    assert_eq!(
        err,
        ReportError::NotADistribution {
            row: 0,
            sum: 1.100_000_008_940_696_7
        }
    );
    let err = ClassificationReport::new(&[0.5, 0.5], &[0, 1], 2).unwrap_err();
    assert!(matches!(err, ReportError::Shape { .. }), "{err}");
}

#[test]
fn regression_reports_match_scikit_learn() {
    let fixtures = fixtures();
    for (i, case) in fixtures["regression"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let report = RegressionReport::new(&floats(&case["predicted"]), &floats(&case["actual"]));
        match (&report.mape, case["mape"].as_f64()) {
            (Score::Value(v), Some(expected)) => close(&format!("case {i} mape"), *v, expected),
            (Score::Undefined { undefined }, None) => assert!(undefined.contains("0")),
            (score, expected) => panic!("case {i}: {score:?} vs {expected:?}"),
        }
    }
}
