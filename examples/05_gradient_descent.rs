//! 05 — gradient descent: the update rule θ ← θ − α ∂L/∂θ, by hand, on the tutorial's table.
//!
//! Run: `cargo run --release --example 05_gradient_descent`
//!
//! The tutorial's loop: forward pass, loss, gradients (from burn's autodiff, as 04_backprop
//! checked), then every weight steps against its gradient with learning rate α = 0.1 — until the
//! gradient's norm nears zero (below 1e-6) or 1000 iterations pass. The network starts from the
//! same seeded weights as 02 and 04, and 06_trainer runs the same loop with nerve-train.

#![allow(clippy::print_stdout)]

use burn::prelude::Tensor;
use burn::tensor::activation::relu;
use nerve_backend::BackendKind;
use nerve_examples::{tutorial_table, values};
use nerve_model::MlpConfig;

const LEARNING_RATE: f64 = 0.1;
const TOLERANCE: f64 = 1e-6;
const MAX_ITERATIONS: usize = 1000;

fn main() -> anyhow::Result<()> {
    let device = BackendKind::default().autodiff_device()?;
    nerve_backend::seed(&device, 7);
    let model = MlpConfig::new(4, vec![5], 1).init(&device);
    let [hidden, output] = model.layers() else {
        anyhow::bail!("expected two layers");
    };
    let bias = |layer: &burn::nn::Linear| -> anyhow::Result<Tensor<1>> {
        layer
            .bias
            .as_ref()
            .map(|b| b.val())
            .ok_or_else(|| anyhow::anyhow!("no bias"))
    };
    // The parameters as plain tensors: W1 [4, 5], b1 [5], W2 [5, 1], b2 [1].
    let (mut w1, mut b1) = (hidden.weight.val().detach(), bias(hidden)?.detach());
    let (mut w2, mut b2) = (output.weight.val().detach(), bias(output)?.detach());
    let (x, t) = tutorial_table(&device);

    println!("iteration        loss   gradient norm");
    let mut iteration: usize = 0;
    loop {
        iteration += 1;
        // Fresh leaves of the graph each iteration, so backward reaches them.
        let (p1, q1) = (w1.clone().require_grad(), b1.clone().require_grad());
        let (p2, q2) = (w2.clone().require_grad(), b2.clone().require_grad());
        // Forward: y = relu(x W1 + b1) W2 + b2; loss: mean squared error.
        let h = relu(x.clone().matmul(p1.clone()) + q1.clone().unsqueeze::<2>());
        let y = h.matmul(p2.clone()) + q2.clone().unsqueeze::<2>();
        let loss = (y - t.clone()).powi_scalar(2).mean();
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = loss.backward();
        let (Some(g1), Some(c1), Some(g2), Some(c2)) = (
            p1.grad(&grads),
            q1.grad(&grads),
            p2.grad(&grads),
            q2.grad(&grads),
        ) else {
            anyhow::bail!("every parameter has a gradient");
        };
        let squares = [
            values(&g1),
            values(&c1.clone().unsqueeze::<2>()),
            values(&g2),
            values(&c2.clone().unsqueeze::<2>()),
        ];
        let norm = squares
            .iter()
            .flatten()
            .map(|&g| f64::from(g).powi(2))
            .sum::<f64>()
            .sqrt();
        let converged = norm < TOLERANCE;
        if iteration <= 3 || iteration.is_power_of_two() || converged || iteration == MAX_ITERATIONS
        {
            println!("{iteration:>9}  {loss_value:>10.3e}  {norm:>14.3e}");
        }
        if converged || iteration == MAX_ITERATIONS {
            let why = if converged {
                "the gradient norm fell below 1e-6"
            } else {
                "the iteration limit"
            };
            println!("\nStopped after {iteration} iterations: {why}.");
            break;
        }
        // The update rule: θ ← θ − α ∂L/∂θ. The gradients live on the plain device, so they
        // enter as constants; `detach` makes each result a new leaf for the next iteration.
        w1 = (w1 - g1.mul_scalar(LEARNING_RATE)).detach();
        b1 = (b1 - c1.mul_scalar(LEARNING_RATE)).detach();
        w2 = (w2 - g2.mul_scalar(LEARNING_RATE)).detach();
        b2 = (b2 - c2.mul_scalar(LEARNING_RATE)).detach();
    }
    let h = relu(x.matmul(w1) + b1.unsqueeze::<2>());
    let y = values(&(h.matmul(w2) + b2.unsqueeze::<2>()));
    println!("\nPredictions after training (target in brackets):");
    for (row, (prediction, target)) in y.iter().zip(values(&t)).enumerate() {
        println!("  row {row}: {prediction:.4}  ({target})");
    }
    Ok(())
}
