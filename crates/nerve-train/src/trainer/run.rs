//! The epoch loop behind [`Trainer::fit`] and [`Trainer::resume`], as named steps: check the
//! inputs; put the data on the device; set up the run's state (or replay a resumed one's);
//! then each epoch trains on its batches, stops on divergence, validates, reports, decides
//! whether it is the last, and checkpoints; at the end the kept weights are restored and
//! measured.

use std::time::Instant;

use burn::prelude::{Device, Int, Module, Tensor, TensorData};
use nerve_data::Dataset;
use nerve_loss::Targets;
use nerve_model::{Mlp, MlpConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::early_stopping::EarlyStopping;
use super::error::targets_error;
use super::evaluation::{evaluate, evaluate_part, keep_finite};
use super::{Resume, StopReason, TrainError, TrainOutcome, Trainer, train_step};
use crate::{
    Checkpoint, EpochReport, MetricKind, MetricsAccumulator, Observer, Optimizer, PartMetrics,
    Schedule, TrainConfig, TrainPlan,
};

/// A run's rows on the device.
struct DeviceData {
    /// The training features, `[rows, d_input]`, on the autodiff device.
    x: Tensor<2>,
    /// The training targets on the autodiff device, for the loss.
    targets: Targets,
    /// The same targets on the plain device, for the metrics (of the steps' detached outputs).
    plain_targets: Targets,
    /// The validation features and targets, on the plain device.
    validation: Option<(Tensor<2>, Targets)>,
}

/// What stays fixed through a run's epochs.
struct Run<'a> {
    config: &'a TrainConfig,
    /// The training rows (named in errors, measured at the end).
    train: &'a Dataset,
    data: DeviceData,
    batches: Batches,
    kind: MetricKind,
    /// The autodiff device, and the same device without autodiff.
    device: &'a Device,
    plain: Device,
}

/// What carries from one epoch to the next.
struct RunState {
    optimizer: Optimizer,
    schedule: Schedule,
    /// The shuffle's generator and the row order it last made.
    rng: StdRng,
    order: Vec<i64>,
    history: Vec<EpochReport>,
    early_stopping: EarlyStopping,
    /// When training started (moved back by a resumed run's time).
    start: Instant,
    /// The weights after the last epoch whose loss was finite, and after the one before: an
    /// epoch's final update is checked only by the next epoch's loss, so on divergence the
    /// earlier weights may be the last good ones (issue 14).
    last_good: (usize, Mlp),
    before_last_good: (usize, Mlp),
}

/// The shape of an epoch: rows, batch size and steps.
#[derive(Clone, Copy)]
struct Batches {
    rows: usize,
    size: usize,
    steps: usize,
}

impl Batches {
    fn new(config: &TrainConfig, rows: usize) -> Batches {
        let size = config.batch_size.resolve(rows);
        Batches {
            rows,
            size,
            steps: rows.div_ceil(size),
        }
    }

    /// Whether each epoch draws a new row order.
    fn shuffled(self, config: &TrainConfig) -> bool {
        self.steps > 1 && config.shuffle
    }
}

impl Trainer {
    pub(super) fn run(
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
        check_widths(&model_config, train, validation)?;
        let classification = matches!(
            config.loss,
            nerve_loss::Loss::CrossEntropy | nerve_loss::Loss::BinaryCrossEntropy
        );
        let has_validation = validation.is_some_and(|v| !v.is_empty());
        if let Some(message) = config.monitor.unavailable(has_validation, classification) {
            return Err(TrainError::Config(message));
        }
        let plain = device.clone().without_autodiff();
        let run = Run {
            config,
            train,
            data: self.to_device(&model_config, train, validation, device, &plain)?,
            batches: Batches::new(config, train.len()),
            kind: self.metric_kind(model_config.d_output),
            device,
            plain,
        };
        observer.on_start(&TrainPlan {
            num_epochs: config.num_epochs,
            steps_per_epoch: run.batches.steps,
            num_rows: run.batches.rows,
            num_validation_rows: run.data.validation.as_ref().map_or(0, |(_, t)| t.len()),
        });
        let state = self.start(&model, resume, run.batches)?;
        run.epochs(model, state, observer)
    }

    /// The rows on the device, with targets in the form the loss consumes.
    fn to_device(
        &self,
        model_config: &MlpConfig,
        train: &Dataset,
        validation: Option<&Dataset>,
        device: &Device,
        plain: &Device,
    ) -> Result<DeviceData, TrainError> {
        let loss = self.config.loss;
        let class_weights = self.config.class_weights.as_deref();
        let targets_on = |data: &Dataset, device: &Device| {
            let mut targets = loss.targets(data.targets_tensor(device), model_config.d_output);
            if let Some(weights) = class_weights {
                targets = targets.and_then(|t| t.with_class_weights(weights));
            }
            if let Some(weights) = data.weights() {
                targets = targets.and_then(|t| t.with_sample_weights(weights));
            }
            targets.map_err(targets_error(data))
        };
        let targets = targets_on(train, device)?;
        let plain_targets = targets_on(train, plain)?;
        let validation = match validation.filter(|v| !v.is_empty()) {
            Some(data) => Some((data.features_tensor(plain), targets_on(data, plain)?)),
            None => None,
        };
        Ok(DeviceData {
            x: train.features_tensor(device),
            targets,
            plain_targets,
            validation,
        })
    }

    /// The state before the first epoch to run: fresh, or a resumed run's with the shuffle and
    /// the schedule replayed through its finished epochs.
    fn start(
        &self,
        model: &Mlp,
        resume: Option<Resume>,
        batches: Batches,
    ) -> Result<RunState, TrainError> {
        let config = &self.config;
        let schedule = Schedule::new(
            &config.schedule,
            config.optimizer.learning_rate,
            config.num_epochs,
        )
        .map_err(|err| TrainError::Config(err.0))?;
        let mut state = RunState {
            optimizer: config.optimizer.init(),
            schedule,
            rng: StdRng::seed_from_u64(config.seed),
            order: (0..batches.rows as i64).collect(),
            // Not `with_capacity(num_epochs)`: the limit is the user's (up to usize::MAX), and
            // early stopping or Ctrl-C may end the run long before it.
            history: Vec::with_capacity(config.num_epochs.min(1024)),
            early_stopping: EarlyStopping::new(config.patience, config.min_delta),
            start: Instant::now(),
            last_good: (0, model.clone()),
            before_last_good: (0, model.clone()),
        };
        if let Some(resume) = resume {
            state.optimizer = state
                .optimizer
                .from_bytes(burn::tensor::Bytes::from_bytes_vec(resume.optimizer))
                .map_err(|err| {
                    TrainError::Config(format!("cannot read the optimizer's state: {err}"))
                })?;
            for report in &resume.history {
                if batches.shuffled(config) {
                    state.order.shuffle(&mut state.rng);
                }
                state.schedule.next_lr();
                state.schedule.observe(config.monitor.value(report));
            }
            state.early_stopping =
                state
                    .early_stopping
                    .resumed(resume.best, &resume.history, config.monitor);
            if let Some(last) = resume.history.last() {
                state.start = state.start.checked_sub(last.elapsed).unwrap_or(state.start);
            }
            state.history = resume.history;
            state.last_good = (state.history.len(), model.clone());
            state.before_last_good = state.last_good.clone();
        }
        Ok(state)
    }
}

impl Run<'_> {
    /// Runs epochs from the one after `state`'s history until the epoch limit or a stop.
    fn epochs(
        self,
        mut model: Mlp,
        mut state: RunState,
        observer: &mut dyn Observer,
    ) -> Result<TrainOutcome, TrainError> {
        let config = self.config;
        let mut stop_reason = StopReason::EpochLimit;
        for epoch in state.history.len() + 1..=config.num_epochs {
            if model.config().dropout > 0.0 {
                // Dropout draws from the backend's generator; seeding it per epoch makes a
                // resumed run draw what the uninterrupted one did.
                self.device.seed(
                    config
                        .seed
                        .wrapping_add(epoch as u64)
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
            }
            let lr = state.schedule.next_lr();
            if self.batches.shuffled(config) {
                state.order.shuffle(&mut state.rng);
            }
            let (trained, train_metrics, grad_norm) =
                self.train_epoch(model, &mut state, epoch, lr, observer)?;
            model = trained;
            if !train_metrics.loss.is_finite() {
                let last_good = keep_finite(
                    [state.last_good, state.before_last_good],
                    state.history,
                    config.loss,
                    self.train,
                    &self.plain,
                )?;
                return Err(TrainError::Diverged {
                    epoch,
                    loss: train_metrics.loss,
                    learning_rate: lr,
                    last_good: last_good.map(Box::new),
                });
            }
            let (validation, validation_auc) = self.validate(&model)?;
            let report = EpochReport {
                epoch,
                lr,
                train: train_metrics,
                validation,
                validation_auc,
                grad_norm,
                silent_layers: self.silent_layers(&model),
                elapsed: state.start.elapsed(),
            };
            if !report.silent_layers.is_empty() {
                tracing::debug!(epoch, layers = ?report.silent_layers, "spiking layers fired no spike");
            }
            tracing::debug!(epoch, loss = report.loss(), grad_norm, lr, "epoch done");
            observer.on_epoch(&report);
            let monitored = self.config.monitor.value(&report);
            state.schedule.observe(monitored);
            state.history.push(report);
            state.before_last_good =
                std::mem::replace(&mut state.last_good, (epoch, model.clone()));
            if let Some(reason) =
                self.end_epoch(&mut state, epoch, monitored, grad_norm, &model, observer)
            {
                stop_reason = reason;
                break;
            }
        }
        let Run {
            config,
            train,
            data,
            plain,
            ..
        } = self;
        // The training copies on the device are not needed any more.
        drop(data);
        finish(config, state, model, stop_reason, train, &plain)
    }

    /// The validation rows' loss and scores after an epoch (no confusion matrix), and their
    /// ROC-AUC when early stopping monitors it (`val_auc`), from one forward pass.
    fn validate(&self, model: &Mlp) -> Result<(Option<PartMetrics>, Option<f64>), TrainError> {
        let Some((x, targets)) = &self.data.validation else {
            return Ok((None, None));
        };
        let output = model.clone().valid().forward(x.clone());
        let auc = (self.config.monitor == crate::Monitor::ValAuc)
            .then(|| self.roc_auc(output.clone(), targets));
        let mut part = evaluate_part(output, self.config.loss, self.kind, targets)
            .map_err(targets_error(self.train))?;
        part.drop_confusion_matrix();
        Ok((Some(part), auc))
    }

    /// The ROC-AUC of a part's network `output` against its `targets` (one-vs-rest macro for
    /// more than two classes; NaN where undefined): probabilities and class ids are read back
    /// to the host for the rank statistic.
    fn roc_auc(&self, output: Tensor<2>, targets: &Targets) -> f64 {
        let probabilities = self.config.loss.probabilities(output);
        let [_, classes] = probabilities.dims();
        let probabilities = probabilities
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("converted to f32 above");
        let Some(ids) = targets.class_ids() else {
            return f64::NAN;
        };
        let actual: Vec<usize> = ids
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("converted to i64 above")
            .into_iter()
            .map(|id| id as usize)
            .collect();
        crate::report::roc_auc_of(&probabilities, &actual, classes)
            .value()
            .unwrap_or(f64::NAN)
    }

    /// A spiking network's hidden layers that fire no spike on the first
    /// [`SILENCE_SAMPLE_ROWS`](crate::SILENCE_SAMPLE_ROWS) training rows (empty for a rate network).
    fn silent_layers(&self, model: &Mlp) -> Vec<usize> {
        if !model.is_spiking() {
            return Vec::new();
        }
        let rows = self.data.x.dims()[0].min(crate::SILENCE_SAMPLE_ROWS);
        if rows == 0 {
            return Vec::new();
        }
        let x = self.data.x.clone().slice(0..rows).without_autodiff();
        model
            .clone()
            .valid()
            .hidden_activity(x)
            .iter()
            .filter(|layer| layer.spikes_per_row == Some(0.0))
            .map(|layer| layer.layer)
            .collect()
    }

    /// One pass over the batches in `state.order`: the trained model, the epoch's training
    /// metrics (each batch measured before its own update) and its mean gradient norm. Loss and
    /// metrics are summed on the device and read once, so the steps never wait for
    /// the host.
    fn train_epoch(
        &self,
        mut model: Mlp,
        state: &mut RunState,
        epoch: usize,
        lr: f64,
        observer: &mut dyn Observer,
    ) -> Result<(Mlp, PartMetrics, f64), TrainError> {
        let (config, data, batches) = (self.config, &self.data, self.batches);
        let (device, plain, train) = (self.device, &self.plain, self.train);
        let mut metrics = MetricsAccumulator::new(self.kind);
        let mut norm_sum = 0.0;
        for (step, batch) in state.order.chunks(batches.size).enumerate() {
            let (xb, tb, pb) = if batches.steps == 1 {
                (
                    data.x.clone(),
                    data.targets.clone(),
                    data.plain_targets.clone(),
                )
            } else {
                let rows = TensorData::new(batch.to_vec(), [batch.len()]);
                let indices = Tensor::<1, Int>::from_data(rows.clone(), device);
                let plain_indices = Tensor::<1, Int>::from_data(rows, plain);
                (
                    data.x.clone().select(0, indices.clone()),
                    data.targets.select(indices),
                    data.plain_targets.select(plain_indices),
                )
            };
            let output = train_step(
                model,
                &mut state.optimizer,
                config.loss,
                xb,
                &tb,
                lr,
                config.clip_grad_norm,
            )
            .map_err(targets_error(train))?;
            model = output.model;
            metrics.add(output.output, &pb, output.loss);
            norm_sum += output.grad_norm_squared.sqrt();
            observer.on_step(epoch, step + 1);
        }
        // The metrics come back in one transfer per epoch.
        let mut train_metrics = metrics.finish().ok_or_else(|| TrainError::Data {
            source_name: train.source_name().to_owned(),
            message: "no training rows".to_owned(),
        })?;
        train_metrics.drop_confusion_matrix();
        Ok((model, train_metrics, norm_sum / batches.steps as f64))
    }

    /// Whether the run ends after `epoch`, decided before its checkpoint (the observer is asked
    /// once) so that the epoch a run stops at is always the one it checkpoints last.
    fn end_epoch(
        &self,
        state: &mut RunState,
        epoch: usize,
        monitored: f64,
        grad_norm: f64,
        model: &Mlp,
        observer: &mut dyn Observer,
    ) -> Option<StopReason> {
        let config = self.config;
        let out_of_patience = state.early_stopping.observe(epoch, monitored, model);
        let converged = config.tol > 0.0 && grad_norm < config.tol;
        let interrupted = !out_of_patience && !converged && observer.should_stop();
        let kept = observer.on_checkpoint(&Checkpoint {
            epoch,
            model,
            optimizer: state.optimizer.module(),
            history: &state.history,
            best: state.early_stopping.best(),
            last: out_of_patience || converged || interrupted || epoch == config.num_epochs,
        });
        if out_of_patience {
            Some(StopReason::EarlyStopped)
        } else if converged {
            Some(StopReason::Converged)
        } else if interrupted {
            Some(StopReason::Interrupted)
        } else if !kept {
            Some(StopReason::CheckpointFailed)
        } else {
            None
        }
    }
}

/// The outcome: the kept weights (the best epoch's with early stopping) in inference mode,
/// measured on the training rows; a non-finite measure is a divergence of the last update.
fn finish(
    config: &TrainConfig,
    state: RunState,
    model: Mlp,
    stop_reason: StopReason,
    train: &Dataset,
    plain: &Device,
) -> Result<TrainOutcome, TrainError> {
    let loss = config.loss;
    let history = state.history;
    let (best_epoch, model) = state.early_stopping.restore(history.len(), model);
    let model = model.valid();
    let final_loss = evaluate(&model, loss, train, plain)?;
    if !final_loss.is_finite() {
        // The last epoch's final update overflowed (its own loss, measured before that
        // update, was finite): a divergence all the same, keeping the epoch before.
        let epoch = history.len();
        let learning_rate = history.last().map_or(f64::NAN, |report| report.lr);
        let last_good = keep_finite([state.before_last_good], history, loss, train, plain)?;
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

/// Refuses data whose feature count is not the model's `d_input`.
fn check_widths(
    model_config: &MlpConfig,
    train: &Dataset,
    validation: Option<&Dataset>,
) -> Result<(), TrainError> {
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
    Ok(())
}
