//! [`ClassificationReport`] and [`RegressionReport`]: the metrics practitioners read beyond
//! accuracy and R² — per-class scores, balanced accuracy, ranking (ROC-AUC, average precision)
//! and probability quality (log loss, Brier score); MAPE for values. Computed on the host from
//! the predicted probabilities, with scikit-learn's definitions (checked against its values in
//! `tests/fixtures/report.json`).

use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::threshold::predicted_class;

/// A score that may be undefined for the rows at hand: the value, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Score {
    /// The score.
    Value(f64),
    /// Why the rows define no score (`{"undefined": "…"}` in JSON).
    Undefined {
        /// The reason, e.g. "the rows hold one class only".
        undefined: String,
    },
}

impl Score {
    /// The value, if defined.
    pub fn value(&self) -> Option<f64> {
        match self {
            Score::Value(v) => Some(*v),
            Score::Undefined { .. } => None,
        }
    }

    fn undefined(reason: impl Into<String>) -> Self {
        Score::Undefined {
            undefined: reason.into(),
        }
    }
}

/// One class's line of scikit-learn's `classification_report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Of the rows predicted as this class, the share that are (0 when none is predicted).
    pub precision: f64,
    /// Of the rows of this class, the share predicted as it (0 when the class has no rows).
    pub recall: f64,
    /// The harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// The rows of this class.
    pub support: usize,
}

/// A classifier's report on some rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Per class, in class-id order (scikit-learn's `precision_recall_fscore_support` with
    /// every class as `labels`, `zero_division=0`).
    pub per_class: Vec<ClassScores>,
    /// The mean recall over the classes present in the rows (`balanced_accuracy_score`): 1 /
    /// C for a model that always answers one class.
    pub balanced_accuracy: f64,
    /// The accuracy of always answering the most frequent class of these rows.
    pub majority_accuracy: f64,
    /// The class a majority baseline answers (the most frequent, the first on a tie).
    pub majority_class: usize,
    /// ROC-AUC: of the positive class's probability for two classes, one-vs-rest macro
    /// average of each class's probability for more (`roc_auc_score`, `multi_class="ovr"`).
    pub roc_auc: Score,
    /// Average precision (area under the precision-recall curve as a step function,
    /// `average_precision_score`): of the positive class for two classes, macro one-vs-rest
    /// for more.
    pub average_precision: Score,
    /// Mean negative log-likelihood of the true class (`log_loss`; probabilities clipped to
    /// `[ε, 1 − ε]` with ε the f64 machine epsilon).
    pub log_loss: f64,
    /// Brier score: mean `(p − y)²` of the positive class for two classes; for more, the mean
    /// over rows of the summed squared error against the one-hot truth (`brier_score_loss`).
    pub brier: f64,
    /// The decision threshold the predicted classes were taken at (two classes: the second
    /// class when its probability is at least this); `None`: the most probable class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// How far the probabilities are from the observed frequencies ([`Calibration`]).
    pub calibration: Calibration,
    /// Two classes with rows of both: the ROC and precision-recall curves of the positive
    /// class's probability, for drawing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curves: Option<Box<BinaryCurves>>,
}

/// The ROC and precision-recall curves of two-class scores: one point per distinct score
/// taken as a threshold (scikit-learn's `roc_curve(drop_intermediate=False)`, and
/// `precision_recall_curve` read from recall 0 up), at most [`BinaryCurves::MAX_POINTS`] of them (evenly thinned,
/// the ends kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryCurves {
    /// False positive rates, from 0 to 1.
    pub fpr: Vec<f64>,
    /// True positive rates (recall), one per false positive rate.
    pub tpr: Vec<f64>,
    /// Recall at each threshold, from 0 up to 1.
    pub recall: Vec<f64>,
    /// Precision at each threshold (1 at recall 0, as scikit-learn starts the curve).
    pub precision: Vec<f64>,
    /// The share of positive rows: the precision of a model that ranks at random.
    pub positive_share: f64,
}

impl BinaryCurves {
    /// Points per curve at most: more than a chart has pixels across.
    pub const MAX_POINTS: usize = 1000;

    /// The curves of `scores` for the rows marked `positive`; `None` without rows of both.
    pub fn new(scores: &[f64], positive: &[bool]) -> Option<Self> {
        let n_pos = positive.iter().filter(|&&p| p).count();
        let n_neg = positive.len() - n_pos;
        if n_pos == 0 || n_neg == 0 {
            return None;
        }
        let (mut fpr, mut tpr) = (vec![0.0], vec![0.0]);
        let (mut recall, mut precision) = (vec![0.0], vec![1.0]);
        let (mut tp, mut fp) = (0usize, 0usize);
        for (_, hits, size) in score_groups(scores, positive) {
            tp += hits;
            fp += size - hits;
            fpr.push(fp as f64 / n_neg as f64);
            tpr.push(tp as f64 / n_pos as f64);
            recall.push(tp as f64 / n_pos as f64);
            precision.push(tp as f64 / (tp + fp) as f64);
        }
        let thin = |x: Vec<f64>, y: Vec<f64>| -> (Vec<f64>, Vec<f64>) {
            if x.len() <= Self::MAX_POINTS {
                return (x, y);
            }
            let last = x.len() - 1;
            let keep: Vec<usize> = (0..Self::MAX_POINTS)
                .map(|i| i * last / (Self::MAX_POINTS - 1))
                .collect();
            (
                keep.iter().map(|&i| x[i]).collect(),
                keep.iter().map(|&i| y[i]).collect(),
            )
        };
        let (fpr, tpr) = thin(fpr, tpr);
        let (recall, precision) = thin(recall, precision);
        Some(BinaryCurves {
            fpr,
            tpr,
            recall,
            precision,
            positive_share: n_pos as f64 / positive.len() as f64,
        })
    }
}

/// Why a report cannot be computed from its inputs (programming errors in the caller).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// Probabilities of another shape than the classes and rows.
    #[error("expected {rows} rows of {classes} probabilities, got {found} values")]
    Shape {
        /// Rows.
        rows: usize,
        /// Classes.
        classes: usize,
        /// Values given.
        found: usize,
    },
    /// A row whose probabilities do not sum to 1 (within 1e-4) or that holds a value outside
    /// [0, 1]: ROC-AUC's one-vs-rest, log loss and the Brier score need a distribution.
    #[error("row {row}: the probabilities must lie in [0, 1] and sum to 1, got sum {sum}")]
    NotADistribution {
        /// The row.
        row: usize,
        /// Its sum.
        sum: f64,
    },
    /// A class id outside `0..classes`.
    #[error("row {row}: class {class} is not one of the {classes} classes")]
    Class {
        /// The row.
        row: usize,
        /// The id.
        class: usize,
        /// Classes.
        classes: usize,
    },
}

impl ClassificationReport {
    /// The report of `probabilities` (row-major, `classes` per row, each row summing to 1)
    /// against the true class ids `actual`. The predicted class is the most probable (the
    /// first on a tie).
    ///
    /// # Errors
    ///
    /// When the shapes do not match, a class id is out of range, or a row is not a probability
    /// distribution.
    pub fn new(
        probabilities: &[f32],
        actual: &[usize],
        classes: usize,
    ) -> Result<Self, ReportError> {
        Self::with_threshold(probabilities, actual, classes, None)
    }

    /// [`ClassificationReport::new`] with the classes predicted at a decision `threshold`
    /// ([`predicted_class`]): for two classes, the second when its probability is at least
    /// the threshold. The probability scores (ROC-AUC, log loss, ...) do not depend on it.
    ///
    /// # Errors
    ///
    /// As [`ClassificationReport::new`].
    pub fn with_threshold(
        probabilities: &[f32],
        actual: &[usize],
        classes: usize,
        threshold: Option<f64>,
    ) -> Result<Self, ReportError> {
        let rows = actual.len();
        if classes < 2 || probabilities.len() != rows * classes {
            return Err(ReportError::Shape {
                rows,
                classes,
                found: probabilities.len(),
            });
        }
        let row_of = |i: usize| &probabilities[i * classes..(i + 1) * classes];
        for (i, &class) in actual.iter().enumerate() {
            if class >= classes {
                return Err(ReportError::Class {
                    row: i,
                    class,
                    classes,
                });
            }
            let p = row_of(i);
            let sum: f64 = p.iter().map(|&v| f64::from(v)).sum();
            if (sum - 1.0).abs() > 1e-4 || p.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
                return Err(ReportError::NotADistribution { row: i, sum });
            }
        }
        let threshold = threshold.filter(|_| classes == 2);
        let predicted: Vec<usize> = (0..rows)
            .map(|i| predicted_class(row_of(i), threshold))
            .collect();
        let mut support = vec![0usize; classes];
        let mut predicted_count = vec![0usize; classes];
        let mut correct = vec![0usize; classes];
        for (&a, &p) in actual.iter().zip(&predicted) {
            support[a] += 1;
            predicted_count[p] += 1;
            if a == p {
                correct[a] += 1;
            }
        }
        let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let per_class: Vec<ClassScores> = (0..classes)
            .map(|k| {
                let precision = ratio(correct[k], predicted_count[k]);
                let recall = ratio(correct[k], support[k]);
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassScores {
                    precision,
                    recall,
                    f1,
                    support: support[k],
                }
            })
            .collect();
        let present: Vec<&ClassScores> = per_class.iter().filter(|c| c.support > 0).collect();
        let balanced_accuracy = if present.is_empty() {
            f64::NAN
        } else {
            present.iter().map(|c| c.recall).sum::<f64>() / present.len() as f64
        };
        let majority_class =
            (0..classes).fold(
                0,
                |best, k| {
                    if support[k] > support[best] { k } else { best }
                },
            );
        let scores_of =
            |k: usize| -> Vec<f64> { (0..rows).map(|i| f64::from(row_of(i)[k])).collect() };
        let is = |k: usize| -> Vec<bool> { actual.iter().map(|&a| a == k).collect() };
        let roc_auc = roc_auc_of(probabilities, actual, classes);
        let average_precision = if classes == 2 {
            average_precision(&scores_of(1), &is(1))
        } else {
            one_vs_rest_macro((0..classes).map(|k| average_precision(&scores_of(k), &is(k))))
        };
        let eps = f64::EPSILON;
        let log_loss = if rows == 0 {
            f64::NAN
        } else {
            actual
                .iter()
                .enumerate()
                .map(|(i, &a)| -f64::from(row_of(i)[a]).clamp(eps, 1.0 - eps).ln())
                .sum::<f64>()
                / rows as f64
        };
        let brier = if rows == 0 {
            f64::NAN
        } else if classes == 2 {
            actual
                .iter()
                .enumerate()
                .map(|(i, &a)| (f64::from(row_of(i)[1]) - if a == 1 { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>()
                / rows as f64
        } else {
            actual
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    row_of(i)
                        .iter()
                        .enumerate()
                        .map(|(k, &p)| (f64::from(p) - if k == a { 1.0 } else { 0.0 }).powi(2))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / rows as f64
        };
        Ok(ClassificationReport {
            per_class,
            balanced_accuracy,
            majority_accuracy: ratio(support[majority_class], rows),
            majority_class,
            roc_auc,
            average_precision,
            log_loss,
            brier,
            threshold,
            calibration: Calibration::new(probabilities, actual, classes, Calibration::BINS),
            curves: if classes == 2 {
                BinaryCurves::new(&scores_of(1), &is(1)).map(Box::new)
            } else {
                None
            },
        })
    }
}

/// ROC-AUC of `probabilities` (row-major, `classes` per row) against class ids `actual`: of
/// the second class's probability for two classes, the one-vs-rest macro mean for more
/// (`roc_auc_score(multi_class="ovr")`), undefined when a class has no rows or every row.
pub fn roc_auc_of(probabilities: &[f32], actual: &[usize], classes: usize) -> Score {
    let column = |k: usize| -> Vec<f64> {
        probabilities
            .chunks(classes)
            .map(|row| f64::from(row[k]))
            .collect()
    };
    let is = |k: usize| -> Vec<bool> { actual.iter().map(|&a| a == k).collect() };
    if classes == 2 {
        return roc_auc(&column(1), &is(1));
    }
    one_vs_rest_macro((0..classes).map(|k| roc_auc(&column(k), &is(k))))
}

/// The unweighted mean of per-class one-vs-rest scores (scikit-learn's `average="macro"`),
/// undefined when any class's is.
fn one_vs_rest_macro(scores: impl Iterator<Item = Score>) -> Score {
    let values: Option<Vec<f64>> = scores.map(|s| s.value()).collect();
    match values {
        Some(v) => Score::Value(v.iter().sum::<f64>() / v.len() as f64),
        None => Score::undefined(
            "a class has no rows (or every row), so its one-vs-rest score is undefined",
        ),
    }
}

/// The rows grouped by equal score, from the highest score down: each group's score, its
/// positive rows and its size. A threshold can only fall between groups, so the curves and
/// the threshold search step from group to group (scikit-learn's distinct thresholds).
pub(crate) fn score_groups(scores: &[f64], positive: &[bool]) -> Vec<(f64, usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let hits = order[start..end].iter().filter(|&&i| positive[i]).count();
        groups.push((scores[order[start]], hits, end - start));
        start = end;
    }
    groups
}

/// The area under the ROC curve of `scores` for the rows marked `positive`: the probability
/// that a random positive row scores above a random negative one, ties counting half (the
/// Mann–Whitney U statistic, equal to scikit-learn's trapezoidal `roc_auc_score`).
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Score {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Score::undefined(format!(
            "the rows hold one class only ({}), so no positive row can be ranked above a negative one",
            if n_pos == 0 {
                "no positive row"
            } else {
                "no negative row"
            }
        ));
    }
    // Average ranks over ties, 1-based, in ascending order of score.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let rank = (start + 1 + end) as f64 / 2.0;
        rank_sum_pos += rank * order[start..end].iter().filter(|&&i| positive[i]).count() as f64;
        start = end;
    }
    let u = rank_sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Score::Value(u / (n_pos as f64 * n_neg as f64))
}

/// Average precision of `scores` for the rows marked `positive`: `Σ (R_n − R_{n−1}) P_n` over
/// the distinct scores in descending order (scikit-learn's `average_precision_score`, which
/// does not interpolate).
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Score {
    let n_pos = positive.iter().filter(|&&p| p).count();
    if n_pos == 0 {
        return Score::undefined("the rows hold no positive row, so recall is undefined");
    }
    let (mut tp, mut fp, mut previous_recall, mut ap) = (0usize, 0usize, 0.0, 0.0);
    for (_, hits, size) in score_groups(scores, positive) {
        tp += hits;
        fp += size - hits;
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Score::Value(ap)
}

/// A regressor's report on some rows, in the target's units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Mean absolute percentage error, `mean(|y − ŷ| / |y|)` as a fraction (0.1 is 10 %),
    /// undefined when a target is 0.
    pub mape: Score,
    /// The mean absolute error of always answering these rows' mean (its R² is 0).
    pub mean_predictor_mae: f64,
}

impl RegressionReport {
    /// The report of `predicted` against `actual` values.
    ///
    /// # Panics
    ///
    /// When the slices differ in length.
    pub fn new(predicted: &[f64], actual: &[f64]) -> Self {
        assert_eq!(predicted.len(), actual.len(), "one prediction per row");
        let n = actual.len() as f64;
        let mape = if actual.contains(&0.0) {
            Score::undefined("a target is 0, where a percentage error is undefined")
        } else if actual.is_empty() {
            Score::undefined("no rows")
        } else {
            Score::Value(
                predicted
                    .iter()
                    .zip(actual)
                    .map(|(p, y)| ((y - p) / y).abs())
                    .sum::<f64>()
                    / n,
            )
        };
        let mean = actual.iter().sum::<f64>() / n;
        RegressionReport {
            mape,
            mean_predictor_mae: actual.iter().map(|y| (y - mean).abs()).sum::<f64>() / n,
        }
    }
}

/// A part's report, of a classifier or a regressor (`report` in `metrics.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Report {
    /// Per-class scores, ranking and probability quality.
    Classification(ClassificationReport),
    /// MAPE and the mean predictor's error.
    Regression(RegressionReport),
}
