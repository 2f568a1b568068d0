//! [`Trainer`]: the epoch loop, and [`train_step`], one step of it.

use std::time::Instant;

use burn::prelude::{Device, Int, Module, Tensor, TensorData};
use nerve_data::Dataset;
use nerve_loss::Loss;
use nerve_model::Mlp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::{
    Checkpoint, EpochReport, MetricKind, MetricsAccumulator, Observer, PartMetrics, Schedule,
    TrainPlan,
};

mod config;
mod early_stopping;
mod error;
mod evaluation;
mod step;
#[cfg(test)]
mod tests;

pub use config::TrainConfig;
use early_stopping::EarlyStopping;
pub use error::TrainError;
use error::targets_error;
use evaluation::{evaluate, evaluate_part, evaluate_rows, keep_finite};
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
        let mut early_stopping = EarlyStopping::new(config.patience, config.min_delta);
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
            early_stopping = early_stopping.resumed(resume.best, &resume.history);
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

            // Whether the run ends here is decided before the checkpoint, and the observer is
            // asked once, so the epoch a run stops at is always the one it checkpoints last.
            let out_of_patience = early_stopping.observe(epoch, monitored, &model);
            let converged = config.tol > 0.0 && grad_norm < config.tol;
            let interrupted = !out_of_patience && !converged && observer.should_stop();
            let kept = observer.on_checkpoint(&Checkpoint {
                epoch,
                model: &model,
                optimizer: &optimizer,
                history: &history,
                best: early_stopping.best(),
                last: out_of_patience || converged || interrupted || epoch == config.num_epochs,
            });
            let stop = if out_of_patience {
                Some(StopReason::EarlyStopped)
            } else if converged {
                Some(StopReason::Converged)
            } else if interrupted {
                Some(StopReason::Interrupted)
            } else if !kept {
                Some(StopReason::CheckpointFailed)
            } else {
                None
            };
            if let Some(reason) = stop {
                stop_reason = reason;
                break;
            }
        }

        // The training copies on the device are not needed any more.
        drop((x, targets, plain_targets, validation));
        let (best_epoch, model) = early_stopping.restore(history.len(), model);
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
