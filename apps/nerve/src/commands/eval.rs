//! `nerve eval`: a model's metrics on a CSV, or on the part of its training data it held out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use nerve_choice::Choice as _;
use nerve_train::{ClassificationMetrics, Scores, ThresholdChoice, ThresholdMetric, Trainer};
use serde_json::json;

use crate::labelled::{LabelledPart, Part, labelled_part};
use crate::model_input::{ReadFlags, open_model};
use crate::numbers::{score, value};
use crate::output::{headline, write_confusion};
use nerve_run::THRESHOLD_KEY;

const EXAMPLES: &str = "\
Examples:
  nerve eval -m runs/iris/model.safetensors -d iris --split test
  nerve eval -m model.safetensors -d labelled_2026.csv --json --calibration
  nerve eval -m runs/churn/model.safetensors -d churn.csv \\
      --optimize-threshold f1 -o tuned.safetensors
  nerve eval -m tuned.safetensors -d churn.csv --split test";

/// Flags of `nerve eval`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct EvalArgs {
    /// A model file written by `nerve train` (e.g. runs/X/model.safetensors).
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// A labelled CSV file (columns matched by name), or a built-in data set's name.
    #[arg(short, long, value_name = "FILE|NAME")]
    data: String,
    /// Which rows to score: all, or the train / validation / test rows of the model's split
    /// [default: all; validation with --optimize-threshold]
    #[arg(long, value_name = "PART", value_parser = crate::choice::<Part>())]
    split: Option<Part>,
    /// Two classes: answer the second class when its probability is at least P [default: the
    /// model's stored threshold, else the most probable class]
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    threshold: Option<f64>,
    /// Two classes: choose the threshold that maximizes f1 (of the second class) or
    /// balanced-accuracy on the rows scored (the validation rows by default), print it, and
    /// score the rows with it [default: none]
    #[arg(long, value_name = "METRIC", value_parser = crate::choice::<ThresholdMetric>(), conflicts_with = "threshold")]
    optimize_threshold: Option<ThresholdMetric>,
    /// With --optimize-threshold or --threshold: write a copy of the model that stores the
    /// threshold, so that `predict` and `eval` use it [default: none]
    #[arg(short, long, value_name = "FILE.safetensors")]
    output: Option<PathBuf>,
    /// Print the reliability table (10 equal-width bins of predicted probability with counts,
    /// observed frequency, and the expected calibration error)
    #[arg(long)]
    calibration: bool,
    #[command(flatten)]
    read: ReadFlags,
    /// Print the metrics as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `nerve eval`.
pub(crate) fn eval(args: EvalArgs) -> Result<ExitCode> {
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let p = &saved.preprocessor;
    if args.optimize_threshold.is_some() {
        match saved.preprocessor.labels() {
            Some(labels) if labels.len() == 2 => {}
            Some(labels) => anyhow::bail!(
                "--optimize-threshold is for two classes; this model has {}",
                labels.len()
            ),
            None => anyhow::bail!(
                "--optimize-threshold needs a classification model; this one predicts values"
            ),
        }
    }
    let split = args.split.unwrap_or(if args.optimize_threshold.is_some() {
        Part::Validation
    } else {
        Part::All
    });
    if let Some(path) = &args.output {
        crate::output_paths::check_model_copy(path, &args.model)?;
        anyhow::ensure!(
            args.optimize_threshold.is_some() || args.threshold.is_some(),
            "--output writes a copy of the model with a decision threshold; give --threshold P or --optimize-threshold METRIC"
        );
    }
    if args.calibration && p.labels().is_none() {
        anyhow::bail!(
            "--calibration is for classification models (probabilities); this one predicts values"
        );
    }
    let LabelledPart {
        table,
        data,
        dropped,
    } = labelled_part(&saved, &args.data, &args.read, split)?;
    let (outputs, width) =
        nerve_run::network_outputs(&saved.model, saved.config.loss(), &data, &device);
    // A row answered with NaN would count as some class, or poison every regression metric.
    nerve_run::check_answered(p, &data, &outputs, width)?;
    let mut metrics = Trainer::new(saved.config.train_config())
        .with_target_scale(p.target_scale())
        .evaluate(&saved.model, &data, &device)?;
    let chosen = match args.optimize_threshold {
        Some(metric) => Some(choose_threshold(&outputs, width, &data, metric, split)?),
        None => None,
    };
    let threshold = match &chosen {
        Some(choice) => Some(choice.threshold),
        None => saved.decision_threshold(args.threshold)?,
    };
    let report = nerve_run::report_at(&outputs, width, &data, p, threshold)?;
    if let (Some(threshold), Scores::Classification(m)) = (threshold, &mut metrics.scores) {
        let actual: Vec<usize> = data.targets().iter().map(|&t| t as usize).collect();
        let predicted: Vec<usize> = outputs
            .chunks(width)
            .map(|row| nerve_train::predicted_class(row, Some(threshold)))
            .collect();
        *m = ClassificationMetrics::new(&actual, &predicted, width);
    }
    if let (Some(path), Some(threshold)) = (&args.output, threshold) {
        let value = match &chosen {
            Some(choice) => json!({
                "threshold": choice.threshold,
                "metric": choice.metric,
                "score": choice.score,
                "rows": choice.rows,
                "chosen_on": format!("{} rows of {}", split.name(), table.source_name()),
            }),
            None => json!({ "threshold": threshold, "chosen_on": "--threshold" }),
        };
        saved.save_copy(path, &saved.model, THRESHOLD_KEY, value)?;
    }
    let mut out = String::new();
    if args.json {
        let mut value = serde_json::to_value(&metrics)?;
        if let Some(labels) = p.labels() {
            value["labels"] = json!(labels);
        }
        value["report"] = serde_json::to_value(&report)?;
        value["dropped_rows"] = json!(dropped);
        if let Some(choice) = &chosen {
            value["threshold_choice"] = serde_json::to_value(choice)?;
        }
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
            split.name(),
            args.model.display(),
            headline(&metrics)
        )?;
        if let Some(choice) = &chosen {
            write_choice(&mut out, choice, p.labels(), split, args.output.as_deref())?;
        } else if let Some(threshold) = threshold {
            writeln!(out, "Decision threshold: {}", value(threshold))?;
            if let Some(path) = &args.output {
                writeln!(
                    out,
                    "Wrote {} with the threshold stored: predict and eval use it",
                    path.display()
                )?;
            }
        }
        let part = match split {
            Part::All => "scored".to_owned(),
            other => other.name().to_owned(),
        };
        crate::part_report::write_summary(&mut out, &metrics, &report, p.labels(), &part)?;
        if let nerve_train::Report::Classification(report) = &report {
            crate::part_report::write_per_class(&mut out, report, p.labels())?;
        }
        if let Scores::Classification(m) = &metrics.scores {
            write_confusion(&mut out, p.labels(), m)?;
        }
        if args.calibration
            && let nerve_train::Report::Classification(report) = &report
        {
            crate::part_report::write_calibration(&mut out, &report.calibration, p.labels())?;
        }
        out = crate::output::wrap(&out, crate::output::Stream::Stdout);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The threshold that maximizes `metric` on `data`'s rows (of a two-class model).
fn choose_threshold(
    outputs: &[f32],
    width: usize,
    data: &nerve_data::Dataset,
    metric: ThresholdMetric,
    split: Part,
) -> Result<ThresholdChoice> {
    if matches!(split, Part::Test | Part::All) {
        eprintln!(
            "warning: choosing the threshold on {} makes the test rows' scores optimistic; choose on --split validation, and test once",
            if split == Part::Test {
                "the test rows"
            } else {
                "every row (the test rows too)"
            }
        );
    }
    let scores: Vec<f64> = outputs.chunks(width).map(|row| f64::from(row[1])).collect();
    let positive: Vec<bool> = data.targets().iter().map(|&t| t == 1.0).collect();
    nerve_train::best_threshold(&scores, &positive, metric).map_err(|err| {
        anyhow::anyhow!(
            "cannot choose a threshold on the {} rows: {err}",
            split.name()
        )
    })
}

/// `Threshold 0.31 maximizes f1 of `Yes` on the 80 validation rows: 0.72 (0.64 at the most
/// probable class)`, and how to use it.
fn write_choice(
    out: &mut String,
    choice: &ThresholdChoice,
    labels: Option<&[String]>,
    split: Part,
    output: Option<&std::path::Path>,
) -> Result<()> {
    let positive = labels
        .and_then(|l| l.get(1))
        .map_or_else(|| "1".to_owned(), |l| crate::output::shorten_cell(l));
    let what = match choice.metric {
        ThresholdMetric::F1 => format!("F1 of `{positive}`"),
        ThresholdMetric::BalancedAccuracy => "balanced accuracy".to_owned(),
    };
    writeln!(
        out,
        "Threshold {} on P(`{positive}`) maximizes {what} on {}: {} (the most probable class scores {})",
        value(choice.threshold),
        match split {
            Part::All => format!("all {} rows", choice.rows),
            other => format!("the {} {} rows", choice.rows, other.name()),
        },
        score(choice.score),
        score(choice.score_at_default)
    )?;
    match output {
        Some(path) => writeln!(
            out,
            "Wrote {} with the threshold stored: predict and eval use it",
            path.display()
        )?,
        None => writeln!(
            out,
            "Use it with --threshold {}, or store it in a copy of the model with --output FILE",
            value(choice.threshold)
        )?,
    }
    Ok(())
}
