//! One trial of a search: its file (`trials/trial-0007.toml`: the trial's full run config,
//! its parameters and how it is scored), running it (k-fold cross-validation), and its result
//! (`trials/trial-0007.json`, written atomically once the trial has ended, passed or failed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nerve_data::prepare;
use serde::{Deserialize, Serialize};

use crate::cross_validation::{Folding, Metric, StopOnInterrupt, folds, run_fold};
use crate::run_config::RunConfig;
use crate::run_dir::write_atomically;

/// A trial file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrialPlan {
    /// The trial's id, from 0.
    pub(crate) trial: usize,
    /// k of the cross-validation.
    pub(crate) folds: usize,
    /// How many times the rows are folded.
    pub(crate) repeats: usize,
    /// The metric the search ranks by.
    pub(crate) metric: String,
    /// The settings the search chose, by dotted key.
    pub(crate) params: BTreeMap<String, toml::Value>,
    /// The trial's whole run config (the search's settings with `params` applied).
    pub(crate) config: toml::Table,
}

/// What a trial gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrialResult {
    pub(crate) trial: usize,
    pub(crate) params: BTreeMap<String, toml::Value>,
    /// `ok`, or `failed` (training diverged, or could not run): ranked last.
    pub(crate) status: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) metric: String,
    /// The metric's mean over the folds that define it, and their standard deviation
    /// (`ddof=0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) std: Option<f64>,
    /// Each fold's value of every metric (in fold order: repeat, then fold).
    #[serde(default)]
    pub(crate) folds: Vec<BTreeMap<String, f64>>,
    /// The epochs each fold trained (the kept epoch's, when early stopping ended it).
    #[serde(default)]
    pub(crate) fold_epochs: Vec<usize>,
    /// Wall time of the trial, in seconds.
    pub(crate) seconds: f64,
}

impl TrialResult {
    /// The metric's value on each fold (NaN where a fold leaves it undefined).
    pub(crate) fn fold_scores(&self) -> Vec<f64> {
        self.folds
            .iter()
            .map(|f| f.get(&self.metric).copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// A failed trial's result: no score, the error.
    pub(crate) fn failed(plan: TrialPlan, error: String, seconds: f64) -> Self {
        TrialResult {
            trial: plan.trial,
            params: plan.params,
            status: "failed".to_owned(),
            error: Some(error),
            metric: plan.metric,
            mean: None,
            std: None,
            folds: Vec::new(),
            fold_epochs: Vec::new(),
            seconds,
        }
    }

    pub(crate) fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// The trial file of trial `id` in `dir`.
pub(crate) fn plan_path(dir: &Path, id: usize) -> PathBuf {
    dir.join(format!("trial-{id:04}.toml"))
}

/// Where the result of the trial in `plan` (a trial file) goes: beside it, `.json`.
pub(crate) fn result_path(plan: &Path) -> PathBuf {
    plan.with_extension("json")
}

/// Reads a trial file.
///
/// # Errors
///
/// A file that cannot be read or is not a trial file, named.
pub(crate) fn read_plan(path: &Path) -> Result<TrialPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the trial file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a trial file", path.display()))
}

/// Reads a trial's result, if it has one.
///
/// # Errors
///
/// A result file that exists but cannot be read (a damaged file is reported, not skipped).
pub(crate) fn read_result(plan: &Path) -> Result<Option<TrialResult>> {
    let path = result_path(plan);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is not a trial result", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a trial's result beside its file, atomically.
///
/// # Errors
///
/// The file cannot be written.
pub(crate) fn write_result(plan: &Path, result: &TrialResult) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(result)?;
    bytes.push(b'\n');
    write_atomically(&result_path(plan), &bytes)
}

/// The outcome of running a trial.
pub(crate) enum Ran {
    /// It ended (passed or failed) and its result is written.
    Done(TrialResult),
    /// Ctrl-C stopped it: no result, so a resumed search runs it again.
    Interrupted,
}

/// Runs the trial in the file at `path` and writes its result beside it. A trial that cannot
/// train (diverged, a setting the data refuses) is a failed result, not an error.
///
/// # Errors
///
/// The trial file cannot be read, or the result cannot be written.
pub(crate) fn run(path: &Path) -> Result<Ran> {
    let plan = read_plan(path)?;
    let start = Instant::now();
    let metric: Metric = plan
        .metric
        .parse()
        .map_err(|err: String| anyhow::anyhow!("{}: {err}", path.display()))?;
    let scored = score(&plan, metric);
    if crate::progress::interrupted() {
        return Ok(Ran::Interrupted);
    }
    let seconds = start.elapsed().as_secs_f64();
    let result = match scored {
        Ok(Scored { folds, fold_epochs }) => {
            let values: Vec<f64> = folds
                .iter()
                .filter_map(|f| f.get(metric.name()).copied())
                .collect();
            let (mean, std) = crate::cross_validation::mean_std(&values).unzip();
            let (status, error) = match mean {
                Some(_) => ("ok", None),
                None => ("failed", Some(format!("no fold defines {metric}"))),
            };
            TrialResult {
                trial: plan.trial,
                params: plan.params.clone(),
                status: status.to_owned(),
                error,
                metric: plan.metric.clone(),
                mean,
                std,
                folds,
                fold_epochs,
                seconds,
            }
        }
        Err(err) => TrialResult::failed(plan, format!("{err:#}"), seconds),
    };
    write_result(path, &result)?;
    Ok(Ran::Done(result))
}

/// What a trial's folds gave: each fold's value of every metric, and the epochs it trained.
struct Scored {
    folds: Vec<BTreeMap<String, f64>>,
    fold_epochs: Vec<usize>,
}

/// Every fold's scores of the trial and the epochs it trained, or why it could not be scored.
fn score(plan: &TrialPlan, metric: Metric) -> Result<Scored> {
    let mut config = RunConfig::parse(
        &toml::to_string(&plan.config)?,
        &format!("of trial {}", plan.trial),
        None,
    )?;
    config.validate()?;
    let device = config.backend.autodiff_device()?;
    let table = crate::network_fit::load_table(&mut config)?;
    let prepared = prepare(table, &config.data.prepare_options())?;
    if !metric.fits(prepared.task()) {
        bail!("{metric} does not score {}", prepared.task());
    }
    let folding = Folding {
        folds: plan.folds,
        repeats: plan.repeats,
    };
    let (folds, _) = folds(&prepared, folding, config.data.split_seed)?;
    let mut scores = Vec::with_capacity(folds.len());
    let mut epochs = Vec::with_capacity(folds.len());
    for fold in &folds {
        let result = run_fold(&config, &prepared, fold, &device, &mut StopOnInterrupt)
            .with_context(|| format!("fold {} of repeat {}", fold.index + 1, fold.repeat + 1))?;
        epochs.push(result.epochs);
        scores.push(
            result
                .scores
                .iter()
                .map(|(m, v)| (m.name().to_owned(), *v))
                .collect(),
        );
    }
    Ok(Scored {
        folds: scores,
        fold_epochs: epochs,
    })
}
