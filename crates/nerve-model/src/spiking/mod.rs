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
/// and otherwise chosen for the built-in data sets (see docs/spiking.md).
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

/// An estimate of the bytes of activations that training a spiking network keeps at its peak:
/// backpropagation through time holds every time step's tensors of a batch until the backward
/// pass, and after each epoch the trainer traces `trace_rows` rows (which layers fire).
///
/// ```text
/// graph = 4 B · T · batch · (k · (Σ hidden widths + d_output) + e · d_input)
/// trace = 4 B · T · trace_rows · 2 · (2 · Σ hidden widths + d_output)
/// peak  = max(graph, trace)
/// ```
///
/// `k` is the `[batch, width]` f32 tensors autodiff keeps per step and layer: 3 with the
/// fast-sigmoid surrogate (`x / (1 + k|x|)` keeps `x` and its denominator, the next layer's
/// matmul keeps the spikes), 2 with arctan or sigmoid, 2 more when the reset is not detached;
/// `e` is 1.4 for rate and latency encoding (each step's input spikes are kept), 0 for direct.
/// The trace keeps each step's membrane and spikes (measured at up to 1.9 times their size).
/// Measured against peak RSS on digits and iris (T 25–1000, widths 32–1024, flex and ndarray;
/// BENCHMARKS.md "Memory of backpropagation through time"): within 5% where the batch's
/// tensors are large, below the peak by up to 25% where they are small (a few MB), where the
/// process's own ~50 MB dominates. `None` for a rate network.
pub fn training_memory(
    config: &crate::MlpConfig,
    batch: usize,
    trace_rows: usize,
) -> Option<TrainingMemory> {
    let spiking = config.spiking.as_ref()?;
    let kept = match spiking.surrogate {
        Surrogate::FastSigmoid => 3.0,
        Surrogate::Arctan | Surrogate::Sigmoid => 2.0,
    } + if spiking.detach_reset { 0.0 } else { 2.0 };
    let encoded = match spiking.encoding {
        Encoding::Direct => 0.0,
        Encoding::Rate | Encoding::Latency => 1.4,
    };
    let hidden: usize = config.d_hidden.iter().sum();
    let steps = spiking.time_steps as f64;
    let graph = 4.0
        * steps
        * batch as f64
        * (kept * (hidden + config.d_output) as f64 + encoded * config.d_input as f64);
    let trace = 4.0 * steps * trace_rows as f64 * 2.0 * (2 * hidden + config.d_output) as f64;
    Some(TrainingMemory {
        graph: graph as u64,
        trace: trace as u64,
    })
}

/// [`training_memory`]'s estimate, in bytes, by what holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingMemory {
    /// Backpropagation through time of one batch (grows with the batch size).
    pub graph: u64,
    /// The per-epoch trace of up to the trainer's sample of rows (not the batch's).
    pub trace: u64,
}

impl TrainingMemory {
    /// The peak: the larger of the two (they are not held at once).
    pub fn peak(&self) -> u64 {
        self.graph.max(self.trace)
    }
}
