//! [`RunError`]: every way a run can fail, by kind, so a caller can tell a setting to change
//! from a file to fix from a training that went wrong (the CLI's exit codes, the server's HTTP
//! status is chosen from the kind, as a Python binding's exception classes would be).
//!
//! Each message is one line; its cause, where it has one (toml's error with the line and key,
//! the operating system's, serde's), is the error's `source()`, as the standard library's
//! errors keep it: print the chain (anyhow's `{:#}` does) to see it all.

use std::path::PathBuf;

use crate::NonFiniteOutput;

/// Why a run, a model file or a prediction failed. Each message names what is wrong — the
/// setting, the file and line, the column — and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A setting's value, or a combination of settings, that no run can use (the message
    /// names the setting as its flag or config key).
    #[error("{0}")]
    Setting(String),
    /// A config file that is not valid TOML or not a run config.
    #[error("invalid config {origin}")]
    Config {
        /// The file, or what the text came from.
        origin: String,
        /// toml's error, with the line and key.
        source: toml::de::Error,
    },
    /// Values laid over a config that it does not take (an unknown key, a value of the wrong
    /// type).
    #[error("invalid settings")]
    Settings {
        /// serde's reason, naming the field and what it expects.
        source: serde_json::Error,
    },
    /// A file that could not be read.
    #[error("cannot read {what} {}", path.display())]
    Read {
        /// What the file was meant to be (`config`, `model file`).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A data path that is neither a file nor a built-in data set.
    #[error("{0}")]
    DataPath(String),
    /// The data could not be read or prepared (the error names the file, line and column).
    #[error(transparent)]
    Data(#[from] nerve_data::DataError),
    /// The data does not fit what the run or the model needs: the target, the task, the
    /// classes (the message names the file and the column).
    #[error("{0}")]
    DataMismatch(String),
    /// A JSON file that is not what nerve writes there.
    #[error("{path} is not {what}")]
    NotNerveFile {
        /// The file.
        path: String,
        /// What it should have been.
        what: &'static str,
        /// serde_json's error, with the line and column.
        source: serde_json::Error,
    },
    /// A model file that is not one nerve wrote, or whose parts disagree.
    #[error("{source_name}: {message}")]
    ModelFile {
        /// The file.
        source_name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `[model]` table that describes no network.
    #[error("invalid [model]")]
    InvalidModel {
        /// What is wrong, by field.
        source: nerve_model::ModelError,
    },
    /// The rows cannot be dealt into cross-validation folds (fewer rows than folds).
    #[error("{source_name}: cannot fold its {rows} training rows")]
    Folds {
        /// The data's name.
        source_name: String,
        /// The rows to fold.
        rows: usize,
        /// nerve-data's reason.
        source: Box<nerve_data::DataError>,
    },
    /// A network that cannot be built, read or written.
    #[error(transparent)]
    Model(#[from] nerve_model::ModelError),
    /// The trainer refused or failed (a divergence among them, carrying the last good epoch's
    /// outcome: boxed, as it holds a network).
    #[error(transparent)]
    Train(Box<nerve_train::TrainError>),
    /// The scores of a part could not be computed.
    #[error(transparent)]
    Report(#[from] nerve_train::ReportError),
    /// The backend is not available in this build.
    #[error(transparent)]
    Backend(#[from] nerve_backend::BackendError),
    /// A row the network answers with NaN or an infinity.
    #[error(transparent)]
    NonFinite(#[from] NonFiniteOutput),
    /// The observer asked training to stop (Ctrl-C) before it finished.
    #[error("interrupted")]
    Interrupted,
    /// A value could not be written as JSON or TOML (a programming error, surfaced rather than
    /// hidden).
    #[error("cannot write {what}: {message}")]
    Serialize {
        /// What was written.
        what: &'static str,
        /// The serializer's message.
        message: String,
    },
}

impl From<nerve_train::TrainError> for RunError {
    fn from(err: nerve_train::TrainError) -> RunError {
        RunError::Train(Box::new(err))
    }
}

impl RunError {
    /// A [`RunError::Setting`] with `message`.
    pub(crate) fn setting(message: impl Into<String>) -> RunError {
        RunError::Setting(message.into())
    }
}

/// The result of nerve-run's fallible functions.
pub type Result<T, E = RunError> = std::result::Result<T, E>;
