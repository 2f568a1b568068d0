//! [`Observer`]: how the trainer reports progress without printing, and how it is told to stop.

use std::time::Duration;

use crate::PartMetrics;

/// What a run is about to do, reported once before the first epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPlan {
    /// The epoch limit.
    pub num_epochs: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Training rows.
    pub num_rows: usize,
    /// Validation rows (0 without validation data).
    pub num_validation_rows: usize,
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The learning rate of the epoch's steps.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub lr: f64,
    /// Training loss and metrics, accumulated over the epoch's batches (weighted by batch size),
    /// each batch measured before its own update — scikit-learn's `loss_`. With full-batch
    /// training, the loss before this epoch's step.
    pub train: PartMetrics,
    /// Validation loss and metrics after the epoch's last step, when there is validation data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<PartMetrics>,
    /// The validation rows' ROC-AUC (one-vs-rest macro for more than two classes), computed
    /// only when early stopping monitors it (`val_auc`); NaN when the rows leave it undefined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_auc: Option<f64>,
    /// The global L2 norm of the gradient (after clipping), averaged over the epoch's steps;
    /// with full-batch training, the norm of the full gradient.
    #[serde(deserialize_with = "crate::non_finite::or_null")]
    pub grad_norm: f64,
    /// A spiking network's hidden layers (`layers.{i}` indices) that fired no spike on the
    /// first [`SILENCE_SAMPLE_ROWS`](crate::SILENCE_SAMPLE_ROWS) training rows after this
    /// epoch: a network that never fires learns nothing (its loss sits at `ln C`). Empty for a
    /// rate network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silent_layers: Vec<usize>,
    /// Time since training started.
    #[serde(
        rename = "seconds",
        serialize_with = "seconds",
        deserialize_with = "from_seconds"
    )]
    pub elapsed: Duration,
}

impl EpochReport {
    /// The epoch's training loss.
    pub fn loss(&self) -> f64 {
        self.train.loss
    }

    /// The loss that early stopping and reduce-on-plateau watch: validation when there is any,
    /// else training.
    pub fn monitored_loss(&self) -> f64 {
        self.validation.as_ref().map_or(self.train.loss, |v| v.loss)
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn from_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let seconds = <f64 as serde::Deserialize>::deserialize(d)?;
    Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
}

/// The state of a run after an epoch, enough to continue it later with
/// [`Trainer::resume`](crate::Trainer::resume).
pub struct Checkpoint<'a> {
    /// The epochs completed.
    pub epoch: usize,
    /// The current weights (on the autodiff device). Their parameter ids key the optimizer's
    /// state, so a resumed model must carry the same ids ([`Mlp::param_ids`](nerve_model::Mlp::param_ids)).
    pub model: &'a nerve_model::Mlp,
    /// The optimizer and its state (moments, momentum buffers).
    pub optimizer: &'a burn::optim::ModuleOptimizer,
    /// Every epoch so far.
    pub history: &'a [EpochReport],
    /// With early stopping: the best epoch so far and its weights.
    pub best: Option<(usize, &'a nerve_model::Mlp)>,
    /// Whether the run ends after this epoch (the epoch limit, early stopping, `tol`, or the
    /// observer asked to stop): an observer that skips checkpoints to save time must keep this
    /// one, since a resumed run continues from it.
    pub last: bool,
}

impl std::fmt::Debug for Checkpoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("epoch", &self.epoch)
            .field("best_epoch", &self.best.map(|(epoch, _)| epoch))
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

/// Receives the trainer's progress. Every method has an empty default, so an observer
/// implements only what it shows.
pub trait Observer {
    /// Called once before the first epoch.
    fn on_start(&mut self, _plan: &TrainPlan) {}
    /// Called after every optimizer step (`step` from 1 within the epoch). Nothing is read from
    /// the device for it.
    fn on_step(&mut self, _epoch: usize, _step: usize) {}
    /// Called after every epoch.
    fn on_epoch(&mut self, _report: &EpochReport) {}
    /// Called after every epoch, after [`Observer::should_stop`], with what it takes to
    /// continue the run later. Returns whether the checkpoint was kept: `false` (a disk that
    /// is full, say) ends training after this epoch with
    /// [`StopReason::CheckpointFailed`](crate::StopReason::CheckpointFailed), rather than
    /// training on with nothing to resume from.
    fn on_checkpoint(&mut self, _checkpoint: &Checkpoint<'_>) -> bool {
        true
    }
    /// Asked once after every epoch, before [`Observer::on_checkpoint`]: `true` ends training
    /// there (e.g. on Ctrl-C), with [`StopReason::Interrupted`](crate::StopReason::Interrupted).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {}
