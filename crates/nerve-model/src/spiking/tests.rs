#![allow(clippy::unwrap_used)]

use burn::prelude::{Tensor, TensorData};
use nerve_backend::BackendKind;

use super::encoding::Encoded;
use super::neuron::{Dynamics, LayerState, NeuronParams};
use super::*;
use crate::{Mlp, MlpConfig};

fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec_as::<f32>().unwrap()
}

/// With the reset detached, the membrane's derivative through one step is β exactly, spike or
/// not; with it attached, a membrane above threshold also carries the reset's surrogate term
/// (−θ σ'(U − θ)), the gradient that works against learning.
#[test]
fn a_detached_reset_leaves_the_membrane_derivative_at_beta() {
    for kind in BackendKind::ALL {
        let device = kind.autodiff_device().unwrap();
        for detach_reset in [true, false] {
            let config = SpikingConfig {
                beta: 0.8,
                detach_reset,
                ..SpikingConfig::default()
            };
            let dynamics = Dynamics::new(&NeuronParams::new(&config, &device), &config);
            // One membrane below threshold, one above (it fired: the reset applies now).
            let u = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, 1.02], [1, 2]), &device)
                .require_grad();
            let mut state = LayerState {
                mem: Some(u.clone()),
                syn: None,
            };
            let current =
                Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 0.1], [1, 2]), &device);
            dynamics.step(&mut state, current);
            let grads = state.mem.unwrap().sum().backward();
            let grad = read(u.grad(&grads).unwrap());
            for (g, u) in grad.iter().zip([0.5, 1.02]) {
                let surrogate = config
                    .surrogate
                    .derivative(u - config.threshold, config.slope());
                let expected = if detach_reset {
                    0.8
                } else {
                    0.8 - config.threshold * surrogate
                };
                assert!(
                    (f64::from(*g) - expected).abs() < 1e-6,
                    "{kind}, detach_reset {detach_reset}, U = {u}: {g}, expected {expected}"
                );
            }
        }
    }
}

/// Every forward pass starts at rest: a full batch then a smaller last batch gives the small
/// batch exactly what a fresh network gives those rows, and what they got inside the big one.
#[test]
fn state_never_leaks_between_batches() {
    for kind in BackendKind::ALL {
        let device = kind.device().unwrap();
        let config = MlpConfig::new(3, vec![8], 2).with_spiking(Some(SpikingConfig {
            time_steps: 10,
            ..SpikingConfig::default()
        }));
        let model = config.init(&device);
        let rows: Vec<f32> = (0..15).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let big = Tensor::<2>::from_data(TensorData::new(rows.clone(), [5, 3]), &device);
        let small = Tensor::<2>::from_data(TensorData::new(rows[9..].to_vec(), [2, 3]), &device);
        let in_big = read(model.forward(big));
        let after = read(model.forward(small.clone()));
        let fresh = Mlp::from_safetensors(
            &model.to_safetensors(&Default::default()).unwrap(),
            "m",
            &device,
        )
        .unwrap()
        .0;
        assert_eq!(after, read(fresh.forward(small)), "{kind}");
        assert_eq!(after, in_big[6..].to_vec(), "{kind}");
    }
}

/// Rate coding: spikes are exactly 0 or 1 and their mean over many steps is the probability
/// the training range gives each feature (below the minimum 0, above the maximum 1).
#[test]
fn rate_coding_spikes_with_the_probability_of_the_training_range() {
    for kind in BackendKind::ALL {
        let device = kind.device().unwrap();
        nerve_backend::seed(&device, 7);
        let range = InputRange::new(vec![-2.0, 0.0], vec![2.0, 10.0], &device);
        // Features -1 → 0.25, 2.5 → 0.25; 1 → 0.75, 12 → 1; -5 → 0, 5 → 0.5.
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![-1.0f32, 2.5, 1.0, 12.0, -5.0, 5.0], [3, 2]),
            &device,
        );
        let steps = 4000;
        let encoded = Encoded::new(Encoding::Rate, x, Some(&range), steps);
        let mut sums = [0.0f64; 6];
        for t in 0..steps {
            for (s, v) in sums.iter_mut().zip(read(encoded.at(t))) {
                assert!(v == 0.0 || v == 1.0, "{kind}: spike {v}");
                *s += f64::from(v);
            }
        }
        let expected = [0.25, 0.25, 0.75, 1.0, 0.0, 0.5];
        for (i, (s, p)) in sums.iter().zip(expected).enumerate() {
            let mean = s / steps as f64;
            // Four standard errors of a Bernoulli mean over 4000 draws.
            let tolerance = 4.0 * (p * (1.0 - p) / steps as f64).sqrt() + 1e-12;
            assert!(
                (mean - p).abs() <= tolerance,
                "{kind}: feature {i}: {mean} vs {p}"
            );
        }
    }
}

/// Latency coding: one spike per feature, at `round((1 − p)(T − 1))`.
#[test]
fn latency_coding_fires_once_earlier_for_larger_values() {
    let device = BackendKind::default().device().unwrap();
    let range = InputRange::new(vec![0.0], vec![1.0], &device);
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.5, 0.0, 0.9], [4, 1]),
        &device,
    );
    let steps = 11;
    let encoded = Encoded::new(Encoding::Latency, x, Some(&range), steps);
    let mut fired: Vec<Vec<usize>> = vec![Vec::new(); 4];
    for t in 0..steps {
        for (row, v) in read(encoded.at(t)).into_iter().enumerate() {
            if v == 1.0 {
                fired[row].push(t);
            }
        }
    }
    assert_eq!(fired, vec![vec![0], vec![5], vec![10], vec![1]]);
}

/// A spiking model survives its file: synaptic neurons, learned β and θ (changed from their
/// initial values), rate coding's input range; the same outputs after reading it back.
#[test]
fn a_spiking_model_file_reads_back_to_the_same_network() {
    let device = BackendKind::default().device().unwrap();
    let spiking = SpikingConfig {
        neuron: Neuron::Synaptic,
        learn_beta: true,
        learn_threshold: true,
        encoding: Encoding::Latency,
        time_steps: 12,
        ..SpikingConfig::default()
    };
    let config = MlpConfig::new(3, vec![6, 4], 2).with_spiking(Some(spiking));
    let mut model = config.init(&device).with_input_range(InputRange::new(
        vec![-1.0; 3],
        vec![2.0; 3],
        &device,
    ));
    model.neurons[0].beta = burn::module::Param::from_tensor(Tensor::from_data(
        TensorData::new(vec![0.7f32], [1]),
        &device,
    ));
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![0.5f32, -0.5, 1.5, 2.0, 0.0, -1.0], [2, 3]),
        &device,
    );
    let bytes = model.to_safetensors(&Default::default()).unwrap();
    let (back, info) = Mlp::from_safetensors(&bytes, "m", &device).unwrap();
    assert_eq!(info.format_version, crate::FORMAT_VERSION);
    assert_eq!(back.config(), model.config());
    assert_eq!(read(back.neurons()[0].beta.clone()), vec![0.7]);
    assert!(back.neurons()[0].alpha.is_some());
    assert!(back.input_range().is_some());
    assert_eq!(read(back.forward(x.clone())), read(model.forward(x)));
    assert_eq!(back.param_ids().len(), model.param_ids().len());
}

/// Settings that describe no network are refused, naming the field.
#[test]
fn impossible_spiking_settings_name_their_field() {
    for (spiking, field) in [
        (
            SpikingConfig {
                time_steps: 0,
                ..SpikingConfig::default()
            },
            "time_steps",
        ),
        (
            SpikingConfig {
                beta: 1.5,
                ..SpikingConfig::default()
            },
            "beta",
        ),
        (
            SpikingConfig {
                alpha: -0.1,
                ..SpikingConfig::default()
            },
            "alpha",
        ),
        (
            SpikingConfig {
                threshold: 0.0,
                ..SpikingConfig::default()
            },
            "threshold",
        ),
        (
            SpikingConfig {
                threshold: f64::NAN,
                ..SpikingConfig::default()
            },
            "threshold",
        ),
        (
            SpikingConfig {
                slope: Some(-2.0),
                ..SpikingConfig::default()
            },
            "slope",
        ),
    ] {
        let err = MlpConfig::new(2, vec![3], 1)
            .with_spiking(Some(spiking))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{field}`")), "{err}");
    }
}

/// Rate coding's draws are seeded by the row itself: a row gives the same outputs alone, in a
/// batch, at any position, and repeated; another row gets other draws.
#[test]
fn rate_coded_outputs_depend_on_the_row_only() {
    for kind in BackendKind::ALL {
        let device = kind.device().unwrap();
        let config = MlpConfig::new(3, vec![16], 2).with_spiking(Some(SpikingConfig {
            encoding: Encoding::Rate,
            time_steps: 20,
            ..SpikingConfig::default()
        }));
        let model = config.init(&device).with_input_range(InputRange::new(
            vec![-2.0; 3],
            vec![2.0; 3],
            &device,
        ));
        let (a, b) = ([0.3f32, -0.7, 1.1], [1.5f32, 0.2, -1.9]);
        let rows = |rows: &[[f32; 3]]| {
            let flat: Vec<f32> = rows.iter().flatten().copied().collect();
            read(model.forward(Tensor::<2>::from_data(
                TensorData::new(flat, [rows.len(), 3]),
                &device,
            )))
        };
        let alone = rows(&[a]);
        let mixed = rows(&[b, a, b, a]);
        assert_eq!(mixed[2..4], alone[..], "{kind}: a at position 1");
        assert_eq!(mixed[6..8], alone[..], "{kind}: a at position 3");
        assert_eq!(mixed[0..2], mixed[4..6], "{kind}: b twice");
        assert_ne!(mixed[0..2], alone[..], "{kind}: b is not a");
    }
}
