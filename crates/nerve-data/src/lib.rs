//! # nerve-data
//!
//! Data for nerve, doing what pandas and scikit-learn's preprocessing would, without code.
//!
//! - [`Table`]: a CSV file with a header row, streamed with the `csv` crate into typed
//!   [`Column`]s — numeric when every non-missing cell is a finite number (once a consistent
//!   thousands separator, currency symbol or percent sign is stripped), dates when every one is
//!   a date, otherwise categorical, with levels by value (`3` is `3.0`, `TRUE` is `True`).
//!   pandas' missing-value strings are missing. The delimiter (comma, semicolon, tab) is
//!   detected; quotes (an unclosed one is an error), LF / CRLF / CR line endings, UTF-8 and
//!   UTF-16 byte-order marks are handled; errors name the file, physical line and column
//!   ([`DataError`]); [`Note`]s say what was decided. [`Table::from_records`] reads rows whose
//!   [`Cell`]s arrive already separated (a JSON request's) by the same rules.
//! - [`ColumnRoles`]: which columns are features (numeric, one-hot, dates) and which are left
//!   out (identifiers, empty columns), decided before fitting.
//! - [`Task`]: classification or regression, inferred from the target column.
//! - [`Split`]: seeded train / validation / test rows, stratified by class.
//! - [`Preprocessor`]: z-score scaling, one-hot encoding, imputation and target encoding, fitted
//!   on the training rows only and serializable, so a model can carry it.
//! - [`Dataset`]: features and targets, ready to become tensors on any burn `Device`.
//! - [`prepare`] does all of it in one call.
//!
//! ```
//! use nerve_data::{PrepareOptions, Table, Task, prepare};
//!
//! # fn main() -> Result<(), nerve_data::DataError> {
//! let csv = "\
//! petal_length;colour;species
//! 1,4;red;setosa
//! 4,7;blue;versicolor
//! NA;red;setosa
//! 5,1;green;versicolor
//! ";
//! let table = Table::from_csv_str("flowers.csv", csv)?; // `;` and decimal commas detected
//! let prepared = prepare(table, &PrepareOptions::default())?; // target: the last column
//! assert_eq!(prepared.task(), Task::Classification);
//! assert_eq!(prepared.dropped.rows_dropped, 0); // the `NA` is kept, encoded as missing
//! assert_eq!(prepared.preprocessor.labels(), Some(&["setosa".into(), "versicolor".into()][..]));
//! // Under 20 rows nothing is held out; `colour` becomes three one-hot inputs, and the blank
//! // in `petal_length` is filled with its mean and flagged by an indicator input.
//! assert!(prepared.split_skipped);
//! assert_eq!(
//!     prepared.train.feature_names(),
//!     ["petal_length", "petal_length.missing", "colour=blue", "colour=green", "colour=red"]
//! );
//! assert_eq!(prepared.train.targets(), [0.0, 1.0, 0.0, 1.0]);
//! # Ok(())
//! # }
//! ```
//!
//! Each step works on its own too: [`Table::from_csv_path`], [`Split::new`],
//! [`Preprocessor::fit`] then [`Preprocessor::transform`].

mod builder;
mod cell;
mod column;
mod dataset;
mod dates;
mod error;
mod feature_transform;
mod line_tracker;
mod matcher;
mod note;
#[cfg(feature = "parquet")]
mod parquet_input;
mod prepare;
mod preprocess;
mod reader;
mod records;
mod roles;
mod split;
mod table;
mod task;
mod written;

pub use cell::{NaValues, NumberFormat, PANDAS_NA_VALUES};
pub use column::{Categorical, Column, ColumnData, ColumnKind, Dates, Numbers};
pub use dataset::Dataset;
pub use dates::{DateOrder, calendar_parts};
pub use error::DataError;
pub use feature_transform::{
    CLIP_RANGE, DatePart, FeatureTransform, INFREQUENT, MISSING_INDICATOR, MISSING_LEVEL,
};
pub use matcher::{category_spellings, matches_by_number, number_spellings};
pub use note::Note;
pub use prepare::{MAX_CLASSES, MIN_ROWS_TO_SPLIT, PrepareOptions, Prepared, class_ids, prepare};
pub use preprocess::{
    PreprocessOptions, Preprocessor, Standardize, TargetTransform, TransformReport,
};
pub use reader::{TableReader, sniff_delimiter};
pub use records::Cell;
pub use roles::{ColumnRole, ColumnRoles};
pub use split::{Split, SplitOptions, k_folds};
pub use table::{CsvOptions, Missing, MissingReport, Table};
pub use task::{Task, class_labels};

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
