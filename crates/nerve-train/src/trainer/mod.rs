//! [`Trainer`]: the epoch loop, and [`train_step`], one step of it.

use burn::prelude::Device;
use nerve_data::Dataset;
use nerve_model::Mlp;
use serde::{Deserialize, Serialize};

use crate::{EpochReport, MetricKind, Observer, PartMetrics};

mod config;
mod early_stopping;
mod error;
mod evaluation;
mod run;
mod step;
#[cfg(test)]
mod tests;

pub use config::TrainConfig;
pub use error::TrainError;
use evaluation::evaluate_rows;
pub use step::{StepOutput, train_step};

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All `num_epochs` ran.
    EpochLimit,
    /// The gradient norm fell below `tol`.
    Converged,
    /// The monitored loss stopped improving for `patience` epochs.
    EarlyStopped,
    /// The observer asked to stop (e.g. Ctrl-C).
    Interrupted,
    /// The observer could not keep a checkpoint (e.g. a full disk).
    CheckpointFailed,
    /// The loss became NaN or infinite (only in [`TrainError::Diverged`]'s last good outcome).
    Diverged,
}

impl StopReason {
    /// A few words for people.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::EpochLimit => "epoch limit reached",
            StopReason::Converged => "gradient norm below tol",
            StopReason::EarlyStopped => "no improvement for `patience` epochs",
            StopReason::Interrupted => "interrupted",
            StopReason::CheckpointFailed => "a checkpoint could not be written",
            StopReason::Diverged => "diverged",
        }
    }
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The trained network, in inference mode on the plain (non-autodiff) device: the best
    /// epoch's weights when early stopping is on, else the last epoch's.
    pub model: Mlp,
    /// One report per epoch run.
    pub history: Vec<EpochReport>,
    /// Why training stopped.
    pub stop_reason: StopReason,
    /// The epoch whose weights `model` holds (0: the initial weights).
    pub best_epoch: usize,
    /// The loss of `model` on the whole training set.
    pub final_loss: f64,
}

/// What [`Trainer::resume`] continues from: a [`Checkpoint`](crate::Checkpoint) read back.
#[derive(Debug)]
pub struct Resume {
    /// The optimizer's saved state (burn's burnpack bytes of `ModuleOptimizer::into_bytes`).
    pub optimizer: Vec<u8>,
    /// The epochs run so far.
    pub history: Vec<EpochReport>,
    /// With early stopping: the best epoch so far and its weights.
    pub best: Option<(usize, Mlp)>,
}

/// Runs the epoch loop of a [`TrainConfig`].
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    target_scale: f64,
}

impl Trainer {
    /// A trainer for `config`.
    pub fn new(config: TrainConfig) -> Self {
        Self {
            config,
            target_scale: 1.0,
        }
    }

    /// Reports regression metrics in the target's units when the network learns a target
    /// standardized by `scale` (its standard deviation).
    pub fn with_target_scale(mut self, scale: f64) -> Self {
        self.target_scale = scale;
        self
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// What the metrics measure for a network with `d_output` outputs under this loss.
    fn metric_kind(&self, d_output: usize) -> MetricKind {
        crate::task_rules::metric_kind(self.config.loss, d_output, self.target_scale)
    }

    /// The loss and metrics of a trained `model` (in inference mode, on the plain `device`) on
    /// `data`, in one forward pass and one read from the device; classification metrics include
    /// the confusion matrix.
    pub fn evaluate(
        &self,
        model: &Mlp,
        data: &Dataset,
        device: &Device,
    ) -> Result<PartMetrics, TrainError> {
        let kind = self.metric_kind(model.config().d_output);
        evaluate_rows(model, self.config.loss, kind, data, device)
    }

    /// Trains `model` on `train`, reporting each epoch to `observer`, until the epoch limit,
    /// the gradient-norm `tol`, early stopping (on `validation` when given) or the observer's
    /// stop. `device` must be an autodiff device; the model must have been built for the data
    /// (`d_input` features).
    pub fn fit(
        &self,
        model: Mlp,
        train: &Dataset,
        validation: Option<&Dataset>,
        device: &Device,
        observer: &mut dyn Observer,
    ) -> Result<TrainOutcome, TrainError> {
        self.run(model, None, train, validation, device, observer)
    }

    /// Continues a run from a checkpoint: `model` holds the checkpoint's weights with their
    /// original parameter ids, `resume` the optimizer state, history and best epoch. With the
    /// same config and data, the run ends exactly as if it had never stopped: the shuffle
    /// replays its earlier epochs, the schedule its rates, dropout is seeded per epoch.
    pub fn resume(
        &self,
        model: Mlp,
        resume: Resume,
        train: &Dataset,
        validation: Option<&Dataset>,
        device: &Device,
        observer: &mut dyn Observer,
    ) -> Result<TrainOutcome, TrainError> {
        if let Some(reason) = resume.finished(&self.config) {
            return Err(TrainError::Config(reason));
        }
        self.run(model, Some(resume), train, validation, device, observer)
    }
}

impl Resume {
    /// Why the run this state is of has already ended, when it has: early stopping's patience
    /// ran out, or the gradient norm fell below `tol`. (A run at its epoch limit resumes to
    /// nothing left to train, as before: the limit can be raised.) Resuming it would train epochs the
    /// uninterrupted run never trained.
    pub fn finished(&self, config: &TrainConfig) -> Option<String> {
        let last = self.history.last()?;
        if config.patience > 0
            && let Some((best, _)) = &self.best
            && last.epoch >= best + config.patience
        {
            return Some(format!(
                "the run already stopped early at epoch {} ({} epochs without a {} improvement after epoch {best}); there is nothing to resume: start a new run, or one from its model with --init",
                last.epoch, config.patience, config.monitor
            ));
        }
        if config.tol > 0.0 && last.grad_norm < config.tol {
            return Some(format!(
                "the run already stopped at epoch {}: the gradient norm fell below --tol {}; there is nothing to resume: start a new run, or one from its model with --init",
                last.epoch, config.tol
            ));
        }
        None
    }
}
