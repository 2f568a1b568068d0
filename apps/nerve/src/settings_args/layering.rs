//! How the settings flags layer over a run config: `--config`'s (or the defaults for
//! `--data`, or the tutorial's) with each given flag laid over it by its dotted key (nerve-run's
//! [`SETTINGS`]), the checks that are rules rather than keys (`--network`, spiking flags on a
//! rate network, `--init`), and `--help`'s defaults read from the same table.

use anyhow::{Context, Result, bail};
use nerve_model::SpikingConfig;
use nerve_model::spiking::Neuron;
use nerve_run::{RunConfig, SETTINGS, Setting};

use super::{Network, SettingsArgs};

/// Appends to each settings flag's help (of `train`, `cv`, `tune`) the default it takes with `--data` (from
/// [`RunConfig::for_data`], so the text cannot drift from the code): clap cannot show it
/// itself, since a flag left out must leave `--config`'s value alone.
pub(crate) fn with_defaults(command: clap::Command) -> clap::Command {
    let mut defaults = RunConfig::for_data("DATA");
    defaults.spiking = Some(SpikingConfig::default());
    // `mut_args` keeps the flags in order (`mut_arg` would move each to the end, and with it
    // its heading).
    command.mut_args(|arg| {
        let default = match arg.get_id().as_str() {
            "network" => Some("rate".to_owned()),
            id => nerve_run::setting(id)
                .filter(|setting| setting.default_shown)
                .and_then(|setting| defaults.value(setting.key).ok().flatten())
                .map(|value| nerve_run::flag_text(&value)),
        };
        match default {
            Some(value) => {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                arg.help(format!("{help} [default: {value}]"))
            }
            None => arg,
        }
    })
}

impl SettingsArgs {
    /// The config every flag is applied on: `--config`'s, else the defaults for `--data`, else
    /// the tutorial's network.
    ///
    /// # Errors
    ///
    /// A `--config` that is neither a readable config file nor a built-in config's name.
    pub(crate) fn base(&self) -> Result<RunConfig> {
        match (&self.config, &self.data) {
            (Some(config), _) => load_config(config),
            (None, Some(data)) => Ok(RunConfig::for_data(data)),
            (None, None) => Ok(RunConfig::parse(
                nerve_run::builtin::XOR_CONFIG,
                "configs/xor.toml",
                None,
            )?),
        }
    }

    /// [`SettingsArgs::base`] with every given flag applied on top, checked.
    ///
    /// # Errors
    ///
    /// As [`SettingsArgs::overlay`].
    pub(crate) fn resolve(&self) -> Result<RunConfig> {
        let config = self.overlay(self.base()?, false)?;
        config.validate()?;
        Ok(config)
    }

    /// The given flags, each with its setting and value (as a config file writes it), in
    /// [`SETTINGS`]' order.
    fn given(&self) -> Result<Vec<(&'static Setting, serde_json::Value)>> {
        let mut flags = serde_json::to_value(self).context("cannot read the flags")?;
        let given = SETTINGS
            .iter()
            .filter_map(|setting| {
                let value = flags.get_mut(setting.flag).map(serde_json::Value::take)?;
                (!value.is_null()).then_some((setting, value))
            })
            .collect();
        // A flag given but in no setting would be dropped without a word: a bug, said so.
        if let Some((flag, _)) = flags
            .as_object()
            .and_then(|rest| rest.iter().find(|(_, value)| !value.is_null()))
        {
            bail!(
                "--{} sets nothing: it has no entry in nerve-run's SETTINGS (a bug in nerve; please report it)",
                flag.replace('_', "-")
            );
        }
        Ok(given)
    }

    /// `config` with every given flag applied on top (not yet validated). With `init` (a
    /// model file gives the network), flags that would change the network are refused.
    ///
    /// # Errors
    ///
    /// A spiking flag on a rate network, or a network flag with `init`.
    pub(crate) fn overlay(&self, mut config: RunConfig, init: bool) -> Result<RunConfig> {
        let mut given = self.given()?;
        let spiking_given: Vec<String> = given
            .iter()
            .filter(|(setting, _)| setting.is_spiking())
            .map(|(setting, _)| setting.long())
            .collect();
        if init {
            // The architecture comes from the model file; these flags would be ignored.
            let architecture = given
                .iter()
                .filter(|(s, _)| ["hidden", "activation", "initializer"].contains(&s.flag))
                .map(|(s, _)| s.long())
                .chain(self.network.map(|_| "--network".to_owned()))
                .chain(spiking_given.iter().cloned())
                .next();
            if let Some(flag) = architecture {
                bail!(
                    "{flag} would change the network, but --init takes the network from its model file (its layers, neurons and coding); leave {flag} out, or train a new network without --init"
                );
            }
        } else {
            match self.network {
                Some(Network::Spiking) if config.spiking.is_none() => {
                    config.spiking = Some(SpikingConfig::default());
                }
                Some(Network::Rate) => config.spiking = None,
                _ => {}
            }
            match &config.spiking {
                None => {
                    if let Some(flag) = spiking_given.first() {
                        bail!(
                            "{flag} sets a spiking network, but this network is a rate network; add --network spiking"
                        );
                    }
                }
                Some(_) if self.activation.is_some() => bail!(
                    "--activation sets the rate units' activation, but a spiking network's hidden units are neurons (see --neuron); leave --activation out"
                ),
                // A new surrogate takes its own default slope unless one is given.
                Some(spiking)
                    if self.surrogate.is_some_and(|s| s != spiking.surrogate)
                        && self.slope.is_none() =>
                {
                    if let Some(s) = config.spiking.as_mut() {
                        s.slope = None;
                    }
                }
                Some(_) => {}
            }
        }
        let values: Vec<(&str, serde_json::Value)> = given
            .drain(..)
            .map(|(setting, value)| (setting.key, value))
            .collect();
        let config = config.with_values(&values)?;
        if let Some(spiking) = &config.spiking
            && self.synaptic_alpha.is_some()
            && spiking.neuron != Neuron::Synaptic
        {
            bail!(
                "--synaptic-alpha sets the synaptic current's decay, but {} neurons have none; add --neuron synaptic",
                spiking.neuron
            );
        }
        Ok(config)
    }
}

/// `--config`: a file, else a built-in data set's tuned config by name.
fn load_config(config: &str) -> Result<RunConfig> {
    let path = std::path::Path::new(config);
    if path.is_file() {
        return Ok(RunConfig::load(path)?);
    }
    if let Some(builtin) = nerve_run::builtin::dataset(config) {
        return Ok(RunConfig::parse(
            builtin.config,
            &format!("configs/{config}.toml (built in)"),
            None,
        )?);
    }
    RunConfig::load(path).with_context(|| {
        format!(
            "--config {config} is neither a file nor a built-in config (built-in: {})",
            nerve_run::builtin::config_names().join(", ")
        )
    })
}
