//! `nerve eval`: a model's metrics on a CSV, or on the part of its training data it held out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use nerve_data::{Split, Table};
use nerve_train::{Scores, Trainer};
use serde_json::json;

use crate::model_input::{Columns, ReadFlags, open_model, open_reader};
use crate::output::{headline, write_confusion};
use crate::saved_model::SavedModel;

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
  nerve eval -m model.safetensors -d labelled_2026.csv --json";

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
    /// Which rows to score: all, or the train / validation / test rows of the model's split.
    #[arg(long, value_name = "PART", value_parser = crate::choice::<Part>(), default_value = "all")]
    split: Part,
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
    let rows = part_rows(&table, &saved, args.split)?;
    let data = p.transform(&table, &rows)?;
    let metrics = Trainer::new(saved.config.train_config())
        .with_target_scale(p.target_scale())
        .evaluate(&saved.model, &data, &device)?;
    let (outputs, width) =
        crate::part_report::outputs(&saved.model, saved.config.loss(), &data, &device);
    let report = crate::part_report::report_of(&outputs, width, &data, p)?;
    let mut out = String::new();
    if args.json {
        let mut value = serde_json::to_value(&metrics)?;
        if let Some(labels) = p.labels() {
            value["labels"] = json!(labels);
        }
        value["report"] = serde_json::to_value(&report)?;
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
        let part = match args.split {
            Part::All => "scored".to_owned(),
            other => format!("{other:?}").to_lowercase(),
        };
        crate::part_report::write_summary(&mut out, &metrics, &report, p.labels(), &part)?;
        if let nerve_train::Report::Classification(report) = &report {
            crate::part_report::write_per_class(&mut out, report, p.labels())?;
        }
        if let Scores::Classification(m) = &metrics.scores {
            write_confusion(&mut out, p.labels(), m)?;
        }
        out = crate::output::wrap(&out, crate::output::Stream::Stdout);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
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
