//! What a nerve *run* means, as a library: the same training and prediction as the `nerve`
//! CLI, for a Rust program (or a Python binding) that has no command line.
//!
//! - [`RunConfig`]: the run config (`[data]`, `[model]`, `[spiking]`, `[loss]`, `[optimizer]`,
//!   `[schedule]`, `[training]`), parsed from TOML, validated, saved with every model.
//! - [`prepare_settled`] and [`settle`]: the table read and prepared, with what was inferred
//!   (target, task, loss) recorded in the config; [`FitPlan`]: the trainer's settings and the
//!   architecture, decided once, and a new seeded network.
//! - [`train`]: the whole run in one call, giving a [`Trained`] model with its
//!   [`RunSummary`] (`metrics.json`).
//! - [`SavedModel`]: the model file's metadata (preprocessing, config, metrics, a stored
//!   threshold and temperature); [`SavedModel::reader`] reads rows typed as in training.
//! - [`Predictor`]: rows to answers, the one path of `nerve predict`, `eval` and `serve`, with
//!   [`NonFiniteOutput`] for a row that has none.
//! - [`cross_validation`]: folds of the training rows, one fold trained and scored
//!   ([`cross_validation::run_fold`]), scikit-learn's metrics ([`Metric`]).
//! - [`SETTINGS`]: every setting's flag and dotted config key, declared once;
//!   [`RunConfig::with_values`] lays values over a config by key and
//!   [`RunConfig::changed_keys`] names the keys two configs differ in.
//! - [`builtin`]: the data sets and configs embedded in the library.
//!
//! Errors are [`RunError`]s, by kind, each message one line with its cause as `source()`
//! (print the chain to see the file, line and key); nothing here prints.
//!
//! # Example
//!
//! Train on a CSV file and predict its rows, as `nerve train` and `nerve predict` do:
//!
//! ```
//! use nerve_run::{BackendKind, Columns, NoopObserver, Predictions, RunConfig, train};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let csv = dir.path().join("rooms.csv");
//! let rows: String = (0..40)
//!     .map(|i| format!("{},{}\n", 1 + i * 7 % 6, 90 + 60 * (1 + i * 7 % 6) + i % 5))
//!     .collect();
//! std::fs::write(&csv, format!("rooms,price\n{rows}"))?;
//! let path = csv.display().to_string();
//!
//! let mut config = RunConfig::for_data(&path);
//! config.data.target = Some("price".into());
//! let device = BackendKind::Flex.autodiff_device()?;
//! let trained = train(config, &device, &mut NoopObserver)?;
//! trained.save(&dir.path().join("model.safetensors"))?;
//!
//! let predictor = trained.predictor(&device.without_autodiff())?;
//! let table = predictor.saved().reader(&path, None, Columns::Features, &[])?.read_all()?;
//! let Predictions::Values(prices) = predictor.answer(&table)?.predictions else {
//!     unreachable!("a regression model answers values");
//! };
//! assert_eq!(prices.len(), 40);
//! # Ok(())
//! # }
//! ```

pub mod builtin;
mod config;
pub mod cross_validation;
mod data_source;
mod error;
mod evaluation;
mod non_finite;
mod plan;
mod predictor;
mod saved_model;
mod settings;
mod summary;
mod training;

pub use config::{
    Balanced, ClassWeight, DataSection, Delimiter, EarlyStopping, HiddenWidths, LossSection,
    RunConfig, TrainingSection,
};
pub use cross_validation::Metric;
pub use data_source::{DataSource, data_name, load_table, resolve_data};
pub use error::{Result, RunError};
pub use evaluation::{PartEvaluation, evaluate_part, report_at};
pub use non_finite::{NonFiniteOutput, check_answered};
pub use plan::{FitPlan, prepare_settled, settle};
pub use predictor::{Answers, FORWARD_ROWS, PredictError, Predictions, Predictor, network_outputs};
pub use saved_model::{Columns, SavedModel, TEMPERATURE_KEY, THRESHOLD_KEY, metadata, save_model};
pub use settings::{MORE_SETTINGS, SETTINGS, Setting, flag_text, setting};
pub use summary::{PartSummary, RunSummary};
pub use training::{Trained, train};

// What a program that depends on nerve-run alone needs to call it: the types its functions
// take and give.
pub use burn::prelude::Device;
pub use nerve_backend::BackendKind;
pub use nerve_data::{Prepared, Preprocessor, Table, TransformReport};
pub use nerve_model::Mlp;
pub use nerve_train::{NoopObserver, Observer, TrainOutcome};

/// The README's example, compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
