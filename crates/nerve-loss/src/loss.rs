//! [`Loss`]: which loss to train with, and its forward pass.

use burn::nn::loss::{
    BinaryCrossEntropyLossConfig, CrossEntropyLossConfig, HuberLossConfig, MseLoss, Reduction,
};
use burn::prelude::Tensor;
use serde::{Deserialize, Serialize};

use crate::targets::{Targets, TargetsData};

/// A loss function, selectable by name (`mse`, `cross-entropy`, `bce`, `huber`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Mean squared error, `mean((y - ŷ)²)` over every element. For regression.
    #[default]
    Mse,
    /// Softmax cross-entropy from logits, `mean_i(logsumexp(z_i) - z_i[t_i])`, with one integer
    /// class id per row. For classification with one output per class.
    CrossEntropy,
    /// Binary cross-entropy on logits, `mean(max(z,0) - z·y + log(1 + e^-|z|))`, with targets 0
    /// or 1. For binary (or multi-label) classification with one output per label.
    #[serde(rename = "bce", alias = "binary-cross-entropy")]
    BinaryCrossEntropy,
    /// Huber loss with `δ = 1` (PyTorch's default): quadratic for errors below δ, linear above.
    /// For regression that should shrug off outliers.
    Huber,
}

impl Loss {
    /// Every loss, in the order listed in help texts.
    pub const ALL: [Loss; 4] = [
        Loss::Mse,
        Loss::CrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::Huber,
    ];

    /// The threshold δ of [`Loss::Huber`].
    pub const HUBER_DELTA: f32 = 1.0;

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross-entropy",
            Loss::BinaryCrossEntropy => "bce",
            Loss::Huber => "huber",
        }
    }

    /// Whether the loss wants class ids (one column) rather than one target per output.
    pub fn takes_class_ids(self) -> bool {
        self == Loss::CrossEntropy
    }

    /// Computes the loss (mean reduction) of a batch of network outputs against prepared
    /// targets. Only shapes are checked here; values were checked by [`Loss::targets`].
    ///
    /// # Shapes
    ///
    /// - `output`: `[batch_size, d_output]` (logits for the cross-entropies)
    /// - result: `[1]`
    pub fn forward(self, output: Tensor<2>, targets: &Targets) -> Result<Tensor<1>, LossError> {
        if targets.loss() != self {
            return Err(LossError::TargetsForOtherLoss {
                loss: self,
                prepared_for: targets.loss(),
            });
        }
        let [batch_size, d_output] = output.dims();
        if batch_size != targets.len() || d_output != targets.d_output() {
            return Err(LossError::Shape {
                loss: self,
                expected: format!("[{}, {}]", targets.len(), targets.d_output()),
                found: vec![batch_size, d_output],
            });
        }
        if let Some(sample_weights) = targets.sample_weights() {
            return Ok(self.weighted_rows(output, targets, sample_weights.clone()));
        }
        let device = output.device();
        Ok(match (self, targets.data()) {
            (Loss::Mse, TargetsData::Values(y)) => {
                MseLoss::new().forward(output, y.clone(), Reduction::Mean)
            }
            (Loss::Huber, TargetsData::Values(y)) => HuberLossConfig::new(Self::HUBER_DELTA)
                .init()
                .forward(output, y.clone(), Reduction::Mean),
            (Loss::CrossEntropy, TargetsData::Classes(ids)) => {
                let mut loss = CrossEntropyLossConfig::new()
                    .with_logits(true)
                    .init(&device);
                // burn's weighted mean is PyTorch's: Σ w_{y_i} l_i / Σ w_{y_i}.
                loss.weights = targets.class_weights().cloned();
                loss.forward(output, ids.clone())
            }
            (Loss::BinaryCrossEntropy, TargetsData::Binary(y)) => match targets.class_weights() {
                None => BinaryCrossEntropyLossConfig::new()
                    .with_logits(true)
                    .init(&device)
                    .forward(output, y.clone()),
                Some(weights) => {
                    // One logit per row: burn's 1-D form weighs row i by w[y_i] and divides by
                    // the rows; rescaled to divide by Σ w[y_i] instead, the weighted mean.
                    let y = y.clone().flatten::<1>(0, 1);
                    let mut loss = BinaryCrossEntropyLossConfig::new()
                        .with_logits(true)
                        .init(&device);
                    loss.weights = Some(weights.clone());
                    let total = weights.clone().gather(0, y.clone()).sum();
                    loss.forward(output.flatten::<1>(0, 1), y) * batch_size as f64 / total
                }
            },
            // `Loss::targets` stores the form each loss consumes, and the check above makes
            // sure these targets were prepared by this loss.
            (loss, _) => unreachable!("targets prepared by {loss} in a form it does not use"),
        })
    }

    /// The loss with row weights: `Σ w_i l_i / Σ w_i`, where `l_i` is row `i`'s loss (the mean
    /// over its outputs) and `w_i` its sample weight times its class's weight (when set).
    ///
    /// burn's losses weigh classes but not rows, so the per-row losses are taken from burn
    /// where it has them (`forward_no_reduction` of MSE and Huber) and written here from
    /// burn's `log_softmax` and `log_sigmoid` for the cross-entropies, in burn's own forms
    /// (`-log_softmax(z)[t]`; `(1 − y)·z − log σ(z)`). Checked against PyTorch's
    /// `reduction="none"` losses weighted the same way.
    fn weighted_rows(
        self,
        output: Tensor<2>,
        targets: &Targets,
        sample_weights: Tensor<1>,
    ) -> Tensor<1> {
        use burn::tensor::activation::{log_sigmoid, log_softmax};
        let [batch_size, _] = output.dims();
        let per_row = |per_element: Tensor<2>| per_element.mean_dim(1).reshape([batch_size]);
        let losses = match targets.data() {
            TargetsData::Values(y) => match self {
                Loss::Huber => per_row(
                    HuberLossConfig::new(Self::HUBER_DELTA)
                        .init()
                        .forward_no_reduction(output, y.clone()),
                ),
                _ => per_row(MseLoss::new().forward_no_reduction(output, y.clone())),
            },
            TargetsData::Classes(ids) => log_softmax(output, 1)
                .gather(1, ids.clone().reshape([batch_size, 1]))
                .reshape([batch_size])
                .neg(),
            TargetsData::Binary(y) => {
                let y = y.clone().float();
                per_row(y.neg().add_scalar(1.0) * output.clone() - log_sigmoid(output))
            }
        };
        let weights = match (targets.class_weights(), targets.class_ids()) {
            (Some(class_weights), Some(ids)) => {
                sample_weights * class_weights.clone().gather(0, ids)
            }
            _ => sample_weights,
        };
        // A batch of rows that all weigh 0 contributes 0, not 0/0.
        let total = weights.clone().sum().clamp_min(f32::MIN_POSITIVE);
        (losses * weights).sum() / total
    }

    /// Turns raw network outputs into what they predict under this loss: probabilities (sigmoid)
    /// for binary cross-entropy, class probabilities (softmax over each row) for cross-entropy,
    /// the outputs themselves for the regression losses.
    ///
    /// # Shapes
    ///
    /// - `output`, result: `[batch_size, d_output]`
    pub fn predictions(self, output: Tensor<2>) -> Tensor<2> {
        match self {
            Loss::Mse | Loss::Huber => output,
            Loss::CrossEntropy => burn::tensor::activation::softmax(output, 1),
            Loss::BinaryCrossEntropy => burn::tensor::activation::sigmoid(output),
        }
    }

    /// What a network's outputs say under this loss, with one column per class for the class
    /// losses: softmax for cross-entropy, and for bce the single logit's sigmoid `p` as the two
    /// columns `[1 − p, p]` (P of the first class, P of the second); the outputs themselves for
    /// the regression losses. What `nerve predict --proba` prints.
    ///
    /// # Shapes
    ///
    /// - `output`: `[batch_size, d_output]`
    /// - result: `[batch_size, classes]` (2 for bce), or `[batch_size, d_output]` for regression
    pub fn probabilities(self, output: Tensor<2>) -> Tensor<2> {
        match self {
            Loss::BinaryCrossEntropy => {
                let p = burn::tensor::activation::sigmoid(output);
                Tensor::cat(vec![p.clone().neg().add_scalar(1.0), p], 1)
            }
            other => other.predictions(output),
        }
    }

    /// [`Loss::targets`] then [`Loss::forward`]: convenient for one-off evaluations; a training
    /// loop prepares its targets once instead.
    pub fn compute(self, output: Tensor<2>, targets: Tensor<2>) -> Result<Tensor<1>, LossError> {
        let d_output = output.dims()[1];
        let targets = self.targets(targets, d_output)?;
        self.forward(output, &targets)
    }
}

// `binary-cross-entropy`: PyTorch's name for bce.
nerve_choice::named_choice!(Loss, "loss", |loss| match loss {
    Loss::BinaryCrossEntropy => &["binary-cross-entropy"],
    _ => &[],
});

/// Why a loss could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// Outputs and targets whose shapes do not fit together.
    #[error("{loss} loss: expected shape {expected}, found {found:?}")]
    Shape {
        /// The loss being computed.
        loss: Loss,
        /// The shape that fits, written out.
        expected: String,
        /// The shape that was given.
        found: Vec<usize>,
    },
    /// Class weights that do not fit the targets.
    #[error("{loss} loss: {message}")]
    ClassWeights {
        /// The loss.
        loss: Loss,
        /// What does not fit.
        message: String,
    },
    /// Row weights that do not fit the targets.
    #[error("{loss} loss: {message}")]
    SampleWeights {
        /// The loss.
        loss: Loss,
        /// What does not fit.
        message: String,
    },
    /// A cross-entropy target that is not a whole number.
    #[error(
        "cross-entropy target in row {row} (from 0) is {value}, but class ids are whole numbers 0..{num_classes}"
    )]
    NotAClassId {
        /// Row index in the target tensor, from 0.
        row: usize,
        /// The offending value.
        value: f32,
        /// The number of classes (network outputs).
        num_classes: usize,
    },
    /// A cross-entropy class id outside `0..num_classes`.
    #[error(
        "cross-entropy target in row {row} (from 0) is class {value}, but the network has {num_classes} outputs (classes 0..{num_classes})"
    )]
    ClassOutOfRange {
        /// Row index in the target tensor, from 0.
        row: usize,
        /// The offending class id.
        value: f32,
        /// The number of classes (network outputs).
        num_classes: usize,
    },
    /// A binary cross-entropy target that is neither 0 nor 1.
    #[error(
        "binary cross-entropy target in row {row} (from 0), column {column} is {value}; expected 0 or 1"
    )]
    NotBinary {
        /// Row index in the target tensor, from 0.
        row: usize,
        /// Column index in the target tensor, from 0.
        column: usize,
        /// The offending value.
        value: f32,
    },
    /// A NaN or infinite regression target.
    #[error(
        "{loss} target in row {row} (from 0), column {column} is {value}; expected a finite number"
    )]
    NotFinite {
        /// The loss being prepared.
        loss: Loss,
        /// Row index in the target tensor, from 0.
        row: usize,
        /// Column index in the target tensor, from 0.
        column: usize,
        /// The offending value.
        value: f32,
    },
    /// Targets prepared for one loss, used with another.
    #[error("targets prepared for the {prepared_for} loss cannot be used with the {loss} loss")]
    TargetsForOtherLoss {
        /// The loss being computed.
        loss: Loss,
        /// The loss the targets were prepared for.
        prepared_for: Loss,
    },
}
