//! Spiking networks: the [`Mlp`](crate::Mlp)'s linear layers as synapses between leaky
//! integrate-and-fire neurons, run over time steps and trained by backpropagation through time
//! with surrogate gradients.
//!
//! A spiking [`Mlp`](crate::Mlp) (its [`MlpConfig::spiking`](crate::MlpConfig::spiking) set) has
//! the same `layers.{i}` as a rate network. Each row is turned into input over
//! [`time_steps`](SpikingConfig::time_steps) by the [`Encoding`]; at every step each hidden layer's
//! current `I = x W + b` (from the layer below's spikes) drives its [`Neuron`]s, which leak,
//! integrate, fire and reset; the output layer's neurons integrate without firing (or fire, for
//! [`Readout::SpikeCount`]) and the [`Readout`] turns their membrane over time into the outputs
//! the losses read. burn's autodiff differentiates the unrolled steps; the spike's derivative is
//! the [`Surrogate`]'s.
//!
//! The dynamics are snnTorch 1.0's `Leaky` and `Synaptic` (checked value by value and gradient by
//! gradient in `tests/fixtures/snntorch.json`).

mod encoding;
mod network;
mod neuron;
mod surrogate;

pub use encoding::{Encoding, InputRange};
pub use network::{LayerNeurons, LayerTrace, SpikeTrace};
pub(crate) use neuron::NeuronParams;
pub use neuron::{Neuron, Reset};
pub use surrogate::Surrogate;

use serde::{Deserialize, Serialize};

/// The spiking part of a network's description: neuron model, time, threshold, training.
///
/// Defaults are snnTorch's where it has one (threshold 1, reset by subtraction, detached reset)
/// and otherwise chosen for the built-in data sets (see the README's "Spiking neurons").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpikingConfig {
    /// The neuron model of every layer.
    pub neuron: Neuron,
    /// Time steps `T` each row is presented for (backpropagation runs through all of them).
    pub time_steps: usize,
    /// Membrane decay per step, `β` in `[0, 1]`: `U[t+1] = β U[t] + ...` (1: no leak).
    pub beta: f64,
    /// Synaptic current decay per step, `α` in `[0, 1]` ([`Neuron::Synaptic`] only).
    pub alpha: f64,
    /// Firing threshold `θ` (> 0), in the units of the membrane potential.
    pub threshold: f64,
    /// Learn `β` (one per layer) with the weights.
    pub learn_beta: bool,
    /// Learn `θ` (one per layer) with the weights.
    pub learn_threshold: bool,
    /// What a spike does to the membrane.
    pub reset: Reset,
    /// Stop the gradient through the reset (snnTorch's behaviour): with it, `∂U[t+1]/∂U[t] = β`
    /// exactly; without, the reset's surrogate gradient works against learning.
    pub detach_reset: bool,
    /// The surrogate derivative of the spike.
    pub surrogate: Surrogate,
    /// The surrogate's slope; `None`: its default ([`Surrogate::default_slope`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slope: Option<f64>,
    /// How a row becomes input over time.
    pub encoding: Encoding,
    /// How the output layer's activity over time becomes the network's outputs.
    pub readout: Readout,
}

impl Default for SpikingConfig {
    fn default() -> Self {
        Self {
            neuron: Neuron::default(),
            time_steps: 25,
            beta: 0.9,
            alpha: 0.8,
            threshold: 1.0,
            learn_beta: false,
            learn_threshold: false,
            reset: Reset::default(),
            detach_reset: true,
            surrogate: Surrogate::default(),
            slope: None,
            encoding: Encoding::default(),
            readout: Readout::default(),
        }
    }
}

/// More time steps than this is surely a typo (each step keeps its activations for backprop).
pub const MAX_TIME_STEPS: usize = 10_000;

impl SpikingConfig {
    /// The surrogate's slope: the configured one or the surrogate's default.
    pub fn slope(&self) -> f64 {
        self.slope.unwrap_or_else(|| self.surrogate.default_slope())
    }

    /// What is wrong with the settings, if anything, naming the field.
    pub fn problem(&self) -> Option<String> {
        if self.time_steps == 0 || self.time_steps > MAX_TIME_STEPS {
            return Some(format!(
                "`time_steps` must be from 1 to {MAX_TIME_STEPS}, got {}",
                self.time_steps
            ));
        }
        if self.encoding == Encoding::Latency && self.time_steps < 2 {
            return Some(
                "`time_steps` must be at least 2 with latency coding: in one step every input fires at once, whatever its value".to_owned(),
            );
        }
        let unit = |name: &str, v: f64| {
            (!(0.0..=1.0).contains(&v)).then(|| format!("`{name}` must be in [0, 1], got {v}"))
        };
        if let Some(problem) = unit("beta", self.beta) {
            return Some(problem);
        }
        if let Some(problem) = unit("alpha", self.alpha) {
            return Some(problem);
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Some(format!(
                "`threshold` must be a positive number, got {}",
                self.threshold
            ));
        }
        if let Some(slope) = self.slope
            && !(slope.is_finite() && slope > 0.0)
        {
            return Some(format!("`slope` must be a positive number, got {slope}"));
        }
        None
    }
}

/// How the output layer's activity over the time steps becomes the network's outputs (the
/// logits or values the losses read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readout {
    /// The output neurons integrate without firing (snnTorch's `reset_mechanism="none"`); the
    /// output is their membrane's mean over the steps (the sum divided by `T`, so its scale
    /// does not grow with `T`).
    #[default]
    MeanMembrane,
    /// As `mean-membrane`, the membrane's largest value over the steps.
    MaxMembrane,
    /// The output neurons fire like the hidden ones; the output is each one's spike count
    /// (snnTorch's `ce_count_loss` reads these as logits).
    SpikeCount,
}

nerve_choice::named_choice!(Readout, "readout");

impl Readout {
    /// Every readout, in the order listed in help texts.
    pub const ALL: [Readout; 3] = [
        Readout::MeanMembrane,
        Readout::MaxMembrane,
        Readout::SpikeCount,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Readout::MeanMembrane => "mean-membrane",
            Readout::MaxMembrane => "max-membrane",
            Readout::SpikeCount => "spike-count",
        }
    }
}

#[cfg(test)]
mod tests;
