//! # nerve-train
//!
//! Where data, model and loss meet. [`TrainConfig`] holds the training settings (epochs, batch
//! size, [`OptimizerConfig`], learning rate, the gradient-norm tolerance `tol`, the seed);
//! [`Trainer::fit`] runs the epoch loop — seeded shuffle, mini-batches, forward, loss,
//! backward by burn's autodiff, optimizer step — and reports every epoch to an [`Observer`]. The
//! library never prints; the CLI's observer draws the progress bar. One training step on its
//! own is [`train_step`]. [`ClassificationMetrics`] and [`RegressionMetrics`] score predictions.
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
//!     learning_rate: 0.05,
//!     batch_size: BatchSize::Full,          // every row in each step: plain gradient descent
//!     optimizer: OptimizerConfig::sgd(0.0), // the default is Adam
//!     ..TrainConfig::default()
//! };
//! nerve_backend::seed(&device, config.seed);
//! let model = MlpConfig::new(1, vec![], 1).init(&device); // a linear model: y = w x + b
//! let outcome = Trainer::new(config).fit(model, &data, &device, &mut NoopObserver)?;
//! assert!(outcome.final_loss < 1e-3, "loss {}", outcome.final_loss);
//! # Ok(())
//! # }
//! ```

mod batch_size;
mod grad_norm;
mod metrics;
mod observer;
mod optimizer;
mod trainer;

pub use batch_size::BatchSize;
pub use grad_norm::global_grad_norm_squared;
pub use metrics::{ClassificationMetrics, RegressionMetrics};
pub use observer::{EpochReport, NoopObserver, Observer, TrainPlan};
pub use optimizer::{OptimizerConfig, OptimizerKind};
pub use trainer::{
    StepOutput, StopReason, TrainConfig, TrainError, TrainOutcome, Trainer, train_step,
};
