//! Loss and metrics of a model on a part of the data, and the fallback to the last finite
//! weights after a divergence.

use burn::prelude::{Device, Module, Tensor};
use nerve_data::Dataset;
use nerve_loss::{Loss, LossError, Targets};
use nerve_model::Mlp;

use super::error::targets_error;
use super::{StopReason, TrainError, TrainOutcome};
use crate::{EpochReport, MetricKind, MetricsAccumulator, PartMetrics};

/// After a divergence, the newest of `candidates` (epoch, weights on the autodiff device) whose
/// weights give a finite loss on `train`, with the history cut to its epoch; `None` when none
/// does (then nothing is worth saving). The last epoch's final update is checked only by the
/// next epoch's loss, so the newest candidate may already have overflowed.
pub(super) fn keep_finite<const N: usize>(
    candidates: [(usize, Mlp); N],
    mut history: Vec<EpochReport>,
    loss: Loss,
    train: &Dataset,
    plain: &Device,
) -> Result<Option<TrainOutcome>, TrainError> {
    for (epoch, model) in candidates {
        let model = model.valid();
        let final_loss = evaluate(&model, loss, train, plain)?;
        if final_loss.is_finite() {
            history.truncate(epoch);
            return Ok(Some(TrainOutcome {
                model,
                history,
                stop_reason: StopReason::Diverged,
                best_epoch: epoch,
                final_loss,
            }));
        }
    }
    Ok(None)
}

/// Loss and metrics of a part's network `output` against its `targets`, in one read from the
/// device.
pub(super) fn evaluate_part(
    output: Tensor<2>,
    loss: Loss,
    kind: MetricKind,
    targets: &Targets,
) -> Result<PartMetrics, LossError> {
    let value = loss.forward(output.clone(), targets)?;
    let mut metrics = MetricsAccumulator::new(kind);
    metrics.add(output, targets, value);
    Ok(metrics.finish().expect("one batch was added"))
}

/// The mean loss of `model` on all of `data`, computed on `device` without recording a graph.
pub(super) fn evaluate(
    model: &Mlp,
    loss: Loss,
    data: &Dataset,
    device: &Device,
) -> Result<f64, TrainError> {
    let kind = MetricKind::Values { scale: 1.0 };
    Ok(evaluate_rows(model, loss, kind, data, device)?.loss)
}

/// Loss and metrics of a plain-device `model` on `data`, a slice of rows at a time so that a
/// large data set never needs a second full copy on the device; one read at the end.
pub(super) fn evaluate_rows(
    model: &Mlp,
    loss: Loss,
    kind: MetricKind,
    data: &Dataset,
    device: &Device,
) -> Result<PartMetrics, TrainError> {
    const SLICE: usize = 16_384;
    let d_output = model.config().d_output;
    let mut metrics = MetricsAccumulator::new(kind);
    for start in (0..data.len()).step_by(SLICE) {
        let rows = start..(start + SLICE).min(data.len());
        let targets = loss
            .targets(data.targets_tensor_rows(rows.clone(), device), d_output)
            .map_err(targets_error(data))?;
        let output = model.forward(data.features_tensor_rows(rows, device));
        let value = loss
            .forward(output.clone(), &targets)
            .map_err(targets_error(data))?;
        metrics.add(output, &targets, value);
    }
    metrics.finish().ok_or_else(|| TrainError::Data {
        source_name: data.source_name().to_owned(),
        message: "no rows to evaluate".to_owned(),
    })
}
