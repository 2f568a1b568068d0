//! Metrics: accuracy, macro precision / recall / F1 and the confusion matrix for classes; MSE,
//! RMSE, MAE and R² for values. [`MetricsAccumulator`] gathers them on the device, batch by
//! batch, and reads them back once.

use burn::prelude::{Int, Tensor};
use nerve_loss::Targets;
use serde::{Deserialize, Serialize};

/// How well predicted classes match the true ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// The share of rows predicted right.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub accuracy: f64,
    /// The unweighted mean of precision over the classes present in the true or predicted
    /// classes (a present class never predicted scores 0), as scikit-learn's
    /// `precision_score(average="macro", zero_division=0)` without `labels`.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub precision_macro: f64,
    /// The unweighted mean of recall over the same classes.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub recall_macro: f64,
    /// The unweighted mean of the F1 score over the same classes.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub f1_macro: f64,
    /// `confusion_matrix[true][predicted]` row counts (empty in per-epoch reports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confusion_matrix: Vec<Vec<usize>>,
}

impl ClassificationMetrics {
    /// The metrics of `predicted` against `actual` class ids, both in `0..num_classes`.
    ///
    /// # Panics
    ///
    /// When the slices differ in length or hold an id outside `0..num_classes`.
    pub fn new(actual: &[usize], predicted: &[usize], num_classes: usize) -> Self {
        assert_eq!(actual.len(), predicted.len(), "one prediction per row");
        let mut confusion_matrix = vec![vec![0usize; num_classes]; num_classes];
        for (&a, &p) in actual.iter().zip(predicted) {
            confusion_matrix[a][p] += 1;
        }
        Self::from_confusion(confusion_matrix)
    }

    /// The metrics of a confusion matrix, `matrix[true][predicted]`.
    pub fn from_confusion(confusion_matrix: Vec<Vec<usize>>) -> Self {
        let k = confusion_matrix.len();
        let total: usize = confusion_matrix.iter().flatten().sum();
        let correct: usize = (0..k).map(|c| confusion_matrix[c][c]).sum();
        let (mut precision, mut recall, mut f1) = (0.0, 0.0, 0.0);
        // scikit-learn averages over the labels present in the true or predicted values: a
        // class absent from both (e.g. a one-row class that landed in training) is not counted.
        let mut present = 0usize;
        for c in 0..k {
            let hits = confusion_matrix[c][c] as f64;
            let actual: usize = confusion_matrix[c].iter().sum();
            let predicted: usize = confusion_matrix.iter().map(|row| row[c]).sum();
            if actual + predicted == 0 {
                continue;
            }
            present += 1;
            precision += ratio(hits, predicted as f64);
            recall += ratio(hits, actual as f64);
            f1 += ratio(2.0 * hits, (actual + predicted) as f64);
        }
        Self {
            accuracy: ratio(correct as f64, total as f64),
            precision_macro: ratio(precision, present as f64),
            recall_macro: ratio(recall, present as f64),
            f1_macro: ratio(f1, present as f64),
            confusion_matrix,
        }
    }
}

/// How close predicted values are to the true ones, in the target's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Mean squared error.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub mse: f64,
    /// Root mean squared error.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub rmse: f64,
    /// Mean absolute error.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub mae: f64,
    /// Coefficient of determination, `1 - SS_res / SS_tot` (0 when the targets are constant
    /// and the predictions are not exact, as scikit-learn reports).
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub r2: f64,
}

impl RegressionMetrics {
    /// The metrics of `predicted` against `actual`.
    ///
    /// # Panics
    ///
    /// When the slices differ in length.
    pub fn new(actual: &[f32], predicted: &[f32]) -> Self {
        assert_eq!(actual.len(), predicted.len(), "one prediction per row");
        let mut sums = [0.0f64; 4];
        for (&y, &p) in actual.iter().zip(predicted) {
            let (y, p) = (f64::from(y), f64::from(p));
            sums[0] += (y - p) * (y - p);
            sums[1] += (y - p).abs();
            sums[2] += y;
            sums[3] += y * y;
        }
        Self::from_sums(actual.len(), sums, 1.0)
    }

    /// The metrics from `[Σ(y-p)², Σ|y-p|, Σy, Σy²]` over `n` rows of values in units that
    /// are `scale` times smaller than the target's (a standardized target).
    fn from_sums(n: usize, [sse, sae, sy, syy]: [f64; 4], scale: f64) -> Self {
        let n = n as f64;
        let ss_tot = syy - sy * sy / n.max(1.0);
        let r2 = if ss_tot > 1e-12 * syy.max(f64::MIN_POSITIVE) {
            1.0 - sse / ss_tot
        } else if sse == 0.0 {
            1.0
        } else {
            0.0
        };
        let mse = ratio(sse, n) * scale * scale;
        Self {
            mse,
            rmse: mse.sqrt(),
            mae: ratio(sae, n) * scale,
            r2,
        }
    }
}

/// The metrics of one part of the data (training, validation or test rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartMetrics {
    /// How many rows.
    pub rows: usize,
    /// The mean loss.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub loss: f64,
    /// Task-specific scores.
    #[serde(flatten)]
    pub scores: Scores,
}

impl PartMetrics {
    /// Forgets the confusion matrix (per-epoch reports keep only the scores).
    pub fn drop_confusion_matrix(&mut self) {
        if let Scores::Classification(m) = &mut self.scores {
            m.confusion_matrix = Vec::new();
        }
    }
}

/// Classification or regression scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scores {
    /// For class targets.
    Classification(ClassificationMetrics),
    /// For values.
    Regression(RegressionMetrics),
}

/// What the metrics measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricKind {
    /// Class ids `0..num_classes`; the network outputs one logit per class, or one logit for
    /// two classes (binary cross-entropy).
    Classes {
        /// The number of classes.
        num_classes: usize,
    },
    /// Values the network predicts in units `scale` times smaller than the target's (the
    /// standard deviation of a standardized target, or 1).
    Values {
        /// Multiplies errors back into the target's units.
        scale: f64,
    },
}

/// Gathers a part's batches on the device — their mean losses, outputs and targets, as
/// tensor handles, with no work per batch — and at the end computes the loss and metrics in a
/// few whole-part operations and reads them back in one transfer: the loss, the confusion
/// matrix (or the number right, for very many classes), or the error sums of a regression.
#[derive(Debug)]
pub struct MetricsAccumulator {
    kind: MetricKind,
    rows: usize,
    losses: Vec<Tensor<1>>,
    outputs: Vec<Tensor<2>>,
    targets: Vec<TargetPart>,
}

/// One batch's targets in the form the metrics use.
#[derive(Debug)]
enum TargetPart {
    Classes(Tensor<1, Int>),
    Values(Tensor<2>),
    Other,
}

impl MetricsAccumulator {
    /// Classes beyond this count only the rows right, not a full confusion matrix.
    pub const MAX_CONFUSION_CLASSES: usize = 256;

    /// An empty accumulator.
    pub fn new(kind: MetricKind) -> Self {
        Self {
            kind,
            rows: 0,
            losses: Vec::new(),
            outputs: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Adds one batch: its mean `loss` and the network's raw `output` for `targets`, all on the
    /// same (non-autodiff) device. Nothing is computed or read back until
    /// [`MetricsAccumulator::finish`].
    ///
    /// # Shapes
    ///
    /// - `output`: `[batch, d_output]`
    /// - `loss`: `[1]`
    pub fn add(&mut self, output: Tensor<2>, targets: &Targets, loss: Tensor<1>) {
        let rows = output.dims()[0];
        self.losses.push(loss.mul_scalar(rows as f64));
        self.targets
            .push(match (self.kind, targets.class_ids(), targets.values()) {
                (MetricKind::Classes { .. }, Some(ids), _) => TargetPart::Classes(ids),
                (MetricKind::Values { .. }, _, Some(values)) => TargetPart::Values(values),
                _ => TargetPart::Other,
            });
        self.outputs.push(output);
        self.rows += rows;
    }

    /// The rows added so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Computes the loss and metrics of everything added, reads them back (one transfer);
    /// `None` before any batch.
    pub fn finish(self) -> Option<PartMetrics> {
        let n = self.rows;
        let first = self.outputs.first()?;
        let width = first.dims()[1];
        let cat2 = |parts: Vec<Tensor<2>>| {
            if parts.len() == 1 {
                parts.into_iter().next()
            } else {
                Some(Tensor::cat(parts, 0))
            }
        };
        let loss_sum = Tensor::cat(self.losses, 0).sum();
        let output = cat2(self.outputs)?;
        let mut parts = vec![loss_sum];
        let classes: Vec<Tensor<1, Int>> = self
            .targets
            .iter()
            .filter_map(|t| match t {
                TargetPart::Classes(ids) => Some(ids.clone()),
                _ => None,
            })
            .collect();
        let values: Vec<Tensor<2>> = self
            .targets
            .iter()
            .filter_map(|t| match t {
                TargetPart::Values(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        match self.kind {
            MetricKind::Classes { num_classes } if classes.len() == self.targets.len() => {
                let actual = Tensor::cat(classes, 0);
                let predicted: Tensor<1, Int> = if width == 1 {
                    output.greater_elem(0.0).int().flatten(0, 1)
                } else {
                    output.argmax(1).flatten(0, 1)
                };
                if num_classes <= Self::MAX_CONFUSION_CLASSES {
                    let device = predicted.device();
                    let classes = Tensor::<1, Int>::arange(0..num_classes as i64, &device)
                        .unsqueeze_dim::<2>(0)
                        .expand([n, num_classes]);
                    let one_hot = |ids: Tensor<1, Int>| {
                        ids.unsqueeze_dim::<2>(1)
                            .expand([n, num_classes])
                            .equal(classes.clone())
                            .float()
                    };
                    let confusion = one_hot(actual).transpose().matmul(one_hot(predicted));
                    parts.push(confusion.flatten(0, 1));
                } else {
                    parts.push(predicted.equal(actual).int().sum().float());
                }
            }
            MetricKind::Values { .. } if values.len() == self.targets.len() => {
                let actual = cat2(values)?;
                let error = output - actual.clone();
                parts.push(error.clone().powi_scalar(2).sum());
                parts.push(error.abs().sum());
                parts.push(actual.clone().sum());
                parts.push(actual.powi_scalar(2).sum());
            }
            // Targets of the other kind: only the loss is tracked.
            _ => {}
        }
        let sums: Vec<f64> = Tensor::cat(parts, 0)
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .ok()?;
        let loss = ratio(sums[0], n as f64);
        let scores = match self.kind {
            MetricKind::Classes { num_classes } if sums.len() == 1 + num_classes * num_classes => {
                let matrix = sums[1..]
                    .chunks(num_classes)
                    .map(|row| row.iter().map(|&v| v.round() as usize).collect())
                    .collect();
                Scores::Classification(ClassificationMetrics::from_confusion(matrix))
            }
            MetricKind::Classes { .. } => {
                let correct = sums.get(1).copied().unwrap_or(f64::NAN);
                Scores::Classification(ClassificationMetrics {
                    accuracy: ratio(correct, n as f64),
                    precision_macro: f64::NAN,
                    recall_macro: f64::NAN,
                    f1_macro: f64::NAN,
                    confusion_matrix: Vec::new(),
                })
            }
            MetricKind::Values { scale } if sums.len() == 5 => Scores::Regression(
                RegressionMetrics::from_sums(n, [sums[1], sums[2], sums[3], sums[4]], scale),
            ),
            MetricKind::Values { .. } => Scores::Regression(RegressionMetrics {
                mse: f64::NAN,
                rmse: f64::NAN,
                mae: f64::NAN,
                r2: f64::NAN,
            }),
        };
        Some(PartMetrics {
            rows: n,
            loss,
            scores,
        })
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::TensorData;
    use nerve_backend::BackendKind;
    use nerve_loss::Loss;

    #[test]
    fn classification_matches_hand_computed_values() {
        // scikit-learn on these rows: accuracy 4/6; per class precision (1, 0.5, 0.5), recall
        // (1, 0.5, 0.5), F1 (1, 0.5, 0.5).
        let actual = [0, 0, 1, 1, 2, 2];
        let predicted = [0, 0, 1, 2, 2, 1];
        let m = ClassificationMetrics::new(&actual, &predicted, 3);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((m.f1_macro - 2.0 / 3.0).abs() < 1e-12, "{}", m.f1_macro);
        assert!((m.precision_macro - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            m.confusion_matrix,
            vec![vec![2, 0, 0], vec![0, 1, 1], vec![0, 1, 1]]
        );
        // Imbalanced: precision and recall differ. Class 0: P 2/3, R 1; class 1: P 1, R 1/2.
        let m = ClassificationMetrics::new(&[0, 0, 1, 1], &[0, 0, 0, 1], 2);
        assert!((m.precision_macro - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((m.recall_macro - 0.75).abs() < 1e-12);
        assert!((m.f1_macro - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // A class that never occurs and is never predicted is not in the macro mean (issue 13:
        // scikit-learn's f1_score([0, 1], [0, 1], average="macro") is 1.0).
        let m = ClassificationMetrics::new(&[0, 1], &[0, 1], 3);
        assert!((m.f1_macro - 1.0).abs() < 1e-12, "{}", m.f1_macro);
        // A class predicted but never true counts, with precision 0 and recall 0:
        // f1_score([0, 0], [0, 1], average="macro") = (2/3 + 0) / 2.
        let m = ClassificationMetrics::new(&[0, 0], &[0, 1], 3);
        assert!((m.f1_macro - 1.0 / 3.0).abs() < 1e-12, "{}", m.f1_macro);
    }

    #[test]
    fn regression_matches_hand_computed_values() {
        // y = [3, -0.5, 2, 7], p = [2.5, 0, 2, 8]: scikit-learn's r2_score example gives 0.9486...
        let m = RegressionMetrics::new(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        assert!((m.r2 - 0.948_608_137_044_967_9).abs() < 1e-9, "{}", m.r2);
        assert!((m.mse - 0.375).abs() < 1e-12);
        assert!((m.mae - 0.5).abs() < 1e-12);
        assert!((m.rmse - 0.375f64.sqrt()).abs() < 1e-12);
        assert_eq!(RegressionMetrics::new(&[1.0, 1.0], &[1.0, 1.0]).r2, 1.0);
        assert_eq!(RegressionMetrics::new(&[1.0, 1.0], &[1.0, 2.0]).r2, 0.0);
    }

    fn tensor(values: &[f32], shape: [usize; 2], device: &burn::prelude::Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
    }

    #[test]
    fn the_device_accumulator_agrees_with_the_host_metrics() {
        for kind in BackendKind::available() {
            let device = kind.device().expect("compiled in");
            // Two batches of logits for 3 classes; argmax: [0, 0, 1] then [2, 2, 1].
            let logits = [
                [5.0, 1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 3.0, 1.0],
                [0.0, 1.0, 4.0, 0.0, 0.0, 1.0, 0.0, 2.0, 1.0],
            ];
            let ids = [[0.0, 0.0, 1.0], [1.0, 2.0, 2.0]];
            let mut acc = MetricsAccumulator::new(MetricKind::Classes { num_classes: 3 });
            for (logits, ids) in logits.iter().zip(ids) {
                let output = tensor(logits, [3, 3], &device);
                let targets = Loss::CrossEntropy
                    .targets(tensor(&ids, [3, 1], &device), 3)
                    .expect("valid ids");
                let loss = Loss::CrossEntropy
                    .forward(output.clone(), &targets)
                    .expect("shapes");
                acc.add(output, &targets, loss);
            }
            let part = acc.finish().expect("two batches");
            assert_eq!(part.rows, 6);
            let expected = ClassificationMetrics::new(&[0, 0, 1, 1, 2, 2], &[0, 0, 1, 2, 2, 1], 3);
            assert_eq!(part.scores, Scores::Classification(expected), "{kind}");

            // Regression in units 2x smaller than the target's.
            let mut acc = MetricsAccumulator::new(MetricKind::Values { scale: 2.0 });
            let output = tensor(&[1.25, 0.0, 1.0, 4.0], [4, 1], &device);
            let targets = Loss::Mse
                .targets(tensor(&[1.5, -0.25, 1.0, 3.5], [4, 1], &device), 1)
                .expect("finite");
            let loss = Loss::Mse.forward(output.clone(), &targets).expect("shapes");
            acc.add(output, &targets, loss);
            let part = acc.finish().expect("one batch");
            let Scores::Regression(m) = part.scores else {
                panic!("regression")
            };
            let host = RegressionMetrics::new(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
            assert!((m.r2 - host.r2).abs() < 1e-6, "{kind}: {m:?}");
            assert!((m.mse - host.mse).abs() < 1e-6, "{kind}: {m:?}");
            assert!((m.mae - host.mae).abs() < 1e-6, "{kind}: {m:?}");
            assert!(
                (part.loss - host.mse / 4.0).abs() < 1e-6,
                "{kind}: {part:?}"
            );
        }
    }
}
