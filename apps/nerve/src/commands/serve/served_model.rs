//! [`ServedModel`]: a model file loaded for serving, turning a request's cells into its answers
//! through the same [`Predictor`] as `nerve predict`; [`Slot`]: a model being loaded or loaded.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use nerve_backend::BackendKind;
use nerve_data::{Cell, ColumnKind, CsvOptions, DataError, Table};

use super::api_error::ApiError;
use crate::model_input::open_model;
use nerve_run::Columns;
use nerve_run::{Answers, Predictor};

/// A model ready to answer requests.
pub(crate) struct ServedModel {
    /// Its name in URLs.
    pub(crate) name: String,
    pub(crate) predictor: Predictor,
    /// The feature columns, in the model's order, with their types.
    pub(crate) features: Vec<(String, ColumnKind)>,
    /// The feature columns' names, in the model's order.
    pub(crate) columns: Vec<String>,
    /// How a request's cells are read: each column typed as in training, the run's
    /// missing-value strings, thousands separator and decimal mark.
    pub(crate) options: CsvOptions,
}

/// A request's rows, one cell per model column in the model's order, before typing.
pub(crate) struct RequestRows<'a> {
    pub(crate) cells: Vec<Vec<Cell<'a>>>,
    /// Where row `r`'s cell of model column `c` is in the body (`inputs[2].data[5]`).
    pub(crate) field: Box<dyn Fn(usize, usize) -> String + 'a>,
}

impl ServedModel {
    /// Loads the model file at `path` as `name`, on `backend`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or is not a model written by `nerve train`.
    pub(crate) fn load(name: &str, path: &std::path::Path, backend: BackendKind) -> Result<Self> {
        let (saved, device) = open_model(path, backend)?;
        let mut options = saved.read_options(None, Columns::Features, &[]);
        let features = options.kinds.clone();
        // JSON carries no delimiter: a text cell's decimal mark is the one the model's numbers
        // were read with (`2,5` in a model trained on a `;` file).
        let decimal_comma = features
            .iter()
            .any(|(_, kind)| matches!(kind, ColumnKind::Numeric(Some(f)) if f.decimal_comma));
        options.delimiter = Some(match options.delimiter {
            Some(d) => d,
            None if decimal_comma => b';',
            None => b',',
        });
        let predictor = Predictor::new(saved, device, None)?;
        Ok(ServedModel {
            name: name.to_owned(),
            predictor,
            columns: features.iter().map(|(name, _)| name.clone()).collect(),
            features,
            options,
        })
    }

    /// The request's rows as a table typed for the model.
    ///
    /// # Errors
    ///
    /// A cell that does not fit its column (text in a numeric column, a number too large for
    /// 32-bit floats), named by its place in the body, its row and column.
    pub(crate) fn table(&self, rows: &RequestRows<'_>) -> Result<Table, ApiError> {
        let records = rows.cells.iter().map(|row| row.iter().copied());
        Table::from_records("request", &self.columns, records, &self.options)
            .map_err(|err| self.locate(err, &*rows.field))
    }

    /// The model's answers for `table`, whose row `r`'s cell of model column `c` is at
    /// `field(r, c)` in the body.
    ///
    /// # Errors
    ///
    /// What the preprocessing cannot transform, or a row the network answers with a
    /// non-finite number (named by its field, row and column), as a 400.
    pub(crate) fn answer(
        &self,
        table: &Table,
        field: &dyn Fn(usize, usize) -> String,
    ) -> Result<Answers, ApiError> {
        self.predictor.answer(table).map_err(|err| {
            let nerve_run::PredictError::NonFinite(bad) = &err else {
                return ApiError::bad_request(format!("{:#}", anyhow::Error::from(err)));
            };
            let column = self.columns.iter().position(|name| *name == bad.column);
            let place = field(bad.row, column.unwrap_or(0));
            ApiError::bad_request(format!(
                "{place} (row {}, column `{}`): {}",
                bad.row,
                bad.column,
                bad.reason()
            ))
            .at(place, Some(bad.row), Some(&bad.column))
        })
    }

    /// A reading error as a refusal naming the body's field, the row and the column.
    fn locate(&self, err: DataError, field: &dyn Fn(usize, usize) -> String) -> ApiError {
        let (line, column, message) = match &err {
            DataError::NotNumeric {
                line,
                column,
                expected,
                value,
                ..
            } => (*line, column, format!("expected {expected}, got `{value}`")),
            DataError::Missing {
                line,
                column,
                value,
                ..
            } => (*line, column, format!("a missing value (`{value}`)")),
            _ => return ApiError::bad_request(err.to_string()),
        };
        let Some(c) = self.columns.iter().position(|name| name == column) else {
            return ApiError::bad_request(err.to_string());
        };
        let row = line.saturating_sub(1) as usize;
        let place = field(row, c);
        ApiError::bad_request(format!("{place} (row {row}, column `{column}`): {message}")).at(
            place,
            Some(row),
            Some(column),
        )
    }
}

/// A model the server was asked to serve: being loaded, loaded, or failed to load.
pub(crate) struct Slot {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// Set once, when loading ends.
    pub(crate) loaded: OnceLock<Result<Arc<ServedModel>, String>>,
}

impl Slot {
    /// The model, once loaded.
    pub(crate) fn ready(&self) -> Option<&Arc<ServedModel>> {
        self.loaded.get().and_then(|loaded| loaded.as_ref().ok())
    }
}
