//! [`Neuron`] models and one layer's step through time.

use burn::module::Param;
use burn::prelude::{Device, Module, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{SpikingConfig, Surrogate};

/// The neuron model of a spiking layer. Both reset one step late, from the previous step's
/// membrane (snnTorch's default `reset_delay`), and fire `S[t] = H(U[t] − θ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Neuron {
    /// Leaky integrate-and-fire (snnTorch's `Leaky`, Lapicque's model discretised):
    /// `U[t] = β U[t−1] + I[t] − R[t] θ`, with `R[t] = H(U[t−1] − θ)` (reset by subtraction).
    #[default]
    Lif,
    /// Second-order LIF with a synaptic current (snnTorch's `Synaptic`): the input charges a
    /// current that decays by `α`, which charges the membrane: `I_syn[t] = α I_syn[t−1] + I[t]`,
    /// `U[t] = β U[t−1] + I_syn[t] − R[t] θ`. Inputs act over several steps, as a synapse's
    /// current does.
    Synaptic,
}

nerve_choice::named_choice!(Neuron, "neuron", |n| match n {
    Neuron::Lif => &["leaky"],
    Neuron::Synaptic => &["synaptic-lif"],
});

impl Neuron {
    /// Every neuron model, in the order listed in help texts.
    pub const ALL: [Neuron; 2] = [Neuron::Lif, Neuron::Synaptic];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Neuron::Lif => "lif",
            Neuron::Synaptic => "synaptic",
        }
    }
}

/// What a spike does to the membrane at the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reset {
    /// Subtract the threshold: `U[t] = β U[t−1] + I[t] − θ` after a spike, so charge above
    /// threshold carries over.
    #[default]
    Subtract,
    /// Back to zero. As snnTorch: LIF `U[t] = β (1 − R) U[t−1] + I[t]` (the step's input still
    /// arrives); synaptic `U[t] = (1 − R) (β U[t−1] + I_syn[t])`, its current not reset.
    Zero,
}

nerve_choice::named_choice!(Reset, "reset");

impl Reset {
    /// Every reset, in the order listed in help texts.
    pub const ALL: [Reset; 2] = [Reset::Subtract, Reset::Zero];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Reset::Subtract => "subtract",
            Reset::Zero => "zero",
        }
    }
}

/// One layer's neuron parameters: `β`, `θ` and (synaptic) `α`, one value each (shape `[1]`),
/// stored as `neurons.{i}.beta`, `.threshold`, `.alpha`. Parameters so that they can be learned;
/// when not learned they are read as constants, so no gradient reaches them.
#[derive(Module, Debug)]
pub(crate) struct NeuronParams {
    pub(crate) beta: Param<Tensor<1>>,
    pub(crate) threshold: Param<Tensor<1>>,
    pub(crate) alpha: Option<Param<Tensor<1>>>,
}

impl NeuronParams {
    pub(crate) fn new(config: &SpikingConfig, device: &Device) -> Self {
        let one = |v: f64| {
            Param::from_tensor(Tensor::<1>::from_data(
                TensorData::new(vec![v as f32], [1]),
                device,
            ))
        };
        NeuronParams {
            beta: one(config.beta),
            threshold: one(config.threshold),
            alpha: (config.neuron == Neuron::Synaptic).then(|| one(config.alpha)),
        }
    }
}

/// A coefficient of the dynamics: a constant, or a learned one-element tensor (kept in the
/// graph so it gets a gradient).
#[derive(Clone)]
enum Coefficient {
    Fixed(f64),
    Learned(Box<Tensor<2>>),
}

impl Coefficient {
    fn of(param: &Param<Tensor<1>>, learned: bool, clamp_to_unit: bool) -> Self {
        let value = param.val();
        let value = if clamp_to_unit {
            value.clamp(0.0, 1.0)
        } else {
            value
        };
        if learned {
            Coefficient::Learned(Box::new(value.reshape([1, 1])))
        } else {
            Coefficient::Fixed(f64::from(value.detach().into_scalar::<f32>()))
        }
    }

    fn times(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Coefficient::Fixed(c) => x * *c,
            Coefficient::Learned(c) => x * (**c).clone(),
        }
    }

    /// `x − c`.
    fn subtracted_from(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Coefficient::Fixed(c) => x - *c,
            Coefficient::Learned(c) => x - (**c).clone(),
        }
    }
}

/// A layer's dynamics for one forward pass: its coefficients read once.
pub(crate) struct Dynamics {
    neuron: Neuron,
    reset: Reset,
    detach_reset: bool,
    surrogate: Surrogate,
    slope: f64,
    beta: Coefficient,
    alpha: Option<Coefficient>,
    threshold: Coefficient,
}

/// A layer's state between steps: membrane and (synaptic) current, `[batch, width]`; `None`
/// before the first step (zero, as a fresh snnTorch neuron: every batch starts at rest).
#[derive(Default)]
pub(crate) struct LayerState {
    pub(crate) mem: Option<Tensor<2>>,
    pub(crate) syn: Option<Tensor<2>>,
}

impl Dynamics {
    pub(crate) fn new(params: &NeuronParams, config: &SpikingConfig) -> Self {
        Dynamics {
            neuron: config.neuron,
            reset: config.reset,
            detach_reset: config.detach_reset,
            surrogate: config.surrogate,
            slope: config.slope(),
            beta: Coefficient::of(&params.beta, config.learn_beta, true),
            alpha: params
                .alpha
                .as_ref()
                .map(|alpha| Coefficient::of(alpha, false, true)),
            threshold: Coefficient::of(&params.threshold, config.learn_threshold, false),
        }
    }

    /// One step of a spiking layer: updates `state` with the input current `current`
    /// (`[batch, width]`) and returns the spikes (`[batch, width]`, 0 or 1).
    pub(crate) fn step(&self, state: &mut LayerState, current: Tensor<2>) -> Tensor<2> {
        // The reset from the previous step's membrane (none at the first step: U = 0 < θ).
        let reset = state.mem.as_ref().map(|mem| {
            let above = self.threshold.subtracted_from(mem.clone());
            if self.detach_reset {
                above.greater_elem(0.0).float().detach()
            } else {
                self.surrogate.spike(above, self.slope)
            }
        });
        let input = match (self.neuron, &self.alpha) {
            (Neuron::Synaptic, Some(alpha)) => {
                let syn = match state.syn.take() {
                    Some(syn) => alpha.times(syn) + current,
                    None => current,
                };
                state.syn = Some(syn.clone());
                syn
            }
            _ => current,
        };
        let mem = match (state.mem.take(), reset) {
            (None, _) | (_, None) => input,
            (Some(mem), Some(reset)) => match (self.reset, self.neuron) {
                (Reset::Subtract, _) => self.beta.times(mem) + input - self.threshold.times(reset),
                (Reset::Zero, Neuron::Lif) => self.beta.times(mem * (reset.neg() + 1.0)) + input,
                (Reset::Zero, Neuron::Synaptic) => {
                    (self.beta.times(mem) + input) * (reset.neg() + 1.0)
                }
            },
        };
        state.mem = Some(mem.clone());
        self.surrogate
            .spike(self.threshold.subtracted_from(mem), self.slope)
    }

    /// One step of a non-spiking (readout) layer: `U[t] = β U[t−1] + I[t]`, no reset; returns
    /// the membrane.
    pub(crate) fn integrate(&self, state: &mut LayerState, current: Tensor<2>) -> Tensor<2> {
        let mem = match state.mem.take() {
            Some(mem) => self.beta.times(mem) + current,
            None => current,
        };
        state.mem = Some(mem.clone());
        mem
    }
}
