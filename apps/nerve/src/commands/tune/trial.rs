//! One trial of a search: its file (`trials/trial-0007.toml`: the trial's full run config,
//! its parameters and how it is scored), running it (k-fold cross-validation), and its result
//! (`trials/trial-0007.json`, written atomically once the trial has ended, passed or failed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nerve_data::prepare;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::run_dir::write_atomically;
use nerve_run::RunConfig;
use nerve_run::cross_validation::{Folding, Metric, folds, run_fold};

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
    /// The SHA-256 (hex) of the trial file it is the result of: with `trial` and `params`,
    /// what proves it belongs to that file (see [`read_result`]).
    #[serde(default)]
    pub(crate) plan_sha256: String,
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
    pub(crate) fn failed(
        plan: TrialPlan,
        plan_sha256: String,
        error: String,
        seconds: f64,
    ) -> Self {
        TrialResult {
            trial: plan.trial,
            plan_sha256,
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
    Ok(read_plan_and_digest(path)?.0)
}

/// Reads a trial file and its SHA-256 (hex, of the file's bytes).
///
/// # Errors
///
/// As [`read_plan`].
pub(crate) fn read_plan_and_digest(path: &Path) -> Result<(TrialPlan, String)> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the trial file {}", path.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not a trial file (not UTF-8)", path.display()))?;
    let plan: TrialPlan =
        toml::from_str(&text).with_context(|| format!("{} is not a trial file", path.display()))?;
    Ok((plan, digest))
}

/// What a trial's result file holds.
#[derive(Debug)]
pub(crate) enum Stored {
    /// No result yet.
    Missing,
    /// The trial's own result.
    Valid(Box<TrialResult>),
    /// A file that is not this trial's result (why, naming the file): damaged, another
    /// trial's or another search's, made from another trial file, or with a score its folds
    /// do not give. The trial runs again.
    Invalid(String),
}

/// Reads the result of the trial whose file is `plan`, and checks that it is that trial's:
/// its trial id, its settings, the trial file's SHA-256 and the metric are the file's, and
/// its mean and standard deviation are those of its fold scores. A result copied from another
/// trial, another search or an older trial file, or edited, is [`Stored::Invalid`].
///
/// # Errors
///
/// The trial file cannot be read, or the result file exists but cannot be read.
pub(crate) fn read_result(plan: &Path) -> Result<Stored> {
    let path = result_path(plan);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Stored::Missing),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let (trial, digest) = read_plan_and_digest(plan)?;
    let shown = path.display();
    let result: TrialResult = match serde_json::from_slice(&bytes) {
        Ok(result) => result,
        Err(err) => {
            return Ok(Stored::Invalid(format!(
                "{shown} is not a trial result: {err}"
            )));
        }
    };
    let why = if result.trial != trial.trial {
        format!(
            "{shown} is the result of trial {}, not of trial {}",
            result.trial, trial.trial
        )
    } else if result.plan_sha256 != digest {
        format!(
            "{shown} was not made from {} (it names another trial file: another search's, an older nerve's, or the file changed since)",
            plan.display()
        )
    } else if result.params != trial.params || result.metric != trial.metric {
        format!(
            "{shown} holds other settings or another metric than {}",
            plan.display()
        )
    } else if let Some(why) = inconsistent(&result, trial.folds * trial.repeats) {
        format!("{shown}: {why}")
    } else {
        return Ok(Stored::Valid(Box::new(result)));
    };
    Ok(Stored::Invalid(why))
}

/// Why a result's scores are not those its folds give, if they are not: a scored trial has
/// `folds` folds and the mean and standard deviation of their values of its metric; a failed
/// one has no score.
fn inconsistent(result: &TrialResult, folds: usize) -> Option<String> {
    let values: Vec<f64> = result
        .folds
        .iter()
        .filter_map(|f| f.get(&result.metric).copied())
        .collect();
    let given = (result.mean, result.std);
    match result.status.as_str() {
        "failed" if given == (None, None) => None,
        "failed" => Some("a failed trial with a score".to_owned()),
        "ok" if result.folds.len() != folds => Some(format!(
            "{} fold scores where the trial has {folds} folds",
            result.folds.len()
        )),
        "ok" => {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
            match (nerve_run::cross_validation::mean_std(&values), given) {
                (Some((mean, std)), (Some(m), Some(s))) if close(mean, m) && close(std, s) => None,
                _ => Some(format!(
                    "its mean and standard deviation of {} are not those of its fold scores",
                    result.metric
                )),
            }
        }
        other => Some(format!("status `{other}` (ok or failed)")),
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
    Done(Box<TrialResult>),
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
    let (plan, plan_sha256) = read_plan_and_digest(path)?;
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
            let (mean, std) = nerve_run::cross_validation::mean_std(&values).unzip();
            let (status, error) = match mean {
                Some(_) => ("ok", None),
                None => ("failed", Some(format!("no fold defines {metric}"))),
            };
            TrialResult {
                trial: plan.trial,
                plan_sha256,
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
        Err(err) => TrialResult::failed(plan, plan_sha256, format!("{err:#}"), seconds),
    };
    write_result(path, &result)?;
    Ok(Ran::Done(Box::new(result)))
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
    let table = nerve_run::load_table(&mut config)?;
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
        let result = run_fold(
            &config,
            &prepared,
            fold,
            &device,
            &mut crate::progress::StopOnInterrupt,
        )
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
