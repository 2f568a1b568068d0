//! A run's results: evaluation of each part, the printed report and the JSON summary.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;
use burn::prelude::Device;
use nerve_data::{Dataset, FeatureTransform, Prepared};
use nerve_model::Mlp;
use nerve_train::{PartMetrics, Report, Scores, TrainOutcome, Trainer};

use crate::numbers;
use crate::output::{Stream, headline, write_aligned, write_confusion};
use crate::part_report;
use nerve_run::RunConfig;
use nerve_run::{PartSummary, RunSummary};

/// A trained model's metrics and predictions on one data set.
pub(super) struct Evaluation {
    metrics: PartMetrics,
    /// Per row: the prediction as text (a class name or a value in the target's units).
    predicted: Vec<String>,
    /// Per row: the true target as text.
    actual: Vec<String>,
    /// Per row, for classification: the predicted class's probability.
    confidence: Option<Vec<f32>>,
    /// Per-class scores, ranking, probability quality and the baseline.
    report: Report,
}

impl Evaluation {
    pub(super) fn new(
        trainer: &Trainer,
        model: &Mlp,
        config: &RunConfig,
        prepared: &Prepared,
        data: &Dataset,
        device: &Device,
    ) -> Result<Evaluation> {
        let p = &prepared.preprocessor;
        let nerve_run::PartEvaluation {
            metrics,
            report,
            outputs,
            width,
        } = nerve_run::evaluate_part(trainer, model, config.loss(), data, p, device)?;
        let rows = data.len();
        Ok(match p.labels() {
            Some(labels) => {
                let class_of = |i: usize| -> (usize, f32) {
                    let probabilities = &outputs[i * width..(i + 1) * width];
                    let best = nerve_train::predicted_class(probabilities, None);
                    (best, probabilities[best])
                };
                let (predicted, confidence): (Vec<usize>, Vec<f32>) =
                    (0..rows).map(class_of).unzip();
                Evaluation {
                    metrics,
                    predicted: predicted.iter().map(|&k| labels[k].clone()).collect(),
                    actual: data
                        .targets()
                        .iter()
                        .map(|&t| labels[t as usize].clone())
                        .collect(),
                    confidence: Some(confidence),
                    report,
                }
            }
            None => Evaluation {
                metrics,
                predicted: outputs
                    .iter()
                    .map(|&v| shown_value(p, p.decode_value(v)))
                    .collect(),
                actual: data
                    .targets()
                    .iter()
                    .map(|&v| shown_value(p, p.decode_value(v)))
                    .collect(),
                confidence: None,
                report,
            },
        })
    }

    /// One line: the main metrics.
    fn headline(&self) -> String {
        headline(&self.metrics)
    }
}

pub(super) fn print_results(
    config: &RunConfig,
    prepared: &Prepared,
    outcome: &TrainOutcome,
    train: &Evaluation,
    validation: Option<Evaluation>,
    test: Option<Evaluation>,
) -> Result<()> {
    let mut text = String::new();
    let epochs = outcome.history.len();
    let seconds = outcome
        .history
        .last()
        .map_or(0.0, |r| r.elapsed.as_secs_f64());
    writeln!(
        text,
        "Trained {epochs} epochs ({}, {}, {}/epoch); final training {}{} loss {}",
        outcome.stop_reason.describe(),
        numbers::duration(seconds),
        numbers::duration(seconds / epochs.max(1) as f64),
        if config.weighted() { "weighted " } else { "" },
        config.loss(),
        numbers::value(outcome.final_loss),
    )?;
    if outcome.best_epoch != epochs {
        writeln!(
            text,
            "Kept the weights of epoch {} (the best {})",
            outcome.best_epoch, config.training.monitor
        )?;
    }
    let (shown, rows) = match (&test, &validation) {
        (Some(test), _) => (test, &prepared.split.test),
        (None, Some(validation)) => (validation, &prepared.split.validation),
        (None, None) => (train, &prepared.split.train),
    };
    write_rows(&mut text, prepared, shown, rows)?;
    writeln!(
        text,
        "Train ({} rows): {}",
        train.metrics.rows,
        train.headline()
    )?;
    if let Some(validation) = &validation {
        writeln!(
            text,
            "Validation ({} rows): {}",
            validation.metrics.rows,
            validation.headline()
        )?;
    }
    if let Some(test) = &test {
        writeln!(
            text,
            "Test ({} rows): {}",
            test.metrics.rows,
            test.headline()
        )?;
    }
    // The report of the last part measured: the test rows, else validation, else training.
    let (part, last) = match (&test, &validation) {
        (Some(test), _) => ("test", test),
        (None, Some(validation)) => ("validation", validation),
        (None, None) => ("training", train),
    };
    let labels = prepared.preprocessor.labels();
    part_report::write_summary(&mut text, &last.metrics, &last.report, labels, part)?;
    if let Report::Classification(report) = &last.report {
        part_report::write_per_class(&mut text, report, labels)?;
    }
    if let Some(test) = &test
        && let Scores::Classification(m) = &test.metrics.scores
    {
        write_confusion(&mut text, labels, m)?;
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(crate::output::wrap(&text, Stream::Stdout).as_bytes())?;
    Ok(())
}

/// The first rows of an evaluated part: their file line, input columns as read, target and
/// prediction.
fn write_rows(
    text: &mut String,
    prepared: &Prepared,
    evaluation: &Evaluation,
    rows: &[usize],
) -> Result<()> {
    const SHOWN: usize = 10;
    // Wide data would make an unreadable table: the first few inputs, as many as fit the
    // terminal (at most six, at least one), then an ellipsis.
    const COLUMNS_SHOWN: usize = 6;
    let inputs: Vec<&str> = prepared
        .preprocessor
        .features
        .iter()
        .map(FeatureTransform::column)
        .collect();
    let line_width = crate::output::line_width(Stream::Stdout).unwrap_or(usize::MAX);
    let mut shown = inputs.len().min(COLUMNS_SHOWN);
    loop {
        let table = rows_table(prepared, evaluation, rows, &inputs, shown, SHOWN)?;
        let width = table.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if width <= line_width || shown <= 1 {
            text.push_str(&table);
            break;
        }
        shown -= 1;
    }
    if rows.len() > SHOWN {
        writeln!(text, "  ... {} more rows", rows.len() - SHOWN)?;
    }
    Ok(())
}

/// The table of [`write_rows`] with the first `shown` of `inputs` and the first `max_rows` rows.
fn rows_table(
    prepared: &Prepared,
    evaluation: &Evaluation,
    rows: &[usize],
    inputs: &[&str],
    shown: usize,
    max_rows: usize,
) -> Result<String> {
    let table = &prepared.table;
    let hidden = inputs.len() > shown;
    let shown_inputs = &inputs[..shown];
    let mut header: Vec<String> = vec!["line".to_owned()];
    header.extend(shown_inputs.iter().map(|&c| c.to_owned()));
    if hidden {
        header.push("…".to_owned());
    }
    header.push(prepared.preprocessor.target_name().to_owned());
    header.push("predicted".to_owned());
    if evaluation.confidence.is_some() {
        header.push("p".to_owned());
    }
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (i, &row) in rows.iter().enumerate().take(max_rows) {
        let mut line = vec![table.line(row).to_string()];
        for &name in shown_inputs {
            line.push(table.column(name)?.display(row));
        }
        if hidden {
            line.push("…".to_owned());
        }
        // The target as the file writes it (`65`, not the float 64.99999 it round-trips to).
        let target = prepared.preprocessor.target_name();
        line.push(
            table
                .column(target)
                .map_or_else(|_| evaluation.actual[i].clone(), |c| c.display(row)),
        );
        line.push(evaluation.predicted[i].clone());
        if let Some(confidence) = &evaluation.confidence {
            line.push(format!("{:.3}", confidence[i]));
        }
        lines.push(line);
    }
    let mut text = String::new();
    write_aligned(&mut text, &header, &lines)?;
    Ok(text)
}

/// What `metrics.json` holds and `--json` prints last: the run's outcome and the metrics of
/// each part.
pub(super) fn summary(
    config: &RunConfig,
    prepared: &Prepared,
    outcome: &TrainOutcome,
    train: &Evaluation,
    validation: &Option<Evaluation>,
    test: &Option<Evaluation>,
) -> RunSummary {
    let labels = prepared.preprocessor.labels();
    let part =
        |e: &Evaluation| PartSummary::new(e.metrics.clone(), labels).with_report(e.report.clone());
    RunSummary::new(
        config,
        &prepared.preprocessor,
        outcome,
        part(train),
        validation.as_ref().map(part),
        test.as_ref().map(part),
    )
}

/// A regression value for people: four significant digits, unless the target's values lie so
/// far from zero for their spread (timestamps near 1.7e9 a second apart) that four digits would
/// show them all alike; then plainly, to four digits of the spread (the training standard
/// deviation).
fn shown_value(p: &nerve_data::Preprocessor, v: f64) -> String {
    match &p.target {
        nerve_data::TargetTransform::Values { offset, scale, .. }
            if *scale > 0.0 && offset.abs() >= 1e3 * scale && v.is_finite() =>
        {
            let decimals = (3 - scale.log10().floor() as i64).max(0) as usize;
            format!("{v:.decimals$}")
        }
        _ => numbers::value(v),
    }
}
