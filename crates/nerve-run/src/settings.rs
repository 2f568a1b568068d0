//! The run's settings, declared once: each [`Setting`] pairs a command-line flag with the
//! dotted key of the run config it sets, and one merge rule ([`RunConfig::with_values`]) lays
//! values over a config by key. The CLI's flag overlay, `--help`'s defaults, the list of
//! spiking flags, a search space's trials (`nerve tune`) and `--resume`'s comparison
//! ([`RunConfig::changed_keys`]) all read this table, as uv's settings are declared once
//! and combined by one rule (`crates/uv-settings`).

use serde_json::Value;

use crate::{Result, RunConfig, RunError};

/// One setting: the flag that sets it and where it lives in a run config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The flag's id: its long name with `_` for `-` (`lr` is `--lr`, `beta_1` `--beta-1`).
    pub flag: &'static str,
    /// The dotted key in the run config (`optimizer.learning_rate`).
    pub key: &'static str,
    /// Whether `--help` shows the config's default for it (`false` where the default is a
    /// sentence of the flag's help: "the last column", "detected", "none").
    pub default_shown: bool,
}

impl Setting {
    /// The flag as typed: `--beta-1`.
    pub fn long(&self) -> String {
        format!("--{}", self.flag.replace('_', "-"))
    }

    /// Whether it sets a spiking network's `[spiking]` table.
    pub fn is_spiking(&self) -> bool {
        self.key.starts_with("spiking.")
    }
}

const fn shown(flag: &'static str, key: &'static str) -> Setting {
    Setting {
        flag,
        key,
        default_shown: true,
    }
}

const fn told(flag: &'static str, key: &'static str) -> Setting {
    Setting {
        flag,
        key,
        default_shown: false,
    }
}

/// Every setting a flag sets, in `--help`'s order.
pub const SETTINGS: [Setting; 64] = [
    told("data", "data.path"),
    told("target", "data.target"),
    told("task", "data.task"),
    told("ignore", "data.ignore"),
    told("weight_column", "data.weight_column"),
    told("delimiter", "data.delimiter"),
    shown("missing", "data.missing"),
    told("na_values", "data.na_values"),
    told("thousands", "data.thousands"),
    told("categorical", "data.categorical"),
    told("numeric", "data.numeric"),
    shown("max_categories", "data.max_categories"),
    shown("standardize", "data.standardize"),
    shown("standardize_target", "data.standardize_target"),
    shown("test_split", "data.test_split"),
    shown("val_split", "data.val_split"),
    shown("split_seed", "data.split_seed"),
    shown("hidden", "model.d_hidden"),
    shown("activation", "model.activation"),
    shown("dropout", "model.dropout"),
    shown("initializer", "model.initializer"),
    shown("neuron", "spiking.neuron"),
    shown("time_steps", "spiking.time_steps"),
    shown("beta", "spiking.beta"),
    shown("synaptic_alpha", "spiking.alpha"),
    shown("threshold", "spiking.threshold"),
    shown("learn_beta", "spiking.learn_beta"),
    shown("learn_threshold", "spiking.learn_threshold"),
    shown("reset", "spiking.reset"),
    shown("detach_reset", "spiking.detach_reset"),
    shown("surrogate", "spiking.surrogate"),
    told("slope", "spiking.slope"),
    shown("encoding", "spiking.encoding"),
    shown("readout", "spiking.readout"),
    told("loss", "loss.name"),
    told("class_weight", "loss.class_weight"),
    shown("optimizer", "optimizer.name"),
    shown("lr", "optimizer.learning_rate"),
    shown("momentum", "optimizer.momentum"),
    told("nesterov", "optimizer.nesterov"),
    told("weight_decay", "optimizer.weight_decay"),
    shown("beta_1", "optimizer.beta_1"),
    shown("beta_2", "optimizer.beta_2"),
    shown("epsilon", "optimizer.epsilon"),
    shown("alpha", "optimizer.alpha"),
    shown("schedule", "schedule.name"),
    shown("warmup_epochs", "schedule.warmup_epochs"),
    shown("step_size", "schedule.step_size"),
    shown("gamma", "schedule.gamma"),
    shown("min_lr", "schedule.min_lr"),
    shown("plateau_patience", "schedule.patience"),
    shown("plateau_factor", "schedule.factor"),
    shown("plateau_threshold", "schedule.threshold"),
    shown("plateau_cooldown", "schedule.cooldown"),
    shown("epochs", "training.num_epochs"),
    shown("batch_size", "training.batch_size"),
    shown("patience", "training.patience"),
    shown("early_stopping", "training.early_stopping"),
    shown("min_delta", "training.min_delta"),
    shown("monitor", "training.monitor"),
    told("clip_grad_norm", "training.clip_grad_norm"),
    shown("tol", "training.tol"),
    shown("seed", "training.seed"),
    shown("backend", "backend"),
];

/// Settings beside [`SETTINGS`] that only some commands' flags set (`nerve train`'s).
pub const MORE_SETTINGS: [Setting; 1] = [shown("checkpoint_every", "training.checkpoint_every")];

/// The setting a flag sets (`flag` as its id, `beta_1`).
pub fn setting(flag: &str) -> Option<&'static Setting> {
    SETTINGS
        .iter()
        .chain(&MORE_SETTINGS)
        .find(|setting| setting.flag == flag)
}

impl RunConfig {
    /// The config as a JSON object: the tree of its keys, as the model file's metadata holds
    /// it (JSON rather than TOML, whose integers stop at 2⁶³ − 1 where a flag's reach u64).
    ///
    /// # Errors
    ///
    /// A value JSON cannot hold ([`RunError::Serialize`]).
    pub fn to_json(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|err| RunError::Serialize {
            what: "the run config as JSON",
            message: err.to_string(),
        })
    }

    /// The value at a dotted `key` (`optimizer.learning_rate`), or `None` where the config
    /// leaves it unset.
    ///
    /// # Errors
    ///
    /// As [`RunConfig::to_json`].
    pub fn value(&self, key: &str) -> Result<Option<Value>> {
        let mut at = Some(self.to_json()?);
        for part in key.split('.') {
            at = at.and_then(|mut value| value.get_mut(part).map(Value::take));
        }
        Ok(at.filter(|value| !value.is_null()))
    }

    /// The config with each `(dotted key, value)` set, read again as a run config (so a
    /// value of the wrong type is refused as in a config file); not validated.
    ///
    /// # Errors
    ///
    /// A key whose section is a setting ([`RunError::Setting`]), or a value the config does
    /// not take ([`RunError::Settings`], with serde's reason: the field and what it expects).
    pub fn with_values<K: AsRef<str>>(&self, values: &[(K, Value)]) -> Result<RunConfig> {
        let mut tree = self.to_json()?;
        for (key, value) in values {
            let key = key.as_ref();
            let mut parts: Vec<&str> = key.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            let mut at = &mut tree;
            for part in parts {
                let Some(object) = at.as_object_mut() else {
                    return Err(RunError::setting(format!(
                        "`{key}`: `{part}` is under a setting, not a section"
                    )));
                };
                at = object
                    .entry(part.to_owned())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
            }
            match at.as_object_mut() {
                Some(object) => {
                    object.insert(last.to_owned(), value.clone());
                }
                None => {
                    return Err(RunError::setting(format!(
                        "`{key}`: its section is a setting, not a section"
                    )));
                }
            }
        }
        serde_json::from_value(tree).map_err(|source| RunError::Settings { source })
    }

    /// The dotted keys (`training.seed`) whose values differ between this config and
    /// `other`, sorted.
    ///
    /// # Errors
    ///
    /// As [`RunConfig::to_json`].
    pub fn changed_keys(&self, other: &RunConfig) -> Result<Vec<String>> {
        let mut changed = Vec::new();
        differing("", &self.to_json()?, &other.to_json()?, &mut changed);
        Ok(changed)
    }
}

/// The dotted keys whose values differ between two JSON trees.
fn differing(prefix: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return;
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let null = Value::Null;
    for key in keys {
        let name = format!("{prefix}{key}");
        match (a.get(key).unwrap_or(&null), b.get(key).unwrap_or(&null)) {
            (x @ Value::Object(_), y @ Value::Object(_)) => {
                differing(&format!("{name}."), x, y, out);
            }
            (x, y) if x != y => out.push(name),
            _ => {}
        }
    }
}

/// `plain`, or `f` in exponent form where it is tiny.
fn short(f: f64, plain: String) -> String {
    if f != 0.0 && f.abs() < 1e-4 {
        format!("{:e}", f as f32)
    } else {
        plain
    }
}

/// A setting's value as a flag takes it: a name or number as written, a list comma-separated,
/// a tiny number in exponent form (`1e-8`).
pub fn flag_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            // An f32 setting (Adam's betas) widened to f64 for JSON: written as the f32 it is.
            Some(f) if f64::from(f as f32) == f => {
                short(f64::from(f as f32), (f as f32).to_string())
            }
            Some(f) => short(f, f.to_string()),
            None => n.to_string(),
        },
        Value::Array(items) => items.iter().map(flag_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of a run config with every setting set (the spiking table's and the
    /// optional ones included) is some setting's, and every setting's key is one of them: the
    /// table cannot drift from the config's fields.
    #[test]
    fn every_config_key_has_a_setting_and_back() {
        let config = RunConfig::parse(
            r#"
            [data]
            path = "d.csv"
            target = "y"
            task = "classification"
            ignore = ["id"]
            weight_column = "w"
            delimiter = ";"
            na_values = ["?"]
            thousands = "."
            categorical = ["c"]
            numeric = ["n"]
            [loss]
            name = "cross-entropy"
            class_weight = "balanced"
            [optimizer]
            weight_decay = 0.1
            [training]
            clip_grad_norm = 1.0
            [spiking]
            slope = 25.0
            "#,
            "full",
            None,
        )
        .unwrap()
        .resolved();
        fn walk(prefix: &str, tree: &Value, out: &mut Vec<String>) {
            for (key, value) in tree.as_object().unwrap() {
                match value {
                    Value::Object(_) => walk(&format!("{prefix}{key}."), value, out),
                    Value::Null => {}
                    _ => out.push(format!("{prefix}{key}")),
                }
            }
        }
        let mut keys = Vec::new();
        walk("", &config.to_json().unwrap(), &mut keys);
        let all: Vec<&Setting> = SETTINGS.iter().chain(&MORE_SETTINGS).collect();
        for key in &keys {
            assert!(
                all.iter().any(|s| s.key == key),
                "`{key}` has no flag in SETTINGS"
            );
        }
        for setting in all {
            assert!(
                keys.iter().any(|k| k == setting.key),
                "{} names `{}`, which no config has",
                setting.flag,
                setting.key
            );
        }
    }

    #[test]
    fn values_are_laid_over_by_key_and_differences_named() {
        let base = RunConfig::for_data("d.csv");
        let changed = base
            .with_values(&[
                ("optimizer.learning_rate", Value::from(0.5)),
                ("training.seed", Value::from(7)),
            ])
            .unwrap();
        assert_eq!(changed.optimizer.learning_rate, 0.5);
        assert_eq!(changed.training.seed, 7);
        assert_eq!(
            changed.changed_keys(&base).unwrap(),
            ["optimizer.learning_rate", "training.seed"]
        );
        assert_eq!(
            changed.value("training.seed").unwrap(),
            Some(Value::from(7))
        );
        assert_eq!(changed.value("loss.name").unwrap(), None);
        let err = base
            .with_values(&[("training.seed", Value::from("x"))])
            .unwrap_err();
        let RunError::Settings { source } = &err else {
            panic!("{err:?}");
        };
        assert!(
            source.to_string().contains("invalid type: string \"x\""),
            "{err}"
        );
        // A flag's u64 is beyond TOML's integers, not JSON's.
        let far = base
            .with_values(&[("training.num_epochs", Value::from(u64::MAX))])
            .unwrap();
        assert_eq!(far.training.num_epochs, usize::MAX);
        let err = base
            .with_values(&[("training.seed.x", Value::from(1))])
            .unwrap_err();
        assert!(err.to_string().contains("not a section"), "{err}");
        assert_eq!(setting("beta_1").unwrap().long(), "--beta-1");
        assert_eq!(flag_text(&Value::from(1e-8)), "1e-8");
        assert_eq!(flag_text(&Value::from(0.001)), "0.001");
        assert_eq!(flag_text(&Value::from(f64::from(0.9_f32))), "0.9");
        assert_eq!(flag_text(&serde_json::json!([64, 32])), "64,32");
    }
}
