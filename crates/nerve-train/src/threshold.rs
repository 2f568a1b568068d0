//! Decision thresholds for two-class models: the class a row's probabilities answer at a
//! threshold ([`predicted_class`]), and the threshold that maximizes F1 or balanced accuracy on
//! some rows ([`best_threshold`]), as scikit-learn's `TunedThresholdClassifierCV` tunes one.

use serde::{Deserialize, Serialize};

use crate::InvalidSetting;

/// The class a row's `probabilities` answer: with a `threshold` and two classes, the second
/// (the positive class) when its probability is at least the threshold (scikit-learn's
/// `y_score >= threshold`; compared in f32, the probabilities' precision); otherwise the most probable class, the first on a tie.
pub fn predicted_class(probabilities: &[f32], threshold: Option<f64>) -> usize {
    match threshold {
        // Compared in f32, the probabilities' own precision: a threshold typed from a printed
        // probability (`0.34452823`) then includes that row, as "at least" promises.
        Some(t) if probabilities.len() == 2 => usize::from(probabilities[1] >= t as f32),
        _ => (0..probabilities.len()).fold(0, |best, k| {
            if probabilities[k] > probabilities[best] {
                k
            } else {
                best
            }
        }),
    }
}

/// What a tuned threshold maximizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdMetric {
    /// F1 of the positive class (`f1_score`, `pos_label` the second class).
    F1,
    /// The mean of the two classes' recalls (`balanced_accuracy_score`).
    BalancedAccuracy,
}

impl ThresholdMetric {
    /// Every metric, in the order listed in help texts.
    pub const ALL: [ThresholdMetric; 2] = [ThresholdMetric::F1, ThresholdMetric::BalancedAccuracy];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ThresholdMetric::F1 => "f1",
            ThresholdMetric::BalancedAccuracy => "balanced-accuracy",
        }
    }
}

nerve_choice::named_choice!(ThresholdMetric, "threshold metric");

/// A threshold chosen on some rows, and what it scores there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    /// The threshold on the positive class's probability.
    pub threshold: f64,
    /// What it maximizes.
    pub metric: ThresholdMetric,
    /// The metric at the threshold on the rows it was chosen on.
    pub score: f64,
    /// The metric of the most probable class (no threshold) on the same rows.
    pub score_at_default: f64,
    /// The rows it was chosen on.
    pub rows: usize,
}

/// The metric of answering positive for the rows whose score is at least `threshold`.
fn metric_at(
    metric: ThresholdMetric,
    tp: usize,
    fp: usize,
    positives: usize,
    negatives: usize,
) -> f64 {
    let fn_ = positives - tp;
    let tn = negatives - fp;
    match metric {
        ThresholdMetric::F1 => {
            let denominator = 2 * tp + fp + fn_;
            if denominator == 0 {
                0.0
            } else {
                2.0 * tp as f64 / denominator as f64
            }
        }
        ThresholdMetric::BalancedAccuracy => {
            0.5 * (tp as f64 / positives as f64 + tn as f64 / negatives as f64)
        }
    }
}

/// The threshold on `scores` (the positive class's probability per row) that maximizes
/// `metric` against `positive`. Every distinct score is tried as a threshold (as well as one
/// above them all); on a tie the one nearest 0.5 wins. The answer is the midpoint between the
/// winning score and the next lower one (0 below the lowest, 1 above the highest), rounded to
/// f32 (the winning score itself if rounding would reach the lower one): every
/// threshold in between gives the same answers on these rows, and the midpoint leaves new
/// rows the widest margin.
///
/// # Errors
///
/// When the slices differ in length, or the rows do not hold both classes (no threshold can
/// be judged).
pub fn best_threshold(
    scores: &[f64],
    positive: &[bool],
    metric: ThresholdMetric,
) -> Result<ThresholdChoice, InvalidSetting> {
    choose(scores, positive, metric).map_err(InvalidSetting)
}

/// [`best_threshold`], its refusal in words.
fn choose(
    scores: &[f64],
    positive: &[bool],
    metric: ThresholdMetric,
) -> Result<ThresholdChoice, String> {
    if scores.len() != positive.len() {
        return Err(format!(
            "{} scores for {} rows",
            scores.len(),
            positive.len()
        ));
    }
    let positives = positive.iter().filter(|&&p| p).count();
    let negatives = positive.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(format!(
            "the rows hold only one class ({positives} positive, {negatives} negative), so no threshold can be judged"
        ));
    }
    if let Some(s) = scores.iter().find(|s| !s.is_finite()) {
        return Err(format!("a score is {s}; expected probabilities"));
    }
    let groups = crate::report::score_groups(scores, positive);
    // Candidates from the highest score down: (metric, the group's score, the next lower one).
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best = (
        metric_at(metric, 0, 0, positives, negatives),
        1.0f64,
        groups[0].0,
    );
    for (k, &(value, hits, size)) in groups.iter().enumerate() {
        tp += hits;
        fp += size - hits;
        let next_lower = groups.get(k + 1).map_or(0.0, |g| g.0);
        let midpoint = 0.5 * (value + next_lower);
        let m = metric_at(metric, tp, fp, positives, negatives);
        let nearer = (midpoint - 0.5).abs() < (0.5 * (best.1 + best.2) - 0.5).abs();
        if m > best.0 || (m == best.0 && nearer) {
            best = (m, value, next_lower);
        }
    }
    // The midpoint, as an f32 (predicted_class compares in f32) that still lies above the
    // lower score: else the winning score itself.
    let midpoint = 0.5 * (best.1 + best.2);
    let threshold = if f64::from(midpoint as f32) > best.2 {
        f64::from(midpoint as f32)
    } else {
        best.1
    };
    let at_default = {
        let (tp, fp) = scores.iter().zip(positive).filter(|(s, _)| **s > 0.5).fold(
            (0, 0),
            |(tp, fp), (_, &p)| if p { (tp + 1, fp) } else { (tp, fp + 1) },
        );
        metric_at(metric, tp, fp, positives, negatives)
    };
    Ok(ThresholdChoice {
        threshold,
        metric,
        score: best.0,
        score_at_default: at_default,
        rows: scores.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threshold separates the rows' scores: every row at or above it is positive.
    #[test]
    fn a_separable_set_gets_a_threshold_in_its_gap() {
        let scores = [0.05, 0.1, 0.2, 0.3, 0.35, 0.9];
        let positive = [false, false, false, true, true, true];
        for metric in [ThresholdMetric::F1, ThresholdMetric::BalancedAccuracy] {
            let choice = best_threshold(&scores, &positive, metric).unwrap();
            assert_eq!(choice.score, 1.0);
            assert!((choice.threshold - 0.25).abs() < 1e-12, "{choice:?}");
            // At 0.5 two positives are missed.
            assert!(choice.score_at_default < 1.0);
        }
    }

    #[test]
    fn one_class_is_refused() {
        let err = best_threshold(&[0.2, 0.7], &[true, true], ThresholdMetric::F1).unwrap_err();
        assert!(err.0.contains("only one class"), "{err}");
    }

    /// Ties in the scores move together: the threshold never splits equal scores.
    #[test]
    fn equal_scores_are_never_split() {
        let scores = [0.4, 0.4, 0.4, 0.8];
        let positive = [true, false, true, true];
        let choice = best_threshold(&scores, &positive, ThresholdMetric::F1).unwrap();
        assert!((choice.threshold - 0.4).abs() > 1e-9, "{choice:?}");
        assert_eq!(predicted_class(&[0.6, 0.4], Some(choice.threshold)), 1);
    }

    #[test]
    fn predicted_class_at_a_threshold() {
        assert_eq!(predicted_class(&[0.7, 0.3], Some(0.3)), 1);
        assert_eq!(predicted_class(&[0.7, 0.3], Some(0.31)), 0);
        assert_eq!(predicted_class(&[0.7, 0.3], None), 0);
        assert_eq!(predicted_class(&[0.5, 0.5], None), 0);
        // Three classes ignore a threshold.
        assert_eq!(predicted_class(&[0.2, 0.3, 0.5], Some(0.1)), 2);
    }
}
