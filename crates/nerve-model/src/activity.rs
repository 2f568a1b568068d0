//! [`LayerActivity`]: how a hidden layer's units behave on a data set — the mean activation
//! and the units that never switch on (dead ReLU units).

use burn::prelude::Tensor;
use serde::{Deserialize, Serialize};

use crate::Mlp;

/// What one hidden layer's units do on a set of rows.
///
/// A unit is *active* on a row when its pre-activation `z = x W + b` is positive: where a ReLU
/// passes its input on and has a non-zero gradient. A unit active on no row is *dead*: for ReLU
/// its output is always 0 and no gradient ever reaches its incoming weights, so training cannot
/// revive it (the dead-neuron trap). For sigmoid and tanh a never-active unit is stuck below the
/// midpoint rather than dead, and the count reads the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerActivity {
    /// The layer's index in the network (`layers.{layer}`).
    pub layer: usize,
    /// The number of units.
    pub units: usize,
    /// The number of rows summarised.
    pub rows: usize,
    /// The mean activation (after the activation function) over rows and units.
    pub mean_activation: f64,
    /// Per unit, the share of rows on which it is active.
    pub active_share: Vec<f64>,
    /// Units active on no row.
    pub dead_units: usize,
    /// A spiking layer's spikes per row (all its neurons, all time steps); `None` for a rate
    /// layer. There a unit is active on a row when it fires at least once, a never-active
    /// unit is *silent* (the spiking cousin of a dead ReLU: no spike, so the surrogate
    /// gradient is all that reaches it), and [`mean_activation`](Self::mean_activation) is
    /// the firing rate: spikes per neuron per time step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spikes_per_row: Option<f64>,
    /// A spiking layer's firing rate of each neuron: its spikes per time step, averaged over
    /// the rows; `None` for a rate layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing_rates: Option<Vec<f64>>,
}

impl LayerActivity {
    /// Adds the activity of the same layer on more rows (a data set read in slices).
    ///
    /// # Panics
    ///
    /// When `other` is another layer or has another width.
    pub fn merge(&mut self, other: &LayerActivity) {
        assert_eq!(
            (self.layer, self.units),
            (other.layer, other.units),
            "merge the same layer"
        );
        let rows = self.rows + other.rows;
        if rows == 0 {
            return;
        }
        let (a, b) = (
            self.rows as f64 / rows as f64,
            other.rows as f64 / rows as f64,
        );
        self.mean_activation = self.mean_activation * a + other.mean_activation * b;
        for (s, o) in self.active_share.iter_mut().zip(&other.active_share) {
            *s = *s * a + o * b;
        }
        self.rows = rows;
        self.dead_units = self.active_share.iter().filter(|&&s| s == 0.0).count();
        if let (Some(s), Some(o)) = (self.spikes_per_row.as_mut(), other.spikes_per_row) {
            *s = *s * a + o * b;
        }
        if let (Some(s), Some(o)) = (self.firing_rates.as_mut(), &other.firing_rates) {
            for (s, o) in s.iter_mut().zip(o) {
                *s = *s * a + o * b;
            }
        }
    }

    /// The units active on no row (dead, or for spiking neurons silent), by index.
    pub fn inactive_units(&self) -> Vec<usize> {
        self.active_share
            .iter()
            .enumerate()
            .filter(|&(_, &share)| share == 0.0)
            .map(|(unit, _)| unit)
            .collect()
    }

    /// The smallest, median and largest share of rows a unit is active on (0s for no units).
    pub fn active_share_range(&self) -> (f64, f64, f64) {
        let mut shares = self.active_share.clone();
        shares.sort_by(f64::total_cmp);
        let at = |i: usize| shares.get(i).copied().unwrap_or(0.0);
        (
            at(0),
            at(shares.len() / 2),
            at(shares.len().saturating_sub(1)),
        )
    }

    /// The share of the layer's units that are dead.
    pub fn dead_fraction(&self) -> f64 {
        if self.units == 0 {
            0.0
        } else {
            self.dead_units as f64 / self.units as f64
        }
    }
}

impl Mlp {
    /// The activity of every hidden layer on the rows `x` (dropout off), first to last; empty
    /// for a network without hidden layers. Everything is summed on the device and read back
    /// once per layer.
    ///
    /// # Shapes
    ///
    /// - `x`: `[rows, d_input]`, `rows > 0`
    pub fn hidden_activity(&self, x: Tensor<2>) -> Vec<LayerActivity> {
        if self.is_spiking() {
            return self.spiking_activity(x);
        }
        let rows = x.dims()[0];
        let activation = self.config().activation;
        self.hidden_pre_activations(x)
            .into_iter()
            .enumerate()
            .map(|(layer, z)| {
                let units = z.dims()[1];
                let active = z.clone().greater_elem(0.0).float().sum_dim(0);
                let total = activation.forward(z).sum().reshape([1]);
                let values = read(Tensor::cat(vec![active.reshape([units]), total], 0));
                let active_share = shares(&values[..units], rows);
                LayerActivity {
                    layer,
                    units,
                    rows,
                    mean_activation: f64::from(values[units]) / (rows * units) as f64,
                    dead_units: active_share.iter().filter(|&&s| s == 0.0).count(),
                    active_share,
                    spikes_per_row: None,
                    firing_rates: None,
                }
            })
            .collect()
    }

    /// [`hidden_activity`](Self::hidden_activity) of a spiking network: per hidden layer, the
    /// spikes of each neuron summed over the time steps.
    fn spiking_activity(&self, x: Tensor<2>) -> Vec<LayerActivity> {
        let rows = x.dims()[0];
        let Some(trace) = self.spike_trace(x) else {
            return Vec::new();
        };
        let hidden = trace.layers.len().saturating_sub(1);
        trace
            .layers
            .into_iter()
            .take(hidden)
            .enumerate()
            .map(|(layer, layer_trace)| {
                let steps = layer_trace.spikes.len().max(1);
                let counts = layer_trace
                    .spikes
                    .into_iter()
                    .reduce(|a, b| a + b)
                    .expect("at least one time step");
                let units = counts.dims()[1];
                let active = counts.clone().greater_elem(0.0).float().sum_dim(0);
                let per_unit = counts.sum_dim(0).reshape([units]);
                let values = read(Tensor::cat(vec![active.reshape([units]), per_unit], 0));
                let active_share = shares(&values[..units], rows);
                let firing_rates: Vec<f64> = values[units..]
                    .iter()
                    .map(|&n| f64::from(n) / (rows * steps) as f64)
                    .collect();
                let spikes: f64 = values[units..].iter().map(|&n| f64::from(n)).sum();
                LayerActivity {
                    layer,
                    units,
                    rows,
                    mean_activation: spikes / (rows * units * steps) as f64,
                    dead_units: active_share.iter().filter(|&&s| s == 0.0).count(),
                    active_share,
                    spikes_per_row: Some(spikes / rows as f64),
                    firing_rates: Some(firing_rates),
                }
            })
            .collect()
    }
}

/// Counts of rows as shares of `rows`.
fn shares(counts: &[f32], rows: usize) -> Vec<f64> {
    counts.iter().map(|&n| f64::from(n) / rows as f64).collect()
}

/// The values of a float tensor (any float dtype, read as `f32`).
pub(crate) fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_to_vec_as::<f32>()
        .unwrap_or_else(|err| unreachable!("a float tensor converts to f32: {err:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::MlpConfig;
    use burn::prelude::{Device, TensorData};
    use nerve_backend::BackendKind;

    /// `config`'s 2 -> 3 -> 1 network with the hidden layer's `weight` ([2, 3], row-major) and
    /// `bias`, and an output layer that sums the hidden units.
    fn hand_built(config: MlpConfig, weight: Vec<f32>, bias: Vec<f32>, device: &Device) -> Mlp {
        Mlp::from_parameters(
            &config,
            vec![
                (
                    Tensor::from_data(TensorData::new(weight, [2, 3]), device),
                    Tensor::from_data(TensorData::new(bias, [3]), device),
                ),
                (
                    Tensor::from_data(TensorData::new(vec![1.0f32, 1.0, 1.0], [3, 1]), device),
                    Tensor::from_data(TensorData::new(vec![0.0f32], [1]), device),
                ),
            ],
        )
        .unwrap()
    }

    /// The rows (0, 0), (1, 0), (0, 1), (1, 1).
    fn four_rows(device: &Device) -> Tensor<2> {
        let x = vec![0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        Tensor::from_data(TensorData::new(x, [4, 2]), device)
    }

    /// A hand-built 2 -> 3 (relu) -> 1 network on four rows with non-negative inputs: unit 0
    /// copies x0 (active where x0 > 0), unit 1 has negative weights and bias (never active:
    /// dead), unit 2 is x0 + x1 - 1.5 (active on one row).
    #[test]
    fn dead_units_and_mean_activation_on_a_hand_built_network() {
        for kind in BackendKind::ALL {
            let device = kind.device().unwrap();
            let weight = vec![1.0, -1.0, 1.0, 0.0, -2.0, 1.0];
            let bias = vec![0.0, -0.5, -1.5];
            let model = hand_built(MlpConfig::new(2, vec![3], 1), weight, bias, &device);
            let x = four_rows(&device);
            let activity = model.hidden_activity(x);
            assert_eq!(activity.len(), 1);
            let layer = &activity[0];
            assert_eq!(layer.units, 3);
            assert_eq!(layer.active_share, vec![0.5, 0.0, 0.25]);
            assert_eq!(layer.dead_units, 1);
            assert!((layer.dead_fraction() - 1.0 / 3.0).abs() < 1e-12);
            // Activations: unit 0 gives 0, 1, 0, 1; unit 1 nothing; unit 2 gives 0.5 on the last row.
            assert!(
                (layer.mean_activation - 2.5 / 12.0).abs() < 1e-6,
                "{layer:?}"
            );

            // The same rows in two slices give the same summary.
            let rows = [vec![0.0f32, 0.0, 1.0, 0.0], vec![0.0f32, 1.0, 1.0, 1.0]];
            let mut parts = rows.into_iter().map(|x| {
                model.hidden_activity(Tensor::from_data(TensorData::new(x, [2, 2]), &device))
            });
            let mut merged = parts.next().unwrap().remove(0);
            merged.merge(&parts.next().unwrap()[0]);
            assert_eq!(merged.rows, 4);
            assert_eq!(merged.active_share, layer.active_share);
            assert_eq!(merged.dead_units, 1);
            assert!((merged.mean_activation - layer.mean_activation).abs() < 1e-9);
        }
    }

    /// A hand-built spiking 2 -> 3 (lif) -> 1 network, no leak (β = 0) so `U = I − R θ`, four
    /// steps: a constant current of 1.5 or 2 fires at steps 0 and 2 (the reset takes the next
    /// step below θ = 1), 0.5 never. Unit 0 gets 2·x0, unit 1 a negative current (silent),
    /// unit 2 x0 + x1 − 0.5.
    #[test]
    fn silent_neurons_and_firing_rates_on_a_hand_built_spiking_network() {
        for kind in BackendKind::ALL {
            let device = kind.device().unwrap();
            let spiking = crate::SpikingConfig {
                time_steps: 4,
                beta: 0.0,
                ..crate::SpikingConfig::default()
            };
            let weight = vec![2.0, -1.0, 1.0, 0.0, -2.0, 1.0];
            let bias = vec![0.0, -0.5, -0.5];
            let config = MlpConfig::new(2, vec![3], 1).with_spiking(Some(spiking));
            let model = hand_built(config, weight, bias, &device);
            let x = four_rows(&device);
            let activity = model.hidden_activity(x);
            assert_eq!(activity.len(), 1);
            let layer = &activity[0];
            assert_eq!(layer.active_share, vec![0.5, 0.0, 0.25], "{kind}");
            assert_eq!(layer.dead_units, 1, "{kind}: one silent neuron");
            // 4 + 0 + 2 spikes over 4 rows, 3 neurons and 4 steps.
            assert_eq!(layer.spikes_per_row, Some(1.5), "{kind}");
            // Unit 0: 2 spikes on two rows of four, over 4 steps; unit 2: 2 on one row.
            assert_eq!(layer.firing_rates, Some(vec![0.25, 0.0, 0.125]), "{kind}");
            assert!(
                (layer.mean_activation - 6.0 / 48.0).abs() < 1e-12,
                "{layer:?}"
            );
        }
    }

    #[test]
    fn a_network_without_hidden_layers_has_no_activity_to_report() {
        let device = BackendKind::default().device().unwrap();
        let model = MlpConfig::new(2, vec![], 1).init(&device);
        assert!(
            model
                .hidden_activity(Tensor::zeros([3, 2], &device))
                .is_empty()
        );
    }
}
