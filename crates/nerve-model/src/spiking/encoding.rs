//! [`Encoding`]: a row of features as input over time steps.

use burn::module::Param;
use burn::prelude::{Device, Module, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// How a row's (standardized) features become the first layer's input at each time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// The features as they are, the same input current at every step (snnTorch's tutorials'
    /// "direct" or "current" coding): no information lost, no randomness.
    #[default]
    Direct,
    /// Rate coding: at every step each feature spikes with probability `p` (Bernoulli), `p` its
    /// value mapped to `[0, 1]` by the training rows' range (`(x − min) / (max − min)`,
    /// clamped). Over many steps the mean spike is `p`. The draws come from a generator seeded
    /// by the row's own values (and the step), so a row gets the same spike train in training,
    /// `eval` and `predict`, whatever its batch or its position in it. The gradient with
    /// respect to the features is that of `p` (straight-through on the expectation).
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
    /// Spike probabilities, and each row's seed for its draws.
    Rate(Tensor<2>, Vec<u64>),
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
            Encoding::Rate => {
                let seeds = row_seeds(&x);
                Encoded::Rate(probabilities(x), seeds)
            }
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
            Encoded::Rate(p, seeds) => {
                let [rows, d] = p.dims();
                let mut draws = Vec::with_capacity(rows * d);
                for &seed in seeds {
                    let mut state = seed ^ (t as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                    draws.extend((0..d).map(|_| unit_interval(splitmix64(&mut state))));
                }
                let uniform =
                    Tensor::<2>::from_data(TensorData::new(draws, [rows, d]), &p.device());
                let spikes = uniform.lower(p.clone().detach()).float();
                // Straight-through: the value is the spike, the gradient that of p.
                spikes + (p.clone() - p.clone().detach())
            }
            Encoded::Latency(step) => step.clone().equal_elem(t as f64).float(),
        }
    }
}

/// Each row's seed: its features' bits folded by SplitMix64's finaliser, so equal rows get equal
/// seeds and the draws depend on nothing else.
fn row_seeds(x: &Tensor<2>) -> Vec<u64> {
    let [rows, d] = x.dims();
    let values = crate::activity::read(x.clone().detach());
    (0..rows)
        .map(|r| {
            let mut seed = 0x243F_6A88_85A3_08D3; // π's first fraction bits
            for v in &values[r * d..(r + 1) * d] {
                seed ^= u64::from(v.to_bits());
                splitmix64(&mut seed);
            }
            seed
        })
        .collect()
}

/// SplitMix64 (Steele, Lea and Flood, 2014, "Fast splittable pseudorandom number generators";
/// Vigna's public-domain reference): advances `state` and returns the next output. Written out
/// because its values are fixed by definition, so a saved rate-coded model predicts the same on
/// every nerve version, which `rand`'s `StdRng` does not promise.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in `[0, 1)` from 24 random bits (exact in f32).
fn unit_interval(bits: u64) -> f32 {
    (bits >> 40) as f32 / (1u64 << 24) as f32
}
