//! # nerve-data
//!
//! Data sets for nerve. A [`Table`] is a numeric CSV file with a header row, read with the `csv`
//! crate and checked cell by cell (errors name the source, line and column). [`CsvOptions`] set
//! the delimiter (detected by default: comma, semicolon or tab) and what to do with [`Missing`]
//! values (empty, `NA`, `N/A`, `NaN`, `null`: drop the row, the default, or refuse the file).
//! Choosing the target column turns a table into a [`Dataset`]: a feature matrix and a target
//! column, ready to become tensors on any burn `Device`.
//!
//! ```
//! use nerve_data::Table;
//!
//! # fn main() -> Result<(), nerve_data::DataError> {
//! let table = Table::from_csv_str("xor.csv", "x0,x1,target\n0,1,1\n1,1,0\n")?;
//! let data = table.into_dataset(Some("target"))?; // `None` picks the last column
//! assert_eq!(data.feature_names(), ["x0", "x1"]);
//! assert_eq!(data.len(), 2);
//! assert_eq!(data.targets(), [1.0, 0.0]);
//! # Ok(())
//! # }
//! ```

mod dataset;
mod table;

pub use dataset::Dataset;
pub use table::{CsvOptions, DataError, Missing, Table, sniff_delimiter};
