//! [`RunPlan`]: everything `nerve train` checks before it writes a file — the table read,
//! prepared (with an `--init` model's or a checkpoint's preprocessing) and settled, the fit
//! planned (nerve-run's [`FitPlan`]), the memory a spiking network needs, the network made or
//! the checkpoint verified and loaded. A refused run leaves its folder as it was.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Result, bail};
use nerve_data::{Prepared, prepare};
use nerve_model::Mlp;
use nerve_run::{FitPlan, RunConfig};

use super::settings::TrainSettings;
use super::use_preprocessing;
use crate::checkpoint::{self, Loaded};
use crate::run_dir::read_run_id;

/// A run ready to train.
pub(super) struct RunPlan {
    pub(super) settings: TrainSettings,
    /// The resolved config, as the run folder records it.
    pub(super) config: RunConfig,
    pub(super) prepared: Prepared,
    pub(super) fit: FitPlan,
    /// The network to train: new and seeded, or the `--init` model (taken by the training).
    pub(super) model: Option<Mlp>,
    /// The checkpoint `--resume` continues, loaded.
    pub(super) resume: Option<Loaded>,
    /// What a checkpoint records of the config and of the training rows.
    pub(super) config_sha256: String,
    pub(super) data_sha256: String,
}

impl RunPlan {
    /// The plan for `settings`; `None` once `--print-config` has printed the config.
    ///
    /// # Errors
    ///
    /// The data cannot be read or prepared or does not fit an `--init` model or the
    /// checkpoint; a setting does not fit the data; the network would not fit in memory; the
    /// checkpoint is damaged, another run's, or already finished.
    pub(super) fn new(mut settings: TrainSettings) -> Result<Option<RunPlan>> {
        let mut config = settings.config.clone();
        let table = nerve_run::load_table(&mut config)?;
        let mut prepared = prepare(table, &config.data.prepare_options())?;
        if let Some(init) = &settings.init {
            let path = settings
                .args
                .init
                .as_deref()
                .unwrap_or(Path::new("the model"));
            use_preprocessing(&mut prepared, &init.preprocessor, path)?;
        }
        nerve_run::settle(&mut config, &prepared)?;
        let config = config.resolved();
        if settings.args.print_config {
            std::io::stdout()
                .lock()
                .write_all(config.to_toml()?.as_bytes())?;
            return Ok(None);
        }
        // The checkpoint is checked before anything is written: a refused `--resume` (another
        // network, a damaged checkpoint) must leave the run folder as it was (issue 14). Its
        // rows are transformed with the preprocessing it trained with.
        let config_sha256 = config.checkpoint_hash()?;
        let checkpoint = match &settings.args.resume {
            Some(dir) => {
                let verified = checkpoint::open(dir, &read_run_id(dir)?, &config_sha256)?;
                let source = dir.join(checkpoint::FOLDER);
                use_preprocessing(&mut prepared, verified.preprocessor(), &source)?;
                anyhow::ensure!(
                    config.training.num_epochs >= verified.epoch(),
                    "--resume {}: its checkpoint is of epoch {}, past --epochs {}; give --epochs {} or more",
                    dir.display(),
                    verified.epoch(),
                    config.training.num_epochs,
                    verified.epoch()
                );
                Some(verified)
            }
            None => None,
        };
        // Planned before the run folder is made: a quantity the run cannot watch, class
        // weights the rows cannot have or an invalid network is a usage error.
        let fit = FitPlan::new(
            &config,
            &prepared.preprocessor,
            &prepared.train,
            prepared.validation.as_ref().is_some_and(|v| !v.is_empty()),
            prepared.table.source_name(),
        )?;
        // Before the run folder is made: a run that cannot fit would abort mid-epoch.
        let limit = settings.args.memory_limit;
        check_memory(&fit.architecture, &config, prepared.train.len(), limit)?;
        let model = network(&mut settings, &fit, &prepared)?;
        let data_sha256 = checkpoint::data_hash(
            &std::iter::once(&prepared.train)
                .chain(prepared.validation.as_ref())
                .collect::<Vec<_>>(),
        );
        let resume = checkpoint
            .map(|verified| verified.load(&data_sha256, &fit.architecture, &settings.device))
            .transpose()?;
        if let (Some(loaded), Some(dir)) = (&resume, &settings.args.resume)
            && let Some(reason) = loaded.resume.finished(&fit.train_config)
        {
            bail!("--resume {}: {reason}", dir.display());
        }
        Ok(Some(RunPlan {
            settings,
            config,
            prepared,
            fit,
            model: Some(model),
            resume,
            config_sha256,
            data_sha256,
        }))
    }
}

/// The network to train: the `--init` model, if its widths fit the data, else a new one.
fn network(settings: &mut TrainSettings, fit: &FitPlan, prepared: &Prepared) -> Result<Mlp> {
    let Some(init) = settings.init.take() else {
        return Ok(fit.new_network(&prepared.train, &settings.device));
    };
    let (found, planned) = (&init.info.architecture, &fit.architecture);
    anyhow::ensure!(
        found.d_input == planned.d_input && found.d_output == planned.d_output,
        "the model in {} takes {} inputs and gives {} outputs, but this data needs {} and {}",
        settings
            .args
            .init
            .as_deref()
            .unwrap_or(Path::new("?"))
            .display(),
        found.d_input,
        found.d_output,
        planned.d_input,
        planned.d_output
    );
    Ok(init.model)
}

/// Refuses a spiking network whose training would not fit in memory: its estimated activations
/// for backpropagation through time ([`nerve_model::spiking::training_memory`]) against
/// `--memory-limit`, or the memory available now (`MemAvailable` of /proc/meminfo; no check
/// where it cannot be read). The refusal gives the figure and the batch size that would fit.
fn check_memory(
    mlp: &nerve_model::MlpConfig,
    config: &RunConfig,
    train_rows: usize,
    limit: Option<usize>,
) -> Result<()> {
    let batch = config
        .training
        .batch_size
        .resolve(train_rows)
        .min(train_rows)
        .max(1);
    let trace_rows = train_rows.min(nerve_train::SILENCE_SAMPLE_ROWS);
    let Some(needed) = nerve_model::spiking::training_memory(mlp, batch, trace_rows) else {
        return Ok(());
    };
    let (limit, what) = match limit {
        Some(0) => bail!("--memory-limit 0: give the memory training may take, such as 8GiB"),
        Some(limit) => (limit as u64, "--memory-limit"),
        None => match available_memory() {
            Some(available) => (available, "the memory available now"),
            None => return Ok(()),
        },
    };
    if needed.peak() <= limit {
        return Ok(());
    }
    let steps = mlp.spiking.as_ref().map_or(0, |s| s.time_steps);
    let neurons = mlp.d_hidden.iter().sum::<usize>() + mlp.d_output;
    let limit_text = crate::numbers::bytes(limit);
    let change = "fewer --time-steps or a narrower --hidden (it grows with each)";
    if needed.graph <= limit {
        // The trace does not depend on the batch: only the network's size changes it.
        bail!(
            "this spiking network's training would keep about {} to trace which layers fire after each epoch ({steps} time steps x {trace_rows} rows x {neurons} neurons), more than {what} ({limit_text}); give {change}",
            crate::numbers::bytes(needed.trace)
        );
    }
    let fitting_batch = (batch as f64 * limit as f64 / needed.graph as f64).floor() as usize;
    // A smaller batch helps only where the trace fits.
    let hint = if fitting_batch >= 1 && fitting_batch < batch && needed.trace <= limit {
        format!("--batch-size {fitting_batch} or less, or ")
    } else {
        String::new()
    };
    bail!(
        "this spiking network's training would keep about {} of activations for backpropagation through time ({steps} time steps x {batch} rows a batch x {neurons} neurons, several f32 tensors each), more than {what} ({limit_text}); give {hint}{change}",
        crate::numbers::bytes(needed.graph),
    )
}

/// `MemAvailable` of /proc/meminfo, in bytes (Linux; `None` elsewhere).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
