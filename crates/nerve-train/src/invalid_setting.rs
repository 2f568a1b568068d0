//! [`InvalidSetting`]: a training setting out of its range, or a choice that does not fit the
//! data (the loss for the task, the output width), as a typed error the caller can match.

use nerve_loss::Loss;

/// A setting no run can use; the message names the setting (as its config key or flag) and
/// what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSetting(pub String);

/// A loss that does not fit the data's task or classes ([`check_loss`](crate::check_loss),
/// [`output_width`](crate::output_width)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskRuleError {
    /// A value loss (MSE, Huber) for a classification target.
    #[error(
        "the {loss} loss needs a regression target, but this is a classification target; use --loss cross-entropy, or --task regression if its values are numbers"
    )]
    ValueLossForClasses {
        /// The loss chosen.
        loss: Loss,
    },
    /// A class loss (cross-entropy, bce) for a regression target.
    #[error(
        "the {loss} loss needs class labels, but this is a regression target; use --loss mse, or --task classification"
    )]
    ClassLossForValues {
        /// The loss chosen.
        loss: Loss,
    },
    /// bce on a target without exactly two classes.
    #[error(
        "the bce loss needs exactly two classes, found {count} ({labels}); use --loss cross-entropy"
    )]
    BceNeedsTwoClasses {
        /// The classes found.
        count: usize,
        /// Their names, comma-separated.
        labels: String,
    },
}
