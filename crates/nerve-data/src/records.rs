//! [`Cell`] and [`Table::from_records`]: a table built from cells that arrive already separated (the rows of a JSON
//! request), typed and checked cell by cell as [`TableReader`](crate::TableReader) does a CSV
//! file's, so a row means the same whichever way it came in.

use crate::DataError;
use crate::builder::{Builder, Place};
use crate::cell::NumberSyntax;
use crate::note::Note;
use crate::table::{CsvOptions, Missing, Table};

/// One cell of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// No value (JSON's `null`); filled as a missing CSV cell is.
    Missing,
    /// Text, read as a CSV cell's text is (trimmed; a missing-value spelling such as `NA` is
    /// missing; numbers in the column's format, so `38%` or `1,5` where the model read them).
    Text(&'a str),
    /// A number given as a value (a JSON number): taken as it is in a numeric column, and as
    /// its shortest spelling (`3`, `0.25`) in a categorical one.
    Number(f64),
}

impl Table {
    /// A table from records whose cells arrive already separated (the rows of a JSON request):
    /// one cell per column in the order of `names`, typed and checked cell by cell as
    /// [`TableReader`](crate::TableReader) does a CSV file's.
    ///
    /// Columns listed in `options.kinds` are typed as given (a model's columns); any other is
    /// inferred from its cells, as in a file. Text cells are trimmed, a missing-value spelling
    /// (`options.na_values`) is missing, and numbers in text follow the column's recorded
    /// format or, for inferred columns, `options.thousands` and a decimal comma when
    /// `options.delimiter` is not a comma. `options.skip_unlisted` does not apply.
    ///
    /// # Errors
    ///
    /// Each names `source_name`, the column and, as its `line`, the record's 1-based position:
    /// a cell that does not fit its column's type or a number that is not a finite `f32`
    /// ([`DataError::NotNumeric`]), a missing cell under [`Missing::Error`]
    /// ([`DataError::Missing`]), a record with more or fewer cells than columns
    /// ([`DataError::Csv`]), or two columns of one name ([`DataError::DuplicateColumn`]).
    ///
    /// ```
    /// use nerve_data::{Cell, ColumnKind, CsvOptions, NumberFormat, Table};
    ///
    /// # fn main() -> Result<(), nerve_data::DataError> {
    /// let options = CsvOptions {
    ///     kinds: vec![("width".into(), ColumnKind::Numeric(Some(NumberFormat::default())))],
    ///     ..CsvOptions::default()
    /// };
    /// let names = ["width".to_owned(), "colour".to_owned()];
    /// let rows = [
    ///     [Cell::Number(1.5), Cell::Text("red")],
    ///     [Cell::Text("NA"), Cell::Missing],
    /// ];
    /// let table = Table::from_records("request", &names, rows, &options)?;
    /// assert_eq!(table.num_rows(), 2);
    /// assert!(table.column("width")?.is_missing(1));
    ///
    /// let bad = [[Cell::Number(1.0), Cell::Text("red")], [Cell::Text("wide"), Cell::Missing]];
    /// let err = Table::from_records("request", &names, bad, &options).unwrap_err();
    /// assert!(err.to_string().contains("line 2"), "{err}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_records<'c, R>(
        source_name: &str,
        names: &[String],
        records: impl IntoIterator<Item = R>,
        options: &CsvOptions,
    ) -> Result<Table, DataError>
    where
        R: IntoIterator<Item = Cell<'c>>,
    {
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(DataError::DuplicateColumn {
                    source_name: source_name.to_owned(),
                    column: name.clone(),
                });
            }
        }
        let mut builders: Vec<Builder> = names
            .iter()
            .map(|name| Builder::new(options.kind(name)))
            .collect();
        let syntax = NumberSyntax {
            decimal_comma: options.delimiter.is_some_and(|d| d != b','),
            thousands: options.thousands,
        };
        let mut lines = Vec::new();
        let mut spelled = String::new();
        for record in records {
            let line = lines.len() as u64 + 1;
            let mut count = 0;
            for cell in record {
                let (Some(builder), Some(name)) = (builders.get_mut(count), names.get(count))
                else {
                    count += 1;
                    continue;
                };
                count += 1;
                let place = Place {
                    source: source_name,
                    column: name,
                    line,
                };
                let text = match cell {
                    Cell::Missing => None,
                    Cell::Text(text) => Some(text.trim()),
                    Cell::Number(value) => {
                        spelled.clear();
                        use std::fmt::Write as _;
                        // `3` for whole numbers, as a CSV would have them; otherwise the
                        // shortest spelling that reads back, with an exponent when long (1e300).
                        let _ = if value.fract() == 0.0 && value.abs() < 1e15 {
                            write!(spelled, "{value}")
                        } else {
                            write!(spelled, "{value:?}")
                        };
                        builder.push_number(value, &spelled, &place, &syntax)?;
                        continue;
                    }
                };
                let cell = match text {
                    Some(text) if !options.na_values.contains(text) => Some(text),
                    _ if options.missing == Missing::Error => {
                        return Err(DataError::Missing {
                            source_name: source_name.to_owned(),
                            line,
                            column: name.clone(),
                            value: text.unwrap_or("null").to_owned(),
                        });
                    }
                    _ => None,
                };
                builder.push(cell, &place, &syntax)?;
            }
            if count != names.len() {
                return Err(DataError::Csv {
                    source_name: source_name.to_owned(),
                    line,
                    message: format!(
                        "{count} values for {} columns ({})",
                        names.len(),
                        names.join(", ")
                    ),
                });
            }
            lines.push(line);
        }
        let mut columns = Vec::with_capacity(names.len());
        for (builder, name) in builders.into_iter().zip(names) {
            columns.push(builder.finish(name.clone(), source_name, &syntax)?);
        }
        Ok(Table {
            source: source_name.to_owned(),
            lines,
            notes: columns
                .iter()
                .flat_map(|c| Note::about_column(c, &syntax))
                .collect(),
            columns,
            syntax,
            header: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{ColumnData, ColumnKind, DataError, NaValues, NumberFormat};

    fn numeric(format: NumberFormat) -> ColumnKind {
        ColumnKind::Numeric(Some(format))
    }

    fn options(kinds: Vec<(&str, ColumnKind)>) -> CsvOptions {
        CsvOptions {
            kinds: kinds.into_iter().map(|(n, k)| (n.to_owned(), k)).collect(),
            na_values: NaValues::with_extra(&["-999".to_owned()]),
            ..CsvOptions::default()
        }
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn values(table: &Table, column: &str) -> Vec<f64> {
        match table.column(column).unwrap().data() {
            ColumnData::Numeric(n) => n.values().to_vec(),
            other => panic!("{column}: {other:?}"),
        }
    }

    #[test]
    fn cells_read_as_the_csv_reader_reads_the_same_text() {
        // The same rows as CSV text and as records of text cells: the same table.
        let csv = "width,colour,share\n1.5,red,38%\nNA, Red ,-999\n,TRUE,5%\n3,3.0,\n";
        let kinds = vec![
            ("width", numeric(NumberFormat::default())),
            ("colour", ColumnKind::Categorical),
            (
                "share",
                numeric(NumberFormat {
                    percent: true,
                    ..NumberFormat::default()
                }),
            ),
        ];
        let options = options(kinds);
        let from_csv = Table::read("request", csv.as_bytes(), &options).unwrap();
        let rows = [
            ["1.5", "red", "38%"],
            ["NA", " Red ", "-999"],
            ["", "TRUE", "5%"],
            ["3", "3.0", ""],
        ];
        let records = rows.map(|row| row.map(Cell::Text));
        let from_records = Table::from_records(
            "request",
            &names(&["width", "colour", "share"]),
            records,
            &options,
        )
        .unwrap();
        for column in ["width", "colour", "share"] {
            let (a, b) = (
                from_csv.column(column).unwrap(),
                from_records.column(column).unwrap(),
            );
            for row in 0..4 {
                assert_eq!(a.display(row), b.display(row), "{column} row {row}");
                assert_eq!(a.is_missing(row), b.is_missing(row), "{column} row {row}");
            }
        }
        let share = values(&from_records, "share");
        assert_eq!(share[0], 0.38);
        assert!(
            share[1].is_nan(),
            "-999 is one of the missing-value spellings"
        );
    }

    #[test]
    fn numbers_are_values_in_numeric_columns_and_their_spelling_in_categorical_ones() {
        let options = options(vec![
            ("width", numeric(NumberFormat::default())),
            ("size", ColumnKind::Categorical),
        ]);
        let rows = [
            [Cell::Number(0.1), Cell::Number(3.0)],
            [Cell::Number(-2.5e-8), Cell::Number(0.25)],
            [Cell::Missing, Cell::Missing],
        ];
        let table =
            Table::from_records("request", &names(&["width", "size"]), rows, &options).unwrap();
        let width = values(&table, "width");
        assert_eq!(width[..2], [0.1, -2.5e-8]);
        assert!(width[2].is_nan());
        let size = table.column("size").unwrap();
        assert_eq!(size.display(0), "3");
        assert_eq!(size.display(1), "0.25");
        assert!(size.is_missing(2));
    }

    #[test]
    fn a_bad_cell_is_named_by_its_record_and_column() {
        let options = options(vec![("width", numeric(NumberFormat::default()))]);
        let names = names(&["width"]);
        let cases: [(Vec<[Cell<'_>; 1]>, &str, u64); 3] = [
            (
                vec![[Cell::Number(1.0)], [Cell::Text("wide")]],
                "a number",
                2,
            ),
            (vec![[Cell::Number(1e39)]], "32-bit", 1),
            (
                vec![
                    [Cell::Number(1.0)],
                    [Cell::Number(2.0)],
                    [Cell::Text("inf")],
                ],
                "32-bit",
                3,
            ),
        ];
        for (rows, expected, at) in cases {
            match Table::from_records("request", &names, rows, &options) {
                Err(DataError::NotNumeric {
                    line,
                    column,
                    expected: e,
                    ..
                }) => {
                    assert_eq!((line, column.as_str()), (at, "width"));
                    assert!(e.contains(expected), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_record_with_the_wrong_number_of_cells_or_a_repeated_column_is_refused() {
        let options = options(Vec::new());
        let err = Table::from_records(
            "request",
            &names(&["a", "b"]),
            [
                vec![Cell::Number(1.0), Cell::Number(2.0)],
                vec![Cell::Number(1.0)],
            ],
            &options,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("line 2: 1 values for 2 columns"),
            "{err}"
        );
        let err = Table::from_records(
            "request",
            &names(&["a", "a"]),
            Vec::<Vec<Cell<'_>>>::new(),
            &options,
        )
        .unwrap_err();
        assert!(matches!(err, DataError::DuplicateColumn { .. }), "{err}");
    }

    #[test]
    fn a_decimal_comma_is_read_where_the_delimiter_allows_it_and_missing_can_be_an_error() {
        let mut options = options(vec![(
            "width",
            numeric(NumberFormat {
                decimal_comma: true,
                ..NumberFormat::default()
            }),
        )]);
        let table = Table::from_records(
            "request",
            &names(&["width"]),
            [[Cell::Text("2,5")], [Cell::Number(2.5)]],
            &options,
        )
        .unwrap();
        assert_eq!(values(&table, "width"), [2.5, 2.5]);
        options.missing = Missing::Error;
        let err = Table::from_records("request", &names(&["width"]), [[Cell::Missing]], &options)
            .unwrap_err();
        assert!(matches!(err, DataError::Missing { line: 1, .. }), "{err}");
    }
}
