//! `nerve train`: resolve the config, load the data, train, show the results.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::{Device, Module};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{CsvOptions, Dataset, Missing, Table};
use nerve_loss::Loss;
use nerve_model::{Activation, Initializer, Mlp};
use nerve_train::{OptimizerKind, StopReason, TrainOutcome, Trainer};
use serde_json::json;

use crate::progress::Progress;
use crate::run_config::{BatchSize, DataSource, Delimiter, HiddenWidths, RunConfig, resolve_data};

/// Flags of `nerve train`. Each overrides the same setting of `--config` (or of the tutorial's
/// config when no `--config` is given).
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// A TOML run config (see configs/xor.toml); default: the tutorial's network.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// A CSV file with a header row, or a built-in data set's name.
    #[arg(long, value_name = "CSV|NAME")]
    data: Option<String>,
    /// The CSV field delimiter: `,`, `;`, `tab`, ... (default: detected from the header line).
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>)]
    delimiter: Option<Delimiter>,
    /// Rows with missing values (empty, NA, N/A, NaN, null): `drop` (default) or `error`.
    #[arg(long, value_name = "drop|error", value_parser = value_parser::<MissingFlag>)]
    missing: Option<MissingFlag>,
    /// The target column (default: the last column).
    #[arg(long, value_name = "COLUMN")]
    target: Option<String>,
    /// Hidden layer widths, e.g. `5` or `64,32`; `none` for a linear model.
    #[arg(long, value_name = "WIDTHS", value_parser = value_parser::<HiddenWidths>)]
    hidden: Option<HiddenWidths>,
    /// Activation after each hidden layer.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Activation>)]
    activation: Option<Activation>,
    /// Weight initializer: pytorch, kaiming-uniform, kaiming-normal, xavier-uniform, xavier-normal.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Initializer>)]
    initializer: Option<Initializer>,
    /// Loss: mse, cross-entropy, bce, huber.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Loss>)]
    loss: Option<Loss>,
    /// Optimizer: sgd or adam.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<OptimizerKind>)]
    optimizer: Option<OptimizerKind>,
    /// SGD momentum (0 = plain gradient descent).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// Learning rate.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Epoch limit.
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Rows per step, or `full` for full-batch gradient descent.
    #[arg(long, value_name = "N|full", value_parser = value_parser::<BatchSize>)]
    batch_size: Option<BatchSize>,
    /// Stop once the gradient's global L2 norm falls below this (0: never).
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    tol: Option<f64>,
    /// Seed for initialisation and shuffling.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// CPU backend: flex or ndarray (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = value_parser::<BackendKind>)]
    backend: Option<BackendKind>,
    /// Folder for the run's files (the resolved config.toml).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print JSON lines (one per epoch, then a summary) instead of text.
    #[arg(long)]
    json: bool,
}

/// The value of `--missing`.
#[derive(Debug, Clone, Copy)]
struct MissingFlag(Missing);

impl std::str::FromStr for MissingFlag {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(MissingFlag(Missing::Drop)),
            "error" => Ok(MissingFlag(Missing::Error)),
            _ => Err(format!("unknown policy `{text}`; expected drop or error")),
        }
    }
}

/// Overwrites `dst` with the flag's value when the flag was given.
fn set<T: Clone>(dst: &mut T, flag: &Option<T>) {
    if let Some(value) = flag {
        *dst = value.clone();
    }
}

fn value_parser<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(|err| err.to_string())
}

impl TrainArgs {
    /// The config file (or the tutorial's), with every given flag applied on top.
    fn resolve(&self) -> Result<RunConfig> {
        let mut config = match &self.config {
            Some(path) => RunConfig::load(path)?,
            None => RunConfig::parse(crate::builtin::XOR_CONFIG, "configs/xor.toml", None)?,
        };
        if let Some(data) = &self.data {
            config.data.path = data.clone();
            // A new data set makes the old target column and delimiter meaningless.
            config.data.target = None;
            config.data.delimiter = None;
        }
        if self.delimiter.is_some() {
            config.data.delimiter = self.delimiter;
        }
        set(&mut config.data.missing, &self.missing.map(|m| m.0));
        if self.target.is_some() {
            config.data.target = self.target.clone();
        }
        set(
            &mut config.model.d_hidden,
            &self.hidden.clone().map(|h| h.0),
        );
        set(&mut config.model.activation, &self.activation);
        set(&mut config.model.initializer, &self.initializer);
        set(&mut config.train.loss, &self.loss);
        set(&mut config.train.optimizer.kind, &self.optimizer);
        set(&mut config.train.optimizer.momentum, &self.momentum);
        set(&mut config.train.learning_rate, &self.lr);
        set(&mut config.train.num_epochs, &self.epochs);
        set(&mut config.train.batch_size, &self.batch_size.map(|b| b.0));
        set(&mut config.train.tol, &self.tol);
        set(&mut config.train.seed, &self.seed);
        set(&mut config.backend, &self.backend);
        config.validate()?;
        Ok(config)
    }
}

/// Runs `nerve train`.
pub(crate) fn run(args: TrainArgs) -> Result<()> {
    if cfg!(debug_assertions) && !args.json {
        eprintln!(
            "warning: this is a debug build of nerve; training will be slow. Build with `cargo run --release -p nerve -- train`."
        );
    }
    let mut config = args.resolve()?;
    let data = load_data(&mut config)?;
    let d_output = output_width(config.train.loss, &data)?;
    let mlp_config = config.model.mlp(data.d_input(), d_output);
    mlp_config.validate().context("invalid [model]")?;

    let device = config.backend.autodiff_device()?;
    nerve_backend::seed(&device, config.train.seed);
    let model = mlp_config.init(&device);

    if !args.json {
        eprintln!(
            "Training on {} ({} rows, target `{}`), backend {}, {} lr {}, {} loss, up to {} epochs\n{}",
            data.source_name(),
            data.len(),
            data.target_name(),
            config.backend,
            config.train.optimizer.kind,
            config.train.learning_rate,
            config.train.loss,
            config.train.num_epochs,
            model.summary(),
        );
    }
    if let Some(out) = &args.out {
        save_run_config(out, &config)?;
    }

    let mut progress = Progress::new(args.json);
    let outcome = Trainer::new(config.train.clone()).fit(model, &data, &device, &mut progress);
    progress.finish();
    let outcome = outcome?;

    let plain = device.without_autodiff();
    let outputs = predictions(&outcome.model, config.train.loss, &data, &plain);
    if args.json {
        print_json_summary(&config, &outcome, &outputs)
    } else {
        print_table(&config, &data, &outcome, &outputs)
    }
}

/// Reads the data the config names, and records its resolved location in the config.
fn load_data(config: &mut RunConfig) -> Result<Dataset> {
    let table = match resolve_data(&config.data.path)? {
        DataSource::File(path) => {
            // The saved config must work from any folder, so it records an absolute path.
            if let Ok(absolute) = std::path::absolute(&path) {
                config.data.path = absolute.display().to_string();
            }
            let options = CsvOptions {
                delimiter: config.data.delimiter.map(|d| d.0),
                missing: config.data.missing,
            };
            Table::open(&path, &options)?
        }
        DataSource::Builtin(text) => Table::from_csv_str(&config.data.path, text)?,
    };
    if table.dropped_rows() > 0 {
        let per_column: Vec<String> = table
            .missing_counts()
            .iter()
            .map(|(column, n)| format!("`{column}` {n}"))
            .collect();
        eprintln!(
            "note: left out {} of {} rows with missing values (missing per column: {}); --missing error refuses such files",
            table.dropped_rows(),
            table.dropped_rows() + table.num_rows(),
            per_column.join(", ")
        );
    }
    let data = table.into_dataset(config.data.target.as_deref())?;
    config.data.target = Some(data.target_name().to_owned());
    Ok(data)
}

/// One output per target column for regression and binary losses; one logit per class for
/// cross-entropy, the classes being the integer ids `0..=max` found in the target column.
fn output_width(loss: Loss, data: &Dataset) -> Result<usize> {
    /// More classes than this is surely a regression target or a data error, and would make a
    /// network too large to allocate.
    const MAX_CLASSES: usize = 65_536;
    if !loss.takes_class_ids() {
        return Ok(1);
    }
    let max = data.targets().iter().copied().fold(0.0f32, f32::max);
    // Out-of-range or fractional ids are reported by the loss with their row; this only sizes
    // the network, so it refuses sizes no class column can need.
    if max >= MAX_CLASSES as f32 {
        bail!(
            "{}, target column `{}`: class id {max} is too large; cross-entropy expects class ids 0..n for n classes (at most {MAX_CLASSES})",
            data.source_name(),
            data.target_name()
        );
    }
    Ok(max.max(0.0) as usize + 1)
}

/// The network's predictions for every row: values for regression, probabilities otherwise.
fn predictions(model: &Mlp, loss: Loss, data: &Dataset, device: &Device) -> Vec<Vec<f32>> {
    let model = model.clone().fork(device);
    let output = loss.predictions(model.forward(data.features_tensor(device)));
    let [rows, width] = output.dims();
    let values = output
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32 above");
    (0..rows)
        .map(|i| values[i * width..(i + 1) * width].to_vec())
        .collect()
}

fn save_run_config(out: &Path, config: &RunConfig) -> Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create run folder {}", out.display()))?;
    write_atomically(&out.join("config.toml"), config.to_toml()?.as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a reader
/// never sees a half-written file and an interrupted write leaves the old one intact.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let temporary = path.with_file_name(format!(".{}.tmp", file_name.to_string_lossy()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

fn stop_text(outcome: &TrainOutcome) -> &'static str {
    match outcome.stop_reason {
        StopReason::EpochLimit => "epoch limit reached",
        StopReason::Converged => "gradient norm below tol",
    }
}

fn print_table(
    config: &RunConfig,
    data: &Dataset,
    outcome: &TrainOutcome,
    outputs: &[Vec<f32>],
) -> Result<()> {
    const SHOWN: usize = 20;
    let mut text = String::new();
    let epochs = outcome.history.len();
    let seconds = outcome
        .history
        .last()
        .map_or(0.0, |r| r.elapsed.as_secs_f64());
    writeln!(
        text,
        "Output after {epochs} epochs ({}, {seconds:.2}s, {:.1} µs/epoch):",
        stop_text(outcome),
        seconds * 1e6 / epochs.max(1) as f64,
    )?;
    // Wide data would make an unreadable table: show the first few features, then an ellipsis.
    const FEATURES_SHOWN: usize = 8;
    let hidden_features = data.d_input() > FEATURES_SHOWN;
    let shown_features = if hidden_features {
        FEATURES_SHOWN - 1
    } else {
        data.d_input()
    };
    let mut header: Vec<String> = data.feature_names()[..shown_features].to_vec();
    if hidden_features {
        header.push("…".to_owned());
    }
    header.push(data.target_name().to_owned());
    header.push("output".to_owned());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (i, output) in outputs.iter().enumerate().take(SHOWN) {
        let mut row: Vec<String> = data.features_of(i)[..shown_features]
            .iter()
            .map(|v| format!("{v}"))
            .collect();
        if hidden_features {
            row.push("…".to_owned());
        }
        row.push(format!("{}", data.targets()[i]));
        let shown: Vec<String> = output.iter().map(|v| format!("{v:.4}")).collect();
        row.push(shown.join(" "));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:>w$}"))
            .collect();
        format!("  {}", padded.join("  "))
    };
    writeln!(text, "{}", line(&header))?;
    for row in &rows {
        writeln!(text, "{}", line(row))?;
    }
    if outputs.len() > SHOWN {
        writeln!(text, "  ... {} more rows", outputs.len() - SHOWN)?;
    }
    writeln!(
        text,
        "Final {} loss: {:.3e} (backend {})",
        config.train.loss, outcome.final_loss, config.backend
    )?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .or_else(ignore_broken_pipe)?;
    Ok(())
}

fn print_json_summary(
    config: &RunConfig,
    outcome: &TrainOutcome,
    outputs: &[Vec<f32>],
) -> Result<()> {
    let seconds = outcome
        .history
        .last()
        .map_or(0.0, |r| r.elapsed.as_secs_f64());
    let line = json!({
        "event": "summary",
        "final_loss": outcome.final_loss,
        "epochs_run": outcome.history.len(),
        "stop_reason": outcome.stop_reason,
        "backend": config.backend.name(),
        "seconds": seconds,
        "outputs": outputs,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").or_else(ignore_broken_pipe)?;
    Ok(())
}

fn ignore_broken_pipe(err: std::io::Error) -> std::io::Result<()> {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(err)
    }
}
