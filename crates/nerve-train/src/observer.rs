//! [`Observer`]: how the trainer reports progress without printing.

use std::time::Duration;

/// What a run is about to do, reported once before the first epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPlan {
    /// The epoch limit.
    pub num_epochs: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Training rows.
    pub num_rows: usize,
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean training loss over the epoch's batches (weighted by batch size), each taken
    /// before that batch's update. With full-batch training, the loss before this epoch's step.
    pub loss: f64,
    /// The global L2 norm of the gradient, averaged over the epoch's steps; with full-batch
    /// training, the norm of the full gradient.
    pub grad_norm: f64,
    /// Time since training started.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Receives the trainer's progress. Every method has an empty default, so an observer
/// implements only what it shows.
pub trait Observer {
    /// Called once before the first epoch.
    fn on_start(&mut self, _plan: &TrainPlan) {}
    /// Called after every epoch.
    fn on_epoch(&mut self, _report: &EpochReport) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {}
