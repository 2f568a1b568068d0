//! [`BatchSize`]: rows per optimizer step.

use serde::{Deserialize, Serialize};

/// Rows per optimizer step. In configs: `"auto"`, `"full"` or a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Raw", into = "Raw")]
pub enum BatchSize {
    /// `min(200, rows)`, scikit-learn's MLP default.
    #[default]
    Auto,
    /// Every row in one step: plain (full-batch) gradient descent.
    Full,
    /// This many rows per step (the last batch of an epoch may be smaller).
    Rows(usize),
}

impl BatchSize {
    /// The rows per step [`BatchSize::Auto`] takes at most.
    pub const AUTO_MAX: usize = 200;

    /// The rows per step for a training set of `num_rows` rows (at least 1).
    pub fn resolve(self, num_rows: usize) -> usize {
        let rows = match self {
            BatchSize::Auto => Self::AUTO_MAX,
            BatchSize::Full => num_rows,
            BatchSize::Rows(n) => n,
        };
        rows.min(num_rows).max(1)
    }
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Auto => f.write_str("auto"),
            BatchSize::Full => f.write_str("full"),
            BatchSize::Rows(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for BatchSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(BatchSize::Auto),
            "full" => Ok(BatchSize::Full),
            _ => match text.parse::<usize>() {
                Ok(n) if n > 0 => Ok(BatchSize::Rows(n)),
                _ => Err(format!(
                    "`{text}` is not a batch size; expected a positive integer, `auto` (min(200, rows)) or `full`"
                )),
            },
        }
    }
}

/// The serialized form: a number or a word.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Raw {
    Rows(usize),
    Word(String),
}

impl TryFrom<Raw> for BatchSize {
    type Error = String;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        match raw {
            Raw::Rows(n) => n.to_string().parse(),
            Raw::Word(word) => word.parse(),
        }
    }
}

impl From<BatchSize> for Raw {
    fn from(size: BatchSize) -> Self {
        match size {
            BatchSize::Rows(n) => Raw::Rows(n),
            word => Raw::Word(word.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolves_and_round_trips() {
        assert_eq!("auto".parse(), Ok(BatchSize::Auto));
        assert_eq!("Full".parse(), Ok(BatchSize::Full));
        assert_eq!("32".parse(), Ok(BatchSize::Rows(32)));
        assert!("0".parse::<BatchSize>().is_err());
        assert!("many".parse::<BatchSize>().is_err());
        assert_eq!(BatchSize::Auto.resolve(150), 150);
        assert_eq!(BatchSize::Auto.resolve(1437), 200);
        assert_eq!(BatchSize::Full.resolve(1437), 1437);
        assert_eq!(BatchSize::Rows(32).resolve(10), 10);
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct T {
            b: BatchSize,
        }
        for b in [BatchSize::Auto, BatchSize::Full, BatchSize::Rows(7)] {
            let text = toml::to_string(&T { b }).expect("serializes");
            assert_eq!(toml::from_str::<T>(&text).expect("parses"), T { b });
        }
        assert!(toml::from_str::<T>("b = 0").is_err());
    }
}
