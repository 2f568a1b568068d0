//! [`Table`]: a numeric CSV file with a header row.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A rectangular table of numbers with named columns, read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    source: String,
    columns: Vec<String>,
    /// Row-major values, `rows × columns.len()`.
    values: Vec<f32>,
    /// Rows left out for missing values (with [`Missing::Drop`]).
    dropped_rows: usize,
    /// Missing cells per column, in column order, among the dropped rows.
    missing_per_column: Vec<usize>,
}

/// What to do with a missing value: an empty cell, `NA`, `N/A`, `NaN` or `null` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Leave out every row with a missing value; [`Table::dropped_rows`] says how many.
    #[default]
    Drop,
    /// Refuse the file, naming the line and column of the first missing value.
    Error,
}

/// How to read a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// The field delimiter; `None` detects it from the header line ([`sniff_delimiter`]).
    pub delimiter: Option<u8>,
    /// What to do with missing values.
    pub missing: Missing,
}

/// Whether a cell's text means "no value".
fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || ["na", "n/a", "nan", "null"]
            .iter()
            .any(|token| cell.eq_ignore_ascii_case(token))
}

/// Why a table could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that was read.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (e.g. a row with the wrong number of fields).
    #[error("{source_name}, line {line}: {message}")]
    Csv {
        /// The file or data set name.
        source_name: String,
        /// The 1-based line of the problem.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// A missing value, with [`Missing::Error`].
    #[error(
        "{source_name}, line {line}, column `{column}`: missing value (`{value}`); use --missing drop to leave such rows out"
    )]
    Missing {
        /// The file or data set name.
        source_name: String,
        /// The 1-based line of the cell.
        line: u64,
        /// The column's name from the header row.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A cell that is not a finite number.
    #[error(
        "{source_name}, line {line}, column `{column}`: expected a finite number, found `{value}`"
    )]
    NotNumeric {
        /// The file or data set name.
        source_name: String,
        /// The 1-based line of the cell.
        line: u64,
        /// The column's name from the header row.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// No header row, or a header without data rows.
    #[error("{source_name}: {message}")]
    Empty {
        /// The file or data set name.
        source_name: String,
        /// What is missing.
        message: String,
    },
    /// Two columns with the same name.
    #[error("{source_name}: column `{column}` appears twice in the header row")]
    DuplicateColumn {
        /// The file or data set name.
        source_name: String,
        /// The repeated name.
        column: String,
    },
    /// A column name that the table does not have.
    #[error("{source_name} has no column `{column}`; its columns are: {}", .available.join(", "))]
    NoSuchColumn {
        /// The file or data set name.
        source_name: String,
        /// The name that was asked for.
        column: String,
        /// The table's columns.
        available: Vec<String>,
    },
}

impl Table {
    /// Reads a CSV file with the default [`CsvOptions`]. Errors name the file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Table, DataError> {
        Self::open(path, &CsvOptions::default())
    }

    /// Reads a CSV file. Errors name the file.
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table, DataError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::read(&path.display().to_string(), file, options)
    }

    /// Parses CSV text with the default [`CsvOptions`]; `source_name` names it in errors.
    pub fn from_csv_str(source_name: &str, text: &str) -> Result<Table, DataError> {
        Self::read(source_name, text.as_bytes(), &CsvOptions::default())
    }

    /// Parses CSV from any reader; `source_name` names it in errors. Quoted fields, CRLF line
    /// endings and a UTF-8 byte-order mark are handled by the `csv` crate.
    pub fn read(
        source_name: &str,
        reader: impl Read,
        options: &CsvOptions,
    ) -> Result<Table, DataError> {
        // Peek at the first buffered chunk, which holds the header line of any sane file,
        // without consuming it.
        let mut reader = BufReader::with_capacity(64 * 1024, reader);
        let delimiter = match options.delimiter {
            Some(delimiter) => delimiter,
            None => sniff_delimiter(reader.fill_buf().map_err(|source| DataError::Io {
                path: source_name.to_owned(),
                source,
            })?),
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let csv_error = |err: csv::Error| csv_error(source_name, err);
        let columns: Vec<String> = csv
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_owned)
            .collect();
        if columns.is_empty() || columns.iter().all(String::is_empty) {
            return Err(DataError::Empty {
                source_name: source_name.to_owned(),
                message: "no header row; expected column names on the first line".to_owned(),
            });
        }
        for (i, column) in columns.iter().enumerate() {
            if columns[..i].contains(column) {
                return Err(DataError::DuplicateColumn {
                    source_name: source_name.to_owned(),
                    column: column.clone(),
                });
            }
        }
        let mut values = Vec::new();
        let mut dropped_rows = 0;
        let mut missing_per_column = vec![0; columns.len()];
        for record in csv.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let missing: Vec<usize> = (0..record.len())
                .filter(|&i| is_missing(&record[i]))
                .collect();
            if let Some(&first) = missing.first() {
                if options.missing == Missing::Error {
                    return Err(DataError::Missing {
                        source_name: source_name.to_owned(),
                        line,
                        column: columns[first].clone(),
                        value: record[first].to_owned(),
                    });
                }
                dropped_rows += 1;
                for i in missing {
                    missing_per_column[i] += 1;
                }
                continue;
            }
            for (cell, column) in record.iter().zip(&columns) {
                let value = cell
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| DataError::NotNumeric {
                        source_name: source_name.to_owned(),
                        line,
                        column: column.clone(),
                        value: cell.to_owned(),
                    })?;
                values.push(value);
            }
        }
        if values.is_empty() {
            let message = if dropped_rows > 0 {
                format!("all {dropped_rows} data rows have missing values")
            } else {
                "the header row is not followed by any data rows".to_owned()
            };
            return Err(DataError::Empty {
                source_name: source_name.to_owned(),
                message,
            });
        }
        Ok(Table {
            source: source_name.to_owned(),
            columns,
            values,
            dropped_rows,
            missing_per_column,
        })
    }

    /// How many rows were left out for missing values.
    pub fn dropped_rows(&self) -> usize {
        self.dropped_rows
    }

    /// The columns that had missing values in the dropped rows, with how many each.
    pub fn missing_counts(&self) -> Vec<(&str, usize)> {
        self.columns
            .iter()
            .zip(&self.missing_per_column)
            .filter(|&(_, &n)| n > 0)
            .map(|(name, &n)| (name.as_str(), n))
            .collect()
    }

    /// The name errors use for this table (its path, or a data set's name).
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// The column names, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The number of data rows.
    pub fn num_rows(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// The values of row `i`, in column order.
    pub fn row(&self, i: usize) -> &[f32] {
        let width = self.columns.len();
        &self.values[i * width..(i + 1) * width]
    }

    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Result<usize, DataError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| DataError::NoSuchColumn {
                source_name: self.source.clone(),
                column: name.to_owned(),
                available: self.columns.clone(),
            })
    }
}

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

    #[test]
    fn reads_numbers_with_header() {
        let table = Table::from_csv_str("t.csv", "a, b\n1, 2.5\n-3,4e2\n").expect("valid csv");
        assert_eq!(table.columns(), ["a", "b"]);
        assert_eq!(table.num_rows(), 2);
        assert_eq!(table.row(1), [-3.0, 400.0]);
    }

    #[test]
    fn non_numeric_cell_names_line_and_column() {
        let err = Table::from_csv_str("t.csv", "a,b\n1,2\n3,x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3, column `b`: expected a finite number, found `x`"
        );
        let err = Table::from_csv_str("t.csv", "a,b\n1,inf\n").unwrap_err();
        assert!(err.to_string().contains("line 2, column `b`"), "{err}");
        let err = Table::from_csv_str("t.csv", "a,b\n1,1e40\n").unwrap_err();
        assert!(err.to_string().contains("found `1e40`"), "{err}");
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors() {
        let err = Table::from_csv_str("t.csv", "a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3: expected 2 fields like the header row, found 1"
        );
        assert!(matches!(
            Table::from_csv_str("t.csv", "a,b\n"),
            Err(DataError::Empty { .. })
        ));
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
    fn delimiters_are_detected() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b\n"), b',');
        assert_eq!(sniff_delimiter(b"single\n1\n"), b',');
        let table = Table::from_csv_str("t.csv", "a;b\n1;2\n").expect("semicolons");
        assert_eq!(table.row(0), [1.0, 2.0]);
        let table = Table::from_csv_str("t.tsv", "a\tb\n1\t2\n").expect("tabs");
        assert_eq!(table.row(0), [1.0, 2.0]);
    }

    #[test]
    fn byte_order_mark_crlf_and_quotes_are_handled() {
        let text = "\u{feff}\"a\",b\r\n\"1\",2\r\n3,4\r\n";
        let table = Table::from_csv_str("t.csv", text).expect("valid csv");
        assert_eq!(table.columns(), ["a", "b"]);
        assert_eq!(table.num_rows(), 2);
        assert_eq!(table.row(1), [3.0, 4.0]);
        let comma = CsvOptions {
            delimiter: Some(b','),
            ..CsvOptions::default()
        };
        let forced = Table::read("t.csv", "a;b\n1;2\n".as_bytes(), &comma);
        let err = forced.unwrap_err();
        assert!(err.to_string().contains("column `a;b`"), "{err}");
    }

    #[test]
    fn rows_with_missing_values_are_dropped_and_counted() {
        let text = "a,b,c\n1,2,3\n,NA,3\n4,n/a,6\n7,8,NaN\n9,null,10\n";
        let table = Table::from_csv_str("t.csv", text).expect("missing values are dropped");
        assert_eq!(table.num_rows(), 1);
        assert_eq!(table.dropped_rows(), 4);
        assert_eq!(table.missing_counts(), vec![("a", 1), ("b", 3), ("c", 1)]);
        let strict = CsvOptions {
            missing: Missing::Error,
            ..CsvOptions::default()
        };
        let err = Table::read("t.csv", text.as_bytes(), &strict).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3, column `a`: missing value (``); use --missing drop to leave such rows out"
        );
        let err = Table::from_csv_str("t.csv", "a,b\nNA,1\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("all 1 data rows have missing values"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Table::from_path("/no/such/file.csv").unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read /no/such/file.csv"),
            "{err}"
        );
    }
}
