//! 03 — losses: how far the outputs are from the targets, from the formulas and from nerve-loss.
//!
//! Run: `cargo run --release --example 03_losses`
//!
//! - Mean squared error, for values: `(1/n) Σ (yᵢ − tᵢ)²`.
//! - Cross-entropy, for classes: the network outputs one logit zₖ per class; softmax turns them
//!   into probabilities pₖ = e^zₖ / Σⱼ e^zⱼ, and the loss is `−(1/n) Σ log p_{tᵢ}`, the mean
//!   surprise at the true class.
//! - Binary cross-entropy, for one 0/1 target from one logit z, with p = sigmoid(z):
//!   `−(1/n) Σ [t log p + (1 − t) log(1 − p)]`.
//!
//! nerve-loss computes each over burn's own losses (numerically stable on logits); the numbers
//! must match the formulas.

#![allow(clippy::print_stdout)]

use burn::prelude::{Tensor, TensorData};
use nerve_backend::BackendKind;
use nerve_loss::Loss;

fn tensor(values: Vec<f32>, shape: [usize; 2], device: &burn::prelude::Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn compare(name: &str, by_hand: f64, library: f32) -> anyhow::Result<()> {
    let difference = (by_hand - f64::from(library)).abs();
    println!(
        "  {name:<22} formula {by_hand:.6}   nerve-loss {library:.6}   |difference| {difference:.1e}"
    );
    anyhow::ensure!(difference < 1e-5, "{name}: the two disagree");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let device = BackendKind::default().device()?;
    println!("Each loss from its formula and from nerve-loss:\n");

    // MSE: outputs for the tutorial's four rows against their targets.
    let outputs = [0.1f32, 0.9, 0.8, 0.2];
    let targets = [0.0f32, 1.0, 1.0, 0.0];
    let mse: f64 = outputs
        .iter()
        .zip(targets)
        .map(|(y, t)| f64::from(y - t).powi(2))
        .sum::<f64>()
        / 4.0;
    let loss = Loss::Mse;
    let t = loss.targets(tensor(targets.to_vec(), [4, 1], &device), 1)?;
    let value = loss.forward(tensor(outputs.to_vec(), [4, 1], &device), &t)?;
    println!("outputs {outputs:?}, targets {targets:?}");
    compare("mean squared error", mse, value.into_scalar::<f32>())?;

    // Cross-entropy: two rows, three classes; the true classes are 0 and 2.
    let logits = [[2.0f32, 0.5, -1.0], [0.1, 0.2, 3.0]];
    let classes = [0usize, 2];
    let mut ce = 0.0f64;
    for (z, &class) in logits.iter().zip(&classes) {
        let sum: f64 = z.iter().map(|&v| f64::from(v).exp()).sum();
        let p = f64::from(z[class]).exp() / sum;
        println!("logits {z:?}: softmax probability of the true class {class} = {p:.4}");
        ce -= p.ln() / classes.len() as f64;
    }
    let loss = Loss::CrossEntropy;
    let t = loss.targets(tensor(vec![0.0, 2.0], [2, 1], &device), 3)?;
    let flat: Vec<f32> = logits.iter().flatten().copied().collect();
    let value = loss.forward(tensor(flat, [2, 3], &device), &t)?;
    compare("cross-entropy", ce, value.into_scalar::<f32>())?;

    // Binary cross-entropy on logits.
    let logits = [1.5f32, -0.5, 0.3];
    let targets = [1.0f32, 0.0, 0.0];
    let mut bce = 0.0f64;
    for (&z, &t) in logits.iter().zip(&targets) {
        let p = 1.0 / (1.0 + (-f64::from(z)).exp());
        bce -= (f64::from(t) * p.ln() + (1.0 - f64::from(t)) * (1.0 - p).ln()) / 3.0;
    }
    let loss = Loss::BinaryCrossEntropy;
    let t = loss.targets(tensor(targets.to_vec(), [3, 1], &device), 1)?;
    let value = loss.forward(tensor(logits.to_vec(), [3, 1], &device), &t)?;
    println!("logits {logits:?}, targets {targets:?}");
    compare("binary cross-entropy", bce, value.into_scalar::<f32>())?;

    println!(
        "\nA confident wrong answer costs most: a true-class probability of 0.01 adds −ln 0.01 = \
         {:.2} to the cross-entropy sum, 0.9 only {:.2}.",
        -(0.01f64).ln(),
        -(0.9f64).ln()
    );
    Ok(())
}
