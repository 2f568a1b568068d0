//! [`Column`]: one named column of a [`Table`](crate::Table) — numbers, categories or dates —
//! and the builder that types it while the rows stream in.

use std::collections::HashMap;

use crate::DataError;
use crate::cell::{LevelKey, NumberFormat, NumberSyntax, ParsedNumber, long_integer};
use crate::dates::{DateEvidence, DateFields, DateOrder, days_since_epoch, parse_date};

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
    values: Vec<f64>,
    format: NumberFormat,
    /// The first spelling of each distinct value, while there are at most [`MAX_SPELLINGS`].
    spellings: Option<Spellings>,
    /// A value read with a decimal comma followed by exactly three digits (`1,234`), when every
    /// decimal comma was so: a US thousands separator would read the same text otherwise.
    ambiguous_comma: Option<(u64, String)>,
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

type Spellings = HashMap<u64, String, std::hash::BuildHasherDefault<BitsHasher>>;

/// Distinct values of a numeric column whose first spelling is kept (for class labels and for
/// levels, should the column turn out to hold text). A column with more distinct numbers is no
/// class target (at most 20 integers are taken for classes), and should it turn out to hold text
/// it has thousands of levels (an identifier, or grouped as infrequent): its earlier numbers are
/// then named in their shortest form. A small map also keeps reading fast (measured:
/// `cargo bench -p nerve-data --bench csv_throughput`).
const MAX_SPELLINGS: usize = 4096;

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
        let key = normalized_bits(value);
        self.spellings
            .as_ref()
            .and_then(|s| s.get(&key))
            .cloned()
            .unwrap_or_else(|| value.to_string())
    }
}

fn normalized_bits(value: f64) -> u64 {
    if value == 0.0 { 0.0f64 } else { value }.to_bits()
}

/// A categorical column: its distinct values (levels, in order of first appearance, each
/// under its first spelling) and each row's level index, [`Categorical::MISSING`] for a
/// missing cell. Cells are the same level when they are equal as numbers (`3`, `3.0`), as
/// truth values (`True`, `TRUE`), or as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    levels: Vec<String>,
    keys: Vec<LevelKey>,
    codes: Vec<u32>,
    /// The first cell that is not a number: its line and text (why the column is categorical).
    first_text: (u64, String),
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
}

/// A date column: days since 1970-01-01 (fractional with a time of day), `NaN` where missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Dates {
    days: Vec<f64>,
    order: DateOrder,
    ambiguous: bool,
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

    /// The cell of row `row` as text (`NA` when missing), for display.
    pub fn display(&self, row: usize) -> String {
        match &self.data {
            _ if self.is_missing(row) => "NA".to_owned(),
            ColumnData::Numeric(n) => n.values[row].to_string(),
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
            ColumnData::Numeric(n) => n.values.retain(|_| keep_next()),
            ColumnData::Categorical(c) => c.codes.retain(|_| keep_next()),
            ColumnData::Date(d) => d.days.retain(|_| keep_next()),
        }
    }
}

/// A day count as an ISO date (and time, when it has one).
fn format_days(days: f64) -> String {
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
    /// Categories, even when every cell is a number or a date.
    Categorical,
    /// Dates in this field order.
    Date(DateOrder),
}

/// Where a cell is, for errors.
pub(crate) struct Place<'a> {
    pub(crate) source: &'a str,
    pub(crate) column: &'a str,
    pub(crate) line: u64,
}

impl Place<'_> {
    fn error(&self, expected: impl Into<String>, value: &str) -> DataError {
        DataError::NotNumeric {
            source_name: self.source.to_owned(),
            line: self.line,
            column: self.column.to_owned(),
            expected: expected.into(),
            value: value.to_owned(),
        }
    }
}

/// Accumulates one column while reading.
pub(crate) enum Builder {
    Numeric(NumericBuilder),
    Text(TextBuilder),
    Date { days: Vec<f64>, order: DateOrder },
}

pub(crate) struct NumericBuilder {
    values: Vec<f64>,
    format: NumberFormat,
    /// Whether the values carry a percent sign, set by the first value.
    percent: Option<bool>,
    spellings: Option<Spellings>,
    /// The first cell that parsed as a number but not a finite `f32` (`inf`, `1e40`).
    first_non_finite: Option<(u64, String)>,
    /// `Some` when the column must be numeric: with a model's format, or `None` to detect one.
    forced: Option<Option<NumberFormat>>,
    /// The decimal mark of the values with a fractional part (one per column).
    decimal: Option<char>,
    /// The first decimal-comma value with three digits after the comma, and whether another
    /// decimal-comma value was not so.
    comma_three: Option<(u64, String)>,
    comma_other: bool,
}

pub(crate) struct TextBuilder {
    levels: Vec<String>,
    keys: Vec<LevelKey>,
    lookup: HashMap<LevelKey, u32>,
    codes: Vec<u32>,
    first_text: Option<(u64, String)>,
    /// The first non-missing cell (stands in for `first_text` when every cell is a number).
    first_cell: Option<(u64, String)>,
    /// Evidence that every level is a date, and each level's fields; `None` once one is not
    /// (or when the column is forced to be categorical).
    dates: Option<(DateEvidence, Vec<DateFields>)>,
}

impl Builder {
    /// A builder for a column of `kind`, or inferred when `None`.
    pub(crate) fn new(kind: Option<ColumnKind>) -> Builder {
        match kind {
            None => Builder::Numeric(NumericBuilder::new(None)),
            Some(ColumnKind::Numeric(format)) => {
                Builder::Numeric(NumericBuilder::new(Some(format)))
            }
            Some(ColumnKind::Categorical) => Builder::Text(TextBuilder::new(false)),
            Some(ColumnKind::Date(order)) => Builder::Date {
                days: Vec::new(),
                order,
            },
        }
    }

    /// Adds one cell: `None` when missing.
    pub(crate) fn push(
        &mut self,
        cell: Option<&str>,
        place: &Place<'_>,
        syntax: &NumberSyntax,
    ) -> Result<(), DataError> {
        match self {
            Builder::Numeric(numbers) => {
                if let Some(text) = numbers.push(cell, place, syntax)? {
                    let mut text_builder = numbers.to_text(syntax);
                    text_builder.push(Some(text), place, syntax);
                    *self = Builder::Text(text_builder);
                }
            }
            Builder::Text(text) => text.push(cell, place, syntax),
            Builder::Date { days, order } => match cell {
                None => days.push(f64::NAN),
                Some(text) => {
                    let value = parse_date(text)
                        .and_then(|fields| days_since_epoch(&fields, *order))
                        .ok_or_else(|| {
                            place.error(format!("a date written {}", order.pattern()), text)
                        })?;
                    days.push(value);
                }
            },
        }
        Ok(())
    }

    /// The finished column.
    pub(crate) fn finish(self, name: String, source: &str) -> Result<Column, DataError> {
        let data = match self {
            Builder::Numeric(numbers) => {
                if let Some((line, value)) = numbers.first_non_finite {
                    return Err(DataError::NotNumeric {
                        source_name: source.to_owned(),
                        line,
                        column: name,
                        expected: "a finite number that fits in 32-bit floating point".to_owned(),
                        value,
                    });
                }
                let ambiguous_comma = numbers.comma_three.filter(|_| !numbers.comma_other);
                ColumnData::Numeric(Numbers {
                    values: numbers.values,
                    format: numbers.format,
                    spellings: numbers.spellings,
                    ambiguous_comma,
                })
            }
            Builder::Text(text) => text.finish(),
            Builder::Date { days, order } => ColumnData::Date(Dates {
                days,
                order,
                ambiguous: false,
            }),
        };
        Ok(Column { name, data })
    }
}

impl NumericBuilder {
    fn new(forced: Option<Option<NumberFormat>>) -> Self {
        Self {
            values: Vec::new(),
            format: forced.flatten().unwrap_or_default(),
            percent: forced.flatten().map(|f| f.percent),
            spellings: Some(Spellings::default()),
            first_non_finite: None,
            forced,
            decimal: None,
            comma_three: None,
            comma_other: false,
        }
    }

    /// How this column's cells are read: the file's rules, or a model's recorded format on top
    /// of them (its thousands separator and decimal comma win over the file's delimiter).
    fn syntax(&self, file: &NumberSyntax) -> NumberSyntax {
        match self.forced {
            Some(Some(format)) => NumberSyntax {
                decimal_comma: format.decimal_comma,
                thousands: format.thousands.or(file.thousands),
            },
            _ => *file,
        }
    }

    /// Adds a cell; `Ok(Some(text))` when the cell is text and the column is not forced to be
    /// numeric: the caller turns the column categorical.
    fn push<'t>(
        &mut self,
        cell: Option<&'t str>,
        place: &Place<'_>,
        syntax: &NumberSyntax,
    ) -> Result<Option<&'t str>, DataError> {
        let Some(text) = cell else {
            self.values.push(f64::NAN);
            return Ok(None);
        };
        let forced = self.forced.is_some();
        let syntax = self.syntax(syntax);
        if self.values.is_empty() && !matches!(self.forced, Some(Some(_))) {
            self.format.decimal_comma = syntax.comma_is_decimal();
        }
        // Integers longer than a float holds exactly are codes or identifiers, not quantities.
        let parsed = if !forced && long_integer(text).is_some() {
            None
        } else {
            syntax.parse(text)
        };
        match parsed.filter(|p| self.fits(p)) {
            Some(ParsedNumber {
                value,
                format,
                decimal,
                three_after_comma,
            }) => {
                self.adopt(format);
                self.decimal = self.decimal.or(decimal);
                if decimal == Some(',') {
                    if three_after_comma {
                        self.comma_three
                            .get_or_insert_with(|| (place.line, text.to_owned()));
                    } else {
                        self.comma_other = true;
                    }
                }
                if !(value as f32).is_finite() && self.first_non_finite.is_none() {
                    self.first_non_finite = Some((place.line, text.to_owned()));
                }
                if let Some(spellings) = &mut self.spellings {
                    let key = normalized_bits(value);
                    if !spellings.contains_key(&key) {
                        if spellings.len() < MAX_SPELLINGS {
                            spellings.insert(key, text.to_owned());
                        } else {
                            self.spellings = None;
                        }
                    }
                }
                self.values.push(value);
                Ok(None)
            }
            None => match self.forced {
                None => Ok(Some(text)),
                Some(Some(format)) if format.strips() => Err(place.error(
                    format!(
                        "a number written as in training (stripping {})",
                        format.describe()
                    ),
                    text,
                )),
                Some(_) => Err(place.error("a number", text)),
            },
        }
    }

    /// Whether a number's formatting agrees with the column's so far (one thousands separator,
    /// one currency symbol, one decimal mark, a percent sign on every value or on none).
    fn fits(&self, parsed: &ParsedNumber) -> bool {
        let f = parsed.format;
        let agrees =
            |seen: Option<char>, new: Option<char>| new.is_none() || seen.is_none() || seen == new;
        if let Some(Some(model)) = self.forced {
            // A model's column: each cell against the model's format alone, so a row reads the
            // same whatever rows come before it.
            return agrees(model.thousands, f.thousands)
                && agrees(model.currency, f.currency)
                && model.percent == f.percent;
        }
        agrees(self.format.thousands, f.thousands)
            && agrees(self.format.currency, f.currency)
            && agrees(self.decimal, parsed.decimal)
            && self.percent.is_none_or(|p| p == f.percent)
    }

    fn adopt(&mut self, format: NumberFormat) {
        if matches!(self.forced, Some(Some(_))) {
            return;
        }
        self.format.thousands = self.format.thousands.or(format.thousands);
        self.format.currency = self.format.currency.or(format.currency);
        self.percent.get_or_insert(format.percent);
        self.format.percent = self.percent == Some(true);
    }

    /// The column so far as categories: each earlier number a level under its first spelling.
    fn to_text(&self, syntax: &NumberSyntax) -> TextBuilder {
        let mut text = TextBuilder::new(true);
        text.codes.reserve(self.values.capacity());
        for &value in &self.values {
            if value.is_nan() {
                text.codes.push(Categorical::MISSING);
                continue;
            }
            // A non-finite number (`inf`) is text among text, as later cells will key it.
            let spelling = self.spelling(value);
            let key = if value.is_finite() {
                LevelKey::number(value)
            } else {
                LevelKey::of(&spelling, syntax)
            };
            let code = match text.lookup.get(&key) {
                Some(&code) => code,
                None => text.add_level(spelling, key, syntax),
            };
            text.codes.push(code);
        }
        text
    }

    fn spelling(&self, value: f64) -> String {
        self.spellings
            .as_ref()
            .and_then(|s| s.get(&normalized_bits(value)))
            .cloned()
            .unwrap_or_else(|| value.to_string())
    }
}

impl TextBuilder {
    fn new(detect_dates: bool) -> Self {
        Self {
            levels: Vec::new(),
            keys: Vec::new(),
            lookup: HashMap::new(),
            codes: Vec::new(),
            first_text: None,
            first_cell: None,
            dates: detect_dates.then(|| (DateEvidence::new(), Vec::new())),
        }
    }

    fn push(&mut self, cell: Option<&str>, place: &Place<'_>, syntax: &NumberSyntax) {
        let Some(text) = cell else {
            self.codes.push(Categorical::MISSING);
            return;
        };
        let key = LevelKey::of(text, syntax);
        if self.first_cell.is_none() {
            self.first_cell = Some((place.line, text.to_owned()));
        }
        if self.first_text.is_none()
            && matches!(
                key,
                LevelKey::Text(_) | LevelKey::Bool(_) | LevelKey::Integer(_)
            )
        {
            self.first_text = Some((place.line, text.to_owned()));
        }
        let code = match self.lookup.get(&key) {
            Some(&code) => code,
            None => self.add_level(text.to_owned(), key, syntax),
        };
        self.codes.push(code);
    }

    fn add_level(&mut self, text: String, key: LevelKey, _syntax: &NumberSyntax) -> u32 {
        if let Some((evidence, fields)) = &mut self.dates {
            match parse_date(&text) {
                Some(f) if evidence.add(&f) => fields.push(f),
                _ => self.dates = None,
            }
        }
        let code = self.levels.len() as u32;
        self.levels.push(text);
        self.lookup.insert(key.clone(), code);
        self.keys.push(key);
        code
    }

    fn finish(self) -> ColumnData {
        if let Some((evidence, fields)) = &self.dates
            && let Some(order) = evidence.order()
        {
            let by_level: Option<Vec<f64>> =
                fields.iter().map(|f| days_since_epoch(f, order)).collect();
            if let Some(by_level) = by_level {
                let days = self
                    .codes
                    .iter()
                    .map(|&code| match code {
                        Categorical::MISSING => f64::NAN,
                        code => by_level[code as usize],
                    })
                    .collect();
                return ColumnData::Date(Dates {
                    days,
                    order,
                    ambiguous: evidence.ambiguous(),
                });
            }
        }
        let first_text = self
            .first_text
            .or(self.first_cell)
            .unwrap_or_else(|| (0, self.levels.first().cloned().unwrap_or_default()));
        ColumnData::Categorical(Categorical {
            levels: self.levels,
            keys: self.keys,
            codes: self.codes,
            first_text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(kind: Option<ColumnKind>, cells: &[&str]) -> Result<ColumnData, DataError> {
        let syntax = NumberSyntax::default();
        let mut builder = Builder::new(kind);
        for (i, cell) in cells.iter().enumerate() {
            let place = Place {
                source: "t.csv",
                column: "c",
                line: i as u64 + 2,
            };
            let cell = (!cell.is_empty()).then_some(*cell);
            builder.push(cell, &place, &syntax)?;
        }
        Ok(builder.finish("c".to_owned(), "t.csv")?.data)
    }

    fn levels(data: &ColumnData) -> Vec<String> {
        match data {
            ColumnData::Categorical(c) => c.levels().to_vec(),
            other => panic!("not categorical: {other:?}"),
        }
    }

    #[test]
    fn equal_values_are_one_level_under_their_first_spelling() {
        let data = build(None, &["1.0", "2.0", "3.0", "5+", "1", "3.00", "2"]).expect("reads");
        assert_eq!(levels(&data), ["1.0", "2.0", "3.0", "5+"]);
        let ColumnData::Categorical(c) = &data else {
            unreachable!()
        };
        assert_eq!(c.codes(), [0, 1, 2, 3, 0, 2, 1]);
        assert_eq!(c.first_text(), (5, "5+"));
        let data = build(None, &["True", "true", "TRUE", "False", "false", ""]).expect("reads");
        assert_eq!(levels(&data), ["True", "False"]);
        let data = build(Some(ColumnKind::Categorical), &["0", "-0", "0.0", "1"]).expect("reads");
        assert_eq!(levels(&data), ["0", "1"]);
    }

    #[test]
    fn formatted_numbers_must_agree() {
        let ColumnData::Numeric(n) = build(None, &["$1,187.32", "12", "$5"]).expect("reads") else {
            panic!("numeric")
        };
        assert_eq!(n.values(), [1187.32, 12.0, 5.0]);
        assert_eq!(n.format().currency, Some('$'));
        assert_eq!(n.spelling(12.0), "12");
        // A percent sign on some values only, or two currencies: text.
        assert!(matches!(
            build(None, &["38%", "12"]).expect("reads"),
            ColumnData::Categorical(_)
        ));
        assert!(matches!(
            build(None, &["$5", "€5"]).expect("reads"),
            ColumnData::Categorical(_)
        ));
        // Long integers are codes.
        let data = build(None, &["100000000000000001", "100000000000000002"]).expect("reads");
        assert_eq!(levels(&data).len(), 2);
    }

    #[test]
    fn forced_kinds_refuse_what_does_not_fit() {
        let err = build(Some(ColumnKind::Numeric(None)), &["1", "5+"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3, column `c`: expected a number, found `5+`"
        );
        let percent = NumberFormat {
            percent: true,
            ..NumberFormat::default()
        };
        let ColumnData::Numeric(n) =
            build(Some(ColumnKind::Numeric(Some(percent))), &["38%", ""]).expect("reads")
        else {
            panic!("numeric")
        };
        assert_eq!(n.values()[0], 0.38);
        assert!(build(Some(ColumnKind::Numeric(Some(percent))), &["0.38"]).is_err());
        // A model's column accepts what training would have (a thousands separator, a currency
        // symbol where it saw none), but not another symbol or a missing percent sign.
        let plain = Some(ColumnKind::Numeric(Some(NumberFormat::default())));
        assert!(build(plain, &["$5", "1,299"]).is_ok());
        let dollars = NumberFormat {
            currency: Some('$'),
            ..NumberFormat::default()
        };
        assert!(build(Some(ColumnKind::Numeric(Some(dollars))), &["€5"]).is_err());
        let err = build(
            Some(ColumnKind::Date(DateOrder::Ymd)),
            &["2024-01-05", "soon"],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a date written year-month-day"),
            "{err}"
        );
    }

    #[test]
    fn dates_are_recognised() {
        let ColumnData::Date(d) =
            build(None, &["2024-03-05", "", "2024-03-06T12:00"]).expect("reads")
        else {
            panic!("dates")
        };
        assert_eq!(d.order(), DateOrder::Ymd);
        assert_eq!(d.days()[2] - d.days()[0], 1.5);
        assert!(d.days()[1].is_nan());
        let ColumnData::Date(d) = build(None, &["05/03/2024", "25/12/2024"]).expect("reads") else {
            panic!("dates")
        };
        assert_eq!(d.order(), DateOrder::Dmy);
        assert!(!d.ambiguous());
        assert!(matches!(
            build(None, &["2024-03-05", "later"]).expect("reads"),
            ColumnData::Categorical(_)
        ));
        assert!(matches!(
            build(Some(ColumnKind::Categorical), &["2024-03-05"]).expect("reads"),
            ColumnData::Categorical(_)
        ));
    }
}
