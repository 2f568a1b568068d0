//! 01 — one neuron: a weighted sum of its inputs plus a bias, then an activation.
//!
//! Run: `cargo run --release --example 01_neuron`
//!
//! A neuron takes inputs x₁…xₙ, multiplies each by a weight, adds a bias, and passes the sum z
//! through an activation: ReLU (max(0, z), the tutorial's choice) or the sigmoid 1 / (1 + e⁻ᶻ).
//! First by hand, then with burn's `Linear` layer, which computes the same sum for many neurons
//! and rows at once as a matrix product.

#![allow(clippy::print_stdout)]

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::{Tensor, TensorData};
use nerve_backend::BackendKind;
use nerve_examples::{TABLE, values};
use nerve_model::Activation;

fn main() -> anyhow::Result<()> {
    let weights = [0.5f32, -0.3, 0.8, 0.1];
    let bias = 0.2f32;
    println!("One neuron with weights {weights:?} and bias {bias}\n");

    println!("By hand:");
    let mut by_hand = Vec::new();
    for (x, _) in TABLE {
        let terms: Vec<String> = x
            .iter()
            .zip(weights)
            .map(|(x, w)| format!("{w}·{x}"))
            .collect();
        let z: f32 = x.iter().zip(weights).map(|(x, w)| x * w).sum::<f32>() + bias;
        let relu = z.max(0.0);
        let sigmoid = 1.0 / (1.0 + (-z).exp());
        println!(
            "  x = {x:?}: z = {} + {bias} = {z:+.4}   relu(z) = {relu:.4}   sigmoid(z) = {sigmoid:.4}",
            terms.join(" + ")
        );
        by_hand.push((z, relu, sigmoid));
    }

    // The same neuron as a burn Linear layer: 4 inputs -> 1 output. burn stores the weight as
    // [d_input, d_output], so the layer computes z = x W + b for all four rows at once.
    let device = BackendKind::default().device()?;
    let layer = Linear {
        weight: Param::from_tensor(Tensor::<2>::from_data(
            TensorData::new(weights.to_vec(), [4, 1]),
            &device,
        )),
        bias: Some(Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(vec![bias], [1]),
            &device,
        ))),
    };
    let x: Vec<f32> = TABLE.iter().flat_map(|(x, _)| x.to_vec()).collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [4, 4]), &device);
    let z = layer.forward(x);
    let relu = values(&Activation::Relu.forward(z.clone()));
    let sigmoid = values(&Activation::Sigmoid.forward(z.clone()));
    let z = values(&z);

    println!("\nWith burn's Linear layer (x [4, 4] times W [4, 1], plus b):");
    for (i, (hz, hr, hs)) in by_hand.iter().enumerate() {
        println!(
            "  row {i}: z = {:+.4}   relu(z) = {:.4}   sigmoid(z) = {:.4}",
            z[i], relu[i], sigmoid[i]
        );
        let same = (hz - z[i]).abs() < 1e-6 && (hr - relu[i]).abs() < 1e-6;
        anyhow::ensure!(
            same && (hs - sigmoid[i]).abs() < 1e-6,
            "row {i} differs from the hand computation"
        );
    }
    println!("\nThe layer agrees with the hand computation on every row.");
    println!(
        "Where z < 0, ReLU outputs 0: the neuron is silent for that input (row 1 here), and, as \
         04_backprop shows, passes no gradient back either."
    );
    Ok(())
}
