//! JSON has no NaN: serde_json writes a non-finite `f64` as `null`. [`or_null`] reads that
//! `null` back as NaN, so a report holding a diverged loss or an undefined score (written by
//! this crate's `Serialize`) reads back instead of failing. Use it on any such field:
//! `#[serde(deserialize_with = "nerve_train::non_finite::or_null")]`.

use serde::{Deserialize, Deserializer};

/// Reads a number, or `null` as NaN.
///
/// # Errors
/// The value is neither a number nor `null`.
pub fn or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use crate::{PartMetrics, RegressionMetrics, Scores};

    #[test]
    fn a_non_finite_score_reads_back_as_nan() {
        let metrics = PartMetrics {
            rows: 3,
            loss: f64::NAN,
            scores: Scores::Regression(RegressionMetrics {
                mse: f64::INFINITY,
                rmse: 1.0,
                mae: 1.0,
                r2: f64::NAN,
            }),
        };
        let text = serde_json::to_string(&metrics).expect("serializes");
        assert!(text.contains("\"loss\":null"), "{text}");
        let back: PartMetrics = serde_json::from_str(&text).expect("reads back");
        assert!(back.loss.is_nan());
        let Scores::Regression(scores) = back.scores else {
            panic!("regression scores: {text}");
        };
        assert!(scores.mse.is_nan() && scores.r2.is_nan());
        assert_eq!(scores.rmse, 1.0);
        assert!(serde_json::from_str::<PartMetrics>(&text.replace("null", "\"x\"")).is_err());
    }
}
