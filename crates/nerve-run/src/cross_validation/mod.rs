//! k-fold cross-validation of a run config, shared by `nerve cv` and `nerve tune`: the rows
//! a run trains on (every row but the test split) are dealt into folds (stratified by class,
//! seeded by the split seed: `nerve_data::k_folds`); for each fold the preprocessing is fitted
//! on the other folds' rows alone (`Prepared::refit`: scales, fill values and categories never
//! see a held-out row), a network is trained from the config's seed as `nerve train` trains
//! one, and every [`Metric`] is scored on the held-out rows.

use std::time::Instant;

mod metric;

pub use metric::Metric;

use burn::prelude::Device;
use nerve_data::{Prepared, Split, SplitOptions, class_ids, k_folds};
use nerve_train::{Observer, StopReason};
use serde::Serialize;

use crate::non_finite::check_answered;
use crate::{FitPlan, Result, RunConfig, RunError, evaluate_part};

/// How the rows are folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    /// k: folds per repeat, each held out once.
    pub folds: usize,
    /// How many times the rows are folded, each time shuffled with the next seed (scikit-learn's
    /// `RepeatedStratifiedKFold`).
    pub repeats: usize,
}

/// One fold: the rows it trains on and the rows it holds out, as rows of
/// [`Prepared::table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The repeat, from 0.
    pub repeat: usize,
    /// The fold within the repeat, from 0.
    pub index: usize,
    /// The other folds' rows: what the preprocessing is fitted on and the network trains on.
    pub fit: Vec<usize>,
    /// The rows it is scored on.
    pub held_out: Vec<usize>,
}

/// The folds of `prepared`'s rows (every row but the test split's), and warnings for the user
/// (a class with fewer rows than folds). Repeat `r` shuffles with the split seed + `r`, so a
/// fold's rows depend only on the split seed and the data.
///
/// # Errors
///
/// Fewer rows than folds, or fewer than 2 folds or 1 repeat.
pub fn folds(
    prepared: &Prepared,
    folding: Folding,
    split_seed: u64,
) -> Result<(Vec<Fold>, Vec<String>)> {
    if folding.repeats == 0 {
        return Err(RunError::setting("--repeats must be at least 1"));
    }
    let mut rows: Vec<usize> = prepared
        .split
        .train
        .iter()
        .chain(&prepared.split.validation)
        .copied()
        .collect();
    rows.sort_unstable();
    let labels = prepared.preprocessor.labels();
    let strata: Option<Vec<u32>> = labels.map(|labels| {
        let ids = class_ids(&prepared.table, prepared.preprocessor.target_name(), labels);
        rows.iter().map(|&r| ids[r]).collect()
    });
    let mut warnings = Vec::new();
    if let (Some(labels), Some(strata)) = (labels, &strata) {
        for (class, label) in labels.iter().enumerate() {
            let count = strata.iter().filter(|&&c| c as usize == class).count();
            if count < folding.folds {
                warnings.push(format!(
                    "class `{label}` has {count} of the {} rows folded, fewer than the {} folds: {} held-out folds have none of it",
                    rows.len(),
                    folding.folds,
                    folding.folds - count
                ));
            }
        }
    }
    let mut all = Vec::with_capacity(folding.folds * folding.repeats);
    for repeat in 0..folding.repeats {
        let seed = split_seed.wrapping_add(repeat as u64);
        let held = k_folds(&rows, strata.as_deref(), folding.folds, seed).map_err(|source| {
            RunError::Folds {
                source_name: prepared.table.source_name().to_owned(),
                rows: rows.len(),
                source: Box::new(source),
            }
        })?;
        for (index, held_out) in held.into_iter().enumerate() {
            let fit = rows
                .iter()
                .copied()
                .filter(|r| held_out.binary_search(r).is_err())
                .collect();
            all.push(Fold {
                repeat,
                index,
                fit,
                held_out,
            });
        }
    }
    Ok((all, warnings))
}

/// What one fold gave.
#[derive(Debug, Clone)]
pub struct FoldResult {
    /// The repeat, from 0.
    pub repeat: usize,
    /// The fold within the repeat, from 0.
    pub fold: usize,
    /// Rows the network trained on (without the fold's validation rows).
    pub rows_trained: usize,
    /// Rows of the fold's validation split (early stopping), if any.
    pub rows_validation: usize,
    /// Rows the fold is scored on.
    pub rows_held_out: usize,
    /// Epochs trained (the kept epoch's, with early stopping).
    pub epochs: usize,
    /// Why its training stopped, in words.
    pub stop_reason: String,
    /// Wall time of preprocessing, training and scoring, in seconds.
    pub seconds: f64,
    /// Each metric's value on the held-out rows (a metric the rows leave undefined is absent).
    pub scores: Vec<(Metric, f64)>,
    /// Held-out cells of a category the fold's training rows lack (encoded as zeros).
    pub unseen_categories: usize,
    /// Held-out cells filled by the fold's training rows' fill values.
    pub filled: usize,
}

impl FoldResult {
    /// The value of `metric`, if defined on this fold.
    pub fn score(&self, metric: Metric) -> Option<f64> {
        self.scores
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|&(_, v)| v)
    }
}

/// Trains and scores one fold of `prepared` (made by [`prepare`](nerve_data::prepare) with
/// `config`'s data settings) on `device` (an autodiff device). `observer` sees the training
/// (progress; Ctrl-C).
///
/// # Errors
///
/// A preprocessing or training failure (a diverged run among them), or an interruption.
pub fn run_fold(
    config: &RunConfig,
    prepared: &Prepared,
    fold: &Fold,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<FoldResult> {
    let start = Instant::now();
    let source = prepared.table.source_name();
    // The fold's validation rows (early stopping), split off its training rows as `train`
    // splits them off all rows: the same share, stratified, seeded.
    let (train_rows, validation_rows) = if config.data.val_split > 0.0 {
        let labels = prepared.preprocessor.labels();
        let strata: Option<Vec<u32>> = labels.map(|labels| {
            let ids = class_ids(&prepared.table, prepared.preprocessor.target_name(), labels);
            fold.fit.iter().map(|&r| ids[r]).collect()
        });
        let split = Split::new(
            fold.fit.len(),
            strata.as_deref(),
            &SplitOptions {
                test: 0.0,
                validation: config.data.val_split,
                seed: config.data.split_seed,
            },
        )?;
        let pick = |idx: &[usize]| -> Vec<usize> { idx.iter().map(|&i| fold.fit[i]).collect() };
        (pick(&split.train), pick(&split.validation))
    } else {
        (fold.fit.clone(), Vec::new())
    };
    let options = config.data.prepare_options().preprocess_options();
    // Fitted on the fold's training rows only: no held-out (or validation) row's statistics.
    let mut parts: Vec<&[usize]> = vec![&train_rows, &fold.held_out];
    if !validation_rows.is_empty() {
        parts.push(&validation_rows);
    }
    let (p, mut parts) = prepared.refit(&train_rows, &parts, &options)?;
    let validation = (parts.len() == 3).then(|| parts.remove(2));
    let held_out = parts.remove(1);
    let train = parts.remove(0);
    let (_, held_report) = p.transform_features(&prepared.table, &fold.held_out)?;

    let plan = FitPlan::new(config, &p, &train, validation.is_some(), source)?;
    let model = plan.new_network(&train, device);
    let trainer = plan.trainer();
    let outcome = trainer.fit(model, &train, validation.as_ref(), device, observer)?;
    if outcome.stop_reason == StopReason::Interrupted {
        return Err(RunError::Interrupted);
    }
    let plain = device.clone().without_autodiff();
    let evaluation = evaluate_part(
        &trainer,
        &outcome.model,
        config.loss(),
        &held_out,
        &p,
        &plain,
    )?;
    check_answered(&p, &held_out, &evaluation.outputs, evaluation.width)?;
    let (metrics, report) = (evaluation.metrics, evaluation.report);
    let scores = Metric::of_task(p.task())
        .into_iter()
        .filter_map(|m| m.value(&metrics, &report).map(|v| (m, v)))
        // A metric the rows leave undefined (NaN: F1 of a fold with no positive row) is
        // absent, as an undefined ROC AUC is.
        .filter(|(_, v)| v.is_finite())
        .collect();
    Ok(FoldResult {
        repeat: fold.repeat,
        fold: fold.index,
        rows_trained: train.len(),
        rows_validation: validation.as_ref().map_or(0, nerve_data::Dataset::len),
        rows_held_out: held_out.len(),
        epochs: outcome.best_epoch,
        stop_reason: outcome.stop_reason.describe().to_owned(),
        seconds: start.elapsed().as_secs_f64(),
        scores,
        unseen_categories: held_report.unseen.iter().map(|(_, n)| n).sum(),
        filled: held_report.filled.iter().map(|(_, n)| n).sum(),
    })
}

/// A metric over the folds: mean, standard deviation (of the folds' values, `ddof=0` as
/// `numpy.std` and scikit-learn's `cv_results_`), extremes, and how many folds define it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// The mean over the folds that define it.
    pub mean: f64,
    /// Their standard deviation (`ddof=0`).
    pub std: f64,
    /// The smallest fold's value.
    pub min: f64,
    /// The largest fold's value.
    pub max: f64,
    /// How many folds define it.
    pub folds: usize,
}

/// The mean and standard deviation (`ddof=0`) of `values`, or `None` for none.
pub fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some((mean, std))
}

/// `metric` over `results`' folds, or `None` when no fold defines it.
pub fn summarize(results: &[FoldResult], metric: Metric) -> Option<Summary> {
    let values: Vec<f64> = results.iter().filter_map(|r| r.score(metric)).collect();
    let (mean, std) = mean_std(&values)?;
    Some(Summary {
        mean,
        std,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        folds: values.len(),
    })
}
