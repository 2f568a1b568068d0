//! [`TrainError`]: what can stop training, and the last good epoch a divergence keeps.

use nerve_data::Dataset;
use nerve_loss::LossError;

use super::TrainOutcome;

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting out of range.
    #[error("invalid training config: {0}")]
    Config(String),
    /// The data does not fit the model or the loss.
    #[error("{source_name}: {message}")]
    Data {
        /// The data set's name.
        source_name: String,
        /// What does not fit.
        message: String,
    },
    /// The loss rejected the targets.
    #[error("{source_name}, target column `{target}`: {source}")]
    Targets {
        /// The data set's name.
        source_name: String,
        /// The target column.
        target: String,
        /// The loss's complaint.
        source: LossError,
    },
    /// The loss became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}: the loss became {loss}; try a smaller learning rate (now {learning_rate})"
    )]
    Diverged {
        /// The epoch where it happened.
        epoch: usize,
        /// The non-finite loss.
        loss: f64,
        /// The learning rate in use.
        learning_rate: f64,
        /// The last good state: the weights and history up to the epoch before (taken out by
        /// [`TrainError::take_last_good`]).
        last_good: Option<Box<TrainOutcome>>,
    },
}

impl TrainError {
    /// Takes the last good state out of a [`TrainError::Diverged`], to save what was learned
    /// before the loss blew up.
    pub fn take_last_good(&mut self) -> Option<TrainOutcome> {
        match self {
            TrainError::Diverged { last_good, .. } => last_good.take().map(|outcome| *outcome),
            _ => None,
        }
    }
}

/// Wraps a loss's complaint about the targets with the data set and column it concerns.
pub(super) fn targets_error(data: &Dataset) -> impl Fn(LossError) -> TrainError + '_ {
    |source| TrainError::Targets {
        source_name: data.source_name().to_owned(),
        target: data.target_name().to_owned(),
        source,
    }
}
