//! `nerve bench`: the anchor workloads W1–W6 (`../shared/bench-anchors/workloads.md`, copied
//! into BENCHMARKS.md) on each backend, one JSON line per run in the anchors' schema.
//!
//! Each (workload, backend) pair runs in its own child process (this binary with `--child`), as
//! the anchors do, so its peak memory is its own. Only the training loop is timed: from the
//! trainer's start to its last epoch, after a throwaway warm-up of up to 20 steps.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_model::MlpConfig;
use nerve_train::{EpochReport, NoopObserver, Observer, Scores, TrainConfig, TrainPlan, Trainer};
use serde_json::{Value, json};

use crate::choice;

mod workloads;

use workloads::{subset, workload};

/// The workloads, in the anchors' order.
const WORKLOADS: [&str; 7] = [
    "xor",
    "iris",
    "digits",
    "diabetes",
    "mnist_like",
    "wide",
    "spiking_digits",
];

/// Flags of `nerve bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Workloads to run: xor, iris, digits, diabetes, mnist_like, wide, spiking_digits
    /// [default: all]
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    workload: Vec<String>,
    /// Backends to run [default: every compiled-in one]
    #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = choice::<BackendKind>())]
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
                crate::output::print(&format!("{line}\n"))?;
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
        )
        .with_spiking(w.spiking.clone());
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
        crate::output::print(&format!("{record}\n"))?;
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
