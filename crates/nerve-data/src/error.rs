//! [`DataError`]: every way reading or preparing data can fail, each naming the place.

/// Why a table could not be read, split or prepared.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The path that was read.
        path: String,
        /// The operating system's error (the error's `source`, so a report prints it once).
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
    /// A missing value, with [`Missing::Error`](crate::Missing::Error).
    #[error(
        "{source_name}, line {line}, column `{column}`: missing value (`{}`); use --missing drop or --missing impute to accept such rows",
        shown(.value)
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
    /// A cell that is not a finite number where one is required.
    #[error(
        "{source_name}, line {line}, column `{column}`: expected {expected}, found `{}`",
        shown(.value)
    )]
    NotNumeric {
        /// The file or data set name.
        source_name: String,
        /// The 1-based line of the cell.
        line: u64,
        /// The column's name from the header row.
        column: String,
        /// What the column needs, e.g. "a finite number".
        expected: String,
        /// The cell's text.
        value: String,
    },
    /// No header row, a header without data rows, or too few columns or rows.
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
    /// The target column cannot serve the task (e.g. a single class).
    #[error("{source_name}, target column `{column}`: {message}")]
    Target {
        /// The file or data set name.
        source_name: String,
        /// The target column.
        column: String,
        /// What is wrong with it.
        message: String,
    },
    /// A setting out of range (a split fraction, a name that is not a task).
    #[error("{0}")]
    Config(String),
}

/// A cell's text as an error shows it: control characters (line breaks, escapes) escaped, so
/// the message stays one line, and long text cut to 80 characters.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(90));
    for (i, c) in text.chars().enumerate() {
        if i == 80 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

impl DataError {
    pub(crate) fn empty(source_name: &str, message: impl Into<String>) -> DataError {
        DataError::Empty {
            source_name: source_name.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn target(source_name: &str, column: &str, message: impl Into<String>) -> Self {
        DataError::Target {
            source_name: source_name.to_owned(),
            column: column.to_owned(),
            message: message.into(),
        }
    }
}
