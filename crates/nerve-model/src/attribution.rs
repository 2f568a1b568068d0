//! [`IntegratedGradients`]: which inputs a network's answer comes from.

use burn::prelude::{Module, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::Mlp;
use crate::activity::read;

/// Feature attributions by integrated gradients (Sundararajan, Taly and Yan, 2017).
///
/// The attribution of input `i` for output `k` on row `x` is
/// `(x_i - b_i) · ∫₀¹ ∂f_k(b + α (x - b)) / ∂x_i dα`, where `b` is a baseline row (nerve uses the
/// training mean) and `f_k` the network's raw output `k` (a logit for classification, the
/// standardized value for regression). The integral is taken by the midpoint rule over
/// [`steps`](Self::steps) points of the straight path from `b` to `x`, with burn's autodiff giving
/// the gradients.
///
/// The attributions of a row add up to `f_k(x) - f_k(b)` (*completeness*), up to the error of the
/// quadrature, which shrinks as `steps` grows; [`Attributions::completeness_gap`] measures it.
/// For a network without hidden layers they are exactly `W_ik (x_i - b_i)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegratedGradients {
    /// Points on the path from the baseline to the row.
    pub steps: usize,
}

impl Default for IntegratedGradients {
    /// 50 steps, as Captum's default.
    fn default() -> Self {
        Self { steps: 50 }
    }
}

/// Inputs on the path evaluated at once: steps × rows × the widest layer stays near this many
/// values, so large data sets are attributed a slice of rows at a time.
const VALUES_PER_PASS: usize = 1 << 22;

impl IntegratedGradients {
    /// The attributions of every output of `model` to every input, for each row of `x`,
    /// relative to `baseline`. `model` may live on a plain or an autodiff device; dropout is off.
    ///
    /// # Shapes
    ///
    /// - `x`: `[rows, d_input]`
    /// - `baseline`: `[d_input]`
    ///
    /// A spiking network is differentiated through its surrogate gradients, so its attributions
    /// need not add up to the output difference (completeness holds for the surrogate, not for
    /// the spikes); rate coding passes the gradient of its spike probabilities.
    ///
    /// # Panics
    ///
    /// When `steps` is 0 or the shapes do not match the model (programming errors), and for a
    /// latency-coded spiking network, whose outputs have no gradient with respect to the
    /// inputs (spike times are whole steps); check [`Mlp::has_input_gradients`] first.
    pub fn attribute(&self, model: &Mlp, x: Tensor<2>, baseline: Tensor<1>) -> Attributions {
        assert!(
            model.has_input_gradients(),
            "a latency-coded spiking network has no gradient with respect to its inputs"
        );
        assert!(
            self.steps > 0,
            "integrated gradients need at least one step"
        );
        let config = model.config();
        let [rows, d_input] = x.dims();
        assert_eq!(d_input, config.d_input, "x has the model's input width");
        assert_eq!(baseline.dims(), [d_input], "one baseline value per input");
        let d_output = config.d_output;
        let plain = x.device().without_autodiff();
        let model = model.valid();
        let x = x.without_autodiff();
        let baseline = baseline.without_autodiff().to_device(&plain);

        let outputs = read(model.forward(x.clone()));
        let baseline_outputs = read(model.forward(baseline.clone().reshape([1, d_input])));

        let widest = config
            .d_hidden
            .iter()
            .copied()
            .chain([d_input, d_output])
            .max()
            .unwrap_or(1);
        let chunk = (VALUES_PER_PASS / (self.steps * widest)).max(1);
        let steps = self.steps;
        // Midpoints of `steps` equal intervals of [0, 1], as a [steps, 1, 1] column.
        let alphas: Vec<f32> = (0..steps)
            .map(|s| ((s as f64 + 0.5) / steps as f64) as f32)
            .collect();
        let alphas =
            Tensor::<1>::from_data(TensorData::new(alphas, [steps]), &plain).reshape([steps, 1, 1]);

        // values[k][row][i], filled a slice of rows at a time.
        let mut values = vec![0.0f32; d_output * rows * d_input];
        for start in (0..rows).step_by(chunk) {
            let n = chunk.min(rows - start);
            let xs = x.clone().slice([start..start + n, 0..d_input]);
            let difference = xs - baseline.clone().reshape([1, d_input]);
            let path = baseline.clone().reshape([1, 1, d_input])
                + alphas.clone() * difference.clone().reshape([1, n, d_input]);
            let path = path.reshape([steps * n, d_input]);
            for k in 0..d_output {
                // One backward pass per output: burn's graph is consumed by `backward`.
                let inputs = path.clone().autodiff().require_grad();
                let output = model
                    .forward(inputs.clone())
                    .slice([0..steps * n, k..k + 1])
                    .sum();
                let gradients = output.backward();
                let Some(gradient) = inputs.grad(&gradients) else {
                    unreachable!("the inputs require a gradient");
                };
                let mean_gradient: Tensor<2> = gradient
                    .reshape([steps, n, d_input])
                    .mean_dim(0)
                    .reshape([n, d_input]);
                let attributions = read(mean_gradient * difference.clone());
                let offset = (k * rows + start) * d_input;
                values[offset..offset + n * d_input].copy_from_slice(&attributions);
            }
        }
        Attributions {
            rows,
            d_input,
            d_output,
            values,
            outputs,
            baseline_outputs,
        }
    }
}

/// What [`IntegratedGradients::attribute`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributions {
    rows: usize,
    d_input: usize,
    d_output: usize,
    values: Vec<f32>,
    outputs: Vec<f32>,
    baseline_outputs: Vec<f32>,
}

impl Attributions {
    /// The number of rows attributed.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of network inputs.
    pub fn d_input(&self) -> usize {
        self.d_input
    }

    /// The number of network outputs.
    pub fn d_output(&self) -> usize {
        self.d_output
    }

    /// The attributions of output `output` on row `row`, one per input.
    pub fn row(&self, output: usize, row: usize) -> &[f32] {
        let start = (output * self.rows + row) * self.d_input;
        &self.values[start..start + self.d_input]
    }

    /// The network's output `output` on row `row`.
    pub fn output(&self, output: usize, row: usize) -> f32 {
        self.outputs[row * self.d_output + output]
    }

    /// The network's output `output` on the baseline.
    pub fn baseline_output(&self, output: usize) -> f32 {
        self.baseline_outputs[output]
    }

    /// `Σ_i attribution_i - (f(x) - f(baseline))` for output `output` on row `row`: 0 for exact
    /// integration, shrinking as the number of steps grows.
    pub fn completeness_gap(&self, output: usize, row: usize) -> f64 {
        let sum: f64 = self.row(output, row).iter().map(|&a| f64::from(a)).sum();
        sum - (f64::from(self.output(output, row)) - f64::from(self.baseline_output(output)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Activation, MlpConfig};
    use burn::prelude::Device;
    use nerve_backend::BackendKind;

    fn devices() -> Vec<Device> {
        BackendKind::ALL
            .iter()
            .map(|kind| kind.device().unwrap())
            .collect()
    }

    fn tensor2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn tensor1(values: Vec<f32>, device: &Device) -> Tensor<1> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), device)
    }

    /// Without hidden layers the network is linear, so every path gradient is W and the
    /// attributions are W_ik (x_i - b_i), whatever the number of steps.
    #[test]
    fn a_linear_network_gets_weight_times_distance() {
        for device in devices() {
            let config = MlpConfig::new(3, vec![], 2);
            let weight = vec![0.5, -1.0, 2.0, 0.25, -3.0, 1.5];
            let model = Mlp::from_parameters(
                &config,
                vec![(
                    tensor2(weight.clone(), [3, 2], &device),
                    tensor1(vec![0.1, -0.2], &device),
                )],
            )
            .unwrap();
            let x = vec![1.0, 2.0, -1.0, 0.5, 0.0, 3.0];
            let baseline = vec![0.2, -0.4, 1.0];
            let attributions = IntegratedGradients { steps: 3 }.attribute(
                &model,
                tensor2(x.clone(), [2, 3], &device),
                tensor1(baseline.clone(), &device),
            );
            for row in 0..2 {
                for k in 0..2 {
                    for i in 0..3 {
                        let expected = weight[i * 2 + k] * (x[row * 3 + i] - baseline[i]);
                        let found = attributions.row(k, row)[i];
                        assert!((found - expected).abs() < 1e-5, "{found} vs {expected}");
                    }
                    assert!(attributions.completeness_gap(k, row).abs() < 1e-5);
                }
            }
        }
    }

    /// With hidden layers the attributions add up to f(x) - f(baseline) up to the quadrature
    /// error, which more steps shrink.
    #[test]
    fn attributions_are_complete_within_a_tolerance_that_shrinks_with_steps() {
        for device in devices() {
            for activation in [Activation::Relu, Activation::Tanh] {
                nerve_backend::seed(&device, 7);
                let model = MlpConfig::new(4, vec![16, 8], 3)
                    .with_activation(activation)
                    .init(&device);
                let x: Vec<f32> = (0..20)
                    .map(|i| ((i * 37 % 11) as f32 - 5.0) / 2.0)
                    .collect();
                let x = tensor2(x, [5, 4], &device);
                let baseline = tensor1(vec![0.1, -0.3, 0.2, 0.0], &device);
                let gap = |steps: usize| -> f64 {
                    let a = IntegratedGradients { steps }.attribute(
                        &model,
                        x.clone(),
                        baseline.clone(),
                    );
                    let mut worst = 0.0f64;
                    for k in 0..3 {
                        for row in 0..5 {
                            let scale = f64::from(a.output(k, row) - a.baseline_output(k))
                                .abs()
                                .max(1.0);
                            worst = worst.max(a.completeness_gap(k, row).abs() / scale);
                        }
                    }
                    worst
                };
                let (coarse, fine) = (gap(4), gap(512));
                assert!(fine < 2e-3, "{activation}: gap {fine} with 512 steps");
                assert!(
                    fine < coarse,
                    "{activation}: {fine} (512 steps) vs {coarse} (4)"
                );
            }
        }
    }
}
