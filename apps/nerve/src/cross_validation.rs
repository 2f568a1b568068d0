//! k-fold cross-validation of a run config, shared by `nerve cv` and `nerve tune`: the rows
//! a run trains on (every row but the test split) are dealt into folds (stratified by class,
//! seeded by the split seed: `nerve_data::k_folds`); for each fold the preprocessing is fitted
//! on the other folds' rows alone (`Prepared::refit`: scales, fill values and categories never
//! see a held-out row), a network is trained from the config's seed as `nerve train` trains
//! one, and every [`Metric`] is scored on the held-out rows.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use nerve_data::{Prepared, Split, SplitOptions, Task, class_ids, k_folds};
use nerve_train::{Observer, PartMetrics, Report, Scores, StopReason, Trainer};
use serde::Serialize;

use crate::network_fit;
use crate::run_config::RunConfig;

/// A score of held-out rows, named as scikit-learn names it (`scoring=`), with its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Metric {
    /// Share of rows whose class is right (`accuracy_score`).
    Accuracy,
    /// Mean of the classes' recalls (`balanced_accuracy_score`).
    BalancedAccuracy,
    /// Unweighted mean of the classes' F1 (`f1_score(average="macro")`).
    F1Macro,
    /// Unweighted mean of the classes' precision.
    PrecisionMacro,
    /// Unweighted mean of the classes' recall.
    RecallMacro,
    /// Area under the ROC curve (one-vs-rest macro with more than two classes).
    RocAuc,
    /// Average precision (one-vs-rest macro with more than two classes).
    AveragePrecision,
    /// Cross-entropy of the probabilities (`log_loss`).
    LogLoss,
    /// Mean squared error of the probabilities (`brier_score_loss`, multi-class).
    Brier,
    /// The training loss on the held-out rows (the network's units).
    Loss,
    /// Coefficient of determination (`r2_score`).
    R2,
    /// Mean squared error, in the target's units.
    Mse,
    /// Root mean squared error, in the target's units.
    Rmse,
    /// Mean absolute error, in the target's units.
    Mae,
    /// Mean absolute percentage error (`mean_absolute_percentage_error`, a fraction).
    Mape,
}

impl Metric {
    pub(crate) const ALL: [Metric; 15] = [
        Metric::Accuracy,
        Metric::BalancedAccuracy,
        Metric::F1Macro,
        Metric::PrecisionMacro,
        Metric::RecallMacro,
        Metric::RocAuc,
        Metric::AveragePrecision,
        Metric::LogLoss,
        Metric::Brier,
        Metric::Loss,
        Metric::R2,
        Metric::Mse,
        Metric::Rmse,
        Metric::Mae,
        Metric::Mape,
    ];

    /// Its name (scikit-learn's, without the `neg_` of losses).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::F1Macro => "f1_macro",
            Metric::PrecisionMacro => "precision_macro",
            Metric::RecallMacro => "recall_macro",
            Metric::RocAuc => "roc_auc",
            Metric::AveragePrecision => "average_precision",
            Metric::LogLoss => "log_loss",
            Metric::Brier => "brier",
            Metric::Loss => "loss",
            Metric::R2 => "r2",
            Metric::Mse => "mse",
            Metric::Rmse => "rmse",
            Metric::Mae => "mae",
            Metric::Mape => "mape",
        }
    }

    /// Whether a larger value is better (scores) rather than a smaller one (errors, losses).
    pub(crate) fn greater_is_better(self) -> bool {
        matches!(
            self,
            Metric::Accuracy
                | Metric::BalancedAccuracy
                | Metric::F1Macro
                | Metric::PrecisionMacro
                | Metric::RecallMacro
                | Metric::RocAuc
                | Metric::AveragePrecision
                | Metric::R2
        )
    }

    /// The metrics of a task, in the order they are shown.
    pub(crate) fn of_task(task: Task) -> Vec<Metric> {
        let classification = task == Task::Classification;
        // The training loss last, for either task.
        Self::ALL
            .into_iter()
            .filter(|m| m.for_classification() == classification && *m != Metric::Loss)
            .chain([Metric::Loss])
            .collect()
    }

    /// What a search optimizes and `cv` shows per fold unless told: accuracy, or R².
    pub(crate) fn default_for(task: Task) -> Metric {
        match task {
            Task::Classification => Metric::Accuracy,
            Task::Regression => Metric::R2,
        }
    }

    /// `--metric`, or the task's default.
    ///
    /// # Errors
    ///
    /// A metric that does not score the task, with the ones that do.
    pub(crate) fn chosen(given: Option<Metric>, task: Task) -> Result<Metric> {
        let metric = given.unwrap_or(Metric::default_for(task));
        if !metric.fits(task) {
            let names: Vec<&str> = Metric::of_task(task).iter().map(|m| m.name()).collect();
            bail!(
                "--metric {metric} does not score {task}; choose one of {}",
                names.join(", ")
            );
        }
        Ok(metric)
    }

    fn for_classification(self) -> bool {
        !matches!(
            self,
            Metric::R2 | Metric::Mse | Metric::Rmse | Metric::Mae | Metric::Mape
        )
    }

    /// Whether it scores `task`'s answers.
    pub(crate) fn fits(self, task: Task) -> bool {
        Self::of_task(task).contains(&self)
    }

    /// Its value on rows whose metrics and report are given; `None` where the rows define
    /// none (ROC AUC of rows of one class).
    fn value(self, metrics: &PartMetrics, report: &Report) -> Option<f64> {
        match (&metrics.scores, report) {
            (Scores::Classification(m), Report::Classification(r)) => match self {
                Metric::Accuracy => Some(m.accuracy),
                Metric::BalancedAccuracy => Some(r.balanced_accuracy),
                Metric::F1Macro => Some(m.f1_macro),
                Metric::PrecisionMacro => Some(m.precision_macro),
                Metric::RecallMacro => Some(m.recall_macro),
                Metric::RocAuc => r.roc_auc.value(),
                Metric::AveragePrecision => r.average_precision.value(),
                Metric::LogLoss => Some(r.log_loss),
                Metric::Brier => Some(r.brier),
                Metric::Loss => Some(metrics.loss),
                _ => None,
            },
            (Scores::Regression(m), Report::Regression(r)) => match self {
                Metric::R2 => Some(m.r2),
                Metric::Mse => Some(m.mse),
                Metric::Rmse => Some(m.rmse),
                Metric::Mae => Some(m.mae),
                Metric::Mape => r.mape.value(),
                Metric::Loss => Some(metrics.loss),
                _ => None,
            },
            _ => None,
        }
    }
}

nerve_choice::named_choice!(Metric, "metric", |m| match m {
    Metric::F1Macro => &["f1"],
    Metric::RocAuc => &["auc"],
    Metric::R2 => &["r-squared"],
    _ => &[],
});

/// How the rows are folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folding {
    /// k: folds per repeat, each held out once.
    pub(crate) folds: usize,
    /// How many times the rows are folded, each time shuffled with the next seed (scikit-learn's
    /// `RepeatedStratifiedKFold`).
    pub(crate) repeats: usize,
}

/// One fold: the rows it trains on and the rows it holds out, as rows of
/// [`Prepared::table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fold {
    /// The repeat, from 0.
    pub(crate) repeat: usize,
    /// The fold within the repeat, from 0.
    pub(crate) index: usize,
    /// The other folds' rows: what the preprocessing is fitted on and the network trains on.
    pub(crate) fit: Vec<usize>,
    /// The rows it is scored on.
    pub(crate) held_out: Vec<usize>,
}

/// The folds of `prepared`'s rows (every row but the test split's), and warnings for the user
/// (a class with fewer rows than folds). Repeat `r` shuffles with the split seed + `r`, so a
/// fold's rows depend only on the split seed and the data.
///
/// # Errors
///
/// Fewer rows than folds, or fewer than 2 folds or 1 repeat.
pub(crate) fn folds(
    prepared: &Prepared,
    folding: Folding,
    split_seed: u64,
) -> Result<(Vec<Fold>, Vec<String>)> {
    if folding.repeats == 0 {
        bail!("--repeats must be at least 1");
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
        let held = k_folds(&rows, strata.as_deref(), folding.folds, seed).with_context(|| {
            format!(
                "{}: cannot fold its {} training rows",
                prepared.table.source_name(),
                rows.len()
            )
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
pub(crate) struct FoldResult {
    pub(crate) repeat: usize,
    pub(crate) fold: usize,
    /// Rows the network trained on (without the fold's validation rows).
    pub(crate) rows_trained: usize,
    /// Rows of the fold's validation split (early stopping), if any.
    pub(crate) rows_validation: usize,
    pub(crate) rows_held_out: usize,
    /// Epochs trained (the kept epoch's, with early stopping).
    pub(crate) epochs: usize,
    pub(crate) stop_reason: String,
    /// Wall time of preprocessing, training and scoring, in seconds.
    pub(crate) seconds: f64,
    /// Each metric's value on the held-out rows (a metric the rows leave undefined is absent).
    pub(crate) scores: Vec<(Metric, f64)>,
    /// Held-out cells of a category the fold's training rows lack (encoded as zeros).
    pub(crate) unseen_categories: usize,
    /// Held-out cells filled by the fold's training rows' fill values.
    pub(crate) filled: usize,
}

impl FoldResult {
    /// The value of `metric`, if defined on this fold.
    pub(crate) fn score(&self, metric: Metric) -> Option<f64> {
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
pub(crate) fn run_fold(
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

    let mut train_config = config.train_config();
    train_config.class_weights = network_fit::class_weights(config, &p, &train)?;
    if let Some(message) = train_config
        .monitor
        .unavailable(validation.is_some(), p.labels().is_some())
    {
        bail!("{message}");
    }
    let model = network_fit::new_network(config, &p, &train, source, device)?;
    let trainer = Trainer::new(train_config).with_target_scale(p.target_scale());
    let outcome = trainer
        .fit(model, &train, validation.as_ref(), device, observer)
        .map_err(anyhow::Error::from)?;
    if outcome.stop_reason == StopReason::Interrupted {
        bail!("interrupted");
    }
    let plain = device.clone().without_autodiff();
    let metrics = trainer.evaluate(&outcome.model, &held_out, &plain)?;
    let (outputs, width) =
        crate::part_report::outputs(&outcome.model, config.loss(), &held_out, &plain);
    crate::prediction::check_answered(&p, &held_out, &outputs, width)?;
    let report = crate::part_report::report_of(&outputs, width, &held_out, &p)?;
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
pub(crate) struct Summary {
    pub(crate) mean: f64,
    pub(crate) std: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) folds: usize,
}

/// The mean and standard deviation (`ddof=0`) of `values`, or `None` for none.
pub(crate) fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some((mean, std))
}

/// `metric` over `results`' folds, or `None` when no fold defines it.
pub(crate) fn summarize(results: &[FoldResult], metric: Metric) -> Option<Summary> {
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

/// An observer that only stops training on Ctrl-C (no progress shown).
pub(crate) struct StopOnInterrupt;

impl Observer for StopOnInterrupt {
    fn should_stop(&mut self) -> bool {
        crate::progress::interrupted()
    }
}
