//! `nerve train`: resolve the config, prepare the data, train, report the metrics.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use burn::prelude::{Device, Module};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{
    ColumnRole, Dataset, FeatureTransform, Missing, Prepared, Standardize, Table, Task, prepare,
};
use nerve_loss::Loss;
use nerve_model::{Activation, Initializer, Mlp};
use nerve_train::{
    BatchSize, ClassificationMetrics, OptimizerKind, PartMetrics, ScheduleKind, Scores,
    TrainOutcome, Trainer,
};
use serde_json::json;

use crate::charts;
use crate::progress::{self, Progress};
use crate::run_config::{DataSource, Delimiter, HiddenWidths, RunConfig, resolve_data};
use crate::run_dir::{RunDir, read_run_id};
use crate::run_lock::RunLock;
use crate::value_parser;
use crate::{checkpoint, saved_model};

/// Flags of `nerve train`. Each overrides the same setting of `--config`; without `--config`,
/// `--data` starts from scikit-learn-like defaults and no flags at all run the tutorial's network.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// A TOML run config (see configs/); default: the tutorial's network, or defaults for --data.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Continue an interrupted run from its folder's last checkpoint (its config.toml, its data).
    #[arg(
        long,
        value_name = "RUN_DIR",
        conflicts_with_all = ["config", "out", "overwrite", "init"]
    )]
    resume: Option<PathBuf>,
    /// Start from the weights (and the preprocessing) of a model file instead of random ones;
    /// its architecture is used, and the data must fit it.
    #[arg(long, value_name = "MODEL")]
    init: Option<PathBuf>,
    /// A CSV file with a header row, or a built-in data set's name (see `nerve datasets`).
    #[arg(long, value_name = "CSV|NAME")]
    data: Option<String>,
    /// The target column (default: the last column).
    #[arg(long, value_name = "COLUMN")]
    target: Option<String>,
    /// classification or regression (default: inferred from the target).
    #[arg(long, value_name = "TASK", value_parser = value_parser::<Task>)]
    task: Option<Task>,
    /// Columns to leave out, comma-separated (identifiers, free text).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    ignore: Option<Vec<String>>,
    /// The CSV field delimiter: `,`, `;`, `tab`, ... (default: detected from the header line).
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>)]
    delimiter: Option<Delimiter>,
    /// Missing values (pandas' spellings: empty, NA, N/A, NaN, null, None, #N/A, ...): `drop`
    /// the rows (default), `impute` features from the training rows, or stop with an `error`.
    #[arg(long, value_name = "drop|impute|error", value_parser = value_parser::<Missing>)]
    missing: Option<Missing>,
    /// More strings that mean a missing value, comma-separated (e.g. `?,-`).
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    na_values: Option<Vec<String>>,
    /// The thousands separator to strip from numbers (`,` is detected in comma-delimited
    /// files; `.` makes `,` the decimal mark).
    #[arg(long, value_name = "CHAR")]
    thousands: Option<char>,
    /// Columns to use as categories whatever their values, comma-separated.
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    categorical: Option<Vec<String>>,
    /// Columns that must be numbers, comma-separated (a cell that is not one is an error).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    numeric: Option<Vec<String>>,
    /// One-hot columns with more categories keep the N-1 most frequent and group the rest
    /// into one `infrequent` input (default 50).
    #[arg(long, value_name = "N")]
    max_categories: Option<usize>,
    /// Numeric feature scaling: z-score (default) or none.
    #[arg(long, value_name = "z-score|none", value_parser = value_parser::<Standardize>)]
    standardize: Option<Standardize>,
    /// The share of rows held out for the final test (default 0.2; none under 20 rows).
    #[arg(long, value_name = "FRACTION")]
    test_split: Option<f64>,
    /// The share of rows held out for validation (default 0).
    #[arg(long, value_name = "FRACTION")]
    val_split: Option<f64>,
    /// Seed of the train/validation/test split (default 42).
    #[arg(long, value_name = "N")]
    split_seed: Option<u64>,
    /// Hidden layer widths, e.g. `5` or `64,32`; `none` for a linear model.
    #[arg(long, value_name = "WIDTHS", value_parser = value_parser::<HiddenWidths>)]
    hidden: Option<HiddenWidths>,
    /// Activation after each hidden layer.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Activation>)]
    activation: Option<Activation>,
    /// Weight initializer: pytorch, kaiming-uniform, kaiming-normal, xavier-uniform, xavier-normal.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Initializer>)]
    initializer: Option<Initializer>,
    /// Loss: mse, cross-entropy, bce, huber (default: cross-entropy for classes, mse for values).
    #[arg(long, value_name = "NAME", value_parser = value_parser::<Loss>)]
    loss: Option<Loss>,
    /// Optimizer: sgd, adam, adamw, rmsprop.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<OptimizerKind>)]
    optimizer: Option<OptimizerKind>,
    /// SGD / RMSprop momentum (0 = none).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// SGD: Nesterov momentum.
    #[arg(long)]
    nesterov: bool,
    /// Weight decay (L2; decoupled for adamw, whose default is 0.01).
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    weight_decay: Option<f64>,
    /// Learning rate.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Learning-rate schedule: constant, step, cosine, linear, plateau.
    #[arg(long, value_name = "NAME", value_parser = value_parser::<ScheduleKind>)]
    schedule: Option<ScheduleKind>,
    /// Epochs of linear warm-up before the schedule.
    #[arg(long, value_name = "N")]
    warmup_epochs: Option<usize>,
    /// step schedule: epochs between reductions.
    #[arg(long, value_name = "N")]
    step_size: Option<usize>,
    /// step schedule: the factor of each reduction.
    #[arg(long, value_name = "F")]
    gamma: Option<f64>,
    /// cosine / linear: the final learning rate; plateau: the floor.
    #[arg(long, value_name = "RATE")]
    min_lr: Option<f64>,
    /// plateau schedule: epochs without improvement before the rate is cut.
    #[arg(long, value_name = "N")]
    plateau_patience: Option<usize>,
    /// plateau schedule: the factor of each cut.
    #[arg(long, value_name = "F")]
    plateau_factor: Option<f64>,
    /// Early stopping: stop after this many epochs without improvement of the validation loss
    /// (the training loss without --val-split) and restore the best epoch's weights.
    #[arg(long, value_name = "N")]
    patience: Option<usize>,
    /// Early stopping: the smallest decrease of the loss that counts as an improvement.
    #[arg(long, value_name = "D")]
    min_delta: Option<f64>,
    /// Scale the gradient down when its global L2 norm exceeds this.
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    clip_grad_norm: Option<f64>,
    /// Epoch limit.
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Rows per step: a number, `auto` (min(200, rows)) or `full` (full-batch gradient descent).
    #[arg(long, value_name = "N|auto|full", value_parser = value_parser::<BatchSize>)]
    batch_size: Option<BatchSize>,
    /// Stop once the gradient's global L2 norm falls below this (0: never).
    #[arg(long, value_name = "NORM", allow_negative_numbers = true)]
    tol: Option<f64>,
    /// Seed for initialisation and shuffling.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// CPU backend: flex or ndarray (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = value_parser::<BackendKind>)]
    backend: Option<BackendKind>,
    /// Folder for the run's files: config.toml, history.csv, history.jsonl, metrics.json
    /// (default: runs/DATA-UTCTIME).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Let --out name a folder that holds an earlier run: its files are replaced (nerve's own
    /// files are removed first, so none of the earlier run's remains).
    #[arg(long)]
    overwrite: bool,
    /// Also write the trained model to this file (it is always written to the run folder).
    #[arg(long, value_name = "FILE.safetensors")]
    save: Option<PathBuf>,
    /// Write a checkpoint every N epochs (0: never), for --resume.
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<usize>,
    /// Print JSON lines on stdout (one per epoch, then a summary); progress stays on stderr.
    #[arg(long)]
    json: bool,
    /// No progress and no description of the run on stderr.
    #[arg(long)]
    quiet: bool,
    /// Print the fully resolved config (TOML) and exit without training.
    #[arg(long)]
    print_config: bool,
}

/// Overwrites `dst` with the flag's value when the flag was given.
fn set<T: Clone>(dst: &mut T, flag: &Option<T>) {
    if let Some(value) = flag {
        *dst = value.clone();
    }
}

impl TrainArgs {
    /// The config file (or the defaults), with every given flag applied on top.
    fn resolve(&self) -> Result<RunConfig> {
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

/// Runs `nerve train`: exit 0 when training ends normally, 130 when interrupted (after saving
/// the run), an error when it diverges (after saving the last good epoch's history).
pub(crate) fn run(mut args: TrainArgs) -> Result<ExitCode> {
    // `runs/x/.` and `runs/x/` name `runs/x` (create_dir_all fails on a trailing `.`).
    for folder in [&mut args.out, &mut args.resume].into_iter().flatten() {
        *folder = folder.components().collect();
    }
    let chatty = !args.json && !args.quiet;
    if cfg!(debug_assertions) && chatty {
        eprintln!(
            "warning: this is a debug build of nerve; training will be slow. Build with `cargo run --release -p nerve -- train`."
        );
    }
    if let Some(save) = &args.save {
        // The run folder is made before the model is saved, so `--save` may point inside it.
        let run_folder = args.out.as_deref().or(args.resume.as_deref());
        crate::run_dir::check_save(save, run_folder)?;
    }
    let mut config = args.resolve()?;
    // The folder is locked before anything in it is read for the run or written, and stays
    // locked until the run ends: a second run on it is refused at once.
    let lock = match args.out.as_deref().or(args.resume.as_deref()) {
        Some(folder) if !args.print_config => Some(RunLock::acquire(folder)?),
        _ => None,
    };
    if let Some(dir) = &args.resume {
        refuse_changed_settings(dir, &config)?;
    } else if let Some(out) = &args.out
        && !args.overwrite
    {
        crate::run_dir::refuse_earlier_run(out)?;
    }
    let device = config.backend.autodiff_device()?;
    let init = args
        .init
        .as_deref()
        .map(|path| saved_model::load(path, &device))
        .transpose()?;
    if let Some(init) = &init {
        // The file's architecture, so its weights fit.
        let architecture = &init.info.architecture;
        config.model.d_hidden = architecture.d_hidden.clone();
        config.model.activation = architecture.activation;
        config.model.dropout = architecture.dropout;
        config.model.initializer = architecture.initializer;
    }
    let table = load_table(&mut config)?;
    let mut prepared = prepare(table, &config.data.prepare_options())?;
    if let Some(init) = &init {
        use_preprocessing(&mut prepared, &init.preprocessor, args.init.as_deref())?;
    }
    let target = prepared.preprocessor.target_name().to_owned();
    // The saved config records what was inferred, so it repeats the run on any version.
    config.data.target = Some(target.clone());
    config.data.task = Some(prepared.task);
    config.settle_loss(prepared.task, prepared.table.source_name(), &target)?;
    let config = config.resolved();
    if args.print_config {
        std::io::stdout()
            .lock()
            .write_all(config.to_toml()?.as_bytes())
            .or_else(ignore_broken_pipe)?;
        return Ok(ExitCode::SUCCESS);
    }
    let d_output = output_width(config.loss(), &prepared)?;
    let mlp_config = config.model.mlp(prepared.preprocessor.d_input(), d_output);
    mlp_config.validate().context("invalid [model]")?;

    let model = match init {
        Some(init) => {
            let found = &init.info.architecture;
            anyhow::ensure!(
                found.d_input == mlp_config.d_input && found.d_output == mlp_config.d_output,
                "the model in {} takes {} inputs and gives {} outputs, but this data needs {} and {}",
                args.init.as_deref().unwrap_or(Path::new("?")).display(),
                found.d_input,
                found.d_output,
                mlp_config.d_input,
                mlp_config.d_output
            );
            init.model
        }
        None => {
            nerve_backend::seed(&device, config.training.seed);
            mlp_config.init(&device)
        }
    };

    // The checkpoint is checked before anything is written: a refused `--resume` (another
    // network, a damaged checkpoint) must leave the run folder as it was (issue 14).
    let config_sha256 = config.checkpoint_hash()?;
    let data_sha256 = checkpoint::data_hash(
        &std::iter::once(&prepared.train)
            .chain(prepared.validation.as_ref())
            .collect::<Vec<_>>(),
    );
    let resume = match &args.resume {
        Some(dir) => {
            let loaded = checkpoint::load(
                dir,
                &read_run_id(dir)?,
                &config_sha256,
                &data_sha256,
                &mlp_config,
                &device,
            )?;
            anyhow::ensure!(
                config.training.num_epochs >= loaded.epoch,
                "--resume {}: its checkpoint is of epoch {}, past --epochs {}; give --epochs {} or more",
                dir.display(),
                loaded.epoch,
                config.training.num_epochs,
                loaded.epoch
            );
            Some(loaded)
        }
        None => None,
    };
    let run_dir = match (&args.resume, lock) {
        (Some(dir), Some(lock)) => RunDir::reopen(dir, lock)?,
        (_, lock) => RunDir::create(
            args.out.as_deref().zip(lock),
            &data_name(&config.data.path),
            args.overwrite,
        )?,
    };
    run_dir.write_config(&config)?;
    if chatty {
        eprint!("{}", describe_run(&config, &prepared, &model));
        eprintln!("Run folder: {}", run_dir.path().display());
    }

    progress::catch_interrupts();
    let mut observer = checkpoint::RunObserver::new(
        Progress::new(args.json, args.quiet),
        &run_dir,
        config_sha256,
        data_sha256,
        config.training.checkpoint_every,
        resume.as_ref().map(|loaded| loaded.epoch),
    )?;
    let trainer =
        Trainer::new(config.train_config()).with_target_scale(prepared.preprocessor.target_scale());
    let validation = prepared.validation.as_ref();
    let result = match resume {
        Some(loaded) => trainer.resume(
            loaded.model,
            loaded.resume,
            &prepared.train,
            validation,
            &device,
            &mut observer,
        ),
        None => trainer.fit(model, &prepared.train, validation, &device, &mut observer),
    };
    let checkpoint_failure = observer.finish();
    let last_checkpoint = observer.last_checkpoint();
    let (outcome, divergence) = match result {
        Ok(outcome) => (outcome, None),
        Err(mut err) => match err.take_last_good() {
            Some(last_good) => (last_good, Some(err)),
            None => return Err(err.into()),
        },
    };

    let plain = device.without_autodiff();
    let evaluate = |data: &Dataset| -> Result<Evaluation> {
        Evaluation::new(&trainer, &outcome.model, &config, &prepared, data, &plain)
    };
    let train = evaluate(&prepared.train)?;
    let validation = prepared.validation.as_ref().map(evaluate).transpose()?;
    let test = prepared.test.as_ref().map(evaluate).transpose()?;
    let summary = summary_json(&config, &prepared, &outcome, &train, &validation, &test);
    // The model first: on a nearly full disk it is what matters most.
    let save = || -> Result<()> {
        let model_path = run_dir.path().join("model.safetensors");
        for path in std::iter::once(model_path.as_path()).chain(args.save.as_deref()) {
            saved_model::save(
                path,
                &outcome.model,
                &prepared.preprocessor,
                &config,
                &summary,
            )?;
        }
        run_dir.write_history(
            &outcome.history,
            prepared.task,
            prepared.validation.is_some(),
        )?;
        run_dir.write_metrics(&summary)
    };
    let saved = save();
    if let Some(failure) = checkpoint_failure {
        return Err(failure.report(run_dir.path(), outcome.history.len(), saved.err()));
    }
    saved?;
    // The pictures come last and only warn on failure: the model and history are saved.
    if !outcome.history.is_empty()
        && let Err(err) = charts::draw_run(run_dir.path(), charts::Format::Svg)
    {
        eprintln!("warning: {err:#}");
    }

    if let Some(err) = divergence {
        // The checkpoint may be an epoch ahead of the model kept (whose weights were chosen for
        // a finite loss), and resuming the same config would diverge again: remove it, its
        // state first, so `--resume` refuses plainly ("no checkpoint") rather than mismatch.
        checkpoint::remove(run_dir.path());
        bail!(
            "{err}. The run folder {} holds the model and history of epoch {}, the last good one (its checkpoint is removed: train again with a smaller learning rate, or from this model with --init)",
            run_dir.path().display(),
            outcome.history.len()
        );
    }
    if args.json {
        let mut line = summary;
        line["event"] = "summary".into();
        writeln!(std::io::stdout().lock(), "{line}").or_else(ignore_broken_pipe)?;
    } else {
        print_results(&config, &prepared, &outcome, &train, validation, test)?;
    }
    if progress::interrupted() {
        if outcome.stop_reason != nerve_train::StopReason::Interrupted {
            eprintln!(
                "interrupted while saving; training had ended, and the run is saved in {}",
                run_dir.path().display()
            );
        } else {
            let resume = match last_checkpoint {
                Some(epoch) => format!(
                    "`nerve train --resume {}` continues it from epoch {epoch}",
                    run_dir.path().display()
                ),
                None => "no checkpoint was written (--checkpoint-every 0), so it cannot be resumed"
                    .to_owned(),
            };
            eprintln!(
                "interrupted after epoch {}: the run is saved in {}; {resume}",
                outcome.history.len(),
                run_dir.path().display()
            );
        }
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--resume` continues a run as it was configured: only the epoch limit and the checkpoint
/// interval may change; any other flag would mix two configurations in one run (issue 14).
fn refuse_changed_settings(dir: &Path, config: &RunConfig) -> Result<()> {
    let saved = RunConfig::load(&dir.join("config.toml"))?.without_resume_settings();
    let asked = config.without_resume_settings();
    if asked == saved {
        return Ok(());
    }
    let table = |c: &RunConfig| -> Result<toml::Table> { Ok(toml::from_str(&c.to_toml()?)?) };
    let mut changed = Vec::new();
    changed_keys("", &table(&asked)?, &table(&saved)?, &mut changed);
    bail!(
        "--resume {} continues the run as configured in its config.toml; only --epochs and --checkpoint-every may change, but these settings differ: {}. Start a new run to change them",
        dir.display(),
        changed.join(", ")
    )
}

/// The dotted keys (`training.seed`) whose values differ between two TOML tables.
fn changed_keys(prefix: &str, a: &toml::Table, b: &toml::Table, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let name = format!("{prefix}{key}");
        match (a.get(key), b.get(key)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                changed_keys(&format!("{name}."), x, y, out);
            }
            (x, y) if x != y => out.push(name),
            _ => {}
        }
    }
}

/// Replaces the freshly fitted preprocessing with a model's own, so its weights see inputs
/// scaled and encoded as in its training: the parts are transformed again.
fn use_preprocessing(
    prepared: &mut Prepared,
    preprocessor: &nerve_data::Preprocessor,
    path: Option<&Path>,
) -> Result<()> {
    let context = || {
        format!(
            "the data does not fit the preprocessing of {}",
            path.unwrap_or(Path::new("the model")).display()
        )
    };
    anyhow::ensure!(
        preprocessor.task == prepared.task,
        "{}: the model does {}, the data {}",
        context(),
        preprocessor.task,
        prepared.task
    );
    let table = &prepared.table;
    let split = &prepared.split;
    prepared.train = preprocessor
        .transform(table, &split.train)
        .with_context(context)?;
    if !split.validation.is_empty() {
        prepared.validation = Some(
            preprocessor
                .transform(table, &split.validation)
                .with_context(context)?,
        );
    }
    if !split.test.is_empty() {
        prepared.test = Some(
            preprocessor
                .transform(table, &split.test)
                .with_context(context)?,
        );
    }
    prepared.preprocessor = preprocessor.clone();
    Ok(())
}

/// The name of the data for the default run folder: a built-in name or a file's stem.
fn data_name(path: &str) -> String {
    Path::new(path).file_stem().map_or_else(
        || "data".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}

/// Reads the table the config names, and records its resolved location in the config.
fn load_table(config: &mut RunConfig) -> Result<Table> {
    let options = config.data.csv_options();
    let source = resolve_data(&config.data.path)?;
    if let DataSource::File(path) = &source
        && let Ok(absolute) = std::path::absolute(path)
    {
        // The saved config must work from any folder, so it records an absolute path.
        config.data.path = absolute.display().to_string();
    }
    Ok(source.reader(&options)?.read_all()?)
}

/// The network's output width: one logit per class for cross-entropy, one output otherwise
/// (binary cross-entropy needs exactly two classes).
fn output_width(loss: Loss, prepared: &Prepared) -> Result<usize> {
    let labels = prepared.preprocessor.labels().unwrap_or_default();
    if loss == Loss::BinaryCrossEntropy && labels.len() != 2 {
        bail!(
            "{}, target column `{}`: the bce loss needs exactly two classes, found {} ({}); use --loss cross-entropy",
            prepared.table.source_name(),
            prepared.preprocessor.target_name(),
            labels.len(),
            labels.join(", ")
        );
    }
    Ok(if loss.takes_class_ids() {
        labels.len()
    } else {
        1
    })
}

/// The few lines that say what is about to happen: data, task, split, preprocessing, training.
fn describe_run(config: &RunConfig, prepared: &Prepared, model: &Mlp) -> String {
    let mut text = String::new();
    let source = prepared.table.source_name();
    let p = &prepared.preprocessor;
    for note in &prepared.notes {
        let _ = writeln!(text, "note: {note}");
    }
    let dropped = &prepared.dropped;
    if dropped.rows_dropped > 0 {
        let per_column = counts(&dropped.per_column);
        let _ = writeln!(
            text,
            "note: left out {} of {} rows with missing values (missing per column: {per_column}){}",
            dropped.rows_dropped,
            dropped.rows_before,
            if config.data.missing == Missing::Impute {
                "; a missing target cannot be imputed"
            } else {
                "; --missing impute fills features in instead"
            }
        );
    }
    if !prepared.imputed.is_empty() {
        let _ = writeln!(
            text,
            "note: filled in missing values from the training rows (mean or most frequent): {}",
            counts(&prepared.imputed)
        );
    }
    let inferred = if prepared.task_inferred {
        "inferred; --task overrides"
    } else {
        "as configured"
    };
    let what = match p.labels() {
        Some(labels) => format!(", {} classes: {}", labels.len(), shorten(labels, 10)),
        None => String::new(),
    };
    let _ = writeln!(
        text,
        "Data: {source}, {} rows; target `{}`: {} ({inferred}){what}",
        prepared.table.num_rows(),
        p.target_name(),
        prepared.task,
    );
    let split = &prepared.split;
    if prepared.split_skipped {
        let _ = writeln!(
            text,
            "note: {} rows are too few to hold any out (fewer than {}): all train, and metrics are on the training rows",
            prepared.table.num_rows(),
            nerve_data::MIN_ROWS_TO_SPLIT
        );
    } else if !split.test.is_empty() || !split.validation.is_empty() {
        let stratified = if prepared.task == Task::Classification {
            "stratified by class, "
        } else {
            ""
        };
        let mut parts = vec![format!("{} train", split.train.len())];
        if !split.validation.is_empty() {
            parts.push(format!("{} validation", split.validation.len()));
        }
        if !split.test.is_empty() {
            parts.push(format!("{} test", split.test.len()));
        }
        let _ = writeln!(
            text,
            "Split: {} rows ({stratified}split seed {})",
            parts.join(", "),
            config.data.split_seed
        );
    }
    let _ = writeln!(text, "{}", describe_features(config, p));
    let left_out: Vec<String> = prepared
        .roles
        .columns
        .iter()
        .filter_map(|(column, role)| {
            let why = match role {
                ColumnRole::Ignored => "--ignore",
                ColumnRole::Identifier => "identifier",
                ColumnRole::AllMissing => "no values",
                _ => return None,
            };
            Some(format!("`{column}` ({why})"))
        })
        .collect();
    if !left_out.is_empty() {
        let _ = writeln!(text, "Left out: {}", shorten(&left_out, 10));
    }

    let training = &config.training;
    let mut schedule = config.schedule.name.to_string();
    if config.schedule.warmup_epochs > 0 {
        let _ = write!(
            schedule,
            " after {} warm-up epochs",
            config.schedule.warmup_epochs
        );
    }
    let _ = writeln!(
        text,
        "Training: backend {}, {} lr {} ({schedule}), {} loss, batch {}, up to {} epochs, seed {}",
        config.backend,
        config.optimizer.kind,
        config.optimizer.learning_rate,
        config.loss(),
        training.batch_size.resolve(prepared.train.len()),
        training.num_epochs,
        training.seed
    );
    if training.patience > 0 {
        let watched = if prepared.validation.is_some() {
            "validation"
        } else {
            "training (no --val-split)"
        };
        let _ = writeln!(
            text,
            "Early stopping: after {} epochs without a {watched} loss improvement of more than {}; the best epoch's weights are kept",
            training.patience, training.min_delta
        );
    }
    let _ = writeln!(text, "{}", model.summary());
    text
}

/// The features line of the run description: each kind of input with its columns.
fn describe_features(config: &RunConfig, p: &nerve_data::Preprocessor) -> String {
    let mut numeric = Vec::new();
    let mut one_hot = Vec::new();
    let mut dates = Vec::new();
    for feature in &p.features {
        match feature {
            FeatureTransform::Numeric { column, .. } => numeric.push(format!("`{column}`")),
            FeatureTransform::Categorical {
                column,
                categories,
                infrequent,
                ..
            } => one_hot.push(if infrequent.is_empty() {
                format!("`{column}` ({})", categories.len())
            } else {
                format!(
                    "`{column}` ({} + infrequent of {})",
                    categories.len(),
                    categories.len() + infrequent.len()
                )
            }),
            FeatureTransform::Date { column, .. } => dates.push(format!("`{column}`")),
        }
    }
    let scaling = match config.data.standardize {
        Standardize::ZScore => "standardized on the training rows",
        Standardize::None => "as they are",
    };
    let mut parts = Vec::new();
    if !numeric.is_empty() {
        parts.push(format!(
            "{} numeric {} ({scaling})",
            numeric.len(),
            shorten(&numeric, 10)
        ));
    }
    if !one_hot.is_empty() {
        parts.push(format!("one-hot {}", shorten(&one_hot, 10)));
    }
    if !dates.is_empty() {
        parts.push(format!(
            "dates {} (year, month, day, weekday, days since the earliest)",
            shorten(&dates, 10)
        ));
    }
    format!("Features: {} -> {} inputs", parts.join("; "), p.d_input())
}

/// `name n, name n` for per-column counts.
fn counts(per_column: &[(String, usize)]) -> String {
    let parts: Vec<String> = per_column
        .iter()
        .map(|(column, n)| format!("`{column}` {n}"))
        .collect();
    parts.join(", ")
}

/// The first `max` names (each cut to a table cell's length), then how many more.
pub(crate) fn shorten(names: &[String], max: usize) -> String {
    let shown: Vec<String> = names.iter().take(max).map(|n| shorten_cell(n)).collect();
    if names.len() <= max {
        shown.join(", ")
    } else {
        format!("{}, ... ({} more)", shown.join(", "), names.len() - max)
    }
}

/// A trained model's metrics and predictions on one data set.
struct Evaluation {
    metrics: PartMetrics,
    /// Per row: the prediction as text (a class name or a value in the target's units).
    predicted: Vec<String>,
    /// Per row: the true target as text.
    actual: Vec<String>,
    /// Per row, for classification: the predicted class's probability.
    confidence: Option<Vec<f32>>,
}

impl Evaluation {
    fn new(
        trainer: &Trainer,
        model: &Mlp,
        config: &RunConfig,
        prepared: &Prepared,
        data: &Dataset,
        device: &Device,
    ) -> Result<Evaluation> {
        let metrics = trainer.evaluate(model, data, device)?;
        let (outputs, width) = outputs(model, config.loss(), data, device);
        let p = &prepared.preprocessor;
        let rows = data.len();
        Ok(match p.labels() {
            Some(labels) => {
                let class_of = |i: usize| -> (usize, f32) {
                    let (best, probabilities) =
                        class_probabilities(&outputs[i * width..(i + 1) * width]);
                    (best, probabilities[best])
                };
                let (predicted, confidence): (Vec<usize>, Vec<f32>) =
                    (0..rows).map(class_of).unzip();
                Evaluation {
                    metrics,
                    predicted: predicted.iter().map(|&k| labels[k].clone()).collect(),
                    actual: data
                        .targets()
                        .iter()
                        .map(|&t| labels[t as usize].clone())
                        .collect(),
                    confidence: Some(confidence),
                }
            }
            None => Evaluation {
                metrics,
                predicted: outputs
                    .iter()
                    .map(|&v| format!("{:.4}", p.decode_value(v)))
                    .collect(),
                actual: data
                    .targets()
                    .iter()
                    .map(|&v| p.decode_value(v).to_string())
                    .collect(),
                confidence: None,
            },
        })
    }

    /// One line: the main metrics.
    fn headline(&self) -> String {
        headline(&self.metrics)
    }

    /// The metrics as JSON, with the class names for classification.
    fn to_json(&self, prepared: &Prepared) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.metrics).unwrap_or_default();
        if let Some(labels) = prepared.preprocessor.labels() {
            value["labels"] = json!(labels);
        }
        value
    }
}

/// One row's class probabilities from `Loss::predictions` (softmax per class, or bce's single
/// P(second class) expanded to two), and the most likely class (the first on a tie, as the
/// trainer's argmax counts it).
pub(crate) fn class_probabilities(row: &[f32]) -> (usize, Vec<f32>) {
    let probabilities = match row {
        [p1] => vec![1.0 - p1, *p1],
        _ => row.to_vec(),
    };
    let best =
        probabilities.iter().enumerate().fold(
            0,
            |best, (k, &v)| if v > probabilities[best] { k } else { best },
        );
    (best, probabilities)
}

/// One line: a part's main metrics.
pub(crate) fn headline(part: &PartMetrics) -> String {
    match &part.scores {
        Scores::Classification(m) => format!(
            "loss {:.4}, accuracy {:.4}, macro-F1 {:.4} (precision {:.4}, recall {:.4})",
            part.loss, m.accuracy, m.f1_macro, m.precision_macro, m.recall_macro
        ),
        Scores::Regression(m) => format!(
            "R² {:.4}, MAE {:.4}, RMSE {:.4} (loss {:.4})",
            m.r2, m.mae, m.rmse, part.loss
        ),
    }
}

/// The network's outputs for every row, row-major, and their width: values for regression,
/// probabilities for classification.
pub(crate) fn outputs(
    model: &Mlp,
    loss: Loss,
    data: &Dataset,
    device: &Device,
) -> (Vec<f32>, usize) {
    let model = model.clone().fork(device);
    let output = loss.predictions(model.forward(data.features_tensor(device)));
    let [_, width] = output.dims();
    let values = output
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32 above");
    (values, width)
}

fn print_results(
    config: &RunConfig,
    prepared: &Prepared,
    outcome: &TrainOutcome,
    train: &Evaluation,
    validation: Option<Evaluation>,
    test: Option<Evaluation>,
) -> Result<()> {
    let mut text = String::new();
    let epochs = outcome.history.len();
    let seconds = outcome
        .history
        .last()
        .map_or(0.0, |r| r.elapsed.as_secs_f64());
    writeln!(
        text,
        "Trained {epochs} epochs ({}, {seconds:.2}s, {:.1} µs/epoch); final training {} loss {:.3e}",
        outcome.stop_reason.describe(),
        seconds * 1e6 / epochs.max(1) as f64,
        config.loss(),
        outcome.final_loss,
    )?;
    if outcome.best_epoch != epochs {
        writeln!(
            text,
            "Kept the weights of epoch {} (the best monitored loss)",
            outcome.best_epoch
        )?;
    }
    let (shown, rows) = match (&test, &validation) {
        (Some(test), _) => (test, &prepared.split.test),
        (None, Some(validation)) => (validation, &prepared.split.validation),
        (None, None) => (train, &prepared.split.train),
    };
    write_rows(&mut text, prepared, shown, rows)?;
    writeln!(
        text,
        "Train ({} rows): {}",
        train.metrics.rows,
        train.headline()
    )?;
    if let Some(validation) = &validation {
        writeln!(
            text,
            "Validation ({} rows): {}",
            validation.metrics.rows,
            validation.headline()
        )?;
    }
    if let Some(test) = &test {
        writeln!(
            text,
            "Test ({} rows): {}",
            test.metrics.rows,
            test.headline()
        )?;
        if let Scores::Classification(m) = &test.metrics.scores {
            write_confusion(&mut text, prepared.preprocessor.labels(), m)?;
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .or_else(ignore_broken_pipe)?;
    Ok(())
}

/// The first rows of an evaluated part: their file line, input columns as read, target and
/// prediction.
fn write_rows(
    text: &mut String,
    prepared: &Prepared,
    evaluation: &Evaluation,
    rows: &[usize],
) -> Result<()> {
    const SHOWN: usize = 10;
    // Wide data would make an unreadable table: show the first few inputs, then an ellipsis.
    const COLUMNS_SHOWN: usize = 6;
    let table = &prepared.table;
    let inputs: Vec<&str> = prepared
        .preprocessor
        .features
        .iter()
        .map(FeatureTransform::column)
        .collect();
    let hidden = inputs.len() > COLUMNS_SHOWN;
    let shown_inputs = &inputs[..inputs.len().min(COLUMNS_SHOWN)];
    let mut header: Vec<String> = vec!["line".to_owned()];
    header.extend(shown_inputs.iter().map(|&c| c.to_owned()));
    if hidden {
        header.push("…".to_owned());
    }
    header.push(prepared.preprocessor.target_name().to_owned());
    header.push("predicted".to_owned());
    if evaluation.confidence.is_some() {
        header.push("p".to_owned());
    }
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (i, &row) in rows.iter().enumerate().take(SHOWN) {
        let mut line = vec![table.line(row).to_string()];
        for &name in shown_inputs {
            line.push(table.column(name)?.display(row));
        }
        if hidden {
            line.push("…".to_owned());
        }
        line.push(evaluation.actual[i].clone());
        line.push(evaluation.predicted[i].clone());
        if let Some(confidence) = &evaluation.confidence {
            line.push(format!("{:.3}", confidence[i]));
        }
        lines.push(line);
    }
    write_aligned(text, &header, &lines)?;
    if rows.len() > SHOWN {
        writeln!(text, "  ... {} more rows", rows.len() - SHOWN)?;
    }
    Ok(())
}

/// The test confusion matrix with class names, for a handful of classes.
pub(crate) fn write_confusion(
    text: &mut String,
    labels: Option<&[String]>,
    metrics: &ClassificationMetrics,
) -> Result<()> {
    const MAX_CLASSES_SHOWN: usize = 12;
    let Some(labels) = labels else {
        return Ok(());
    };
    if labels.len() > MAX_CLASSES_SHOWN {
        return Ok(());
    }
    writeln!(
        text,
        "Confusion matrix (rows: true class, columns: predicted):"
    )?;
    let mut header = vec![String::new()];
    header.extend(labels.iter().cloned());
    let lines: Vec<Vec<String>> = labels
        .iter()
        .zip(&metrics.confusion_matrix)
        .map(|(label, counts)| {
            std::iter::once(label.clone())
                .chain(counts.iter().map(usize::to_string))
                .collect()
        })
        .collect();
    write_aligned(text, &header, &lines)
}

/// A right-aligned table.
pub(crate) fn write_aligned(
    text: &mut String,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<()> {
    let shown =
        |cells: &[String]| -> Vec<String> { cells.iter().map(|c| shorten_cell(c)).collect() };
    let header = shown(header);
    let rows: Vec<Vec<String>> = rows.iter().map(|r| shown(r)).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Padded by hand: `format!("{:>w$}")` panics for widths past 65,535.
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                let pad = w.saturating_sub(cell.chars().count());
                format!("{}{cell}", " ".repeat(pad))
            })
            .collect();
        format!("  {}", padded.join("  "))
    };
    writeln!(text, "{}", line(&header))?;
    for row in &rows {
        writeln!(text, "{}", line(row))?;
    }
    Ok(())
}

/// Table cells longer than this many characters are cut (a class label can be any length).
const MAX_CELL_CHARS: usize = 60;

/// A cell as a table shows it: at most [`MAX_CELL_CHARS`] characters, the cut marked with `...`.
fn shorten_cell(cell: &str) -> String {
    if cell.chars().count() <= MAX_CELL_CHARS {
        return cell.to_owned();
    }
    let kept: String = cell.chars().take(MAX_CELL_CHARS - 3).collect();
    format!("{kept}...")
}

/// What `metrics.json` holds and `--json` prints last: the run's outcome and the metrics of
/// each part.
fn summary_json(
    config: &RunConfig,
    prepared: &Prepared,
    outcome: &TrainOutcome,
    train: &Evaluation,
    validation: &Option<Evaluation>,
    test: &Option<Evaluation>,
) -> serde_json::Value {
    let seconds = outcome
        .history
        .last()
        .map_or(0.0, |r| r.elapsed.as_secs_f64());
    let mut summary = json!({
        "nerve_version": env!("CARGO_PKG_VERSION"),
        "data": config.data.path,
        "task": prepared.task,
        "target": prepared.preprocessor.target_name(),
        "backend": config.backend.name(),
        "stop_reason": outcome.stop_reason,
        "epochs_run": outcome.history.len(),
        "best_epoch": outcome.best_epoch,
        "seconds": seconds,
        "final_loss": outcome.final_loss,
        "train": train.to_json(prepared),
    });
    if let Some(labels) = prepared.preprocessor.labels() {
        summary["labels"] = json!(labels);
    }
    if let Some(validation) = validation {
        summary["validation"] = validation.to_json(prepared);
    }
    if let Some(test) = test {
        summary["test"] = test.to_json(prepared);
    }
    summary
}

pub(crate) fn ignore_broken_pipe(err: std::io::Error) -> std::io::Result<()> {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(err)
    }
}
