//! [`Table`]: a CSV file with a header row, read into typed columns.

use std::io::Read;
use std::path::Path;

use crate::cell::{NaValues, NumberSyntax};
use crate::column::{Column, ColumnKind};
use crate::note::Note;
use crate::{DataError, TableReader};

/// A table read from CSV: named columns of equal length, each numeric, categorical or dates,
/// with the file line of every row kept for error messages, and notes on what reading it
/// decided (renamed or dropped columns, stripped number formats, dates).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub(crate) source: String,
    pub(crate) columns: Vec<Column>,
    /// The 1-based file line of each row.
    pub(crate) lines: Vec<u64>,
    pub(crate) notes: Vec<Note>,
    /// How numbers were read (matching categories by value uses the same rules).
    pub(crate) syntax: NumberSyntax,
    /// Every column name of the file, when some columns were not read (for messages).
    pub(crate) header: Option<Vec<String>>,
}

/// What to do with a missing value (see [`NaValues`] for what counts as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Leave out every row with a missing value, and say how many per column.
    Drop,
    /// Keep rows with missing features, encoded as scikit-learn's pipelines encode them: a
    /// numeric (or date) column with blanks in the training rows is filled with their mean and
    /// gains an indicator input (`SimpleImputer(add_indicator=True)`); a categorical one gains
    /// "missing" as a level of its own (`OneHotEncoder`'s treatment of NaN). A blank the
    /// training rows never had is filled with the mean or most frequent value. Rows whose
    /// target is missing are still left out: a target cannot be guessed. The default: chosen
    /// by `just bench-quality` (BENCHMARKS.md).
    #[default]
    Impute,
    /// Refuse the file, naming the line and column of the first missing value.
    Error,
}

impl nerve_choice::Choice for Missing {
    const KIND: &'static str = "missing-value policy";

    fn all() -> &'static [Self] {
        &[Missing::Drop, Missing::Impute, Missing::Error]
    }

    /// The name used in configs and on the command line (as serde writes it).
    fn name(self) -> &'static str {
        match self {
            Missing::Drop => "drop",
            Missing::Impute => "impute",
            Missing::Error => "error",
        }
    }
}

impl std::str::FromStr for Missing {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        nerve_choice::parse(text).map_err(|e| DataError::Config(e.to_string()))
    }
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOptions {
    /// The field delimiter; `None` detects it from the header line ([`sniff_delimiter`](crate::sniff_delimiter)).
    pub delimiter: Option<u8>,
    /// What to do with missing values. Only [`Missing::Error`] acts while reading; the others
    /// keep missing cells in the table for [`prepare`](crate::prepare) to drop or fill.
    pub missing: Missing,
    /// The strings that mean "no value" (pandas' defaults, and any extra ones).
    pub na_values: NaValues,
    /// A thousands separator to strip from numbers (`.` makes `,` the decimal mark); `None`
    /// detects `,` in comma-delimited files.
    pub thousands: Option<char>,
    /// Columns whose type is given rather than inferred (absent names are ignored).
    pub kinds: Vec<(String, ColumnKind)>,
    /// Whether columns not in `kinds` are skipped (a model reads only its own columns).
    pub skip_unlisted: bool,
}

impl CsvOptions {
    pub(crate) fn kind(&self, name: &str) -> Option<ColumnKind> {
        self.kinds
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, kind)| kind)
    }
}

impl Table {
    /// Reads a CSV file with the default [`CsvOptions`]. Errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Table, DataError> {
        Self::open(path, &CsvOptions::default())
    }

    /// Reads a data file: CSV (plain or gzip), or Parquet with the `parquet` feature
    /// ([`TableReader::from_path`]). Errors name the file.
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table, DataError> {
        TableReader::from_path(path, options)?.read_all()
    }

    /// Parses CSV text with the default [`CsvOptions`]; `source_name` names it in errors.
    pub fn from_csv_str(source_name: &str, text: &str) -> Result<Table, DataError> {
        Self::read(source_name, text.as_bytes(), &CsvOptions::default())
    }

    /// Parses CSV from any reader, streaming it; `source_name` names it in errors. Quoted
    /// fields are parsed by the `csv` crate; LF, CRLF and CR line endings, UTF-8 and UTF-16
    /// byte-order marks are handled; cells are trimmed of surrounding spaces.
    pub fn read(
        source_name: &str,
        reader: impl Read,
        options: &CsvOptions,
    ) -> Result<Table, DataError> {
        TableReader::new(source_name, reader, options)?.read_all()
    }

    /// The name errors use for this table (its path, or a data set's name).
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// What reading decided that a user should hear of: columns named or left out, number
    /// formats stripped, dates recognised.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    pub(crate) fn syntax(&self) -> NumberSyntax {
        self.syntax
    }

    /// Adds a note (preparing the data decides more).
    pub(crate) fn push_note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// Reads the column `name`, if it was taken for codes by its leading zeros (and holds
    /// nothing but plain numbers), as numbers after all, each cell spelled as written: a
    /// regression target. Its note on codes goes.
    pub(crate) fn read_codes_as_numbers(&mut self, name: &str) {
        let syntax = self.syntax;
        let Some(column) = self.columns.iter_mut().find(|c| c.name == name) else {
            return;
        };
        let crate::ColumnData::Categorical(c) = &column.data else {
            return;
        };
        if c.leading_zeros.is_none() {
            return;
        }
        if let Some(numbers) = crate::builder::codes_as_numbers(c, &syntax) {
            column.data = crate::ColumnData::Numeric(numbers);
            self.notes.retain(|n| {
                !matches!(n, Note::LeadingZeros { column, .. } | Note::MergedSpellings { column, .. } if column == name)
            });
        }
    }

    /// The columns, in file order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column names, in file order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(Column::name).collect()
    }

    /// The number of data rows.
    pub fn num_rows(&self) -> usize {
        self.lines.len()
    }

    /// The 1-based file line of row `row`.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Result<usize, DataError> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| DataError::NoSuchColumn {
                source_name: self.source.clone(),
                column: name.to_owned(),
                available: self
                    .header
                    .clone()
                    .unwrap_or_else(|| self.columns.iter().map(|c| c.name.clone()).collect()),
            })
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Result<&Column, DataError> {
        Ok(&self.columns[self.column_index(name)?])
    }

    /// The columns with missing cells, with how many each.
    pub fn missing_counts(&self) -> Vec<(&str, usize)> {
        self.columns
            .iter()
            .map(|c| (c.name(), c.missing_count()))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// Removes the columns named in `names` (e.g. identifiers that are not features).
    pub fn remove_columns(&mut self, names: &[String]) -> Result<(), DataError> {
        for name in names {
            let index = self.column_index(name)?;
            self.columns.remove(index);
        }
        if self.columns.is_empty() {
            return Err(DataError::empty(&self.source, "no columns are left"));
        }
        Ok(())
    }

    /// Removes the columns named in `names` that the table has.
    pub(crate) fn remove_existing_columns(&mut self, names: &[String]) {
        self.columns.retain(|c| !names.contains(&c.name));
    }

    /// Keeps the rows where `keep` is true.
    ///
    /// # Panics
    ///
    /// When `keep` does not have one entry per row.
    pub fn retain_rows(&mut self, keep: &[bool]) {
        assert_eq!(keep.len(), self.num_rows(), "one flag per row");
        for column in &mut self.columns {
            column.retain(keep);
        }
        let mut row = 0;
        self.lines.retain(|_| {
            row += 1;
            keep[row - 1]
        });
    }

    /// Applies a missing-value policy to every column, as training does and a saved model's
    /// evaluation repeats: [`Missing::Drop`] leaves out rows with any missing cell,
    /// [`Missing::Impute`] only rows without a `target` (features are filled later), and
    /// [`Missing::Error`] refuses the first missing cell, naming its line and column.
    ///
    /// # Errors
    /// A missing cell under [`Missing::Error`]; an empty table afterwards.
    pub fn apply_missing(
        &mut self,
        policy: Missing,
        target: &str,
    ) -> Result<MissingReport, DataError> {
        match policy {
            Missing::Drop => self.drop_incomplete_rows(&[]).map_err(|e| match e {
                DataError::Empty {
                    source_name,
                    message,
                } => DataError::Empty {
                    source_name,
                    message: format!("{message}; --missing impute keeps them"),
                },
                other => other,
            }),
            Missing::Impute => self.drop_incomplete_rows(&[target]),
            Missing::Error => {
                let first = self
                    .columns()
                    .iter()
                    .filter_map(|c| {
                        (0..c.len())
                            .find(|&row| c.is_missing(row))
                            .map(|row| (row, c))
                    })
                    .min_by_key(|&(row, _)| row);
                match first {
                    None => Ok(MissingReport {
                        rows_before: self.num_rows(),
                        ..MissingReport::default()
                    }),
                    Some((row, column)) => Err(DataError::Missing {
                        source_name: self.source_name().to_owned(),
                        line: self.line(row),
                        column: column.name().to_owned(),
                        value: "NA".to_owned(),
                    }),
                }
            }
        }
    }

    /// Leaves out every row with a missing cell in any of `columns` (all columns when empty)
    /// and says what went, per column. An empty table afterwards is an error.
    pub fn drop_incomplete_rows(&mut self, columns: &[&str]) -> Result<MissingReport, DataError> {
        let checked: Vec<usize> = if columns.is_empty() {
            (0..self.columns.len()).collect()
        } else {
            columns
                .iter()
                .map(|name| self.column_index(name))
                .collect::<Result<_, _>>()?
        };
        let rows_before = self.num_rows();
        let mut keep = vec![true; rows_before];
        let mut per_column = Vec::new();
        for &c in &checked {
            let column = &self.columns[c];
            let mut missing = 0;
            for (row, keep) in keep.iter_mut().enumerate() {
                if column.is_missing(row) {
                    *keep = false;
                    missing += 1;
                }
            }
            if missing > 0 {
                per_column.push((column.name.clone(), missing));
            }
        }
        let report = MissingReport {
            rows_before,
            rows_dropped: keep.iter().filter(|&&k| !k).count(),
            per_column,
        };
        if report.rows_dropped == rows_before {
            let per_column: Vec<String> = report
                .per_column
                .iter()
                .map(|(column, n)| format!("`{column}` {n}"))
                .collect();
            return Err(DataError::empty(
                &self.source,
                format!(
                    "all {rows_before} data rows have missing values (missing per column: {})",
                    per_column.join(", ")
                ),
            ));
        }
        if report.rows_dropped > 0 {
            self.retain_rows(&keep);
        }
        Ok(report)
    }
}

/// What [`Table::drop_incomplete_rows`] left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MissingReport {
    /// Rows before dropping.
    pub rows_before: usize,
    /// Rows left out.
    pub rows_dropped: usize,
    /// Missing cells per column among the checked columns, in column order (only columns with any).
    pub per_column: Vec<(String, usize)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Categorical, ColumnData, sniff_delimiter};

    fn numbers(table: &Table, column: usize) -> Vec<f64> {
        match table.columns()[column].data() {
            ColumnData::Numeric(numbers) => numbers.values().to_vec(),
            _ => panic!("column {column} is not numeric"),
        }
    }

    #[test]
    fn reads_numbers_with_header() {
        let table = Table::from_csv_str("t.csv", "a, b\n1, 2.5\n-3,4e2\n").expect("valid csv");
        assert_eq!(table.column_names(), ["a", "b"]);
        assert_eq!(table.num_rows(), 2);
        assert_eq!(numbers(&table, 1), [2.5, 400.0]);
        assert_eq!((table.line(0), table.line(1)), (2, 3));
    }

    #[test]
    fn text_makes_a_column_categorical() {
        let table =
            Table::from_csv_str("t.csv", "a,b\n1,x\n2.50,7\n3,NA\n4,x\n").expect("valid csv");
        assert!(table.columns()[0].is_numeric());
        let ColumnData::Categorical(b) = table.columns()[1].data() else {
            panic!("b has text")
        };
        assert_eq!(b.levels(), ["x", "7"]);
        assert_eq!(b.codes(), [0, 1, Categorical::MISSING, 0]);
        assert_eq!(b.first_text(), (2, "x"));
        // Numbers read before the first text keep their shortest form as levels.
        let table = Table::from_csv_str("t.csv", "a\n2.50\nNA\nbig\n").expect("valid csv");
        let ColumnData::Categorical(a) = table.columns()[0].data() else {
            panic!("a has text")
        };
        assert_eq!(
            a.levels(),
            ["2.50", "big"],
            "numbers keep their first spelling"
        );
        assert_eq!(a.value(1), None);
        assert_eq!(table.columns()[0].display(0), "2.50");
    }

    #[test]
    fn non_finite_numbers_name_line_and_column() {
        let err = Table::from_csv_str("t.csv", "a,b\n1,2\n3,inf\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3, column `b`: expected a finite number that fits in 32-bit floating point, found `inf`"
        );
        let err = Table::from_csv_str("t.csv", "a,b\n1,1e40\n").unwrap_err();
        assert!(err.to_string().contains("line 2, column `b`"), "{err}");
        // In a text column, `inf` is just another category.
        assert!(Table::from_csv_str("t.csv", "a,b\n1,inf\n2,x\n").is_ok());
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors() {
        let err = Table::from_csv_str("t.csv", "a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3: expected 2 fields like the header row, found 1"
        );
        let err = Table::from_csv_str("t.csv", "a,b\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: the header row is not followed by any data rows"
        );
        assert!(matches!(
            Table::from_csv_str("t.csv", ""),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(
            Table::from_csv_str("t.csv", "a,a\n1,2\n"),
            Err(DataError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn binary_and_non_utf8_files_are_errors() {
        let err =
            Table::read("t.bin", &b"PK\x03\x04\x00\x00"[..], &CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("binary file"), "{err}");
        let err =
            Table::read("t.csv", &b"a,b\n1,\xff\xfe\n"[..], &CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv, line 2: column `b`: the text is not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b\n"), b',');
        assert_eq!(sniff_delimiter(b"single\n1\n"), b',');
        let table = Table::from_csv_str("t.csv", "a;b\n1,5;2\n").expect("semicolons");
        assert_eq!(numbers(&table, 0), [1.5], "decimal comma");
        let table = Table::from_csv_str("t.tsv", "a\tb\n1\t2\n").expect("tabs");
        assert_eq!(numbers(&table, 1), [2.0]);
    }

    #[test]
    fn byte_order_mark_crlf_and_quotes_are_handled() {
        let text = "\u{feff}\"a\",\"b c\"\r\n\"1\",2\r\n3,\"4\"\r\n";
        let table = Table::from_csv_str("t.csv", text).expect("valid csv");
        assert_eq!(table.column_names(), ["a", "b c"]);
        assert_eq!(numbers(&table, 0), [1.0, 3.0]);
        assert_eq!(numbers(&table, 1), [2.0, 4.0]);
        let comma = CsvOptions {
            delimiter: Some(b','),
            ..CsvOptions::default()
        };
        let forced = Table::read("t.csv", "a;b\n1;2\n".as_bytes(), &comma).expect("one column");
        assert_eq!(forced.column_names(), ["a;b"]);
    }

    #[test]
    fn rows_with_missing_values_are_dropped_and_counted() {
        let text = "a,b,c\n1,2,3\n,NA,3\n4,n/a,6\n7,8,NaN\n9,null,10\n";
        let mut table = Table::from_csv_str("t.csv", text).expect("missing values are kept");
        assert_eq!(table.missing_counts(), vec![("a", 1), ("b", 3), ("c", 1)]);
        let report = table.drop_incomplete_rows(&["c"]).expect("rows remain");
        assert_eq!((report.rows_before, report.rows_dropped), (5, 1));
        assert_eq!(report.per_column, vec![("c".to_owned(), 1)]);
        let report = table.drop_incomplete_rows(&[]).expect("one row remains");
        assert_eq!(report.rows_dropped, 3);
        assert_eq!(table.num_rows(), 1);
        assert_eq!(table.line(0), 2);
        let strict = CsvOptions {
            missing: Missing::Error,
            ..CsvOptions::default()
        };
        let err = Table::read("t.csv", text.as_bytes(), &strict).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3, column `a`: missing value (``); use --missing drop or --missing impute to accept such rows"
        );
        let mut table = Table::from_csv_str("t.csv", "a,b\nNA,1\n").expect("readable");
        let err = table.drop_incomplete_rows(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: all 1 data rows have missing values (missing per column: `a` 1)"
        );
    }

    #[test]
    fn missing_files_and_folders_name_the_path() {
        let err = Table::from_csv_path("/no/such/file.csv").unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read /no/such/file.csv"),
            "{err}"
        );
        // The reason is the error's source, which a report (anyhow's `{:#}`) prints once after it.
        let err = Table::from_csv_path("/tmp").unwrap_err();
        assert_eq!(err.to_string(), "cannot read /tmp");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("it is a folder; expected a CSV file")
        );
    }

    #[test]
    fn chunks_keep_the_file_lines() {
        let text = "a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n";
        let mut reader =
            TableReader::new("t.csv", text.as_bytes(), &CsvOptions::default()).expect("header");
        assert_eq!(reader.columns(), ["a", "b"]);
        let mut lines = Vec::new();
        while let Some(chunk) = reader.next_chunk(2).expect("valid rows") {
            assert!(chunk.num_rows() <= 2);
            lines.extend((0..chunk.num_rows()).map(|r| chunk.line(r)));
        }
        assert_eq!(lines, [2, 3, 4, 5, 6]);
    }

    fn read(text: impl AsRef<[u8]>, options: &CsvOptions) -> Result<Table, DataError> {
        Table::read("t.csv", text.as_ref(), options)
    }

    #[test]
    fn decimal_marks_and_thousands_are_one_convention_per_column() {
        // A thousands comma the user names wins over the decimal comma of `;` files.
        let named = CsvOptions {
            thousands: Some(','),
            ..CsvOptions::default()
        };
        let table = read(
            "price;y\n1,234;0\n999;1\n12,500;0\n\"2,000,000\";1\n",
            &named,
        )
        .expect("reads");
        assert_eq!(numbers(&table, 0), [1234.0, 999.0, 12_500.0, 2_000_000.0]);
        // Without it, `1,234` in a tab file is a decimal comma, and a note says it may not be.
        let table =
            Table::from_csv_str("t.tsv", "price\ty\n1,234\t0\n999\t1\n12,500\t0\n").expect("reads");
        assert_eq!(numbers(&table, 0), [1.234, 999.0, 12.5]);
        let notes: Vec<String> = table.notes().iter().map(ToString::to_string).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`1,234` on line 2 reads as 1.234")),
            "{notes:?}"
        );
        // One unambiguous decimal comma (`2,5`) settles it: no note.
        let table = Table::from_csv_str("t.csv", "p;y\n1,234;0\n2,5;1\n").expect("reads");
        assert!(table.notes().is_empty(), "{:?}", table.notes());
        // A point and a comma both used as the decimal mark in one column: not numbers.
        let table = Table::from_csv_str("t.csv", "preis;y\n1.234;0\n2,5;1\n999;0\n12.000;1\n")
            .expect("reads");
        assert!(!table.columns()[0].is_numeric());
    }

    #[test]
    fn a_models_format_wins_over_the_files_delimiter() {
        // Trained on a comma file with `"1,195"`: a tab file's `1,195` is 1195, not 1.195.
        let format = crate::NumberFormat {
            thousands: Some(','),
            ..crate::NumberFormat::default()
        };
        let options = CsvOptions {
            kinds: vec![("price".to_owned(), ColumnKind::Numeric(Some(format)))],
            skip_unlisted: true,
            ..CsvOptions::default()
        };
        let table =
            Table::read("t.tsv", "price\ty\n1,195\t0\n3\t1\n".as_bytes(), &options).expect("reads");
        assert_eq!(numbers(&table, 0), [1195.0, 3.0]);
        assert_eq!(
            table.column_names(),
            ["price"],
            "unlisted columns are skipped"
        );
        let err = table.column("prise").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.tsv has no column `prise`; its columns are: price, y"
        );
    }

    #[test]
    fn generated_names_do_not_clash() {
        let table =
            read("a,,column_2,y\n1,2,3,0\n2,3,4,1\n", &CsvOptions::default()).expect("reads");
        assert_eq!(table.column_names(), ["a", "column_2_2", "column_2", "y"]);
    }

    #[test]
    fn utf32_nul_bytes_and_damaged_utf16_are_errors_with_their_line() {
        let mut utf32 = vec![0xFF, 0xFE, 0, 0];
        utf32.extend("a,b\n1,2\n".chars().flat_map(|c| (c as u32).to_le_bytes()));
        let err = read(&utf32, &CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("UTF-32"), "{err}");
        let err = read("a,b\n1,2\n3,4\x00\n", &CsvOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3: a NUL byte: binary data, not CSV text (is this the right file?)"
        );
        // The same past the first 64 KB.
        let mut long = String::from("a,b\n");
        for i in 0..20_000 {
            long.push_str(&format!("{i},{i}\n"));
        }
        long.push_str("1,\x002\n");
        let err = read(&long, &CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("t.csv, line 20002: a NUL byte"),
            "{err}"
        );
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "a,b\n1,2\n3,"
            .encode_utf16()
            .chain([0xD800])
            .chain("4\n".encode_utf16())
        {
            utf16.extend(unit.to_le_bytes());
        }
        let err = read(&utf16, &CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv, line 3: the UTF-16 text does not decode"),
            "{err}"
        );
    }

    #[test]
    fn values_in_errors_are_one_line() {
        let options = CsvOptions {
            kinds: vec![("x".to_owned(), ColumnKind::Numeric(None))],
            ..CsvOptions::default()
        };
        let err = read("x,y\n\"two\nlines\x1b[31m\",1\n", &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 2, column `x`: expected a number, found `two\\nlines\\u{1b}[31m`"
        );
    }

    #[test]
    fn review_findings_stay_fixed() {
        // `€1,234` in a `;` file: a decimal comma with three digits, noted like `1,234`.
        let table =
            Table::from_csv_str("t.csv", "price;y\n€1,234;0\n€2,500;1\n€999;0\n").expect("reads");
        assert_eq!(numbers(&table, 0), [1.234, 2.5, 999.0]);
        let notes: Vec<String> = table.notes().iter().map(ToString::to_string).collect();
        assert!(
            notes.iter().any(|n| n.contains("`€1,234` on line 2")),
            "{notes:?}"
        );
        // German thousands beside a decimal comma are found without --thousands.
        let table = Table::from_csv_str("t.csv", "p;y\n1.234,56;0\n12.500,00;1\n999,50;0\n")
            .expect("reads");
        assert_eq!(numbers(&table, 0), [1234.56, 12_500.0, 999.5]);
        // A model trained on a comma file (decimal point) reads a tab file's `1,299` as 1299,
        // and each cell on its own: `$5` then `€7` both read.
        let options = CsvOptions {
            kinds: vec![(
                "p".to_owned(),
                ColumnKind::Numeric(Some(crate::NumberFormat::default())),
            )],
            ..CsvOptions::default()
        };
        let table = Table::read(
            "t.tsv",
            "p\ty\n1,299\t0\n$5\t1\n€7\t0\n".as_bytes(),
            &options,
        )
        .expect("reads");
        assert_eq!(numbers(&table, 0), [1299.0, 5.0, 7.0]);
        // `inf` among text is one level, however it arrives.
        let table = Table::from_csv_str("t.csv", "a,y\ninf,0\nx,1\ninf,0\n").expect("reads");
        let ColumnData::Categorical(c) = table.columns()[0].data() else {
            panic!("text")
        };
        assert_eq!(c.levels(), ["inf", "x"]);
        assert_eq!(c.codes(), [0, 1, 0]);
    }
}
