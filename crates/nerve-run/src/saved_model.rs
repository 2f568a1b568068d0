//! A run's model file: the network plus everything needed to use it — the preprocessing, the
//! resolved run config and the final metrics — in the `nerve` metadata of a safetensors file
//! (nerve-model writes and reads the file; this is the schema of what a run adds to it).

use std::io::Read;
use std::path::Path;

use burn::prelude::Device;
use nerve_data::{ColumnKind, CsvOptions, DataError, Missing, NaValues, Preprocessor, TableReader};
use nerve_model::{Mlp, ModelInfo};
use serde_json::{Map, Value};

use crate::{Delimiter, Result, RunConfig, RunError, RunSummary, resolve_data};

/// A model file, read back.
pub struct SavedModel {
    /// The network.
    pub model: Mlp,
    /// The file's own description (format, version, architecture, the rest).
    pub info: ModelInfo,
    /// The preprocessing the network was trained with.
    pub preprocessor: Preprocessor,
    /// The resolved config of the run that made it.
    pub config: RunConfig,
}

/// The metadata a run stores beside the architecture: the task, the preprocessing, the
/// resolved config and (when the run was scored) its summary.
///
/// # Errors
///
/// A value that JSON cannot hold ([`RunError::Serialize`]).
pub fn metadata(
    preprocessor: &Preprocessor,
    config: &RunConfig,
    metrics: Option<&RunSummary>,
) -> Result<Map<String, Value>> {
    let json = |value: serde_json::Result<Value>| {
        value.map_err(|err| RunError::Serialize {
            what: "the model's metadata",
            message: err.to_string(),
        })
    };
    let mut extra = Map::new();
    extra.insert(
        "task".into(),
        json(serde_json::to_value(preprocessor.task()))?,
    );
    extra.insert(
        "preprocessing".into(),
        json(serde_json::to_value(preprocessor))?,
    );
    extra.insert("training".into(), json(serde_json::to_value(config))?);
    if let Some(metrics) = metrics {
        extra.insert("metrics".into(), json(serde_json::to_value(metrics))?);
    }
    Ok(extra)
}

/// Writes `model` with its metadata ([`metadata`]) to `path`, atomically: a reader sees the
/// old file or the new one, never a mix.
///
/// # Errors
///
/// The file cannot be written ([`RunError::Model`], naming it).
pub fn save_model(
    path: &Path,
    model: &Mlp,
    preprocessor: &Preprocessor,
    config: &RunConfig,
    metrics: Option<&RunSummary>,
) -> Result<()> {
    model.save_file(path, &metadata(preprocessor, config, metrics)?)?;
    Ok(())
}

impl SavedModel {
    /// Reads a model file written by `nerve train` (or [`save_model`]), with the network on
    /// `device`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not a safetensors model file, lacks a run's metadata, or its
    /// network does not fit its preprocessing; each names the file.
    pub fn load(path: &Path, device: &Device) -> Result<SavedModel> {
        let bytes = std::fs::read(path).map_err(|source| RunError::Read {
            what: "model file",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string(), device)
    }

    /// Parses the bytes of a model file written by `nerve train`; `source` names them in errors.
    ///
    /// # Errors
    ///
    /// As [`SavedModel::load`].
    pub fn from_bytes(bytes: &[u8], source: &str, device: &Device) -> Result<SavedModel> {
        let (model, info) = Mlp::from_safetensors(bytes, source, device)?;
        let invalid = |message: String| RunError::ModelFile {
            source_name: source.to_owned(),
            message,
        };
        let field = |key: &str| -> Result<Value> {
            info.extra.get(key).cloned().ok_or_else(|| {
                invalid(format!(
                    "the model's metadata has no `{key}`; was it written by `nerve train`?"
                ))
            })
        };
        let preprocessor: Preprocessor = serde_json::from_value(field("preprocessing")?)
            .map_err(|err| invalid(format!("unreadable `preprocessing` metadata: {err}")))?;
        // Before format 5 the statistics were f32: applied as such, an older model's inputs are
        // scaled as in its training.
        let preprocessor = if info.format_version < 5 {
            preprocessor.with_f32_statistics()
        } else {
            preprocessor
        };
        let config: RunConfig = serde_json::from_value(field("training")?)
            .map_err(|err| invalid(format!("unreadable `training` metadata: {err}")))?;
        let (d_input, d_output) = (info.architecture.d_input, info.architecture.d_output);
        // A file whose config names no loss trained with the task's default.
        let loss = config
            .loss
            .name
            .unwrap_or(nerve_train::default_loss(preprocessor.task()));
        let expected_output = nerve_train::output_width(loss, preprocessor.labels())
            .map_err(|err| invalid(err.to_string()))?;
        if d_input != preprocessor.d_input() || d_output != expected_output {
            return Err(invalid(format!(
                "the network ({d_input} inputs, {d_output} outputs) does not match its preprocessing ({} inputs, {} outputs)",
                preprocessor.d_input(),
                preprocessor.d_output()
            )));
        }
        Ok(SavedModel {
            model,
            info,
            preprocessor,
            config,
        })
    }

    /// The metrics recorded at the end of training: `None` when the file has none (a model
    /// saved without them, by [`save_model`] with `None`) or they are not a run summary this
    /// nerve reads.
    pub fn metrics(&self) -> Option<RunSummary> {
        let value = self.info.extra.get("metrics")?;
        serde_json::from_value(value.clone()).ok()
    }

    /// The decision threshold stored by `nerve eval --optimize-threshold --output`: `predict`
    /// and `eval` answer the positive class when its probability is at least this.
    pub fn threshold(&self) -> Option<f64> {
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
    pub fn decision_threshold(&self, flag: Option<f64>) -> Result<Option<f64>> {
        let Some(threshold) = flag else {
            return Ok(self.threshold());
        };
        if !(0.0..=1.0).contains(&threshold) {
            return Err(RunError::setting(format!(
                "--threshold must be a probability between 0 and 1, got {threshold}"
            )));
        }
        match self.preprocessor.labels() {
            Some(labels) if labels.len() == 2 => Ok(Some(threshold)),
            Some(labels) => Err(RunError::setting(format!(
                "--threshold is for two classes (the second's probability against it); this model has {} classes",
                labels.len()
            ))),
            None => Err(RunError::setting(
                "--threshold needs a classification model; this one predicts values",
            )),
        }
    }

    /// The temperature its logits are divided by, overall, when `nerve calibrate` made it
    /// (calibrated twice: the product).
    pub fn temperature(&self) -> Option<f64> {
        let scaling = self.info.extra.get(TEMPERATURE_KEY)?;
        scaling
            .get("overall_temperature")
            .or(scaling.get("temperature"))?
            .as_f64()
    }

    /// How rows are read for this model: only its columns (`columns`) plus `keep` as text
    /// exactly as written, each typed as in training (never re-inferred from the rows at
    /// hand), with the run's delimiter (unless `delimiter` is given), missing-value strings
    /// and thousands separator.
    pub fn read_options(
        &self,
        delimiter: Option<Delimiter>,
        columns: Columns,
        keep: &[String],
    ) -> CsvOptions {
        let run = &self.config.data;
        let mut kinds = self.preprocessor.column_kinds();
        if columns == Columns::Features {
            kinds.retain(|(name, _)| name != self.preprocessor.target_name());
        }
        for name in keep {
            if !kinds.iter().any(|(n, _)| n == name) {
                kinds.push((name.clone(), ColumnKind::Text));
            }
        }
        CsvOptions {
            delimiter: delimiter.or(run.delimiter).map(|d| d.0),
            missing: Missing::Drop,
            na_values: NaValues::with_extra(&run.na_values),
            thousands: run.thousands,
            kinds,
            skip_unlisted: true,
        }
    }

    /// A reader of `data` (a file, `-` for standard input, or a built-in data set) for this
    /// model, by [`SavedModel::read_options`]; missing cells are kept. Every column read is
    /// checked against the header here, before any row is read.
    ///
    /// # Errors
    ///
    /// The data cannot be opened, or lacks a column the model reads
    /// ([`DataError::NoSuchColumn`], naming it and the file's columns).
    pub fn reader(
        &self,
        data: &str,
        delimiter: Option<Delimiter>,
        columns: Columns,
        keep: &[String],
    ) -> Result<TableReader<Box<dyn Read>>> {
        let options = self.read_options(delimiter, columns, keep);
        let reader = resolve_data(data)?.reader(&options)?;
        if let Some((column, _)) = options
            .kinds
            .iter()
            .find(|(name, _)| !reader.columns().contains(name))
        {
            return Err(DataError::NoSuchColumn {
                source_name: data.to_owned(),
                column: column.clone(),
                available: reader.columns().to_vec(),
            }
            .into());
        }
        Ok(reader)
    }

    /// Writes a copy of this model file to `path` (atomically) with `network` in place of its
    /// network and `key` set to `value` in its metadata.
    pub fn save_copy(&self, path: &Path, network: &Mlp, key: &str, value: Value) -> Result<()> {
        self.save_copy_with(path, network, vec![(key, value)])
    }

    /// [`SavedModel::save_copy`] with several metadata entries set.
    pub fn save_copy_with(
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

/// Which of a model's columns are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// The features only (predict, explain, inspect): the target, if present, is not read.
    Features,
    /// The features and the target (eval).
    WithTarget,
}

/// The metadata key of a stored decision threshold.
pub const THRESHOLD_KEY: &str = "decision_threshold";

/// The metadata key of a fitted temperature (`nerve calibrate`).
pub const TEMPERATURE_KEY: &str = "temperature_scaling";
