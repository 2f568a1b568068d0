//! [`Explanation`]: integrated gradients' attributions summed to features, their mean sizes
//! per output, and the direction of a single-output model's ([`Direction`]).

use nerve_data::Preprocessor;
use nerve_model::Attributions;

/// Attributions per output, row and feature (a source column, or one-hot input with
/// `--by-category`), in the target's units for regression.
pub(super) struct Explanation {
    /// The features: source columns, or one-hot inputs with `--by-category`.
    pub(super) features: Vec<String>,
    /// The outputs' names: the classes, or the target.
    pub(super) outputs: Vec<String>,
    /// `values[k][row][feature]`.
    pub(super) values: Vec<Vec<Vec<f64>>>,
}

impl Explanation {
    /// Sums the inputs of each feature and scales to the target's units.
    pub(super) fn new(attributions: &Attributions, p: &Preprocessor, by_category: bool) -> Self {
        let input_features: Vec<String> = if by_category {
            p.input_names()
        } else {
            p.input_columns().into_iter().map(str::to_owned).collect()
        };
        let mut features: Vec<String> = Vec::new();
        let mut index = Vec::with_capacity(input_features.len());
        for name in input_features {
            match features.iter().position(|f| *f == name) {
                Some(i) => index.push(i),
                None => {
                    index.push(features.len());
                    features.push(name);
                }
            }
        }
        let outputs: Vec<String> = match p.labels() {
            // A single bce logit is the second class's.
            Some(labels) if attributions.d_output() == 1 => vec![labels[labels.len() - 1].clone()],
            Some(labels) => labels.to_vec(),
            None => vec![p.target_name().to_owned()],
        };
        let scale = p.target_scale();
        let values = (0..attributions.d_output())
            .map(|k| {
                (0..attributions.rows())
                    .map(|row| {
                        let mut sums = vec![0.0f64; features.len()];
                        for (&f, &a) in index.iter().zip(attributions.row(k, row)) {
                            sums[f] += f64::from(a) * scale;
                        }
                        sums
                    })
                    .collect()
            })
            .collect();
        Explanation {
            features,
            outputs,
            values,
        }
    }

    /// The one direction a regression or binary model's answer moves in, and each row's signed
    /// attribution to it; `None` for more than two classes.
    ///
    /// Regression: the target's value, in its units. Binary: the log-odds of the second class,
    /// its logit with one output (BCE) or the difference of the two logits with two (softmax):
    /// integrated gradients is linear in the output it explains, so the attributions of
    /// `z₁ − z₀` are those of `z₁` minus those of `z₀` (Sundararajan et al., 2017, "Axiomatic
    /// Attribution for Deep Networks", the linearity axiom).
    pub(super) fn direction(&self, p: &Preprocessor) -> Option<Direction> {
        // Labels of any length are cut as table cells are (they name the legend and columns).
        let cut = crate::output::shorten_cell;
        let labels = p.labels();
        let (positive, negative, rows) = match (labels, self.values.as_slice()) {
            (None, [values]) => (
                format!("raises {}", cut(p.target_name())),
                format!("lowers {}", cut(p.target_name())),
                values.clone(),
            ),
            (Some([away, towards]), [values]) => (
                format!("towards {towards}"),
                format!("towards {away}"),
                values.clone(),
            ),
            (Some([away, towards]), [zero, one]) => (
                format!("towards {}", cut(towards)),
                format!("towards {}", cut(away)),
                one.iter()
                    .zip(zero)
                    .map(|(a, b)| a.iter().zip(b).map(|(a, b)| a - b).collect())
                    .collect(),
            ),
            _ => return None,
        };
        let n = rows.len().max(1) as f64;
        let mean_part = |keep: fn(f64) -> f64| -> Vec<f64> {
            (0..self.features.len())
                .map(|f| rows.iter().map(|row| keep(row[f])).sum::<f64>() / n)
                .collect()
        };
        Some(Direction {
            positive: (positive, mean_part(|a| a.max(0.0))),
            negative: (negative, mean_part(|a| a.min(0.0))),
        })
    }

    /// Per output, the mean absolute attribution of each feature over the rows.
    pub(super) fn mean_abs(&self) -> Vec<Vec<f64>> {
        self.values
            .iter()
            .map(|rows| {
                let mut sums = vec![0.0f64; self.features.len()];
                for row in rows {
                    for (s, a) in sums.iter_mut().zip(row) {
                        *s += a.abs();
                    }
                }
                sums.iter().map(|s| s / rows.len().max(1) as f64).collect()
            })
            .collect()
    }
}

/// Per feature, the mean over the rows of the positive parts and of the negative parts of its
/// attribution to one direction (see [`Explanation::direction`]), each with what it means
/// (`towards malignant`, `lowers progression`).
pub(super) struct Direction {
    /// What the positive parts mean, and their means per feature.
    pub(super) positive: (String, Vec<f64>),
    /// What the negative parts mean, and their means per feature.
    pub(super) negative: (String, Vec<f64>),
}
