//! A search's results read back and ranked: each trial's file checked against its plan
//! ([`ranked`]), the table of `results.csv` / `results.json` ([`write_table`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use nerve_run::cross_validation::Metric;
use serde_json::{Value, json};

use super::search::Search;
use super::trial;
use super::trial::{Stored, TrialResult};
use crate::numbers::{duration, value};
use crate::run_dir::write_atomically;

/// A line about a finished trial.
pub(super) fn describe(result: &TrialResult) -> String {
    let params: Vec<String> = result
        .params
        .iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect();
    match (result.mean, result.std) {
        (Some(mean), Some(std)) => format!(
            "trial {}: {} {} ± {} ({}; {})",
            result.trial,
            result.metric,
            value(mean),
            value(std),
            params.join(", "),
            duration(result.seconds)
        ),
        _ => format!(
            "trial {}: failed ({}): {}",
            result.trial,
            params.join(", "),
            result.error.as_deref().unwrap_or("no score")
        ),
    }
}

/// The search folder's results ranked: the best first, failed trials last.
pub(super) fn ranked(dir: &Path, complete: bool) -> Result<(Search, Vec<TrialResult>)> {
    let search_path = dir.join("search.json");
    let search: Search =
        serde_json::from_slice(&std::fs::read(&search_path).with_context(|| {
            format!("{} is not a search folder (no search.json)", dir.display())
        })?)
        .with_context(|| format!("{} is not a search", search_path.display()))?;
    let trials = dir.join("trials");
    if complete {
        // (While the search runs, write_plan has just checked its trial files against it.)
        check_search(&search, &search_path, &trials)?;
    }
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for id in 0..search.trials {
        let plan = trial::plan_path(&trials, id);
        match trial::read_result(&plan)? {
            Stored::Valid(result) => results.push(*result),
            Stored::Missing => missing.push(id),
            // The table lists results that prove they are their trial's, nothing else.
            Stored::Invalid(why) if complete => bail!(
                "{why}; run the trial again with `nerve tune --run-trial {}` (or the search's command), then collect",
                plan.display()
            ),
            Stored::Invalid(_) => missing.push(id),
        }
    }
    if complete && !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(10)
            .map(|id| format!("trial-{id:04}"))
            .collect();
        bail!(
            "{} of {} trials have no result yet ({}{}): run them with `nerve tune --run-trial {}/trial-NNNN.toml`",
            missing.len(),
            search.trials,
            shown.join(", "),
            if missing.len() > 10 { ", ..." } else { "" },
            trials.display()
        );
    }
    let sign = if search.greater_is_better { -1.0 } else { 1.0 };
    results.sort_by(|a, b| match (a.mean, b.mean) {
        (Some(x), Some(y)) => (sign * rank_key(x))
            .total_cmp(&(sign * rank_key(y)))
            .then(a.trial.cmp(&b.trial)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.trial.cmp(&b.trial),
    });
    Ok((search, results))
}

/// Checks that `search.json` (at `path`) says what its trial files do, so that an edited or
/// foreign record cannot rank the trials another way: its metric names a metric and its
/// direction, every trial file of `trials` is one of its trials, scored by its metric, folds
/// and repeats, and there are no more of them.
pub(super) fn check_search(search: &Search, path: &Path, trials: &Path) -> Result<()> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "{} does not describe the search of its trial files ({why}); remove the folder and run the search again",
            path.display()
        )
    };
    let metric: Metric = search.metric.parse().map_err(|err: String| refuse(err))?;
    if metric.greater_is_better() != search.greater_is_better {
        return Err(refuse(format!(
            "{} is {} better, not {}",
            metric.name(),
            if metric.greater_is_better() {
                "higher"
            } else {
                "lower"
            },
            if search.greater_is_better {
                "higher"
            } else {
                "lower"
            }
        )));
    }
    if trial::plan_path(trials, search.trials).exists() {
        return Err(refuse(format!(
            "it has {} trials, but {} exists",
            search.trials,
            trial::plan_path(trials, search.trials).display()
        )));
    }
    for id in 0..search.trials {
        let path = trial::plan_path(trials, id);
        if !path.exists() {
            return Err(refuse(format!("{} is missing", path.display())));
        }
        let plan = trial::read_plan(&path)?;
        if plan.trial != id
            || plan.metric != search.metric
            || plan.folds != search.folds
            || plan.repeats != search.repeats
        {
            return Err(refuse(format!(
                "{} is trial {}, scored by {} over {} folds x {} repeats",
                path.display(),
                plan.trial,
                plan.metric,
                plan.folds,
                plan.repeats
            )));
        }
    }
    Ok(())
}

/// Writes `results.csv` and `results.json` (atomically); returns the ranked results.
pub(super) fn write_table(dir: &Path, complete: bool) -> Result<(Search, Vec<TrialResult>)> {
    let (search, results) = ranked(dir, complete)?;
    let folds = search.folds * search.repeats;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "rank".to_owned(),
        "trial".to_owned(),
        "status".to_owned(),
        format!("mean_{}", search.metric),
        format!("std_{}", search.metric),
        "seconds".to_owned(),
    ];
    header.extend(search.keys.iter().cloned());
    header.extend((1..=folds).map(|f| format!("fold_{f}")));
    header.push("error".to_owned());
    csv.write_record(&header)?;
    let ranks = ranks(&results);
    let mut rows_json = Vec::new();
    for (&rank, result) in ranks.iter().zip(&results) {
        let mut record = vec![
            rank.to_string(),
            result.trial.to_string(),
            result.status.clone(),
            result.mean.map_or_else(String::new, |v| v.to_string()),
            result.std.map_or_else(String::new, |v| v.to_string()),
            format!("{:.3}", result.seconds),
        ];
        record.extend(
            search
                .keys
                .iter()
                .map(|k| result.params.get(k).map_or_else(String::new, shown)),
        );
        let scores = result.fold_scores();
        record.extend((0..folds).map(|f| {
            scores
                .get(f)
                .filter(|v| v.is_finite())
                .map_or_else(String::new, ToString::to_string)
        }));
        record.push(result.error.clone().unwrap_or_default());
        csv.write_record(&record)?;
        let means: BTreeMap<String, f64> = mean_of_each(&result.folds);
        rows_json.push(json!({
            "rank": rank,
            "trial": result.trial,
            "status": result.status,
            "params": result.params,
            "mean": result.mean,
            "std": result.std,
            "fold_scores": scores.iter().map(|v| if v.is_finite() { json!(v) } else { Value::Null }).collect::<Vec<_>>(),
            "means": means,
            "fold_epochs": result.fold_epochs,
            "seconds": result.seconds,
            "error": result.error,
        }));
    }
    write_atomically(&dir.join("results.csv"), &csv.into_inner()?)?;
    let table = json!({
        "metric": search.metric,
        "greater_is_better": search.greater_is_better,
        "folds": search.folds,
        "repeats": search.repeats,
        "search_seed": search.search_seed,
        "trials": rows_json,
    });
    let mut bytes = serde_json::to_vec_pretty(&table)?;
    bytes.push(b'\n');
    write_atomically(&dir.join("results.json"), &bytes)?;
    Ok((search, results))
}

/// A mean as the ranking compares it: to 12 significant digits. The same fold scores summed in
/// another order, or equal fractions of different folds (341 of 360 rows right, however they
/// fall), differ in the last bits of a double; the ranking takes them as the tie they are.
pub(super) fn rank_key(mean: f64) -> f64 {
    format!("{mean:.11e}").parse().unwrap_or(mean)
}

/// The rank of each of the ranked `results`, as scikit-learn's `rank_test_score`
/// (`scipy.stats.rankdata(method="min")`): tied means (equal to 12 significant digits, see
/// [`rank_key`]) share the best rank of their group, the next mean ranks after all of them;
/// failed trials all rank after every scored one.
pub(super) fn ranks(results: &[TrialResult]) -> Vec<usize> {
    let mut ranks: Vec<usize> = Vec::with_capacity(results.len());
    for (i, result) in results.iter().enumerate() {
        let tied = i > 0 && results[i - 1].mean.map(rank_key) == result.mean.map(rank_key);
        ranks.push(if tied { ranks[i - 1] } else { i + 1 });
    }
    ranks
}

/// A setting's value as the table shows it: text unquoted, anything else as TOML writes it.
pub(super) fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Each metric's mean over the folds that define it.
pub(super) fn mean_of_each(folds: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for fold in folds {
        for (name, v) in fold {
            let entry = sums.entry(name.clone()).or_default();
            entry.0 += v;
            entry.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(name, (sum, n))| (name, sum / n as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(trial: usize, mean: Option<f64>) -> TrialResult {
        TrialResult {
            trial,
            plan_sha256: String::new(),
            params: BTreeMap::new(),
            status: if mean.is_some() { "ok" } else { "failed" }.to_owned(),
            error: None,
            metric: "accuracy".to_owned(),
            mean,
            std: mean.map(|_| 0.0),
            folds: Vec::new(),
            fold_epochs: Vec::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn tied_means_share_the_best_rank_and_failed_trials_rank_last_as_scikit_learn() {
        // scipy.stats.rankdata([-0.9, -0.9, -0.8, -0.8, -0.8, -0.7], method="min")
        // -> [1, 1, 3, 3, 3, 6]; two failed trials after them share rank 7.
        let means = [
            Some(0.9),
            Some(0.9),
            Some(0.8),
            Some(0.8),
            Some(0.8),
            Some(0.7),
            None,
            None,
        ];
        let results: Vec<TrialResult> = means
            .iter()
            .enumerate()
            .map(|(i, &m)| result(i, m))
            .collect();
        assert_eq!(ranks(&results), [1, 1, 3, 3, 3, 6, 7, 7]);
        // The same fold scores in two orders (the helper's report: iris trials 2 and 9,
        // 0.9666666666666668 and 0.9666666666666666) are one mean, and so are 341 of 360 rows
        // right however they fall over 15 folds of 24.
        let mean = |right: &[f64]| {
            let scores: Vec<f64> = right.iter().map(|r| r / 24.0).collect();
            nerve_run::cross_validation::mean_std(&scores).unwrap().0
        };
        let forward = mean(&[23., 24., 22., 23., 24.]);
        let backward = mean(&[23., 22., 24., 24., 23.]);
        assert_ne!(forward, backward);
        assert_eq!(
            ranks(&[result(0, Some(backward)), result(1, Some(forward))]),
            [1, 1]
        );
        let a = mean(&[
            24., 24., 23., 23., 22., 23., 23., 23., 22., 22., 23., 23., 23., 22., 21.,
        ]);
        let b = mean(&[
            21., 22., 23., 23., 23., 22., 22., 23., 23., 23., 22., 23., 23., 24., 24.,
        ]);
        assert_ne!(a, b);
        assert_eq!(ranks(&[result(0, Some(a)), result(1, Some(b))]), [1, 1]);
        // Means that differ in a real digit do not tie.
        assert_eq!(
            ranks(&[result(0, Some(0.9472)), result(1, Some(0.9471))]),
            [1, 2]
        );
        assert_eq!(ranks(&results[..1]), [1]);
        assert!(ranks(&[]).is_empty());
    }
}
