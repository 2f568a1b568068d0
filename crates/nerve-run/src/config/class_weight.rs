//! `[loss]`: the loss and scikit-learn's class weights.

use nerve_loss::Loss;
use serde::{Deserialize, Serialize};

use crate::{Result, RunError};

/// The `[loss]` table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    /// The loss; chosen by the task when omitted (cross-entropy for classes, MSE for values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Loss>,
    /// Class weights for the classification losses: `"balanced"` or a table of class name to
    /// weight (classes not named weigh 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeight>,
}

/// `--class-weight`: scikit-learn's `class_weight`, `balanced` or explicit weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "ClassWeightText")]
pub enum ClassWeight {
    /// `n_samples / (n_classes · bincount(y))` over the training rows (scikit-learn's
    /// `compute_class_weight("balanced")`): each class weighs as much as the others in total.
    Balanced(Balanced),
    /// A weight per class name; classes not named weigh 1.
    Explicit(std::collections::BTreeMap<String, f64>),
}

/// The one named class weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balanced {
    /// `balanced`.
    Balanced,
}

/// How `class_weight` is written in a config: a string (`"balanced"`, `"No=1,Yes=4"`) or a
/// table of class name to weight. Read through this so a typo gets [`ClassWeight`]'s message
/// rather than serde's "did not match any variant".
#[derive(Deserialize)]
#[serde(untagged)]
enum ClassWeightText {
    Text(String),
    Table(std::collections::BTreeMap<String, f64>),
}

impl TryFrom<ClassWeightText> for ClassWeight {
    type Error = String;

    fn try_from(text: ClassWeightText) -> Result<Self, Self::Error> {
        match text {
            ClassWeightText::Text(text) => text.parse(),
            ClassWeightText::Table(table) => Ok(ClassWeight::Explicit(table)),
        }
    }
}

impl std::str::FromStr for ClassWeight {
    type Err = String;

    /// `balanced`, or `NAME=WEIGHT,NAME=WEIGHT` (a name may hold `=`: the last one splits).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("balanced") {
            return Ok(ClassWeight::Balanced(Balanced::Balanced));
        }
        let mut weights = std::collections::BTreeMap::new();
        for pair in text.split(',') {
            let Some((name, weight)) = pair.rsplit_once('=') else {
                return Err(format!(
                    "`{pair}` is not CLASS=WEIGHT; expected `balanced` or e.g. `No=1,Yes=4`"
                ));
            };
            let weight: f64 = weight
                .trim()
                .parse()
                .map_err(|_| format!("the weight of class `{name}` is `{weight}`, not a number"))?;
            weights.insert(name.trim().to_owned(), weight);
        }
        Ok(ClassWeight::Explicit(weights))
    }
}

impl std::fmt::Display for ClassWeight {
    /// As `--class-weight` takes it: `balanced` or `No=1,Yes=4`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassWeight::Balanced(_) => f.write_str("balanced"),
            ClassWeight::Explicit(weights) => {
                let pairs: Vec<String> = weights.iter().map(|(k, w)| format!("{k}={w}")).collect();
                f.write_str(&pairs.join(","))
            }
        }
    }
}

impl ClassWeight {
    /// One weight per class id for `labels`, from the training rows' class ids `train`.
    ///
    /// # Errors
    ///
    /// A class with no training rows (balanced), a name that is not a class, or a weight that
    /// is not a positive number; each named.
    pub fn resolve(&self, labels: &[String], train: &[f32]) -> Result<Vec<f64>> {
        match self {
            ClassWeight::Balanced(_) => {
                let mut counts = vec![0usize; labels.len()];
                for &t in train {
                    if let Some(count) = counts.get_mut(t as usize) {
                        *count += 1;
                    }
                }
                let n = train.len() as f64;
                let c = labels.len() as f64;
                counts
                    .iter()
                    .zip(labels)
                    .map(|(&count, label)| {
                        if count == 0 {
                            return Err(RunError::setting(format!(
                                "--class-weight balanced: class `{label}` has no training rows, so its weight n / (classes · 0) is undefined; give explicit weights or more rows of it"
                            )));
                        }
                        Ok(n / (c * count as f64))
                    })
                    .collect()
            }
            ClassWeight::Explicit(named) => {
                let mut weights = vec![1.0; labels.len()];
                for (name, &weight) in named {
                    let Some(k) = labels.iter().position(|l| l == name) else {
                        return Err(RunError::setting(format!(
                            "--class-weight: `{name}` is not a class; the classes are {}",
                            labels
                                .iter()
                                .map(|l| format!("`{l}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    };
                    if !(weight.is_finite() && weight > 0.0) {
                        return Err(RunError::setting(format!(
                            "--class-weight: the weight of class `{name}` must be a positive number, got {weight}"
                        )));
                    }
                    weights[k] = weight;
                }
                Ok(weights)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10/18, 10/9, 10/3; a class absent from the training rows is an error, not infinity.
    #[test]
    fn balanced_class_weights_are_scikit_learns() {
        let labels: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        let train: Vec<f32> = [0.0; 6].into_iter().chain([1.0; 3]).chain([2.0]).collect();
        let balanced: ClassWeight = "balanced".parse().unwrap();
        let weights = balanced.resolve(&labels, &train).unwrap();
        for (w, expected) in weights.iter().zip([10.0 / 18.0, 10.0 / 9.0, 10.0 / 3.0]) {
            assert!((w - expected).abs() < 1e-12, "{weights:?}");
        }
        let err = balanced
            .resolve(&labels, &[0.0, 1.0])
            .unwrap_err()
            .to_string();
        assert!(err.contains("class `c` has no training rows"), "{err}");
        let explicit: ClassWeight = "c=4,a=0.5".parse().unwrap();
        assert_eq!(
            explicit.resolve(&labels, &train).unwrap(),
            vec![0.5, 1.0, 4.0]
        );
        for (text, expected) in [
            ("d=2", "`d` is not a class; the classes are `a`, `b`, `c`"),
            (
                "a=-1",
                "the weight of class `a` must be a positive number, got -1",
            ),
        ] {
            let spec: ClassWeight = text.parse().unwrap();
            let err = spec.resolve(&labels, &train).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        assert!(
            "a:2"
                .parse::<ClassWeight>()
                .unwrap_err()
                .contains("not CLASS=WEIGHT")
        );
        assert!(
            "a=x"
                .parse::<ClassWeight>()
                .unwrap_err()
                .contains("not a number")
        );
        // In a config: a string, a table, and a typo named by the same message.
        let read = |text: &str| toml::from_str::<LossSection>(text);
        assert_eq!(
            read("class_weight = \"balanced\"").unwrap().class_weight,
            Some(ClassWeight::Balanced(Balanced::Balanced))
        );
        assert_eq!(
            read("class_weight = { c = 4.0 }").unwrap().class_weight,
            Some(ClassWeight::Explicit([("c".to_owned(), 4.0)].into()))
        );
        let err = read("class_weight = \"balance\"").unwrap_err().to_string();
        assert!(
            err.contains("expected `balanced` or e.g. `No=1,Yes=4`"),
            "{err}"
        );
    }
}
