//! From a config and a table to what a fit needs, decided once: [`prepare_settled`] reads and
//! prepares the rows and records what was inferred ([`settle`]: the target, the task, the loss
//! for it); [`FitPlan`] holds the trainer's settings (class weights from the training rows, a
//! monitor the rows can feed) and the validated architecture of the data's widths, and makes
//! a new seeded network. `nerve train`, cross-validation's folds (`nerve cv`, `nerve tune`) and
//! [`train`](crate::train) all plan through it.

use burn::prelude::Device;
use nerve_data::{Dataset, Prepared, Preprocessor, prepare};
use nerve_loss::Loss;
use nerve_model::spiking::InputRange;
use nerve_model::{Mlp, MlpConfig};
use nerve_train::{TrainConfig, Trainer};

use crate::{Result, RunConfig, RunError, load_table};

/// The table `config` names, prepared by its data settings, with what was inferred recorded
/// in `config` ([`settle`]).
///
/// # Errors
///
/// The data cannot be read or prepared, or the loss does not fit the task.
pub fn prepare_settled(config: &mut RunConfig) -> Result<Prepared> {
    let table = load_table(config)?;
    let prepared = prepare(table, &config.data.prepare_options())?;
    settle(config, &prepared)?;
    Ok(prepared)
}

/// Records in `config` what `prepared` decided — the target column, the task, and the loss
/// for the task unless one was chosen — so the saved config repeats the run on any version.
///
/// # Errors
///
/// A loss chosen for another task ([`RunError::DataMismatch`]), or a spike-count readout with
/// a loss that needs values below zero.
pub fn settle(config: &mut RunConfig, prepared: &Prepared) -> Result<()> {
    let target = prepared.preprocessor.target_name().to_owned();
    config.data.target = Some(target.clone());
    config.data.task = Some(prepared.task());
    config.settle_loss(prepared.task(), prepared.table.source_name(), &target)
}

/// What a fit of a settled config on prepared rows needs, decided once.
#[derive(Debug, Clone)]
pub struct FitPlan {
    /// The trainer's settings, with the class weights of the training rows.
    pub train_config: TrainConfig,
    /// The network's architecture, its widths the data's, validated.
    pub architecture: MlpConfig,
    /// The target's scale, by which the trainer reports regression errors in its units.
    target_scale: f64,
}

impl FitPlan {
    /// The plan for `config` (settled: [`settle`]) on rows prepared by `preprocessor`:
    /// `train` is the training part, `has_validation` whether a validation part feeds the
    /// monitor, `source` names the data in errors.
    ///
    /// # Errors
    ///
    /// Class weights for a regression target or for classes without rows; a monitored
    /// quantity the rows cannot give; a loss that does not fit the classes; an invalid
    /// `[model]`. All before any network exists.
    pub fn new(
        config: &RunConfig,
        preprocessor: &Preprocessor,
        train: &Dataset,
        has_validation: bool,
        source: &str,
    ) -> Result<FitPlan> {
        let mut train_config = config.train_config();
        train_config.class_weights = class_weights(config, preprocessor, train)?;
        if let Some(message) = train_config
            .monitor
            .unavailable(has_validation, preprocessor.labels().is_some())
        {
            return Err(RunError::Setting(message));
        }
        let d_output = output_width(config.loss(), preprocessor, source)?;
        let architecture = config.architecture(preprocessor.d_input(), d_output);
        architecture
            .validate()
            .map_err(|source| RunError::InvalidModel { source })?;
        Ok(FitPlan {
            train_config,
            architecture,
            target_scale: preprocessor.target_scale(),
        })
    }

    /// A new network of the planned architecture, seeded by the training seed; a spiking one
    /// maps features to spike probabilities by `train`'s range (rate and latency coding).
    pub fn new_network(&self, train: &Dataset, device: &Device) -> Mlp {
        nerve_backend::seed(device, self.train_config.seed);
        let model = self.architecture.init(device);
        if model.is_spiking() {
            model.with_input_range(input_range(train, device))
        } else {
            model
        }
    }

    /// The trainer of the plan.
    pub fn trainer(&self) -> Trainer {
        Trainer::new(self.train_config.clone()).with_target_scale(self.target_scale)
    }
}

/// The network's output width: one logit per class for cross-entropy, one output otherwise
/// (binary cross-entropy needs exactly two classes).
fn output_width(loss: Loss, preprocessor: &Preprocessor, source: &str) -> Result<usize> {
    nerve_train::output_width(loss, preprocessor.labels()).map_err(|message| {
        RunError::DataMismatch(format!(
            "{source}, target column `{}`: {message}",
            preprocessor.target_name()
        ))
    })
}

/// The smallest and largest value of each input over `rows`.
fn input_range(rows: &Dataset, device: &Device) -> InputRange {
    let d = rows.d_input();
    let mut low = vec![f32::INFINITY; d];
    let mut high = vec![f32::NEG_INFINITY; d];
    for i in 0..rows.len() {
        for (j, &v) in rows.features_of(i).iter().enumerate() {
            low[j] = low[j].min(v);
            high[j] = high[j].max(v);
        }
    }
    // No rows: a unit range (every probability from the value itself).
    if rows.is_empty() {
        low.fill(0.0);
        high.fill(1.0);
    }
    InputRange::new(low, high, device)
}

/// The class weights `--class-weight` asks for, one per class, from the training rows
/// (`balanced` counts `train`'s classes).
fn class_weights(
    config: &RunConfig,
    preprocessor: &Preprocessor,
    train: &Dataset,
) -> Result<Option<Vec<f64>>> {
    let Some(spec) = &config.loss.class_weight else {
        return Ok(None);
    };
    let Some(labels) = preprocessor.labels() else {
        return Err(RunError::setting(format!(
            "--class-weight weighs classes, but `{}` is a regression target",
            preprocessor.target_name()
        )));
    };
    if config.loss() == Loss::BinaryCrossEntropy && labels.len() != 2 {
        return Err(RunError::setting(
            "--class-weight with bce needs two classes",
        ));
    }
    spec.resolve(labels, train.targets()).map(Some)
}
