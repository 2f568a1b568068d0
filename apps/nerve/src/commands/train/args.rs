//! `nerve train`'s flags, and how they layer over a run config.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{Missing, Standardize, Task};
use nerve_loss::Loss;
use nerve_model::{Activation, Initializer};
use nerve_train::{BatchSize, OptimizerKind, ScheduleKind};

use crate::run_config::{Delimiter, HiddenWidths, RunConfig};
use crate::{choice, value_parser};

/// Flags of `nerve train`. Each overrides the same setting of `--config`; without `--config`,
/// `--data` starts from scikit-learn-like defaults and no flags at all run the tutorial's network.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// A TOML run config (see configs/); default: the tutorial's network, or defaults for --data.
    #[arg(long, value_name = "FILE.toml")]
    pub(super) config: Option<PathBuf>,
    /// Continue an interrupted run from its folder's last checkpoint (its config.toml, its data).
    #[arg(
        long,
        value_name = "RUN_DIR",
        conflicts_with_all = ["config", "out", "overwrite", "init"]
    )]
    pub(super) resume: Option<PathBuf>,
    /// Start from the weights (and the preprocessing) of a model file instead of random ones;
    /// its architecture is used, and the data must fit it.
    #[arg(long, value_name = "MODEL")]
    pub(super) init: Option<PathBuf>,
    /// A CSV file with a header row, or a built-in data set's name (see `nerve datasets`).
    #[arg(long, value_name = "CSV|NAME")]
    pub(super) data: Option<String>,
    /// The target column (default: the last column).
    #[arg(long, value_name = "COLUMN")]
    pub(super) target: Option<String>,
    /// The task (default: inferred from the target).
    #[arg(long, value_name = "TASK", value_parser = choice::<Task>())]
    pub(super) task: Option<Task>,
    /// Columns to leave out, comma-separated (identifiers, free text).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub(super) ignore: Option<Vec<String>>,
    /// The CSV field delimiter: `,`, `;`, `tab`, ... (default: detected from the header line).
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>)]
    pub(super) delimiter: Option<Delimiter>,
    /// Missing values (pandas' spellings: empty, NA, N/A, NaN, null, None, #N/A, ...): `drop`
    /// the rows (default), `impute` features from the training rows, or stop with an `error`.
    #[arg(long, value_name = "POLICY", value_parser = choice::<Missing>())]
    pub(super) missing: Option<Missing>,
    /// More strings that mean a missing value, comma-separated (e.g. `?,-`).
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub(super) na_values: Option<Vec<String>>,
    /// The thousands separator to strip from numbers (`,` is detected in comma-delimited
    /// files; `.` makes `,` the decimal mark).
    #[arg(long, value_name = "CHAR")]
    pub(super) thousands: Option<char>,
    /// Columns to use as categories whatever their values, comma-separated.
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub(super) categorical: Option<Vec<String>>,
    /// Columns that must be numbers, comma-separated (a cell that is not one is an error).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub(super) numeric: Option<Vec<String>>,
    /// One-hot columns with more categories keep the N-1 most frequent and group the rest
    /// into one `infrequent` input (default 50).
    #[arg(long, value_name = "N")]
    pub(super) max_categories: Option<usize>,
    /// Numeric feature scaling (default: z-score).
    #[arg(long, value_name = "SCALING", value_parser = choice::<Standardize>())]
    pub(super) standardize: Option<Standardize>,
    /// The share of rows held out for the final test (default 0.2; none under 20 rows).
    #[arg(long, value_name = "FRACTION")]
    pub(super) test_split: Option<f64>,
    /// The share of rows held out for validation (default 0).
    #[arg(long, value_name = "FRACTION")]
    pub(super) val_split: Option<f64>,
    /// Seed of the train/validation/test split (default 42).
    #[arg(long, value_name = "N")]
    pub(super) split_seed: Option<u64>,
    /// Hidden layer widths, e.g. `5` or `64,32`; `none` for a linear model.
    #[arg(long, value_name = "WIDTHS", value_parser = value_parser::<HiddenWidths>)]
    pub(super) hidden: Option<HiddenWidths>,
    /// Activation after each hidden layer.
    #[arg(long, value_name = "NAME", value_parser = choice::<Activation>())]
    pub(super) activation: Option<Activation>,
    /// Weight initializer (default: pytorch).
    #[arg(long, value_name = "NAME", value_parser = choice::<Initializer>())]
    pub(super) initializer: Option<Initializer>,
    /// Loss (default: cross-entropy for classes, mse for values).
    #[arg(long, value_name = "NAME", value_parser = choice::<Loss>())]
    pub(super) loss: Option<Loss>,
    /// Optimizer.
    #[arg(long, value_name = "NAME", value_parser = choice::<OptimizerKind>())]
    pub(super) optimizer: Option<OptimizerKind>,
    /// SGD / RMSprop momentum (0 = none).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub(super) momentum: Option<f64>,
    /// SGD: Nesterov momentum.
    #[arg(long)]
    pub(super) nesterov: bool,
    /// Weight decay (L2; decoupled for adamw, whose default is 0.01).
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub(super) weight_decay: Option<f64>,
    /// Learning rate.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub(super) lr: Option<f64>,
    /// Learning-rate schedule.
    #[arg(long, value_name = "NAME", value_parser = choice::<ScheduleKind>())]
    pub(super) schedule: Option<ScheduleKind>,
    /// Epochs of linear warm-up before the schedule.
    #[arg(long, value_name = "N")]
    pub(super) warmup_epochs: Option<usize>,
    /// step schedule: epochs between reductions.
    #[arg(long, value_name = "N")]
    pub(super) step_size: Option<usize>,
    /// step schedule: the factor of each reduction.
    #[arg(long, value_name = "F")]
    pub(super) gamma: Option<f64>,
    /// cosine / linear: the final learning rate; plateau: the floor.
    #[arg(long, value_name = "RATE")]
    pub(super) min_lr: Option<f64>,
    /// plateau schedule: epochs without improvement before the rate is cut.
    #[arg(long, value_name = "N")]
    pub(super) plateau_patience: Option<usize>,
    /// plateau schedule: the factor of each cut.
    #[arg(long, value_name = "F")]
    pub(super) plateau_factor: Option<f64>,
    /// Early stopping: stop after this many epochs without improvement of the validation loss
    /// (the training loss without --val-split) and restore the best epoch's weights.
    #[arg(long, value_name = "N")]
    pub(super) patience: Option<usize>,
    /// Early stopping: the smallest decrease of the loss that counts as an improvement.
    #[arg(long, value_name = "D")]
    pub(super) min_delta: Option<f64>,
    /// Scale the gradient down when its global L2 norm exceeds this.
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    pub(super) clip_grad_norm: Option<f64>,
    /// Epoch limit.
    #[arg(long, value_name = "N")]
    pub(super) epochs: Option<usize>,
    /// Rows per step: a number, `auto` (min(200, rows)) or `full` (full-batch gradient descent).
    #[arg(long, value_name = "N|auto|full", value_parser = value_parser::<BatchSize>)]
    pub(super) batch_size: Option<BatchSize>,
    /// Stop once the gradient's global L2 norm falls below this (0: never).
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    pub(super) tol: Option<f64>,
    /// Seed for initialisation and shuffling.
    #[arg(long, value_name = "N")]
    pub(super) seed: Option<u64>,
    /// CPU backend (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = choice::<BackendKind>())]
    pub(super) backend: Option<BackendKind>,
    /// Folder for the run's files: config.toml, history.csv, history.jsonl, metrics.json
    /// (default: runs/DATA-UTCTIME).
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Let --out name a folder that holds an earlier run: nerve's own files of that run are
    /// removed first (files nerve did not name, such as a --save copy, stay).
    #[arg(long)]
    pub(super) overwrite: bool,
    /// Also write the trained model to this file (it is always written to the run folder).
    #[arg(long, value_name = "FILE.safetensors")]
    pub(super) save: Option<PathBuf>,
    /// Write a checkpoint every N epochs (0: never), for --resume.
    #[arg(long, value_name = "N")]
    pub(super) checkpoint_every: Option<usize>,
    /// Print JSON lines on stdout (one per epoch, then a summary); progress stays on stderr.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress and no description of the run on stderr.
    #[arg(long)]
    pub(super) quiet: bool,
    /// Print the fully resolved config (TOML) and exit without training.
    #[arg(long)]
    pub(super) print_config: bool,
}

/// Overwrites `dst` with the flag's value when the flag was given.
fn set<T: Clone>(dst: &mut T, flag: &Option<T>) {
    if let Some(value) = flag {
        *dst = value.clone();
    }
}

impl TrainArgs {
    /// The config file (or the defaults), with every given flag applied on top.
    pub(super) fn resolve(&self) -> Result<RunConfig> {
        let mut config = match (&self.resume, &self.config, &self.data) {
            (Some(dir), _, _) => RunConfig::load(&dir.join("config.toml"))
                .with_context(|| format!("{} is not a run folder to resume", dir.display()))?,
            (None, Some(path), _) => RunConfig::load(path)?,
            (None, None, Some(data)) => RunConfig::for_data(data),
            (None, None, None) => {
                RunConfig::parse(crate::builtin::XOR_CONFIG, "configs/xor.toml", None)?
            }
        };
        set(&mut config.data.path, &self.data);
        if self.delimiter.is_some() {
            config.data.delimiter = self.delimiter;
        }
        if self.target.is_some() {
            config.data.target = self.target.clone();
        }
        if self.task.is_some() {
            config.data.task = self.task;
        }
        set(&mut config.data.ignore, &self.ignore);
        set(&mut config.data.missing, &self.missing);
        set(&mut config.data.na_values, &self.na_values);
        if self.thousands.is_some() {
            config.data.thousands = self.thousands;
        }
        set(&mut config.data.categorical, &self.categorical);
        set(&mut config.data.numeric, &self.numeric);
        set(&mut config.data.max_categories, &self.max_categories);
        set(&mut config.data.standardize, &self.standardize);
        set(&mut config.data.test_split, &self.test_split);
        set(&mut config.data.val_split, &self.val_split);
        set(&mut config.data.split_seed, &self.split_seed);
        set(
            &mut config.model.d_hidden,
            &self.hidden.clone().map(|h| h.0),
        );
        set(&mut config.model.activation, &self.activation);
        set(&mut config.model.initializer, &self.initializer);
        if self.loss.is_some() {
            config.loss.name = self.loss;
        }
        let optimizer = &mut config.optimizer;
        set(&mut optimizer.kind, &self.optimizer);
        set(&mut optimizer.momentum, &self.momentum);
        set(&mut optimizer.learning_rate, &self.lr);
        if self.weight_decay.is_some() {
            optimizer.weight_decay = self.weight_decay;
        }
        if self.nesterov {
            optimizer.nesterov = true;
        }
        let schedule = &mut config.schedule;
        set(&mut schedule.name, &self.schedule);
        set(&mut schedule.warmup_epochs, &self.warmup_epochs);
        set(&mut schedule.step_size, &self.step_size);
        set(&mut schedule.gamma, &self.gamma);
        set(&mut schedule.min_lr, &self.min_lr);
        set(&mut schedule.patience, &self.plateau_patience);
        set(&mut schedule.factor, &self.plateau_factor);
        let training = &mut config.training;
        set(&mut training.num_epochs, &self.epochs);
        set(&mut training.batch_size, &self.batch_size);
        set(&mut training.tol, &self.tol);
        set(&mut training.seed, &self.seed);
        set(&mut training.patience, &self.patience);
        set(&mut training.min_delta, &self.min_delta);
        if self.clip_grad_norm.is_some() {
            training.clip_grad_norm = self.clip_grad_norm;
        }
        set(&mut training.checkpoint_every, &self.checkpoint_every);
        set(&mut config.backend, &self.backend);
        config.validate()?;
        Ok(config)
    }
}
