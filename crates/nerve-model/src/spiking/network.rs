//! The spiking forward pass of an [`Mlp`]: encode, then every layer step by step.

use burn::prelude::Tensor;

use super::encoding::Encoded;
use super::neuron::{Dynamics, LayerState};
use super::{Readout, SpikingConfig};
use crate::Mlp;

/// What every layer did at every step of a spiking forward pass (for pictures, activity and
/// parity tests), with the outputs.
#[derive(Debug, Clone)]
pub struct SpikeTrace {
    /// Per layer (hidden layers, then the output layer), first to last.
    pub layers: Vec<LayerTrace>,
    /// The network's outputs, `[batch, d_output]` (what [`Mlp::forward`] returns).
    pub output: Tensor<2>,
}

/// One layer's state at every time step, each `[batch, width]`.
#[derive(Debug, Clone, Default)]
pub struct LayerTrace {
    /// The membrane potential `U[t]` after the step's update (before the next step's reset).
    pub membrane: Vec<Tensor<2>>,
    /// The spikes `S[t]` (0 or 1); empty for a non-spiking readout layer.
    pub spikes: Vec<Tensor<2>>,
    /// The synaptic current `I_syn[t]` (synaptic neurons only, else empty).
    pub synaptic: Vec<Tensor<2>>,
}

impl Mlp {
    /// The spiking forward pass; `trace` collects every layer's states when given.
    pub(crate) fn forward_spiking(
        &self,
        x: Tensor<2>,
        config: &SpikingConfig,
        mut trace: Option<&mut Vec<LayerTrace>>,
    ) -> Tensor<2> {
        let time_steps = config.time_steps;
        let n_layers = self.layers.len();
        let dynamics: Vec<Dynamics> = self
            .neurons
            .iter()
            .map(|params| Dynamics::new(params, config))
            .collect();
        let mut states: Vec<LayerState> = (0..n_layers).map(|_| LayerState::default()).collect();
        if let Some(trace) = trace.as_deref_mut() {
            *trace = (0..n_layers).map(|_| LayerTrace::default()).collect();
        }
        let encoded = Encoded::new(config.encoding, x, self.encoder.as_ref(), time_steps);
        // A constant input gives the first layer the same current at every step: once.
        let first_current = match &encoded {
            Encoded::Constant(x) => Some(self.layers[0].forward(x.clone())),
            _ => None,
        };
        let spiking_output = config.readout == Readout::SpikeCount;
        let mut readout: Option<Tensor<2>> = None;
        for t in 0..time_steps {
            let mut below: Option<Tensor<2>> = None;
            for (i, layer) in self.layers.iter().enumerate() {
                let current = match (i, &first_current, below.take()) {
                    (0, Some(current), _) => current.clone(),
                    (0, None, _) => layer.forward(encoded.at(t)),
                    (_, _, Some(spikes)) => layer.forward(spikes),
                    (_, _, None) => unreachable!("every layer below the output passes spikes on"),
                };
                let state = &mut states[i];
                let last = i + 1 == n_layers;
                if last && !spiking_output {
                    let mem = dynamics[i].integrate(state, current);
                    if let Some(trace) = trace.as_deref_mut() {
                        trace[i].membrane.push(mem.clone());
                    }
                    readout = Some(match (config.readout, readout.take()) {
                        (_, None) => mem,
                        (Readout::MaxMembrane, Some(max)) => max.max_pair(mem),
                        (_, Some(sum)) => sum + mem,
                    });
                } else {
                    let spikes = dynamics[i].step(state, current);
                    if let Some(trace) = trace.as_deref_mut() {
                        if let Some(mem) = &state.mem {
                            trace[i].membrane.push(mem.clone());
                        }
                        if let Some(syn) = &state.syn {
                            trace[i].synaptic.push(syn.clone());
                        }
                        trace[i].spikes.push(spikes.clone());
                    }
                    if last {
                        readout = Some(match readout.take() {
                            Some(count) => count + spikes,
                            None => spikes,
                        });
                    } else {
                        below = Some(self.dropout.forward(spikes));
                    }
                }
            }
        }
        let readout = readout.expect("at least one time step");
        match config.readout {
            Readout::MeanMembrane => readout / time_steps as f64,
            Readout::MaxMembrane | Readout::SpikeCount => readout,
        }
    }

    /// A spiking network's forward pass with every layer's membrane, spikes and current at
    /// every step; `None` for a rate network. Dropout is applied as in [`Mlp::forward`] (off
    /// on a plain device).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch_size, d_input]`
    /// - each traced tensor: `[batch_size, width]`, one per time step
    pub fn spike_trace(&self, x: Tensor<2>) -> Option<SpikeTrace> {
        let config = self.config.spiking.as_ref()?;
        let mut layers = Vec::new();
        let output = self.forward_spiking(x, config, Some(&mut layers));
        Some(SpikeTrace { layers, output })
    }
}

/// One layer's neuron parameters, each of shape `[1]` (as stored: `β` before clamping).
#[derive(Debug, Clone)]
pub struct LayerNeurons {
    /// Membrane decay `β`.
    pub beta: Tensor<1>,
    /// Firing threshold `θ`.
    pub threshold: Tensor<1>,
    /// Synaptic current decay `α` (synaptic neurons only).
    pub alpha: Option<Tensor<1>>,
}

impl Mlp {
    /// Each layer's neuron parameters, first to last (empty for a rate network). Their
    /// gradients can be read from a backward pass's gradients when they are learned.
    pub fn neurons(&self) -> Vec<LayerNeurons> {
        self.neurons
            .iter()
            .map(|n| LayerNeurons {
                beta: n.beta.val(),
                threshold: n.threshold.val(),
                alpha: n.alpha.as_ref().map(burn::module::Param::val),
            })
            .collect()
    }
}
