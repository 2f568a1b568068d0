//! `nerve inspect`: what a model file holds, and with `--data`, how its hidden units behave.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::Args;
use nerve_data::{FeatureTransform, TargetTransform, TransformReport};

use crate::charts::{self, Format, SpikeActivity};
use crate::model_input::{ReadFlags, model_inputs, open_model, open_reader, warn_about};
use crate::output::{headline, shorten, write_aligned};
use nerve_run::Columns;
use nerve_run::Delimiter;
use nerve_run::SavedModel;

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

/// Rows read and run through the network at a time by `inspect --data`.
const ACTIVITY_BATCH_ROWS: usize = 65_536;

/// Where a spiking model's picture goes and which row it shows.
struct Picture {
    path: PathBuf,
    row: usize,
}

/// `inspect --data`: each hidden layer's mean activation and dead units on `data`; for a
/// spiking model, firing and the picture.
fn write_activity(
    out: &mut String,
    saved: &SavedModel,
    data: &str,
    delimiter: Option<Delimiter>,
    device: &Device,
    picture: &Picture,
) -> Result<()> {
    if saved.model.is_spiking() {
        crate::output_paths::check_output_file(&picture.path, "--plot", None)?;
        Format::of_path(&picture.path, "--plot")?;
    }
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
    let mut rows_before = 0;
    let mut picture_row = None;
    while let Some(chunk) = reader.next_chunk(ACTIVITY_BATCH_ROWS)? {
        source = chunk.source_name().to_owned();
        let rows: Vec<usize> = (0..chunk.num_rows()).collect();
        if saved.model.is_spiking()
            && (rows_before..rows_before + rows.len()).contains(&picture.row)
        {
            let local = [picture.row - rows_before];
            picture_row = Some(model_inputs(p, &chunk, &local, device, &mut report)?);
        }
        rows_before += rows.len();
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
        write_spiking_activity(out, saved, &layers, &source, spiking)?;
        let Some(x) = picture_row else {
            bail!(
                "--row: row {} does not exist; {source} has {rows_read} data rows, numbered 0 to {}",
                picture.row,
                rows_read - 1
            );
        };
        let chart = spike_picture(saved, &layers, x, &source, picture.row)?;
        let format = Format::of_path(&picture.path, "--plot")?;
        charts::save(&chart, &picture.path, format)?;
        writeln!(out, "Wrote {}", picture.path.display())?;
        return Ok(());
    }
    let activation = saved.model.config().activation;
    writeln!(
        out,
        "\nHidden activity on {source} ({rows_read} rows; a unit is active where its input to the {activation} is positive):"
    )?;
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|layer| {
            let [name, units, mean, dead, shares] = activity_cells(layer);
            vec![name, units, mean, dead, shares]
        })
        .collect();
    let header = [
        "layer",
        "units",
        "mean activation",
        "dead units",
        "share of rows active (min / median / max)",
    ]
    .map(str::to_owned);
    write_aligned(out, &header, &rows)?;
    write_inactive(out, &layers, "units never active")?;
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
    let table: Vec<Vec<String>> = layers
        .iter()
        .map(|layer| {
            let [name, units, rate, silent, shares] = activity_cells(layer);
            let spikes = crate::numbers::value(layer.spikes_per_row.unwrap_or(0.0));
            vec![name, units, rate, silent, spikes, shares]
        })
        .collect();
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
    write_inactive(out, layers, "neurons that never fire")?;
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

/// The picture of a spiking model on one row (`x`, `[1, d_input]`): its hidden neurons' spikes
/// and the membrane of five that fire on about half the steps, and every hidden neuron's
/// firing rate.
fn spike_picture(
    saved: &SavedModel,
    layers: &[nerve_model::LayerActivity],
    x: burn::prelude::Tensor<2>,
    source: &str,
    row: usize,
) -> Result<SpikeActivity> {
    let trace = saved
        .model
        .spike_trace(x)
        .ok_or_else(|| anyhow::anyhow!("not a spiking model"))?;
    let hidden = &trace.layers[..trace.layers.len() - 1];
    let read = |t: &burn::prelude::Tensor<2>| -> Result<Vec<f32>> {
        t.clone()
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|err| anyhow::anyhow!("cannot read the trace: {err:?}"))
    };
    let mut raster = Vec::new();
    let mut layer_starts = Vec::new();
    // (spike count, layer, neuron, membrane per step)
    let mut neurons: Vec<(usize, usize, usize, Vec<f64>)> = Vec::new();
    for (l, layer) in hidden.iter().enumerate() {
        layer_starts.push((raster.len(), format!("layers.{l}")));
        let spikes: Vec<Vec<f32>> = layer.spikes.iter().map(read).collect::<Result<_>>()?;
        let membrane: Vec<Vec<f32>> = layer.membrane.iter().map(read).collect::<Result<_>>()?;
        let width = spikes.first().map_or(0, Vec::len);
        for n in 0..width {
            let fired: Vec<usize> = (0..spikes.len()).filter(|&t| spikes[t][n] > 0.5).collect();
            let potential: Vec<f64> = membrane.iter().map(|m| f64::from(m[n])).collect();
            neurons.push((fired.len(), l, n, potential));
            raster.push(fired);
        }
    }
    // Neurons that fire on about half the steps show the whole cycle (charge, fire, reset);
    // one firing at every step sits above threshold and never resets visibly.
    let steps = saved
        .model
        .config()
        .spiking
        .as_ref()
        .map_or(0, |s| s.time_steps);
    neurons.sort_by_key(|&(count, l, n, _)| ((2 * count).abs_diff(steps), l, n));
    let traces = neurons
        .into_iter()
        .take(5)
        .map(|(count, l, n, potential)| (format!("layers.{l} #{n} ({count} spikes)"), potential))
        .collect();
    let threshold = saved
        .model
        .neurons()
        .first()
        .and_then(|n| n.threshold.clone().into_data().try_to_vec_as::<f32>().ok())
        .and_then(|v| v.first().copied())
        .map_or(1.0, f64::from);
    let spiking = saved.model.config().spiking.as_ref();
    Ok(SpikeActivity {
        title: format!(
            "{source}: {} neurons, {} time steps",
            spiking.map_or(String::new(), |s| s.neuron.to_string()),
            spiking.map_or(0, |s| s.time_steps)
        ),
        row,
        raster,
        layer_starts,
        time_steps: spiking.map_or(0, |s| s.time_steps),
        traces,
        threshold,
        rates: layers
            .iter()
            .flat_map(|l| l.firing_rates.clone().unwrap_or_default())
            .collect(),
    })
}

/// A layer's row of the activity tables: name, units, mean activation (firing rate), inactive
/// units with their share, and the share of rows each unit is active on.
fn activity_cells(layer: &nerve_model::LayerActivity) -> [String; 5] {
    let (min, median, max) = layer.active_share_range();
    [
        format!("layers.{}", layer.layer),
        layer.units.to_string(),
        format!("{:.4}", layer.mean_activation),
        format!(
            "{} ({:.1}%)",
            layer.dead_units,
            100.0 * layer.dead_fraction()
        ),
        format!("{min:.2} / {median:.2} / {max:.2}"),
    ]
}

/// One line per layer with inactive units, listing them (`what`: how they are called).
fn write_inactive(
    out: &mut String,
    layers: &[nerve_model::LayerActivity],
    what: &str,
) -> Result<()> {
    for layer in layers.iter().filter(|l| l.dead_units > 0) {
        let units: Vec<String> = layer
            .inactive_units()
            .iter()
            .map(ToString::to_string)
            .collect();
        writeln!(
            out,
            "  layers.{} {what}: {}",
            layer.layer,
            shorten(&units, 20)
        )?;
    }
    Ok(())
}
