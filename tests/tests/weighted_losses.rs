//! Class weights and sample weights in the losses against PyTorch
//! (`tests/fixtures/weighted_losses.json`, written by `tests/fixtures/weighted_loss_fixtures.py`):
//! the loss value and its gradient with respect to the network outputs, on every backend.

#![allow(clippy::unwrap_used)]

use burn::prelude::{Tensor, TensorData};
use nerve_loss::Loss;
use nerve_tests::{ATOL, RTOL, assert_close, backends, host, shape, tensor, values};
use serde_json::Value;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/weighted_losses.json")).unwrap()
}

fn check(name: &str) {
    let case = fixtures()["cases"][name].clone();
    assert!(case.is_object(), "no case {name}");
    let loss: Loss = case["loss"].as_str().unwrap().parse().unwrap();
    let inputs = &case["inputs"];
    for kind in backends() {
        let device = kind.autodiff_device().unwrap();
        let output = tensor::<2>(&inputs["output"], &device).require_grad();
        let d_output = output.dims()[1];
        let target_values: Vec<f32> = match inputs["target"].get("i64") {
            Some(ids) => ids
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap() as f32)
                .collect(),
            None => values(&inputs["target"])
                .iter()
                .map(|&v| v as f32)
                .collect(),
        };
        let target_shape = shape(&inputs["target"]);
        let columns = if target_shape.len() == 2 {
            target_shape[1]
        } else {
            1
        };
        let rows = target_values.len() / columns;
        let target =
            Tensor::<2>::from_data(TensorData::new(target_values, [rows, columns]), &device);
        let mut targets = loss.targets(target, d_output).unwrap();
        if inputs.get("class_weights").is_some() {
            targets = targets
                .with_class_weights(&values(&inputs["class_weights"]))
                .unwrap();
        }
        if inputs.get("sample_weights").is_some() {
            let weights: Vec<f32> = values(&inputs["sample_weights"])
                .iter()
                .map(|&w| w as f32)
                .collect();
            targets = targets.with_sample_weights(&weights).unwrap();
        }
        let value = loss.forward(output.clone(), &targets).unwrap();
        let scalar = host(value.clone());
        let grads = value.backward();
        let grad = host(output.grad(&grads).unwrap());
        let what = format!("{name} on {kind}");
        assert_close(
            &format!("{what}: loss"),
            &scalar,
            &values(&case["outputs"]["loss"]),
            ATOL,
            RTOL,
        );
        assert_close(
            &format!("{what}: gradient"),
            &grad,
            &values(&case["outputs"]["grad_output"]),
            ATOL,
            RTOL,
        );
    }
}

/// PyTorch's `F.cross_entropy(z, t, weight=cw)`.
#[test]
fn cross_entropy_with_class_weights() {
    check("ce_class_weights");
}

/// Row weights, one of them 0: that row neither counts nor gets a gradient.
#[test]
fn cross_entropy_with_sample_weights() {
    check("ce_sample_weights");
}

/// Both: each row weighs its sample weight times its class's weight.
#[test]
fn cross_entropy_with_class_and_sample_weights() {
    check("ce_class_and_sample_weights");
}

/// One logit, weights for the classes 0 and 1 (the weighted mean, not `pos_weight`).
#[test]
fn bce_with_class_weights() {
    check("bce_class_weights");
}

/// Several labels per row: a row's loss is the mean over its labels, then weighted.
#[test]
fn multilabel_bce_with_sample_weights() {
    check("bce_sample_weights_multilabel");
}

#[test]
fn mse_with_sample_weights() {
    check("mse_sample_weights");
}

#[test]
fn huber_with_sample_weights() {
    check("huber_sample_weights");
}

/// A mini-batch whose rows all weigh 0 has loss 0 and gradient 0, not 0/0 = NaN.
#[test]
fn a_batch_of_zero_weight_rows_has_loss_zero() {
    for kind in backends() {
        let device = kind.autodiff_device().unwrap();
        let output = Tensor::<2>::from_data(
            TensorData::new(vec![0.3f32, -1.0, 2.0, 0.5], [2, 2]),
            &device,
        )
        .require_grad();
        let target = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0], [2, 1]), &device);
        let targets = Loss::CrossEntropy
            .targets(target, 2)
            .unwrap()
            .with_sample_weights(&[1.0, 0.0])
            .unwrap();
        let batch = targets.select(Tensor::from_data(TensorData::new(vec![1i64], [1]), &device));
        let value = Loss::CrossEntropy
            .forward(output.clone().slice([1..2, 0..2]), &batch)
            .unwrap();
        let grads = value.clone().backward();
        assert_eq!(host(value), [0.0], "{kind}");
        assert!(host(output.grad(&grads).unwrap()).iter().all(|g| *g == 0.0));
    }
}

/// Weights that cannot be a row's weight are refused by row: negative, NaN, infinite, the
/// wrong count, or all 0.
#[test]
fn bad_sample_weights_are_refused() {
    let device = backends()[0].device().unwrap();
    let target = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0, 1.0], [3, 1]), &device);
    let targets = Loss::CrossEntropy.targets(target, 2).unwrap();
    for (weights, expected) in [
        (vec![1.0f32, -0.5, 1.0], "row 1 (from 0) is -0.5"),
        (vec![1.0, 1.0, f32::NAN], "row 2 (from 0) is NaN"),
        (vec![f32::INFINITY, 1.0, 1.0], "row 0 (from 0) is inf"),
        (vec![1.0, 1.0], "2 weights for 3 rows"),
        (vec![0.0, 0.0, 0.0], "every row weighs 0"),
    ] {
        let err = targets
            .clone()
            .with_sample_weights(&weights)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{weights:?}: {err}");
    }
}
