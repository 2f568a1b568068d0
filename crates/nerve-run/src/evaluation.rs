//! A trained model scored on one part of the rows: nerve-train's metrics (the loss, accuracy
//! or R², ...) and [`Report`] (per-class scores, ranking, probability quality, the baseline),
//! from the network's outputs ([`network_outputs`]). `nerve train` scores each part with it,
//! `nerve eval` a labelled file, cross-validation each held-out fold.

use burn::prelude::Device;
use nerve_data::{Dataset, Preprocessor};
use nerve_loss::Loss;
use nerve_model::Mlp;
use nerve_train::{ClassificationReport, PartMetrics, RegressionReport, Report, Trainer};

use crate::{PartSummary, Result, network_outputs};

/// A model's scores on one part, with the outputs they came from.
#[derive(Debug, Clone)]
pub struct PartEvaluation {
    /// The loss and the task's scores (nerve-train's, on the device).
    pub metrics: PartMetrics,
    /// Per-class scores, ranking, calibration and the baseline (on the host).
    pub report: Report,
    /// The network's outputs, row-major: one probability per class, or the standardized value.
    pub outputs: Vec<f32>,
    /// Outputs per row.
    pub width: usize,
}

impl PartEvaluation {
    /// The part's entry in a run summary (`metrics.json`).
    pub fn summary(&self, labels: Option<&[String]>) -> PartSummary {
        PartSummary::new(self.metrics.clone(), labels).with_report(self.report.clone())
    }
}

/// Scores `model` (trained with `loss`) on `data`, rows prepared by `p`, on `device` (a plain
/// one).
///
/// # Errors
///
/// The trainer cannot evaluate the rows, or the report cannot be built from the outputs.
pub fn evaluate_part(
    trainer: &Trainer,
    model: &Mlp,
    loss: Loss,
    data: &Dataset,
    p: &Preprocessor,
    device: &Device,
) -> Result<PartEvaluation> {
    let metrics = trainer.evaluate(model, data, device)?;
    let (outputs, width) = network_outputs(model, loss, data, device);
    let report = report_at(&outputs, width, data, p, None)?;
    Ok(PartEvaluation {
        metrics,
        report,
        outputs,
        width,
    })
}

/// The report of `outputs` (row-major, `width` per row: one probability per class, or the
/// standardized value) on `data`'s rows, with the classes predicted at a decision `threshold`
/// (two classes; `None`: the most probable class).
///
/// # Errors
///
/// Outputs that do not fit the rows' classes ([`nerve_train::ReportError`]).
pub fn report_at(
    outputs: &[f32],
    width: usize,
    data: &Dataset,
    p: &Preprocessor,
    threshold: Option<f64>,
) -> Result<Report> {
    Ok(match p.labels() {
        Some(_) => {
            let actual: Vec<usize> = data.targets().iter().map(|&t| t as usize).collect();
            Report::Classification(ClassificationReport::with_threshold(
                outputs, &actual, width, threshold,
            )?)
        }
        None => {
            let decode = |v: &f32| p.decode_value(*v);
            let predicted: Vec<f64> = outputs.iter().map(decode).collect();
            let actual: Vec<f64> = data.targets().iter().map(decode).collect();
            Report::Regression(RegressionReport::new(&predicted, &actual))
        }
    })
}
