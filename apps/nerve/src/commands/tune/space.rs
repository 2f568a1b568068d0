//! [`Space`]: a search space read from TOML — each setting of a run config (by its place in
//! config.toml: `[optimizer] learning_rate`) with a list of values for a grid, or a range to
//! draw from for random search — and the trials drawn from it.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use toml::de::{DeTable, DeValue};

use nerve_run::RunConfig;

/// How one setting varies.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Domain {
    /// These values, every one in a grid, one drawn uniformly in a random search (scikit-learn's
    /// `ParameterGrid` / `ParameterSampler` lists).
    List(Vec<toml::Value>),
    /// One of these values, drawn uniformly: a list that makes the search random.
    Choice(Vec<toml::Value>),
    /// A float drawn uniformly from `[low, high]`.
    Uniform(f64, f64),
    /// A float whose logarithm is drawn uniformly: `loguniform(low, high)` (scipy.stats).
    LogUniform(f64, f64),
    /// An integer drawn uniformly from `low..=high`.
    Int(i64, i64),
}

impl Domain {
    /// Whether it can be enumerated (a grid).
    fn is_list(&self) -> bool {
        matches!(self, Domain::List(_))
    }

    /// One value, drawn with `rng`.
    fn draw(&self, rng: &mut StdRng) -> toml::Value {
        match self {
            Domain::List(values) | Domain::Choice(values) => {
                values[rng.random_range(0..values.len())].clone()
            }
            Domain::Uniform(low, high) => {
                toml::Value::Float(low + (high - low) * rng.random::<f64>())
            }
            Domain::LogUniform(low, high) => {
                let (a, b) = (low.ln(), high.ln());
                toml::Value::Float((a + (b - a) * rng.random::<f64>()).exp())
            }
            Domain::Int(low, high) => toml::Value::Integer(rng.random_range(*low..=*high)),
        }
    }

    /// The values that stand for the domain when each is checked against the config: every
    /// listed value, or a range's ends.
    fn examples(&self) -> Vec<toml::Value> {
        match self {
            Domain::List(values) | Domain::Choice(values) => values.clone(),
            Domain::Uniform(low, high) | Domain::LogUniform(low, high) => {
                vec![toml::Value::Float(*low), toml::Value::Float(*high)]
            }
            Domain::Int(low, high) => vec![toml::Value::Integer(*low), toml::Value::Integer(*high)],
        }
    }
}

/// A setting of the search: its dotted key (`optimizer.learning_rate`), its domain, and the
/// line of the space file it is on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parameter {
    pub(crate) key: String,
    pub(crate) domain: Domain,
    pub(crate) line: usize,
}

/// A search space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Space {
    /// The parameters, in the order of the file.
    pub(crate) parameters: Vec<Parameter>,
}

/// One trial's settings: each parameter's key and value.
pub(crate) type Params = Vec<(String, toml::Value)>;

/// The names of the random domains, as written in a space file.
const DISTRIBUTIONS: [&str; 4] = ["uniform", "log-uniform", "int", "choice"];

impl Space {
    /// Reads a space file's text (`origin` names it in errors).
    ///
    /// # Errors
    ///
    /// TOML that does not parse, or a setting whose value is neither a list nor one of the
    /// ranges, each named by its line and key.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Space> {
        let table = DeTable::parse(text).map_err(|err| {
            let line = err.span().map_or(0, |span| line_of(text, span.start));
            anyhow::anyhow!("{origin}: line {line}: not TOML: {}", err.message())
        })?;
        let mut parameters = Vec::new();
        walk(text, origin, "", table.get_ref(), &mut parameters)?;
        // The file's order (a TOML table's keys come sorted).
        parameters.sort_by_key(|p| p.line);
        if parameters.is_empty() {
            bail!(
                "{origin}: no settings to search; give each a list of values (`learning_rate = [0.001, 0.01]` under `[optimizer]`) or a range (`learning_rate = {{ log-uniform = [1e-4, 1e-1] }}`)"
            );
        }
        Ok(Space { parameters })
    }

    /// Each parameter as a line (`key = domain`): what a search's record keeps of its space.
    pub(crate) fn describe(&self) -> Vec<String> {
        self.parameters
            .iter()
            .map(|p| format!("{} = {:?}", p.key, p.domain))
            .collect()
    }

    /// Whether every parameter is a list, so the space can be searched as a grid.
    pub(crate) fn is_grid(&self) -> bool {
        self.parameters.iter().all(|p| p.domain.is_list())
    }

    /// The grid's size (the product of the lists' lengths, saturating at `u128::MAX`), if it
    /// is a grid: counted, never enumerated.
    pub(crate) fn grid_size(&self) -> Option<u128> {
        self.parameters
            .iter()
            .map(|p| match &p.domain {
                Domain::List(values) => Some(values.len() as u128),
                _ => None,
            })
            .try_fold(1u128, |n, len| len.map(|len| n.saturating_mul(len)))
    }

    /// How many trials a search of `trials` (`--trials`) runs, counted before any is made:
    /// the whole grid, or `trials` of its points (at most all), or `trials` random draws
    /// ([`DEFAULT_TRIALS`] when not given).
    ///
    /// # Errors
    ///
    /// `--trials 0`, or more than [`MAX_TRIALS`] trials (a grid names its size and shape).
    pub(crate) fn count(&self, trials: Option<usize>, origin: &str) -> Result<usize> {
        if trials == Some(0) {
            bail!("--trials must be at least 1");
        }
        let count = match (trials, self.grid_size()) {
            (None, Some(size)) => {
                if size > MAX_TRIALS as u128 {
                    let shape: Vec<String> = self
                        .parameters
                        .iter()
                        .map(|p| match &p.domain {
                            Domain::List(values) => values.len().to_string(),
                            _ => "?".to_owned(),
                        })
                        .collect();
                    bail!(
                        "{origin}: the grid has {} points ({} values of {} settings); a search runs at most {} trials: give --trials N to draw N of its points at random, or list fewer values",
                        crate::numbers::count(size),
                        shape.join(" x "),
                        self.parameters.len(),
                        crate::numbers::count(MAX_TRIALS)
                    );
                }
                size as usize
            }
            (Some(trials), Some(size)) => trials.min(usize::try_from(size).unwrap_or(usize::MAX)),
            (trials, None) => trials.unwrap_or(DEFAULT_TRIALS),
        };
        if count > MAX_TRIALS {
            bail!(
                "--trials {}: a search runs at most {} trials (each is a whole cross-validation)",
                crate::numbers::count(count),
                crate::numbers::count(MAX_TRIALS)
            );
        }
        Ok(count)
    }

    /// The trials: every point of the grid (the last parameter varying fastest, as
    /// scikit-learn's `ParameterGrid`), or `trials` random points, trial `i` drawn from a
    /// generator seeded by `seed` and `i` alone (so any trial can be drawn again on its own).
    /// Some points of a grid are drawn without repeats (as `ParameterSampler` draws from
    /// lists) by `rand::seq::index::sample`, in memory of the points drawn, not the grid.
    ///
    /// Call [`Space::count`] first: this makes every trial it counts.
    pub(crate) fn trials(&self, trials: Option<usize>, seed: u64) -> Vec<Params> {
        match (trials, self.grid_size()) {
            (None, Some(size)) => (0..size as usize).map(|i| self.grid_point(i)).collect(),
            (Some(trials), Some(size)) => {
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                rand::seq::index::sample(&mut StdRng::seed_from_u64(seed), size, trials.min(size))
                    .into_iter()
                    .map(|i| self.grid_point(i))
                    .collect()
            }
            (trials, _) => (0..trials.unwrap_or(DEFAULT_TRIALS))
                .map(|i| {
                    let mut rng = StdRng::seed_from_u64(trial_seed(seed, i));
                    self.parameters
                        .iter()
                        .map(|p| (p.key.clone(), p.domain.draw(&mut rng)))
                        .collect()
                })
                .collect(),
        }
    }

    /// Point `i` of the grid.
    fn grid_point(&self, mut i: usize) -> Params {
        let mut point: Params = Vec::with_capacity(self.parameters.len());
        for p in self.parameters.iter().rev() {
            if let Domain::List(values) = &p.domain {
                point.push((p.key.clone(), values[i % values.len()].clone()));
                i /= values.len();
            }
        }
        point.reverse();
        point
    }

    /// Checks each parameter against `base` (the search's run config): each listed value and
    /// each range's ends must make a valid config.
    ///
    /// Returns `false` when Ctrl-C stopped it.
    ///
    /// # Errors
    ///
    /// The first value that does not, with the space file's line and the key.
    pub(crate) fn check(&self, base: &RunConfig, origin: &str) -> Result<bool> {
        for p in &self.parameters {
            if let Some(setting) = p.key.strip_prefix("data.")
                && !SEARCHABLE_DATA.contains(&setting)
            {
                bail!(
                    "{origin}: line {}: `{}`: a search cannot vary which rows are read, folded or tested (every trial must be scored on the same folds); set it for all trials with its flag. Of [data], a search can vary {}",
                    p.line,
                    p.key,
                    SEARCHABLE_DATA.join(", ")
                );
            }
            for value in p.domain.examples() {
                if crate::progress::interrupted() {
                    return Ok(false);
                }
                apply(base, &[(p.key.clone(), value.clone())]).map_err(|err| {
                    anyhow::anyhow!(
                        "{origin}: line {}: `{}` = {value}: {}",
                        p.line,
                        p.key,
                        root_cause(&err)
                    )
                })?;
            }
        }
        Ok(true)
    }
}

/// The `[data]` settings a search may vary: how columns are encoded and scaled, and the
/// validation share of each fold; not the file, target, rows or splits.
const SEARCHABLE_DATA: [&str; 6] = [
    "standardize",
    "standardize_target",
    "max_categories",
    "categorical",
    "numeric",
    "val_split",
];

/// Random trials when `--trials` is not given and the space is not a grid.
pub(crate) const DEFAULT_TRIALS: usize = 20;

/// The most trials a search runs (docs/tuning.md, "Searching the settings"): each is a whole k-fold
/// cross-validation, so 10,000 is already days of training for any table worth searching,
/// and it bounds what planning holds in memory and writes (a trial file each).
pub(crate) const MAX_TRIALS: usize = 10_000;

/// Trial `i`'s seed: SplitMix64 of the search seed and the trial id, so it depends on
/// nothing else.
pub(crate) fn trial_seed(seed: u64, trial: usize) -> u64 {
    let mut z = seed ^ (trial as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `base` with each of `params` (dotted key, value) set, parsed and validated as a run config.
///
/// # Errors
///
/// A key that is no setting, a value of the wrong type, or a config that does not validate.
pub(crate) fn apply(base: &RunConfig, params: &[(String, toml::Value)]) -> Result<RunConfig> {
    let values = params
        .iter()
        .map(|(key, value)| Ok((key.as_str(), serde_json::to_value(value)?)))
        .collect::<Result<Vec<_>>>()?;
    let config = base.with_values(&values)?;
    config.validate()?;
    Ok(config)
}

/// The innermost cause of `err`, which says what was wrong with the value.
fn root_cause(err: &anyhow::Error) -> String {
    err.chain()
        .last()
        .map_or_else(|| err.to_string(), ToString::to_string)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Collects the parameters of `table`, whose keys are under `prefix`.
fn walk(
    text: &str,
    origin: &str,
    prefix: &str,
    table: &DeTable<'_>,
    out: &mut Vec<Parameter>,
) -> Result<()> {
    for (key, value) in table {
        let name: &str = key.get_ref();
        let dotted = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        let line = line_of(text, key.span().start);
        let span = value.span();
        let source = &text[span.clone()];
        let domain = match value.get_ref() {
            DeValue::Array(_) => Domain::List(values_of(source, origin, line, &dotted)?),
            DeValue::Table(inner)
                if inner
                    .keys()
                    .any(|k| DISTRIBUTIONS.contains(&k.get_ref().as_ref())) =>
            {
                distribution(inner, text, origin, line, &dotted)?
            }
            DeValue::Table(inner) if inner.is_empty() && source.trim_start().starts_with('{') => {
                bail!(
                    "{origin}: line {line}: `{dotted}` = {{}}: an empty range; give one of {{ uniform = [low, high] }}, {{ log-uniform = [low, high] }}, {{ int = [low, high] }}, {{ choice = [a, b, ...] }}, or a list of values"
                )
            }
            DeValue::Table(inner) => {
                walk(text, origin, &dotted, inner, out)?;
                continue;
            }
            _ => bail!(
                "{origin}: line {line}: `{dotted}` = {source}: give a list of values to try (`[{source}]` for one), or a range: {{ uniform = [low, high] }}, {{ log-uniform = [low, high] }}, {{ int = [low, high] }}, {{ choice = [a, b, ...] }}"
            ),
        };
        if let Domain::List(values) = &domain
            && values.is_empty()
        {
            bail!("{origin}: line {line}: `{dotted}`: the list of values is empty");
        }
        out.push(Parameter {
            key: dotted,
            domain,
            line,
        });
    }
    Ok(())
}

/// A TOML array's text as values.
fn values_of(source: &str, origin: &str, line: usize, key: &str) -> Result<Vec<toml::Value>> {
    let wrapped: toml::Table = toml::from_str(&format!("v = {source}"))
        .map_err(|err| anyhow::anyhow!("{origin}: line {line}: `{key}`: {}", err.message()))?;
    match wrapped.get("v") {
        Some(toml::Value::Array(values)) => Ok(values.clone()),
        _ => bail!("{origin}: line {line}: `{key}`: expected a list"),
    }
}

/// A range table (`{ uniform = [low, high] }` and the like).
fn distribution(
    table: &DeTable<'_>,
    text: &str,
    origin: &str,
    line: usize,
    key: &str,
) -> Result<Domain> {
    let entries: BTreeMap<&str, &str> = table
        .iter()
        .map(|(k, v)| (k.get_ref().as_ref(), &text[v.span()]))
        .collect();
    let ranges = format!("one of {}", DISTRIBUTIONS.join(", "));
    let [(kind, source)] = entries.into_iter().collect::<Vec<_>>()[..] else {
        bail!("{origin}: line {line}: `{key}`: a range is one key, {ranges}");
    };
    let values = values_of(source, origin, line, key)?;
    if kind == "choice" {
        if values.is_empty() {
            bail!("{origin}: line {line}: `{key}`: the choice is empty");
        }
        return Ok(Domain::Choice(values));
    }
    let bounds = |what: &str| -> Result<(f64, f64)> {
        let numbers: Vec<f64> = values
            .iter()
            .filter_map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
            .collect();
        match numbers[..] {
            [low, high]
                if values.len() == 2 && low.is_finite() && high.is_finite() && low < high =>
            {
                Ok((low, high))
            }
            _ => bail!(
                "{origin}: line {line}: `{key}`: {kind} takes [low, high], two {what} with low < high; got {source}"
            ),
        }
    };
    Ok(match kind {
        "uniform" => {
            let (low, high) = bounds("numbers")?;
            Domain::Uniform(low, high)
        }
        "log-uniform" => {
            let (low, high) = bounds("numbers")?;
            if low <= 0.0 {
                bail!("{origin}: line {line}: `{key}`: log-uniform needs low > 0; got {source}");
            }
            Domain::LogUniform(low, high)
        }
        "int" => {
            let ints: Vec<i64> = values.iter().filter_map(toml::Value::as_integer).collect();
            match ints[..] {
                [low, high] if values.len() == 2 && low < high => Domain::Int(low, high),
                _ => bail!(
                    "{origin}: line {line}: `{key}`: int takes [low, high], two integers with low < high; got {source}"
                ),
            }
        }
        _ => bail!("{origin}: line {line}: `{key}`: `{kind}` is not a range; {ranges}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACE: &str = r#"
# a grid of 3 x 2
[model]
d_hidden = [[16], [32], [64, 32]]

[optimizer]
learning_rate = [0.001, 0.01]
"#;

    #[test]
    fn a_grid_is_every_combination_the_last_key_fastest() {
        let space = Space::parse(SPACE, "space.toml").expect("parses");
        assert!(space.is_grid());
        assert_eq!(space.parameters[0].key, "model.d_hidden");
        assert_eq!(space.parameters[0].line, 4);
        let trials = space.trials(None, 1);
        assert_eq!(trials.len(), 6);
        assert_eq!(
            trials[1][0].1,
            toml::Value::Array(vec![toml::Value::Integer(16)])
        );
        assert_eq!(trials[1][1].1, toml::Value::Float(0.01));
        assert_eq!(trials[2][1].1, toml::Value::Float(0.001));
        // Some of the grid's points: no point twice, at most the grid.
        let some = space.trials(Some(4), 9);
        assert_eq!(some.len(), 4);
        assert!(some.iter().all(|t| trials.contains(t)));
        assert!((0..4).all(|i| (0..i).all(|j| some[i] != some[j])));
        assert_eq!(space.trials(Some(50), 9).len(), 6);
        assert_eq!(space.trials(Some(4), 9), some);
    }

    #[test]
    fn a_grid_is_counted_not_enumerated_and_refused_past_the_limit() {
        // 20 settings of 10 values: 1e20 points, past 64 bits; counted in u128.
        let text: String = (0..20)
            .map(|i| format!("[s{i}]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"))
            .collect();
        let space = Space::parse(&text, "huge.toml").expect("parses");
        assert_eq!(space.grid_size(), Some(10u128.pow(20)));
        let err = space.count(None, "huge.toml").expect_err("too large");
        assert!(
            err.to_string()
                .contains("the grid has 100,000,000,000,000,000,000 points"),
            "{err}"
        );
        // Some of its points: drawn in memory of the points alone.
        assert_eq!(space.count(Some(5), "huge.toml").expect("counts"), 5);
        let some = space.trials(Some(5), 1);
        assert_eq!(some.len(), 5);
        assert!((0..5).all(|i| (0..i).all(|j| some[i] != some[j])));
        assert!(space.count(Some(MAX_TRIALS + 1), "huge.toml").is_err());
        assert!(space.count(Some(0), "huge.toml").is_err());
        // The limit itself is searched.
        let grid = Space::parse(
            "[a]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n[b]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n[c]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n[d]\nx = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n",
            "limit.toml",
        )
        .expect("parses");
        assert_eq!(grid.count(None, "limit.toml").expect("counts"), MAX_TRIALS);
    }

    #[test]
    fn random_trials_depend_on_the_seed_and_the_trial_alone() {
        let text = "[optimizer]\nlearning_rate = { log-uniform = [1e-4, 1e-1] }\n[training]\nnum_epochs = { int = [10, 50] }\nbatch_size = { choice = [16, \"full\"] }\n";
        let space = Space::parse(text, "s.toml").expect("parses");
        assert!(!space.is_grid());
        // A choice alone is random too.
        let choice = Space::parse(
            "[model]\nactivation = { choice = [\"relu\", \"tanh\"] }\n",
            "c.toml",
        )
        .expect("parses");
        assert!(!choice.is_grid());
        assert_eq!(choice.trials(None, 1).len(), DEFAULT_TRIALS);
        let five = space.trials(Some(5), 3);
        let ten = space.trials(Some(10), 3);
        assert_eq!(five[..], ten[..5]);
        assert_ne!(space.trials(Some(5), 4), five);
        for trial in &ten {
            let lr = trial[0].1.as_float().expect("a float");
            assert!((1e-4..=1e-1).contains(&lr), "{lr}");
            let epochs = trial[1].1.as_integer().expect("an integer");
            assert!((10..=50).contains(&epochs), "{epochs}");
        }
    }

    #[test]
    fn bad_spaces_name_the_line_and_key() {
        for (text, expected) in [
            (
                "[model]\nd_hidden = 16\n",
                "line 2: `model.d_hidden` = 16: give a list",
            ),
            (
                "[optimizer]\nlearning_rate = { uniform = [1] }\n",
                "line 2: `optimizer.learning_rate`: uniform takes [low, high]",
            ),
            (
                "[optimizer]\nlearning_rate = { log-uniform = [0, 1] }\n",
                "log-uniform needs low > 0",
            ),
            (
                "[optimizer]\nlearning_rate = { normal = [0, 1], uniform = [0, 1] }\n",
                "a range is one key",
            ),
            ("[model\n", "line 1: not TOML"),
            ("", "no settings to search"),
            ("[model]\nd_hidden = []\n", "the list of values is empty"),
        ] {
            let err = Space::parse(text, "space.toml")
                .expect_err(text)
                .to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(err.starts_with("space.toml: "), "{err}");
        }
    }
}
