//! burn's autodiff gradients against central finite differences, for small random MLPs with
//! every activation and every loss, on every backend.
//!
//! The reference is independent of burn: the forward pass and the loss are recomputed here on
//! the host in float64 (a test-only reference, forward only), and each parameter's derivative is
//! `(L(θ + h) - L(θ - h)) / 2h` with h = 1e-6, accurate to about 1e-9. burn works in float32, so
//! gradients are compared with atol 1e-4 + rtol 1e-3.

#![allow(clippy::unwrap_used)]

use burn::prelude::{Tensor, TensorData};
use nerve_loss::Loss;
use nerve_model::{Activation, MlpConfig};
use nerve_tests::{assert_close, backends, host, init_seeded};

/// A float64 copy of an MLP's parameters: per layer, `[d_in × d_out]` weights then biases.
type Layers = Vec<(Vec<f64>, Vec<f64>, usize, usize)>;

fn erf(x: f64) -> f64 {
    // Abramowitz & Stegun 7.1.26 is only good to 1.5e-7; integrate instead: erf(x) =
    // 2/√π ∫₀ˣ e^{-t²} dt by composite Simpson's rule with 2000 panels (error ~1e-14 here).
    let n = 2000;
    let h = x / n as f64;
    let f = |t: f64| (-t * t).exp();
    let mut sum = f(0.0) + f(x);
    for i in 1..n {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += weight * f(i as f64 * h);
    }
    sum * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
}

fn activate(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Relu => z.max(0.0),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Tanh => z.tanh(),
        Activation::Gelu => 0.5 * z * (1.0 + erf(z / std::f64::consts::SQRT_2)),
        Activation::LeakyRelu => {
            if z > 0.0 {
                z
            } else {
                Activation::LEAKY_RELU_SLOPE * z
            }
        }
    }
}

fn forward(layers: &Layers, activation: Activation, x: &[f64], rows: usize) -> Vec<f64> {
    let mut h = x.to_vec();
    for (index, (w, b, d_in, d_out)) in layers.iter().enumerate() {
        let mut next = vec![0.0; rows * d_out];
        for r in 0..rows {
            for o in 0..*d_out {
                let mut z = b[o];
                for i in 0..*d_in {
                    z += h[r * d_in + i] * w[i * d_out + o];
                }
                next[r * d_out + o] = if index + 1 < layers.len() {
                    activate(activation, z)
                } else {
                    z
                };
            }
        }
        h = next;
    }
    h
}

fn loss_value(loss: Loss, out: &[f64], target: &[f64], rows: usize, d_out: usize) -> f64 {
    match loss {
        Loss::Mse => {
            out.iter()
                .zip(target)
                .map(|(o, t)| (o - t).powi(2))
                .sum::<f64>()
                / out.len() as f64
        }
        Loss::Huber => {
            let delta = f64::from(Loss::HUBER_DELTA);
            let sum: f64 = out
                .iter()
                .zip(target)
                .map(|(o, t)| {
                    let r = (o - t).abs();
                    if r < delta {
                        0.5 * r * r
                    } else {
                        delta * (r - 0.5 * delta)
                    }
                })
                .sum();
            sum / out.len() as f64
        }
        Loss::BinaryCrossEntropy => {
            let sum: f64 = out
                .iter()
                .zip(target)
                .map(|(z, y)| z.max(0.0) - z * y + (1.0 + (-z.abs()).exp()).ln())
                .sum();
            sum / out.len() as f64
        }
        Loss::CrossEntropy => {
            let mut sum = 0.0;
            for r in 0..rows {
                let z = &out[r * d_out..(r + 1) * d_out];
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                sum += lse - z[target[r] as usize];
            }
            sum / rows as f64
        }
    }
}

#[test]
fn autodiff_matches_central_differences_for_every_activation_and_loss() {
    let rows = 6;
    let d_input = 3;
    for kind in backends() {
        for (case, activation) in Activation::ALL.into_iter().enumerate() {
            for loss in Loss::ALL {
                let d_output = if loss == Loss::CrossEntropy { 3 } else { 2 };
                let device = kind.autodiff_device().unwrap();
                let config =
                    MlpConfig::new(d_input, vec![4, 3], d_output).with_activation(activation);
                let mlp = init_seeded(&config, &device, 100 + case as u64);
                let x_host: Vec<f64> = (0..rows * d_input)
                    .map(|i| ((i * 7919 + case * 31) % 97) as f64 / 97.0 * 4.0 - 2.0)
                    .collect();
                let target_host: Vec<f64> = match loss {
                    Loss::CrossEntropy => (0..rows).map(|r| (r % d_output) as f64).collect(),
                    Loss::BinaryCrossEntropy => (0..rows * d_output)
                        .map(|i| ((i * 5) % 3 == 0) as u8 as f64)
                        .collect(),
                    _ => (0..rows * d_output)
                        .map(|i| ((i * 13) % 11) as f64 / 5.0 - 1.0)
                        .collect(),
                };
                let to_f32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
                let x = Tensor::<2>::from_data(
                    TensorData::new(to_f32(&x_host), [rows, d_input]),
                    &device,
                );
                let target_cols = if loss == Loss::CrossEntropy {
                    1
                } else {
                    d_output
                };
                let target = Tensor::<2>::from_data(
                    TensorData::new(to_f32(&target_host), [rows, target_cols]),
                    &device,
                );

                // burn's autodiff.
                let value = loss.compute(mlp.forward(x), target).unwrap();
                let grads = value.backward();

                // The float64 reference on the same parameters.
                let mut layers: Layers = mlp
                    .layers()
                    .iter()
                    .zip(config.layer_dims())
                    .map(|(layer, (d_in, d_out))| {
                        (
                            host(layer.weight.val()),
                            host(layer.bias.as_ref().unwrap().val()),
                            d_in,
                            d_out,
                        )
                    })
                    .collect();
                let l = |layers: &Layers| {
                    loss_value(
                        loss,
                        &forward(layers, activation, &x_host, rows),
                        &target_host,
                        rows,
                        d_output,
                    )
                };
                let h = 1e-6;
                for (index, layer) in mlp.layers().iter().enumerate() {
                    let autodiff_w = host(layer.weight.val().grad(&grads).unwrap());
                    let autodiff_b = host(layer.bias.as_ref().unwrap().val().grad(&grads).unwrap());
                    for (is_bias, autodiff) in [(false, autodiff_w), (true, autodiff_b)] {
                        let count = autodiff.len();
                        let numeric: Vec<f64> = (0..count)
                            .map(|p| {
                                let original = get(&layers, index, is_bias, p);
                                set(&mut layers, index, is_bias, p, original + h);
                                let up = l(&layers);
                                set(&mut layers, index, is_bias, p, original - h);
                                let down = l(&layers);
                                set(&mut layers, index, is_bias, p, original);
                                (up - down) / (2.0 * h)
                            })
                            .collect();
                        let what = format!(
                            "{kind} {activation} {loss}: layers.{index}.{}",
                            if is_bias { "bias" } else { "weight" }
                        );
                        assert_close(&what, &autodiff, &numeric, 1e-4, 1e-3);
                    }
                }
            }
        }
    }
}

fn get(layers: &Layers, index: usize, is_bias: bool, p: usize) -> f64 {
    let (w, b, _, _) = &layers[index];
    if is_bias { b[p] } else { w[p] }
}

fn set(layers: &mut Layers, index: usize, is_bias: bool, p: usize, value: f64) {
    let (w, b, _, _) = &mut layers[index];
    if is_bias {
        b[p] = value;
    } else {
        w[p] = value;
    }
}
