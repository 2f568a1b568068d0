//! # nerve-train
//!
//! Where data, model and loss meet. [`TrainConfig`] holds the training settings: epochs,
//! [`BatchSize`], the loss, the [`OptimizerConfig`] (SGD with momentum / Nesterov / weight
//! decay, Adam, AdamW, RMSprop, PyTorch's defaults), the [`ScheduleConfig`] (constant, step,
//! cosine, linear, warm-up, reduce-on-plateau), early stopping (`patience`, `min_delta`),
//! clipping by the global gradient norm, the gradient-norm tolerance `tol` and the seed.
//! [`Trainer::fit`] runs the epoch loop — seeded shuffle, mini-batches, forward, loss, backward
//! by burn's autodiff, optimizer step — measures the training and validation
//! [`PartMetrics`] on the device each epoch, and reports them to an [`Observer`]. The library
//! never prints; the CLI's observer draws the progress bars. One training step on its own is
//! [`train_step`]; [`ClassificationMetrics`] and [`RegressionMetrics`] score predictions.
//!
//! ```
//! use nerve_data::Table;
//! use nerve_model::MlpConfig;
//! use nerve_train::{BatchSize, NoopObserver, OptimizerConfig, TrainConfig, Trainer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = nerve_backend::BackendKind::default().autodiff_device()?;
//! let data = Table::from_csv_str("line.csv", "x,y\n0,1\n1,3\n2,5\n3,7\n")?.into_dataset(None)?;
//! let config = TrainConfig {
//!     num_epochs: 500,
//!     batch_size: BatchSize::Full,                // every row in each step: gradient descent
//!     optimizer: OptimizerConfig::sgd(0.05, 0.0), // learning rate 0.05, no momentum
//!     ..TrainConfig::default()
//! };
//! nerve_backend::seed(&device, config.seed);
//! let model = MlpConfig::new(1, vec![], 1).init(&device); // a linear model: y = w x + b
//! let outcome = Trainer::new(config).fit(model, &data, None, &device, &mut NoopObserver)?;
//! assert!(outcome.final_loss < 1e-3, "loss {}", outcome.final_loss);
//! # Ok(())
//! # }
//! ```

mod batch_size;
mod calibration;
mod fused;
mod grad_norm;
mod invalid_setting;
mod metrics;
mod monitor;
pub mod non_finite;
mod observer;
mod optimizer;
mod report;
mod schedule;
mod task_rules;
mod threshold;
mod trainer;

pub use batch_size::BatchSize;
pub use calibration::{
    Calibration, CalibrationBin, CalibrationVariant, Temperature, fit_temperature,
};
pub use grad_norm::global_grad_norm_squared;
pub use invalid_setting::{InvalidSetting, TaskRuleError};
pub use metrics::{
    ClassificationMetrics, MetricKind, MetricsAccumulator, PartMetrics, RegressionMetrics, Scores,
};
pub use monitor::Monitor;
pub use observer::{Checkpoint, EpochReport, NoopObserver, Observer, TrainPlan};
pub use optimizer::{Optimizer, OptimizerConfig, OptimizerKind};
pub use report::{
    BinaryCurves, ClassScores, ClassificationReport, RegressionReport, Report, ReportError, Score,
    average_precision, roc_auc, roc_auc_of,
};
pub use schedule::{ReduceOnPlateau, Schedule, ScheduleConfig, ScheduleKind};
pub use task_rules::{check_loss, default_loss, output_width};
pub use threshold::{ThresholdChoice, ThresholdMetric, best_threshold, predicted_class};
pub use trainer::{
    Resume, StepOutput, StopReason, TrainConfig, TrainError, TrainOutcome, Trainer, train_step,
};

/// Training rows a spiking network is run on after each epoch to find layers that fire no
/// spike ([`EpochReport::silent_layers`]): a few percent of an epoch's cost on the built-in data.
pub const SILENCE_SAMPLE_ROWS: usize = 256;

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
