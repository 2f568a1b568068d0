//! 06 — the trainer: 05's loop in a few lines with nerve-train.
//!
//! Run: `cargo run --release --example 06_trainer`
//!
//! The same network, seed, learning rate, stopping rule and data as 05_gradient_descent, given
//! to `Trainer::fit`: it runs the epochs (one full-batch step each here), computes gradients with
//! burn's autodiff, steps burn's SGD optimizer, and reports each epoch to an observer. This is
//! what `nerve train` (and `just train`) runs, with configs/xor.toml's settings.

#![allow(clippy::print_stdout)]

use nerve_backend::BackendKind;
use nerve_data::Dataset;
use nerve_examples::{TABLE, values};
use nerve_loss::Loss;
use nerve_model::MlpConfig;
use nerve_train::{BatchSize, EpochReport, Observer, OptimizerConfig, TrainConfig, Trainer};

/// Prints the epochs 05 printed.
struct PrintEpochs;

impl Observer for PrintEpochs {
    fn on_epoch(&mut self, report: &EpochReport) {
        let e = report.epoch;
        if e <= 3 || e.is_power_of_two() {
            println!(
                "{e:>9}  {:>10.3e}  {:>14.3e}",
                report.loss(),
                report.grad_norm
            );
        }
    }
}

fn main() -> anyhow::Result<()> {
    let features: Vec<f32> = TABLE.iter().flat_map(|(x, _)| x.to_vec()).collect();
    let targets: Vec<f32> = TABLE.iter().map(|(_, t)| *t).collect();
    let names = (0..4).map(|i| format!("x{i}")).collect();
    let data = Dataset::from_parts("the tutorial's table", names, "target", features, targets)?;

    let config = TrainConfig {
        num_epochs: 1000,
        batch_size: BatchSize::Full,
        loss: Loss::Mse,
        optimizer: OptimizerConfig::sgd(0.1, 0.0),
        tol: 1e-6,
        seed: 7,
        ..TrainConfig::default()
    };
    let device = BackendKind::default().autodiff_device()?;
    nerve_backend::seed(&device, config.seed);
    let model = MlpConfig::new(4, vec![5], 1).init(&device);

    println!("    epoch        loss   gradient norm");
    let outcome = Trainer::new(config).fit(model, &data, None, &device, &mut PrintEpochs)?;
    let last = outcome.history.last().map_or(0, |r| r.epoch);
    println!(
        "\nStopped after {last} epochs: {}; final loss {:.3e}.",
        outcome.stop_reason.describe(),
        outcome.final_loss
    );

    let plain = device.without_autodiff();
    let y = values(&outcome.model.forward(data.features_tensor(&plain)));
    println!("\nPredictions (target in brackets):");
    for (row, (prediction, target)) in y.iter().zip(data.targets()).enumerate() {
        println!("  row {row}: {prediction:.4}  ({target})");
    }
    Ok(())
}
