//! [`Targets`]: target values checked once for a loss and stored in the form it needs.

use burn::prelude::{Int, Tensor, TensorData};

use crate::{Loss, LossError};

/// Targets validated for one [`Loss`] and converted to the tensor it consumes: float values for
/// MSE and Huber, a `[batch_size]` integer tensor of class ids for cross-entropy, an integer
/// 0/1 tensor for binary cross-entropy. They stay on the device; a training loop takes batches
/// with [`Targets::select`] without reading them back.
#[derive(Debug, Clone)]
pub struct Targets {
    loss: Loss,
    d_output: usize,
    data: TargetsData,
    /// One weight per class ([`Targets::with_class_weights`]), on the targets' device.
    class_weights: Option<Tensor<1>>,
    /// One weight per row ([`Targets::with_sample_weights`]), on the targets' device.
    sample_weights: Option<Tensor<1>>,
}

#[derive(Debug, Clone)]
pub(crate) enum TargetsData {
    Values(Tensor<2>),
    Classes(Tensor<1, Int>),
    Binary(Tensor<2, Int>),
}

impl Loss {
    /// Checks `values` against what this loss accepts for a network with `d_output` outputs and
    /// prepares them for [`Loss::forward`]. This reads the values back from the device once.
    ///
    /// # Shapes
    ///
    /// - `values`: `[n, 1]` class ids for cross-entropy, `[n, d_output]` otherwise
    pub fn targets(self, values: Tensor<2>, d_output: usize) -> Result<Targets, LossError> {
        let [rows, columns] = values.dims();
        let expected_columns = if self.takes_class_ids() { 1 } else { d_output };
        if columns != expected_columns {
            return Err(LossError::Shape {
                loss: self,
                expected: format!("[{rows}, {expected_columns}] targets"),
                found: vec![rows, columns],
            });
        }
        let host = values
            .to_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("converted to f32 above");
        let cell = |i: usize| (i / columns, i % columns);
        let data = match self {
            Loss::Mse | Loss::Huber => {
                if let Some(i) = host.iter().position(|v| !v.is_finite()) {
                    let (row, column) = cell(i);
                    return Err(LossError::NotFinite {
                        loss: self,
                        row,
                        column,
                        value: host[i],
                    });
                }
                TargetsData::Values(values)
            }
            Loss::CrossEntropy => {
                for (row, &value) in host.iter().enumerate() {
                    if value.fract() != 0.0 || !value.is_finite() {
                        return Err(LossError::NotAClassId {
                            row,
                            value,
                            num_classes: d_output,
                        });
                    }
                    if value < 0.0 || value >= d_output as f32 {
                        return Err(LossError::ClassOutOfRange {
                            row,
                            value,
                            num_classes: d_output,
                        });
                    }
                }
                let ids: Vec<i64> = host.iter().map(|&v| v as i64).collect();
                let device = values.device();
                TargetsData::Classes(Tensor::from_data(TensorData::new(ids, [rows]), &device))
            }
            Loss::BinaryCrossEntropy => {
                if let Some(i) = host.iter().position(|&v| v != 0.0 && v != 1.0) {
                    let (row, column) = cell(i);
                    return Err(LossError::NotBinary {
                        row,
                        column,
                        value: host[i],
                    });
                }
                TargetsData::Binary(values.int())
            }
        };
        Ok(Targets {
            loss: self,
            d_output,
            data,
            class_weights: None,
            sample_weights: None,
        })
    }
}

impl Targets {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match &self.data {
            TargetsData::Values(t) => t.dims()[0],
            TargetsData::Classes(t) => t.dims()[0],
            TargetsData::Binary(t) => t.dims()[0],
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The network width these targets were checked for.
    pub fn d_output(&self) -> usize {
        self.d_output
    }

    /// The loss these targets were prepared for.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The rows at `indices`, in that order (a mini-batch), staying on the device.
    ///
    /// # Shapes
    ///
    /// - `indices`: `[batch_size]`
    pub fn select(&self, indices: Tensor<1, Int>) -> Targets {
        let data = match &self.data {
            TargetsData::Values(t) => TargetsData::Values(t.clone().select(0, indices.clone())),
            TargetsData::Classes(t) => TargetsData::Classes(t.clone().select(0, indices.clone())),
            TargetsData::Binary(t) => TargetsData::Binary(t.clone().select(0, indices.clone())),
        };
        Targets {
            loss: self.loss,
            d_output: self.d_output,
            data,
            class_weights: self.class_weights.clone(),
            sample_weights: self
                .sample_weights
                .as_ref()
                .map(|w| w.clone().select(0, indices)),
        }
    }

    /// The same targets with one weight per class, for the classification losses: each row's
    /// loss counts with its class's weight, and the loss is the weighted mean `Σ w_{y_i} l_i /
    /// Σ w_{y_i}` (PyTorch's `CrossEntropyLoss(weight=…)`; the same for binary cross-entropy,
    /// whose two classes are 0 and 1).
    ///
    /// # Errors
    ///
    /// A regression loss or a multi-label bce (no class per row), a count of weights other
    /// than the classes, or a weight that is not a positive finite number.
    pub fn with_class_weights(mut self, weights: &[f64]) -> Result<Targets, LossError> {
        let classes = match (&self.data, self.d_output) {
            (TargetsData::Classes(_), d) => d,
            (TargetsData::Binary(_), 1) => 2,
            _ => {
                return Err(LossError::ClassWeights {
                    loss: self.loss,
                    message: "class weights need one class per row (cross-entropy, or bce with one output)".to_owned(),
                });
            }
        };
        if weights.len() != classes {
            return Err(LossError::ClassWeights {
                loss: self.loss,
                message: format!("{} weights for {classes} classes", weights.len()),
            });
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(LossError::ClassWeights {
                loss: self.loss,
                message: format!("a class weight must be a positive number, got {w}"),
            });
        }
        let values: Vec<f32> = weights.iter().map(|&w| w as f32).collect();
        self.class_weights = Some(Tensor::from_data(
            TensorData::new(values, [classes]),
            &self.device(),
        ));
        Ok(self)
    }

    /// The same targets with one weight per row (sample weights, scikit-learn's
    /// `sample_weight`), for every loss: row `i`'s loss `l_i` (for several outputs, the mean
    /// over them) counts with `s_i` — times its class's weight when there are class weights, as
    /// scikit-learn multiplies the two — and the loss is the weighted mean `Σ w_i l_i / Σ w_i`.
    /// A batch whose rows all weigh 0 has loss 0 (and no gradient).
    ///
    /// # Errors
    ///
    /// A count of weights other than the rows, a weight that is negative or not finite, or
    /// weights that are all 0.
    pub fn with_sample_weights(mut self, weights: &[f32]) -> Result<Targets, LossError> {
        let invalid = |message: String| {
            Err(LossError::SampleWeights {
                loss: self.loss,
                message,
            })
        };
        if weights.len() != self.len() {
            return invalid(format!("{} weights for {} rows", weights.len(), self.len()));
        }
        if let Some(row) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return invalid(format!(
                "the weight of row {row} (from 0) is {}; expected a finite number, 0 or more",
                weights[row]
            ));
        }
        if !weights.iter().any(|&w| w > 0.0) {
            return invalid("every row weighs 0".to_owned());
        }
        self.sample_weights = Some(Tensor::from_data(
            TensorData::new(weights.to_vec(), [weights.len()]),
            &self.device(),
        ));
        Ok(self)
    }

    fn device(&self) -> burn::prelude::Device {
        match &self.data {
            TargetsData::Classes(t) => t.device(),
            TargetsData::Binary(t) => t.device(),
            TargetsData::Values(t) => t.device(),
        }
    }

    /// The class weights set by [`Targets::with_class_weights`].
    pub(crate) fn class_weights(&self) -> Option<&Tensor<1>> {
        self.class_weights.as_ref()
    }

    /// The row weights set by [`Targets::with_sample_weights`].
    pub(crate) fn sample_weights(&self) -> Option<&Tensor<1>> {
        self.sample_weights.as_ref()
    }

    /// The class id of each row, for the classification losses (cross-entropy's ids, binary
    /// cross-entropy's 0/1); `None` for the regression losses.
    ///
    /// # Shapes
    ///
    /// - result: `[len]`
    pub fn class_ids(&self) -> Option<Tensor<1, Int>> {
        match &self.data {
            TargetsData::Classes(ids) => Some(ids.clone()),
            TargetsData::Binary(y) => Some(y.clone().flatten(0, 1)),
            TargetsData::Values(_) => None,
        }
    }

    /// The target values, for the regression losses; `None` for the classification losses.
    ///
    /// # Shapes
    ///
    /// - result: `[len, d_output]`
    pub fn values(&self) -> Option<Tensor<2>> {
        match &self.data {
            TargetsData::Values(y) => Some(y.clone()),
            TargetsData::Classes(_) | TargetsData::Binary(_) => None,
        }
    }

    pub(crate) fn data(&self) -> &TargetsData {
        &self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::Device;
    use nerve_backend::BackendKind;

    fn tensor(values: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    /// Class weights give the weighted mean `Σ w_{y_i} l_i / Σ w_{y_i}` (PyTorch's weighted
    /// cross-entropy), for cross-entropy and for single-logit bce, by the formulas.
    #[test]
    fn class_weights_give_the_weighted_mean() {
        for kind in BackendKind::available() {
            let d = kind.device().expect("compiled in");
            let logits = [2.0f32, 0.5, -1.0, 0.1, 0.3, 1.2, -0.4, 2.2, 0.0];
            let ids = [0.0f32, 2.0, 1.0];
            let weights = [1.0, 2.0, 0.5];
            let targets = Loss::CrossEntropy
                .targets(tensor(&ids, [3, 1], &d), 3)
                .unwrap()
                .with_class_weights(&weights)
                .unwrap();
            let got = scalar(
                Loss::CrossEntropy
                    .forward(tensor(&logits, [3, 3], &d), &targets)
                    .unwrap(),
            );
            let (mut sum, mut total) = (0.0f64, 0.0f64);
            for (row, &id) in ids.iter().enumerate() {
                let z: Vec<f64> = logits[row * 3..row * 3 + 3]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect();
                let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
                let w = weights[id as usize];
                sum += w * (lse - z[id as usize]);
                total += w;
            }
            assert!(
                (f64::from(got) - sum / total).abs() < 1e-6,
                "{kind}: {got} vs {}",
                sum / total
            );

            let z = [1.5f32, -0.5, 0.2, -2.0];
            let y = [1.0f32, 0.0, 0.0, 1.0];
            let weights = [0.25, 4.0];
            let targets = Loss::BinaryCrossEntropy
                .targets(tensor(&y, [4, 1], &d), 1)
                .unwrap()
                .with_class_weights(&weights)
                .unwrap();
            let got = scalar(
                Loss::BinaryCrossEntropy
                    .forward(tensor(&z, [4, 1], &d), &targets)
                    .unwrap(),
            );
            let (mut sum, mut total) = (0.0f64, 0.0f64);
            for (&z, &y) in z.iter().zip(&y) {
                let (z, y) = (f64::from(z), f64::from(y));
                let l = z.max(0.0) - z * y + (1.0 + (-z.abs()).exp()).ln();
                let w = weights[y as usize];
                sum += w * l;
                total += w;
            }
            assert!(
                (f64::from(got) - sum / total).abs() < 1e-6,
                "{kind}: {got} vs {}",
                sum / total
            );
            // Equal weights change nothing.
            let plain = Loss::CrossEntropy
                .targets(tensor(&ids, [3, 1], &d), 3)
                .unwrap();
            let equal = plain.clone().with_class_weights(&[3.0, 3.0, 3.0]).unwrap();
            let a = scalar(
                Loss::CrossEntropy
                    .forward(tensor(&logits, [3, 3], &d), &plain)
                    .unwrap(),
            );
            let b = scalar(
                Loss::CrossEntropy
                    .forward(tensor(&logits, [3, 3], &d), &equal)
                    .unwrap(),
            );
            assert!((a - b).abs() < 1e-6, "{kind}");
        }
    }

    #[test]
    fn class_weights_that_do_not_fit_are_refused() {
        let d = BackendKind::default().device().unwrap();
        let ce = Loss::CrossEntropy
            .targets(tensor(&[0.0, 1.0], [2, 1], &d), 3)
            .unwrap();
        for (weights, expected) in [
            (&[1.0, 2.0][..], "2 weights for 3 classes"),
            (&[1.0, 0.0, 1.0][..], "positive number, got 0"),
            (&[1.0, f64::NAN, 1.0][..], "positive number, got NaN"),
        ] {
            let err = ce
                .clone()
                .with_class_weights(weights)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
        }
        let mse = Loss::Mse
            .targets(tensor(&[0.5, 1.0], [2, 1], &d), 1)
            .unwrap();
        let err = mse.with_class_weights(&[1.0, 1.0]).unwrap_err().to_string();
        assert!(err.contains("one class per row"), "{err}");
    }

    #[test]
    fn hand_checked_values() {
        for kind in BackendKind::available() {
            let d = kind.device().expect("compiled in");
            // MSE of [[.5],[2]] vs [[1],[0]] = (0.25 + 4) / 2.
            let mse = Loss::Mse.compute(
                tensor(&[0.5, 2.0], [2, 1], &d),
                tensor(&[1.0, 0.0], [2, 1], &d),
            );
            assert!((scalar(mse.expect("valid")) - 2.125).abs() < 1e-6);
            // Huber(δ=1): 0.5·0.25 = 0.125 and 2 - 0.5 = 1.5, mean 0.8125.
            let huber = Loss::Huber.compute(
                tensor(&[0.5, 2.0], [2, 1], &d),
                tensor(&[1.0, 0.0], [2, 1], &d),
            );
            assert!((scalar(huber.expect("valid")) - 0.8125).abs() < 1e-6);
        }
    }

    #[test]
    fn invalid_targets_are_typed_errors() {
        let d = BackendKind::default().device().expect("compiled in");
        let out = tensor(&[0.0; 6], [3, 2], &d);
        let err = Loss::CrossEntropy
            .compute(out.clone(), tensor(&[0.0, 2.0, 1.0], [3, 1], &d))
            .unwrap_err();
        assert!(
            matches!(
                err,
                LossError::ClassOutOfRange {
                    row: 1,
                    num_classes: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = Loss::CrossEntropy
            .compute(out.clone(), tensor(&[0.0, 0.5, 1.0], [3, 1], &d))
            .unwrap_err();
        assert!(
            matches!(err, LossError::NotAClassId { row: 1, .. }),
            "{err}"
        );
        let err = Loss::CrossEntropy
            .compute(out.clone(), tensor(&[0.0, -1.0, 1.0], [3, 1], &d))
            .unwrap_err();
        assert!(
            matches!(err, LossError::ClassOutOfRange { row: 1, .. }),
            "{err}"
        );
        let err = Loss::BinaryCrossEntropy
            .compute(
                out.clone(),
                tensor(&[0.0, 1.0, 1.0, 0.0, 2.0, 1.0], [3, 2], &d),
            )
            .unwrap_err();
        assert_eq!(
            err,
            LossError::NotBinary {
                row: 2,
                column: 0,
                value: 2.0
            }
        );
        let err = Loss::Mse
            .compute(
                out.clone(),
                tensor(&[0.0, 1.0, f32::NAN, 0.0, 2.0, 1.0], [3, 2], &d),
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                LossError::NotFinite {
                    row: 1,
                    column: 0,
                    ..
                }
            ),
            "{err}"
        );
        let err = Loss::Mse
            .compute(out, tensor(&[0.0; 3], [3, 1], &d))
            .unwrap_err();
        assert!(matches!(err, LossError::Shape { .. }), "{err}");
    }

    #[test]
    fn forward_checks_batch_shape() {
        let d = BackendKind::default().device().expect("compiled in");
        let targets = Loss::Mse
            .targets(tensor(&[0.0; 4], [4, 1], &d), 1)
            .expect("valid");
        let err = Loss::Mse
            .forward(tensor(&[0.0; 3], [3, 1], &d), &targets)
            .unwrap_err();
        assert!(matches!(err, LossError::Shape { .. }));
        let err = Loss::Huber.forward(tensor(&[0.0; 4], [4, 1], &d), &targets);
        assert!(matches!(err, Err(LossError::TargetsForOtherLoss { .. })));
    }

    #[test]
    fn select_takes_rows_in_order() {
        let d = BackendKind::default().device().expect("compiled in");
        let targets = Loss::CrossEntropy
            .targets(tensor(&[0.0, 1.0, 2.0], [3, 1], &d), 3)
            .expect("valid");
        let picked = targets.select(Tensor::from_data(TensorData::new(vec![2i64, 0], [2]), &d));
        assert_eq!(picked.len(), 2);
        let TargetsData::Classes(ids) = picked.data() else {
            panic!("class targets")
        };
        assert_eq!(
            ids.to_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("i64"),
            vec![2, 0]
        );
    }

    #[test]
    fn names_parse() {
        for loss in Loss::ALL {
            assert_eq!(loss.name().parse::<Loss>(), Ok(loss));
        }
        assert_eq!(
            "binary_cross_entropy".parse::<Loss>(),
            Ok(Loss::BinaryCrossEntropy)
        );
        assert!(
            "l1".parse::<Loss>()
                .unwrap_err()
                .contains("expected one of mse")
        );
    }
}
