//! [`Encoding`]: a row of features as input over time steps.

use burn::module::Param;
use burn::prelude::{Device, Module, Tensor, TensorData};
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};

/// How a row's (standardized) features become the first layer's input at each time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// The features as they are, the same input current at every step (snnTorch's tutorials'
    /// "direct" or "current" coding): no information lost, no randomness.
    #[default]
    Direct,
    /// Rate coding: at every step each feature spikes with probability `p` (Bernoulli, from the
    /// device's seeded generator), `p` its value mapped to `[0, 1]` by the training rows' range
    /// (`(x − min) / (max − min)`, clamped). Over many steps the mean spike is `p`. The gradient
    /// with respect to the features is that of `p` (straight-through on the expectation).
    Rate,
    /// Latency coding: each feature spikes once, at step `round((1 − p) (T − 1))` with `p` as
    /// for rate coding — the larger the value, the earlier (snnTorch's `spikegen.latency` with
    /// `linear=True`); a feature at its training minimum fires at the last step. Spike times
    /// have no gradient with respect to the features.
    Latency,
}

nerve_choice::named_choice!(Encoding, "encoding", |e| match e {
    Encoding::Direct => &["current"],
    Encoding::Rate => &[],
    Encoding::Latency => &["time-to-first-spike", "ttfs"],
});

impl Encoding {
    /// Every encoding, in the order listed in help texts.
    pub const ALL: [Encoding; 3] = [Encoding::Direct, Encoding::Rate, Encoding::Latency];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Direct => "direct",
            Encoding::Rate => "rate",
            Encoding::Latency => "latency",
        }
    }
}

/// The training rows' range of each input (`encoder.low`, `encoder.high`, shape `[d_input]`),
/// which maps features to spike probabilities. Never trained.
#[derive(Module, Debug)]
pub struct InputRange {
    pub(crate) low: Param<Tensor<1>>,
    pub(crate) high: Param<Tensor<1>>,
}

impl InputRange {
    /// A range from per-input minima and maxima.
    ///
    /// # Panics
    ///
    /// If `low` and `high` differ in length.
    pub fn new(low: Vec<f32>, high: Vec<f32>, device: &Device) -> Self {
        assert_eq!(
            low.len(),
            high.len(),
            "one minimum and one maximum per input"
        );
        let n = low.len();
        let param = |v: Vec<f32>| {
            Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v, [n]), device))
        };
        InputRange {
            low: param(low),
            high: param(high),
        }
    }

    /// The range of the rows of `x` (`[rows, d_input]`), per input.
    pub fn of_rows(x: &Tensor<2>) -> Self {
        let [_, d] = x.dims();
        let low = x.clone().detach().min_dim(0).reshape([d]);
        let high = x.clone().detach().max_dim(0).reshape([d]);
        InputRange {
            low: Param::from_tensor(low),
            high: Param::from_tensor(high),
        }
    }

    /// `(x − low) / (high − low)`, clamped to `[0, 1]` (0 where an input never varied).
    ///
    /// # Shapes
    ///
    /// `x`: `[batch, d_input]`; the result too.
    pub(crate) fn probabilities(&self, x: Tensor<2>) -> Tensor<2> {
        let [_, d] = x.dims();
        let low = self.low.val().detach().reshape([1, d]);
        let width = (self.high.val().detach().reshape([1, d]) - low.clone()).clamp_min(1e-12);
        ((x - low) / width).clamp(0.0, 1.0)
    }
}

/// A batch's input at each time step.
pub(crate) enum Encoded {
    /// The same input every step.
    Constant(Tensor<2>),
    /// Spike probabilities, drawn anew at every step.
    Rate(Tensor<2>),
    /// Each input's firing step (`[batch, d_input]`, whole numbers).
    Latency(Tensor<2>),
}

impl Encoded {
    /// Encodes `x` (`[batch, d_input]`) for `time_steps` steps.
    pub(crate) fn new(
        encoding: Encoding,
        x: Tensor<2>,
        range: Option<&InputRange>,
        time_steps: usize,
    ) -> Self {
        let probabilities = |x: Tensor<2>| match range {
            Some(range) => range.probabilities(x),
            // A network built without data: features taken as probabilities already.
            None => x.clamp(0.0, 1.0),
        };
        match encoding {
            Encoding::Direct => Encoded::Constant(x),
            Encoding::Rate => Encoded::Rate(probabilities(x)),
            Encoding::Latency => {
                let p = probabilities(x).detach();
                Encoded::Latency(((p.neg() + 1.0) * (time_steps.saturating_sub(1)) as f64).round())
            }
        }
    }

    /// The input at step `t`, `[batch, d_input]`.
    pub(crate) fn at(&self, t: usize) -> Tensor<2> {
        match self {
            Encoded::Constant(x) => x.clone(),
            Encoded::Rate(p) => {
                let uniform = p.random_like(Distribution::Default);
                let spikes = uniform.lower(p.clone().detach()).float();
                // Straight-through: the value is the spike, the gradient that of p.
                spikes + (p.clone() - p.clone().detach())
            }
            Encoded::Latency(step) => step.clone().equal_elem(t as f64).float(),
        }
    }
}
