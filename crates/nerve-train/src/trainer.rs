//! [`Trainer`]: the epoch loop, and [`train_step`], one step of it.

use std::time::Instant;

use burn::module::{ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::{Device, Int, Module, Tensor, TensorData};
use nerve_data::Dataset;
use nerve_loss::{Loss, LossError, Targets};
use nerve_model::Mlp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::{
    BatchSize, Checkpoint, EpochReport, MetricKind, MetricsAccumulator, Observer, OptimizerConfig,
    PartMetrics, Schedule, ScheduleConfig, TrainPlan, global_grad_norm_squared,
};

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
    /// The improvement early stopping requires.
    pub min_delta: f64,
    /// Scale the whole gradient down when its global L2 norm exceeds this (PyTorch's
    /// `clip_grad_norm_`, not burn's per-tensor clipping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Seeds the per-epoch shuffle (the model's initialisation is seeded through the device).
    pub seed: u64,
    /// Shuffle the rows at the start of each epoch (off: batches in row order).
    pub shuffle: bool,
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
            clip_grad_norm: None,
            seed: 42,
            shuffle: true,
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
        self.optimizer.validate().map_err(TrainError::Config)?;
        // Built once here, so that a schedule burn refuses (a cosine `min_lr` above the
        // learning rate, say) is refused with the rest, before a caller does any work.
        crate::Schedule::new(
            &self.schedule,
            self.optimizer.learning_rate,
            self.num_epochs,
        )
        .map(drop)
        .map_err(TrainError::Config)
    }
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// The result of one [`train_step`].
#[derive(Debug)]
pub struct StepOutput {
    /// The model after the update.
    pub model: Mlp,
    /// The network's output for the batch before the update, detached, on the plain device.
    pub output: Tensor<2>,
    /// The batch's loss before the update, detached from the graph, on the plain device.
    pub loss: Tensor<1>,
    /// The squared global gradient norm of the batch (after clipping), on the plain device.
    pub grad_norm_squared: Tensor<1>,
}

/// One step of gradient descent: forward, loss, backward (burn's autodiff), optional clipping
/// by the global gradient norm, optimizer update. Nothing is read back from the device.
///
/// # Shapes
///
/// - `x`: `[batch_size, d_input]`, on an autodiff device
pub fn train_step(
    model: Mlp,
    optimizer: &mut ModuleOptimizer,
    loss: Loss,
    x: Tensor<2>,
    targets: &Targets,
    learning_rate: f64,
    clip_grad_norm: Option<f64>,
) -> Result<StepOutput, LossError> {
    let device = x.device();
    let output = model.forward(x);
    let value = loss.forward(output.clone(), targets)?;
    let mut grads = GradientsParams::from_grads(value.backward(), &model);
    let mut grad_norm_squared = global_grad_norm_squared(&model, &grads, &device);
    if let Some(max_norm) = clip_grad_norm {
        // scale = min(1, max / (‖g‖ + 1e-6)), computed on the device: no sync.
        let scale = grad_norm_squared
            .clone()
            .sqrt()
            .add_scalar(1e-6)
            .recip()
            .mul_scalar(max_norm)
            .clamp_max(1.0);
        grads = scale_gradients(&model, grads, scale.clone());
        grad_norm_squared = grad_norm_squared * scale.clone() * scale;
    }
    let model = optimizer.step(learning_rate, model, grads);
    Ok(StepOutput {
        model,
        output: output.detach().without_autodiff(),
        loss: value.detach().without_autodiff(),
        grad_norm_squared,
    })
}

/// Multiplies every gradient of `model` by the one-element `scale`.
fn scale_gradients(model: &Mlp, grads: GradientsParams, scale: Tensor<1>) -> GradientsParams {
    struct Scaler {
        grads: GradientsParams,
        scale: Tensor<1>,
    }
    impl ModuleVisitor for Scaler {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.remove::<D>(param.id) {
                let scale: Tensor<D> = self.scale.clone().reshape([1usize; D]);
                self.grads.register(param.id, grad * scale);
            }
        }
    }
    let mut scaler = Scaler { grads, scale };
    model.visit(&mut scaler);
    scaler.grads
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
        match self.config.loss {
            Loss::CrossEntropy => MetricKind::Classes {
                num_classes: d_output,
            },
            Loss::BinaryCrossEntropy => MetricKind::Classes { num_classes: 2 },
            Loss::Mse | Loss::Huber => MetricKind::Values {
                scale: self.target_scale,
            },
        }
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
        self.run(model, Some(resume), train, validation, device, observer)
    }

    fn run(
        &self,
        model: Mlp,
        resume: Option<Resume>,
        train: &Dataset,
        validation: Option<&Dataset>,
        device: &Device,
        observer: &mut dyn Observer,
    ) -> Result<TrainOutcome, TrainError> {
        let config = &self.config;
        config.validate()?;
        assert!(
            device.is_autodiff(),
            "Trainer::fit needs an autodiff device"
        );
        let model_config = model.config().clone();
        for data in std::iter::once(train).chain(validation) {
            if model_config.d_input != data.d_input() {
                return Err(TrainError::Data {
                    source_name: data.source_name().to_owned(),
                    message: format!(
                        "the model takes {} inputs, but the data has {} feature column(s)",
                        model_config.d_input,
                        data.d_input()
                    ),
                });
            }
        }
        let plain = device.clone().without_autodiff();
        let x = train.features_tensor(device);
        // The targets twice: on the autodiff device for the loss, on the plain one for the
        // metrics, which use the steps' detached outputs.
        let prepare = |device: &Device| {
            config
                .loss
                .targets(train.targets_tensor(device), model_config.d_output)
                .map_err(targets_error(train))
        };
        let targets = prepare(device)?;
        let plain_targets = prepare(&plain)?;
        let validation = match validation.filter(|v| !v.is_empty()) {
            Some(data) => Some((
                data.features_tensor(&plain),
                config
                    .loss
                    .targets(data.targets_tensor(&plain), model_config.d_output)
                    .map_err(targets_error(data))?,
            )),
            None => None,
        };
        let mut schedule = Schedule::new(
            &config.schedule,
            config.optimizer.learning_rate,
            config.num_epochs,
        )
        .map_err(TrainError::Config)?;
        let kind = self.metric_kind(model_config.d_output);

        let num_rows = train.len();
        let batch_size = config.batch_size.resolve(num_rows);
        let steps_per_epoch = num_rows.div_ceil(batch_size);
        observer.on_start(&TrainPlan {
            num_epochs: config.num_epochs,
            steps_per_epoch,
            num_rows,
            num_validation_rows: validation.as_ref().map_or(0, |(_, t)| t.len()),
        });

        let mut optimizer = config.optimizer.init();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut order: Vec<i64> = (0..num_rows as i64).collect();
        let mut model = model;
        // Not `with_capacity(num_epochs)`: the limit is the user's (up to usize::MAX), and
        // early stopping or Ctrl-C may end the run long before it.
        let mut history: Vec<EpochReport> = Vec::with_capacity(config.num_epochs.min(1024));
        let mut stop_reason = StopReason::EpochLimit;
        // Early stopping keeps the best weights; a divergence falls back to the last good ones.
        let mut best: Option<(usize, f64, Mlp)> = None;
        let mut start = Instant::now();
        if let Some(resume) = resume {
            optimizer = optimizer
                .from_bytes(burn::tensor::Bytes::from_bytes_vec(resume.optimizer))
                .map_err(|err| {
                    TrainError::Config(format!("cannot read the optimizer's state: {err}"))
                })?;
            // Replay what the finished epochs did to the shuffle and the schedule.
            for report in &resume.history {
                if steps_per_epoch > 1 && config.shuffle {
                    order.shuffle(&mut rng);
                }
                schedule.next_lr();
                schedule.observe(report.monitored_loss());
            }
            best = resume.best.and_then(|(epoch, model)| {
                let loss = resume.history.get(epoch.checked_sub(1)?)?.monitored_loss();
                Some((epoch, loss, model))
            });
            if let Some(last) = resume.history.last() {
                start = start.checked_sub(last.elapsed).unwrap_or(start);
            }
            history = resume.history;
        }
        let first_epoch = history.len() + 1;
        // The weights after the last epoch whose loss was finite, and after the one before: the
        // last epoch's final update is checked only by the next epoch's loss, so on divergence
        // the earlier weights may be the last ones that are good (issue 14).
        let mut last_good = (history.len(), model.clone());
        let mut before_last_good = last_good.clone();

        for epoch in first_epoch..=config.num_epochs {
            if model_config.dropout > 0.0 {
                // Dropout draws from the backend's generator; seeding it per epoch makes a
                // resumed run draw what the uninterrupted one did.
                device.seed(
                    config
                        .seed
                        .wrapping_add(epoch as u64)
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
            }
            let lr = schedule.next_lr();
            // Loss, metrics and gradient norm are summed on the device and read once per
            // epoch, so the steps themselves never wait for the host.
            let mut metrics = MetricsAccumulator::new(kind);
            let mut norms: Vec<Tensor<1>> = Vec::with_capacity(steps_per_epoch);
            if steps_per_epoch > 1 && config.shuffle {
                order.shuffle(&mut rng);
            }
            for (step, batch) in order.chunks(batch_size).enumerate() {
                let (xb, tb, pb) = if steps_per_epoch == 1 {
                    (x.clone(), targets.clone(), plain_targets.clone())
                } else {
                    let rows = TensorData::new(batch.to_vec(), [batch.len()]);
                    let indices = Tensor::<1, Int>::from_data(rows.clone(), device);
                    let plain_indices = Tensor::<1, Int>::from_data(rows, &plain);
                    (
                        x.clone().select(0, indices.clone()),
                        targets.select(indices),
                        plain_targets.select(plain_indices),
                    )
                };
                let output = train_step(
                    model,
                    &mut optimizer,
                    config.loss,
                    xb,
                    &tb,
                    lr,
                    config.clip_grad_norm,
                )
                .map_err(targets_error(train))?;
                model = output.model;
                metrics.add(output.output, &pb, output.loss);
                norms.push(output.grad_norm_squared);
                observer.on_step(epoch, step + 1);
            }
            // The metrics and the gradient norm come back in one transfer per epoch.
            let norm_sum = Tensor::cat(norms, 0).sqrt().sum();
            let (mut train_metrics, norm_sum) =
                metrics
                    .finish_with(Some(norm_sum))
                    .ok_or_else(|| TrainError::Data {
                        source_name: train.source_name().to_owned(),
                        message: "no training rows".to_owned(),
                    })?;
            train_metrics.drop_confusion_matrix();
            let grad_norm = norm_sum / steps_per_epoch as f64;
            if !train_metrics.loss.is_finite() {
                let last_good = keep_finite(
                    [last_good, before_last_good],
                    history,
                    config.loss,
                    train,
                    &plain,
                )?;
                return Err(TrainError::Diverged {
                    epoch,
                    loss: train_metrics.loss,
                    learning_rate: lr,
                    last_good: last_good.map(Box::new),
                });
            }
            let validation_metrics = validation
                .as_ref()
                .map(|(vx, vt)| evaluate_part(&model, config.loss, kind, vx, vt))
                .transpose()
                .map_err(targets_error(train))?
                .map(|mut part| {
                    part.drop_confusion_matrix();
                    part
                });
            let report = EpochReport {
                epoch,
                lr,
                train: train_metrics,
                validation: validation_metrics,
                grad_norm,
                elapsed: start.elapsed(),
            };
            tracing::debug!(epoch, loss = report.loss(), grad_norm, lr, "epoch done");
            observer.on_epoch(&report);
            let monitored = report.monitored_loss();
            schedule.observe(monitored);
            history.push(report);
            before_last_good = std::mem::replace(&mut last_good, (epoch, model.clone()));

            let mut out_of_patience = false;
            if config.patience > 0 {
                let improved = match &best {
                    Some((_, best_loss, _)) => monitored < best_loss - config.min_delta,
                    None => true,
                };
                if improved {
                    best = Some((epoch, monitored, model.clone()));
                } else {
                    out_of_patience = best
                        .as_ref()
                        .is_some_and(|(best_epoch, _, _)| epoch - best_epoch >= config.patience);
                }
            }
            observer.on_checkpoint(&Checkpoint {
                epoch,
                model: &model,
                optimizer: &optimizer,
                history: &history,
                best: best.as_ref().map(|(epoch, _, model)| (*epoch, model)),
            });
            if out_of_patience {
                stop_reason = StopReason::EarlyStopped;
                break;
            }
            if config.tol > 0.0 && grad_norm < config.tol {
                stop_reason = StopReason::Converged;
                break;
            }
            if observer.should_stop() {
                stop_reason = StopReason::Interrupted;
                break;
            }
        }

        // The training copies on the device are not needed any more.
        drop((x, targets, plain_targets, validation));
        let (best_epoch, model) = match best {
            Some((epoch, _, model)) if config.patience > 0 => (epoch, model),
            _ => (history.len(), model),
        };
        let model = model.valid();
        let final_loss = evaluate(&model, config.loss, train, &plain)?;
        if !final_loss.is_finite() {
            // The last epoch's final update overflowed (its own loss, measured before that
            // update, was finite): a divergence all the same, keeping the epoch before.
            let epoch = history.len();
            let learning_rate = history.last().map_or(f64::NAN, |report| report.lr);
            let last_good = keep_finite([before_last_good], history, config.loss, train, &plain)?;
            return Err(TrainError::Diverged {
                epoch,
                loss: final_loss,
                learning_rate,
                last_good: last_good.map(Box::new),
            });
        }
        Ok(TrainOutcome {
            model,
            history,
            stop_reason,
            best_epoch,
            final_loss,
        })
    }
}

/// After a divergence, the newest of `candidates` (epoch, weights on the autodiff device) whose
/// weights give a finite loss on `train`, with the history cut to its epoch; `None` when none
/// does (then nothing is worth saving). The last epoch's final update is checked only by the
/// next epoch's loss, so the newest candidate may already have overflowed.
fn keep_finite<const N: usize>(
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

/// Loss and metrics of `model` (on the autodiff device) on one part, in one forward pass and
/// one read from the device.
fn evaluate_part(
    model: &Mlp,
    loss: Loss,
    kind: MetricKind,
    x: &Tensor<2>,
    targets: &Targets,
) -> Result<PartMetrics, LossError> {
    let model = model.clone().valid();
    let output = model.forward(x.clone());
    let value = loss.forward(output.clone(), targets)?;
    let mut metrics = MetricsAccumulator::new(kind);
    metrics.add(output, targets, value);
    Ok(metrics.finish().expect("one batch was added"))
}

/// The mean loss of `model` on all of `data`, computed on `device` without recording a graph.
fn evaluate(model: &Mlp, loss: Loss, data: &Dataset, device: &Device) -> Result<f64, TrainError> {
    let kind = MetricKind::Values { scale: 1.0 };
    Ok(evaluate_rows(model, loss, kind, data, device)?.loss)
}

/// Loss and metrics of a plain-device `model` on `data`, a slice of rows at a time so that a
/// large data set never needs a second full copy on the device; one read at the end.
fn evaluate_rows(
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

/// Wraps a loss's complaint about the targets with the data set and column it concerns.
fn targets_error(data: &Dataset) -> impl Fn(LossError) -> TrainError + '_ {
    |source| TrainError::Targets {
        source_name: data.source_name().to_owned(),
        target: data.target_name().to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoopObserver;
    use nerve_backend::BackendKind;
    use nerve_data::Table;
    use nerve_model::MlpConfig;

    fn line() -> Dataset {
        // y = 2x + 1 on eight points.
        let csv: String = std::iter::once("x,y".to_owned())
            .chain((0..8).map(|i| format!("{},{}", i as f32 / 4.0, 2.0 * i as f32 / 4.0 + 1.0)))
            .collect::<Vec<_>>()
            .join("\n");
        Table::from_csv_str("line.csv", &csv)
            .expect("valid csv")
            .into_dataset(None)
            .expect("two columns")
    }

    /// Full-batch gradient descent, the tutorial's rule, at `lr`.
    fn gradient_descent(lr: f64) -> TrainConfig {
        TrainConfig {
            batch_size: BatchSize::Full,
            optimizer: OptimizerConfig::sgd(lr, 0.0),
            ..TrainConfig::default()
        }
    }

    fn fit(config: TrainConfig, observer: &mut dyn Observer) -> Result<TrainOutcome, TrainError> {
        let device = BackendKind::default()
            .autodiff_device()
            .expect("compiled in");
        let model = MlpConfig::new(1, vec![], 1).init(&device);
        Trainer::new(config).fit(model, &line(), None, &device, observer)
    }

    #[derive(Default)]
    struct Recorder {
        plan: Option<TrainPlan>,
        epochs: Vec<usize>,
    }

    impl Observer for Recorder {
        fn on_start(&mut self, plan: &TrainPlan) {
            self.plan = Some(plan.clone());
        }
        fn on_epoch(&mut self, report: &EpochReport) {
            self.epochs.push(report.epoch);
        }
    }

    #[test]
    fn stops_when_the_gradient_norm_falls_below_tol() {
        let config = TrainConfig {
            num_epochs: 5000,
            tol: 1e-3,
            ..gradient_descent(0.1)
        };
        let outcome = fit(config, &mut NoopObserver).expect("trains");
        assert_eq!(outcome.stop_reason, StopReason::Converged);
        assert!(outcome.history.len() < 5000);
        let last = outcome.history.last().expect("at least one epoch");
        assert!(last.grad_norm < 1e-3, "{last:?}");
        assert!(outcome.final_loss < 1e-4, "{}", outcome.final_loss);
    }

    #[test]
    fn mini_batches_report_every_epoch_to_the_observer() {
        let config = TrainConfig {
            num_epochs: 3,
            batch_size: BatchSize::Rows(3),
            ..TrainConfig::default()
        };
        let mut recorder = Recorder::default();
        let outcome = fit(config, &mut recorder).expect("trains");
        assert_eq!(outcome.stop_reason, StopReason::EpochLimit);
        let plan = recorder.plan.expect("on_start was called");
        assert_eq!(
            (plan.num_rows, plan.steps_per_epoch, plan.num_epochs),
            (8, 3, 3)
        );
        assert_eq!(recorder.epochs, vec![1, 2, 3]);
    }

    #[test]
    fn divergence_is_an_error_naming_the_epoch_and_the_learning_rate() {
        let config = TrainConfig {
            num_epochs: 500,
            ..gradient_descent(10.0)
        };
        let err = fit(config, &mut NoopObserver).unwrap_err();
        let mut err = err;
        let last_good = err
            .take_last_good()
            .expect("divergence keeps the last good state");
        let TrainError::Diverged { epoch, .. } = &err else {
            panic!("expected divergence, got {err}")
        };
        assert!(*epoch > 1);
        // The last good weights are those of the epoch before, or of the one before that when
        // the epoch before's last update already overflowed; either way with a finite loss.
        assert!(
            [epoch - 1, epoch - 2].contains(&last_good.best_epoch),
            "{} of {epoch}",
            last_good.best_epoch
        );
        assert_eq!(last_good.history.len(), last_good.best_epoch);
        assert!(last_good.final_loss.is_finite(), "{}", last_good.final_loss);
        assert_eq!(last_good.stop_reason, StopReason::Diverged);
        assert!(
            err.to_string()
                .contains("try a smaller learning rate (now 10)"),
            "{err}"
        );
    }

    #[test]
    fn a_model_of_the_wrong_width_is_refused() {
        let device = BackendKind::default()
            .autodiff_device()
            .expect("compiled in");
        let model = MlpConfig::new(3, vec![], 1).init(&device);
        let err = Trainer::new(TrainConfig::default())
            .fit(model, &line(), None, &device, &mut NoopObserver)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line.csv: the model takes 3 inputs, but the data has 1 feature column(s)"
        );
    }

    #[test]
    fn invalid_settings_name_the_field() {
        let bad = TrainConfig {
            batch_size: BatchSize::Rows(0),
            ..TrainConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("`batch_size`")
        );
        let bad = TrainConfig {
            optimizer: OptimizerConfig::sgd(0.1, 1.5),
            ..TrainConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("`momentum`")
        );
    }

    fn dataset(name: &str, slope: f32) -> Dataset {
        let csv: String = std::iter::once("x,y".to_owned())
            .chain((0..8).map(|i| format!("{},{}", i as f32 / 4.0, slope * i as f32 / 4.0 + 1.0)))
            .collect::<Vec<_>>()
            .join("\n");
        Table::from_csv_str(name, &csv)
            .expect("valid csv")
            .into_dataset(None)
            .expect("two columns")
    }

    #[test]
    fn early_stopping_restores_the_best_epoch() {
        let device = BackendKind::default()
            .autodiff_device()
            .expect("compiled in");
        nerve_backend::seed(&device, 1);
        let model = MlpConfig::new(1, vec![], 1).init(&device);
        // The validation rows follow the opposite slope: fitting the training rows makes the
        // validation loss worse, soon after the first epochs.
        let validation = dataset("valid.csv", -2.0);
        let config = TrainConfig {
            num_epochs: 500,
            patience: 5,
            ..gradient_descent(0.1)
        };
        let outcome = Trainer::new(config)
            .fit(
                model,
                &line(),
                Some(&validation),
                &device,
                &mut NoopObserver,
            )
            .expect("trains");
        assert_eq!(outcome.stop_reason, StopReason::EarlyStopped);
        assert_eq!(outcome.history.len(), outcome.best_epoch + 5);
        let best = &outcome.history[outcome.best_epoch - 1];
        let best_loss = best.validation.as_ref().expect("validation").loss;
        for report in &outcome.history {
            assert!(report.monitored_loss() >= best_loss);
        }
        // The returned weights are the best epoch's: their validation loss is that epoch's.
        let plain = device.without_autodiff();
        let restored = evaluate(&outcome.model, Loss::Mse, &validation, &plain).expect("valid");
        assert!(
            (restored - best_loss).abs() < 1e-6,
            "{restored} vs {best_loss}"
        );
    }

    #[test]
    fn clipping_bounds_the_global_gradient_norm() {
        let config = TrainConfig {
            num_epochs: 20,
            clip_grad_norm: Some(0.01),
            ..gradient_descent(0.1)
        };
        let outcome = fit(config, &mut NoopObserver).expect("trains");
        for report in &outcome.history {
            assert!(report.grad_norm <= 0.01 * (1.0 + 1e-4), "{report:?}");
        }
        let unclipped = fit(
            TrainConfig {
                num_epochs: 20,
                ..gradient_descent(0.1)
            },
            &mut NoopObserver,
        )
        .expect("trains");
        assert!(unclipped.history[0].grad_norm > 0.1);
    }

    #[test]
    fn the_observer_can_stop_training() {
        struct StopAtThree(usize);
        impl Observer for StopAtThree {
            fn on_epoch(&mut self, report: &EpochReport) {
                self.0 = report.epoch;
            }
            fn should_stop(&mut self) -> bool {
                self.0 >= 3
            }
        }
        let outcome = fit(TrainConfig::default(), &mut StopAtThree(0)).expect("trains");
        assert_eq!(outcome.stop_reason, StopReason::Interrupted);
        assert_eq!(outcome.history.len(), 3);
    }

    #[test]
    fn every_optimizer_and_schedule_trains() {
        use crate::{OptimizerKind, ScheduleConfig, ScheduleKind};
        for kind in OptimizerKind::ALL {
            for schedule in ScheduleKind::ALL {
                let config = TrainConfig {
                    num_epochs: 300,
                    batch_size: BatchSize::Full,
                    optimizer: OptimizerConfig {
                        kind,
                        learning_rate: 0.05,
                        momentum: if kind == OptimizerKind::Adam {
                            0.0
                        } else {
                            0.5
                        },
                        nesterov: kind == OptimizerKind::Sgd,
                        ..OptimizerConfig::default()
                    },
                    schedule: ScheduleConfig {
                        name: schedule,
                        warmup_epochs: 5,
                        step_size: 100,
                        gamma: 0.5,
                        ..ScheduleConfig::default()
                    },
                    ..TrainConfig::default()
                };
                let outcome = fit(config, &mut NoopObserver).expect("trains");
                let first = outcome.history[0].loss();
                assert!(
                    outcome.final_loss < first * 0.1,
                    "{kind} with {schedule}: {first} -> {}",
                    outcome.final_loss
                );
                assert!(
                    (outcome.history[0].lr - 0.01).abs() < 1e-12,
                    "warm-up starts at lr / 5"
                );
            }
        }
    }

    #[test]
    fn a_resumed_run_ends_exactly_like_an_uninterrupted_one() {
        use crate::{Checkpoint, ScheduleConfig, ScheduleKind};

        /// Model file bytes, optimizer bytes, history, best epoch.
        type Saved = (Vec<u8>, Vec<u8>, Vec<EpochReport>, Option<usize>);

        /// Keeps the latest checkpoint, as files would, and stops after `stop_at` epochs.
        struct Saver {
            stop_at: usize,
            saved: Option<Saved>,
        }
        impl Observer for Saver {
            fn on_checkpoint(&mut self, c: &Checkpoint<'_>) {
                let mut extra = serde_json::Map::new();
                extra.insert("param_ids".into(), serde_json::json!(c.model.param_ids()));
                let model = c.model.to_safetensors(&extra).expect("serializes");
                let optimizer = c.optimizer.into_bytes().expect("serializes").to_vec();
                let best = c.best.map(|(epoch, _)| epoch);
                self.saved = Some((model, optimizer, c.history.to_vec(), best));
            }
            fn should_stop(&mut self) -> bool {
                self.saved
                    .as_ref()
                    .is_some_and(|s| s.2.len() >= self.stop_at)
            }
        }

        let device = BackendKind::default()
            .autodiff_device()
            .expect("compiled in");
        let config = TrainConfig {
            num_epochs: 12,
            batch_size: BatchSize::Rows(3),
            optimizer: OptimizerConfig::adam(0.05),
            schedule: ScheduleConfig {
                name: ScheduleKind::Cosine,
                warmup_epochs: 2,
                ..ScheduleConfig::default()
            },
            seed: 9,
            ..TrainConfig::default()
        };
        // One initial network for both runs: the backend's generator is process-wide, and
        // other tests draw from it concurrently.
        let initial = MlpConfig::new(1, vec![6], 1).init(&device);
        let _ = initial.forward(line().features_tensor(&device));
        let init = |_: &Device| initial.clone();
        let trainer = Trainer::new(config);
        let whole = trainer
            .fit(init(&device), &line(), None, &device, &mut NoopObserver)
            .expect("trains");

        let mut saver = Saver {
            stop_at: 5,
            saved: None,
        };
        let first = trainer
            .fit(init(&device), &line(), None, &device, &mut saver)
            .expect("trains");
        assert_eq!(first.stop_reason, StopReason::Interrupted);
        let (model, optimizer, history, _) = saver.saved.expect("checkpointed");
        let (model, info) = Mlp::from_safetensors(&model, "checkpoint", &device).expect("reads");
        let ids: Vec<u64> = serde_json::from_value(info.extra["param_ids"].clone()).expect("ids");
        let model = model.with_param_ids(&ids).expect("same layers");
        let resumed = trainer
            .resume(
                model,
                Resume {
                    optimizer,
                    history,
                    best: None,
                },
                &line(),
                None,
                &device,
                &mut NoopObserver,
            )
            .expect("resumes");
        assert_eq!(resumed.history.len(), 12);
        for (a, b) in whole.history.iter().zip(&resumed.history) {
            assert_eq!(
                (a.lr, &a.train, a.grad_norm),
                (b.lr, &b.train, b.grad_norm),
                "epoch {}",
                a.epoch
            );
        }
        let plain = device.without_autodiff();
        let x = line().features_tensor(&plain);
        let outputs = |m: &Mlp| {
            m.forward(x.clone())
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        };
        assert_eq!(outputs(&whole.model), outputs(&resumed.model));
    }
}
