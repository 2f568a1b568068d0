//! [`TrainConfig`]: the epoch loop's settings, with scikit-learn-like defaults.

use nerve_loss::Loss;
use serde::{Deserialize, Serialize};

use super::TrainError;
use crate::{BatchSize, Monitor, OptimizerConfig, ScheduleConfig};

fn is_default_monitor(monitor: &Monitor) -> bool {
    *monitor == Monitor::ValLoss
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// The epoch limit (the tutorial's iteration limit).
    pub num_epochs: usize,
    /// Rows per optimizer step.
    pub batch_size: BatchSize,
    /// The loss to minimise.
    pub loss: Loss,
    /// The optimizer, its learning rate and hyperparameters.
    pub optimizer: OptimizerConfig,
    /// How the learning rate changes over the epochs.
    pub schedule: ScheduleConfig,
    /// Stop early once the epoch's gradient norm falls below this; 0 never stops early.
    pub tol: f64,
    /// Stop once the monitored loss (validation, else training) has not improved by
    /// `min_delta` for this many epochs, and restore the best epoch's weights; 0 never stops.
    pub patience: usize,
    /// The improvement early stopping requires, in the monitored quantity's units.
    pub min_delta: f64,
    /// What early stopping, the kept epoch and reduce-on-plateau watch.
    #[serde(default, skip_serializing_if = "is_default_monitor")]
    pub monitor: Monitor,
    /// Scale the whole gradient down when its global L2 norm exceeds this (PyTorch's
    /// `clip_grad_norm_`, not burn's per-tensor clipping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Seeds the per-epoch shuffle (the model's initialisation is seeded through the device).
    pub seed: u64,
    /// Shuffle the rows at the start of each epoch (off: batches in row order).
    pub shuffle: bool,
    /// One weight per class for the classification losses: the training loss and the
    /// monitored validation loss are weighted means (`Σ w_{y_i} l_i / Σ w_{y_i}`, PyTorch's
    /// weighted cross-entropy); the final metrics are not weighted. `None`: every row counts
    /// the same. Row weights (sample weights) come with the data
    /// ([`Dataset::with_weights`](nerve_data::Dataset::with_weights)) and multiply these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weights: Option<Vec<f64>>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        // scikit-learn's MLP defaults: Adam at 1e-3, batches of min(200, rows), 200 epochs.
        Self {
            num_epochs: 200,
            batch_size: BatchSize::Auto,
            loss: Loss::Mse,
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            tol: 0.0,
            patience: 0,
            min_delta: 0.0,
            monitor: Monitor::ValLoss,
            clip_grad_norm: None,
            seed: 42,
            shuffle: true,
            class_weights: None,
        }
    }
}

impl TrainConfig {
    /// Checks the settings, naming the first that is out of range.
    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |message: String| Err(TrainError::Config(message));
        if self.batch_size == BatchSize::Rows(0) {
            return invalid("`batch_size` must be at least 1".into());
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return invalid(format!("`tol` must be 0 or positive, got {}", self.tol));
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return invalid(format!(
                "`min_delta` must be 0 or positive, got {}",
                self.min_delta
            ));
        }
        if let Some(max) = self.clip_grad_norm
            && !(max.is_finite() && max > 0.0)
        {
            return invalid(format!("`clip_grad_norm` must be positive, got {max}"));
        }
        self.optimizer
            .validate()
            .map_err(|err| TrainError::Config(err.0))?;
        // Built once here, so that a schedule burn refuses (a cosine `min_lr` above the
        // learning rate, say) is refused with the rest, before a caller does any work.
        crate::Schedule::new(
            &self.schedule,
            self.optimizer.learning_rate,
            self.num_epochs,
        )
        .map(drop)
        .map_err(|err| TrainError::Config(err.0))
    }
}
