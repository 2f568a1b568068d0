//! [`RunConfig`]: the TOML file behind `nerve train`, with flags layered on top.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nerve_backend::BackendKind;
use nerve_data::{
    CsvOptions, Missing, NaValues, PrepareOptions, SplitOptions, Standardize, TableReader, Task,
};
use nerve_loss::Loss;
use nerve_model::{MlpConfig, SpikingConfig};
use nerve_train::{BatchSize, Monitor, OptimizerConfig, ScheduleConfig, TrainConfig};
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

/// The `[loss]` table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LossSection {
    /// The loss; chosen by the task when omitted (cross-entropy for classes, MSE for values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Loss>,
    /// Class weights for the classification losses: `"balanced"` or a table of class name to
    /// weight (classes not named weigh 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeight>,
}

/// `--class-weight`: scikit-learn's `class_weight`, `balanced` or explicit weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "ClassWeightText")]
pub(crate) enum ClassWeight {
    /// `n_samples / (n_classes · bincount(y))` over the training rows (scikit-learn's
    /// `compute_class_weight("balanced")`): each class weighs as much as the others in total.
    Balanced(Balanced),
    /// A weight per class name; classes not named weigh 1.
    Explicit(std::collections::BTreeMap<String, f64>),
}

/// The one named class weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Balanced {
    Balanced,
}

/// How `class_weight` is written in a config: a string (`"balanced"`, `"No=1,Yes=4"`) or a
/// table of class name to weight. Read through this so a typo gets [`ClassWeight`]'s message
/// rather than serde's "did not match any variant".
#[derive(Deserialize)]
#[serde(untagged)]
enum ClassWeightText {
    Text(String),
    Table(std::collections::BTreeMap<String, f64>),
}

impl TryFrom<ClassWeightText> for ClassWeight {
    type Error = String;

    fn try_from(text: ClassWeightText) -> Result<Self, Self::Error> {
        match text {
            ClassWeightText::Text(text) => text.parse(),
            ClassWeightText::Table(table) => Ok(ClassWeight::Explicit(table)),
        }
    }
}

impl std::str::FromStr for ClassWeight {
    type Err = String;

    /// `balanced`, or `NAME=WEIGHT,NAME=WEIGHT` (a name may hold `=`: the last one splits).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("balanced") {
            return Ok(ClassWeight::Balanced(Balanced::Balanced));
        }
        let mut weights = std::collections::BTreeMap::new();
        for pair in text.split(',') {
            let Some((name, weight)) = pair.rsplit_once('=') else {
                return Err(format!(
                    "`{pair}` is not CLASS=WEIGHT; expected `balanced` or e.g. `No=1,Yes=4`"
                ));
            };
            let weight: f64 = weight
                .trim()
                .parse()
                .map_err(|_| format!("the weight of class `{name}` is `{weight}`, not a number"))?;
            weights.insert(name.trim().to_owned(), weight);
        }
        Ok(ClassWeight::Explicit(weights))
    }
}

impl std::fmt::Display for ClassWeight {
    /// As `--class-weight` takes it: `balanced` or `No=1,Yes=4`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassWeight::Balanced(_) => f.write_str("balanced"),
            ClassWeight::Explicit(weights) => {
                let pairs: Vec<String> = weights.iter().map(|(k, w)| format!("{k}={w}")).collect();
                f.write_str(&pairs.join(","))
            }
        }
    }
}

impl ClassWeight {
    /// One weight per class id for `labels`, from the training rows' class ids `train`.
    ///
    /// # Errors
    ///
    /// A class with no training rows (balanced), a name that is not a class, or a weight that
    /// is not a positive number; each named.
    pub(crate) fn resolve(&self, labels: &[String], train: &[f32]) -> Result<Vec<f64>> {
        match self {
            ClassWeight::Balanced(_) => {
                let mut counts = vec![0usize; labels.len()];
                for &t in train {
                    if let Some(count) = counts.get_mut(t as usize) {
                        *count += 1;
                    }
                }
                let n = train.len() as f64;
                let c = labels.len() as f64;
                counts
                    .iter()
                    .zip(labels)
                    .map(|(&count, label)| {
                        if count == 0 {
                            bail!(
                                "--class-weight balanced: class `{label}` has no training rows, so its weight n / (classes · 0) is undefined; give explicit weights or more rows of it"
                            );
                        }
                        Ok(n / (c * count as f64))
                    })
                    .collect()
            }
            ClassWeight::Explicit(named) => {
                let mut weights = vec![1.0; labels.len()];
                for (name, &weight) in named {
                    let Some(k) = labels.iter().position(|l| l == name) else {
                        bail!(
                            "--class-weight: `{name}` is not a class; the classes are {}",
                            labels
                                .iter()
                                .map(|l| format!("`{l}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    };
                    if !(weight.is_finite() && weight > 0.0) {
                        bail!(
                            "--class-weight: the weight of class `{name}` must be a positive number, got {weight}"
                        );
                    }
                    weights[k] = weight;
                }
                Ok(weights)
            }
        }
    }
}

/// The `[training]` table: [`TrainConfig`]'s epoch-loop settings (its defaults), plus the
/// checkpoint interval. Not a `TrainConfig` itself: the file keeps `[loss]`, `[optimizer]` and
/// `[schedule]` as tables of their own (those two are the library's configs, embedded), and
/// serde's `flatten`, which could merge the rest, turns off `deny_unknown_fields`.
/// [`RunConfig::train_config`] puts the pieces together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TrainingSection {
    /// The epoch limit.
    pub num_epochs: usize,
    /// Rows per step: a number, "auto" (min(200, rows)) or "full".
    pub batch_size: BatchSize,
    /// Seeds initialisation and shuffling.
    pub seed: u64,
    /// Stop once the gradient's global L2 norm falls below this (0: never).
    pub tol: f64,
    /// Early stopping: epochs without improvement of the validation loss (0: off).
    pub patience: usize,
    /// Early stopping: the improvement that counts, in the monitored quantity's units.
    pub min_delta: f64,
    /// What early stopping, the kept epoch and reduce-on-plateau watch: val_loss (the
    /// training loss without validation rows), val_accuracy, val_f1, val_auc, val_r2 or
    /// train_loss.
    #[serde(default)]
    pub monitor: Monitor,
    /// Scale the gradient down to this global L2 norm when it is larger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Write a checkpoint (for `--resume`) every this many epochs; 0: never.
    pub checkpoint_every: usize,
    /// `auto`: hold out validation rows and stop early (see [`EarlyStopping`]) once the
    /// training part is large enough; `on`: always; `off`: only as `val_split` and `patience`
    /// say.
    #[serde(default)]
    pub early_stopping: EarlyStopping,
}

/// Whether a run holds out a validation share and stops once it stops improving, restoring
/// the best epoch's weights (HistGradientBoosting's `early_stopping="auto"`: on from 10,000
/// rows, with `validation_fraction=0.1` and `n_iter_no_change=10`). Where it is on and the
/// config leaves them at 0, `val_split` becomes [`EarlyStopping::VALIDATION_SHARE`] and
/// `patience` [`EarlyStopping::PATIENCE`]; the saved config records the values used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EarlyStopping {
    /// On when the training part has at least [`EarlyStopping::AUTO_MIN_ROWS`] rows.
    #[default]
    Auto,
    /// Always on.
    On,
    /// Never added: `val_split` and `patience` as configured.
    Off,
}

nerve_choice::named_choice!(EarlyStopping, "early-stopping mode");

impl EarlyStopping {
    /// Every mode, in the order listed in help texts.
    pub(crate) const ALL: [EarlyStopping; 3] =
        [EarlyStopping::Auto, EarlyStopping::On, EarlyStopping::Off];
    /// The share of rows held out for validation when early stopping is added.
    pub(crate) const VALIDATION_SHARE: f64 = 0.1;
    /// Epochs without improvement before stopping, when early stopping is added.
    pub(crate) const PATIENCE: usize = 10;
    /// `auto` turns early stopping on from this many training rows (the rows not held out
    /// for the test); chosen by `just bench-quality` (BENCHMARKS.md).
    pub(crate) const AUTO_MIN_ROWS: usize = 1000;

    /// The mode's name, as configs and flags write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EarlyStopping::Auto => "auto",
            EarlyStopping::On => "on",
            EarlyStopping::Off => "off",
        }
    }
}

impl Default for TrainingSection {
    fn default() -> Self {
        let defaults = TrainConfig::default();
        Self {
            num_epochs: defaults.num_epochs,
            batch_size: defaults.batch_size,
            seed: defaults.seed,
            tol: defaults.tol,
            patience: defaults.patience,
            min_delta: defaults.min_delta,
            monitor: defaults.monitor,
            clip_grad_norm: defaults.clip_grad_norm,
            checkpoint_every: 1,
            early_stopping: EarlyStopping::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataSection {
    /// A CSV file, or the name of a built-in data set.
    pub path: String,
    /// The target column; the last column when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `classification` or `regression`; inferred from the target when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Columns to leave out (identifiers, free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// A column of row weights (sample weights: how much each row counts in the loss), not a
    /// feature; every cell a finite number, 0 or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// The CSV field delimiter (one ASCII character, e.g. "," ";" "\t"); detected when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// Missing values: `drop` the rows (and say how many), `impute` features from the
    /// training rows, or stop with an `error`.
    #[serde(default)]
    pub missing: Missing,
    /// More strings that mean a missing value (besides pandas' defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub na_values: Vec<String>,
    /// The thousands separator stripped from numbers; `,` is detected in comma-delimited files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thousands: Option<char>,
    /// Columns used as categories whatever their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical: Vec<String>,
    /// Columns that must be numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric: Vec<String>,
    /// One-hot columns with more categories group the rarest into one `infrequent` input.
    #[serde(default = "default_max_categories")]
    pub max_categories: usize,
    /// Numeric feature scaling: `z-score` or `none`.
    #[serde(default)]
    pub standardize: Standardize,
    /// Whether a regression target is standardized for training (predictions are mapped back).
    #[serde(default = "yes")]
    pub standardize_target: bool,
    /// The share of rows held out for the final test (none under 20 rows).
    #[serde(default = "default_test_split")]
    pub test_split: f64,
    /// The share of rows held out for validation.
    #[serde(default)]
    pub val_split: f64,
    /// Seeds the split, independently of the training seed.
    #[serde(default = "default_split_seed")]
    pub split_seed: u64,
}

fn yes() -> bool {
    true
}

fn default_max_categories() -> usize {
    nerve_data::PreprocessOptions::MAX_CATEGORIES
}

fn default_test_split() -> f64 {
    SplitOptions::default().test
}

fn default_split_seed() -> u64 {
    SplitOptions::default().seed
}

impl DataSection {
    /// The defaults for the data at `path`.
    pub(crate) fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            target: None,
            task: None,
            ignore: Vec::new(),
            weight_column: None,
            delimiter: None,
            missing: Missing::default(),
            na_values: Vec::new(),
            thousands: None,
            categorical: Vec::new(),
            numeric: Vec::new(),
            max_categories: default_max_categories(),
            standardize: Standardize::default(),
            standardize_target: true,
            test_split: default_test_split(),
            val_split: 0.0,
            split_seed: default_split_seed(),
        }
    }

    /// How to read the file: delimiter, missing values, thousands separator, forced types.
    pub(crate) fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter.map(|d| d.0),
            // `--missing error` is applied by `prepare`, after columns are left out (ignored,
            // unnamed and empty, identifiers): a missing cell there is no reason to refuse.
            missing: Missing::Drop,
            na_values: NaValues::with_extra(&self.na_values),
            thousands: self.thousands,
            kinds: self.prepare_options().column_kinds(),
            skip_unlisted: false,
        }
    }

    /// What nerve-data's [`prepare`](nerve_data::prepare) should do.
    pub(crate) fn prepare_options(&self) -> PrepareOptions {
        // Column names from flags are trimmed, as the header's names are.
        let names = |list: &[String]| list.iter().map(|n| n.trim().to_owned()).collect();
        PrepareOptions {
            target: self.target.clone(),
            task: self.task,
            ignore: names(&self.ignore),
            categorical: names(&self.categorical),
            numeric: names(&self.numeric),
            max_categories: self.max_categories,
            missing: self.missing,
            standardize: self.standardize,
            standardize_target: self.standardize_target,
            split: self.split_options(),
            weight_column: self.weight_column.as_ref().map(|n| n.trim().to_owned()),
        }
    }

    /// How the rows are split, as `prepare` and `eval --split` split them.
    pub(crate) fn split_options(&self) -> SplitOptions {
        SplitOptions {
            test: self.test_split,
            validation: self.val_split,
            seed: self.split_seed,
        }
    }
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

impl RunConfig {
    /// The defaults for training on `path` (a CSV file or a built-in data set's name): those of
    /// scikit-learn's MLP (one hidden layer of 100 ReLU units, Adam at 1e-3, batches of
    /// min(200, rows), 200 epochs), the loss chosen by the task.
    pub(crate) fn for_data(path: &str) -> RunConfig {
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
        for (name, width) in [
            ("d_input", self.model.d_input),
            ("d_output", self.model.d_output),
        ] {
            if width != 0 {
                bail!("invalid [model]: `{name}` is decided by the data; remove it");
            }
        }
        if self.model.spiking.is_some() {
            bail!("invalid [model]: spiking settings go in a [spiking] table of their own");
        }
        if let Some(problem) = self.spiking.as_ref().and_then(SpikingConfig::problem) {
            bail!("invalid [spiking]: {problem}");
        }
        self.architecture(1, 1)
            .validate()
            .context("invalid [model]")?;
        self.train_config().validate()?;
        for (name, value) in [
            ("test_split", self.data.test_split),
            ("val_split", self.data.val_split),
        ] {
            if !(0.0..1.0).contains(&value) {
                bail!("invalid [data]: `{name}` must be a fraction in [0, 1), got {value}");
            }
        }
        if self.data.test_split + self.data.val_split >= 1.0 {
            bail!("invalid [data]: `test_split` + `val_split` must leave rows for training");
        }
        Ok(())
    }

    /// Settles the loss once the task is known ([`nerve_train::default_loss`]); a loss chosen
    /// explicitly must suit the task ([`nerve_train::check_loss`]).
    pub(crate) fn settle_loss(&mut self, task: Task, source: &str, target: &str) -> Result<()> {
        let loss = *self
            .loss
            .name
            .get_or_insert(nerve_train::default_loss(task));
        nerve_train::check_loss(loss, task)
            .map_err(|message| anyhow::anyhow!("{source}, target column `{target}`: {message}"))?;
        // Spike counts are whole numbers from 0 to T: only cross-entropy reads them as logits
        // (softmax needs no sign); a value or a single bce logit can never go below zero.
        if let Some(spiking) = &self.spiking
            && spiking.readout == nerve_model::spiking::Readout::SpikeCount
            && loss != Loss::CrossEntropy
        {
            bail!(
                "--readout spike-count gives counts from 0 to T, which only the cross-entropy loss reads as scores (the {loss} loss would need values below zero); use --readout mean-membrane"
            );
        }
        Ok(())
    }

    /// The full architecture for data with `d_input` features and `d_output` outputs.
    pub(crate) fn architecture(&self, d_input: usize, d_output: usize) -> MlpConfig {
        self.model
            .clone()
            .with_widths(d_input, d_output)
            .with_spiking(self.spiking.clone())
    }

    /// The loss: the configured one, else MSE until [`RunConfig::settle_loss`] chooses.
    pub(crate) fn loss(&self) -> Loss {
        self.loss.name.unwrap_or(Loss::Mse)
    }

    /// Whether the training loss is weighted (row weights or class weights), so that the
    /// epoch losses differ from the final, unweighted ones.
    pub(crate) fn weighted(&self) -> bool {
        self.data.weight_column.is_some() || self.loss.class_weight.is_some()
    }

    /// Applies `[training] early_stopping` for a table of `rows` rows: where it is on, a
    /// `val_split` or `patience` left at 0 takes [`EarlyStopping`]'s value. Applying it twice
    /// changes nothing, so a saved config repeats its run (and a resumed run its settings).
    pub(crate) fn settle_early_stopping(&mut self, rows: usize) {
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
    pub(crate) fn train_config(&self) -> TrainConfig {
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
    pub(crate) fn resolved(&self) -> RunConfig {
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
    pub(crate) fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// The SHA-256 (hexadecimal) of the config less what `--resume` may change (the epoch limit
    /// and the checkpoint interval): a checkpoint records it, and `--resume` refuses one written
    /// under another config.
    pub(crate) fn checkpoint_hash(&self) -> Result<String> {
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
    pub(crate) fn without_resume_settings(&self) -> RunConfig {
        let mut fixed = self.clone();
        if !self.schedule_spans_epochs() {
            fixed.training.num_epochs = 0;
        }
        fixed.training.checkpoint_every = 0;
        fixed
    }

    /// Whether the learning-rate schedule is laid out over the epoch limit (cosine and linear
    /// decay to `min_lr` at the last epoch), so that another limit is another schedule.
    pub(crate) fn schedule_spans_epochs(&self) -> bool {
        matches!(
            self.schedule.name,
            nerve_train::ScheduleKind::Cosine | nerve_train::ScheduleKind::Linear
        )
    }
}

/// Where a data path points.
pub(crate) enum DataSource {
    /// A data file on disk: CSV (plain or gzip) or Parquet.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A data set embedded in the binary.
    Builtin(&'static crate::builtin::Builtin),
}

impl DataSource {
    /// A streaming reader of the data's rows (`read_all` for the whole table).
    pub(crate) fn reader(&self, options: &CsvOptions) -> Result<TableReader<Box<dyn Read>>> {
        Ok(match self {
            DataSource::File(path) => TableReader::from_path(path, options)?,
            DataSource::Stdin => TableReader::from_reader("stdin", std::io::stdin(), options)?,
            DataSource::Builtin(builtin) => TableReader::new(
                builtin.name,
                Box::new(builtin.csv.as_bytes()) as Box<dyn Read>,
                options,
            )?,
        })
    }
}

/// Resolves a data path: `-` is standard input; an existing file wins; otherwise a built-in
/// data set of that name.
pub(crate) fn resolve_data(path: &str) -> Result<DataSource> {
    if path == "-" {
        return Ok(DataSource::Stdin);
    }
    let file = Path::new(path);
    if file.is_file() {
        return Ok(DataSource::File(file.to_path_buf()));
    }
    if let Some(builtin) = crate::builtin::dataset(path) {
        return Ok(DataSource::Builtin(builtin));
    }
    if file.is_dir() {
        bail!("data path {path} is a folder; expected a CSV file or a built-in data set's name");
    }
    if file.exists() {
        bail!("data path {path} is not a regular file; expected a CSV file");
    }
    bail!(
        "no such file {path}, and no built-in data set of that name (built-in: {})",
        crate::builtin::dataset_names().join(", ")
    )
}

/// The value of `--hidden`. A newtype, because clap takes a bare `Vec` for a repeated flag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HiddenWidths(pub Vec<usize>);

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

    /// scikit-learn's `compute_class_weight("balanced")`: counts 6/3/1 give n / (C·n_c) =
    /// 10/18, 10/9, 10/3; a class absent from the training rows is an error, not infinity.
    #[test]
    fn balanced_class_weights_are_scikit_learns() {
        let labels: Vec<String> = ["a", "b", "c"].map(str::to_owned).to_vec();
        let train: Vec<f32> = [0.0; 6].into_iter().chain([1.0; 3]).chain([2.0]).collect();
        let balanced: ClassWeight = "balanced".parse().unwrap();
        let weights = balanced.resolve(&labels, &train).unwrap();
        for (w, expected) in weights.iter().zip([10.0 / 18.0, 10.0 / 9.0, 10.0 / 3.0]) {
            assert!((w - expected).abs() < 1e-12, "{weights:?}");
        }
        let err = balanced
            .resolve(&labels, &[0.0, 1.0])
            .unwrap_err()
            .to_string();
        assert!(err.contains("class `c` has no training rows"), "{err}");
        let explicit: ClassWeight = "c=4,a=0.5".parse().unwrap();
        assert_eq!(
            explicit.resolve(&labels, &train).unwrap(),
            vec![0.5, 1.0, 4.0]
        );
        for (text, expected) in [
            ("d=2", "`d` is not a class; the classes are `a`, `b`, `c`"),
            (
                "a=-1",
                "the weight of class `a` must be a positive number, got -1",
            ),
        ] {
            let spec: ClassWeight = text.parse().unwrap();
            let err = spec.resolve(&labels, &train).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        assert!(
            "a:2"
                .parse::<ClassWeight>()
                .unwrap_err()
                .contains("not CLASS=WEIGHT")
        );
        assert!(
            "a=x"
                .parse::<ClassWeight>()
                .unwrap_err()
                .contains("not a number")
        );
        // In a config: a string, a table, and a typo named by the same message.
        let read = |text: &str| toml::from_str::<LossSection>(text);
        assert_eq!(
            read("class_weight = \"balanced\"").unwrap().class_weight,
            Some(ClassWeight::Balanced(Balanced::Balanced))
        );
        assert_eq!(
            read("class_weight = { c = 4.0 }").unwrap().class_weight,
            Some(ClassWeight::Explicit([("c".to_owned(), 4.0)].into()))
        );
        let err = read("class_weight = \"balance\"").unwrap_err().to_string();
        assert!(
            err.contains("expected `balanced` or e.g. `No=1,Yes=4`"),
            "{err}"
        );
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
        let message = format!("{err:#}");
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
        assert!(format!("{err:#}").contains("available backends"), "{err:#}");
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
            let err = format!("{:#}", config.validate().unwrap_err());
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
        assert!(
            format!("{err:#}").contains("unknown field `hidden`"),
            "{err:#}"
        );
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
