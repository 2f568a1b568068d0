//! MLflow's scoring protocol, `POST /invocations`: a JSON body with exactly one of
//! `dataframe_split`, `dataframe_records`, `instances` or `inputs` (and optionally `params`),
//! or a CSV body; the answer is `{"predictions": [...]}`.
//!
//! Reference: MLflow's `mlflow/pyfunc/scoring_server` and "Deploy MLflow models", which fix the
//! keys and their pandas orientations.

use nerve_data::{Cell, DataError};
use serde::Serialize;
use serde_json::{Map, Value};

use super::api_error::{ApiError, too_many_rows};
use super::json::{parse_json, to_json};
use super::served_model::{RequestRows, ServedModel};
use super::work::Outcome;
use crate::model_input::report_messages;
use nerve_run::{Answers, Predictions};

/// The top-level keys of a JSON body, one of which must be present.
const FORMATS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

/// The answers for a JSON body.
///
/// # Errors
///
/// A body that is not one of the formats, or whose rows do not fit the model, naming the
/// field, row and column.
pub(crate) fn invocations_json(
    model: &ServedModel,
    body: &[u8],
    max_rows: usize,
) -> Result<Outcome, ApiError> {
    let request = parse_json(body)?;
    let Some(request) = request.as_object() else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with one of {}",
            quoted(&FORMATS)
        )));
    };
    let given: Vec<&str> = FORMATS
        .into_iter()
        .filter(|key| request.contains_key(*key))
        .collect();
    let unknown: Vec<&str> = request
        .keys()
        .map(String::as_str)
        .filter(|key| !FORMATS.contains(key) && *key != "params")
        .collect();
    if given.len() != 1 || !unknown.is_empty() {
        let found = if request.is_empty() {
            "an empty object".to_owned()
        } else {
            quoted(&request.keys().map(String::as_str).collect::<Vec<_>>())
        };
        return Err(ApiError::bad_request(format!(
            "the body must have exactly one of {} (and optionally `params`); it has {found}",
            quoted(&FORMATS)
        )));
    }
    if let Some(params) = request.get("params")
        && !(params.is_null() || params.as_object().is_some_and(Map::is_empty))
    {
        return Err(
            ApiError::bad_request("`params`: nerve models take no inference parameters").at(
                "params".into(),
                None,
                None,
            ),
        );
    }
    let key = given[0];
    let data = &request[key];
    // Too many rows is refused before any cell is read (reading them takes memory).
    let count = match (key, data) {
        ("dataframe_split", _) => data.get("data").and_then(Value::as_array).map(Vec::len),
        (_, Value::Object(columns)) => columns
            .values()
            .next()
            .and_then(Value::as_array)
            .map(Vec::len),
        _ => data.as_array().map(Vec::len),
    };
    if let Some(n) = count
        && n > max_rows
    {
        return Err(too_many_rows(n, max_rows));
    }
    let rows = match key {
        "dataframe_split" => split_rows(model, data)?,
        "dataframe_records" => records_rows(model, data, "dataframe_records")?,
        "instances" => match data.as_array().and_then(|rows| rows.first()) {
            Some(Value::Object(_)) => records_rows(model, data, "instances")?,
            _ => list_rows(model, data, "instances")?,
        },
        _ => match data {
            Value::Object(columns) => columns_rows(model, columns, "inputs")?,
            _ => list_rows(model, data, "inputs")?,
        },
    };
    answer(model, &rows, max_rows)
}

/// The answers for a CSV body (a header row, then rows), read as `nerve predict` reads a file.
///
/// # Errors
///
/// A CSV that cannot be read for the model (a missing column, a cell of the wrong type),
/// naming the line and column.
pub(crate) fn invocations_csv(
    model: &ServedModel,
    body: &[u8],
    max_rows: usize,
) -> Result<Outcome, ApiError> {
    let mut options = model.options.clone();
    // The body's own delimiter, detected as for a file.
    options.delimiter = model.predictor.saved().config.data.delimiter.map(|d| d.0);
    let reader = nerve_data::TableReader::new("request", body, &options)
        .map_err(|err| ApiError::bad_request(err.to_string()))?;
    if let Some(column) = model.columns.iter().find(|c| !reader.columns().contains(c)) {
        return Err(ApiError::bad_request(format!(
            "the CSV has no column `{column}`; the model's columns are: {}",
            model.columns.join(", ")
        ))
        .at("line 1".into(), None, Some(column)));
    }
    let table = reader.read_all().map_err(|err| match &err {
        DataError::NotNumeric { line, column, .. } | DataError::Missing { line, column, .. } => {
            let column = column.clone();
            ApiError::bad_request(err.to_string()).at(format!("line {line}"), None, Some(&column))
        }
        DataError::Csv { line, .. } => {
            let line = *line;
            ApiError::bad_request(err.to_string()).at(format!("line {line}"), None, None)
        }
        _ => ApiError::bad_request(err.to_string()),
    })?;
    if table.num_rows() == 0 {
        return Err(ApiError::bad_request(
            "the CSV has a header row but no rows",
        ));
    }
    if table.num_rows() > max_rows {
        return Err(too_many_rows(table.num_rows(), max_rows));
    }
    let answers = model.answer(&table, &|row, _| format!("line {}", table.line(row)))?;
    response(model, answers)
}

/// Types the rows and answers them.
fn answer(
    model: &ServedModel,
    rows: &RequestRows<'_>,
    max_rows: usize,
) -> Result<Outcome, ApiError> {
    if rows.cells.is_empty() {
        return Err(ApiError::bad_request("the request has no rows"));
    }
    if rows.cells.len() > max_rows {
        return Err(too_many_rows(rows.cells.len(), max_rows));
    }
    let table = model.table(rows)?;
    let answers = model.answer(&table, &*rows.field)?;
    response(model, answers)
}

/// `{"predictions": [...]}`: class names or values, one per row; for a classifier also the
/// `classes` and each row's `probabilities` in their order; `warnings` when the
/// preprocessing made something up.
fn response(model: &ServedModel, answers: Answers) -> Result<Outcome, ApiError> {
    let rows = answers.probabilities.len() / answers.width.max(1);
    let labels = model.predictor.labels();
    let (predictions, probabilities) = match &answers.predictions {
        Predictions::Classes(classes) => {
            let names = labels.unwrap_or_default();
            (
                Column::Text(classes.iter().map(|&c| names[c].as_str()).collect()),
                Some(answers.probabilities.chunks(answers.width).collect()),
            )
        }
        Predictions::Values(values) => (Column::Values(values), None),
    };
    let body = Response {
        predictions,
        classes: labels,
        probabilities,
        warnings: report_messages(&answers.report),
    };
    Ok(Outcome {
        body: to_json(&body)?,
        rows,
    })
}

/// The answer to `/invocations`.
#[derive(Serialize)]
struct Response<'a> {
    predictions: Column<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<Vec<&'a [f32]>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// One value per row: class names, or values in the target's units (f64, decoded to the
/// precision the network's output holds) written in their shortest form, as `nerve predict`
/// prints them.
#[derive(Serialize)]
#[serde(untagged)]
enum Column<'a> {
    Text(Vec<&'a str>),
    Values(&'a [f64]),
}

/// pandas' `orient="split"`: `{"columns": [...], "data": [[...], ...]}` (an `index` is ignored).
fn split_rows<'a>(model: &ServedModel, data: &'a Value) -> Result<RequestRows<'a>, ApiError> {
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
fn records_rows<'a>(
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
fn columns_rows<'a>(
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
fn list_rows<'a>(
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
fn positions(model: &ServedModel, names: &[&str], at: &str) -> Result<Vec<usize>, ApiError> {
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
fn cell<'a>(
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
fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
