//! 02 — the forward pass: input -> hidden -> output, with the shape at every step.
//!
//! Run: `cargo run --release --example 02_forward_pass`
//!
//! The tutorial's network: 4 inputs, one hidden layer of 5 ReLU neurons, 1 output. Each layer is
//! a matrix product plus a bias (01_neuron, for five neurons at once); the hidden layer's
//! activation makes the whole non-linear. Here the layers run one by one and the result is
//! compared with `Mlp::forward`, which does the same in one call.

#![allow(clippy::print_stdout)]

use burn::tensor::activation::relu;
use nerve_backend::BackendKind;
use nerve_examples::{show, tutorial_table, values};
use nerve_model::MlpConfig;

fn main() -> anyhow::Result<()> {
    let device = BackendKind::default().device()?;
    nerve_backend::seed(&device, 7);
    let config = MlpConfig::new(4, vec![5], 1);
    let model = config.init(&device);
    println!("{}\n", model.summary());

    let (x, _) = tutorial_table(&device);
    let [hidden, output] = model.layers() else {
        anyhow::bail!("expected two layers");
    };
    print!("{}", show("x: the input rows", &x));
    print!(
        "{}",
        show(
            "W1: hidden weights (one column per neuron)",
            &hidden.weight.val()
        )
    );
    let z1 = hidden.forward(x.clone());
    print!("{}", show("z1 = x W1 + b1", &z1));
    let h = relu(z1);
    print!("{}", show("h = relu(z1): the hidden layer's output", &h));
    let y = output.forward(h);
    print!("{}", show("y = h W2 + b2: the network's output", &y));

    let direct = model.forward(x);
    let same = values(&direct)
        .iter()
        .zip(values(&y))
        .all(|(a, b)| (a - b).abs() < 1e-6);
    anyhow::ensure!(same, "Mlp::forward disagrees with the step-by-step pass");
    println!(
        "\nShapes: x [4, 4] -> z1, h [4, 5] -> y [4, 1]; Mlp::forward gives the same y.\n\
         The weights are random (seeded), so y is not yet the table's target: training (05, 06) \
         changes that."
    );
    Ok(())
}
