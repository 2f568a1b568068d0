//! `nerve explain`: which features a model's answers come from, by integrated gradients.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::prelude::{Tensor, TensorData};
use clap::Args;
use nerve_data::{Table, TransformReport};
use nerve_model::{Attributions, IntegratedGradients};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use serde_json::json;

use crate::charts::{self, AttributionBars, Bars, Format};
use crate::model_input::{ReadFlags, model_inputs, open_model, warn_about};
use nerve_run::Columns;

mod explanation;
mod rows;

use explanation::{Direction, Explanation};

use rows::{completeness_gap, join, row_json, write_row};

const EXAMPLES: &str = "\
Examples:
  nerve explain -m runs/diabetes/model.safetensors -d diabetes
  nerve explain -m model.safetensors -d customers.csv --rows 0,5 --by-category
  nerve explain -m model.safetensors -d iris --plot why.png --json";

/// Flags of `nerve explain`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ExplainArgs {
    /// A model file written by `nerve train`.
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// A CSV file with the feature columns (any order; others are ignored), or a built-in data
    /// set's name.
    #[arg(short, long, value_name = "FILE|NAME")]
    data: String,
    /// Explain these data rows only (0 is the first row after the header), e.g. `--rows 0,5,9`:
    /// each gets its own table [default: every row, up to --max-rows, summarised]
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    rows: Vec<usize>,
    /// Points on the path from the baseline to each row; more is more exact (see the
    /// completeness line) and slower.
    #[arg(long, value_name = "N", default_value_t = IntegratedGradients::default().steps)]
    steps: usize,
    /// Without --rows, at most this many rows (a seeded random sample of larger files).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    max_rows: usize,
    /// Features listed (and drawn); 0 for all.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Show each category of a categorical column (`colour=red`) instead of the column's sum.
    #[arg(long)]
    by_category: bool,
    /// The bar chart [default: explain.svg beside the model file; a .png name draws a PNG]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    read: ReadFlags,
    /// Print the attributions as one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// Runs `nerve explain`.
pub(crate) fn run(args: ExplainArgs) -> Result<ExitCode> {
    let explained = Explained::new(&args)?;
    let plot = explained.draw(&args)?;
    let out = if args.json {
        format!("{}\n", explained.json(&args, &plot))
    } else {
        let text = explained.text(&args, &plot)?;
        crate::output::wrap(&text, crate::output::Stream::Stdout)
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// A model's outputs on some rows, attributed to its inputs, and summed per feature.
struct Explained {
    saved: nerve_run::SavedModel,
    device: burn::prelude::Device,
    table: Table,
    /// The rows explained, and whether they were sampled from the table's.
    rows: Vec<usize>,
    sampled: bool,
    attributions: Attributions,
    explanation: Explanation,
    /// Per output, each feature's mean |attribution|; and their mean over the outputs.
    means: Vec<Vec<f64>>,
    overall: Vec<f64>,
    /// The features by overall importance, and how many of them are shown.
    order: Vec<usize>,
    shown: usize,
    /// The mean completeness gap, in the target's units.
    gap: f64,
    direction: Option<Direction>,
}

impl Explained {
    /// Reads the model and the rows, and attributes the outputs by integrated gradients.
    fn new(args: &ExplainArgs) -> Result<Explained> {
        if args.steps == 0 {
            bail!("--steps must be at least 1");
        }
        if let Some(plot) = &args.plot {
            crate::output_paths::check_output_file(plot, "--plot", None)?;
            Format::of_path(plot, "--plot")?;
        }
        let (saved, device) = open_model(&args.model, args.read.backend)?;
        if !saved.model.has_input_gradients() {
            bail!(
                "{}: a spiking model with latency coding turns its inputs into spike times, which have no gradient, so integrated gradients cannot attribute its outputs to them (train with --encoding direct or rate to explain a spiking model)",
                args.model.display()
            );
        }
        let p = &saved.preprocessor;
        let table = saved
            .reader(&args.data, args.read.delimiter, Columns::Features, &[])?
            .read_all()?;
        let (rows, sampled) = choose_rows(&table, &args.rows, args.max_rows)?;
        let mut report = TransformReport::default();
        let x = model_inputs(p, &table, &rows, &device, &mut report)?;
        warn_about(&report);
        let baseline =
            Tensor::<1>::from_data(TensorData::new(p.input_means(), [p.d_input()]), &device);
        let attributions =
            IntegratedGradients { steps: args.steps }.attribute(&saved.model, x, baseline);
        let explanation = Explanation::new(&attributions, p, args.by_category);
        let means = explanation.mean_abs();
        // Overall importance: the mean over outputs of the mean absolute attribution.
        let overall: Vec<f64> = (0..explanation.features.len())
            .map(|f| means.iter().map(|m| m[f]).sum::<f64>() / means.len() as f64)
            .collect();
        let mut order: Vec<usize> = (0..explanation.features.len()).collect();
        order.sort_by(|&a, &b| overall[b].total_cmp(&overall[a]));
        let shown = if args.top == 0 {
            order.len()
        } else {
            args.top.min(order.len())
        };
        // The gap in the target's units, like the attributions.
        let gap = completeness_gap(&attributions) * p.target_scale();
        let direction = explanation.direction(p);
        Ok(Explained {
            device,
            table,
            rows,
            sampled,
            attributions,
            explanation,
            means,
            overall,
            order,
            shown,
            gap,
            direction,
            saved,
        })
    }

    /// An output as JSON gives it: a regression value in the target's units, a logit as its
    /// shortest f32 form (as JSON wrote it before values became f64).
    fn decode(&self, output: f32) -> f64 {
        let p = &self.saved.preprocessor;
        if p.labels().is_some() {
            output.to_string().parse().unwrap_or(f64::from(output))
        } else {
            p.decode_value(output)
        }
    }

    /// Draws the chart (`--plot`, else `explain.svg` beside the model) and returns its path.
    fn draw(&self, args: &ExplainArgs) -> Result<PathBuf> {
        let plot = args.plot.clone().unwrap_or_else(|| {
            args.model
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join("explain.svg")
        });
        let format = Format::of_path(&plot, "--plot")?;
        let p = &self.saved.preprocessor;
        let classification = p.labels().is_some();
        let top = &self.order[..self.shown];
        let pick = |values: &[f64]| -> Vec<f64> { top.iter().map(|&f| values[f]).collect() };
        let bars = AttributionBars {
            title: format!(
                "{}: integrated gradients, {} rows",
                self.table.source_name(),
                self.rows.len()
            ),
            measure: match (&self.direction, classification) {
                (Some(_), true) => format!(
                    "mean attribution to the log-odds of {}, its positive and negative parts",
                    p.labels()
                        .map_or("", |labels| labels[labels.len() - 1].as_str())
                ),
                (Some(_), false) => format!(
                    "mean attribution to {} (in its units), its positive and negative parts",
                    crate::output::shorten_cell(p.target_name())
                ),
                (None, _) => "mean |attribution| to each class's logit, stacked".to_owned(),
            },
            features: top
                .iter()
                .map(|&f| self.explanation.features[f].clone())
                .collect(),
            legend_title: crate::output::shorten_cell(p.target_name()),
            bars: match &self.direction {
                Some(d) => Bars::Signed {
                    positive: (d.positive.0.clone(), pick(&d.positive.1)),
                    negative: (d.negative.0.clone(), pick(&d.negative.1)),
                },
                None => Bars::Stacked(
                    self.explanation
                        .outputs
                        .iter()
                        .zip(&self.means)
                        .map(|(name, m)| (crate::output::shorten_cell(name), pick(m)))
                        .collect(),
                ),
            },
        };
        charts::save(&bars, &plot, format)?;
        Ok(plot)
    }

    /// `--json`'s object.
    fn json(&self, args: &ExplainArgs, plot: &std::path::Path) -> serde_json::Value {
        let (explanation, direction) = (&self.explanation, &self.direction);
        json!({
            "data": self.table.source_name(),
            "model": args.model,
            "rows": self.rows.len(),
            "sampled_from": self.sampled.then_some(self.table.num_rows()),
            "steps": args.steps,
            "baseline": "training mean",
            "outputs": explanation.outputs,
            "completeness_gap": self.gap,
            "features": self.order.iter().map(|&f| json!({
                "feature": explanation.features[f],
                "mean_abs": self.overall[f],
                "per_output": explanation.outputs.iter().zip(&self.means)
                    .map(|(name, m)| (name.clone(), json!(m[f])))
                    .collect::<serde_json::Map<_, _>>(),
                "mean_positive": direction.as_ref().map(|d| d.positive.1[f]),
                "mean_negative": direction.as_ref().map(|d| d.negative.1[f]),
            })).collect::<Vec<_>>(),
            "direction": direction.as_ref().map(|d| json!({
                "positive": d.positive.0,
                "negative": d.negative.0,
            })),
            "row_attributions": (!args.rows.is_empty()).then(|| {
                self.rows.iter()
                    .enumerate()
                    .map(|(i, &row)| row_json(&self.table, &self.attributions, explanation, i, row, |o| self.decode(o)))
                    .collect::<Vec<_>>()
            }),
            "plot": plot,
        })
    }

    /// The ranked table, a table per `--rows` row, and the completeness line.
    fn text(&self, args: &ExplainArgs, plot: &std::path::Path) -> Result<String> {
        let mut out = self.heading(args)?;
        let (explanation, direction) = (&self.explanation, &self.direction);
        let mut header = vec!["rank".to_owned(), "feature".to_owned()];
        if explanation.outputs.len() > 1 {
            header.push("mean".to_owned());
        }
        header.extend(explanation.outputs.iter().cloned());
        if let Some(d) = direction {
            header.push(d.positive.0.clone());
            header.push(d.negative.0.clone());
        }
        let mut table_rows = Vec::new();
        for (rank, &f) in self.order[..self.shown].iter().enumerate() {
            let mut line = vec![(rank + 1).to_string(), explanation.features[f].clone()];
            if explanation.outputs.len() > 1 {
                line.push(format!("{:.4}", self.overall[f]));
            }
            line.extend(self.means.iter().map(|m| format!("{:.4}", m[f])));
            if let Some(d) = direction {
                line.push(format!("{:+.4}", d.positive.1[f]));
                line.push(format!("{:+.4}", d.negative.1[f]));
            }
            table_rows.push(line);
        }
        crate::output::write_aligned(&mut out, &header, &table_rows)?;
        if self.shown < self.order.len() {
            let more = self.order.len() - self.shown;
            writeln!(out, "... {more} more (--top 0 lists all)")?;
        }
        if let Some(d) = direction {
            writeln!(
                out,
                "`{}` and `{}`: the mean of each feature's positive and of its negative attributions{}; together, their widths are the bar in the chart",
                d.positive.0,
                d.negative.0,
                if self.saved.preprocessor.labels().is_some() {
                    " to the log-odds"
                } else {
                    ""
                }
            )?;
        }
        if !args.rows.is_empty() {
            self.write_rows(&mut out)?;
        }
        writeln!(
            out,
            "\nCompleteness: each row's attributions add up to its output minus the baseline's within {:.2e} on average (more --steps, smaller)",
            self.gap
        )?;
        if self.saved.model.is_spiking() {
            writeln!(
                out,
                "Spiking model: the gradients are the surrogate's, not the spikes' (whose derivative is zero almost everywhere), so the attributions show what the surrogate sees and need not add up to the output difference, however many --steps"
            )?;
        }
        writeln!(out, "Wrote {}", plot.display())?;
        Ok(out)
    }

    /// What was explained and what the table measures.
    fn heading(&self, args: &ExplainArgs) -> Result<String> {
        let n = self.table.num_rows();
        let what = if self.sampled {
            format!("a random sample of {} of its {n} rows", self.rows.len())
        } else if args.rows.is_empty() {
            format!("{} rows", self.rows.len())
        } else {
            format!("rows {}", join(&args.rows))
        };
        let mut out = String::new();
        writeln!(
            out,
            "Integrated gradients of {} on {} ({what}, {} steps from the training mean)",
            args.model.display(),
            self.table.source_name(),
            args.steps
        )?;
        let outputs = &self.explanation.outputs;
        if self.saved.preprocessor.labels().is_some() && outputs.len() > 1 {
            writeln!(
                out,
                "Mean |attribution| to each class's logit, features ranked by their mean over the classes:"
            )?;
        } else if self.saved.preprocessor.labels().is_some() {
            writeln!(
                out,
                "Mean |attribution| to the logit of {} (the model's one output), features ranked:",
                outputs[0]
            )?;
        } else {
            writeln!(
                out,
                "Mean |attribution| to the predicted {} (in its units), features ranked:",
                outputs[0]
            )?;
        }
        Ok(out)
    }

    /// A table per row asked for with `--rows`, with the prediction `nerve predict` makes: the
    /// loss's own predictions (softmax, sigmoid or the value) of the outputs integrated
    /// gradients computed.
    fn write_rows(&self, out: &mut String) -> Result<()> {
        let a = &self.attributions;
        let width = a.d_output();
        let outputs: Vec<f32> = (0..self.rows.len())
            .flat_map(|i| (0..width).map(move |k| a.output(k, i)))
            .collect();
        let outputs = Tensor::<2>::from_data(
            TensorData::new(outputs, [self.rows.len(), width]),
            &self.device,
        );
        let predictions = self.saved.config.loss().probabilities(outputs);
        let [_, classes] = predictions.dims();
        let predictions = predictions
            .into_data()
            .try_to_vec_as::<f32>()
            .map_err(|err| anyhow::anyhow!("cannot read the predictions: {err:?}"))?;
        for ((i, &row), prediction) in self
            .rows
            .iter()
            .enumerate()
            .zip(predictions.chunks(classes))
        {
            write_row(
                out,
                &self.table,
                &self.saved.preprocessor,
                a,
                &self.explanation,
                (i, row),
                prediction,
                self.shown,
            )?;
        }
        Ok(())
    }
}

/// The rows to explain: `requested` (checked), or all, or a seeded sample of `max_rows`.
/// Also says whether it sampled.
fn choose_rows(table: &Table, requested: &[usize], max_rows: usize) -> Result<(Vec<usize>, bool)> {
    let n = table.num_rows();
    if n == 0 {
        bail!(
            "{}: the header row is not followed by any data rows",
            table.source_name()
        );
    }
    if !requested.is_empty() {
        if let Some(&bad) = requested.iter().find(|&&r| r >= n) {
            bail!(
                "--rows: row {bad} does not exist; {} has {n} data rows, numbered 0 to {}",
                table.source_name(),
                n - 1
            );
        }
        return Ok((requested.to_vec(), false));
    }
    if max_rows == 0 {
        bail!("--max-rows must be at least 1");
    }
    if n <= max_rows {
        return Ok(((0..n).collect(), false));
    }
    let mut rows = sample(&mut StdRng::seed_from_u64(0), n, max_rows).into_vec();
    rows.sort_unstable();
    Ok((rows, true))
}
