//! `[data]`: where the rows come from and how they are read, prepared and split.

use nerve_data::{CsvOptions, Missing, NaValues, PrepareOptions, SplitOptions, Standardize, Task};
use serde::{Deserialize, Serialize};

/// The `[data]` table: the file, its target and task, how it is read, how missing values and
/// columns are treated, and how its rows are split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// A CSV file, or the name of a built-in data set.
    pub path: String,
    /// The target column; the last column when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `classification` or `regression`; inferred from the target when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Columns to leave out (identifiers, free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// A column of row weights (sample weights: how much each row counts in the loss), not a
    /// feature; every cell a finite number, 0 or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// The CSV field delimiter (one ASCII character, e.g. "," ";" "\t"); detected when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// Missing values: `drop` the rows (and say how many), `impute` features from the
    /// training rows, or stop with an `error`.
    #[serde(default)]
    pub missing: Missing,
    /// More strings that mean a missing value (besides pandas' defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub na_values: Vec<String>,
    /// The thousands separator stripped from numbers; `,` is detected in comma-delimited files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thousands: Option<char>,
    /// Columns used as categories whatever their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical: Vec<String>,
    /// Columns that must be numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric: Vec<String>,
    /// One-hot columns with more categories group the rarest into one `infrequent` input.
    #[serde(default = "default_max_categories")]
    pub max_categories: usize,
    /// Numeric feature scaling: `z-score-clip` (the default), `z-score`, `robust` or `none`.
    #[serde(default)]
    pub standardize: Standardize,
    /// Whether a regression target is standardized for training (predictions are mapped back).
    #[serde(default = "yes")]
    pub standardize_target: bool,
    /// The share of rows held out for the final test (none under 20 rows).
    #[serde(default = "default_test_split")]
    pub test_split: f64,
    /// The share of rows held out for validation.
    #[serde(default)]
    pub val_split: f64,
    /// Seeds the split, independently of the training seed.
    #[serde(default = "default_split_seed")]
    pub split_seed: u64,
}

fn yes() -> bool {
    true
}

fn default_max_categories() -> usize {
    nerve_data::PreprocessOptions::MAX_CATEGORIES
}

fn default_test_split() -> f64 {
    SplitOptions::default().test
}

fn default_split_seed() -> u64 {
    SplitOptions::default().seed
}

impl DataSection {
    /// The defaults for the data at `path`.
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            target: None,
            task: None,
            ignore: Vec::new(),
            weight_column: None,
            delimiter: None,
            missing: Missing::default(),
            na_values: Vec::new(),
            thousands: None,
            categorical: Vec::new(),
            numeric: Vec::new(),
            max_categories: default_max_categories(),
            standardize: Standardize::default(),
            standardize_target: true,
            test_split: default_test_split(),
            val_split: 0.0,
            split_seed: default_split_seed(),
        }
    }

    /// How to read the file: delimiter, missing values, thousands separator, forced types.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            delimiter: self.delimiter.map(|d| d.0),
            // `--missing error` is applied by `prepare`, after columns are left out (ignored,
            // unnamed and empty, identifiers): a missing cell there is no reason to refuse.
            missing: Missing::Drop,
            na_values: NaValues::with_extra(&self.na_values),
            thousands: self.thousands,
            kinds: self.prepare_options().column_kinds(),
            skip_unlisted: false,
        }
    }

    /// What nerve-data's [`prepare`](nerve_data::prepare) should do.
    pub fn prepare_options(&self) -> PrepareOptions {
        // Column names from flags are trimmed, as the header's names are.
        let names = |list: &[String]| list.iter().map(|n| n.trim().to_owned()).collect();
        PrepareOptions {
            target: self.target.clone(),
            task: self.task,
            ignore: names(&self.ignore),
            categorical: names(&self.categorical),
            numeric: names(&self.numeric),
            max_categories: self.max_categories,
            missing: self.missing,
            standardize: self.standardize,
            standardize_target: self.standardize_target,
            split: self.split_options(),
            weight_column: self.weight_column.as_ref().map(|n| n.trim().to_owned()),
        }
    }

    /// How the rows are split, as `prepare` and `eval --split` split them.
    pub fn split_options(&self) -> SplitOptions {
        SplitOptions {
            test: self.test_split,
            validation: self.val_split,
            seed: self.split_seed,
        }
    }
}

/// A CSV field delimiter: one ASCII character. On the command line `tab`, `comma` and
/// `semicolon` are accepted too, since a literal tab is awkward to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Delimiter(pub u8);

impl std::str::FromStr for Delimiter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "tab" | "\\t" | "\t" => Ok(Delimiter(b'\t')),
            "comma" => Ok(Delimiter(b',')),
            "semicolon" => Ok(Delimiter(b';')),
            _ if text.len() == 1 && text.is_ascii() && text != "\"" => {
                Ok(Delimiter(text.as_bytes()[0]))
            }
            _ => Err(format!(
                "`{text}` is not a delimiter; expected one ASCII character such as , or ; or the word tab"
            )),
        }
    }
}

impl TryFrom<String> for Delimiter {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Delimiter> for String {
    fn from(delimiter: Delimiter) -> Self {
        char::from(delimiter.0).to_string()
    }
}
