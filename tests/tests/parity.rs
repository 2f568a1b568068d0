//! Losses, gradients and optimizer steps against PyTorch (`tests/fixtures/parity.json`), on every
//! backend. Each test names the fixture case; `tests/fixtures/fixtures.py` computed the values.

#![allow(clippy::unwrap_used)]

use burn::prelude::{Device, Tensor, TensorData};
use nerve_loss::Loss;
use nerve_model::{Mlp, MlpConfig};
use nerve_tests::{ATOL, RTOL, assert_close, backends, case, host, tensor, values};
use nerve_train::{OptimizerConfig, train_step};
use serde_json::Value;

/// Computes `loss` of the case's inputs and its gradient with respect to the prediction.
fn loss_and_grad(loss: Loss, pred: Tensor<2>, target: Tensor<2>) -> (f64, Vec<f64>) {
    let pred = pred.require_grad();
    let value = loss.compute(pred.clone(), target).unwrap();
    let scalar = host(value.clone())[0];
    let grads = value.backward();
    (scalar, host(pred.grad(&grads).unwrap()))
}

fn check_loss_case(name: &str, loss: Loss, pred_key: &str, target_key: &str, grad_key: &str) {
    let c = case(name);
    for kind in backends() {
        let device = kind.autodiff_device().unwrap();
        let pred_enc = &c["inputs"][pred_key];
        // One-dimensional fixtures (BCE extreme) become a single column.
        let as_2d = |enc: &Value| -> Tensor<2> {
            let t: Tensor<2> = if enc["shape"].as_array().unwrap().len() == 1 {
                let n = values(enc).len();
                tensor::<1>(enc, &device).reshape([n, 1])
            } else {
                tensor::<2>(enc, &device)
            };
            t
        };
        let pred = as_2d(pred_enc);
        let target_enc = &c["inputs"][target_key];
        let target = if loss == Loss::CrossEntropy {
            let n = values(target_enc).len();
            let ids: Vec<f32> = values(target_enc).into_iter().map(|v| v as f32).collect();
            Tensor::<2>::from_data(burn::prelude::TensorData::new(ids, [n, 1]), &device)
        } else {
            as_2d(target_enc)
        };
        let (value, grad) = loss_and_grad(loss, pred, target);
        let what = format!("{name} on {kind}");
        assert_close(
            &format!("{what}: loss"),
            &[value],
            &values(&c["outputs"]["loss"]),
            ATOL,
            RTOL,
        );
        assert_close(
            &format!("{what}: grad"),
            &grad,
            &values(&c["outputs"][grad_key]),
            ATOL,
            RTOL,
        );
    }
}

#[test]
fn mse_matches_pytorch() {
    check_loss_case("mse", Loss::Mse, "pred", "target", "grad_pred");
}

#[test]
fn cross_entropy_matches_pytorch() {
    check_loss_case(
        "cross_entropy",
        Loss::CrossEntropy,
        "logits",
        "targets",
        "grad_logits",
    );
}

#[test]
fn cross_entropy_with_extreme_logits_matches_pytorch() {
    check_loss_case(
        "cross_entropy_extreme",
        Loss::CrossEntropy,
        "logits",
        "targets",
        "grad_logits",
    );
}

#[test]
fn cross_entropy_probabilities_match_pytorch_softmax() {
    for name in ["cross_entropy", "cross_entropy_extreme"] {
        let c = case(name);
        for kind in backends() {
            let device = kind.device().unwrap();
            let probs =
                Loss::CrossEntropy.predictions(tensor::<2>(&c["inputs"]["logits"], &device));
            let expected = values(&c["outputs"]["softmax"]);
            assert_close(
                &format!("{name} softmax on {kind}"),
                &host(probs),
                &expected,
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn probabilities_have_one_column_per_class() {
    // bce's single logit becomes [1 - sigmoid, sigmoid]; cross-entropy's rows are softmax;
    // regression outputs pass through. Checked against the formulas, on both backends.
    for kind in backends() {
        let device = kind.device().unwrap();
        let logits = [-2.0f32, 0.0, 3.5];
        let x = Tensor::<2>::from_data(TensorData::new(logits.to_vec(), [3, 1]), &device);
        let got = host(Loss::BinaryCrossEntropy.probabilities(x.clone()));
        let expected: Vec<f64> = logits
            .iter()
            .flat_map(|&z| {
                let p = 1.0 / (1.0 + (-f64::from(z)).exp());
                [1.0 - p, p]
            })
            .collect();
        assert_close(
            &format!("bce probabilities on {kind}"),
            &got,
            &expected,
            ATOL,
            RTOL,
        );
        let values = host(Loss::Mse.probabilities(x.clone()));
        assert_close(
            &format!("mse passes through on {kind}"),
            &values,
            &host(x),
            0.0,
            0.0,
        );
        let rows = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 0.5, -1.0], [2, 2]),
            &device,
        );
        let softmax = host(Loss::CrossEntropy.probabilities(rows.clone()));
        assert_close(
            &format!("cross-entropy probabilities on {kind}"),
            &softmax,
            &host(Loss::CrossEntropy.predictions(rows)),
            0.0,
            0.0,
        );
    }
}

#[test]
fn bce_with_logits_matches_pytorch() {
    check_loss_case(
        "bce_with_logits",
        Loss::BinaryCrossEntropy,
        "logits",
        "targets",
        "grad_logits",
    );
}

#[test]
fn bce_with_extreme_logits_matches_pytorch() {
    check_loss_case(
        "bce_with_logits_extreme",
        Loss::BinaryCrossEntropy,
        "logits",
        "targets",
        "grad_logits",
    );
}

/// The fixture's 3-4-2 ReLU network, built on `device` from its `[in, out]` weights.
fn fixture_mlp(params: &Value, device: &Device) -> Mlp {
    let config = MlpConfig::new(3, vec![4], 2);
    Mlp::from_parameters(
        &config,
        vec![
            (tensor(&params["w1"], device), tensor(&params["b1"], device)),
            (tensor(&params["w2"], device), tensor(&params["b2"], device)),
        ],
    )
    .unwrap()
}

fn mlp_parameters(mlp: &Mlp) -> [Vec<f64>; 4] {
    let layers = mlp.layers();
    let bias = |i: usize| host(layers[i].bias.as_ref().unwrap().val());
    [
        host(layers[0].weight.val()),
        bias(0),
        host(layers[1].weight.val()),
        bias(1),
    ]
}

#[test]
fn mlp_forward_loss_and_every_gradient_match_pytorch() {
    let c = case("mlp");
    for kind in backends() {
        let device = kind.autodiff_device().unwrap();
        let mlp = fixture_mlp(&c["inputs"], &device);
        let x = tensor::<2>(&c["inputs"]["x"], &device);
        let out = mlp.forward(x);
        assert_close(
            &format!("mlp out on {kind}"),
            &host(out.clone()),
            &values(&c["outputs"]["out"]),
            ATOL,
            RTOL,
        );
        let loss = Loss::Mse
            .compute(out, tensor(&c["inputs"]["target"], &device))
            .unwrap();
        assert_close(
            &format!("mlp loss on {kind}"),
            &host(loss.clone()),
            &values(&c["outputs"]["loss"]),
            ATOL,
            RTOL,
        );
        let grads = loss.backward();
        let layers = mlp.layers();
        let grad_of = |i: usize| {
            let w = host(layers[i].weight.val().grad(&grads).unwrap());
            let b = host(layers[i].bias.as_ref().unwrap().val().grad(&grads).unwrap());
            (w, b)
        };
        for (i, layer) in [(0, "1"), (1, "2")] {
            let (w, b) = grad_of(i);
            let name = |p: &str| format!("mlp grad_{p}{layer} on {kind}");
            assert_close(
                &name("w"),
                &w,
                &values(&c["outputs"][format!("grad_w{layer}")]),
                ATOL,
                RTOL,
            );
            assert_close(
                &name("b"),
                &b,
                &values(&c["outputs"][format!("grad_b{layer}")]),
                ATOL,
                RTOL,
            );
        }
    }
}

/// Runs nerve-train's own `train_step` for each step of a fixture case and compares the
/// parameters after every step and the loss before it.
fn check_steps(step_case: &str, optimizer: OptimizerConfig) {
    let c = case("mlp");
    let steps = &c[step_case];
    for kind in backends() {
        let device = kind.autodiff_device().unwrap();
        let mut model = fixture_mlp(&c["inputs"], &device);
        let mut optim = optimizer.init();
        let x = tensor::<2>(&c["inputs"]["x"], &device);
        let targets = Loss::Mse
            .targets(tensor(&c["inputs"]["target"], &device), 2)
            .unwrap();
        let losses_before = values(&steps["loss_before_each_step"]);
        for (i, expected) in steps["params_after_step"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let out = train_step(
                model,
                &mut optim,
                Loss::Mse,
                x.clone(),
                &targets,
                0.01,
                None,
            )
            .unwrap();
            model = out.model;
            let what = format!("{step_case} step {} on {kind}", i + 1);
            assert_close(
                &format!("{what}: loss before"),
                &host(out.loss),
                &[losses_before[i]],
                ATOL,
                RTOL,
            );
            let [w1, b1, w2, b2] = mlp_parameters(&model);
            for (name, got) in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)] {
                assert_close(
                    &format!("{what}: {name}"),
                    &got,
                    &values(&expected[name]),
                    ATOL,
                    RTOL,
                );
            }
        }
    }
}

#[test]
fn one_sgd_step_matches_torch_optim_sgd() {
    check_steps("sgd_step", OptimizerConfig::sgd(0.01, 0.0));
}

#[test]
fn three_sgd_steps_match_torch_optim_sgd() {
    check_steps("sgd_3_steps", OptimizerConfig::sgd(0.01, 0.0));
}

#[test]
fn one_adam_step_matches_torch_optim_adam() {
    check_steps("adam_step", OptimizerConfig::adam(0.01));
}

#[test]
fn three_adam_steps_match_torch_optim_adam() {
    check_steps("adam_3_steps", OptimizerConfig::adam(0.01));
}
