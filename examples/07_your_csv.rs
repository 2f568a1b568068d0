//! 07 — your CSV: read it, prepare it, train, save the model, load it and predict.
//!
//! Run: `cargo run --release --example 07_your_csv [-- FILE.csv [TARGET]]`
//! (default: the bundled `datasets/iris.csv`, target `species`)
//!
//! nerve-data reads the file into typed columns, infers the task, splits off 20 % for testing
//! (stratified, seeded), and fits the scaling and encoding on the training rows only.
//! nerve-train fits a 16-unit network with Adam; nerve-model saves it as a safetensors file with
//! the preprocessing beside the weights, so the loaded model sees new rows exactly as it saw its
//! training rows. This is `nerve train --data FILE --target TARGET` and `nerve predict`, as a
//! library.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use nerve_backend::BackendKind;
use nerve_data::{PrepareOptions, Preprocessor, Table, Task, prepare};
use nerve_loss::Loss;
use nerve_model::{Mlp, MlpConfig};
use nerve_train::{BatchSize, NoopObserver, OptimizerConfig, Scores, TrainConfig, Trainer};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map_or_else(
        || {
            // `cargo run` sets the variable at run time: the checkout being run, even when the
            // binary was built from another one sharing the target folder.
            let manifest = std::env::var("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
            PathBuf::from(manifest).join("../datasets/iris.csv")
        },
        PathBuf::from,
    );
    let target = args.next();

    // Read and prepare: task, split, scaling and encoding fitted on the training rows.
    let path = path.canonicalize().unwrap_or(path);
    let table = Table::from_csv_path(&path)?;
    println!(
        "{}: {} rows, columns {}",
        path.display(),
        table.num_rows(),
        table.column_names().join(", ")
    );
    let options = PrepareOptions {
        target,
        ..PrepareOptions::default()
    };
    let prepared = prepare(table, &options)?;
    let p = &prepared.preprocessor;
    let test = prepared
        .test
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("too few rows to hold out a test split"))?;
    println!(
        "task: {} of `{}`; {} training rows, {} test rows; {} network inputs",
        prepared.task(),
        p.target_name(),
        prepared.train.len(),
        test.len(),
        p.d_input()
    );

    // Train: cross-entropy over one logit per class, or the MSE for values.
    let loss = match prepared.task() {
        Task::Classification => Loss::CrossEntropy,
        Task::Regression => Loss::Mse,
    };
    let config = TrainConfig {
        num_epochs: 100,
        batch_size: BatchSize::Rows(16),
        optimizer: OptimizerConfig::adam(0.01),
        loss,
        ..TrainConfig::default()
    };
    let device = BackendKind::default().autodiff_device()?;
    nerve_backend::seed(&device, config.seed);
    let model = MlpConfig::new(p.d_input(), vec![16], p.d_output()).init(&device);
    let trainer = Trainer::new(config).with_target_scale(p.target_scale());
    let outcome = trainer.fit(model, &prepared.train, None, &device, &mut NoopObserver)?;
    let plain = device.without_autodiff();
    let metrics = trainer.evaluate(&outcome.model, test, &plain)?;
    match &metrics.scores {
        Scores::Classification(m) => println!("test accuracy {:.4}", m.accuracy),
        Scores::Regression(m) => println!("test R² {:.4}", m.r2),
    }

    // Save the weights with the preprocessing, then load both back.
    let file = std::env::temp_dir().join(format!("nerve-07-{}.safetensors", std::process::id()));
    let mut extra = serde_json::Map::new();
    extra.insert("preprocessing".into(), serde_json::to_value(p)?);
    outcome.model.save_file(&file, &extra)?;
    let (loaded, info) = Mlp::load_file(&file, &plain)?;
    let preprocessor: Preprocessor = serde_json::from_value(
        info.extra
            .get("preprocessing")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the file has no preprocessing"))?,
    )?;
    println!(
        "saved and reloaded {} ({})",
        file.display(),
        loaded.summary().lines().next().unwrap_or("")
    );

    // Predict five test rows, spread over the split, from the raw table, as new data would
    // arrive.
    let step = (prepared.split.test.len() / 5).max(1);
    let rows: Vec<usize> = prepared
        .split
        .test
        .iter()
        .copied()
        .step_by(step)
        .take(5)
        .collect();
    let (features, _) = preprocessor.transform_features(&prepared.table, &rows)?;
    let x = burn::prelude::Tensor::<2>::from_data(
        burn::prelude::TensorData::new(features, [rows.len(), preprocessor.d_input()]),
        &plain,
    );
    let outputs = nerve_examples::values(&loss.predictions(loaded.forward(x)));
    let width = outputs.len() / rows.len();
    let actual = prepared.table.column(preprocessor.target_name())?;
    println!("\n  line  actual  predicted");
    for (i, &row) in rows.iter().enumerate() {
        let out = &outputs[i * width..(i + 1) * width];
        let predicted = match preprocessor.labels() {
            Some(labels) => {
                let best = out
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(k, _)| k);
                format!("{} (p {:.3})", labels[best], out[best])
            }
            None => format!("{:.4}", preprocessor.decode_value(out[0])),
        };
        println!(
            "  {:>4}  {}  {predicted}",
            prepared.table.line(row),
            actual.display(row)
        );
    }
    std::fs::remove_file(&file)?;
    Ok(())
}
