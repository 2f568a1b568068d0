//! `inspect --data`: each hidden layer's activity on the rows — mean activation and dead
//! units, or for a spiking network firing rates, silent neurons and the spike picture.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::prelude::Device;
use nerve_data::TransformReport;
use nerve_run::{Columns, Delimiter, SavedModel};

use crate::charts::{self, Format, SpikeActivity};
use crate::model_input::{model_inputs, warn_about};
use crate::output::{shorten, write_aligned};

/// Rows read and run through the network at a time by `inspect --data`.
const ACTIVITY_BATCH_ROWS: usize = 65_536;

/// Where a spiking model's picture goes and which row it shows.
pub(super) struct Picture {
    pub(super) path: PathBuf,
    pub(super) row: usize,
}

/// `inspect --data`: each hidden layer's mean activation and dead units on `data`; for a
/// spiking model, firing and the picture.
pub(super) fn write_activity(
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
    let mut reader = saved.reader(data, delimiter, Columns::Features, &[])?;
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
