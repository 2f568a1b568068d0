//! [`RunConfig`]: the TOML file behind `nerve train`, with flags layered on top.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nerve_backend::BackendKind;
use nerve_data::Missing;
use nerve_model::{Activation, Initializer, MlpConfig};
use nerve_train::TrainConfig;
use serde::{Deserialize, Serialize};

/// Everything a training run needs. Saved, fully resolved, as `config.toml` in the run folder,
/// so `nerve train --config that/config.toml` repeats the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunConfig {
    /// The CPU backend.
    #[serde(default)]
    pub backend: BackendKind,
    /// Where the rows come from.
    pub data: DataSection,
    /// The architecture, less the input and output widths, which the data decides.
    #[serde(default)]
    pub model: ModelSection,
    /// Training settings.
    #[serde(default)]
    pub train: TrainConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataSection {
    /// A CSV file, or the name of a built-in data set.
    pub path: String,
    /// The target column; the last column when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The CSV field delimiter (one ASCII character, e.g. "," ";" "\t"); detected when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// Rows with missing values: `drop` them (and say how many) or stop with an `error`.
    #[serde(default)]
    pub missing: Missing,
}

/// A CSV field delimiter: one ASCII character. On the command line `tab`, `comma` and
/// `semicolon` are accepted too, since a literal tab is awkward to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Delimiter(pub u8);

impl std::str::FromStr for Delimiter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "tab" | "\\t" | "\t" => Ok(Delimiter(b'\t')),
            "comma" => Ok(Delimiter(b',')),
            "semicolon" => Ok(Delimiter(b';')),
            _ if text.len() == 1 && text.is_ascii() && text != "\"" => {
                Ok(Delimiter(text.as_bytes()[0]))
            }
            _ => Err(format!(
                "`{text}` is not a delimiter; expected one ASCII character such as , or ; or the word tab"
            )),
        }
    }
}

impl TryFrom<String> for Delimiter {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Delimiter> for String {
    fn from(delimiter: Delimiter) -> Self {
        char::from(delimiter.0).to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ModelSection {
    pub d_hidden: Vec<usize>,
    pub activation: Activation,
    pub dropout: f64,
    pub initializer: Initializer,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            d_hidden: vec![100],
            activation: Activation::Relu,
            dropout: 0.0,
            initializer: Initializer::default(),
        }
    }
}

impl ModelSection {
    /// The full architecture for data with `d_input` features and `d_output` outputs.
    pub(crate) fn mlp(&self, d_input: usize, d_output: usize) -> MlpConfig {
        MlpConfig::new(d_input, self.d_hidden.clone(), d_output)
            .with_activation(self.activation)
            .with_dropout(self.dropout)
            .with_initializer(self.initializer)
    }
}

impl RunConfig {
    /// Parses a run config; `origin` names it in errors. Relative data paths are resolved
    /// against `base_dir` (the config file's folder) when such a file exists there.
    pub(crate) fn parse(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<RunConfig> {
        let mut config: RunConfig =
            toml::from_str(text).with_context(|| format!("invalid config {origin}"))?;
        if let Some(base) = base_dir {
            let relative = base.join(&config.data.path);
            if Path::new(&config.data.path).is_relative() && relative.is_file() {
                config.data.path = relative.display().to_string();
            }
        }
        Ok(config)
    }

    /// Reads and parses a config file.
    pub(crate) fn load(path: &Path) -> Result<RunConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text, &path.display().to_string(), path.parent())
    }

    /// Checks what serde cannot: sizes and ranges.
    pub(crate) fn validate(&self) -> Result<()> {
        self.model.mlp(1, 1).validate().context("invalid [model]")?;
        self.train.validate()?;
        Ok(())
    }

    /// The config as TOML text, as saved next to a run's results.
    pub(crate) fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

/// Where a data path points.
pub(crate) enum DataSource {
    /// A CSV file on disk.
    File(PathBuf),
    /// A data set embedded in the binary.
    Builtin(&'static str),
}

/// Resolves a data path: an existing file wins; otherwise a built-in data set of that name.
pub(crate) fn resolve_data(path: &str) -> Result<DataSource> {
    let file = Path::new(path);
    if file.is_file() {
        return Ok(DataSource::File(file.to_path_buf()));
    }
    if let Some(text) = crate::builtin::dataset(path) {
        return Ok(DataSource::Builtin(text));
    }
    if file.exists() {
        bail!("data path {path} is not a file");
    }
    bail!(
        "no such file {path}, and no built-in data set of that name (built-in: {})",
        crate::builtin::dataset_names().join(", ")
    )
}

/// The value of `--hidden`. A newtype, because clap takes a bare `Vec` for a repeated flag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HiddenWidths(pub Vec<usize>);

/// The value of `--batch-size`: `None` is full-batch. A newtype, because clap takes a bare
/// `Option` for an optional flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BatchSize(pub Option<usize>);

impl std::str::FromStr for HiddenWidths {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_hidden(text).map(HiddenWidths)
    }
}

impl std::str::FromStr for BatchSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_batch_size(text).map(BatchSize)
    }
}

/// Parses `--hidden`: comma-separated widths (`5`, `64,32`), or `none` for no hidden layer.
fn parse_hidden(text: &str) -> Result<Vec<usize>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(format!(
                "`{part}` is not a layer width; expected positive integers separated by commas, e.g. 64,32"
            )),
            Ok(width) => Ok(width),
        })
        .collect()
}

/// Parses `--batch-size`: a positive integer, or `full` for full-batch training.
fn parse_batch_size(text: &str) -> Result<Option<usize>, String> {
    if text.trim().eq_ignore_ascii_case("full") {
        return Ok(None);
    }
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(format!(
            "`{text}` is not a batch size; expected a positive integer or `full`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_config_parses() {
        let config = RunConfig::parse(crate::builtin::XOR_CONFIG, "xor.toml", None).expect("valid");
        assert_eq!(config.model.d_hidden, vec![5]);
        assert_eq!(config.train.num_epochs, 1000);
        assert_eq!(config.train.learning_rate, 0.1);
        config.validate().expect("valid ranges");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_place() {
        let err = RunConfig::parse(
            "[data]\npath = \"xor\"\n[train]\nepochs = 3\n",
            "x.toml",
            None,
        )
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("x.toml"), "{message}");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("unknown field `epochs`"), "{message}");
        let err = RunConfig::parse(
            "backend = \"gpu\"\n[data]\npath = \"xor\"\n",
            "x.toml",
            None,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("available backends"), "{err:#}");
    }

    #[test]
    fn saved_config_round_trips() {
        let config = RunConfig::parse(crate::builtin::XOR_CONFIG, "xor.toml", None).expect("valid");
        let text = config.to_toml().expect("serialisable");
        assert_eq!(
            RunConfig::parse(&text, "saved", None).expect("valid"),
            config
        );
    }

    #[test]
    fn flag_parsers() {
        assert_eq!(parse_hidden("64, 32"), Ok(vec![64, 32]));
        assert_eq!(parse_hidden("none"), Ok(vec![]));
        assert!(parse_hidden("64,x").is_err());
        assert!(parse_hidden("0").is_err());
        assert_eq!(parse_batch_size("full"), Ok(None));
        assert_eq!(parse_batch_size("32"), Ok(Some(32)));
        assert!(parse_batch_size("0").is_err());
        assert_eq!("tab".parse::<Delimiter>(), Ok(Delimiter(b'\t')));
        assert_eq!(";".parse::<Delimiter>(), Ok(Delimiter(b';')));
        assert!("::".parse::<Delimiter>().is_err());
        let config = RunConfig::parse("[data]\npath = \"x.tsv\"\ndelimiter = \"\\t\"\n", "t", None)
            .expect("valid");
        assert_eq!(config.data.delimiter, Some(Delimiter(b'\t')));
    }
}
