//! `nerve eval`: a model's metrics on a CSV, or on the part of its training data it held out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use nerve_choice::Choice as _;
use nerve_data::{Split, Table};
use nerve_train::{ClassificationMetrics, Scores, ThresholdChoice, ThresholdMetric, Trainer};
use serde_json::json;

use crate::model_input::{Columns, ReadFlags, open_model, open_reader};
use crate::numbers::{score, value};
use crate::output::{headline, write_confusion};
use crate::saved_model::{SavedModel, THRESHOLD_KEY};

/// Which rows `nerve eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl nerve_choice::Choice for Part {
    const KIND: &'static str = "split";

    fn all() -> &'static [Self] {
        &[Part::All, Part::Train, Part::Validation, Part::Test]
    }

    fn name(self) -> &'static str {
        match self {
            Part::All => "all",
            Part::Train => "train",
            Part::Validation => "validation",
            Part::Test => "test",
        }
    }
}

impl std::str::FromStr for Part {
    type Err = nerve_choice::UnknownChoice;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        nerve_choice::parse(text)
    }
}

const EXAMPLES: &str = "\
Examples:
  nerve eval -m runs/iris/model.safetensors -d iris --split test
  nerve eval -m model.safetensors -d labelled_2026.csv --json --calibration
  nerve eval -m runs/churn/model.safetensors -d churn.csv --optimize-threshold f1 -o tuned.safetensors
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
    /// score the rows with it
    #[arg(long, value_name = "METRIC", value_parser = crate::choice::<ThresholdMetric>(), conflicts_with = "threshold")]
    optimize_threshold: Option<ThresholdMetric>,
    /// With --optimize-threshold or --threshold: write a copy of the model that stores the
    /// threshold, so that `predict` and `eval` use it
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
    let data_config = &saved.config.data;
    let mut table = open_reader(
        &args.data,
        args.read.delimiter,
        &saved,
        Columns::WithTarget,
        &[],
    )?
    .read_all()?;
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
    // The table holds only the model's columns: the run's policy applies to them all.
    dropped += table
        .apply_missing(data_config.missing, &target)
        .map_err(|err| match err {
            nerve_data::DataError::Missing {
                source_name,
                line,
                column,
                ..
            } => anyhow::anyhow!(
                "{source_name}, line {line}, column `{column}`: a missing value, and the model was trained with --missing error, so eval refuses it too"
            ),
            other => other.into(),
        })?
        .rows_dropped;
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
        check_model_copy(path, &args.model)?;
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
    let rows = part_rows(&table, &saved, split)?;
    if rows.is_empty() {
        anyhow::bail!(
            "the model's split of {} has no {} rows (its run used --val-split {} and --test-split {}); choose another --split",
            table.source_name(),
            split.name(),
            data_config.val_split,
            data_config.test_split
        );
    }
    let data = p.transform(&table, &rows)?;
    let mut metrics = Trainer::new(saved.config.train_config())
        .with_target_scale(p.target_scale())
        .evaluate(&saved.model, &data, &device)?;
    let (outputs, width) =
        crate::part_report::outputs(&saved.model, saved.config.loss(), &data, &device);
    let chosen = match args.optimize_threshold {
        Some(metric) => Some(choose_threshold(&outputs, width, &data, metric, split)?),
        None => None,
    };
    let threshold = match &chosen {
        Some(choice) => Some(choice.threshold),
        None => saved.decision_threshold(args.threshold)?,
    };
    let report = crate::part_report::report_at(&outputs, width, &data, p, threshold)?;
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

/// Refuses a copy's path that would replace the model being read (by any path to it), a run
/// folder's model (its metrics would no longer describe it), or a name without `.safetensors`.
fn check_model_copy(path: &std::path::Path, model: &std::path::Path) -> Result<()> {
    crate::output_paths::check_output_file(path, "--output", None)?;
    anyhow::ensure!(
        path.extension().is_some_and(|e| e == "safetensors"),
        "--output {}: a model file's name ends in .safetensors",
        path.display()
    );
    if let (Ok(a), Ok(b)) = (path.canonicalize(), model.canonicalize()) {
        anyhow::ensure!(
            a != b,
            "--output {} is the model being read; write the copy to another file",
            path.display()
        );
    }
    if path.exists()
        && path.file_name().is_some_and(|n| n == "model.safetensors")
        && path.with_file_name("run.json").exists()
    {
        anyhow::bail!(
            "--output {} is a run folder's model (its metrics.json describes it); write the copy elsewhere",
            path.display()
        );
    }
    Ok(())
}

/// The rows of `part` in the model's own split of `table` (as `nerve train` made it).
fn part_rows(table: &Table, saved: &SavedModel, part: Part) -> Result<Vec<usize>> {
    let n = table.num_rows();
    if part == Part::All {
        return Ok((0..n).collect());
    }
    let preprocessor = &saved.preprocessor;
    let strata = preprocessor
        .labels()
        .map(|labels| nerve_data::class_ids(table, preprocessor.target_name(), labels));
    let (split, _) = Split::of_rows(n, strata.as_deref(), &saved.config.data.split_options())?;
    Ok(match part {
        Part::Train | Part::All => split.train,
        Part::Validation => split.validation,
        Part::Test => split.test,
    })
}
