//! The four JSON orientations MLflow takes (`dataframe_split`, `dataframe_records`, `instances`, `inputs`) read into cells in the model's column order.

use nerve_data::Cell;
use serde_json::{Map, Value};

use super::super::api_error::ApiError;
use super::super::served_model::{RequestRows, ServedModel};

/// pandas' `orient="split"`: `{"columns": [...], "data": [[...], ...]}` (an `index` is ignored).
pub(super) fn split_rows<'a>(
    model: &ServedModel,
    data: &'a Value,
) -> Result<RequestRows<'a>, ApiError> {
    let at = "dataframe_split";
    let Some(split) = data.as_object() else {
        return Err(ApiError::bad_request(format!(
            "`{at}` must be an object {{\"columns\": [...], \"data\": [[...], ...]}}"
        )));
    };
    let Some(columns) = split.get("columns").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(format!(
            "`{at}.columns` must list the column names (the model's: {})",
            model.columns.join(", ")
        ))
        .at(format!("{at}.columns"), None, None));
    };
    let mut names = Vec::with_capacity(columns.len());
    for (j, name) in columns.iter().enumerate() {
        let field = format!("{at}.columns[{j}]");
        let Some(name) = name.as_str() else {
            return Err(
                ApiError::bad_request(format!("{field} must be a column name (a string)"))
                    .at(field, None, None),
            );
        };
        let name = name.trim();
        if names.contains(&name) {
            return Err(
                ApiError::bad_request(format!("{field}: column `{name}` appears twice")).at(
                    field,
                    None,
                    Some(name),
                ),
            );
        }
        names.push(name);
    }
    let positions = positions(model, &names, &format!("{at}.columns"))?;
    let Some(data) = split.get("data").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(format!(
            "`{at}.data` must be an array of rows, each an array of {} values",
            names.len()
        ))
        .at(format!("{at}.data"), None, None));
    };
    let mut cells = Vec::with_capacity(data.len());
    for (r, row) in data.iter().enumerate() {
        let field = format!("{at}.data[{r}]");
        let row = match row.as_array() {
            Some(row) if row.len() == names.len() => row,
            Some(row) => {
                return Err(ApiError::bad_request(format!(
                    "{field} has {} values for {} columns",
                    row.len(),
                    names.len()
                ))
                .at(field, Some(r), None));
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "{field} must be an array of {} values",
                    names.len()
                ))
                .at(field, Some(r), None));
            }
        };
        let mut out = Vec::with_capacity(positions.len());
        for (c, &j) in positions.iter().enumerate() {
            out.push(cell(
                &row[j],
                || format!("{field}[{j}]"),
                r,
                &model.columns[c],
            )?);
        }
        cells.push(out);
    }
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("{at}.data[{r}][{}]", positions[c])),
    })
}

/// pandas' `orient="records"`: `[{"column": value, ...}, ...]`, keys in any order. A column no
/// record has is an error; one some records lack is missing there, as pandas reads it.
pub(super) fn records_rows<'a>(
    model: &ServedModel,
    data: &'a Value,
    at: &'static str,
) -> Result<RequestRows<'a>, ApiError> {
    let Some(records) = data.as_array() else {
        return Err(ApiError::bad_request(format!(
            "`{at}` must be an array of records, each {{\"column\": value, ...}}"
        ))
        .at(at.into(), None, None));
    };
    let mut seen = vec![false; model.columns.len()];
    let mut cells = Vec::with_capacity(records.len());
    for (r, record) in records.iter().enumerate() {
        let field = format!("{at}[{r}]");
        let Some(record) = record.as_object() else {
            return Err(ApiError::bad_request(format!(
                "{field} must be an object {{\"column\": value, ...}}"
            ))
            .at(field, Some(r), None));
        };
        let mut out = Vec::with_capacity(model.columns.len());
        for (c, column) in model.columns.iter().enumerate() {
            let value = record.get(column.as_str()).or_else(|| {
                // Keys are matched as a CSV header's names are: trimmed.
                record
                    .iter()
                    .find(|(key, _)| key.trim() == column)
                    .map(|(_, v)| v)
            });
            match value {
                Some(value) => {
                    seen[c] = true;
                    out.push(cell(value, || format!("{field}.{column}"), r, column)?);
                }
                None => out.push(Cell::Missing),
            }
        }
        cells.push(out);
    }
    if !records.is_empty()
        && let Some(c) = seen.iter().position(|seen| !seen)
    {
        return Err(ApiError::bad_request(format!(
            "no record has the column `{}`; the model's columns are: {}",
            model.columns[c],
            model.columns.join(", ")
        ))
        .at(at.into(), None, Some(&model.columns[c])));
    }
    let columns = model.columns.clone();
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("{at}[{r}].{}", columns[c])),
    })
}

/// TensorFlow Serving's columnar format: `{"column": [values], ...}`, one array per column.
pub(super) fn columns_rows<'a>(
    model: &ServedModel,
    columns: &'a Map<String, Value>,
    at: &'static str,
) -> Result<RequestRows<'a>, ApiError> {
    let mut arrays = Vec::with_capacity(model.columns.len());
    for column in &model.columns {
        let value = columns.get(column.as_str()).or_else(|| {
            columns
                .iter()
                .find(|(k, _)| k.trim() == column)
                .map(|(_, v)| v)
        });
        let Some(value) = value else {
            return Err(ApiError::bad_request(format!(
                "`{at}` has no column `{column}`; the model's columns are: {}",
                model.columns.join(", ")
            ))
            .at(at.into(), None, Some(column)));
        };
        let Some(values) = value.as_array() else {
            return Err(ApiError::bad_request(format!(
                "`{at}.{column}` must be an array with one value per row"
            ))
            .at(format!("{at}.{column}"), None, Some(column)));
        };
        arrays.push(values);
    }
    let n = arrays[0].len();
    if let Some(c) = arrays.iter().position(|a| a.len() != n) {
        return Err(ApiError::bad_request(format!(
            "`{at}.{}` has {} values but `{at}.{}` has {n}; every column needs one value per row",
            model.columns[c],
            arrays[c].len(),
            model.columns[0]
        ))
        .at(
            format!("{at}.{}", model.columns[c]),
            None,
            Some(&model.columns[c]),
        ));
    }
    let mut cells = Vec::with_capacity(n);
    for r in 0..n {
        let mut out = Vec::with_capacity(arrays.len());
        for (c, values) in arrays.iter().enumerate() {
            let column = &model.columns[c];
            out.push(cell(
                &values[r],
                || format!("{at}.{column}[{r}]"),
                r,
                column,
            )?);
        }
        cells.push(out);
    }
    let names = model.columns.clone();
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("{at}.{}[{r}]", names[c])),
    })
}

/// Rows as arrays of values in the model's column order (`instances` / `inputs` as a list).
pub(super) fn list_rows<'a>(
    model: &ServedModel,
    data: &'a Value,
    at: &'static str,
) -> Result<RequestRows<'a>, ApiError> {
    let width = model.columns.len();
    let Some(rows) = data.as_array() else {
        return Err(ApiError::bad_request(format!(
            "`{at}` must be an array of rows: objects {{\"column\": value}}, or arrays of {width} values in the model's column order ({})",
            model.columns.join(", ")
        ))
        .at(at.into(), None, None));
    };
    let mut cells = Vec::with_capacity(rows.len());
    for (r, row) in rows.iter().enumerate() {
        let field = format!("{at}[{r}]");
        let row = match row.as_array() {
            Some(row) if row.len() == width => row,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "{field} must be an array of {width} values in the model's column order ({})",
                    model.columns.join(", ")
                ))
                .at(field, Some(r), None));
            }
        };
        let mut out = Vec::with_capacity(width);
        for (c, value) in row.iter().enumerate() {
            out.push(cell(
                value,
                || format!("{field}[{c}]"),
                r,
                &model.columns[c],
            )?);
        }
        cells.push(out);
    }
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("{at}[{r}][{c}]")),
    })
}

/// Where each of the model's columns is among a request's `names`.
pub(super) fn positions(
    model: &ServedModel,
    names: &[&str],
    at: &str,
) -> Result<Vec<usize>, ApiError> {
    model
        .columns
        .iter()
        .map(|column| {
            names.iter().position(|n| n == column).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`{at}` has no column `{column}`; the model's columns are: {}",
                    model.columns.join(", ")
                ))
                .at(at.to_owned(), None, Some(column))
            })
        })
        .collect()
}

/// A JSON value as a cell: a number, a string, a truth value (as text) or `null` (missing).
pub(super) fn cell<'a>(
    value: &'a Value,
    field: impl Fn() -> String,
    row: usize,
    column: &str,
) -> Result<Cell<'a>, ApiError> {
    match value {
        Value::Null => Ok(Cell::Missing),
        Value::Number(n) => n.as_f64().map(Cell::Number).ok_or_else(|| {
            let field = field();
            ApiError::bad_request(format!("{field}: {n} is not a number nerve can read")).at(
                field,
                Some(row),
                Some(column),
            )
        }),
        Value::String(text) => Ok(Cell::Text(text)),
        Value::Bool(b) => Ok(Cell::Text(if *b { "true" } else { "false" })),
        Value::Array(_) | Value::Object(_) => {
            let field = field();
            Err(ApiError::bad_request(format!(
                "{field} (row {row}, column `{column}`): expected a number, a string or null, got {}",
                if value.is_array() { "an array" } else { "an object" }
            ))
            .at(field, Some(row), Some(column)))
        }
    }
}

/// `a`, `b` and `c`, back-quoted.
pub(super) fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
