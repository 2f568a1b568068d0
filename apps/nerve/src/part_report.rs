//! The report beside a part's metrics (nerve-train's [`Report`]): built from the model's
//! outputs on the part's rows, and the lines that print it, with the baseline a model must
//! beat. Shared by `train` (each part) and `eval`.

use std::fmt::Write as _;

use anyhow::Result;
use nerve_train::{
    Calibration, CalibrationVariant, ClassificationReport, PartMetrics, Report, Scores,
};

use crate::numbers::{score, value};
use crate::output::write_aligned;

/// `Test rows: balanced accuracy 0.95, ROC-AUC 0.99, ...; always answering `setosa`: accuracy 0.33`,
/// and a warning line when the model does not beat that baseline.
pub(crate) fn write_summary(
    out: &mut String,
    metrics: &PartMetrics,
    report: &Report,
    labels: Option<&[String]>,
    part: &str,
) -> Result<()> {
    match (report, &metrics.scores) {
        (Report::Classification(r), Scores::Classification(m)) => {
            let shown =
                |s: &nerve_train::Score| s.value().map_or_else(|| "undefined".to_owned(), score);
            let roc = if r.per_class.len() == 2 {
                "ROC-AUC"
            } else {
                "ROC-AUC (one-vs-rest)"
            };
            let majority = labels.and_then(|l| l.get(r.majority_class)).map_or_else(
                || r.majority_class.to_string(),
                |l| crate::output::shorten_cell(l),
            );
            writeln!(
                out,
                "{} rows: balanced accuracy {}, {roc} {}, average precision {}, log loss {}, Brier {}, ECE {} ({}); always answering `{majority}`: accuracy {}",
                capitalized(part),
                score(r.balanced_accuracy),
                shown(&r.roc_auc),
                shown(&r.average_precision),
                value(r.log_loss),
                value(r.brier),
                value(r.calibration.ece),
                variant_name(r.calibration.variant, labels),
                score(r.majority_accuracy),
            )?;
            if let nerve_train::Score::Undefined { undefined } = &r.roc_auc {
                writeln!(out, "ROC-AUC is undefined on the {part} rows: {undefined}")?;
            }
            // Rows of one class leave nothing to beat (the majority is always right).
            if m.accuracy <= r.majority_accuracy && r.majority_accuracy < 1.0 {
                writeln!(
                    out,
                    "warning: on the {part} rows the model's accuracy ({}) does not beat always answering `{majority}` ({}): it has learned little beyond the class shares; look at balanced accuracy and each class's recall",
                    score(m.accuracy),
                    score(r.majority_accuracy)
                )?;
            }
        }
        (Report::Regression(r), Scores::Regression(m)) => {
            let mape = r.mape.value().map_or_else(
                || "undefined (a target is 0)".to_owned(),
                |v| format!("{}%", value(100.0 * v)),
            );
            writeln!(
                out,
                "{} rows: MAPE {mape}; always answering the mean: R² 0, MAE {}",
                capitalized(part),
                value(r.mean_predictor_mae)
            )?;
            if m.r2 <= 0.0 {
                writeln!(
                    out,
                    "warning: on the {part} rows the model's R² ({}) does not beat always answering the mean (0)",
                    score(m.r2)
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// scikit-learn's `classification_report` as a table: per class precision, recall, F1 and
/// support.
pub(crate) fn write_per_class(
    out: &mut String,
    report: &ClassificationReport,
    labels: Option<&[String]>,
) -> Result<()> {
    let header = ["class", "precision", "recall", "f1", "support"].map(str::to_owned);
    let rows: Vec<Vec<String>> = report
        .per_class
        .iter()
        .enumerate()
        .map(|(k, c)| {
            vec![
                labels
                    .and_then(|l| l.get(k))
                    .cloned()
                    .unwrap_or_else(|| k.to_string()),
                score(c.precision),
                score(c.recall),
                score(c.f1),
                c.support.to_string(),
            ]
        })
        .collect();
    write_aligned(out, &header, &rows)
}

/// What a calibration's probabilities are: `P(`Yes`)` or `top class`.
pub(crate) fn variant_name(variant: CalibrationVariant, labels: Option<&[String]>) -> String {
    match variant {
        CalibrationVariant::PositiveClass => {
            let positive = labels
                .and_then(|l| l.get(1))
                .map_or_else(|| "1".to_owned(), |l| crate::output::shorten_cell(l));
            format!("P(`{positive}`)")
        }
        CalibrationVariant::TopLabel => "top class".to_owned(),
    }
}

/// The reliability table: one line per bin (empty ones too), then the ECE and MCE, naming
/// which probability is binned.
pub(crate) fn write_calibration(
    out: &mut String,
    calibration: &Calibration,
    labels: Option<&[String]>,
) -> Result<()> {
    let variant = variant_name(calibration.variant, labels);
    let observed = match calibration.variant {
        CalibrationVariant::PositiveClass => "share positive",
        CalibrationVariant::TopLabel => "share right",
    };
    writeln!(
        out,
        "Calibration of {variant} ({} equal-width bins; a probability on an edge counts in the lower bin):",
        calibration.bins.len()
    )?;
    let header = ["bin", "rows", "mean predicted", observed, "gap"].map(str::to_owned);
    let rows: Vec<Vec<String>> = calibration
        .bins
        .iter()
        .map(|b| {
            let shown = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), score);
            let gap = match (b.observed, b.mean_predicted) {
                (Some(o), Some(m)) => format!("{:+.4}", o - m),
                _ => "-".to_owned(),
            };
            vec![
                format!("{:.1}-{:.1}", b.lower, b.upper),
                b.count.to_string(),
                shown(b.mean_predicted),
                shown(b.observed),
                gap,
            ]
        })
        .collect();
    write_aligned(out, &header, &rows)?;
    writeln!(
        out,
        "ECE {} (mean |share − predicted| weighted by rows), MCE {} (largest)",
        value(calibration.ece),
        value(calibration.mce)
    )?;
    Ok(())
}

/// `test` → `Test`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use nerve_train::{ClassificationMetrics, PartMetrics};

    fn summary(probabilities: &[f32], actual: &[usize], predicted: &[usize]) -> String {
        let report = ClassificationReport::new(probabilities, actual, 2).unwrap();
        let metrics = PartMetrics {
            rows: actual.len(),
            loss: 0.5,
            scores: Scores::Classification(ClassificationMetrics::new(actual, predicted, 2)),
        };
        let mut out = String::new();
        write_summary(
            &mut out,
            &metrics,
            &Report::Classification(report),
            None,
            "test",
        )
        .unwrap();
        out
    }

    #[test]
    fn the_baseline_warning_fires_only_when_there_is_a_baseline_to_beat() {
        // 3 of 4 rows are class 0 and the model answers 0 everywhere: 0.75, no better.
        let out = summary(
            &[0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4],
            &[0, 0, 0, 1],
            &[0, 0, 0, 0],
        );
        assert!(out.contains("warning: on the test rows the model's accuracy (0.7500) does not beat always answering `0` (0.7500)"), "{out}");
        // One class only: the majority is always right, and the model too; nothing to warn about,
        // and ROC-AUC says why it is undefined.
        let out = summary(&[0.9, 0.1, 0.8, 0.2], &[0, 0], &[0, 0]);
        assert!(!out.contains("warning"), "{out}");
        assert!(
            out.contains("ROC-AUC is undefined on the test rows: the rows hold one class only"),
            "{out}"
        );
    }
}
