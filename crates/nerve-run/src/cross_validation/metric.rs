//! [`Metric`]: scikit-learn's scoring names for held-out rows, with their directions.

use nerve_data::Task;
use nerve_train::{PartMetrics, Report, Scores};

use crate::{Result, RunError};

/// A score of held-out rows, named as scikit-learn names it (`scoring=`), with its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
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
    /// Every metric, classification's first.
    pub const ALL: [Metric; 15] = [
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
    pub fn name(self) -> &'static str {
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
    pub fn greater_is_better(self) -> bool {
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
    pub fn of_task(task: Task) -> Vec<Metric> {
        let classification = task == Task::Classification;
        // The training loss last, for either task.
        Self::ALL
            .into_iter()
            .filter(|m| m.for_classification() == classification && *m != Metric::Loss)
            .chain([Metric::Loss])
            .collect()
    }

    /// What a search optimizes and `cv` shows per fold unless told: accuracy, or R².
    pub fn default_for(task: Task) -> Metric {
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
    pub fn chosen(given: Option<Metric>, task: Task) -> Result<Metric> {
        let metric = given.unwrap_or(Metric::default_for(task));
        if !metric.fits(task) {
            let names: Vec<&str> = Metric::of_task(task).iter().map(|m| m.name()).collect();
            return Err(RunError::setting(format!(
                "--metric {metric} does not score {task}; choose one of {}",
                names.join(", ")
            )));
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
    pub fn fits(self, task: Task) -> bool {
        Self::of_task(task).contains(&self)
    }

    /// Its value on rows whose metrics and report are given; `None` where the rows define
    /// none (ROC AUC of rows of one class).
    pub(crate) fn value(self, metrics: &PartMetrics, report: &Report) -> Option<f64> {
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
