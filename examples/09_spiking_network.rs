//! 09 — a rate network and a spiking network side by side on handwritten digits.
//!
//! Run: `cargo run --release --example 09_spiking_network`
//!
//! The same 64 -> 100 -> 10 layers twice: once with ReLU units (the tutorial's network), once
//! with leaky integrate-and-fire neurons run for 25 time steps (the digit's pixels as a
//! constant input current; the answer is the output neurons' membrane averaged over the
//! steps). Both are trained by the same trainer — backpropagation, through time for the
//! spiking one, with a surrogate gradient for the spike — and compared: test accuracy, time per
//! epoch, and what the spiking network does instead of multiplying: it fires, and each spike
//! costs one addition per neuron it reaches.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::Tensor;
use nerve_backend::BackendKind;
use nerve_data::{PrepareOptions, Table, prepare};
use nerve_loss::Loss;
use nerve_model::{MlpConfig, SpikingConfig};
use nerve_train::{BatchSize, NoopObserver, OptimizerConfig, Scores, TrainConfig, Trainer};

const EPOCHS: usize = 60;

fn main() -> anyhow::Result<()> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let path = PathBuf::from(manifest).join("../datasets/digits.csv");
    let prepared = prepare(Table::from_csv_path(&path)?, &PrepareOptions::default())?;
    let p = &prepared.preprocessor;
    let test = prepared
        .test
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("digits has a test split"))?;
    println!(
        "digits: {} training rows, {} test rows, {} inputs, {} classes; {EPOCHS} epochs of Adam each\n",
        prepared.train.len(),
        test.len(),
        p.d_input(),
        p.d_output()
    );
    let device = BackendKind::default().autodiff_device()?;
    let plain = device.clone().without_autodiff();
    let config = TrainConfig {
        num_epochs: EPOCHS,
        batch_size: BatchSize::Rows(128),
        optimizer: OptimizerConfig::adam(0.001),
        loss: Loss::CrossEntropy,
        ..TrainConfig::default()
    };
    let spiking = SpikingConfig::default();
    let spiking_time_steps = spiking.time_steps;
    println!("  network                        test accuracy  ms/epoch");
    let mut results = Vec::new();
    for (name, spiking) in [
        ("rate (relu)", None),
        ("spiking (lif, T = 25)", Some(spiking.clone())),
    ] {
        nerve_backend::seed(&device, config.seed);
        let architecture =
            MlpConfig::new(p.d_input(), vec![100], p.d_output()).with_spiking(spiking);
        let trainer = Trainer::new(config.clone());
        let start = Instant::now();
        let outcome = trainer.fit(
            architecture.init(&device),
            &prepared.train,
            None,
            &device,
            &mut NoopObserver,
        )?;
        let per_epoch = start.elapsed().as_secs_f64() * 1000.0 / EPOCHS as f64;
        let metrics = trainer.evaluate(&outcome.model, test, &plain)?;
        let Scores::Classification(m) = &metrics.scores else {
            anyhow::bail!("digits is a classification data set");
        };
        println!("  {name:<29}  {:>13.4}  {per_epoch:>8.1}", m.accuracy);
        results.push((m.accuracy, outcome.model));
    }

    // What the spiking network does on the test rows.
    let (spiking_accuracy, model) = &results[1];
    let x: Tensor<2> = test.features_tensor(&plain);
    let activity = model.hidden_activity(x);
    let layer = &activity[0];
    let spikes = layer.spikes_per_row.unwrap_or(0.0);
    let synops = spikes * p.d_output() as f64;
    let macs = p.d_input() * 100 + 100 * p.d_output();
    println!(
        "\nspiking hidden layer on the test rows: firing rate {:.3} (spikes per neuron per step), {} of 100 neurons silent",
        layer.mean_activation, layer.dead_units
    );
    println!(
        "per row: {spikes:.0} spikes -> {synops:.0} additions into the output layer, against {} multiply-accumulates for the rate network's second layer ({macs} in all)",
        100 * p.d_output()
    );
    // One spike per neuron per row is where the additions match the rate network's
    // multiply-accumulates: a firing rate of 1 / T. Sparser firing is the saving neuromorphic
    // hardware counts on (an addition also costs less energy than a multiply-accumulate).
    let break_even = 1.0 / spiking_time_steps as f64;
    println!(
        "break-even firing rate 1/T = {break_even:.3}: this network fires {}",
        if layer.mean_activation > break_even {
            "more often, so it does more operations than the rate network, not fewer"
        } else {
            "less often, so it does fewer operations than the rate network"
        }
    );
    let (rate_accuracy, _) = &results[0];
    println!(
        "test accuracy: rate {rate_accuracy:.4}, spiking {spiking_accuracy:.4} ({:+.4})",
        spiking_accuracy - rate_accuracy
    );
    anyhow::ensure!(
        *spiking_accuracy > 0.9,
        "the spiking network should learn digits"
    );
    Ok(())
}
