//! [`Monitor`]: the quantity early stopping, the best epoch and reduce-on-plateau watch
//! (Keras' `monitor`, with its `mode` implied by the quantity).

use serde::{Deserialize, Serialize};

use crate::{EpochReport, PartMetrics, Scores};

/// What the epoch loop watches. Losses are minimized; accuracy, macro-F1 and R² are
/// maximized, and are watched as `1 − metric` so that lower is better everywhere (so
/// `min_delta` is in the metric's own units, and the plateau schedule's relative threshold
/// applies to the error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Monitor {
    /// The validation loss; the training loss when there are no validation rows.
    #[default]
    #[serde(rename = "val_loss")]
    ValLoss,
    /// Validation accuracy (classification).
    #[serde(rename = "val_accuracy")]
    ValAccuracy,
    /// Validation macro-F1 (classification).
    #[serde(rename = "val_f1")]
    ValF1,
    /// Validation ROC-AUC (classification; one-vs-rest macro for more than two classes),
    /// computed after each epoch only when monitored.
    #[serde(rename = "val_auc")]
    ValAuc,
    /// Validation R² (regression).
    #[serde(rename = "val_r2")]
    ValR2,
    /// The training loss, even with validation rows.
    #[serde(rename = "train_loss")]
    TrainLoss,
}

impl Monitor {
    /// Every quantity, in the order listed in help texts.
    pub const ALL: [Monitor; 6] = [
        Monitor::ValLoss,
        Monitor::ValAccuracy,
        Monitor::ValF1,
        Monitor::ValAuc,
        Monitor::ValR2,
        Monitor::TrainLoss,
    ];

    /// The name used in configs and on the command line (Keras' names).
    pub fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
            Monitor::ValF1 => "val_f1",
            Monitor::ValAuc => "val_auc",
            Monitor::ValR2 => "val_r2",
            Monitor::TrainLoss => "train_loss",
        }
    }

    /// Whether the quantity is a score to maximize (Keras' `mode="max"`).
    pub fn maximizes(self) -> bool {
        matches!(
            self,
            Monitor::ValAccuracy | Monitor::ValF1 | Monitor::ValAuc | Monitor::ValR2
        )
    }

    /// Why this quantity cannot be watched in a run with or without validation rows and with
    /// classes or values; `None` when it can.
    pub fn unavailable(self, has_validation: bool, classification: bool) -> Option<String> {
        let name = self.name();
        match self {
            Monitor::ValLoss | Monitor::TrainLoss => None,
            _ if !has_validation => Some(format!(
                "--monitor {name} watches validation rows, and this run has none; add --val-split 0.2 (or monitor val_loss, which falls back to the training loss)"
            )),
            Monitor::ValAccuracy | Monitor::ValF1 | Monitor::ValAuc if !classification => {
                Some(format!(
                    "--monitor {name} is a classification score, and this target is a regression one; use val_r2 or val_loss"
                ))
            }
            Monitor::ValR2 if classification => Some(format!(
                "--monitor {name} is a regression score, and this target has classes; use val_accuracy, val_f1, val_auc or val_loss"
            )),
            _ => None,
        }
    }

    /// The watched value of an epoch, lower is better: the loss, or `1 − score`. NaN when the
    /// epoch lacks it (which never counts as an improvement).
    pub fn value(self, report: &EpochReport) -> f64 {
        let validation = report.validation.as_ref();
        let score = |part: Option<&PartMetrics>, pick: fn(&Scores) -> Option<f64>| {
            part.and_then(|p| pick(&p.scores))
                .map_or(f64::NAN, |s| 1.0 - s)
        };
        match self {
            Monitor::ValLoss => validation.map_or(report.train.loss, |v| v.loss),
            Monitor::TrainLoss => report.train.loss,
            Monitor::ValAccuracy => score(validation, |s| match s {
                Scores::Classification(m) => Some(m.accuracy),
                Scores::Regression(_) => None,
            }),
            Monitor::ValF1 => score(validation, |s| match s {
                Scores::Classification(m) => Some(m.f1_macro),
                Scores::Regression(_) => None,
            }),
            Monitor::ValAuc => report.validation_auc.map_or(f64::NAN, |auc| 1.0 - auc),
            Monitor::ValR2 => score(validation, |s| match s {
                Scores::Regression(m) => Some(m.r2),
                Scores::Classification(_) => None,
            }),
        }
    }
}

nerve_choice::named_choice!(Monitor, "monitor");
