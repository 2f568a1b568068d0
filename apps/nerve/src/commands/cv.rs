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

/// Runs `nerve cv`: the settings resolved and the rows folded ([`Folded::new`]), each fold
/// trained and scored, then the summary printed.
pub(crate) fn run(args: CvArgs) -> Result<ExitCode> {
    let folded = Folded::new(&args)?;
    for warning in &folded.warnings {
        eprintln!("warning: {warning}");
    }
    crate::progress::catch_interrupts(Some("stopping at the end of this epoch"));
    let Some(results) = folded.run(&args)? else {
        return Ok(ExitCode::from(130));
    };
    if args.json {
        print(&format!("{}\n", folded.json(&args, &results)))?;
    } else {
        print(&folded.table(&args, &results)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A cross-validation planned: the settled config, the prepared rows and their folds.
struct Folded {
    config: nerve_run::RunConfig,
    prepared: nerve_data::Prepared,
    device: burn::prelude::Device,
    metric: Metric,
    folds: Vec<nerve_run::cross_validation::Fold>,
    warnings: Vec<String>,
}

impl Folded {
    /// Resolves the settings, prepares and settles the table, and folds its rows.
    fn new(args: &CvArgs) -> Result<Folded> {
        let mut config = args.settings.resolve()?;
        let device = config.backend.autodiff_device()?;
        let prepared = nerve_run::prepare_settled(&mut config)?;
        let config = config.resolved();
        let metric = Metric::chosen(args.metric, prepared.task())?;
        let folding = Folding {
            folds: args.folds,
            repeats: args.repeats,
        };
        let (folds, warnings) = folds(&prepared, folding, config.data.split_seed)?;
        Ok(Folded {
            config,
            prepared,
            device,
            metric,
            folds,
            warnings,
        })
    }

    /// The rows folded: every fold's training and held-out rows.
    fn rows_folded(&self) -> usize {
        self.folds
            .first()
            .map_or(0, |fold| fold.fit.len() + fold.held_out.len())
    }

    /// Trains and scores each fold, with a line per fold unless `--quiet`; `None` when
    /// interrupted (said on stderr).
    fn run(&self, args: &CvArgs) -> Result<Option<Vec<FoldResult>>> {
        let mut results: Vec<FoldResult> = Vec::with_capacity(self.folds.len());
        for fold in &self.folds {
            let name = fold_name(fold.repeat, fold.index, args.repeats);
            let mut observer = crate::progress::StopOnInterrupt;
            let result = match run_fold(
                &self.config,
                &self.prepared,
                fold,
                &self.device,
                &mut observer,
            ) {
                Ok(result) => result,
                Err(_) if crate::progress::interrupted() => {
                    eprintln!(
                        "interrupted in fold {name}: {} of {} folds ran, too few to summarize",
                        results.len(),
                        self.folds.len()
                    );
                    return Ok(None);
                }
                Err(err) => {
                    let context = format!("fold {name} of {}", self.folds.len());
                    return Err(anyhow::Error::from(err).context(context));
                }
            };
            if !args.quiet {
                let shown = result
                    .score(self.metric)
                    .map_or_else(|| "undefined".to_owned(), value);
                eprintln!(
                    "fold {name}: {} {shown} ({} epochs, {})",
                    self.metric,
                    result.epochs,
                    duration(result.seconds)
                );
            }
            results.push(result);
        }
        Ok(Some(results))
    }

    /// `--json`'s object: every fold's scores and each metric's summary.
    fn json(&self, args: &CvArgs, results: &[FoldResult]) -> serde_json::Value {
        let summary: serde_json::Map<String, serde_json::Value> =
            Metric::of_task(self.prepared.task())
                .iter()
                .filter_map(|&m| summarize(results, m).map(|s| (m.name().to_owned(), json!(s))))
                .collect();
        let per_fold: Vec<serde_json::Value> = results.iter().map(fold_json).collect();
        json!({
            "data": self.prepared.table.source_name(),
            "task": self.prepared.task(),
            "folds": args.folds,
            "repeats": args.repeats,
            "split_seed": self.config.data.split_seed,
            "rows_folded": self.rows_folded(),
            "test_rows_left_out": self.prepared.split.test.len(),
            "metric": self.metric.name(),
            "warnings": self.warnings,
            "summary": summary,
            "per_fold": per_fold,
        })
    }

    /// The heading, the table of folds and the table of metrics over them.
    fn table(&self, args: &CvArgs, results: &[FoldResult]) -> Result<String> {
        let mut text = format!("{}\n", self.heading(args));
        let metric = self.metric;
        let unseen = results.iter().any(|r| r.unseen_categories > 0);
        let header: Vec<String> = [
            "fold",
            "trained",
            "held out",
            "epochs",
            "time",
            metric.name(),
        ]
        .into_iter()
        .chain(unseen.then_some("unseen"))
        .map(str::to_owned)
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
                if unseen {
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
        let rows: Vec<Vec<String>> = Metric::of_task(self.prepared.task())
            .iter()
            .filter_map(|&m| summarize(results, m).map(|s| summary_row(m, m == metric, &s)))
            .collect();
        write_aligned(&mut text, &header, &rows)?;
        Ok(text)
    }

    /// `5-fold cross-validation of iris (stratified by class; split seed 42): ...`.
    fn heading(&self, args: &CvArgs) -> String {
        let test_rows = self.prepared.split.test.len();
        format!(
            "{}-fold cross-validation{} of {} ({}; split seed {}): {} rows folded{}",
            args.folds,
            if args.repeats > 1 {
                format!(", repeated {} times,", args.repeats)
            } else {
                String::new()
            },
            self.prepared.table.source_name(),
            if self.prepared.task() == nerve_data::Task::Classification {
                "stratified by class"
            } else {
                "shuffled"
            },
            self.config.data.split_seed,
            self.rows_folded(),
            if test_rows > 0 {
                format!(", the {test_rows} test rows left out (--test-split 0 folds them too)")
            } else {
                String::new()
            }
        )
    }
}

/// One fold in `--json`.
fn fold_json(r: &FoldResult) -> serde_json::Value {
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
}

/// A metric's row of the summary table (`*` marks the one shown per fold).
fn summary_row(m: Metric, shown: bool, s: &nerve_run::cross_validation::Summary) -> Vec<String> {
    vec![
        format!("{}{}", m.name(), if shown { " *" } else { "" }),
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
}

/// A fold's name for people: `3`, or `2.3` (repeat 2, fold 3) when the folding repeats.
fn fold_name(repeat: usize, index: usize, repeats: usize) -> String {
    if repeats > 1 {
        format!("{}.{}", repeat + 1, index + 1)
    } else {
        (index + 1).to_string()
    }
}
