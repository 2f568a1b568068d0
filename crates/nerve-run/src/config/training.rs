//! `[training]`: the epoch loop's settings and the early-stopping mode.

use nerve_train::{BatchSize, Monitor, TrainConfig};
use serde::{Deserialize, Serialize};

/// The `[training]` table: [`TrainConfig`]'s epoch-loop settings (its defaults), plus the
/// checkpoint interval. Not a `TrainConfig` itself: the file keeps `[loss]`, `[optimizer]` and
/// `[schedule]` as tables of their own (those two are the library's configs, embedded), and
/// serde's `flatten`, which could merge the rest, turns off `deny_unknown_fields`.
/// [`RunConfig::train_config`](crate::RunConfig::train_config) puts the pieces together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingSection {
    /// The epoch limit.
    pub num_epochs: usize,
    /// Rows per step: a number, "auto" (min(200, rows)) or "full".
    pub batch_size: BatchSize,
    /// Seeds initialisation and shuffling.
    pub seed: u64,
    /// Stop once the gradient's global L2 norm falls below this (0: never).
    pub tol: f64,
    /// Early stopping: epochs without improvement of the validation loss (0: off).
    pub patience: usize,
    /// Early stopping: the improvement that counts, in the monitored quantity's units.
    pub min_delta: f64,
    /// What early stopping, the kept epoch and reduce-on-plateau watch: val_loss (the
    /// training loss without validation rows), val_accuracy, val_f1, val_auc, val_r2 or
    /// train_loss.
    #[serde(default)]
    pub monitor: Monitor,
    /// Scale the gradient down to this global L2 norm when it is larger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Write a checkpoint (for `--resume`) every this many epochs; 0: never.
    pub checkpoint_every: usize,
    /// `auto`: hold out validation rows and stop early (see [`EarlyStopping`]) once the
    /// training part is large enough; `on`: always; `off`: only as `val_split` and `patience`
    /// say.
    #[serde(default)]
    pub early_stopping: EarlyStopping,
}

/// Whether a run holds out a validation share and stops once it stops improving, restoring
/// the best epoch's weights (HistGradientBoosting's `early_stopping="auto"`: on from 10,000
/// rows, with `validation_fraction=0.1` and `n_iter_no_change=10`). Where it is on and the
/// config leaves them at 0, `val_split` becomes [`EarlyStopping::VALIDATION_SHARE`] and
/// `patience` [`EarlyStopping::PATIENCE`]; the saved config records the values used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EarlyStopping {
    /// On when the training part has at least [`EarlyStopping::AUTO_MIN_ROWS`] rows.
    #[default]
    Auto,
    /// Always on.
    On,
    /// Never added: `val_split` and `patience` as configured.
    Off,
}

nerve_choice::named_choice!(EarlyStopping, "early-stopping mode");

impl EarlyStopping {
    /// Every mode, in the order listed in help texts.
    pub const ALL: [EarlyStopping; 3] =
        [EarlyStopping::Auto, EarlyStopping::On, EarlyStopping::Off];
    /// The share of rows held out for validation when early stopping is added.
    pub const VALIDATION_SHARE: f64 = 0.1;
    /// Epochs without improvement before stopping, when early stopping is added.
    pub const PATIENCE: usize = 10;
    /// `auto` turns early stopping on from this many training rows (the rows not held out
    /// for the test); chosen by `just bench-quality` (BENCHMARKS.md).
    pub const AUTO_MIN_ROWS: usize = 1000;

    /// The mode's name, as configs and flags write it.
    pub fn name(self) -> &'static str {
        match self {
            EarlyStopping::Auto => "auto",
            EarlyStopping::On => "on",
            EarlyStopping::Off => "off",
        }
    }
}

impl Default for TrainingSection {
    fn default() -> Self {
        let defaults = TrainConfig::default();
        Self {
            num_epochs: defaults.num_epochs,
            batch_size: defaults.batch_size,
            seed: defaults.seed,
            tol: defaults.tol,
            patience: defaults.patience,
            min_delta: defaults.min_delta,
            monitor: defaults.monitor,
            clip_grad_norm: defaults.clip_grad_norm,
            checkpoint_every: 1,
            early_stopping: EarlyStopping::default(),
        }
    }
}
