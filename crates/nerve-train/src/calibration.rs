//! Calibration: whether a model's probabilities match how often it is right.
//!
//! [`Calibration`] is the reliability table behind a reliability diagram and the expected
//! calibration error (ECE, Naeini et al. 2015; Guo et al. 2017, "On Calibration of Modern
//! Neural Networks"); [`fit_temperature`] is Guo et al.'s temperature scaling.

use serde::{Deserialize, Serialize};

/// Which probability is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalibrationVariant {
    /// Two classes: the positive (second) class's probability against the share of rows that
    /// are positive — scikit-learn's `calibration_curve`.
    PositiveClass,
    /// More classes: the top class's probability (the confidence) against the share of rows
    /// whose top class is right — Guo et al.'s top-label ECE.
    TopLabel,
}

/// One equal-width bin of probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// The bin's lower edge (excluded, except that 0 falls in the first bin).
    pub lower: f64,
    /// The bin's upper edge (included: a probability on an edge goes to the lower bin).
    pub upper: f64,
    /// The rows whose probability falls in the bin (0 for an empty bin, which is kept).
    pub count: usize,
    /// The mean predicted probability of those rows; `None` for an empty bin.
    pub mean_predicted: Option<f64>,
    /// The share of those rows that are positive (or right, for top-label); `None` when empty.
    pub observed: Option<f64>,
}

/// A reliability table and its summary errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Which probability the bins hold.
    pub variant: CalibrationVariant,
    /// Equal-width bins over [0, 1], every one listed (empty ones with count 0).
    pub bins: Vec<CalibrationBin>,
    /// Expected calibration error: `Σ_b (n_b / n) |observed_b − mean_predicted_b|` over the
    /// non-empty bins; NaN without rows.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub ece: f64,
    /// Maximum calibration error: the largest `|observed_b − mean_predicted_b|`.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub mce: f64,
}

impl Calibration {
    /// The number of bins nerve reports by default (scikit-learn's `calibration_curve` default
    /// is 5; Guo et al. use 15; 10 is the common middle).
    pub const BINS: usize = 10;

    /// The reliability table of `probabilities` (row-major, `classes` per row) against the
    /// true class ids `actual`, in `bins` equal-width bins. A probability goes to the bin
    /// counted by the inner edges below it (numpy's `searchsorted`, as scikit-learn's
    /// `calibration_curve` does), with edge `i` computed as `i · (1 / bins)` like
    /// `numpy.linspace`: 0 lands in the first bin, 1 in the last, and a probability on an
    /// inner edge in the bin below it.
    ///
    /// # Panics
    ///
    /// When `bins` is 0 or the shapes do not match.
    pub fn new(probabilities: &[f32], actual: &[usize], classes: usize, bins: usize) -> Self {
        assert!(bins > 0, "at least one bin");
        assert_eq!(
            probabilities.len(),
            actual.len() * classes,
            "one row per class id"
        );
        let variant = if classes == 2 {
            CalibrationVariant::PositiveClass
        } else {
            CalibrationVariant::TopLabel
        };
        let step = 1.0 / bins as f64;
        let edge = |i: usize| i as f64 * step;
        let mut count = vec![0usize; bins];
        let mut sum_predicted = vec![0.0f64; bins];
        let mut sum_observed = vec![0.0f64; bins];
        for (i, &a) in actual.iter().enumerate() {
            let row = &probabilities[i * classes..(i + 1) * classes];
            let (p, hit) = match variant {
                CalibrationVariant::PositiveClass => (f64::from(row[1]), a == 1),
                CalibrationVariant::TopLabel => {
                    let top = crate::threshold::predicted_class(row, None);
                    (f64::from(row[top]), a == top)
                }
            };
            let bin = (1..bins).filter(|&k| edge(k) < p).count();
            count[bin] += 1;
            sum_predicted[bin] += p;
            sum_observed[bin] += f64::from(u8::from(hit));
        }
        let n = actual.len() as f64;
        let (mut ece, mut mce) = (0.0f64, 0.0f64);
        let bins: Vec<CalibrationBin> = (0..bins)
            .map(|b| {
                let (mean_predicted, observed) = if count[b] == 0 {
                    (None, None)
                } else {
                    let c = count[b] as f64;
                    let (m, o) = (sum_predicted[b] / c, sum_observed[b] / c);
                    ece += c / n * (o - m).abs();
                    mce = mce.max((o - m).abs());
                    (Some(m), Some(o))
                };
                CalibrationBin {
                    lower: edge(b),
                    upper: if b + 1 == bins { 1.0 } else { edge(b + 1) },
                    count: count[b],
                    mean_predicted,
                    observed,
                }
            })
            .collect();
        if actual.is_empty() {
            (ece, mce) = (f64::NAN, f64::NAN);
        }
        Calibration {
            variant,
            bins,
            ece,
            mce,
        }
    }
}

/// What [`fit_temperature`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Temperature {
    /// The temperature that minimizes the log loss.
    Fitted(f64),
    /// The log loss keeps falling as `T` goes to 0, past this bound (the rows are separated
    /// perfectly, as rows a model trained on can be): no finite temperature fits.
    BelowRange(f64),
    /// The log loss keeps falling as `T` grows past this bound, where every row's
    /// probabilities are within 1e-4 of uniform: the scores rank the rows no better than chance.
    AboveRange(f64),
    /// Every row's logits are equal (or not finite): no temperature changes any probability.
    Constant,
}

/// How far either way of the logits' own scale the temperature is searched: from `scale ·
/// 1e-4` (logits divided by it differ by 1e4 in a row: probabilities of 0 and 1) to `scale ·
/// 1e4` (they differ by 1e-4: uniform).
const RANGE: f64 = 1e4;

/// The temperature `T > 0` that minimizes the mean negative log-likelihood of
/// `softmax(logits / T)` against `actual` (Guo et al. 2017, temperature scaling; for one
/// logit per row, `sigmoid(z / T)` against 0/1 targets). The likelihood is convex in `1 / T`,
/// hence unimodal in `log T`, and a golden-section search finds the minimum of `log T` to 1e-9
/// — a one-parameter problem needs no optimizer library (PyTorch's reference fits it with
/// LBFGS). The search spans `[s / 1e4, s · 1e4]`, where `s` is the logits' mean spread in a
/// row (max − min; `|z|` for one logit): only the ratio `logits / T` matters, so a model whose
/// logits are a million times larger is fitted as well as any. Dividing logits by `T` keeps
/// each row's most probable class.
///
/// # Panics
///
/// When `logits.len()` is not `actual.len() · width`.
pub fn fit_temperature(logits: &[f32], actual: &[usize], width: usize) -> Temperature {
    assert_eq!(
        logits.len(),
        actual.len() * width,
        "one row of logits per target"
    );
    let spread = |row: &[f32]| -> f64 {
        if width == 1 {
            f64::from(row[0]).abs()
        } else {
            let (min, max) = row
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &z| {
                    (lo.min(f64::from(z)), hi.max(f64::from(z)))
                });
            max - min
        }
    };
    let scale =
        logits.chunks_exact(width.max(1)).map(spread).sum::<f64>() / actual.len().max(1) as f64;
    if !(scale.is_finite() && scale > 0.0) {
        return Temperature::Constant;
    }
    let nll = |log_t: f64| -> f64 {
        let inv = (-log_t).exp();
        let mut total = 0.0;
        for (i, &a) in actual.iter().enumerate() {
            let row = &logits[i * width..(i + 1) * width];
            if width == 1 {
                // −log σ(±z/T), written stably as softplus(∓z/T).
                let z = f64::from(row[0]) * inv;
                let signed = if a == 1 { -z } else { z };
                total += signed.max(0.0) + (-signed.abs()).exp().ln_1p();
            } else {
                let scaled: Vec<f64> = row.iter().map(|&z| f64::from(z) * inv).collect();
                let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + scaled.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
                total += lse - scaled[a];
            }
        }
        total / actual.len().max(1) as f64
    };
    let (lowest, highest) = ((scale / RANGE).ln(), (scale * RANGE).ln());
    let (mut low, mut high) = (lowest, highest);
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = high - ratio * (high - low);
    let mut b = low + ratio * (high - low);
    let (mut fa, mut fb) = (nll(a), nll(b));
    while high - low > 1e-9 {
        if fa <= fb {
            high = b;
            (b, fb) = (a, fa);
            a = high - ratio * (high - low);
            fa = nll(a);
        } else {
            low = a;
            (a, fa) = (b, fb);
            b = low + ratio * (high - low);
            fb = nll(b);
        }
    }
    let log_t = 0.5 * (low + high);
    // Within 1% of an end of the search: the likelihood was still improving there.
    if log_t < lowest + 0.01 {
        Temperature::BelowRange(lowest.exp())
    } else if log_t > highest - 0.01 {
        Temperature::AboveRange(highest.exp())
    } else {
        Temperature::Fitted(log_t.exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0 falls in the first bin, 1 in the last; empty bins stay, with count 0.
    #[test]
    fn edges_and_empty_bins() {
        let probabilities = [1.0f32, 0.0, 0.0, 1.0, 0.45, 0.55];
        let c = Calibration::new(&probabilities, &[0, 1, 1], 2, 10);
        assert_eq!(c.variant, CalibrationVariant::PositiveClass);
        assert_eq!(c.bins.len(), 10);
        assert_eq!(c.bins[0].count, 1);
        assert_eq!(c.bins[9].count, 1);
        assert_eq!(c.bins[5].count, 1);
        assert_eq!(c.bins[3].count, 0);
        assert_eq!(c.bins[3].observed, None);
        // Bin 0: p 0, truth 0 → 0; bin 9: p 1, truth 1 → 0; bin 5: p 0.55, truth 1 → 0.45.
        assert!((c.ece - 0.45 / 3.0).abs() < 1e-7, "{}", c.ece);
        assert!((c.mce - 0.45).abs() < 1e-7);
    }

    /// Three classes use the top class's probability.
    #[test]
    fn top_label_for_more_classes() {
        let probabilities = [0.75f32, 0.15, 0.1, 0.1, 0.25, 0.65];
        let c = Calibration::new(&probabilities, &[0, 1], 3, 10);
        assert_eq!(c.variant, CalibrationVariant::TopLabel);
        assert_eq!(c.bins[7].count, 1);
        assert_eq!(c.bins[6].count, 1);
        assert!((c.ece - 0.5 * (0.25 + 0.65)).abs() < 1e-6, "{}", c.ece);
    }

    /// Logits from a model of known calibration, multiplied by 3: temperature scaling finds
    /// T ≈ 3 and keeps every row's most probable class.
    #[test]
    fn temperature_recovers_a_scaled_model() {
        // Rows drawn from softmax(z): class k with probability softmax(z)_k, deterministic
        // through a fixed low-discrepancy sequence.
        let mut logits = Vec::new();
        let mut actual = Vec::new();
        let mut u = 0.5f64;
        for i in 0..3000 {
            let z = [
                ((i * 7) % 13) as f64 / 6.0 - 1.0,
                ((i * 5) % 11) as f64 / 5.0 - 1.0,
                ((i * 3) % 7) as f64 / 3.0 - 1.0,
            ];
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            u = (u + 0.618_033_988_749_895) % 1.0;
            let mut acc = 0.0;
            let mut class = 2;
            for (k, ek) in e.iter().enumerate() {
                acc += ek / sum;
                if u < acc {
                    class = k;
                    break;
                }
            }
            actual.push(class);
            logits.extend(z.iter().map(|v| (3.0 * v) as f32));
        }
        let Temperature::Fitted(t) = fit_temperature(&logits, &actual, 3) else {
            panic!("no fit");
        };
        assert!((t - 3.0).abs() < 0.3, "T = {t}");
        // The same logits a million times larger (the reported kind: an iris model scaled
        // x1e6), or a million times smaller: T scales with them.
        for factor in [1e6f32, 1e-6] {
            let scaled: Vec<f32> = logits.iter().map(|z| z * factor).collect();
            let Temperature::Fitted(t) = fit_temperature(&scaled, &actual, 3) else {
                panic!("no fit at x{factor}");
            };
            let want = 3.0 * f64::from(factor);
            assert!((t / want - 1.0).abs() < 0.1, "x{factor}: T = {t}");
        }
        // Scores unrelated to the classes (each row's scores twice, once per class): the
        // fit runs off to uniform, and says so.
        let unrelated = [2.0f32, 0.0, 2.0, 0.0];
        assert!(matches!(
            fit_temperature(&unrelated, &[0, 1], 2),
            Temperature::AboveRange(_)
        ));
        // Equal logits in every row: nothing to fit.
        assert_eq!(
            fit_temperature(&[0.5; 9], &[0, 1, 2], 3),
            Temperature::Constant
        );
        // Rows separated perfectly: T runs to 0.
        let separated = [5.0f32, -5.0, -5.0, 5.0];
        assert!(matches!(
            fit_temperature(&separated, &[0, 1], 2),
            Temperature::BelowRange(_)
        ));
    }

    /// One logit per row (bce): the same, with sigmoid.
    #[test]
    fn temperature_for_one_logit() {
        let mut logits = Vec::new();
        let mut actual = Vec::new();
        let mut u = 0.25f64;
        for i in 0..4000 {
            let z = (i % 21) as f64 / 5.0 - 2.0;
            u = (u + 0.618_033_988_749_895) % 1.0;
            actual.push(usize::from(u < 1.0 / (1.0 + (-z).exp())));
            logits.push((2.0 * z) as f32);
        }
        let Temperature::Fitted(t) = fit_temperature(&logits, &actual, 1) else {
            panic!("no fit");
        };
        assert!((t - 2.0).abs() < 0.2, "T = {t}");
    }
}
