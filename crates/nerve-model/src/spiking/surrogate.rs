//! [`Surrogate`]: the derivative that stands in for the spike's while training.

use std::f64::consts::PI;

use burn::prelude::Tensor;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

/// A spike is the Heaviside step `S = H(x)` of the membrane above threshold, `x = U − θ`
/// (`H(0) = 0`, as snnTorch's `x > 0`). Its derivative is zero almost everywhere, so
/// backpropagation through time uses a smooth surrogate `σ'(x)` in its place (Neftci, Mostafa
/// and Zenke, 2019, "Surrogate Gradient Learning in Spiking Neural Networks").
///
/// Each surrogate has a `slope` (`k`; snnTorch's `slope`, or `alpha` for arctan): larger is
/// closer to the step, peaked at `x = 0`. The formulas are snnTorch 1.0's (`snntorch.surrogate`,
/// checked against it in `tests/fixtures/snntorch.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Surrogate {
    /// SuperSpike (Zenke and Ganguli, 2018): `σ'(x) = 1 / (1 + k|x|)²`; default `k = 25`.
    #[default]
    FastSigmoid,
    /// `σ'(x) = (k/2) / (1 + (π/2 · k · x)²)` (Fang et al., 2021); default `k = 2`.
    Arctan,
    /// The logistic's derivative, `σ'(x) = k · e / (1 + e)²` with `e = exp(−k|x|)`: snnTorch's
    /// formula written so it never overflows (its `exp(−kx)` is NaN a few units below
    /// threshold in float32); default `k = 25`.
    Sigmoid,
}

nerve_choice::named_choice!(Surrogate, "surrogate", |s| match s {
    Surrogate::FastSigmoid => &["superspike"],
    Surrogate::Arctan => &["atan"],
    Surrogate::Sigmoid => &[],
});

impl Surrogate {
    /// Every surrogate, in the order listed in help texts.
    pub const ALL: [Surrogate; 3] = [
        Surrogate::FastSigmoid,
        Surrogate::Arctan,
        Surrogate::Sigmoid,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Surrogate::FastSigmoid => "fast-sigmoid",
            Surrogate::Arctan => "arctan",
            Surrogate::Sigmoid => "sigmoid",
        }
    }

    /// snnTorch's default slope for this surrogate.
    pub fn default_slope(self) -> f64 {
        match self {
            Surrogate::FastSigmoid | Surrogate::Sigmoid => 25.0,
            Surrogate::Arctan => 2.0,
        }
    }

    /// The spike `H(x)` (exactly 0 or 1; 0 at `x = 0`) whose gradient is `σ'(x)`.
    ///
    /// Straight-through construction with public tensor ops, so burn's autodiff applies it
    /// with no custom backward: `H(x).detach() + f(x) − f(x).detach()`, where `f` is a
    /// function whose derivative is `σ'`. The value is `H(x)` and the gradient `f'(x)`.
    ///
    /// # Shapes
    ///
    /// `x` and the result: any shape.
    pub fn spike<const D: usize>(self, x: Tensor<D>, slope: f64) -> Tensor<D> {
        let hard = x.clone().greater_elem(0.0).float().detach();
        let soft = match self {
            // f(x) = x / (1 + k|x|)
            Surrogate::FastSigmoid => x.clone() / (x.abs() * slope + 1.0),
            // f(x) = atan(π/2 · k · x) / π
            Surrogate::Arctan => (x * (PI / 2.0 * slope)).atan() / PI,
            // f(x) = logistic(k x), stable in burn for any x
            Surrogate::Sigmoid => activation::sigmoid(x * slope),
        };
        hard + (soft.clone() - soft.detach())
    }

    /// `σ'(x)`, the surrogate derivative [`spike`](Self::spike) backpropagates, in float64.
    pub fn derivative(self, x: f64, slope: f64) -> f64 {
        match self {
            Surrogate::FastSigmoid => 1.0 / (1.0 + slope * x.abs()).powi(2),
            Surrogate::Arctan => slope / 2.0 / (1.0 + (PI / 2.0 * slope * x).powi(2)),
            Surrogate::Sigmoid => {
                let e = (-slope * x.abs()).exp();
                slope * e / (1.0 + e).powi(2)
            }
        }
    }
}
