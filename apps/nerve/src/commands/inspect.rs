//! `nerve inspect`: what a model file holds, and with `--data`, how its hidden units behave.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::Args;
use nerve_data::{FeatureTransform, TargetTransform, TransformReport};

use crate::model_input::{Columns, ReadFlags, model_inputs, open_model, open_reader, warn_about};
use crate::output::{headline, shorten, write_aligned};
use crate::run_config::Delimiter;
use crate::saved_model::SavedModel;

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
    #[command(flatten)]
    read: ReadFlags,
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
    std::io::stdout().lock().write_all(out.as_bytes())?;
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
    let mut reader = open_reader(data, delimiter, saved, Columns::Features, &[])?;
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
    if let Some(spiking) = &saved.model.config().spiking {
        return write_spiking_activity(out, saved, &layers, &source, spiking);
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

/// `inspect --data` on a spiking network: per hidden layer the firing rate, silent neurons and
/// spikes per row, and the synaptic operations a row costs against a rate network's
/// multiply-accumulates.
fn write_spiking_activity(
    out: &mut String,
    saved: &SavedModel,
    layers: &[nerve_model::LayerActivity],
    source: &str,
    spiking: &nerve_model::SpikingConfig,
) -> Result<()> {
    let rows_read = layers.first().map_or(0, |l| l.rows);
    writeln!(
        out,
        "\nSpiking activity on {source} ({rows_read} rows, {} time steps; a neuron is active on a row where it fires at least once):",
        spiking.time_steps
    )?;
    let mut table = Vec::new();
    for layer in layers {
        let mut shares = layer.active_share.clone();
        shares.sort_by(f64::total_cmp);
        let median = shares.get(shares.len() / 2).copied().unwrap_or(0.0);
        table.push(vec![
            format!("layers.{}", layer.layer),
            layer.units.to_string(),
            format!("{:.4}", layer.mean_activation),
            format!(
                "{} ({:.1}%)",
                layer.dead_units,
                100.0 * layer.dead_fraction()
            ),
            crate::numbers::value(layer.spikes_per_row.unwrap_or(0.0)),
            format!(
                "{:.2} / {median:.2} / {:.2}",
                shares.first().copied().unwrap_or(0.0),
                shares.last().copied().unwrap_or(0.0)
            ),
        ]);
    }
    let header = [
        "layer",
        "neurons",
        "firing rate",
        "silent neurons",
        "spikes per row",
        "share of rows firing (min / median / max)",
    ]
    .map(str::to_owned);
    write_aligned(out, &header, &table)?;
    for layer in layers.iter().filter(|l| l.dead_units > 0) {
        let silent: Vec<String> = layer
            .active_share
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s == 0.0)
            .map(|(i, _)| i.to_string())
            .collect();
        writeln!(
            out,
            "  layers.{} neurons that never fire: {}",
            layer.layer,
            shorten(&silent, 20)
        )?;
    }
    if layers.iter().any(|l| l.dead_units > 0) {
        writeln!(
            out,
            "  A silent neuron sends nothing on, and only the surrogate gradient reaches it; a lower --threshold, a larger --beta or more --time-steps make firing easier."
        )?;
    }
    // Each spike of hidden layer i reaches every neuron of layer i + 1 (one synaptic operation,
    // an addition); a rate network multiplies and adds every weight once per row.
    let dims = saved.model.config().layer_dims();
    let synops: f64 = layers
        .iter()
        .map(|l| l.spikes_per_row.unwrap_or(0.0) * dims[l.layer + 1].1 as f64)
        .sum();
    let macs: usize = dims.iter().map(|(i, o)| i * o).sum();
    let (d_in, d_first) = dims[0];
    let input = match spiking.encoding {
        nerve_model::spiking::Encoding::Direct => format!(
            "plus the input layer's {} multiply-accumulates (direct coding: its current is computed once per row)",
            d_in * d_first
        ),
        _ => format!("plus {d_first} per input spike (the input layer)"),
    };
    writeln!(
        out,
        "Synaptic operations per row: {} between spiking layers, {input}; a rate network of the same shape does {macs} multiply-accumulates per row.",
        crate::numbers::value(synops)
    )?;
    Ok(())
}
