//! `nerve train`'s flags: the settings ([`SettingsArgs`]), and where the run starts from and
//! goes.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::settings_args::SettingsArgs;
use nerve_run::RunConfig;

/// Flags of `nerve train`: the settings, then `--init`/`--resume` and the output.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    pub(super) settings: SettingsArgs,
    /// Start from the weights (and the preprocessing) of a model file instead of random ones; its
    /// architecture is used, and the data must fit it [default: random weights]
    #[arg(long, value_name = "MODEL", help_heading = "Config")]
    pub(super) init: Option<PathBuf>,
    /// Continue an interrupted run from its folder's last checkpoint (its config.toml, its data);
    /// only --epochs and --checkpoint-every may change [default: a new run]
    #[arg(
        long,
        value_name = "RUN_DIR",
        conflicts_with_all = ["config", "out", "overwrite", "init"],
        help_heading = "Config"
    )]
    pub(super) resume: Option<PathBuf>,
    /// The memory a spiking network's training may take (8GiB, 500MB): one whose estimated
    /// activations for backpropagation through time exceed it is refused before training,
    /// with the figure [default: the memory available now (MemAvailable)]
    #[arg(long, value_name = "SIZE", value_parser = crate::numbers::parse_size, help_heading = "Config")]
    pub(super) memory_limit: Option<usize>,
    /// Print the fully resolved config (TOML) and exit without training.
    #[arg(long, help_heading = "Config")]
    pub(super) print_config: bool,

    /// Folder for the run's files: config.toml, history.csv, history.jsonl, metrics.json, the model
    /// and charts [default: runs/DATA-UTCTIME]
    #[arg(short, long, value_name = "DIR", help_heading = "Output")]
    pub(super) out: Option<PathBuf>,
    /// Let --out name a folder that holds an earlier run: nerve's own files of that run are
    /// removed first (files nerve did not name, such as a --save copy, stay).
    #[arg(long, help_heading = "Output")]
    pub(super) overwrite: bool,
    /// Also write the trained model to this file [default: only the run folder's copy]
    #[arg(long, value_name = "FILE.safetensors", help_heading = "Output")]
    pub(super) save: Option<PathBuf>,
    /// Write a checkpoint every N epochs, for --resume; 0: never.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Output",
        allow_negative_numbers = true
    )]
    pub(super) checkpoint_every: Option<usize>,
    /// Print JSON lines on stdout (one per epoch, then a summary); progress stays on stderr.
    #[arg(long, help_heading = "Output")]
    pub(super) json: bool,
    /// No progress and no description of the run on stderr.
    #[arg(short, long, help_heading = "Output")]
    pub(super) quiet: bool,
}

/// `nerve train --help`'s examples.
const EXAMPLES: &str = "\
Examples:
  nerve train                        # the tutorial's 4-5-1 network on XOR
  nerve train --data iris            # a built-in data set, default settings
  nerve train --config iris          # the same with its tuned settings
  nerve train -d churn.csv -t Churn --ignore id --val-split 0.2 --patience 20
  nerve train -d prices.csv.gz --hidden 64,32 --dropout 0.1 -e 500 -o runs/p
  nerve train --resume runs/p -e 800 # continue that run to 800 epochs";

impl TrainArgs {
    /// The config file (or the defaults, or with `--resume` the run's config), with every
    /// given flag applied on top.
    pub(super) fn resolve(&self) -> Result<RunConfig> {
        let base = match &self.resume {
            Some(dir) => RunConfig::load(&dir.join("config.toml"))
                .with_context(|| format!("{} is not a run folder to resume", dir.display()))?,
            None => self.settings.base()?,
        };
        let mut config = self.settings.overlay(base, self.init.is_some())?;
        if let Some(every) = self.checkpoint_every {
            config.training.checkpoint_every = every;
        }
        config.validate()?;
        Ok(config)
    }
}
