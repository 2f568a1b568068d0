//! [`TrainSettings`]: `nerve train`'s flags resolved before anything runs — the run config,
//! the run folder locked, the refusals that need no data (a changed `--resume`, an earlier
//! run in `--out`), the device and an `--init` model.

use anyhow::{Result, bail};
use burn::prelude::Device;
use nerve_run::{RunConfig, SavedModel};

use super::TrainArgs;
use super::refuse_changed_settings;
use crate::run_lock::RunLock;

/// The flags, the resolved config and what they decided.
pub(super) struct TrainSettings {
    /// The flags as given (their folders made lexical).
    pub(super) args: TrainArgs,
    /// The config, flags applied and validated; an `--init` model's architecture in `[model]`.
    pub(super) config: RunConfig,
    /// The run folder's lock, held until the run ends (none for `--print-config` or the
    /// default folder, which is locked when made).
    pub(super) lock: Option<RunLock>,
    /// The training device of the config's backend.
    pub(super) device: Device,
    /// The `--init` model.
    pub(super) init: Option<SavedModel>,
}

impl TrainSettings {
    /// Resolves `args`: checks what needs no data, locks the folder before anything in it is
    /// read or written, and loads an `--init` model.
    ///
    /// # Errors
    ///
    /// A setting no run can take, a folder another run holds or that holds an earlier run, a
    /// changed `--resume`, an unreadable `--init`.
    pub(super) fn resolve(mut args: TrainArgs) -> Result<TrainSettings> {
        // `runs/x/.` and `runs/x/` name `runs/x` (create_dir_all fails on a trailing `.`), and
        // `a/b/../c` names `a/c` (creating it must not make `a/b`).
        for folder in [&mut args.out, &mut args.resume].into_iter().flatten() {
            *folder = crate::output_paths::lexical(folder);
        }
        if cfg!(debug_assertions) && !args.json && !args.quiet {
            eprintln!(
                "warning: this is a debug build of nerve; training will be slow. Build with `cargo run --release -p nerve -- train`."
            );
        }
        if let Some(save) = &args.save {
            // The run folder is made before the model is saved, so `--save` may point inside it.
            let run_folder = args.out.as_deref().or(args.resume.as_deref());
            crate::output_paths::check_save(save, run_folder)?;
        }
        let mut config = args.resolve()?;
        if config.training.num_epochs == 0 && args.init.is_none() {
            bail!(
                "--epochs 0 would save an untrained model of random weights; give at least 1 epoch, or use --init MODEL to evaluate and save that model as it is"
            );
        }
        if let Some(out) = &args.out {
            crate::output_paths::refuse_nested_run(out)?;
        }
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
            .map(|path| SavedModel::load(path, &device))
            .transpose()?;
        if let Some(init) = &init {
            // The file's architecture, so its weights fit; the data decides the widths again.
            let mut architecture = init.info.architecture.clone().with_widths(0, 0);
            config.spiking = architecture.spiking.take();
            // Dropout acts on training only: the one architecture setting --init may change.
            if let Some(dropout) = args.settings.dropout {
                architecture.dropout = dropout;
            }
            config.model = architecture;
        }
        Ok(TrainSettings {
            args,
            config,
            lock,
            device,
            init,
        })
    }

    /// Whether the run is described on stderr (neither `--json` nor `--quiet`).
    pub(super) fn chatty(&self) -> bool {
        !self.args.json && !self.args.quiet
    }
}
