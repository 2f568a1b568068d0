//! Where the data's task, the loss and the network's output width meet: which loss a task
//! gets by default, which losses suit it, and how many outputs the network needs. The one home
//! of the single-logit case (`bce`: one output for two classes).

use nerve_data::Task;
use nerve_loss::Loss;

use crate::{MetricKind, TaskRuleError};

/// The loss a task trains with unless one is chosen: cross-entropy for classes (binary too:
/// one logit per class keeps labels, probabilities and metrics uniform), MSE for values.
pub fn default_loss(task: Task) -> Loss {
    match task {
        Task::Classification => Loss::CrossEntropy,
        Task::Regression => Loss::Mse,
    }
}

/// Whether `loss` suits `task`: class losses (cross-entropy, bce) for classification, value
/// losses (MSE, Huber) for regression.
///
/// # Errors
/// The mismatch, in words, with the flags that fix it.
pub fn check_loss(loss: Loss, task: Task) -> Result<(), TaskRuleError> {
    let for_classes = loss.takes_class_ids() || loss == Loss::BinaryCrossEntropy;
    match task {
        Task::Classification if !for_classes => Err(TaskRuleError::ValueLossForClasses { loss }),
        Task::Regression if for_classes => Err(TaskRuleError::ClassLossForValues { loss }),
        _ => Ok(()),
    }
}

/// The network's output width for `loss` on a target with `labels` (classification) or none
/// (regression): one logit per class for cross-entropy, one logit for bce (which needs exactly
/// two classes), one value for the regression losses.
///
/// # Errors
/// bce on a target without exactly two classes.
pub fn output_width(loss: Loss, labels: Option<&[String]>) -> Result<usize, TaskRuleError> {
    let labels = labels.unwrap_or_default();
    if loss == Loss::BinaryCrossEntropy && labels.len() != 2 {
        return Err(TaskRuleError::BceNeedsTwoClasses {
            count: labels.len(),
            labels: labels.join(", "),
        });
    }
    Ok(if loss.takes_class_ids() {
        labels.len()
    } else {
        1
    })
}

/// What the metrics of a network with `d_output` outputs measure under `loss`: classes for the
/// class losses (two for bce's single logit), values for the regression losses, reported in
/// units `target_scale` times the network's (a standardized target's standard deviation).
pub(crate) fn metric_kind(loss: Loss, d_output: usize, target_scale: f64) -> MetricKind {
    match loss {
        Loss::CrossEntropy => MetricKind::Classes {
            num_classes: d_output,
        },
        Loss::BinaryCrossEntropy => MetricKind::Classes { num_classes: 2 },
        Loss::Mse | Loss::Huber => MetricKind::Values {
            scale: target_scale,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_fits() {
        let two = ["No".to_owned(), "Yes".to_owned()];
        let three = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(output_width(Loss::CrossEntropy, Some(&three)), Ok(3));
        assert_eq!(output_width(Loss::BinaryCrossEntropy, Some(&two)), Ok(1));
        assert_eq!(output_width(Loss::Mse, None), Ok(1));
        let err = output_width(Loss::BinaryCrossEntropy, Some(&three)).unwrap_err();
        assert!(
            err.to_string()
                .contains("exactly two classes, found 3 (a, b, c)"),
            "{err}"
        );
        assert!(check_loss(Loss::BinaryCrossEntropy, Task::Classification).is_ok());
        assert!(check_loss(Loss::Huber, Task::Classification).is_err());
        assert!(check_loss(Loss::CrossEntropy, Task::Regression).is_err());
        assert_eq!(default_loss(Task::Regression), Loss::Mse);
        assert_eq!(
            metric_kind(Loss::BinaryCrossEntropy, 1, 1.0),
            MetricKind::Classes { num_classes: 2 }
        );
        assert_eq!(
            metric_kind(Loss::Huber, 1, 3.0),
            MetricKind::Values { scale: 3.0 }
        );
    }
}
