//! [`train`]: a whole run in one call, as `nerve train` runs it without a run folder — the
//! table read and prepared, the config settled, the fit planned, the network trained and each
//! part scored — giving a [`Trained`] model that saves as `nerve train`'s model file and
//! answers rows as `nerve predict` does.

use std::path::Path;

use burn::prelude::Device;
use nerve_data::Preprocessor;
use nerve_model::Mlp;
use nerve_train::{Observer, StopReason, TrainOutcome};

use crate::{
    FitPlan, Predictor, Result, RunConfig, RunError, RunSummary, SavedModel, evaluate_part,
    metadata, prepare_settled, save_model,
};

/// A trained model with what made it.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The network, in inference mode on the plain device.
    pub model: Mlp,
    /// The preprocessing fitted on the training rows.
    pub preprocessor: Preprocessor,
    /// The resolved config (the target, task and loss recorded), which repeats the run.
    pub config: RunConfig,
    /// Each epoch's report and why training stopped.
    pub outcome: TrainOutcome,
    /// The metrics of each part, as `metrics.json` holds them.
    pub summary: RunSummary,
}

/// Trains the network `config` describes on the rows it names, on `device` (an autodiff
/// device: `BackendKind::autodiff_device`), reporting each epoch to `observer` (which can
/// stop the run: Ctrl-C).
///
/// The run repeats bit for bit on the same backend, as `nerve train` of the same config does,
/// provided it is the only training of its process at the time: the backend's random number
/// generator is process-wide ([`nerve_backend::seed`]) and draws the weights at the first
/// forward pass (and dropout masks and rate-coded spikes as it goes), so two trainings in two
/// threads at once take each other's numbers. Run them one after another, or in processes of
/// their own (as `nerve cv` and `nerve tune` do).
///
/// # Errors
///
/// The data cannot be read or prepared, a setting does not fit the data, training diverges
/// ([`RunError::Train`], with the last good epoch), or the observer stopped it
/// ([`RunError::Interrupted`]).
pub fn train(
    mut config: RunConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    config.validate()?;
    let prepared = prepare_settled(&mut config)?;
    let config = config.resolved();
    let source = prepared.table.source_name();
    let has_validation = prepared.validation.as_ref().is_some_and(|v| !v.is_empty());
    let plan = FitPlan::new(
        &config,
        &prepared.preprocessor,
        &prepared.train,
        has_validation,
        source,
    )?;
    let model = plan.new_network(&prepared.train, device);
    let trainer = plan.trainer();
    let outcome = trainer.fit(
        model,
        &prepared.train,
        prepared.validation.as_ref(),
        device,
        observer,
    )?;
    if outcome.stop_reason == StopReason::Interrupted {
        return Err(RunError::Interrupted);
    }
    let plain = device.clone().without_autodiff();
    let p = &prepared.preprocessor;
    let labels = p.labels();
    let score = |data| evaluate_part(&trainer, &outcome.model, config.loss(), data, p, &plain);
    let train = score(&prepared.train)?.summary(labels);
    let validation = match &prepared.validation {
        Some(rows) => Some(score(rows)?.summary(labels)),
        None => None,
    };
    let test = match &prepared.test {
        Some(rows) => Some(score(rows)?.summary(labels)),
        None => None,
    };
    let summary = RunSummary::new(&config, p, &outcome, train, validation, test);
    Ok(Trained {
        model: outcome.model.clone(),
        preprocessor: prepared.preprocessor,
        config,
        outcome,
        summary,
    })
}

impl Trained {
    /// Writes the model file (atomically), as `nerve train` writes `model.safetensors`.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_model(
            path,
            &self.model,
            &self.preprocessor,
            &self.config,
            Some(&self.summary),
        )
    }

    /// A predictor of this model on `device` (plain), read back from the model file's bytes so
    /// it answers exactly as the saved file does.
    ///
    /// # Errors
    ///
    /// As [`SavedModel::from_bytes`] and [`Predictor::new`].
    pub fn predictor(&self, device: &Device) -> Result<Predictor> {
        let extra = metadata(&self.preprocessor, &self.config, Some(&self.summary))?;
        let bytes = self.model.to_safetensors(&extra)?;
        let saved = SavedModel::from_bytes(&bytes, "the trained model", device)?;
        Predictor::new(saved, device.clone(), None)
    }
}
