//! The flags that set a run's settings (data, model, loss, optimizer, schedule, training, and
//! `--config`), shared by `nerve train`, `nerve cv` and `nerve tune`, and how they layer over a
//! run config: each flag's dotted key is nerve-run's `SETTINGS` table, so a flag is named
//! here (its clap field) and there (its key) and nowhere else.

use anyhow::Result;
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{Missing, Standardize, Task};
use nerve_loss::Loss;
use nerve_model::spiking::{Encoding, Neuron, Readout, Reset, Surrogate};
use nerve_model::{Activation, Initializer};
use nerve_train::{BatchSize, Monitor, OptimizerKind, ScheduleKind};

mod layering;

pub(crate) use layering::with_defaults;

use crate::{choice, value_parser};
use nerve_run::{ClassWeight, Delimiter, EarlyStopping, HiddenWidths};

/// The settings flags. Each overrides the same setting of `--config`; without `--config`,
/// `--data` starts from scikit-learn-like defaults and no flags at all run the tutorial's network.
/// Every key of a run config has a flag (`tests/training/help_and_flags.rs` walks `--print-config`'s
/// keys); the defaults shown in `--help` are read from [`RunConfig::for_data`](nerve_run::RunConfig::for_data) ([`with_defaults`]).
/// Serialized, the given flags are a table of flag id to value ([`SettingsArgs::given`]),
/// laid over a config through nerve-run's [`SETTINGS`](nerve_run::SETTINGS) table.
#[derive(Debug, Args, serde::Serialize)]
pub(crate) struct SettingsArgs {
    /// A CSV file (`.csv`, `.csv.gz`, `-` for stdin) or a built-in data set's name (see `nerve
    /// datasets`) [default: --config's, or with neither the tutorial's XOR table]
    #[arg(short, long, value_name = "FILE|NAME", help_heading = "Data")]
    pub(crate) data: Option<String>,
    /// The target column [default: the last column]
    #[arg(short, long, value_name = "COLUMN", help_heading = "Data")]
    pub(crate) target: Option<String>,
    /// The task [default: inferred from the target]
    #[arg(long, value_name = "TASK", value_parser = choice::<Task>(), help_heading = "Data")]
    pub(crate) task: Option<Task>,
    /// Columns to leave out, comma-separated: identifiers, free text [default: none]
    #[arg(
        long,
        value_name = "COLUMNS",
        value_delimiter = ',',
        help_heading = "Data"
    )]
    pub(crate) ignore: Option<Vec<String>>,
    /// A column of row weights (sample weights), not a feature: each row's loss counts that
    /// much (finite numbers, 0 or more) [default: none, every row the same]
    #[arg(long, value_name = "COLUMN", help_heading = "Data")]
    pub(crate) weight_column: Option<String>,
    /// The CSV field delimiter: `,`, `;`, `tab`, ... [default: detected from the header line]
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>, help_heading = "Data")]
    pub(crate) delimiter: Option<Delimiter>,
    /// Missing values (pandas' spellings: empty, NA, N/A, NaN, null, None, #N/A, ...): `impute`
    /// them (a number gets the training mean and a missing-indicator input, a category a
    /// `(missing)` level of its own), `drop` the rows, or stop with an `error`.
    #[arg(long, value_name = "POLICY", value_parser = choice::<Missing>(), help_heading = "Data")]
    pub(crate) missing: Option<Missing>,
    /// More strings that mean a missing value, comma-separated, e.g. `?,-` [default: none]
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        allow_hyphen_values = true,
        help_heading = "Data"
    )]
    pub(crate) na_values: Option<Vec<String>>,
    /// The thousands separator to strip from numbers; `.` makes `,` the decimal mark [default: `,`
    /// detected in comma-delimited files]
    #[arg(long, value_name = "CHAR", help_heading = "Data")]
    pub(crate) thousands: Option<char>,
    /// Columns to use as categories whatever their values, comma-separated [default: none]
    #[arg(
        long,
        value_name = "COLUMNS",
        value_delimiter = ',',
        help_heading = "Data"
    )]
    pub(crate) categorical: Option<Vec<String>>,
    /// Columns that must be numbers, comma-separated [default: none]
    #[arg(
        long,
        value_name = "COLUMNS",
        value_delimiter = ',',
        help_heading = "Data"
    )]
    pub(crate) numeric: Option<Vec<String>>,
    /// One-hot columns with more categories keep the N-1 most frequent and group the rest
    /// into one `infrequent` input.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Data",
        allow_negative_numbers = true
    )]
    pub(crate) max_categories: Option<usize>,
    /// Numeric feature scaling.
    #[arg(long, value_name = "SCALING", value_parser = choice::<Standardize>(), help_heading = "Data")]
    pub(crate) standardize: Option<Standardize>,
    /// Standardize a regression target for training (predictions are mapped back).
    #[arg(long, value_name = "BOOL", help_heading = "Data")]
    pub(crate) standardize_target: Option<bool>,
    /// The share of rows held out for the final test (none under 20 rows).
    #[arg(
        long,
        value_name = "FRACTION",
        help_heading = "Data",
        allow_negative_numbers = true
    )]
    pub(crate) test_split: Option<f64>,
    /// The share of rows held out for validation.
    #[arg(
        long,
        value_name = "FRACTION",
        help_heading = "Data",
        allow_negative_numbers = true
    )]
    pub(crate) val_split: Option<f64>,
    /// Seed of the train/validation/test split.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Data",
        allow_negative_numbers = true
    )]
    pub(crate) split_seed: Option<u64>,

    /// Hidden layer widths, e.g. `5` or `64,32`; `none` for a linear model.
    #[arg(long, value_name = "WIDTHS", value_parser = value_parser::<HiddenWidths>, help_heading = "Model")]
    pub(crate) hidden: Option<HiddenWidths>,
    /// Activation after each hidden layer.
    #[arg(long, value_name = "NAME", value_parser = choice::<Activation>(), help_heading = "Model")]
    pub(crate) activation: Option<Activation>,
    /// Probability of zeroing a hidden unit while training, in [0, 1).
    #[arg(
        long,
        value_name = "P",
        help_heading = "Model",
        allow_negative_numbers = true
    )]
    pub(crate) dropout: Option<f64>,
    /// Weight initializer.
    #[arg(long, value_name = "NAME", value_parser = choice::<Initializer>(), help_heading = "Model")]
    pub(crate) initializer: Option<Initializer>,

    /// `rate` units (weighted sum + activation) or `spiking` neurons that leak, integrate and
    /// fire over --time-steps; the flags below set the spiking network.
    #[arg(long, value_name = "KIND", value_parser = choice::<Network>(), help_heading = "Spiking network")]
    #[serde(skip)]
    pub(crate) network: Option<Network>,
    /// Neuron model: leaky integrate-and-fire, or LIF with a synaptic current.
    #[arg(long, value_name = "NAME", value_parser = choice::<Neuron>(), help_heading = "Spiking network")]
    pub(crate) neuron: Option<Neuron>,
    /// Time steps each row is presented for (backpropagation runs through all of them).
    #[arg(
        long,
        value_name = "T",
        help_heading = "Spiking network",
        allow_negative_numbers = true
    )]
    pub(crate) time_steps: Option<usize>,
    /// Membrane decay per step, in [0, 1] (1: no leak).
    #[arg(
        long,
        value_name = "B",
        help_heading = "Spiking network",
        allow_negative_numbers = true
    )]
    pub(crate) beta: Option<f64>,
    /// Synaptic current decay per step, in [0, 1] (--neuron synaptic).
    #[arg(
        long,
        value_name = "A",
        help_heading = "Spiking network",
        allow_negative_numbers = true
    )]
    pub(crate) synaptic_alpha: Option<f64>,
    /// Firing threshold of the membrane potential.
    #[arg(
        long,
        value_name = "THETA",
        help_heading = "Spiking network",
        allow_negative_numbers = true
    )]
    pub(crate) threshold: Option<f64>,
    /// Learn each layer's membrane decay with the weights.
    #[arg(long, value_name = "BOOL", help_heading = "Spiking network")]
    pub(crate) learn_beta: Option<bool>,
    /// Learn each layer's threshold with the weights.
    #[arg(long, value_name = "BOOL", help_heading = "Spiking network")]
    pub(crate) learn_threshold: Option<bool>,
    /// After a spike, `subtract` the threshold from the membrane or reset it to `zero`.
    #[arg(long, value_name = "HOW", value_parser = choice::<Reset>(), help_heading = "Spiking network")]
    pub(crate) reset: Option<Reset>,
    /// Stop the gradient through the reset (snnTorch's choice; it otherwise fights learning).
    #[arg(long, value_name = "BOOL", help_heading = "Spiking network")]
    pub(crate) detach_reset: Option<bool>,
    /// The surrogate derivative of the spike used by backpropagation.
    #[arg(long, value_name = "NAME", value_parser = choice::<Surrogate>(), help_heading = "Spiking network")]
    pub(crate) surrogate: Option<Surrogate>,
    /// The surrogate's slope (steeper is closer to the step) [default: 25 for fast-sigmoid
    /// and sigmoid, 2 for arctan]
    #[arg(
        long,
        value_name = "K",
        help_heading = "Spiking network",
        allow_negative_numbers = true
    )]
    pub(crate) slope: Option<f64>,
    /// How features become input over time: `direct` current, `rate` (random spikes with the
    /// value's probability) or `latency` (one spike, earlier for larger values).
    #[arg(long, value_name = "NAME", value_parser = choice::<Encoding>(), help_heading = "Spiking network")]
    pub(crate) encoding: Option<Encoding>,
    /// How the output layer gives the outputs: its membrane's mean or max over time, or its
    /// spike counts.
    #[arg(long, value_name = "NAME", value_parser = choice::<Readout>(), help_heading = "Spiking network")]
    pub(crate) readout: Option<Readout>,

    /// The loss [default: cross-entropy for classes, mse for values]
    #[arg(long, value_name = "NAME", value_parser = choice::<Loss>(), help_heading = "Loss")]
    pub(crate) loss: Option<Loss>,
    /// Weigh each class's rows in the loss: `balanced` (n / (classes · rows of the class), so
    /// a rare class counts as much as a common one) or `No=1,Yes=4` (unnamed classes weigh 1)
    /// [default: none, every row the same]
    #[arg(long, value_name = "balanced|CLASS=W,...", value_parser = value_parser::<ClassWeight>, help_heading = "Loss")]
    pub(crate) class_weight: Option<ClassWeight>,

    /// The optimizer.
    #[arg(long, value_name = "NAME", value_parser = choice::<OptimizerKind>(), help_heading = "Optimizer")]
    pub(crate) optimizer: Option<OptimizerKind>,
    /// Learning rate.
    #[arg(
        long,
        value_name = "RATE",
        allow_negative_numbers = true,
        help_heading = "Optimizer"
    )]
    pub(crate) lr: Option<f64>,
    /// SGD / RMSprop momentum (0 = none).
    #[arg(
        long,
        value_name = "M",
        allow_negative_numbers = true,
        help_heading = "Optimizer"
    )]
    pub(crate) momentum: Option<f64>,
    /// SGD: Nesterov momentum [default: off]
    #[arg(long, help_heading = "Optimizer")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) nesterov: bool,
    /// Weight decay: L2, decoupled for adamw [default: 0; adamw 0.01]
    #[arg(
        long,
        value_name = "W",
        allow_negative_numbers = true,
        help_heading = "Optimizer"
    )]
    pub(crate) weight_decay: Option<f64>,
    /// Adam / AdamW: the first moment's decay.
    #[arg(
        long,
        value_name = "B",
        help_heading = "Optimizer",
        allow_negative_numbers = true
    )]
    pub(crate) beta_1: Option<f32>,
    /// Adam / AdamW: the second moment's decay.
    #[arg(
        long,
        value_name = "B",
        help_heading = "Optimizer",
        allow_negative_numbers = true
    )]
    pub(crate) beta_2: Option<f32>,
    /// Adam / AdamW / RMSprop: added to the denominator for stability.
    #[arg(
        long,
        value_name = "E",
        help_heading = "Optimizer",
        allow_negative_numbers = true
    )]
    pub(crate) epsilon: Option<f32>,
    /// RMSprop: the squared gradients' smoothing constant.
    #[arg(
        long,
        value_name = "A",
        help_heading = "Optimizer",
        allow_negative_numbers = true
    )]
    pub(crate) alpha: Option<f32>,

    /// Learning-rate schedule.
    #[arg(long, value_name = "NAME", value_parser = choice::<ScheduleKind>(), help_heading = "Schedule")]
    pub(crate) schedule: Option<ScheduleKind>,
    /// Epochs of linear warm-up before the schedule.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) warmup_epochs: Option<usize>,
    /// step: epochs between reductions.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) step_size: Option<usize>,
    /// step: the factor of each reduction.
    #[arg(
        long,
        value_name = "F",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) gamma: Option<f64>,
    /// cosine / linear: the final learning rate; plateau: the floor.
    #[arg(
        long,
        value_name = "RATE",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) min_lr: Option<f64>,
    /// plateau: epochs without improvement before the rate is cut.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) plateau_patience: Option<usize>,
    /// plateau: the factor of each cut.
    #[arg(
        long,
        value_name = "F",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) plateau_factor: Option<f64>,
    /// plateau: the relative improvement of the --monitor quantity that counts (for a score,
    /// of 1 − score: its error).
    #[arg(
        long,
        value_name = "T",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) plateau_threshold: Option<f64>,
    /// plateau: epochs to wait after a cut before watching again.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Schedule",
        allow_negative_numbers = true
    )]
    pub(crate) plateau_cooldown: Option<usize>,

    /// Epoch limit (0 only with --init: evaluates and saves that model as it is).
    #[arg(
        short,
        long,
        value_name = "N",
        help_heading = "Training",
        allow_negative_numbers = true
    )]
    pub(crate) epochs: Option<usize>,
    /// Rows per step: a number, `auto` (min(200, rows)) or `full` (full-batch gradient descent).
    #[arg(long, value_name = "N|auto|full", value_parser = value_parser::<BatchSize>, help_heading = "Training")]
    pub(crate) batch_size: Option<BatchSize>,
    /// Early stopping: stop after this many epochs without improvement of the --monitor
    /// quantity (the validation loss by default) and restore the best epoch's weights; 0: off.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Training",
        allow_negative_numbers = true
    )]
    pub(crate) patience: Option<usize>,
    /// Early stopping where --val-split and --patience are left at 0: `auto` holds out a
    /// validation share, stops once it stops improving and restores the best epoch, on tables
    /// large enough to spare the rows (docs/training.md); `on` at any size; `off` adds nothing
    /// (a config that holds them, as a run's saved config does, keeps its own).
    #[arg(long, value_name = "MODE", value_parser = choice::<EarlyStopping>(), help_heading = "Training")]
    pub(crate) early_stopping: Option<EarlyStopping>,
    /// Early stopping: the smallest improvement of the monitored quantity that counts.
    #[arg(
        long,
        value_name = "D",
        help_heading = "Training",
        allow_negative_numbers = true
    )]
    pub(crate) min_delta: Option<f64>,
    /// What early stopping, the kept epoch and the plateau schedule watch; losses are
    /// minimized, scores maximized (val_loss falls back to the training loss without
    /// validation rows)
    #[arg(long, value_name = "QUANTITY", value_parser = choice::<Monitor>(), help_heading = "Training")]
    pub(crate) monitor: Option<Monitor>,
    /// Scale the gradient down when its global L2 norm exceeds this [default: no clipping]
    #[arg(
        long,
        value_name = "NORM",
        allow_negative_numbers = true,
        help_heading = "Training"
    )]
    pub(crate) clip_grad_norm: Option<f64>,
    /// Stop once the gradient's global L2 norm falls below this; 0: never.
    #[arg(
        long,
        value_name = "NORM",
        allow_negative_numbers = true,
        help_heading = "Training"
    )]
    pub(crate) tol: Option<f64>,
    /// Seed for initialisation and shuffling.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Training",
        allow_negative_numbers = true
    )]
    pub(crate) seed: Option<u64>,
    /// CPU backend (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = choice::<BackendKind>(), help_heading = "Training")]
    pub(crate) backend: Option<BackendKind>,

    /// A TOML run config, as a run folder's config.toml, or a built-in data set's tuned config by
    /// name (`--config iris`; see `nerve datasets`). Flags override its settings [default:
    /// defaults for --data, or with no --data the tutorial's network]
    #[arg(short, long, value_name = "FILE|NAME", help_heading = "Config")]
    #[serde(skip)]
    pub(crate) config: Option<String>,
}

/// `--network`: the kind of unit in the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    /// Rate units: a weighted sum and an activation, as the tutorial's.
    Rate,
    /// Spiking neurons over time steps (`[spiking]`).
    Spiking,
}

impl Network {
    const ALL: [Network; 2] = [Network::Rate, Network::Spiking];

    fn name(self) -> &'static str {
        match self {
            Network::Rate => "rate",
            Network::Spiking => "spiking",
        }
    }
}

nerve_choice::named_choice!(Network, "network", |n| match n {
    Network::Rate => &["mlp", "ann"],
    Network::Spiking => &["snn"],
});
