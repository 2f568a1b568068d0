//! [`Builder`]: types one column while its cells stream in — numbers (with their format and
//! first spellings) until a cell is text, then categories by value, which become dates when
//! every level is one — or as a forced [`ColumnKind`].

use std::collections::{HashMap, HashSet};

use crate::DataError;
use crate::cell::{
    LevelKey, NumberFormat, NumberSyntax, ParsedNumber, has_leading_zeros, long_integer,
    normalized_bits,
};
use crate::column::{
    Categorical, Column, ColumnData, ColumnKind, Dates, MAX_SPELLINGS, Numbers, OffsetClash,
    Spellings, format_days,
};
use crate::dates::{DateEvidence, DateFields, DateOrder, days_since_epoch, parse_date};
use crate::written::{Written, is_shown_as_written};

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
    Date {
        days: Vec<f64>,
        order: DateOrder,
        written: Written,
    },
}

pub(crate) struct NumericBuilder {
    values: Vec<f64>,
    format: NumberFormat,
    /// Whether the values carry a percent sign, set by the first value.
    percent: Option<bool>,
    spellings: Option<Spellings>,
    /// The cells not written as the column shows their value (its first spelling, or its
    /// shortest form once `spellings` is gone).
    written: Written,
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
    /// The first number written with leading zeros, in an inferred column.
    leading_zeros: Option<(u64, String)>,
    /// Evidence that every level is a date, each level's fields and the line it first
    /// appeared on; `None` once one is not (or when the column is forced to be categorical).
    dates: Option<(DateEvidence, Vec<(DateFields, u64)>)>,
    /// Levels keyed by their exact text ([`ColumnKind::Text`]), not by value.
    exact: bool,
    /// The type is being inferred from the cells (the column started as numbers).
    inferred: bool,
    /// The cells not written as their level's first spelling.
    written: Written,
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
            Some(ColumnKind::Text) => Builder::Text(TextBuilder {
                exact: true,
                ..TextBuilder::new(false)
            }),
            Some(ColumnKind::Date(order)) => Builder::Date {
                days: Vec::new(),
                order,
                written: Written::default(),
            },
        }
    }

    /// Adds a number given as a value (a JSON number), spelled `text`: a numeric column takes
    /// it as it is (no format to strip); any other reads `text` as a cell's text.
    pub(crate) fn push_number(
        &mut self,
        value: f64,
        text: &str,
        place: &Place<'_>,
        syntax: &NumberSyntax,
    ) -> Result<(), DataError> {
        match self {
            Builder::Numeric(numbers) => {
                numbers.push_value(value, text, place);
                Ok(())
            }
            _ => self.push(Some(text), place, syntax),
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
                    let mut text_builder = numbers.take_as_text(syntax);
                    text_builder.push(Some(text), place, syntax);
                    *self = Builder::Text(text_builder);
                }
            }
            Builder::Text(text) => text.push(cell, place, syntax),
            Builder::Date {
                days,
                order,
                written,
            } => match cell {
                None => days.push(f64::NAN),
                Some(text) => {
                    let value = parse_date(text)
                        .and_then(|fields| days_since_epoch(&fields, *order))
                        .ok_or_else(|| {
                            place.error(format!("a date written {}", order.pattern()), text)
                        })?;
                    if !is_iso_day(text, value) {
                        written.push(days.len(), text);
                    }
                    days.push(value);
                }
            },
        }
        Ok(())
    }

    /// The finished column (`syntax`: how the file writes numbers).
    pub(crate) fn finish(
        self,
        name: String,
        source: &str,
        syntax: &NumberSyntax,
    ) -> Result<Column, DataError> {
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
                    written: numbers.written,
                    stray_zeros: None,
                })
            }
            Builder::Text(text) => text.finish(syntax),
            Builder::Date {
                days,
                order,
                written,
            } => ColumnData::Date(Dates {
                days,
                order,
                ambiguous: false,
                offsets: None,
                written,
            }),
        };
        Ok(Column { name, data })
    }
}

/// Whether a date cell is written as nerve shows its day count: `yyyy-mm-dd`, with no time.
fn is_iso_day(text: &str, days: f64) -> bool {
    let b = text.as_bytes();
    days.fract() == 0.0 && b.len() == 10 && b[4] == b'-' && b[7] == b'-'
}

impl NumericBuilder {
    fn new(forced: Option<Option<NumberFormat>>) -> Self {
        Self {
            values: Vec::new(),
            format: forced.flatten().unwrap_or_default(),
            percent: forced.flatten().map(|f| f.percent),
            spellings: Some(Spellings::default()),
            written: Written::default(),
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
    /// numeric: the caller turns the column categorical. So does a number written with
    /// leading zeros (`02134`, `007`): a code, not a quantity.
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
        // Integers longer than a float holds exactly are codes or identifiers, not quantities;
        // so are numbers written with leading zeros.
        let parsed = if !forced && (long_integer(text).is_some() || has_leading_zeros(text)) {
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
                self.push_value(value, text, place);
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

    /// Adds a number that needs no parsing, spelled `text`.
    fn push_value(&mut self, value: f64, text: &str, place: &Place<'_>) {
        if !(value as f32).is_finite() && self.first_non_finite.is_none() {
            self.first_non_finite = Some((place.line, text.to_owned()));
        }
        let row = self.values.len();
        let key = normalized_bits(value);
        match &mut self.spellings {
            Some(spellings) => match spellings.get(&key) {
                Some(first) => {
                    if first != text {
                        self.written.push(row, text);
                    }
                }
                None if spellings.len() < MAX_SPELLINGS => {
                    spellings.insert(key, text.to_owned());
                }
                None => {
                    self.forget_spellings();
                    if !is_shown_as_written(text) {
                        self.written.push(row, text);
                    }
                }
            },
            None => {
                if !is_shown_as_written(text) {
                    self.written.push(row, text);
                }
            }
        }
        self.values.push(value);
    }

    /// Drops the first spellings (too many distinct values to keep), so the values show in
    /// their shortest form from now on; each earlier cell whose first spelling is not that
    /// form keeps it as its written text.
    fn forget_spellings(&mut self) {
        let Some(spellings) = self.spellings.take() else {
            return;
        };
        let differs: HashSet<u64> = spellings
            .iter()
            .filter(|(bits, first)| f64::from_bits(**bits).to_string() != **first)
            .map(|(bits, _)| *bits)
            .collect();
        if differs.is_empty() {
            return;
        }
        let mut firsts = Written::default();
        for (row, &value) in self.values.iter().enumerate() {
            let bits = normalized_bits(value);
            if !value.is_nan() && differs.contains(&bits) {
                firsts.push(row, &spellings[&bits]);
            }
        }
        // A cell already written otherwise than its first spelling keeps its own text.
        self.written = self.written.merged_with(&firsts);
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

    /// The column so far as categories: each earlier number a level under its first spelling
    /// (the cells written otherwise keep their text).
    fn take_as_text(&mut self, syntax: &NumberSyntax) -> TextBuilder {
        let mut text = TextBuilder::new(true);
        text.inferred = true;
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
                None => text.add_level(spelling, key, 0),
            };
            text.codes.push(code);
        }
        text.written = std::mem::take(&mut self.written);
        text
    }

    fn spelling(&self, value: f64) -> String {
        crate::column::spelling(self.spellings.as_ref(), value)
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
            leading_zeros: None,
            dates: detect_dates.then(|| (DateEvidence::new(), Vec::new())),
            exact: false,
            inferred: false,
            written: Written::default(),
        }
    }

    fn push(&mut self, cell: Option<&str>, place: &Place<'_>, syntax: &NumberSyntax) {
        let Some(text) = cell else {
            self.codes.push(Categorical::MISSING);
            return;
        };
        let key = if self.exact {
            LevelKey::Text(text.to_owned())
        } else {
            LevelKey::of(text, syntax)
        };
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
        if self.inferred
            && self.leading_zeros.is_none()
            && matches!(key, LevelKey::Number(_))
            && has_leading_zeros(text)
        {
            self.leading_zeros = Some((place.line, text.to_owned()));
        }
        let row = self.codes.len();
        let code = match self.lookup.get(&key) {
            Some(&code) => {
                if self.levels[code as usize] != text {
                    self.written.push(row, text);
                }
                code
            }
            None => self.add_level(text.to_owned(), key, place.line),
        };
        self.codes.push(code);
    }

    /// Adds a level first seen on `line`.
    fn add_level(&mut self, text: String, key: LevelKey, line: u64) -> u32 {
        if let Some((evidence, fields)) = &mut self.dates {
            match parse_date(&text) {
                Some(f) if evidence.add(&f) => fields.push((f, line)),
                _ => self.dates = None,
            }
        }
        let code = self.levels.len() as u32;
        self.levels.push(text);
        self.lookup.insert(key.clone(), code);
        self.keys.push(key);
        code
    }

    fn finish(mut self, syntax: &NumberSyntax) -> ColumnData {
        if let Some((evidence, fields)) = self.dates.take()
            && let Some(order) = evidence.order()
        {
            let by_level: Option<Vec<f64>> = fields
                .iter()
                .map(|(f, _)| days_since_epoch(f, order))
                .collect();
            if let Some(by_level) = by_level {
                return self.into_dates(order, evidence.ambiguous(), &fields, &by_level);
            }
        }
        let first_text = self
            .first_text
            .clone()
            .or(self.first_cell)
            .unwrap_or_else(|| (0, self.levels.first().cloned().unwrap_or_default()));
        let codes = Categorical {
            levels: self.levels,
            keys: self.keys,
            codes: self.codes,
            first_text,
            has_text: self.first_text.is_some(),
            leading_zeros: self.leading_zeros,
            exact: self.exact,
            inferred: self.inferred,
            written: self.written,
        };
        // Numbers a stray cell or two wrote with leading zeros (`05` among thousands of counts)
        // are quantities after all.
        if codes.inferred
            && !codes.has_text
            && let Some(first) = codes.leading_zeros.clone()
        {
            let (padded, present, one_width) = padding(&codes);
            let is_codes = padded >= 2 && (padded * 100 >= present || one_width);
            if !is_codes && let Some(mut numbers) = codes_as_numbers(&codes, syntax) {
                numbers.stray_zeros = Some((first, padded));
                return ColumnData::Numeric(numbers);
            }
        }
        ColumnData::Categorical(codes)
    }

    /// The column as dates, every level being one (`by_level`: its day count).
    fn into_dates(
        self,
        order: DateOrder,
        ambiguous: bool,
        fields: &[(DateFields, u64)],
        by_level: &[f64],
    ) -> ColumnData {
        let days: Vec<f64> = self
            .codes
            .iter()
            .map(|&code| match code {
                Categorical::MISSING => f64::NAN,
                code => by_level[code as usize],
            })
            .collect();
        // Shown as ISO dates: a level written otherwise keeps its text for its rows (a cell
        // written otherwise than its level already has its own).
        let iso: Vec<bool> = self
            .levels
            .iter()
            .zip(by_level)
            .map(|(level, &d)| *level == format_days(d))
            .collect();
        let mut levels_written = Written::default();
        for (row, &code) in self.codes.iter().enumerate() {
            if code != Categorical::MISSING && !iso[code as usize] {
                levels_written.push(row, &self.levels[code as usize]);
            }
        }
        let written = self.written.merged_with(&levels_written);
        let offsets = offset_clash(&self.levels, &self.codes, fields, by_level);
        ColumnData::Date(Dates {
            days,
            order,
            ambiguous,
            offsets,
            written,
        })
    }
}

/// Each non-missing cell of `c` as written, with its level, rows ascending.
fn cells_as_written(c: &Categorical) -> impl Iterator<Item = (usize, &str, u32)> {
    let mut exceptions = c.written.iter().peekable();
    c.codes
        .iter()
        .enumerate()
        .filter(|&(_, &code)| code != Categorical::MISSING)
        .map(move |(row, &code)| {
            let text = match exceptions.peek() {
                Some(&(r, text)) if r == row => {
                    exceptions.next();
                    text
                }
                _ => c.levels[code as usize].as_str(),
            };
            (row, text, code)
        })
}

/// How a column of whole numbers is padded: the cells written with leading zeros, the cells,
/// and whether every cell is a whole number of one width (zero-padded to it: postal codes,
/// months `01`..`12`). A column is codes when at least two cells are padded and either 1 cell
/// in 100 is or every cell has one width; a stray `05` among thousands of counts, or one `07`
/// among ages, is not.
fn padding(c: &Categorical) -> (usize, usize, bool) {
    let (mut padded, mut present) = (0, 0);
    let mut width = None;
    let mut one_width = true;
    for (_, text, _) in cells_as_written(c) {
        present += 1;
        padded += usize::from(has_leading_zeros(text));
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        let whole = digits.bytes().all(|b| b.is_ascii_digit());
        one_width &= whole && *width.get_or_insert(digits.len()) == digits.len();
    }
    (padded, present, one_width)
}

/// A categorical column whose every cell is a plain number (codes by their leading zeros) as
/// numbers, each cell spelled as written; `None` when some cell is text, a formatted number
/// (`100%` among the level `1`) or beyond f32, which the numeric reader would refuse or read
/// otherwise. For a column that turns out not to be codes, and a target given `--task
/// regression`.
pub(crate) fn codes_as_numbers(c: &Categorical, syntax: &NumberSyntax) -> Option<Numbers> {
    if c.has_text {
        return None;
    }
    let mut numbers = NumericBuilder::new(None);
    numbers.format.decimal_comma = syntax.comma_is_decimal();
    let place = Place {
        source: "",
        column: "",
        line: 0,
    };
    let mut next_row = 0;
    for (row, text, _) in cells_as_written(c) {
        numbers.values.resize(row, f64::NAN);
        let parsed = syntax.parse(text)?;
        if parsed.format.strips() || !(parsed.value as f32).is_finite() {
            return None;
        }
        numbers.push_value(parsed.value, text, &place);
        next_row = row + 1;
    }
    debug_assert!(next_row <= c.codes.len());
    numbers.values.resize(c.codes.len(), f64::NAN);
    Some(Numbers {
        values: numbers.values,
        format: numbers.format,
        spellings: numbers.spellings,
        ambiguous_comma: None,
        written: numbers.written,
        stray_zeros: None,
    })
}

/// Whether the times of a date column carry different UTC offsets (or some none), and how
/// many of its cells then fall on another day than in UTC.
fn offset_clash(
    levels: &[String],
    codes: &[u32],
    fields: &[(DateFields, u64)],
    by_level: &[f64],
) -> Option<OffsetClash> {
    let timed: Vec<usize> = (0..fields.len())
        .filter(|&k| fields[k].0.has_time())
        .collect();
    let first = *timed.first()?;
    let other = *timed
        .iter()
        .find(|&&k| fields[k].0.offset != fields[first].0.offset)?;
    let mut rows_of_level = vec![0usize; levels.len()];
    for &code in codes {
        if code != Categorical::MISSING {
            rows_of_level[code as usize] += 1;
        }
    }
    let other_day = timed
        .iter()
        .filter(|&&k| {
            let local = by_level[k];
            let utc = local - f64::from(fields[k].0.offset.unwrap_or(0)) / 1440.0;
            local.floor() != utc.floor()
        })
        .map(|&k| rows_of_level[k])
        .sum();
    let example = |k: usize| (fields[k].1, levels[k].clone());
    Some(OffsetClash {
        first: example(first),
        other: example(other),
        other_day,
        timed: timed.iter().map(|&k| rows_of_level[k]).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Note;

    /// The column `c` of a file `t.csv` with `cells` on lines 2 on (`""` is missing).
    fn read(kind: Option<ColumnKind>, cells: &[&str]) -> Result<Column, DataError> {
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
        builder.finish("c".to_owned(), "t.csv", &syntax)
    }

    fn build(kind: Option<ColumnKind>, cells: &[&str]) -> Result<ColumnData, DataError> {
        Ok(read(kind, cells)?.data)
    }

    fn column(kind: Option<ColumnKind>, cells: &[&str]) -> Column {
        read(kind, cells).expect("reads")
    }

    fn shown(column: &Column) -> Vec<String> {
        (0..column.len()).map(|row| column.display(row)).collect()
    }

    #[test]
    fn numbers_with_leading_zeros_are_codes() {
        // Issue 34.1: postal codes. Another instance: a bond's coupon code `007` among `12`.
        for cells in [
            &["02134", "10001", "02134", "94105"][..],
            &["12", "", "007", "5", "008"],
        ] {
            let data = build(None, cells).expect("reads");
            let ColumnData::Categorical(c) = &data else {
                panic!("codes are categories: {data:?}")
            };
            assert!(
                c.inferred && !c.has_text && c.leading_zeros.is_some(),
                "{c:?}"
            );
        }
        let ColumnData::Categorical(c) = build(None, &["10001", "02134", "02139"]).expect("reads")
        else {
            panic!("categorical")
        };
        assert_eq!(c.levels(), ["10001", "02134", "02139"]);
        assert_eq!(c.leading_zeros, Some((3, "02134".to_owned())));
        // Not codes: `0`, `0.5`, `-0`, `0e3`; and `--numeric` reads codes as numbers.
        assert!(matches!(
            build(None, &["0", "0.5", "-0", "0e3", "10"]).expect("reads"),
            ColumnData::Numeric(_)
        ));
        let ColumnData::Numeric(n) =
            build(Some(ColumnKind::Numeric(None)), &["02134", "10001"]).expect("reads")
        else {
            panic!("forced numeric")
        };
        assert_eq!(n.values(), [2134.0, 10001.0]);
    }

    #[test]
    fn a_stray_leading_zero_leaves_numbers_numbers() {
        // The helper's report: one `05` among 5,000 counts made 100 categories; zero-padded
        // amounts (`0422.54`) were dropped as an identifier. A column is codes when at least 1
        // cell in 100 is padded, or every cell is a whole number of one width.
        let mut counts: Vec<String> = (0..500).map(|i| (i % 100).to_string()).collect();
        counts[7] = "05".to_owned();
        let cells: Vec<&str> = counts.iter().map(String::as_str).collect();
        let ColumnData::Numeric(n) = build(None, &cells).expect("reads") else {
            panic!("numbers")
        };
        assert_eq!(n.values()[7], 5.0);
        assert_eq!(n.stray_zeros, Some(((9, "05".to_owned()), 1)));
        let shown = column(None, &cells);
        assert_eq!(shown.display(7), "05");
        assert!(matches!(
            build(None, &["0422.54", "1300.00", "0007.50"]).expect("reads"),
            ColumnData::Numeric(_)
        ));
        // Two padded cells or more, and fixed width (months, postal codes) or 1 in 100 padded:
        // codes. One `07` among ages of one width is a typo, not a code.
        let months: Vec<String> = (0..500).map(|i| format!("{:02}", 10 + i % 3)).collect();
        let mut months: Vec<&str> = months.iter().map(String::as_str).collect();
        months[3] = "09";
        assert!(matches!(
            build(None, &months).expect("reads"),
            ColumnData::Numeric(_)
        ));
        months[5] = "08";
        assert!(matches!(
            build(None, &months).expect("reads"),
            ColumnData::Categorical(_)
        ));
        // A cell the numeric reader would refuse keeps a stray-zeros column categorical (the
        // reviewer's report: `100%` merged into the level `1`, `1e39` beyond f32).
        for odd in ["100%", "1e39"] {
            let mut cells: Vec<String> = (0..500).map(|i| (1 + i % 99).to_string()).collect();
            cells[7] = "05".to_owned();
            cells[300] = odd.to_owned();
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            assert!(
                !matches!(build(None, &cells), Ok(ColumnData::Numeric(_))),
                "{odd}"
            );
        }
        counts[9] = "08".to_owned();
        counts[11] = "00".to_owned();
        counts[13] = "01".to_owned();
        counts[15] = "02".to_owned();
        let cells: Vec<&str> = counts.iter().map(String::as_str).collect();
        assert!(matches!(
            build(None, &cells).expect("reads"),
            ColumnData::Categorical(_)
        ));
    }

    #[test]
    fn cells_show_as_written() {
        // Issue 34.5: `$49.57` and `02145` as the file writes them; `3.50`, `1E5`, `7.0` among
        // `7`, `TRUE` among `True` and day/month/year dates too.
        let money = column(None, &["$49.57", "$5", "$49.57", "", "$1,250.00"]);
        assert!(money.is_numeric());
        assert_eq!(shown(&money), ["$49.57", "$5", "$49.57", "NA", "$1,250.00"]);
        let plain = column(None, &["3.50", "3.5", "1E5", "100000", "-0", "0"]);
        assert_eq!(shown(&plain), ["3.50", "3.5", "1E5", "100000", "-0", "0"]);
        let codes = column(None, &["02145", "7", "7.0", "007", "x"]);
        assert_eq!(shown(&codes), ["02145", "7", "7.0", "007", "x"]);
        let truth = column(None, &["True", "TRUE", "false"]);
        assert_eq!(shown(&truth), ["True", "TRUE", "false"]);
        let dates = column(None, &["05/03/2024", "25/12/2024", "", "05/03/2024"]);
        assert!(matches!(dates.data(), ColumnData::Date(_)));
        assert_eq!(
            shown(&dates),
            ["05/03/2024", "25/12/2024", "NA", "05/03/2024"]
        );
        let model_dates = column(
            Some(ColumnKind::Date(DateOrder::Ymd)),
            &["2024-03-05", "2024-3-6", "2024-03-07T10:00"],
        );
        assert_eq!(
            shown(&model_dates),
            ["2024-03-05", "2024-3-6", "2024-03-07T10:00"]
        );
        // Past the spellings kept per column, every cell still shows as written.
        let cells: Vec<String> = (0..MAX_SPELLINGS + 10)
            .map(|i| format!("{}.{}0", i / 2, i % 2))
            .collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        let many = column(None, &cells);
        assert!(many.is_numeric());
        assert_eq!(shown(&many), cells);
        let mut dropped = many.clone();
        let keep: Vec<bool> = (0..cells.len()).map(|i| i % 3 == 0).collect();
        dropped.retain(&keep);
        let kept: Vec<&str> = cells.iter().step_by(3).copied().collect();
        assert_eq!(shown(&dropped), kept);
    }

    #[test]
    fn forced_categories_keep_every_spelling() {
        // Issue 34.4: part codes `1E5` and `100000` are different parts under --categorical
        // (ColumnKind::Text), one level by value when inferred.
        let cells = ["1E5", "100000", "2E3", "2000", "7E1", "70", "31", "32"];
        assert_eq!(
            levels(&build(Some(ColumnKind::Text), &cells).expect("reads")).len(),
            8
        );
        let inferred = column(None, &[&cells[..], &["x"]].concat());
        let ColumnData::Categorical(c) = inferred.data() else {
            panic!("categorical")
        };
        assert_eq!(c.levels().len(), 6);
        let notes = Note::about_column(&inferred, &NumberSyntax::default());
        let text: Vec<String> = notes.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|n| n.contains("3 categories written in several notations")
                    && n.contains("`100000` as `1E5`")),
            "{text:?}"
        );
        // The helper's report: every other spelling of a level is named, and two currencies
        // are two notations.
        let money = column(None, &["$5", "€5", "5e0", "0005", "red"]);
        let text: Vec<String> = Note::about_column(&money, &NumberSyntax::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            text.iter()
                .any(|n| n.contains("1 category written")
                    && n.contains("(`€5`, `5e0`, `0005` as `$5`)")),
            "{text:?}"
        );
        // `3` and `3.0`, `True` and `TRUE` are one notation: no note.
        let same = column(None, &["3", "3.0", "True", "TRUE", "x"]);
        assert!(Note::about_column(&same, &NumberSyntax::default()).is_empty());
        // Another instance: `007` and `7` (leading zeros) merged in an inferred column.
        let zeros = column(None, &["7", "007", "8", "x"]);
        let text: Vec<String> = Note::about_column(&zeros, &NumberSyntax::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(text.iter().any(|n| n.contains("`007` as `7`")), "{text:?}");
    }

    #[test]
    fn different_utc_offsets_are_noted() {
        // Issue 34.6: `+09:00` and `-08:00` in one column; another instance: `Z` and none.
        let tokyo = column(
            None,
            &[
                "2024-03-05T23:30:00+09:00",
                "2024-03-05T08:00:00-08:00",
                "2024-03-06T01:00:00+09:00",
                "2024-03-05T20:00:00-08:00",
            ],
        );
        let ColumnData::Date(d) = tokyo.data() else {
            panic!("dates")
        };
        let clash = d.offsets.clone().expect("offsets differ");
        assert_eq!(clash.first, (2, "2024-03-05T23:30:00+09:00".to_owned()));
        assert_eq!(clash.other, (3, "2024-03-05T08:00:00-08:00".to_owned()));
        // 23:30+09:00 is 14:30 UTC (same day); 01:00+09:00 is the day before in UTC;
        // 20:00-08:00 is the next day in UTC.
        assert_eq!((clash.other_day, clash.timed), (2, 4));
        let zulu = column(None, &["2024-03-05T10:00Z", "2024-03-05T11:00"]);
        let ColumnData::Date(d) = zulu.data() else {
            panic!("dates")
        };
        assert!(d.offsets.is_some());
        let one_zone = column(None, &["2024-03-05T10:00+02:00", "2024-03-06T11:00+02:00"]);
        let ColumnData::Date(d) = one_zone.data() else {
            panic!("dates")
        };
        assert_eq!(d.offsets, None);
    }

    fn levels(data: &ColumnData) -> Vec<String> {
        match data {
            ColumnData::Categorical(c) => c.levels().to_vec(),
            other => panic!("not categorical: {other:?}"),
        }
    }

    #[test]
    fn text_columns_keep_every_spelling_apart() {
        let cells = ["007", "7", "7.0", "TRUE", "true", "2024-03-05", ""];
        let data = build(Some(ColumnKind::Text), &cells).expect("reads");
        assert_eq!(
            levels(&data),
            ["007", "7", "7.0", "TRUE", "true", "2024-03-05"]
        );
        // By value, the same cells are three levels (and no date column).
        let data = build(Some(ColumnKind::Categorical), &cells).expect("reads");
        assert_eq!(levels(&data), ["007", "TRUE", "2024-03-05"]);
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
        // Found by the pandas comparison: a formatted number read before the first text cell and
        // the same number after it are one level (`$5`, then text, then `$5` and `5`).
        let data = build(None, &["$5", "50%", "5+", "$5", "5", "0.5"]).expect("reads");
        assert_eq!(levels(&data), ["$5", "50%", "5+"]);
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
