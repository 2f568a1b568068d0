//! # nerve-examples
//!
//! The tutorial as a runnable path: `examples/01_neuron.rs` to `examples/07_your_csv.rs`, one
//! concept each, run with `cargo run --release --example 01_neuron` (and so on). This small
//! library holds what several of them share: the tutorial's 4-row table and a way to print a
//! tensor.
//!
//! ```
//! let device = nerve_backend::BackendKind::default().device()?;
//! let (x, y) = nerve_examples::tutorial_table(&device);
//! assert_eq!((x.dims(), y.dims()), ([4, 4], [4, 1]));
//! # Ok::<(), nerve_backend::BackendError>(())
//! ```

use burn::prelude::{Device, Tensor, TensorData};

/// The tutorial's table: four rows of four 0/1 inputs and a 0/1 target (the CSV is
/// `datasets/xor.csv`; `configs/xor.toml` trains on it).
pub const TABLE: [([f32; 4], f32); 4] = [
    ([1.0, 0.0, 0.0, 1.0], 0.0),
    ([0.0, 1.0, 0.0, 0.0], 1.0),
    ([0.0, 0.0, 1.0, 0.0], 1.0),
    ([1.0, 1.0, 1.0, 1.0], 0.0),
];

/// The table as tensors on `device`.
///
/// # Shapes
///
/// - inputs: `[4, 4]`, targets: `[4, 1]`
pub fn tutorial_table(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let inputs: Vec<f32> = TABLE.iter().flat_map(|(x, _)| *x).collect();
    let targets: Vec<f32> = TABLE.iter().map(|(_, y)| *y).collect();
    (
        Tensor::from_data(TensorData::new(inputs, [4, 4]), device),
        Tensor::from_data(TensorData::new(targets, [4, 1]), device),
    )
}

/// The values of a float tensor, row-major.
pub fn values<const D: usize>(tensor: &Tensor<D>) -> Vec<f32> {
    tensor
        .to_data()
        .try_to_vec_as::<f32>()
        .unwrap_or_else(|err| unreachable!("a float tensor reads as f32: {err:?}"))
}

/// A matrix as indented rows of numbers with four decimals, under its name and shape.
pub fn show(name: &str, tensor: &Tensor<2>) -> String {
    let [rows, columns] = tensor.dims();
    let values = values(tensor);
    let mut text = format!("{name}  [{rows}, {columns}]\n");
    for row in values.chunks(columns.max(1)) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>8.4}")).collect();
        text.push_str(&format!("    {}\n", cells.join(" ")));
    }
    text
}
