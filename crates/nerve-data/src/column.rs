//! [`Column`]: one named column of a [`Table`](crate::Table) — numbers, categories or dates —
//! and [`ColumnKind`], a type forced on a column. `builder.rs` makes them from cells.

use std::collections::HashMap;

use crate::cell::{LevelKey, NumberFormat, normalized_bits};
use crate::dates::DateOrder;
use crate::written::Written;

/// One column of a [`Table`](crate::Table).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) data: ColumnData,
}

/// A column's values: numeric when every non-missing cell is a finite number (after stripping
/// a consistent thousands separator, currency symbol or percent sign), dates when every one is
/// a date, otherwise categorical.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Numbers; a missing cell is `NaN`.
    Numeric(Numbers),
    /// Text values (and numbers or truth values among text), as indices into the levels.
    Categorical(Categorical),
    /// Dates and date-times.
    Date(Dates),
}

/// The values of a numeric column.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers {
    pub(crate) values: Vec<f64>,
    pub(crate) format: NumberFormat,
    /// The first spelling of each distinct value, while there are at most [`MAX_SPELLINGS`].
    pub(crate) spellings: Option<Spellings>,
    /// A value read with a decimal comma followed by exactly three digits (`1,234`), when every
    /// decimal comma was so: a US thousands separator would read the same text otherwise.
    pub(crate) ambiguous_comma: Option<(u64, String)>,
    /// The cells not written as [`Numbers::spelling`] shows their value (`$5`, `3.50`).
    pub(crate) written: Written,
    /// The first cell written with leading zeros and how many were, in a column read as
    /// numbers all the same (too few were, and not as a fixed-width code).
    pub(crate) stray_zeros: Option<((u64, String), usize)>,
}

/// Hashes a number's bits with one multiplication (Fibonacci hashing): the spellings map is
/// probed once per numeric cell, where SipHash's cost showed in the reading benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BitsHasher(u64);

impl std::hash::Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        // The table indexes by the low bits: fold the well-mixed high half into them (small
        // integers as f64 have long runs of zero low bits).
        let mixed = value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = mixed ^ (mixed >> 32);
    }
}

pub(crate) type Spellings = HashMap<u64, String, std::hash::BuildHasherDefault<BitsHasher>>;

/// Distinct values of a numeric column whose first spelling is kept (for class labels and for
/// levels, should the column turn out to hold text). A column with more distinct numbers is no
/// class target (at most 20 integers are taken for classes), and should it turn out to hold text
/// it has thousands of levels (an identifier, or grouped as infrequent): its earlier numbers are
/// then named in their shortest form. A small map also keeps reading fast (measured:
/// `cargo bench -p nerve-data --bench csv_throughput`).
pub(crate) const MAX_SPELLINGS: usize = 4096;

impl Numbers {
    /// One value per row, `NaN` where missing.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// How the numbers are written (what was stripped to read them).
    pub fn format(&self) -> NumberFormat {
        self.format
    }

    /// The first value read with a decimal comma followed by three digits (line and text), when
    /// every decimal comma of the column was: `1,234` may mean 1234 in other conventions.
    pub fn ambiguous_comma(&self) -> Option<(u64, &str)> {
        self.ambiguous_comma
            .as_ref()
            .map(|(line, text)| (*line, text.as_str()))
    }

    /// How `value` was first written in the file (`1.0` stays `1.0`), or its shortest form
    /// when the column has too many distinct values to keep every spelling.
    pub fn spelling(&self, value: f64) -> String {
        spelling(self.spellings.as_ref(), value)
    }
}

/// How `value` was first written, from a column's spellings, or its shortest form.
pub(crate) fn spelling(spellings: Option<&Spellings>, value: f64) -> String {
    spellings
        .and_then(|s| s.get(&normalized_bits(value)))
        .cloned()
        .unwrap_or_else(|| value.to_string())
}

/// A categorical column: its distinct values (levels, in order of first appearance, each
/// under its first spelling) and each row's level index, [`Categorical::MISSING`] for a
/// missing cell. Cells are the same level when they are equal as numbers (`3`, `3.0`), as
/// truth values (`True`, `TRUE`), or as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    pub(crate) levels: Vec<String>,
    pub(crate) keys: Vec<LevelKey>,
    pub(crate) codes: Vec<u32>,
    /// The first cell that is not a number: its line and text (why the column is categorical).
    pub(crate) first_text: (u64, String),
    /// Whether some cell is text (not a number); `first_text` stands in for the first cell
    /// when none is.
    pub(crate) has_text: bool,
    /// The first cell written as a number with leading zeros (`02134`), in a column whose type
    /// was inferred: such a column is codes, not quantities.
    pub(crate) leading_zeros: Option<(u64, String)>,
    /// Levels are keyed by their exact text ([`ColumnKind::Text`]), not by value.
    pub(crate) exact: bool,
    /// The column's type was inferred from its cells (not forced by the user or a model).
    pub(crate) inferred: bool,
    /// The cells not written as their level's first spelling (`7.0` in the level `7`).
    pub(crate) written: Written,
}

impl Categorical {
    /// The code of a missing cell.
    pub const MISSING: u32 = u32::MAX;

    /// The distinct values, in order of first appearance, each as first written.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// Each row's index into [`Categorical::levels`], or [`Categorical::MISSING`].
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The file line and text of the first cell that is not a number.
    pub fn first_text(&self) -> (u64, &str) {
        (self.first_text.0, &self.first_text.1)
    }

    /// Whether some row has each level (a level can lose all its rows when rows are dropped).
    pub(crate) fn used_levels(&self) -> Vec<bool> {
        let mut used = vec![false; self.levels.len()];
        for &code in &self.codes {
            if code != Self::MISSING {
                used[code as usize] = true;
            }
        }
        used
    }

    /// The text of row `row`, `None` when missing.
    pub fn value(&self, row: usize) -> Option<&str> {
        match self.codes[row] {
            Self::MISSING => None,
            code => Some(&self.levels[code as usize]),
        }
    }

    pub(crate) fn keys(&self) -> &[LevelKey] {
        &self.keys
    }

    /// Whether levels are the cells exactly as written (`007` and `7` apart), as in a column
    /// forced to be categorical, rather than keyed by value.
    pub fn is_exact(&self) -> bool {
        self.exact
    }
}

/// A date column: days since 1970-01-01 (fractional with a time of day), `NaN` where missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Dates {
    pub(crate) days: Vec<f64>,
    pub(crate) order: DateOrder,
    pub(crate) ambiguous: bool,
    /// Times with different UTC offsets, when the column's type was inferred.
    pub(crate) offsets: Option<OffsetClash>,
    /// The cells not written as the ISO date (and time) the column shows them as.
    pub(crate) written: Written,
}

/// Two cells of a date column whose times carry different UTC offsets (or one none), and how
/// many cells fall on another calendar day than in UTC once the offsets are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OffsetClash {
    /// The first time with an offset (or without one), as `(line, text)`.
    pub(crate) first: (u64, String),
    /// The first time with another offset.
    pub(crate) other: (u64, String),
    /// Cells whose local day differs from their UTC day.
    pub(crate) other_day: usize,
    /// Cells with a time.
    pub(crate) timed: usize,
}

impl Dates {
    /// Days since 1970-01-01 per row, `NaN` where missing.
    pub fn days(&self) -> &[f64] {
        &self.days
    }

    /// The field order the dates were read in.
    pub fn order(&self) -> DateOrder {
        self.order
    }

    /// Whether every value also fits the other day/month order (read day first).
    pub fn ambiguous(&self) -> bool {
        self.ambiguous
    }
}

impl Column {
    /// The column's name from the header row.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The values.
    pub fn data(&self) -> &ColumnData {
        &self.data
    }

    /// Whether the column holds numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(self.data, ColumnData::Numeric(_))
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Numeric(n) => n.values.len(),
            ColumnData::Categorical(c) => c.codes.len(),
            ColumnData::Date(d) => d.days.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `row` is missing.
    pub fn is_missing(&self, row: usize) -> bool {
        match &self.data {
            ColumnData::Numeric(n) => n.values[row].is_nan(),
            ColumnData::Categorical(c) => c.codes[row] == Categorical::MISSING,
            ColumnData::Date(d) => d.days[row].is_nan(),
        }
    }

    /// How many cells are missing.
    pub fn missing_count(&self) -> usize {
        (0..self.len()).filter(|&row| self.is_missing(row)).count()
    }

    /// The cell of row `row` as the file writes it (trimmed; `$49.57`, `007`, `05/03/2024`),
    /// `NA` when missing: for every table that shows an input cell.
    pub fn display(&self, row: usize) -> String {
        let written = match &self.data {
            _ if self.is_missing(row) => return "NA".to_owned(),
            ColumnData::Numeric(n) => n.written.get(row),
            ColumnData::Categorical(c) => c.written.get(row),
            ColumnData::Date(d) => d.written.get(row),
        };
        written.map_or_else(|| self.shown(row), str::to_owned)
    }

    /// The cell of row `row` as nerve reads it (`NA` when missing): a number's first spelling
    /// (or its shortest form), its level, or an ISO date — the same text for cells equal by
    /// value, which is what class labels and date categories are matched by.
    pub(crate) fn shown(&self, row: usize) -> String {
        match &self.data {
            _ if self.is_missing(row) => "NA".to_owned(),
            ColumnData::Numeric(n) => n.spelling(n.values[row]),
            ColumnData::Categorical(c) => c.levels[c.codes[row] as usize].clone(),
            ColumnData::Date(d) => format_days(d.days[row]),
        }
    }

    pub(crate) fn retain(&mut self, keep: &[bool]) {
        let mut row = 0;
        let mut keep_next = || {
            row += 1;
            keep[row - 1]
        };
        match &mut self.data {
            ColumnData::Numeric(n) => {
                n.values.retain(|_| keep_next());
                n.written.retain(keep);
            }
            ColumnData::Categorical(c) => {
                c.codes.retain(|_| keep_next());
                c.written.retain(keep);
            }
            ColumnData::Date(d) => {
                d.days.retain(|_| keep_next());
                d.written.retain(keep);
            }
        }
    }
}

/// A day count as an ISO date (and time, when it has one).
pub(crate) fn format_days(days: f64) -> String {
    let Some([year, month, day, _]) = crate::dates::calendar_parts(days) else {
        return days.to_string();
    };
    let seconds = ((days - days.floor()) * 86_400.0).floor().min(86_399.0) as u32;
    let date = format!("{year:04}-{month:02}-{day:02}");
    if seconds == 0 {
        date
    } else {
        format!(
            "{date}T{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

/// A column's type, forced instead of inferred: by the user (`--categorical`, `--numeric`) or
/// by a model, which reads new rows as it read its training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numbers. With a format (a model's), each cell must be written that way; without, the
    /// format is detected, and a cell that is not a number is an error.
    Numeric(Option<NumberFormat>),
    /// Categories keyed by value (`3` is `3.0`, `TRUE` is `True`), even when every cell is a
    /// number or a date: how a model reads a column whose type it inferred.
    Categorical,
    /// Dates in this field order.
    Date(DateOrder),
    /// Categories exactly as written (trimmed), keyed by their spelling, so `007` and `7`,
    /// `1E5` and `100000` stay apart: a column the user forced to be categorical
    /// (`--categorical`), and columns carried through untouched (`predict --keep`).
    Text,
}
