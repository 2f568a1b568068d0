//! `nerve tune --collect` (and a search's end): the ranked table, `best.toml`, the chart,
//! and the refit of the best settings by a child `nerve train`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::results::write_table;
use super::results::{ranks, shown};
use super::search::{STOP_FILE, Search};
use super::trial;
use super::trial::TrialResult;
use crate::numbers::{duration, value};
use crate::output::{print, write_aligned};
use crate::run_dir::write_atomically;

/// The table, `best.toml`, the refit; prints the summary.
pub(super) fn collect(dir: &Path, refit: bool) -> Result<ExitCode> {
    let (search, results) = write_table(dir, true)?;
    let Some(best) = results.first().filter(|r| r.is_ok()) else {
        let first = results
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_default();
        bail!(
            "every one of the {} trials failed (see {}); trial {}: {first}",
            results.len(),
            dir.join("results.csv").display(),
            results.first().map_or(0, |r| r.trial)
        );
    };
    let plan = trial::read_plan(&trial::plan_path(&dir.join("trials"), best.trial))?;
    let config =
        nerve_run::RunConfig::parse(&toml::to_string(&plan.config)?, "the best trial", None)?;
    let header = format!(
        "# Chosen by `nerve tune`: trial {} of {}, {} {} ± {} over {} folds{} (search seed {}).\n# Repeat it with `nerve train --config best.toml`.\n\n",
        best.trial,
        search.trials,
        search.metric,
        value(best.mean.unwrap_or(f64::NAN)),
        value(best.std.unwrap_or(f64::NAN)),
        search.folds,
        if search.repeats > 1 {
            format!(" x {} repeats", search.repeats)
        } else {
            String::new()
        },
        search.search_seed
    );
    let best_path = dir.join("best.toml");
    write_atomically(
        &best_path,
        format!("{header}{}", config.to_toml()?).as_bytes(),
    )?;
    let mut text = String::new();
    let failed = results.iter().filter(|r| !r.is_ok()).count();
    writeln!(
        text,
        "{} trials{} by {}-fold cross-validation{} ({} {}): {}",
        results.len(),
        if failed > 0 {
            format!(" ({failed} failed)")
        } else {
            String::new()
        },
        search.folds,
        if search.repeats > 1 {
            format!(" repeated {} times", search.repeats)
        } else {
            String::new()
        },
        search.metric,
        if search.greater_is_better {
            "higher is better"
        } else {
            "lower is better"
        },
        dir.join("results.csv").display()
    )?;
    let mut head: Vec<String> = ["rank", "trial", "mean", "std", "time"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    head.extend(
        search
            .keys
            .iter()
            .map(|k| k.rsplit('.').next().unwrap_or(k).to_owned()),
    );
    let rows: Vec<Vec<String>> = ranks(&results)
        .into_iter()
        .zip(&results)
        .take(10)
        .map(|(rank, r)| {
            let mut row = vec![
                rank.to_string(),
                r.trial.to_string(),
                r.mean.map_or_else(|| "failed".to_owned(), value),
                r.std.map_or_else(String::new, value),
                duration(r.seconds),
            ];
            row.extend(
                search
                    .keys
                    .iter()
                    .map(|k| r.params.get(k).map_or_else(String::new, shown)),
            );
            row
        })
        .collect();
    write_aligned(&mut text, &head, &rows)?;
    if results.len() > 10 {
        writeln!(text, "  ... {} more in results.csv", results.len() - 10)?;
    }
    writeln!(text, "Best settings: {}", best_path.display())?;
    let chart = chart(&search, &results);
    let chart_path = dir.join("tune.svg");
    match crate::charts::save(&chart, &chart_path, crate::charts::Format::Svg) {
        Ok(()) => writeln!(text, "Chart: {}", chart_path.display())?,
        Err(err) => eprintln!("warning: cannot draw {}: {err:#}", chart_path.display()),
    }
    if refit {
        let (path, score) = refit_best(dir, &best_path, &search.metric)?;
        match score {
            Refit::Interrupted => {
                print(&text)?;
                eprintln!(
                    "interrupted during the refit (its unfinished run removed); `nerve tune --collect {}` refits",
                    dir.display()
                );
                return Ok(ExitCode::from(130));
            }
            Refit::Score(score) => writeln!(
                text,
                "Refitted on every training row: test {} {} ({})",
                search.metric,
                value(score),
                path.display()
            )?,
            Refit::Undefined => writeln!(
                text,
                "Refitted on every training row ({}); the test rows leave {} undefined",
                path.display(),
                search.metric
            )?,
            Refit::NoTestRows => writeln!(
                text,
                "Refitted on every training row ({}); no test rows to score it on (--test-split 0)",
                path.display()
            )?,
        }
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `tune.svg`'s data: the scored trials best first, and each setting whose values are all
/// numbers.
fn chart(search: &Search, results: &[TrialResult]) -> crate::charts::TuneChart {
    let scored: Vec<&TrialResult> = results.iter().filter(|r| r.is_ok()).collect();
    let settings = search
        .keys
        .iter()
        .filter_map(|key| {
            let points: Option<Vec<(f64, f64)>> = scored
                .iter()
                .map(|r| {
                    let x = match r.params.get(key)? {
                        toml::Value::Integer(i) => *i as f64,
                        toml::Value::Float(f) => *f,
                        _ => return None,
                    };
                    Some((x, r.mean?))
                })
                .collect();
            points
                .filter(|p| !p.is_empty())
                .map(|points| crate::charts::Setting {
                    key: key.clone(),
                    points,
                })
        })
        .collect();
    crate::charts::TuneChart {
        metric: search.metric.clone(),
        greater_is_better: search.greater_is_better,
        trials: scored
            .iter()
            .map(|r| (r.trial, r.mean.unwrap_or(f64::NAN), r.std.unwrap_or(0.0)))
            .collect(),
        settings,
    }
}

/// The refit's test score.
enum Refit {
    Score(f64),
    /// The test rows leave the metric undefined (ROC AUC of one class).
    Undefined,
    /// `--test-split 0`: no test rows.
    NoTestRows,
    /// Ctrl-C stopped it.
    Interrupted,
}

/// Trains `best` (a config file) into `dir/refit` with `nerve train`, and reads its test score
/// of `metric`.
fn refit_best(dir: &Path, best: &Path, metric: &str) -> Result<(PathBuf, Refit)> {
    let out = dir.join("refit");
    let exe = std::env::current_exe().context("cannot find this program to refit")?;
    let output = Command::new(exe)
        .args(["train", "--json", "--quiet", "--overwrite", "--config"])
        .arg(best)
        .arg("--out")
        .arg(&out)
        .env(crate::progress::STOP_FILE_ENV, dir.join(STOP_FILE))
        .stdin(Stdio::null())
        .output()
        .context("cannot start the refit")?;
    if !output.status.success()
        && (crate::progress::interrupted() || output.status.code() == Some(130))
    {
        // Stopped partway: its run folder would pass for the refit. (A refit that ended before
        // the Ctrl-C reached it is whole, and kept.)
        match std::fs::remove_dir_all(&out) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| {
                    format!("cannot remove the interrupted refit {}", out.display())
                });
            }
            _ => return Ok((out, Refit::Interrupted)),
        }
    }
    if !output.status.success() {
        bail!(
            "the refit of {} failed: {}",
            best.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .context("the refit printed no summary")?;
    let test = &summary["test"];
    if test.is_null() {
        return Ok((out, Refit::NoTestRows));
    }
    let score = test[metric]
        .as_f64()
        .or_else(|| test["report"][metric].as_f64());
    Ok((out, score.map_or(Refit::Undefined, Refit::Score)))
}
