//! The data recipes of W1–W7: which rows, which network, which optimizer, as the anchors
//! define them (BENCHMARKS.md; W7's anchor is `bench/anchors/snntorch_spiking.py`).

use anyhow::{Context, Result, bail};
use burn::prelude::{Device, Tensor, TensorData};
use nerve_data::{Dataset, PreprocessOptions, Preprocessor, Standardize, Table, Task};
use nerve_loss::Loss;
use nerve_model::SpikingConfig;
use nerve_train::{BatchSize, OptimizerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

/// One workload's data and settings.
pub(super) struct Workload {
    pub(super) train: Dataset,
    pub(super) test: Option<Dataset>,
    pub(super) sizes: Vec<usize>,
    pub(super) loss: Loss,
    pub(super) optimizer: OptimizerConfig,
    pub(super) batch_size: BatchSize,
    pub(super) num_epochs: usize,
    pub(super) shuffle: bool,
    pub(super) target_scale: f64,
    pub(super) metric_name: &'static str,
    /// A spiking network's settings (W7), else a rate network.
    pub(super) spiking: Option<SpikingConfig>,
}

/// The first `rows` rows of `data`.
pub(super) fn subset(data: &Dataset, rows: usize) -> Result<Dataset> {
    let d = data.d_input();
    Ok(Dataset::from_parts(
        data.source_name(),
        data.feature_names().to_vec(),
        data.target_name(),
        data.features()[..rows * d].to_vec(),
        data.targets()[..rows].to_vec(),
    )?)
}

/// The built-in data set `name`, split by the anchors' indices and preprocessed as the
/// workload says.
fn split_data(
    name: &str,
    task: Task,
    standardize: bool,
    standardize_target: bool,
) -> Result<(Dataset, Dataset, f64)> {
    let builtin = nerve_run::builtin::dataset(name).context("a built-in data set")?;
    let table = Table::from_csv_str(name, builtin.csv)?;
    let splits: Value = serde_json::from_str(nerve_run::builtin::SPLITS)?;
    let indices = |part: &str| -> Vec<usize> {
        splits[name][part]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_u64().map(|v| v as usize))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (train_rows, test_rows) = (indices("train"), indices("test"));
    let target = table
        .column_names()
        .last()
        .map(|t| (*t).to_owned())
        .unwrap_or_default();
    let options = PreprocessOptions {
        standardize: if standardize {
            Standardize::ZScore
        } else {
            Standardize::None
        },
        standardize_target,
        ..PreprocessOptions::default()
    };
    let p = Preprocessor::fit(&table, &target, task, &train_rows, &options)?;
    let scale = p.target_scale();
    Ok((
        p.transform(&table, &train_rows)?,
        p.transform(&table, &test_rows)?,
        scale,
    ))
}

pub(super) fn workload(name: &str, device: &Device) -> Result<Workload> {
    let classification = |train, test, sizes, lr, batch, epochs| Workload {
        train,
        test: Some(test),
        sizes,
        loss: Loss::CrossEntropy,
        optimizer: OptimizerConfig::adam(lr),
        batch_size: BatchSize::Rows(batch),
        num_epochs: epochs,
        shuffle: true,
        target_scale: 1.0,
        metric_name: "test_accuracy",
        spiking: None,
    };
    Ok(match name {
        "xor" => {
            let table = Table::from_csv_str(
                "xor",
                nerve_run::builtin::dataset("xor").context("xor")?.csv,
            )?;
            Workload {
                train: table.into_dataset(None)?,
                test: None,
                sizes: vec![4, 5, 1],
                loss: Loss::Mse,
                optimizer: OptimizerConfig::sgd(0.1, 0.0),
                batch_size: BatchSize::Full,
                num_epochs: 1000,
                shuffle: false,
                target_scale: 1.0,
                metric_name: "final_mse",
                spiking: None,
            }
        }
        "iris" => {
            let (train, test, _) = split_data("iris", Task::Classification, true, false)?;
            classification(train, test, vec![4, 16, 3], 0.01, 16, 100)
        }
        "digits" => {
            let (train, test, _) = split_data("digits", Task::Classification, true, false)?;
            classification(train, test, vec![64, 128, 10], 1e-3, 32, 30)
        }
        "diabetes" => {
            let (train, test, scale) = split_data("diabetes", Task::Regression, true, true)?;
            Workload {
                train,
                test: Some(test),
                sizes: vec![10, 32, 1],
                loss: Loss::Mse,
                optimizer: OptimizerConfig::adam(1e-2),
                batch_size: BatchSize::Rows(32),
                num_epochs: 200,
                shuffle: true,
                target_scale: scale,
                metric_name: "test_r2",
                spiking: None,
            }
        }
        "mnist_like" => Workload {
            train: mnist_like(60_000, device)?,
            test: None,
            sizes: vec![784, 256, 128, 10],
            loss: Loss::CrossEntropy,
            optimizer: OptimizerConfig::adam(1e-3),
            batch_size: BatchSize::Rows(128),
            num_epochs: 1,
            shuffle: true,
            target_scale: 1.0,
            metric_name: "train_accuracy",
            spiking: None,
        },
        "wide" => Workload {
            train: mnist_like(5120, device)?,
            test: None,
            sizes: vec![784, 1024, 1024, 10],
            loss: Loss::CrossEntropy,
            optimizer: OptimizerConfig::adam(1e-3),
            batch_size: BatchSize::Rows(256),
            num_epochs: 1,
            shuffle: false,
            target_scale: 1.0,
            metric_name: "train_accuracy_seen",
            spiking: None,
        },
        // W7: the spiking network of `bench/anchors/snntorch_spiking.py` — 64 -> 100 LIF -> 10
        // with a non-spiking leaky readout, beta 0.95, fast sigmoid (slope 25), T = 25, direct
        // coding, Adam 1e-3, batch 128, 5 epochs of the digits training split.
        "spiking_digits" => {
            let (train, test, _) = split_data("digits", Task::Classification, true, false)?;
            Workload {
                spiking: Some(SpikingConfig {
                    beta: 0.95,
                    time_steps: 25,
                    ..SpikingConfig::default()
                }),
                ..classification(train, test, vec![64, 100, 10], 1e-3, 128, 5)
            }
        }
        _ => bail!("unknown workload `{name}`"),
    })
}

/// The anchors' `mnist_like` recipe with Rust's generator (the same shape of work, not the
/// same bytes): X ~ U[0,1) of 60000 x 784; a 784 -> 64 ReLU -> 10 teacher with N(0, 1/fan_in)
/// weights applied to X - 0.5; labels = argmax of the column-centred logits. `rows` keeps the
/// first rows.
fn mnist_like(rows: usize, device: &Device) -> Result<Dataset> {
    const N: usize = 60_000;
    const D: usize = 784;
    let mut rng = StdRng::seed_from_u64(0);
    let x: Vec<f32> = (0..N * D).map(|_| rng.random::<f32>()).collect();
    let _ = device;
    let mut normal = |n: usize, std: f64| -> Vec<f32> {
        // Box-Muller: two uniforms give one standard normal.
        (0..n)
            .map(|_| {
                let u: f64 = 1.0 - rng.random::<f64>();
                let v: f64 = rng.random::<f64>();
                ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() * std) as f32
            })
            .collect()
    };
    let w1 = normal(D * 64, 1.0 / (D as f64).sqrt());
    let w2 = normal(64 * 10, 1.0 / 8.0);
    // The teacher's logits, a few thousand rows at a time: no second copy of X.
    const CHUNK: usize = 6_000;
    let w1 = Tensor::<2>::from_data(TensorData::new(w1, [D, 64]), device);
    let w2 = Tensor::<2>::from_data(TensorData::new(w2, [64, 10]), device);
    let mut logits: Vec<f32> = Vec::with_capacity(N * 10);
    for start in (0..N).step_by(CHUNK) {
        let rows_here = CHUNK.min(N - start);
        let chunk = Tensor::<2>::from_data(
            TensorData::new(
                x[start * D..(start + rows_here) * D].to_vec(),
                [rows_here, D],
            ),
            device,
        );
        let hidden = burn::tensor::activation::relu(chunk.sub_scalar(0.5).matmul(w1.clone()));
        logits.extend(
            hidden
                .matmul(w2.clone())
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|err| anyhow::anyhow!("cannot read the logits: {err:?}"))?,
        );
    }
    // Centre each class column (in f64), then take the argmax, ties to the lowest class.
    let mut means = [0.0f64; 10];
    for row in logits.chunks(10) {
        for (m, &v) in means.iter_mut().zip(row) {
            *m += f64::from(v) / N as f64;
        }
    }
    let labels: Vec<f32> = logits
        .chunks(10)
        .take(rows)
        .map(|row| {
            let mut best = 0;
            for k in 1..10 {
                if f64::from(row[k]) - means[k] > f64::from(row[best]) - means[best] {
                    best = k;
                }
            }
            best as f32
        })
        .collect();
    let mut x = x;
    x.truncate(rows * D);
    let names = (0..D).map(|j| format!("x{j}")).collect();
    Ok(Dataset::from_parts(
        "mnist_like",
        names,
        "label",
        x,
        labels,
    )?)
}
