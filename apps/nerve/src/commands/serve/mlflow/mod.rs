//! MLflow's scoring protocol, `POST /invocations`: a JSON body with exactly one of
//! `dataframe_split`, `dataframe_records`, `instances` or `inputs` (and optionally `params`),
//! or a CSV body; the answer is `{"predictions": [...]}`.
//!
//! Reference: MLflow's `mlflow/pyfunc/scoring_server` and "Deploy MLflow models", which fix the
//! keys and their pandas orientations.

use nerve_data::DataError;
use nerve_run::{Answers, Predictions};
use serde::Serialize;
use serde_json::{Map, Value};

use super::api_error::{ApiError, too_many_rows};
use super::json::{parse_json, to_json};
use super::served_model::{RequestRows, ServedModel};
use super::work::Outcome;
use crate::model_input::report_messages;

mod orientations;

use orientations::{columns_rows, list_rows, quoted, records_rows, split_rows};

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
