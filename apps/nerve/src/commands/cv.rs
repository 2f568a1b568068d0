//! `nerve cv`: k-fold cross-validation of a run's settings, with the preprocessing fitted
//! inside each fold: each fold's score, and each metric's mean ± std over the folds.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::choice;
use crate::numbers::{duration, value};
use crate::output::{print, write_aligned};
use crate::settings_args::SettingsArgs;
use nerve_run::cross_validation::{FoldResult, Folding, Metric, folds, run_fold, summarize};

/// `nerve cv --help`'s examples.
const EXAMPLES: &str = "\
Examples:
  nerve cv --data iris                         # 5 stratified folds, default settings
  nerve cv --config iris --folds 10 --repeats 3
  nerve cv -d churn.csv -t Churn --hidden 32 --lr 0.01 --metric roc_auc --json";

/// Flags of `nerve cv`: the settings of `nerve train`, and the folding.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct CvArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Folds (k): the rows a run trains on (all but the --test-split rows) are dealt into K
    /// parts, stratified by class, and each is held out once while the others train.
    #[arg(
        long,
        value_name = "K",
        default_value_t = 5,
        help_heading = "Cross-validation"
    )]
    folds: usize,
    /// Fold the rows N times, each time shuffled with the next seed (--split-seed + repeat).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Cross-validation"
    )]
    repeats: usize,
    /// The metric shown for each fold (every metric is summarized) [default: accuracy for
    /// classification, r2 for regression]
    #[arg(long, value_name = "NAME", value_parser = choice::<Metric>(), help_heading = "Cross-validation")]
    metric: Option<Metric>,
    /// Print one JSON object (every fold's scores and each metric's summary) on stdout.
    #[arg(long, help_heading = "Output")]
    json: bool,
    /// No line per fold on stderr.
    #[arg(short, long, help_heading = "Output")]
    quiet: bool,
}

/// Runs `nerve cv`.
pub(crate) fn run(args: CvArgs) -> Result<ExitCode> {
    let mut config = args.settings.resolve()?;
    let device = config.backend.autodiff_device()?;
    let prepared = nerve_run::prepare_settled(&mut config)?;
    let config = config.resolved();
    let task = prepared.task();
    let metric = Metric::chosen(args.metric, task)?;
    let folding = Folding {
        folds: args.folds,
        repeats: args.repeats,
    };
    let (folds, warnings) = folds(&prepared, folding, config.data.split_seed)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let source = prepared.table.source_name().to_owned();
    let test_rows = prepared.split.test.len();
    let folded = folds
        .first()
        .map_or(0, |fold| fold.fit.len() + fold.held_out.len());
    let heading = format!(
        "{}-fold cross-validation{} of {source} ({}; split seed {}): {folded} rows folded{}",
        args.folds,
        if args.repeats > 1 {
            format!(", repeated {} times,", args.repeats)
        } else {
            String::new()
        },
        if task == nerve_data::Task::Classification {
            "stratified by class"
        } else {
            "shuffled"
        },
        config.data.split_seed,
        if test_rows > 0 {
            format!(", the {test_rows} test rows left out (--test-split 0 folds them too)")
        } else {
            String::new()
        }
    );
    crate::progress::catch_interrupts(Some("stopping at the end of this epoch"));
    let mut results: Vec<FoldResult> = Vec::with_capacity(folds.len());
    for fold in &folds {
        let name = fold_name(fold.repeat, fold.index, args.repeats);
        let result = match run_fold(
            &config,
            &prepared,
            fold,
            &device,
            &mut crate::progress::StopOnInterrupt,
        ) {
            Ok(result) => result,
            Err(_) if crate::progress::interrupted() => {
                eprintln!(
                    "interrupted in fold {name}: {} of {} folds ran, too few to summarize",
                    results.len(),
                    folds.len()
                );
                return Ok(ExitCode::from(130));
            }
            Err(err) => {
                return Err(
                    anyhow::Error::from(err).context(format!("fold {name} of {}", folds.len()))
                );
            }
        };
        if !args.quiet {
            let shown = result
                .score(metric)
                .map_or_else(|| "undefined".to_owned(), value);
            eprintln!(
                "fold {name}: {metric} {shown} ({} epochs, {})",
                result.epochs,
                duration(result.seconds)
            );
        }
        results.push(result);
    }
    let metrics = Metric::of_task(task);
    if args.json {
        let summary: serde_json::Map<String, serde_json::Value> = metrics
            .iter()
            .filter_map(|&m| summarize(&results, m).map(|s| (m.name().to_owned(), json!(s))))
            .collect();
        let folds_json: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                let scores: serde_json::Map<String, serde_json::Value> = r
                    .scores
                    .iter()
                    .map(|(m, v)| (m.name().to_owned(), json!(v)))
                    .collect();
                json!({
                    "repeat": r.repeat,
                    "fold": r.fold,
                    "rows_trained": r.rows_trained,
                    "rows_validation": r.rows_validation,
                    "rows_held_out": r.rows_held_out,
                    "epochs": r.epochs,
                    "stop_reason": r.stop_reason,
                    "seconds": r.seconds,
                    "unseen_categories": r.unseen_categories,
                    "filled": r.filled,
                    "scores": scores,
                })
            })
            .collect();
        let out = json!({
            "data": source,
            "task": task,
            "folds": args.folds,
            "repeats": args.repeats,
            "split_seed": config.data.split_seed,
            "rows_folded": folded,
            "test_rows_left_out": test_rows,
            "metric": metric.name(),
            "warnings": warnings,
            "summary": summary,
            "per_fold": folds_json,
        });
        print(&format!("{out}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!("{heading}\n");
    let header: Vec<String> = [
        "fold",
        "trained",
        "held out",
        "epochs",
        "time",
        metric.name(),
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        results
            .iter()
            .any(|r| r.unseen_categories > 0)
            .then(|| "unseen".to_owned()),
    )
    .collect();
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let mut row = vec![
                fold_name(r.repeat, r.fold, args.repeats),
                r.rows_trained.to_string(),
                r.rows_held_out.to_string(),
                r.epochs.to_string(),
                duration(r.seconds),
                r.score(metric)
                    .map_or_else(|| "undefined".to_owned(), value),
            ];
            if header.len() > 6 {
                row.push(r.unseen_categories.to_string());
            }
            row
        })
        .collect();
    write_aligned(&mut text, &header, &rows)?;
    writeln!(
        text,
        "Over the {} folds (std of the folds' values, ddof 0):",
        results.len()
    )?;
    let header: Vec<String> = ["metric", "better", "mean", "std", "min", "max", "folds"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .filter_map(|&m| {
            summarize(&results, m).map(|s| {
                vec![
                    format!("{}{}", m.name(), if m == metric { " *" } else { "" }),
                    if m.greater_is_better() {
                        "higher"
                    } else {
                        "lower"
                    }
                    .to_owned(),
                    value(s.mean),
                    value(s.std),
                    value(s.min),
                    value(s.max),
                    s.folds.to_string(),
                ]
            })
        })
        .collect();
    write_aligned(&mut text, &header, &rows)?;
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// A fold's name for people: `3`, or `2.3` (repeat 2, fold 3) when the folding repeats.
fn fold_name(repeat: usize, index: usize, repeats: usize) -> String {
    if repeats > 1 {
        format!("{}.{}", repeat + 1, index + 1)
    } else {
        (index + 1).to_string()
    }
}
