//! `nerve bench`: the anchor workloads W1–W6 (`../shared/bench-anchors/workloads.md`, copied
//! into BENCHMARKS.md) on each backend, one JSON line per run in the anchors' schema.
//!
//! Each (workload, backend) pair runs in its own child process (this binary with `--child`), as
//! the anchors do, so its peak memory is its own. Only the training loop is timed: from the
//! trainer's start to its last epoch, after a throwaway warm-up of up to 20 steps.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::{Device, Tensor, TensorData};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{Dataset, PreprocessOptions, Preprocessor, Standardize, Table, Task};
use nerve_loss::Loss;
use nerve_model::MlpConfig;
use nerve_train::{
    BatchSize, EpochReport, NoopObserver, Observer, OptimizerConfig, Scores, TrainConfig,
    TrainPlan, Trainer,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use crate::value_parser;

/// The workloads, in the anchors' order.
const WORKLOADS: [&str; 6] = ["xor", "iris", "digits", "diabetes", "mnist_like", "wide"];

/// Flags of `nerve bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Workloads to run: xor, iris, digits, diabetes, mnist_like, wide (default: all).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    workload: Vec<String>,
    /// Backends to run (default: every compiled-in one).
    #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = value_parser::<BackendKind>)]
    backend: Vec<BackendKind>,
    /// Timed repeats per workload and backend; repeat r uses seed r. The summary reports medians.
    #[arg(long, value_name = "N", default_value_t = 3)]
    repeats: usize,
    /// Run one workload on one backend in this process (used by the parent run).
    #[arg(long, hide = true)]
    child: bool,
}

/// Runs `nerve bench`.
pub(crate) fn run(args: BenchArgs) -> Result<ExitCode> {
    let workloads: Vec<String> = if args.workload.is_empty() {
        WORKLOADS.iter().map(|w| (*w).to_owned()).collect()
    } else {
        args.workload.clone()
    };
    for w in &workloads {
        if !WORKLOADS.contains(&w.as_str()) {
            bail!(
                "unknown workload `{w}`; expected one of {}",
                WORKLOADS.join(", ")
            );
        }
    }
    let backends = if args.backend.is_empty() {
        BackendKind::available()
    } else {
        args.backend.clone()
    };
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    if args.child {
        let (Some(workload), Some(&backend)) = (workloads.first(), backends.first()) else {
            bail!("--child needs one workload and one backend");
        };
        return child(workload, backend, args.repeats).map(|()| ExitCode::SUCCESS);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; benchmark with `cargo run --release -p nerve -- bench`");
    }
    let exe = std::env::current_exe().context("cannot find this program to run the workloads")?;
    let mut records = Vec::new();
    for workload in &workloads {
        for backend in &backends {
            eprintln!("running {workload} on {backend} ({} repeats)", args.repeats);
            let mut child = Command::new(&exe)
                .args(["bench", "--child", "--workload", workload, "--backend"])
                .arg(backend.name())
                .args(["--repeats", &args.repeats.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .context("cannot start a benchmark process")?;
            let stdout = child.stdout.take().context("no stdout")?;
            for line in BufReader::new(stdout).lines() {
                let line = line?;
                println!("{line}");
                let _ = std::io::stdout().flush();
                if let Ok(record) = serde_json::from_str::<Value>(&line) {
                    records.push(record);
                }
            }
            let status = child.wait()?;
            if !status.success() {
                bail!("the {workload} benchmark on {backend} failed ({status})");
            }
        }
    }
    eprint!("{}", summary(&records));
    Ok(ExitCode::SUCCESS)
}

/// Medians per workload and implementation, as a table.
fn summary(records: &[Value]) -> String {
    let mut out = String::from(
        "\nworkload     impl            median wall s   samples/s    us/step  metric                 median   peak MB\n",
    );
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in records {
        let key = (
            r["workload"].as_str().unwrap_or("?").to_owned(),
            r["impl"].as_str().unwrap_or("?").to_owned(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (workload, implementation) in keys {
        let runs: Vec<&Value> = records
            .iter()
            .filter(|r| r["workload"] == workload.as_str() && r["impl"] == implementation.as_str())
            .collect();
        let median = |field: &str| -> f64 {
            let mut v: Vec<f64> = runs.iter().filter_map(|r| r[field].as_f64()).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        out.push_str(&format!(
            "{workload:<12} {implementation:<15} {:>13.4} {:>11.0} {:>10.1}  {:<20} {:>8.4} {:>9.0}\n",
            median("wall_s_train"),
            median("samples_per_s"),
            median("time_per_step_us"),
            runs.first().and_then(|r| r["metric_name"].as_str()).unwrap_or("?"),
            median("metric"),
            median("peak_rss_mb"),
        ));
    }
    out
}

/// One workload's data and settings.
struct Workload {
    train: Dataset,
    test: Option<Dataset>,
    sizes: Vec<usize>,
    loss: Loss,
    optimizer: OptimizerConfig,
    batch_size: BatchSize,
    num_epochs: usize,
    shuffle: bool,
    target_scale: f64,
    metric_name: &'static str,
}

/// Runs `repeats` timed runs of `name` on `backend` and prints one JSON line each.
fn child(name: &str, backend: BackendKind, repeats: usize) -> Result<()> {
    let device = backend.autodiff_device()?;
    let plain = device.clone().without_autodiff();
    let w = workload(name, &plain)?;
    let n_train = w.train.len();
    let batch = w.batch_size.resolve(n_train);
    let steps = w.num_epochs * n_train.div_ceil(batch);
    let params: usize = w.sizes.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
    for rep in 0..repeats {
        let config = TrainConfig {
            num_epochs: w.num_epochs,
            batch_size: w.batch_size,
            loss: w.loss,
            optimizer: w.optimizer.clone(),
            seed: rep as u64,
            shuffle: w.shuffle,
            ..TrainConfig::default()
        };
        let mlp = MlpConfig::new(
            w.sizes[0],
            w.sizes[1..w.sizes.len() - 1].to_vec(),
            w.sizes[w.sizes.len() - 1],
        );
        // Warm-up: a throwaway model, up to 20 steps on the first rows.
        let warm_rows = n_train.min(20 * batch);
        let warm = subset(&w.train, warm_rows)?;
        let warm_config = TrainConfig {
            num_epochs: (20 / warm_rows.div_ceil(batch)).max(1),
            ..config.clone()
        };
        Trainer::new(warm_config).fit(
            mlp.init(&device),
            &warm,
            None,
            &device,
            &mut NoopObserver,
        )?;

        device.seed(rep as u64);
        let model = mlp.init(&device);
        let trainer = Trainer::new(config).with_target_scale(w.target_scale);
        let mut clock = Clock::default();
        let outcome = trainer.fit(model, &w.train, None, &device, &mut clock)?;
        let wall = clock.wall();
        let final_loss = outcome.history.last().map_or(f64::NAN, EpochReport::loss);
        let scored = w.test.as_ref().unwrap_or(&w.train);
        let part = trainer.evaluate(&outcome.model, scored, &plain)?;
        let metric = match (&part.scores, name) {
            (Scores::Regression(m), "xor") => m.mse,
            (Scores::Regression(m), _) => m.r2,
            (Scores::Classification(m), _) => m.accuracy,
        };
        let record = json!({
            "workload": name,
            "impl": format!("nerve-{}", backend.name()),
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "wall_s_train": wall,
            "samples_per_s": (w.num_epochs * n_train) as f64 / wall,
            "time_per_step_us": wall * 1e6 / steps as f64,
            "metric_name": w.metric_name,
            "metric": metric,
            "final_loss": final_loss,
            "peak_rss_mb": peak_rss_mb(),
            "record": "bench",
            "rep": rep,
            "seed": rep,
            "n_train": n_train,
            "epochs": w.num_epochs,
            "steps": steps,
            "train_flops_6PN": 6 * params * w.num_epochs * n_train,
            "versions": {"nerve": env!("CARGO_PKG_VERSION"), "burn": "0.22.1"},
        });
        println!("{record}");
    }
    Ok(())
}

/// Times the training loop: from the trainer's start to its last epoch.
#[derive(Default)]
struct Clock {
    start: Option<Instant>,
    end: Option<Instant>,
}

impl Clock {
    fn wall(&self) -> f64 {
        match (self.start, self.end) {
            (Some(start), Some(end)) => (end - start).as_secs_f64(),
            _ => f64::NAN,
        }
    }
}

impl Observer for Clock {
    fn on_start(&mut self, _plan: &TrainPlan) {
        self.start = Some(Instant::now());
    }

    fn on_epoch(&mut self, _report: &EpochReport) {
        self.end = Some(Instant::now());
    }
}

/// The first `rows` rows of `data`.
fn subset(data: &Dataset, rows: usize) -> Result<Dataset> {
    let d = data.d_input();
    Ok(Dataset::from_parts(
        data.source_name(),
        data.feature_names().to_vec(),
        data.target_name(),
        data.features()[..rows * d].to_vec(),
        data.targets()[..rows].to_vec(),
    )?)
}

/// Peak resident memory of this process, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The built-in data set `name`, split by the anchors' indices and preprocessed as the
/// workload says.
fn split_data(
    name: &str,
    task: Task,
    standardize: bool,
    standardize_target: bool,
) -> Result<(Dataset, Dataset, f64)> {
    let builtin = crate::builtin::dataset(name).context("a built-in data set")?;
    let table = Table::from_csv_str(name, builtin.csv)?;
    let splits: Value = serde_json::from_str(crate::builtin::SPLITS)?;
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

fn workload(name: &str, device: &Device) -> Result<Workload> {
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
    };
    Ok(match name {
        "xor" => {
            let table =
                Table::from_csv_str("xor", crate::builtin::dataset("xor").context("xor")?.csv)?;
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
        },
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
