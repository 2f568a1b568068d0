//! [`Trainer`]: the epoch loop, and [`train_step`], one step of it.

use std::time::Instant;

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
    BatchSize, EpochReport, Observer, OptimizerConfig, TrainPlan, global_grad_norm_squared,
};

/// Training settings: the `[train]` table of a run config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// The epoch limit (the tutorial's iteration limit).
    pub num_epochs: usize,
    /// Rows per optimizer step.
    pub batch_size: BatchSize,
    /// The step size α of `θ ← θ - α∇J(θ)`.
    pub learning_rate: f64,
    /// The loss to minimise.
    pub loss: Loss,
    /// The optimizer and its hyperparameters.
    pub optimizer: OptimizerConfig,
    /// Stop early once the epoch's gradient norm falls below this; 0 never stops early.
    pub tol: f64,
    /// Seeds the per-epoch shuffle (the model's initialisation is seeded through the device).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        // scikit-learn's MLP defaults: Adam at 1e-3, batches of min(200, rows), 200 epochs.
        Self {
            num_epochs: 200,
            batch_size: BatchSize::Auto,
            learning_rate: 1e-3,
            loss: Loss::Mse,
            optimizer: OptimizerConfig::default(),
            tol: 0.0,
            seed: 42,
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
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid(format!(
                "`learning_rate` must be a positive number, got {}",
                self.learning_rate
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return invalid(format!("`tol` must be 0 or positive, got {}", self.tol));
        }
        self.optimizer.validate().map_err(TrainError::Config)
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
}

/// What a finished run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The trained network, in inference mode on the plain (non-autodiff) device.
    pub model: Mlp,
    /// One report per epoch run.
    pub history: Vec<EpochReport>,
    /// Why training stopped.
    pub stop_reason: StopReason,
    /// The loss of the trained network on the whole training set.
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
    },
}

/// The result of one [`train_step`].
#[derive(Debug)]
pub struct StepOutput {
    /// The model after the update.
    pub model: Mlp,
    /// The batch's loss before the update, detached from the graph, on the device.
    pub loss: Tensor<1>,
    /// The squared global gradient norm of the batch, on the device.
    pub grad_norm_squared: Tensor<1>,
}

/// One step of gradient descent: forward, loss, backward (burn's autodiff), optimizer update.
/// Nothing is read back from the device.
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
) -> Result<StepOutput, LossError> {
    let device = x.device();
    let value = loss.forward(model.forward(x), targets)?;
    let grads = GradientsParams::from_grads(value.backward(), &model);
    let grad_norm_squared = global_grad_norm_squared(&model, &grads, &device);
    let model = optimizer.step(learning_rate, model, grads);
    Ok(StepOutput {
        model,
        loss: value.detach().without_autodiff(),
        grad_norm_squared,
    })
}

/// Runs the epoch loop of a [`TrainConfig`].
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
}

impl Trainer {
    /// A trainer for `config`.
    pub fn new(config: TrainConfig) -> Self {
        Self { config }
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains `model` on `data` until the epoch limit or until the gradient norm falls below
    /// `tol`, reporting each epoch to `observer`. `device` must be an autodiff device; the
    /// model must have been built for `data` (`d_input` features).
    pub fn fit(
        &self,
        model: Mlp,
        data: &Dataset,
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
        let x = data.features_tensor(device);
        let targets = config
            .loss
            .targets(data.targets_tensor(device), model_config.d_output)
            .map_err(targets_error(data))?;

        let num_rows = data.len();
        let batch_size = config.batch_size.resolve(num_rows);
        let steps_per_epoch = num_rows.div_ceil(batch_size);
        observer.on_start(&TrainPlan {
            num_epochs: config.num_epochs,
            steps_per_epoch,
            num_rows,
        });

        let mut optimizer = config.optimizer.init();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut order: Vec<i64> = (0..num_rows as i64).collect();
        let mut model = model;
        let mut history = Vec::with_capacity(config.num_epochs);
        let mut stop_reason = StopReason::EpochLimit;
        let plain = device.clone().without_autodiff();
        let start = Instant::now();

        for epoch in 1..=config.num_epochs {
            // Loss and gradient norm are summed on the device and read once per epoch, so the
            // steps themselves never wait for the host.
            let mut loss_sum = Tensor::<1>::zeros([1], &plain);
            let mut norm_sum = Tensor::<1>::zeros([1], &plain);
            if steps_per_epoch > 1 {
                order.shuffle(&mut rng);
            }
            for batch in order.chunks(batch_size) {
                let (xb, tb) = if steps_per_epoch == 1 {
                    (x.clone(), targets.clone())
                } else {
                    let indices = Tensor::<1, Int>::from_data(
                        TensorData::new(batch.to_vec(), [batch.len()]),
                        device,
                    );
                    (
                        x.clone().select(0, indices.clone()),
                        targets.select(indices),
                    )
                };
                let step = train_step(
                    model,
                    &mut optimizer,
                    config.loss,
                    xb,
                    &tb,
                    config.learning_rate,
                )
                .map_err(targets_error(data))?;
                model = step.model;
                loss_sum = loss_sum + step.loss.mul_scalar(batch.len() as f64);
                norm_sum = norm_sum + step.grad_norm_squared.sqrt();
            }
            let loss = f64::from(loss_sum.into_scalar::<f32>()) / num_rows as f64;
            let grad_norm = f64::from(norm_sum.into_scalar::<f32>()) / steps_per_epoch as f64;
            if !loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    loss,
                    learning_rate: config.learning_rate,
                });
            }
            let report = EpochReport {
                epoch,
                loss,
                grad_norm,
                elapsed: start.elapsed(),
            };
            tracing::debug!(epoch, loss, grad_norm, "epoch done");
            observer.on_epoch(&report);
            history.push(report);
            if config.tol > 0.0 && grad_norm < config.tol {
                stop_reason = StopReason::Converged;
                break;
            }
        }

        let model = model.valid();
        let final_loss = evaluate(&model, config.loss, data, &plain)?;
        Ok(TrainOutcome {
            model,
            history,
            stop_reason,
            final_loss,
        })
    }
}

/// The mean loss of `model` on all of `data`, computed on `device` without recording a graph.
fn evaluate(model: &Mlp, loss: Loss, data: &Dataset, device: &Device) -> Result<f64, TrainError> {
    let output = model.forward(data.features_tensor(device));
    let value = loss
        .compute(output, data.targets_tensor(device))
        .map_err(targets_error(data))?;
    Ok(f64::from(value.into_scalar::<f32>()))
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

    /// Full-batch gradient descent, the tutorial's rule.
    fn gradient_descent() -> TrainConfig {
        TrainConfig {
            batch_size: BatchSize::Full,
            optimizer: OptimizerConfig::sgd(0.0),
            ..TrainConfig::default()
        }
    }

    fn fit(config: TrainConfig, observer: &mut dyn Observer) -> Result<TrainOutcome, TrainError> {
        let device = BackendKind::default()
            .autodiff_device()
            .expect("compiled in");
        let model = MlpConfig::new(1, vec![], 1).init(&device);
        Trainer::new(config).fit(model, &line(), &device, observer)
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
            learning_rate: 0.1,
            tol: 1e-3,
            ..gradient_descent()
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
            learning_rate: 10.0,
            ..gradient_descent()
        };
        let err = fit(config, &mut NoopObserver).unwrap_err();
        let TrainError::Diverged { epoch, .. } = err else {
            panic!("expected divergence, got {err}")
        };
        assert!(epoch > 1);
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
            .fit(model, &line(), &device, &mut NoopObserver)
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
            optimizer: OptimizerConfig::sgd(1.5),
            ..TrainConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("`momentum`")
        );
    }
}
