//! Where a run's rows come from: a file, standard input or a built-in data set.

use std::io::Read;
use std::path::{Path, PathBuf};

use nerve_data::{CsvOptions, Table, TableReader};

use crate::builtin::{self, Builtin};
use crate::{Result, RunConfig, RunError};

/// Where a data path points.
pub enum DataSource {
    /// A data file on disk: CSV (plain or gzip) or Parquet.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A data set embedded in the binary.
    Builtin(&'static Builtin),
}

impl DataSource {
    /// A streaming reader of the data's rows (`read_all` for the whole table).
    pub fn reader(&self, options: &CsvOptions) -> Result<TableReader<Box<dyn Read>>> {
        Ok(match self {
            DataSource::File(path) => TableReader::from_path(path, options)?,
            DataSource::Stdin => TableReader::from_reader("stdin", std::io::stdin(), options)?,
            DataSource::Builtin(builtin) => TableReader::new(
                builtin.name,
                Box::new(builtin.csv.as_bytes()) as Box<dyn Read>,
                options,
            )?,
        })
    }
}

/// Resolves a data path: `-` is standard input; an existing file wins; otherwise a built-in
/// data set of that name.
pub fn resolve_data(path: &str) -> Result<DataSource> {
    if path == "-" {
        return Ok(DataSource::Stdin);
    }
    let file = Path::new(path);
    if file.is_file() {
        return Ok(DataSource::File(file.to_path_buf()));
    }
    if let Some(builtin) = builtin::dataset(path) {
        return Ok(DataSource::Builtin(builtin));
    }
    if file.is_dir() {
        return Err(RunError::DataPath(format!(
            "data path {path} is a folder; expected a CSV file or a built-in data set's name"
        )));
    }
    if file.exists() {
        return Err(RunError::DataPath(format!(
            "data path {path} is not a regular file; expected a CSV file"
        )));
    }
    Err(RunError::DataPath(format!(
        "no such file {path}, and no built-in data set of that name (built-in: {})",
        builtin::dataset_names().join(", ")
    )))
}

/// Reads the run's table; records the data's absolute path in `config` (so the saved config
/// works from any folder) and settles its early stopping for the table's size
/// ([`RunConfig::settle_early_stopping`]).
///
/// # Errors
///
/// The data path names nothing readable, or the table cannot be read ([`RunError::Data`],
/// naming the file, line and column).
pub fn load_table(config: &mut RunConfig) -> Result<Table> {
    let options = config.data.csv_options();
    let source = resolve_data(&config.data.path)?;
    if let DataSource::File(path) = &source
        && let Ok(absolute) = std::path::absolute(path)
    {
        config.data.path = absolute.display().to_string();
    }
    let table = source.reader(&options)?.read_all()?;
    // The rows that can train: those with a target (a row without one is always left out).
    let target = config
        .data
        .target
        .as_deref()
        .and_then(|name| table.column(name).ok())
        .or_else(|| table.columns().last());
    let rows = target.map_or(table.num_rows(), |column| {
        table.num_rows() - column.missing_count()
    });
    config.settle_early_stopping(rows);
    Ok(table)
}

/// The data's short name, for a default run or search folder: a built-in name, a file's
/// name less its extensions (`churn.csv.gz` and `churn.tsv` are `churn`), or `stdin`.
pub fn data_name(path: &str) -> String {
    if path == "-" {
        return "stdin".to_owned();
    }
    let name = Path::new(path)
        .file_name()
        .map_or_else(|| "data".to_owned(), |n| n.to_string_lossy().into_owned());
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let name = [".csv", ".tsv", ".txt", ".parquet"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    if name.is_empty() {
        "data".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Train's run folders and tune's search folders take one name from the data (they once
    /// disagreed: `x.tsv.gz` was `x` for one and `x.tsv` for the other).
    #[test]
    fn a_data_name_drops_every_extension() {
        for (path, name) in [
            ("churn.csv", "churn"),
            ("dir/churn.csv.gz", "churn"),
            ("x.tsv.gz", "x"),
            ("x.tsv", "x"),
            ("t.parquet", "t"),
            ("iris", "iris"),
            ("-", "stdin"),
            (".csv", "data"),
        ] {
            assert_eq!(data_name(path), name, "{path}");
        }
    }
}
