//! `nerve inspect`: what a model file holds, and with `--data`, how its hidden units behave.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use nerve_data::{FeatureTransform, TargetTransform};

use crate::model_input::{ReadFlags, open_model};
use crate::output::{headline, shorten, write_aligned};

mod activity;

use activity::{Picture, write_activity};

const EXAMPLES: &str = "\
Examples:
  nerve inspect -m runs/iris/model.safetensors
  nerve inspect -m model.safetensors -d iris   # and hidden units' activity";

/// Flags of `nerve inspect`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct InspectArgs {
    /// A model file written by `nerve train`.
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// Also run the model on this CSV (or built-in data set) and report each hidden layer's
    /// activity: mean activation and dead units (never active on any row) [default: the model file
    /// alone]
    #[arg(short, long, value_name = "FILE|NAME")]
    data: Option<String>,
    /// Spiking models with --data: draw the spike raster and membrane traces of this row (0 is
    /// the first row after the header) and every hidden neuron's firing rate.
    #[arg(long, value_name = "N", default_value_t = 0)]
    row: usize,
    /// Spiking models with --data: the picture's file (a .png name draws a PNG) [default:
    /// spikes.svg beside the model file]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    read: ReadFlags,
}

/// Runs `nerve inspect`.
pub(crate) fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let picture_flag = args
        .plot
        .is_some()
        .then_some("--plot")
        .or((args.row != 0).then_some("--row"));
    if let Some(flag) = picture_flag
        && (args.data.is_none() || !saved.model.is_spiking())
    {
        bail!(
            "{flag} draws a spiking model's activity on --data rows; {}",
            if saved.model.is_spiking() {
                "add --data"
            } else {
                "this model is a rate network (its activity is the table inspect --data prints)"
            }
        );
    }
    let p = &saved.preprocessor;
    let mut out = String::new();
    writeln!(
        out,
        "{} (model format {}, written by nerve {})",
        args.model.display(),
        saved.info.format_version,
        saved.info.nerve_version
    )?;
    writeln!(out, "\n{}", saved.model.summary())?;
    writeln!(out, "\nTask: {} of `{}`", p.task(), p.target_name())?;
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
    let header = ["column", "kind", "transform", "missing"].map(str::to_owned);
    write_aligned(&mut out, &header, &input_rows(p))?;
    write_training(&mut out, &saved)?;
    writeln!(out, "\nWeights:")?;
    let header = ["tensor", "values", "mean", "std", "min", "max"].map(str::to_owned);
    write_aligned(&mut out, &header, &weight_rows(&saved)?)?;
    if let Some(data) = &args.data {
        let plot = args.plot.clone().unwrap_or_else(|| {
            args.model
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join("spikes.svg")
        });
        let picture = Picture {
            path: plot,
            row: args.row,
        };
        write_activity(
            &mut out,
            &saved,
            data,
            args.read.delimiter,
            &device,
            &picture,
        )?;
    }
    let out = crate::output::wrap(&out, crate::output::Stream::Stdout);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// A row per input column: its kind, its transform and what a missing cell becomes.
fn input_rows(p: &nerve_data::Preprocessor) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for feature in &p.features {
        rows.push(match feature {
            FeatureTransform::Numeric {
                column,
                offset,
                scale,
                fill,
                format,
                indicator,
                smooth_clip,
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
                match smooth_clip {
                    Some(c) => format!("z = (x - {offset}) / {scale}, z / sqrt(1 + (z/{c})²)"),
                    None => format!("(x - {offset}) / {scale}"),
                },
                match indicator {
                    Some(_) => format!("missing -> {fill}, {column}.missing = 1"),
                    None => format!("missing -> {fill}"),
                },
            ],
            FeatureTransform::Categorical {
                column,
                fill,
                missing_level,
                ..
            } => vec![
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
                if *missing_level {
                    "missing -> its own level".to_owned()
                } else {
                    format!("missing -> {fill}")
                },
            ],
            FeatureTransform::Date {
                column,
                order,
                indicator,
                ..
            } => vec![
                column.clone(),
                format!("date ({})", order.pattern()),
                "year, month, day, weekday, days since the earliest, standardized".to_owned(),
                match indicator {
                    Some(_) => format!("missing -> training means, {column}.missing = 1"),
                    None => "missing -> training means".to_owned(),
                },
            ],
        });
    }
    rows
}

/// How the model was trained: data, loss, optimizer, weights, early stopping, calibration,
/// threshold, and the metrics it recorded.
fn write_training(out: &mut String, saved: &nerve_run::SavedModel) -> Result<()> {
    let (config, p) = (&saved.config, &saved.preprocessor);
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
    if let Some(column) = &config.data.weight_column {
        writeln!(out, "  row weights from column `{column}`")?;
    }
    if let Some(class_weight) = &config.loss.class_weight {
        writeln!(out, "  class weights: {class_weight}")?;
    }
    if training.monitor != nerve_train::Monitor::ValLoss || training.patience > 0 {
        writeln!(
            out,
            "  early stopping watches {} (patience {})",
            training.monitor, training.patience
        )?;
    }
    if let Some(scaling) = saved.info.extra.get(nerve_run::TEMPERATURE_KEY) {
        let t = saved.temperature().unwrap_or(f64::NAN);
        writeln!(
            out,
            "  calibrated: logits divided by temperature {t:.4} (nerve calibrate, on the {}); the metrics below are of the model before calibration",
            scaling
                .get("fitted_on")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?")
        )?;
    }
    if let Some(threshold) = saved.threshold() {
        writeln!(
            out,
            "  decision threshold {threshold} on P(`{}`): predict and eval answer with it",
            p.labels()
                .and_then(|l| l.get(1))
                .map_or("1", String::as_str)
        )?;
    }
    if let Some(metrics) = saved.metrics() {
        writeln!(
            out,
            "  ran {} epochs ({}), kept epoch {}, {:.2}s",
            metrics.epochs_run,
            serde_json::to_value(metrics.stop_reason)?
                .as_str()
                .unwrap_or("?"),
            metrics.best_epoch,
            metrics.seconds
        )?;
        for (part, summary) in metrics.parts() {
            writeln!(
                out,
                "  {part} ({} rows): {}",
                summary.metrics.rows,
                headline(&summary.metrics)
            )?;
        }
    }

    Ok(())
}

/// A row per tensor of the file (the layers', then a spiking network's neuron parameters):
/// its size, mean, standard deviation and range.
fn weight_rows(saved: &nerve_run::SavedModel) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    // Every tensor of the file: the layers', then a spiking network's neuron parameters.
    let mut tensors: Vec<(String, burn::prelude::TensorData)> = Vec::new();
    for (i, layer) in saved.model.layers().iter().enumerate() {
        tensors.push((format!("layers.{i}.weight"), layer.weight.val().into_data()));
        if let Some(bias) = &layer.bias {
            tensors.push((format!("layers.{i}.bias"), bias.val().into_data()));
        }
    }
    for (i, neurons) in saved.model.neurons().into_iter().enumerate() {
        tensors.push((format!("neurons.{i}.beta"), neurons.beta.into_data()));
        tensors.push((
            format!("neurons.{i}.threshold"),
            neurons.threshold.into_data(),
        ));
        if let Some(alpha) = neurons.alpha {
            tensors.push((format!("neurons.{i}.alpha"), alpha.into_data()));
        }
    }
    {
        for (name, data) in tensors {
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
                name,
                format!("{values_len}", values_len = values.len()),
                format!("{mean:.4}"),
                format!("{:.4}", var.sqrt()),
                format!("{min:.4}"),
                format!("{max:.4}"),
            ]);
        }
    }
    Ok(rows)
}
