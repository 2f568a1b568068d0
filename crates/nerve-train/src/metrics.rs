//! Test metrics: accuracy, macro-F1 and the confusion matrix for classes; MSE, RMSE, MAE and R²
//! for values.

use serde::Serialize;

/// How well predicted classes match the true ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    /// The share of rows predicted right.
    pub accuracy: f64,
    /// The unweighted mean over classes of the F1 score (a class never true nor predicted
    /// scores 0, as in scikit-learn with `zero_division=0`).
    pub f1_macro: f64,
    /// `confusion_matrix[true][predicted]` row counts.
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
        let correct: usize = (0..num_classes).map(|k| confusion_matrix[k][k]).sum();
        let f1_sum: f64 = (0..num_classes)
            .map(|k| {
                let true_positive = confusion_matrix[k][k] as f64;
                let actual_k: usize = confusion_matrix[k].iter().sum();
                let predicted_k: usize = confusion_matrix.iter().map(|row| row[k]).sum();
                let denominator = (actual_k + predicted_k) as f64;
                if denominator == 0.0 {
                    0.0
                } else {
                    2.0 * true_positive / denominator
                }
            })
            .sum();
        Self {
            accuracy: ratio(correct as f64, actual.len() as f64),
            f1_macro: ratio(f1_sum, num_classes as f64),
            confusion_matrix,
        }
    }
}

/// How close predicted values are to the true ones, in the target's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 - SS_res / SS_tot` (0 when the targets are constant
    /// and the predictions are not exact, as scikit-learn reports).
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
        let n = actual.len() as f64;
        let mean = actual.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
        let (mut ss_res, mut ss_tot, mut abs) = (0.0, 0.0, 0.0);
        for (&y, &p) in actual.iter().zip(predicted) {
            let (y, p) = (f64::from(y), f64::from(p));
            ss_res += (y - p) * (y - p);
            ss_tot += (y - mean) * (y - mean);
            abs += (y - p).abs();
        }
        let mse = ratio(ss_res, n);
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
        Self {
            mse,
            rmse: mse.sqrt(),
            mae: ratio(abs, n),
            r2,
        }
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

    #[test]
    fn classification_matches_hand_computed_values() {
        // sklearn: accuracy_score = 4/6, f1_score(average="macro") = mean(1, 0.5, 0.5)
        let actual = [0, 0, 1, 1, 2, 2];
        let predicted = [0, 0, 1, 2, 2, 1];
        let m = ClassificationMetrics::new(&actual, &predicted, 3);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!(
            (m.f1_macro - (1.0 + 0.5 + 0.5) / 3.0).abs() < 1e-12,
            "{}",
            m.f1_macro
        );
        assert_eq!(
            m.confusion_matrix,
            vec![vec![2, 0, 0], vec![0, 1, 1], vec![0, 1, 1]]
        );
        // A class that never occurs and is never predicted scores 0 in the macro mean.
        let m = ClassificationMetrics::new(&[0, 1], &[0, 1], 3);
        assert!((m.f1_macro - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn regression_matches_hand_computed_values() {
        // y = [3, -0.5, 2, 7], p = [2.5, 0, 2, 8]: sklearn's r2_score example gives 0.9486...
        let m = RegressionMetrics::new(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        assert!((m.r2 - 0.948_608_137_044_967_9).abs() < 1e-9, "{}", m.r2);
        assert!((m.mse - 0.375).abs() < 1e-12);
        assert!((m.mae - 0.5).abs() < 1e-12);
        assert!((m.rmse - 0.375f64.sqrt()).abs() < 1e-12);
        assert_eq!(RegressionMetrics::new(&[1.0, 1.0], &[1.0, 1.0]).r2, 1.0);
        assert_eq!(RegressionMetrics::new(&[1.0, 1.0], &[1.0, 2.0]).r2, 0.0);
    }
}
