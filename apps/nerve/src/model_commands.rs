//! `nerve eval`, `nerve predict` and `nerve inspect`: using a model file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::prelude::{Device, Tensor, TensorData};
use clap::{Args, ValueEnum};
use nerve_backend::BackendKind;
use nerve_data::{
    CsvOptions, FeatureTransform, Missing, NaValues, Preprocessor, Split, SplitOptions, Table,
    TableReader, TargetTransform, Task, TransformReport,
};
use nerve_train::{Scores, Trainer};
use serde_json::json;

use crate::run_config::{Delimiter, resolve_data};
use crate::run_dir::{check_output_file, write_atomically};
use crate::saved_model::{self, SavedModel};
use crate::train_command::{
    class_probabilities, headline, ignore_broken_pipe, shorten, write_aligned, write_confusion,
};
use crate::value_parser;

/// Flags shared by the commands that use a model file: how its data is read and where it runs.
#[derive(Debug, Args)]
pub(crate) struct ReadFlags {
    /// The CSV field delimiter (default: detected).
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>)]
    pub(crate) delimiter: Option<Delimiter>,
    /// CPU backend: flex or ndarray.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<BackendKind>)]
    pub(crate) backend: Option<BackendKind>,
}

/// Which rows `nerve eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// Every row.
    All,
    /// The training rows of the model's own split (same data, split seed and fractions).
    Train,
    /// The validation rows of the model's own split.
    Validation,
    /// The test rows of the model's own split: reproduces the run's test metrics.
    Test,
}

/// Flags of `nerve eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// A model file written by `nerve train` (e.g. runs/X/model.safetensors).
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// A labelled CSV file (columns matched by name), or a built-in data set's name.
    #[arg(long, value_name = "CSV|NAME")]
    data: String,
    /// Which rows to score: all, or the train / validation / test rows of the model's split.
    #[arg(long, value_enum, default_value_t = Part::All)]
    split: Part,
    #[command(flatten)]
    read: ReadFlags,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Flags of `nerve predict`.
#[derive(Debug, Args)]
pub(crate) struct PredictArgs {
    /// A model file written by `nerve train`.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// A CSV file with the feature columns (any order; other columns are ignored), or a
    /// built-in data set's name.
    #[arg(long, value_name = "CSV|NAME")]
    data: String,
    /// Write the predictions here (default: stdout).
    #[arg(long, value_name = "FILE.csv")]
    output: Option<PathBuf>,
    /// Add one probability column per class.
    #[arg(long)]
    proba: bool,
    /// Rows read and predicted at a time.
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    batch_rows: usize,
    #[command(flatten)]
    read: ReadFlags,
}

/// Flags of `nerve inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// A model file written by `nerve train`.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Also run the model on this CSV (or built-in data set) and report each hidden layer's
    /// activity: mean activation and dead units (never active on any row).
    #[arg(long, value_name = "CSV|NAME")]
    data: Option<String>,
    #[command(flatten)]
    read: ReadFlags,
}

pub(crate) fn open_model(
    path: &std::path::Path,
    backend: Option<BackendKind>,
) -> Result<(SavedModel, Device)> {
    let device = backend.unwrap_or_default().device()?;
    let saved = saved_model::load(path, &device)?;
    Ok((saved, device))
}

/// Which of a model's columns a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// The features only (predict, explain, inspect): the target, if present, is not read.
    Features,
    /// The features and the target (eval).
    WithTarget,
}

/// The rows of `data` read for a model: a file or a built-in data set, missing cells kept.
/// Only the model's columns are read, each typed as in training (never re-inferred from the
/// rows at hand), with the run's delimiter (unless given), missing-value strings and
/// thousands separator.
pub(crate) fn open_reader(
    data: &str,
    delimiter: Option<Delimiter>,
    saved: &SavedModel,
    columns: Columns,
) -> Result<TableReader<Box<dyn std::io::Read>>> {
    let run = &saved.config.data;
    let mut kinds = saved.preprocessor.column_kinds();
    if columns == Columns::Features {
        kinds.retain(|(name, _)| name != saved.preprocessor.target_name());
    }
    let options = CsvOptions {
        delimiter: delimiter.or(run.delimiter).map(|d| d.0),
        missing: Missing::Drop,
        na_values: NaValues::with_extra(&run.na_values),
        thousands: run.thousands,
        kinds,
        skip_unlisted: true,
    };
    resolve_data(data)?.reader(&options)
}

/// Runs `nerve eval`.
pub(crate) fn eval(args: EvalArgs) -> Result<ExitCode> {
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let p = &saved.preprocessor;
    let data_config = &saved.config.data;
    let mut table =
        open_reader(&args.data, args.read.delimiter, &saved, Columns::WithTarget)?.read_all()?;
    let present: Vec<String> = data_config
        .ignore
        .iter()
        .filter(|name| table.column_index(name).is_ok())
        .cloned()
        .collect();
    table.remove_columns(&present)?;
    // Rows without a target cannot be scored; incomplete features follow the run's policy.
    let target = p.target_name().to_owned();
    let mut dropped = table.drop_incomplete_rows(&[&target])?.rows_dropped;
    match data_config.missing {
        Missing::Drop => {
            let features: Vec<&str> = p.features.iter().map(FeatureTransform::column).collect();
            for name in &features {
                table.column(name)?;
            }
            dropped += table.drop_incomplete_rows(&features)?.rows_dropped;
        }
        Missing::Error => {
            if let Some((column, _)) = table.missing_counts().first() {
                bail!(
                    "{}: column `{column}` has missing values, and the model was trained with --missing error",
                    table.source_name()
                );
            }
        }
        Missing::Impute => {}
    }
    let rows = part_rows(&table, &saved, args.split)?;
    let data = p.transform(&table, &rows)?;
    let metrics = Trainer::new(saved.config.train_config())
        .with_target_scale(p.target_scale())
        .evaluate(&saved.model, &data, &device)?;
    let mut out = String::new();
    if args.json {
        let mut value = serde_json::to_value(&metrics)?;
        if let Some(labels) = p.labels() {
            value["labels"] = json!(labels);
        }
        value["dropped_rows"] = json!(dropped);
        writeln!(out, "{value}")?;
    } else {
        if dropped > 0 {
            eprintln!("note: left out {dropped} rows with missing values");
        }
        writeln!(
            out,
            "{} ({} rows, {} split) with {}: {}",
            table.source_name(),
            metrics.rows,
            format!("{:?}", args.split).to_lowercase(),
            args.model.display(),
            headline(&metrics)
        )?;
        if let Scores::Classification(m) = &metrics.scores {
            write_confusion(&mut out, p.labels(), m)?;
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .or_else(ignore_broken_pipe)?;
    Ok(ExitCode::SUCCESS)
}

/// The rows of `part` in the model's own split of `table` (as `nerve train` made it).
fn part_rows(table: &Table, saved: &SavedModel, part: Part) -> Result<Vec<usize>> {
    let n = table.num_rows();
    if part == Part::All {
        return Ok((0..n).collect());
    }
    let data = &saved.config.data;
    let all: Vec<usize> = (0..n).collect();
    let split = if n < nerve_data::MIN_ROWS_TO_SPLIT {
        Split {
            train: all,
            ..Split::default()
        }
    } else {
        let strata: Option<Vec<u32>> = match saved.preprocessor.task {
            Task::Classification => Some(
                saved
                    .preprocessor
                    .encode_targets(table, &all)?
                    .iter()
                    .map(|&id| id as u32)
                    .collect(),
            ),
            Task::Regression => None,
        };
        let options = SplitOptions {
            test: data.test_split,
            validation: data.val_split,
            seed: data.split_seed,
        };
        Split::new(n, strata.as_deref(), &options)?
    };
    Ok(match part {
        Part::Train | Part::All => split.train,
        Part::Validation => split.validation,
        Part::Test => split.test,
    })
}

/// Runs `nerve predict`: streams the rows in batches, writes one CSV line per row.
pub(crate) fn predict(args: PredictArgs) -> Result<ExitCode> {
    if args.batch_rows == 0 {
        bail!("--batch-rows must be at least 1");
    }
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let p = &saved.preprocessor;
    let labels = p.labels();
    if args.proba && labels.is_none() {
        bail!("--proba needs a classification model; this one predicts values");
    }
    let loss = saved.config.loss();
    let mut reader = open_reader(&args.data, args.read.delimiter, &saved, Columns::Features)?;
    let mut header = vec!["row".to_owned(), "prediction".to_owned()];
    if args.proba
        && let Some(labels) = labels
    {
        header.extend(labels.iter().map(|l| format!("p_{l}")));
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(&header)?;
    let mut sink = Sink::new(args.output.clone())?;
    sink.write(&csv.into_inner()?)?;
    let mut report = TransformReport::default();
    let mut row_id = 0usize;
    while let Some(chunk) = reader.next_chunk(args.batch_rows)? {
        let rows: Vec<usize> = (0..chunk.num_rows()).collect();
        let x = model_inputs(p, &chunk, &rows, &device, &mut report)?;
        let output = loss.predictions(saved.model.forward(x));
        let [_, width] = output.dims();
        let values = output
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|err| anyhow::anyhow!("cannot read the predictions: {err:?}"))?;
        let mut csv = csv::Writer::from_writer(Vec::new());
        for out in values.chunks(width) {
            row_id += 1;
            let mut record = vec![row_id.to_string()];
            match labels {
                Some(labels) => {
                    let (best, probabilities) = class_probabilities(out);
                    record.push(labels[best].clone());
                    if args.proba {
                        record.extend(probabilities.iter().map(|v| v.to_string()));
                    }
                }
                None => record.push(p.decode_value(out[0]).to_string()),
            }
            csv.write_record(&record)?;
        }
        sink.write(&csv.into_inner()?)?;
    }
    if row_id == 0 {
        bail!(
            "{}: the header row is not followed by any data rows",
            args.data
        );
    }
    sink.finish()?;
    warn_about(&report);
    Ok(ExitCode::SUCCESS)
}

/// Warns about what transforming rows for a model had to make up.
pub(crate) fn warn_about(report: &TransformReport) {
    for (column, n) in &report.unseen {
        eprintln!(
            "warning: {n} value(s) of `{column}` were not seen in training; they are encoded as all zeros"
        );
    }
    for (column, n) in &report.filled {
        eprintln!(
            "warning: {n} missing value(s) of `{column}` were filled with the training rows' mean or most frequent value"
        );
    }
}

/// The network inputs for `rows` of `table`, transformed as in training, as one tensor on
/// `device`; what the transform made up (filled cells, unseen categories) is added to `report`.
///
/// # Shapes
///
/// - result: `[rows.len(), d_input]`
pub(crate) fn model_inputs(
    p: &Preprocessor,
    table: &Table,
    rows: &[usize],
    device: &Device,
    report: &mut TransformReport,
) -> Result<Tensor<2>> {
    let (features, made_up) = p.transform_features(table, rows)?;
    merge(&mut report.filled, made_up.filled);
    merge(&mut report.unseen, made_up.unseen);
    Ok(Tensor::from_data(
        TensorData::new(features, [rows.len(), p.d_input()]),
        device,
    ))
}

/// Adds per-column counts.
fn merge(total: &mut Vec<(String, usize)>, more: Vec<(String, usize)>) {
    for (column, n) in more {
        match total.iter_mut().find(|(c, _)| *c == column) {
            Some((_, m)) => *m += n,
            None => total.push((column, n)),
        }
    }
}

/// Where predictions go: stdout as they come, or a file that appears whole at the end.
enum Sink {
    Stdout,
    File { path: PathBuf, buffer: Vec<u8> },
}

impl Sink {
    fn new(output: Option<PathBuf>) -> Result<Self> {
        Ok(match output {
            None => Sink::Stdout,
            Some(path) => {
                check_output_file(&path, "--output", None)?;
                Sink::File {
                    path,
                    buffer: Vec::new(),
                }
            }
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Stdout => {
                std::io::stdout()
                    .lock()
                    .write_all(bytes)
                    .or_else(ignore_broken_pipe)?;
            }
            Sink::File { buffer, .. } => buffer.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout => Ok(()),
            Sink::File { path, buffer } => write_atomically(&path, &buffer),
        }
    }
}

/// Runs `nerve inspect`.
pub(crate) fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let p = &saved.preprocessor;
    let config = &saved.config;
    let mut out = String::new();
    writeln!(
        out,
        "{} (model format {}, written by nerve {})",
        args.model.display(),
        saved.info.format_version,
        saved.info.nerve_version
    )?;
    writeln!(out, "\n{}", saved.model.summary())?;
    writeln!(out, "\nTask: {} of `{}`", p.task, p.target_name())?;
    match &p.target {
        TargetTransform::Classes { labels, .. } => {
            writeln!(out, "  {} classes: {}", labels.len(), shorten(labels, 20))?;
        }
        TargetTransform::Values { offset, scale, .. } => writeln!(
            out,
            "  values, standardized for training with mean {offset} and scale {scale}"
        )?,
    }
    writeln!(
        out,
        "\nInputs: {} columns -> {} network inputs",
        p.features.len(),
        p.d_input()
    )?;
    let mut rows = Vec::new();
    for feature in &p.features {
        rows.push(match feature {
            FeatureTransform::Numeric {
                column,
                offset,
                scale,
                fill,
                format,
            } => vec![
                column.clone(),
                {
                    // What is stripped, compactly: `numeric ($ , stripped)`.
                    let stripped: Vec<String> = [format.currency, format.thousands]
                        .into_iter()
                        .flatten()
                        .map(String::from)
                        .chain(format.percent.then(|| "%".to_owned()))
                        .collect();
                    if stripped.is_empty() {
                        "numeric".to_owned()
                    } else {
                        format!("numeric ({} stripped)", stripped.join(" "))
                    }
                },
                format!("(x - {offset}) / {scale}"),
                format!("missing -> {fill}"),
            ],
            FeatureTransform::Categorical { column, fill, .. } => vec![
                column.clone(),
                format!("one-hot ({})", feature.width()),
                shorten(
                    &feature
                        .input_names()
                        .iter()
                        .map(|name| name[column.len() + 1..].to_owned())
                        .collect::<Vec<_>>(),
                    6,
                ),
                format!("missing -> {fill}"),
            ],
            FeatureTransform::Date { column, order, .. } => vec![
                column.clone(),
                format!("date ({})", order.pattern()),
                "year, month, day, weekday, days since the earliest, standardized".to_owned(),
                "missing -> training means".to_owned(),
            ],
        });
    }
    let header = ["column", "kind", "transform", "missing"].map(str::to_owned);
    write_aligned(&mut out, &header, &rows)?;

    let training = &config.training;
    writeln!(
        out,
        "\nTraining: data {}, {} loss, {} lr {} ({} schedule), batch {}, up to {} epochs, seed {}, backend {}",
        config.data.path,
        config.loss(),
        config.optimizer.kind,
        config.optimizer.learning_rate,
        config.schedule.name,
        training.batch_size,
        training.num_epochs,
        training.seed,
        config.backend
    )?;
    if let Some(metrics) = saved.metrics() {
        writeln!(
            out,
            "  ran {} epochs ({}), kept epoch {}, {:.2}s",
            metrics["epochs_run"],
            metrics["stop_reason"].as_str().unwrap_or("?"),
            metrics["best_epoch"],
            metrics["seconds"].as_f64().unwrap_or(0.0)
        )?;
        for part in ["train", "validation", "test"] {
            if let Some(m) = metrics.get(part).filter(|m| m.is_object())
                && let Ok(part_metrics) =
                    serde_json::from_value::<nerve_train::PartMetrics>(m.clone())
            {
                writeln!(
                    out,
                    "  {part} ({} rows): {}",
                    part_metrics.rows,
                    headline(&part_metrics)
                )?;
            }
        }
    }

    writeln!(out, "\nWeights:")?;
    let mut rows = Vec::new();
    for (i, layer) in saved.model.layers().iter().enumerate() {
        let bias = layer.bias.as_ref().map(|b| b.val().into_data());
        let tensors = std::iter::once(("weight", layer.weight.val().into_data()))
            .chain(bias.map(|b| ("bias", b)));
        for (kind, data) in tensors {
            let values = data
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|err| anyhow::anyhow!("cannot read the weights: {err:?}"))?;
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = values
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n;
            let min = values.iter().copied().fold(f32::INFINITY, f32::min);
            let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            rows.push(vec![
                format!("layers.{i}.{kind}"),
                format!("{values_len}", values_len = values.len()),
                format!("{mean:.4}"),
                format!("{:.4}", var.sqrt()),
                format!("{min:.4}"),
                format!("{max:.4}"),
            ]);
        }
    }
    let header = ["tensor", "values", "mean", "std", "min", "max"].map(str::to_owned);
    write_aligned(&mut out, &header, &rows)?;
    if let Some(data) = &args.data {
        write_activity(&mut out, &saved, data, args.read.delimiter, &device)?;
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .or_else(ignore_broken_pipe)?;
    Ok(ExitCode::SUCCESS)
}

/// Rows read and run through the network at a time by `inspect --data`.
const ACTIVITY_BATCH_ROWS: usize = 65_536;

/// `inspect --data`: each hidden layer's mean activation and dead units on `data`.
fn write_activity(
    out: &mut String,
    saved: &SavedModel,
    data: &str,
    delimiter: Option<Delimiter>,
    device: &Device,
) -> Result<()> {
    if saved.model.layers().len() == 1 {
        writeln!(
            out,
            "\nHidden activity: none (the network has no hidden layer)"
        )?;
        return Ok(());
    }
    let p = &saved.preprocessor;
    let mut reader = open_reader(data, delimiter, saved, Columns::Features)?;
    let mut report = TransformReport::default();
    let mut layers: Vec<nerve_model::LayerActivity> = Vec::new();
    let mut source = data.to_owned();
    while let Some(chunk) = reader.next_chunk(ACTIVITY_BATCH_ROWS)? {
        source = chunk.source_name().to_owned();
        let rows: Vec<usize> = (0..chunk.num_rows()).collect();
        let x = model_inputs(p, &chunk, &rows, device, &mut report)?;
        let activity = saved.model.hidden_activity(x);
        if layers.is_empty() {
            layers = activity;
        } else {
            for (total, part) in layers.iter_mut().zip(&activity) {
                total.merge(part);
            }
        }
    }
    warn_about(&report);
    let rows_read = layers.first().map_or(0, |l| l.rows);
    if rows_read == 0 {
        bail!("{data}: the header row is not followed by any data rows");
    }
    let activation = saved.model.config().activation;
    writeln!(
        out,
        "\nHidden activity on {source} ({rows_read} rows; a unit is active where its input to the {activation} is positive):"
    )?;
    let mut rows = Vec::new();
    for layer in &layers {
        let mut shares = layer.active_share.clone();
        shares.sort_by(f64::total_cmp);
        let median = shares.get(shares.len() / 2).copied().unwrap_or(0.0);
        rows.push(vec![
            format!("layers.{}", layer.layer),
            layer.units.to_string(),
            format!("{:.4}", layer.mean_activation),
            format!(
                "{} ({:.1}%)",
                layer.dead_units,
                100.0 * layer.dead_fraction()
            ),
            format!(
                "{:.2} / {median:.2} / {:.2}",
                shares.first().copied().unwrap_or(0.0),
                shares.last().copied().unwrap_or(0.0)
            ),
        ]);
    }
    let header = [
        "layer",
        "units",
        "mean activation",
        "dead units",
        "share of rows active (min / median / max)",
    ]
    .map(str::to_owned);
    write_aligned(out, &header, &rows)?;
    for layer in layers.iter().filter(|l| l.dead_units > 0) {
        let dead: Vec<String> = layer
            .active_share
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s == 0.0)
            .map(|(i, _)| i.to_string())
            .collect();
        writeln!(
            out,
            "  layers.{} units never active: {}",
            layer.layer,
            shorten(&dead, 20)
        )?;
    }
    if activation == nerve_model::Activation::Relu && layers.iter().any(|l| l.dead_units > 0) {
        writeln!(
            out,
            "  Dead ReLU units output 0 on every row and get no gradient, so training cannot revive them; a smaller learning rate, another initializer or --activation leaky-relu avoids them."
        )?;
    }
    Ok(())
}
