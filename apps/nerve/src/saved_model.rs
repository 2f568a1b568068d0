//! The CLI's model file: the network plus everything needed to use it — the preprocessing, the
//! resolved run config and the final metrics — in the `nerve` metadata of a safetensors file.

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::Device;
use nerve_data::Preprocessor;
use nerve_model::{Mlp, ModelInfo};
use serde_json::{Map, Value};

use crate::run_config::RunConfig;
use crate::run_summary::RunSummary;

/// A model file, read back.
pub(crate) struct SavedModel {
    /// The network.
    pub model: Mlp,
    /// The file's own description (format, version, architecture, the rest).
    pub info: ModelInfo,
    /// The preprocessing the network was trained with.
    pub preprocessor: Preprocessor,
    /// The resolved config of the run that made it.
    pub config: RunConfig,
}

/// The metadata the CLI stores beside the architecture.
pub(crate) fn metadata(
    preprocessor: &Preprocessor,
    config: &RunConfig,
    metrics: &RunSummary,
) -> Result<Map<String, Value>> {
    let mut extra = Map::new();
    extra.insert("task".into(), serde_json::to_value(preprocessor.task())?);
    extra.insert("preprocessing".into(), serde_json::to_value(preprocessor)?);
    extra.insert("training".into(), serde_json::to_value(config)?);
    extra.insert("metrics".into(), serde_json::to_value(metrics)?);
    Ok(extra)
}

/// Writes `model` with its metadata to `path` (atomically).
pub(crate) fn save(
    path: &Path,
    model: &Mlp,
    preprocessor: &Preprocessor,
    config: &RunConfig,
    metrics: &RunSummary,
) -> Result<()> {
    model.save_file(path, &metadata(preprocessor, config, metrics)?)?;
    Ok(())
}

/// Reads a model file written by `nerve train`, with the network on `device`.
pub(crate) fn load(path: &Path, device: &Device) -> Result<SavedModel> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    from_bytes(&bytes, &path.display().to_string(), device)
}

/// Parses the bytes of a model file written by `nerve train`; `source` names them in errors.
pub(crate) fn from_bytes(bytes: &[u8], source: &str, device: &Device) -> Result<SavedModel> {
    let (model, info) = Mlp::from_safetensors(bytes, source, device)?;
    let field = |key: &str| -> Result<Value> {
        info.extra.get(key).cloned().with_context(|| {
            format!(
                "{source}: the model's metadata has no `{key}`; was it written by `nerve train`?"
            )
        })
    };
    let preprocessor: Preprocessor = serde_json::from_value(field("preprocessing")?)
        .with_context(|| format!("{source}: unreadable `preprocessing` metadata"))?;
    // Before format 5 the statistics were f32: applied as such, an older model's inputs are
    // scaled as in its training.
    let preprocessor = if info.format_version < 5 {
        preprocessor.with_f32_statistics()
    } else {
        preprocessor
    };
    let config: RunConfig = serde_json::from_value(field("training")?)
        .with_context(|| format!("{source}: unreadable `training` metadata"))?;
    let (d_input, d_output) = (info.architecture.d_input, info.architecture.d_output);
    // A file whose config names no loss trained with the task's default.
    let loss = config
        .loss
        .name
        .unwrap_or(nerve_train::default_loss(preprocessor.task()));
    let expected_output = nerve_train::output_width(loss, preprocessor.labels())
        .map_err(|message| anyhow::anyhow!("{source}: {message}"))?;
    anyhow::ensure!(
        d_input == preprocessor.d_input() && d_output == expected_output,
        "{source}: the network ({d_input} inputs, {d_output} outputs) does not match its preprocessing ({} inputs, {} outputs)",
        preprocessor.d_input(),
        preprocessor.d_output()
    );
    Ok(SavedModel {
        model,
        info,
        preprocessor,
        config,
    })
}

impl SavedModel {
    /// The metrics recorded at the end of training: `None` when the file has none (a model
    /// saved by the library) or they are not a run summary this nerve reads.
    pub(crate) fn metrics(&self) -> Option<RunSummary> {
        let value = self.info.extra.get("metrics")?;
        serde_json::from_value(value.clone()).ok()
    }

    /// The decision threshold stored by `nerve eval --optimize-threshold --output`: `predict`
    /// and `eval` answer the positive class when its probability is at least this.
    pub(crate) fn threshold(&self) -> Option<f64> {
        self.info
            .extra
            .get(THRESHOLD_KEY)?
            .get("threshold")?
            .as_f64()
            .filter(|t| (0.0..=1.0).contains(t))
    }

    /// The decision threshold to answer with: `flag` (`--threshold`) when given, else the
    /// stored one; `None` answers the most probable class.
    ///
    /// # Errors
    ///
    /// A threshold outside [0, 1], or one for a model that does not have two classes.
    pub(crate) fn decision_threshold(&self, flag: Option<f64>) -> Result<Option<f64>> {
        let Some(threshold) = flag else {
            return Ok(self.threshold());
        };
        anyhow::ensure!(
            (0.0..=1.0).contains(&threshold),
            "--threshold must be a probability between 0 and 1, got {threshold}"
        );
        match self.preprocessor.labels() {
            Some(labels) if labels.len() == 2 => Ok(Some(threshold)),
            Some(labels) => anyhow::bail!(
                "--threshold is for two classes (the second's probability against it); this model has {} classes",
                labels.len()
            ),
            None => {
                anyhow::bail!("--threshold needs a classification model; this one predicts values")
            }
        }
    }

    /// The temperature its logits are divided by, overall, when `nerve calibrate` made it
    /// (calibrated twice: the product).
    pub(crate) fn temperature(&self) -> Option<f64> {
        let scaling = self.info.extra.get(TEMPERATURE_KEY)?;
        scaling
            .get("overall_temperature")
            .or(scaling.get("temperature"))?
            .as_f64()
    }

    /// Writes a copy of this model file to `path` (atomically) with `network` in place of its
    /// network and `key` set to `value` in its metadata.
    pub(crate) fn save_copy(
        &self,
        path: &Path,
        network: &Mlp,
        key: &str,
        value: Value,
    ) -> Result<()> {
        self.save_copy_with(path, network, vec![(key, value)])
    }

    /// [`SavedModel::save_copy`] with several metadata entries set.
    pub(crate) fn save_copy_with(
        &self,
        path: &Path,
        network: &Mlp,
        entries: Vec<(&str, Value)>,
    ) -> Result<()> {
        let mut extra = self.info.extra.clone();
        for (key, value) in entries {
            extra.insert(key.to_owned(), value);
        }
        network.save_file(path, &extra)?;
        Ok(())
    }
}

/// The metadata key of a stored decision threshold.
pub(crate) const THRESHOLD_KEY: &str = "decision_threshold";

/// The metadata key of a fitted temperature (`nerve calibrate`).
pub(crate) const TEMPERATURE_KEY: &str = "temperature_scaling";
