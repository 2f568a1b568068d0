//! [`RunConfig`]: the TOML file behind `nerve train` (`[data]`, `[model]`, `[spiking]`,
//! `[loss]`, `[optimizer]`, `[schedule]`, `[training]`), with flags layered on top by the CLI.

mod class_weight;
mod data;
mod training;

pub use class_weight::{Balanced, ClassWeight, LossSection};
pub use data::{DataSection, Delimiter};
pub use training::{EarlyStopping, TrainingSection};

use std::path::Path;

use nerve_backend::BackendKind;
use nerve_data::Task;
use nerve_loss::Loss;
use nerve_model::{MlpConfig, SpikingConfig};
use nerve_train::{OptimizerConfig, ScheduleConfig, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::{Result, RunError};

/// Everything a training run needs. Saved, fully resolved, as `config.toml` in the run folder,
/// so `nerve train --config that/config.toml` repeats the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The CPU backend.
    #[serde(default)]
    pub backend: BackendKind,
    /// Where the rows come from.
    pub data: DataSection,
    /// The architecture. Its input and output widths are the data's: undecided (0, left out of
    /// the text) here, set by [`RunConfig::architecture`].
    #[serde(default)]
    pub model: MlpConfig,
    /// A spiking network's neurons, time steps and coding (`[spiking]`); its presence makes the
    /// network spiking (`--network spiking`), its absence a rate network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiking: Option<SpikingConfig>,
    /// The loss.
    #[serde(default)]
    pub loss: LossSection,
    /// The optimizer and its learning rate.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// How the learning rate changes from epoch to epoch.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// The epoch loop: epochs, batches, stopping rules, seed.
    #[serde(default)]
    pub training: TrainingSection,
}

impl RunConfig {
    /// The defaults for training on `path` (a CSV file or a built-in data set's name): those of
    /// scikit-learn's MLP (one hidden layer of 100 ReLU units, Adam at 1e-3, batches of
    /// min(200, rows), 200 epochs), the loss chosen by the task.
    pub fn for_data(path: &str) -> RunConfig {
        RunConfig {
            backend: BackendKind::default(),
            data: DataSection::new(path),
            model: MlpConfig::default(),
            spiking: None,
            loss: LossSection::default(),
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            training: TrainingSection::default(),
        }
    }

    /// Parses a run config; `origin` names it in errors. Relative data paths are resolved
    /// against `base_dir` (the config file's folder) when such a file exists there.
    pub fn parse(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<RunConfig> {
        let mut config: RunConfig = toml::from_str(text).map_err(|source| RunError::Config {
            origin: origin.to_owned(),
            source,
        })?;
        if let Some(base) = base_dir {
            let relative = base.join(&config.data.path);
            if Path::new(&config.data.path).is_relative() && relative.is_file() {
                config.data.path = relative.display().to_string();
            }
        }
        Ok(config)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<RunConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| RunError::Read {
            what: "config",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), path.parent())
    }

    /// Checks what serde cannot: sizes and ranges.
    pub fn validate(&self) -> Result<()> {
        for (name, width) in [
            ("d_input", self.model.d_input),
            ("d_output", self.model.d_output),
        ] {
            if width != 0 {
                return Err(RunError::setting(format!(
                    "invalid [model]: `{name}` is decided by the data; remove it"
                )));
            }
        }
        if self.model.spiking.is_some() {
            return Err(RunError::setting(
                "invalid [model]: spiking settings go in a [spiking] table of their own",
            ));
        }
        if let Some(problem) = self.spiking.as_ref().and_then(SpikingConfig::problem) {
            return Err(RunError::setting(format!("invalid [spiking]: {problem}")));
        }
        self.architecture(1, 1)
            .validate()
            .map_err(|source| RunError::InvalidModel { source })?;
        self.train_config().validate()?;
        for (name, value) in [
            ("test_split", self.data.test_split),
            ("val_split", self.data.val_split),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(RunError::setting(format!(
                    "invalid [data]: `{name}` must be a fraction in [0, 1), got {value}"
                )));
            }
        }
        if self.data.test_split + self.data.val_split >= 1.0 {
            return Err(RunError::setting(
                "invalid [data]: `test_split` + `val_split` must leave rows for training",
            ));
        }
        Ok(())
    }

    /// Settles the loss once the task is known ([`nerve_train::default_loss`]); a loss chosen
    /// explicitly must suit the task ([`nerve_train::check_loss`]).
    pub fn settle_loss(&mut self, task: Task, source: &str, target: &str) -> Result<()> {
        let loss = *self
            .loss
            .name
            .get_or_insert(nerve_train::default_loss(task));
        nerve_train::check_loss(loss, task).map_err(|message| {
            RunError::DataMismatch(format!("{source}, target column `{target}`: {message}"))
        })?;
        // Spike counts are whole numbers from 0 to T: only cross-entropy reads them as logits
        // (softmax needs no sign); a value or a single bce logit can never go below zero.
        if let Some(spiking) = &self.spiking
            && spiking.readout == nerve_model::spiking::Readout::SpikeCount
            && loss != Loss::CrossEntropy
        {
            return Err(RunError::setting(format!(
                "--readout spike-count gives counts from 0 to T, which only the cross-entropy loss reads as scores (the {loss} loss would need values below zero); use --readout mean-membrane"
            )));
        }
        Ok(())
    }

    /// The full architecture for data with `d_input` features and `d_output` outputs.
    pub fn architecture(&self, d_input: usize, d_output: usize) -> MlpConfig {
        self.model
            .clone()
            .with_widths(d_input, d_output)
            .with_spiking(self.spiking.clone())
    }

    /// The loss: the configured one, else MSE until [`RunConfig::settle_loss`] chooses.
    pub fn loss(&self) -> Loss {
        self.loss.name.unwrap_or(Loss::Mse)
    }

    /// Whether the training loss is weighted (row weights or class weights), so that the
    /// epoch losses differ from the final, unweighted ones.
    pub fn weighted(&self) -> bool {
        self.data.weight_column.is_some() || self.loss.class_weight.is_some()
    }

    /// Applies `[training] early_stopping` for a table of `rows` rows: where it is on, a
    /// `val_split` or `patience` left at 0 takes [`EarlyStopping`]'s value. Applying it twice
    /// changes nothing, so a saved config repeats its run (and a resumed run its settings).
    pub fn settle_early_stopping(&mut self, rows: usize) {
        let training_rows = rows as f64 * (1.0 - self.data.test_split);
        let on = match self.training.early_stopping {
            EarlyStopping::Off => false,
            EarlyStopping::On => true,
            EarlyStopping::Auto => training_rows >= EarlyStopping::AUTO_MIN_ROWS as f64,
        };
        if on {
            if self.data.val_split == 0.0 {
                self.data.val_split = EarlyStopping::VALIDATION_SHARE;
            }
            if self.training.patience == 0 {
                self.training.patience = EarlyStopping::PATIENCE;
            }
        }
    }

    /// The trainer's settings.
    pub fn train_config(&self) -> TrainConfig {
        let t = &self.training;
        TrainConfig {
            num_epochs: t.num_epochs,
            batch_size: t.batch_size,
            loss: self.loss(),
            optimizer: self.optimizer.clone(),
            schedule: self.schedule.clone(),
            tol: t.tol,
            patience: t.patience,
            min_delta: t.min_delta,
            monitor: t.monitor,
            clip_grad_norm: t.clip_grad_norm,
            seed: t.seed,
            shuffle: true,
            class_weights: None,
        }
    }

    /// The config with every default spelled out, as a run records it.
    pub fn resolved(&self) -> RunConfig {
        RunConfig {
            optimizer: self.optimizer.resolved(),
            // The surrogate's slope written out, so the saved config says what was used.
            spiking: self.spiking.clone().map(|s| SpikingConfig {
                slope: Some(s.slope()),
                ..s
            }),
            ..self.clone()
        }
    }

    /// The config as TOML text, as saved next to a run's results.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|err| RunError::Serialize {
            what: "the run config as TOML",
            message: err.to_string(),
        })
    }

    /// The SHA-256 (hexadecimal) of the config less what `--resume` may change (the epoch limit
    /// and the checkpoint interval): a checkpoint records it, and `--resume` refuses one written
    /// under another config.
    pub fn checkpoint_hash(&self) -> Result<String> {
        use sha2::Digest as _;
        let fixed = self.without_resume_settings();
        Ok(format!(
            "{:x}",
            sha2::Sha256::digest(fixed.to_toml()?.as_bytes())
        ))
    }

    /// The config with the settings `--resume` may change set to zero: two configs of one run
    /// agree on it. Those are the checkpoint interval and the epoch limit, unless the schedule
    /// is laid out over the limit ([`RunConfig::schedule_spans_epochs`]).
    pub fn without_resume_settings(&self) -> RunConfig {
        let mut fixed = self.clone();
        if !self.schedule_spans_epochs() {
            fixed.training.num_epochs = 0;
        }
        fixed.training.checkpoint_every = 0;
        fixed
    }

    /// Whether the learning-rate schedule is laid out over the epoch limit (cosine and linear
    /// decay to `min_lr` at the last epoch), so that another limit is another schedule.
    pub fn schedule_spans_epochs(&self) -> bool {
        matches!(
            self.schedule.name,
            nerve_train::ScheduleKind::Cosine | nerve_train::ScheduleKind::Linear
        )
    }
}

/// The value of `--hidden`. A newtype, because clap takes a bare `Vec` for a repeated flag.
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenWidths(pub Vec<usize>);

impl Serialize for HiddenWidths {
    /// As `[model] d_hidden` holds them.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl std::str::FromStr for HiddenWidths {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_hidden(text).map(HiddenWidths)
    }
}

/// Parses `--hidden`: comma-separated widths (`5`, `64,32`), or `none` for no hidden layer.
fn parse_hidden(text: &str) -> Result<Vec<usize>, String> {
    let text = text.trim();
    if text.is_empty() {
        // An empty value is more often a shell variable left unset than a wish for a linear
        // model: that one is spelled out.
        return Err(
            "no layer widths given; expected e.g. 64,32, or `none` for no hidden layer".into(),
        );
    }
    if text.eq_ignore_ascii_case("none") {
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

#[cfg(test)]
mod tests {
    /// The error with its sources, as the CLI prints it (`{:#}` of anyhow).
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(inner) = source {
            text.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        text
    }

    use super::*;

    #[test]
    fn the_tutorial_config_parses() {
        let config = RunConfig::parse(crate::builtin::XOR_CONFIG, "xor.toml", None).expect("valid");
        assert_eq!(config.model.d_hidden, vec![5]);
        assert_eq!(config.training.num_epochs, 1000);
        assert_eq!(config.optimizer.learning_rate, 0.1);
        config.validate().expect("valid ranges");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_place() {
        let err = RunConfig::parse(
            "[data]\npath = \"xor\"\n[training]\nepochs = 3\n",
            "x.toml",
            None,
        )
        .unwrap_err();
        let message = chain(&err);
        assert!(message.contains("x.toml"), "{message}");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("unknown field `epochs`"), "{message}");
        assert!(
            message.contains("expected one of `num_epochs`"),
            "{message}"
        );
        let err = RunConfig::parse(
            "backend = \"gpu\"\n[data]\npath = \"xor\"\n",
            "x.toml",
            None,
        )
        .unwrap_err();
        assert!(chain(&err).contains("available backends"), "{err:?}");
    }

    #[test]
    fn the_model_table_is_an_mlp_config_whose_widths_are_the_data_s() {
        // A partial [model] table takes the library's defaults for the rest.
        let config = RunConfig::parse(
            "[data]\npath = \"xor\"\n[model]\nactivation = \"tanh\"\n",
            "m.toml",
            None,
        )
        .expect("valid");
        assert_eq!(config.model.d_hidden, vec![100]);
        assert_eq!(config.architecture(4, 3).d_input, 4);
        let text = config.to_toml().expect("serialisable");
        assert!(
            !text.contains("d_input") && !text.contains("d_output"),
            "{text}"
        );
        // Widths are the data's: a file that sets one is refused by name (another instance:
        // d_output), and an unknown key still is.
        for key in ["d_input", "d_output"] {
            let config = RunConfig::parse(
                &format!("[data]\npath = \"xor\"\n[model]\n{key} = 3\n"),
                "m.toml",
                None,
            )
            .expect("parses");
            let err = chain(&config.validate().unwrap_err());
            assert!(
                err.contains(&format!("`{key}` is decided by the data")),
                "{err}"
            );
        }
        let err = RunConfig::parse(
            "[data]\npath = \"xor\"\n[model]\nhidden = [3]\n",
            "m.toml",
            None,
        )
        .unwrap_err();
        assert!(chain(&err).contains("unknown field `hidden`"), "{err:?}");
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
        assert!(
            parse_hidden("")
                .unwrap_err()
                .contains("`none` for no hidden layer")
        );
        assert!(parse_hidden("  ").is_err());
        assert!(parse_hidden("64,x").is_err());
        assert!(parse_hidden("0").is_err());
        assert_eq!("tab".parse::<Delimiter>(), Ok(Delimiter(b'\t')));
        assert_eq!(";".parse::<Delimiter>(), Ok(Delimiter(b';')));
        assert!("::".parse::<Delimiter>().is_err());
        let config = RunConfig::parse("[data]\npath = \"x.tsv\"\ndelimiter = \"\\t\"\n", "t", None)
            .expect("valid");
        assert_eq!(config.data.delimiter, Some(Delimiter(b'\t')));
    }
}
