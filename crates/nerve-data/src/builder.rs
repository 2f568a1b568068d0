//! [`Builder`]: types one column while its cells stream in — numbers (with their format and
//! first spellings) until a cell is text, then categories by value, which become dates when
//! every level is one — or as a forced [`ColumnKind`].

use std::collections::HashMap;

use crate::DataError;
use crate::cell::{
    LevelKey, NumberFormat, NumberSyntax, ParsedNumber, long_integer, normalized_bits,
};
use crate::column::{
    Categorical, Column, ColumnData, ColumnKind, Dates, MAX_SPELLINGS, Numbers, Spellings,
};
use crate::dates::{DateEvidence, DateFields, DateOrder, days_since_epoch, parse_date};

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
    /// Levels keyed by their exact text ([`ColumnKind::Text`]), not by value.
    exact: bool,
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
                None => text.add_level(spelling, key),
            };
            text.codes.push(code);
        }
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
            dates: detect_dates.then(|| (DateEvidence::new(), Vec::new())),
            exact: false,
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
        let code = match self.lookup.get(&key) {
            Some(&code) => code,
            None => self.add_level(text.to_owned(), key),
        };
        self.codes.push(code);
    }

    fn add_level(&mut self, text: String, key: LevelKey) -> u32 {
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
