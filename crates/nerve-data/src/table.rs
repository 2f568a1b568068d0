//! [`Table`]: a CSV file with a header row, read into typed columns.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::DataError;

/// A table read from CSV: named columns of equal length, each numeric or categorical, with the
/// file line of every row kept for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    source: String,
    columns: Vec<Column>,
    /// The 1-based file line of each row.
    lines: Vec<u64>,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    name: String,
    data: ColumnData,
}

/// A column's values. A column is numeric when every non-missing cell parses as a finite
/// number, otherwise categorical.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Numbers; a missing cell is `NaN` (never a value read from the file: `NaN` there means missing).
    Numeric(Vec<f32>),
    /// Text values, as indices into the column's levels.
    Categorical(Categorical),
}

/// A categorical column: its distinct values (levels, in order of first appearance) and each
/// row's level index, [`Categorical::MISSING`] for a missing cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    levels: Vec<String>,
    codes: Vec<u32>,
    /// The first cell that is not a number: its line and text (why the column is categorical).
    first_text: (u64, String),
}

impl Categorical {
    /// The code of a missing cell.
    pub const MISSING: u32 = u32::MAX;

    /// The distinct values, in order of first appearance.
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

    /// Whether every non-missing value is a number.
    pub fn is_numeric(&self) -> bool {
        matches!(self.data, ColumnData::Numeric(_))
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Numeric(values) => values.len(),
            ColumnData::Categorical(c) => c.codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `row` is missing.
    pub fn is_missing(&self, row: usize) -> bool {
        match &self.data {
            ColumnData::Numeric(values) => values[row].is_nan(),
            ColumnData::Categorical(c) => c.codes[row] == Categorical::MISSING,
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
            ColumnData::Numeric(values) => values[row].to_string(),
            ColumnData::Categorical(c) => c.levels[c.codes[row] as usize].clone(),
        }
    }

    fn retain(&mut self, keep: &[bool]) {
        let mut row = 0;
        let mut keep_next = || {
            row += 1;
            keep[row - 1]
        };
        match &mut self.data {
            ColumnData::Numeric(values) => values.retain(|_| keep_next()),
            ColumnData::Categorical(c) => c.codes.retain(|_| keep_next()),
        }
    }
}

/// What to do with a missing value: an empty cell, `NA`, `N/A`, `NaN` or `null` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Leave out every row with a missing value, and say how many per column.
    #[default]
    Drop,
    /// Fill a missing feature with the training rows' mean (numeric) or most frequent value
    /// (categorical). Rows whose target is missing are still left out: a target cannot be guessed.
    Impute,
    /// Refuse the file, naming the line and column of the first missing value.
    Error,
}

impl std::str::FromStr for Missing {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(Missing::Drop),
            "impute" => Ok(Missing::Impute),
            "error" => Ok(Missing::Error),
            _ => Err(DataError::Config(format!(
                "unknown missing-value policy `{text}`; expected drop, impute or error"
            ))),
        }
    }
}

/// How to read a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// The field delimiter; `None` detects it from the header line ([`sniff_delimiter`]).
    pub delimiter: Option<u8>,
    /// What to do with missing values. Only [`Missing::Error`] acts while reading; the others
    /// keep missing cells in the table for [`prepare`](crate::prepare) to drop or fill.
    pub missing: Missing,
}

/// Whether a cell's text means "no value".
pub(crate) fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || ["na", "n/a", "nan", "null"]
            .iter()
            .any(|token| cell.eq_ignore_ascii_case(token))
}

/// Parses a number; with a delimiter other than a comma, a decimal comma (`2,5`) is accepted too.
fn parse_number(text: &str, delimiter: u8) -> Option<f32> {
    match text.parse::<f32>() {
        Ok(value) => Some(value),
        Err(_) if delimiter != b',' && text.matches(',').count() == 1 && !text.contains('.') => {
            text.replacen(',', ".", 1).parse().ok()
        }
        Err(_) => None,
    }
}

/// Accumulates one column while reading.
enum Builder {
    Numeric {
        values: Vec<f32>,
        /// The first cell that parsed as a number but not a finite `f32` (`inf`, `1e40`).
        first_non_finite: Option<(u64, String)>,
    },
    Categorical {
        column: Categorical,
        lookup: HashMap<String, u32>,
    },
}

impl Builder {
    fn push(&mut self, cell: Option<&str>, line: u64, delimiter: u8) {
        match self {
            Builder::Numeric {
                values,
                first_non_finite,
            } => match cell.map(|text| (text, parse_number(text, delimiter))) {
                None => values.push(f32::NAN),
                Some((text, Some(value))) => {
                    if !value.is_finite() && first_non_finite.is_none() {
                        *first_non_finite = Some((line, text.to_owned()));
                    }
                    values.push(value);
                }
                Some((text, None)) => {
                    // The first text cell: the column is categorical after all. Earlier numbers
                    // become levels under their shortest decimal form.
                    let mut builder = Builder::Categorical {
                        column: Categorical {
                            levels: Vec::new(),
                            codes: Vec::with_capacity(values.capacity()),
                            first_text: (line, text.to_owned()),
                        },
                        lookup: HashMap::new(),
                    };
                    for value in values.iter() {
                        let text = (!value.is_nan()).then(|| value.to_string());
                        builder.push(text.as_deref(), line, delimiter);
                    }
                    builder.push(Some(text), line, delimiter);
                    *self = builder;
                }
            },
            Builder::Categorical { column, lookup } => {
                let code = match cell {
                    None => Categorical::MISSING,
                    Some(text) => match lookup.get(text) {
                        Some(&code) => code,
                        None => {
                            let code = column.levels.len() as u32;
                            column.levels.push(text.to_owned());
                            lookup.insert(text.to_owned(), code);
                            code
                        }
                    },
                };
                column.codes.push(code);
            }
        }
    }

    fn finish(self, name: String, source_name: &str) -> Result<Column, DataError> {
        let data = match self {
            Builder::Numeric {
                first_non_finite: Some((line, value)),
                ..
            } => {
                return Err(DataError::NotNumeric {
                    source_name: source_name.to_owned(),
                    line,
                    column: name,
                    expected: "a finite number that fits in 32-bit floating point".to_owned(),
                    value,
                });
            }
            Builder::Numeric { values, .. } => ColumnData::Numeric(values),
            Builder::Categorical { column, .. } => ColumnData::Categorical(column),
        };
        Ok(Column { name, data })
    }
}

impl Table {
    /// Reads a CSV file with the default [`CsvOptions`]. Errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Table, DataError> {
        Self::open(path, &CsvOptions::default())
    }

    /// Reads a CSV file. Errors name the file.
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table, DataError> {
        TableReader::open(path, options)?.read_all()
    }

    /// Parses CSV text with the default [`CsvOptions`]; `source_name` names it in errors.
    pub fn from_csv_str(source_name: &str, text: &str) -> Result<Table, DataError> {
        Self::read(source_name, text.as_bytes(), &CsvOptions::default())
    }

    /// Parses CSV from any reader, streaming it; `source_name` names it in errors. Quoted
    /// fields, CRLF line endings and a UTF-8 byte-order mark are handled by the `csv` crate;
    /// cells are trimmed of surrounding spaces.
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
                available: self.columns.iter().map(|c| c.name.clone()).collect(),
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
            return Err(DataError::empty(
                &self.source,
                format!("all {rows_before} data rows have missing values"),
            ));
        }
        if report.rows_dropped > 0 {
            self.retain_rows(&keep);
        }
        Ok(report)
    }
}

/// Reads a CSV file in chunks of rows, for inputs too large to hold at once (`nerve predict`).
/// Each chunk is a [`Table`] typed on its own rows, with the file's line numbers.
pub struct TableReader<R: Read> {
    source: String,
    csv: csv::Reader<BufReader<R>>,
    names: Vec<String>,
    delimiter: u8,
    missing: Missing,
    record: csv::ByteRecord,
}

impl<R: Read> std::fmt::Debug for TableReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("source", &self.source)
            .field("columns", &self.names)
            .finish_non_exhaustive()
    }
}

impl TableReader<std::fs::File> {
    /// Opens a CSV file.
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        let io_error = |source| DataError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_dir() {
            return Err(io_error(std::io::Error::other(
                "it is a folder; expected a CSV file",
            )));
        }
        let file = std::fs::File::open(path).map_err(io_error)?;
        Self::new(&path.display().to_string(), file, options)
    }
}

impl<R: Read> TableReader<R> {
    /// Reads the header row (detecting the delimiter unless `options` fixes it).
    pub fn new(source_name: &str, reader: R, options: &CsvOptions) -> Result<Self, DataError> {
        // Peek at the first buffered chunk, which holds the header line of any sane file,
        // without consuming it.
        let mut reader = BufReader::with_capacity(256 * 1024, reader);
        let start = reader.fill_buf().map_err(|source| DataError::Io {
            path: source_name.to_owned(),
            source,
        })?;
        if start.contains(&0) {
            return Err(DataError::empty(
                source_name,
                "this looks like a binary file (it contains NUL bytes), not CSV text",
            ));
        }
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(start));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let header = csv
            .byte_headers()
            .map_err(|err| csv_error(source_name, err))?
            .clone();
        let mut names = Vec::with_capacity(header.len());
        for field in &header {
            let name = std::str::from_utf8(field).map_err(|_| DataError::Csv {
                source_name: source_name.to_owned(),
                line: 1,
                message: NOT_UTF8.to_owned(),
            })?;
            names.push(name.to_owned());
        }
        if names.iter().all(String::is_empty) {
            return Err(DataError::empty(
                source_name,
                "no header row; expected column names on the first line",
            ));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(DataError::DuplicateColumn {
                    source_name: source_name.to_owned(),
                    column: name.clone(),
                });
            }
        }
        Ok(Self {
            source: source_name.to_owned(),
            csv,
            names,
            delimiter,
            missing: options.missing,
            record: csv::ByteRecord::new(),
        })
    }

    /// The column names from the header row.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// Every remaining row as one table; no rows at all is an error.
    pub fn read_all(mut self) -> Result<Table, DataError> {
        self.next_chunk(usize::MAX)?.ok_or_else(|| {
            DataError::empty(
                &self.source,
                "the header row is not followed by any data rows",
            )
        })
    }

    /// The next rows, at most `max_rows` of them; `None` at the end of the file.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Table>, DataError> {
        let source_name = self.source.as_str();
        let mut builders: Vec<Builder> = self
            .names
            .iter()
            .map(|_| Builder::Numeric {
                values: Vec::new(),
                first_non_finite: None,
            })
            .collect();
        let mut lines = Vec::new();
        while lines.len() < max_rows
            && self
                .csv
                .read_byte_record(&mut self.record)
                .map_err(|err| csv_error(source_name, err))?
        {
            let line = self.record.position().map_or(0, |p| p.line());
            for ((field, builder), name) in self.record.iter().zip(&mut builders).zip(&self.names) {
                let text = std::str::from_utf8(field).map_err(|_| DataError::Csv {
                    source_name: source_name.to_owned(),
                    line,
                    message: format!("column `{name}`: {NOT_UTF8}"),
                })?;
                let cell = if is_missing(text) {
                    if self.missing == Missing::Error {
                        return Err(DataError::Missing {
                            source_name: source_name.to_owned(),
                            line,
                            column: name.clone(),
                            value: text.to_owned(),
                        });
                    }
                    None
                } else {
                    Some(text)
                };
                builder.push(cell, line, self.delimiter);
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let columns = builders
            .into_iter()
            .zip(&self.names)
            .map(|(builder, name)| builder.finish(name.clone(), source_name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Table {
            source: source_name.to_owned(),
            columns,
            lines,
        }))
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

const NOT_UTF8: &str =
    "the text is not valid UTF-8; is this a CSV file? Save it as UTF-8 text and try again";

/// The field delimiter of a CSV file, guessed from its start: whichever of `,`, `;` and tab
/// occurs most often outside double quotes on the first line; a comma on a tie or when none does.
pub fn sniff_delimiter(start: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &byte in start {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if quoted => {}
            _ => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == byte) {
                    counts[i] += 1;
                }
            }
        }
    }
    // `max_by_key` keeps the last maximum; scanning in reverse makes the earlier (comma) win ties.
    let best = (0..CANDIDATES.len())
        .rev()
        .max_by_key(|&i| counts[i])
        .unwrap_or(0);
    CANDIDATES[best]
}

fn csv_error(source_name: &str, err: csv::Error) -> DataError {
    let line = err.position().map_or(0, |p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header row, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8 text".to_owned(),
        _ => err.to_string(),
    };
    DataError::Csv {
        source_name: source_name.to_owned(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(table: &Table, column: usize) -> Vec<f32> {
        match table.columns()[column].data() {
            ColumnData::Numeric(values) => values.clone(),
            ColumnData::Categorical(_) => panic!("column {column} is categorical"),
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
        assert_eq!(a.levels(), ["2.5", "big"]);
        assert_eq!(a.value(1), None);
        assert_eq!(table.columns()[0].display(0), "2.5");
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
            "t.csv: all 1 data rows have missing values"
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
}
