//! The Open Inference Protocol (KServe V2, also spoken by Triton and Seldon) over JSON: model
//! metadata, and `infer` with one input per feature column (shape `[N]`) or one `[N, F]`
//! tensor in the model's column order.
//!
//! Reference: <https://github.com/kserve/open-inference-protocol> (`rest_predict_v2.yaml`).

use nerve_data::{Cell, ColumnKind};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::api_error::{ApiError, too_many_rows};
use super::json::{parse_json, to_json};
use super::served_model::{RequestRows, ServedModel};
use super::work::Outcome;
use crate::model_input::report_messages;
use nerve_run::Predictions;

/// The datatypes of the protocol's tensors.
const DATATYPES: [&str; 13] = [
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16",
    "FP32", "FP64", "BYTES",
];

/// The name of the output with each row's answer.
const PREDICTION: &str = "prediction";
/// The name of the output with the class probabilities `[N, C]`.
const PROBABILITIES: &str = "probabilities";

/// `GET /v2/models/{name}`: the inputs (one per feature column, `[-1]`), the outputs, and
/// what the model is.
pub(crate) fn metadata(model: &ServedModel) -> Value {
    let inputs: Vec<Value> = model
        .features
        .iter()
        .map(|(name, kind)| json!({"name": name, "datatype": datatype_of(*kind), "shape": [-1]}))
        .collect();
    let saved = model.predictor.saved();
    let labels = model.predictor.labels();
    let mut outputs = vec![match labels {
        Some(_) => json!({"name": PREDICTION, "datatype": "BYTES", "shape": [-1]}),
        None => json!({"name": PREDICTION, "datatype": "FP64", "shape": [-1]}),
    }];
    if let Some(labels) = labels {
        outputs
            .push(json!({"name": PROBABILITIES, "datatype": "FP32", "shape": [-1, labels.len()]}));
    }
    json!({
        "name": model.name,
        "versions": [],
        "platform": "nerve",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "task": saved.preprocessor.task(),
            "target": saved.preprocessor.target_name(),
            "class_labels": labels,
            "tensor_input": tensor_input(model),
        },
    })
}

/// How the inputs can come as one tensor instead: numbers in any numeric datatype, or, when
/// a column holds text, every cell as a string (BYTES), read as a CSV cell would be.
fn tensor_input(model: &ServedModel) -> String {
    let width = model.columns.len();
    if model
        .features
        .iter()
        .all(|(_, kind)| datatype_of(*kind) == "FP64")
    {
        format!("or one FP32/FP64 input of shape [N, {width}] with the columns in this order")
    } else {
        format!(
            "or one BYTES input of shape [N, {width}] with the columns in this order, every cell a string (numbers written as text)"
        )
    }
}

/// The datatype a column is described with: numbers are read as 64-bit floats, as nerve
/// reads a CSV cell; categories and dates are text.
fn datatype_of(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric(_) => "FP64",
        _ => "BYTES",
    }
}

/// `POST /v2/models/{name}/infer`: the answers for the request's rows.
///
/// # Errors
///
/// A body that is not an inference request for this model, naming the field (and the row and
/// column of a cell).
pub(crate) fn infer(
    model: &ServedModel,
    body: &[u8],
    max_rows: usize,
) -> Result<Outcome, ApiError> {
    let request = parse_json(body)?;
    let Some(request) = request.as_object() else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object with `inputs` (an inference request)",
        ));
    };
    let inputs = match request.get("inputs") {
        Some(Value::Array(inputs)) if !inputs.is_empty() => inputs,
        Some(Value::Array(_)) => {
            return Err(
                ApiError::bad_request("`inputs` is empty; give one input per column").at(
                    "inputs".into(),
                    None,
                    None,
                ),
            );
        }
        Some(_) => {
            return Err(
                ApiError::bad_request("`inputs` must be an array of tensors").at(
                    "inputs".into(),
                    None,
                    None,
                ),
            );
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "no `inputs`; an inference request has `inputs`: one tensor per column ({}), each {{\"name\", \"shape\": [N], \"datatype\", \"data\"}}",
                model.columns.join(", ")
            ))
            .at("inputs".into(), None, None));
        }
    };
    let wanted = requested_outputs(request, model)?;
    // Too many rows is refused before any element is read (reading them takes memory).
    for input in inputs {
        if let Some(n) = input
            .get("shape")
            .and_then(|shape| shape.get(0))
            .and_then(Value::as_u64)
            && n > max_rows as u64
        {
            return Err(too_many_rows(
                usize::try_from(n).unwrap_or(usize::MAX),
                max_rows,
            ));
        }
    }
    let tensors: Vec<Tensor<'_>> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| Tensor::parse(i, input))
        .collect::<Result<_, _>>()?;
    let rows = if tensors.len() == 1
        && tensors[0].shape.len() == 2
        && !model.columns.contains(&tensors[0].name.to_owned())
    {
        tensor_rows(model, &tensors[0])?
    } else {
        named_rows(model, &tensors)?
    };
    if rows.cells.is_empty() {
        return Err(
            ApiError::bad_request("the inputs have no rows (shape [0])").at(
                "inputs".into(),
                None,
                None,
            ),
        );
    }
    if rows.cells.len() > max_rows {
        return Err(too_many_rows(rows.cells.len(), max_rows));
    }
    let table = model.table(&rows)?;
    let answers = model.answer(&table, &*rows.field)?;
    let n = answers.probabilities.len() / answers.width.max(1);
    let mut outputs = Vec::new();
    if wanted.iter().any(|w| w == PREDICTION) {
        outputs.push(match &answers.predictions {
            Predictions::Classes(classes) => {
                let labels = model.predictor.labels().unwrap_or_default();
                OutputTensor {
                    name: PREDICTION,
                    datatype: "BYTES",
                    shape: vec![n],
                    data: OutputData::Text(classes.iter().map(|&c| labels[c].as_str()).collect()),
                }
            }
            Predictions::Values(values) => OutputTensor {
                name: PREDICTION,
                datatype: "FP64",
                shape: vec![n],
                data: OutputData::Values(values),
            },
        });
    }
    if wanted.iter().any(|w| w == PROBABILITIES) {
        outputs.push(OutputTensor {
            name: PROBABILITIES,
            datatype: "FP32",
            shape: vec![n, answers.width],
            data: OutputData::Numbers(&answers.probabilities),
        });
    }
    let warnings = report_messages(&answers.report);
    let response = InferResponse {
        model_name: &model.name,
        id: request.get("id"),
        parameters: (!warnings.is_empty()).then_some(Warnings { warnings }),
        outputs,
    };
    Ok(Outcome {
        body: to_json(&response)?,
        rows: n,
    })
}

/// An inference response (`$inference_response`).
#[derive(Serialize)]
struct InferResponse<'a> {
    model_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Warnings>,
    outputs: Vec<OutputTensor<'a>>,
}

/// What the preprocessing made up, as the response's parameters.
#[derive(Serialize)]
struct Warnings {
    warnings: Vec<String>,
}

/// One output tensor (`$response_output`).
#[derive(Serialize)]
struct OutputTensor<'a> {
    name: &'static str,
    datatype: &'static str,
    shape: Vec<usize>,
    data: OutputData<'a>,
}

/// An output's elements, numbers written in their shortest form as `nerve predict` prints them:
/// probabilities as f32, values in the target's units as f64 (decoded to the precision the
/// network's output holds).
#[derive(Serialize)]
#[serde(untagged)]
enum OutputData<'a> {
    Text(Vec<&'a str>),
    Numbers(&'a [f32]),
    Values(&'a [f64]),
}

/// The outputs a request asks for (`outputs: [{"name": ...}]`), or all of them.
fn requested_outputs(
    request: &Map<String, Value>,
    model: &ServedModel,
) -> Result<Vec<String>, ApiError> {
    let mut available = vec![PREDICTION];
    if model.predictor.labels().is_some() {
        available.push(PROBABILITIES);
    }
    // None, or an empty list (as KServe's Python server reads it), is every output.
    let everything = || Ok(available.iter().map(|s| (*s).to_owned()).collect());
    let Some(requested) = request.get("outputs") else {
        return everything();
    };
    if requested.as_array().is_some_and(Vec::is_empty) {
        return everything();
    }
    let Some(requested) = requested.as_array() else {
        return Err(
            ApiError::bad_request("`outputs` must be an array of {\"name\": ...}").at(
                "outputs".into(),
                None,
                None,
            ),
        );
    };
    let mut wanted = Vec::new();
    for (i, output) in requested.iter().enumerate() {
        let field = format!("outputs[{i}]");
        let Some(name) = output.get("name").and_then(Value::as_str) else {
            return Err(
                ApiError::bad_request(format!("{field} has no `name`")).at(field, None, None)
            );
        };
        if !available.contains(&name) {
            return Err(ApiError::bad_request(format!(
                "{field}: no output `{name}`; this model's outputs are: {}",
                available.join(", ")
            ))
            .at(field, None, None));
        }
        if output
            .get("parameters")
            .and_then(|p| p.get("binary_data"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(ApiError::bad_request(format!(
                "{field}: binary_data outputs (the binary tensor extension) are not supported; ask for JSON (`\"binary_data\": false`)"
            ))
            .at(field, None, None));
        }
        wanted.push(name.to_owned());
    }
    Ok(wanted)
}

/// One input tensor of a request, checked against its own shape and datatype.
struct Tensor<'a> {
    /// Its position in `inputs`.
    index: usize,
    name: &'a str,
    shape: Vec<usize>,
    /// The elements, row-major (nested arrays flattened).
    cells: Vec<Cell<'a>>,
}

impl<'a> Tensor<'a> {
    fn parse(index: usize, input: &'a Value) -> Result<Tensor<'a>, ApiError> {
        let at = format!("inputs[{index}]");
        let bad = |message: String| ApiError::bad_request(message).at(at.clone(), None, None);
        let Some(input) = input.as_object() else {
            return Err(bad(format!(
                "{at} must be an object {{\"name\", \"shape\", \"datatype\", \"data\"}}"
            )));
        };
        let Some(name) = input.get("name").and_then(Value::as_str) else {
            return Err(bad(format!("{at} has no `name` (a string)")));
        };
        let Some(datatype) = input.get("datatype").and_then(Value::as_str) else {
            return Err(bad(format!(
                "{at} (`{name}`) has no `datatype`; one of {}",
                DATATYPES.join(", ")
            )));
        };
        if !DATATYPES.contains(&datatype) {
            return Err(bad(format!(
                "{at} (`{name}`): unknown datatype `{datatype}`; expected one of {}",
                DATATYPES.join(", ")
            )));
        }
        let shape: Vec<usize> = match input.get("shape").and_then(Value::as_array) {
            Some(dims) => dims
                .iter()
                .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                .collect::<Option<_>>()
                .filter(|dims: &Vec<usize>| !dims.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "{at} (`{name}`): `shape` must list the dimensions as non-negative integers, e.g. [N] or [N, F]"
                    ))
                })?,
            None => {
                return Err(bad(format!(
                    "{at} (`{name}`) has no `shape` (e.g. [N] for N rows)"
                )));
            }
        };
        let Some(data) = input.get("data") else {
            return Err(bad(format!("{at} (`{name}`) has no `data`")));
        };
        let mut cells = Vec::new();
        flatten(data, datatype, &mut cells).map_err(|(i, message)| {
            let field = format!("{at}.data[{i}]");
            ApiError::bad_request(format!("{field} (`{name}`): {message}")).at(field, None, None)
        })?;
        let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected != Some(cells.len()) {
            return Err(bad(format!(
                "{at} (`{name}`): shape {shape:?} holds {} values but `data` has {}",
                expected.map_or("too many".to_owned(), |n| n.to_string()),
                cells.len()
            )));
        }
        Ok(Tensor {
            index,
            name,
            shape,
            cells,
        })
    }
}

/// Appends `data`'s elements (flattening nested arrays, row-major) as cells, checking each
/// against `datatype`; an error carries the flat index of the element.
fn flatten<'a>(
    data: &'a Value,
    datatype: &str,
    cells: &mut Vec<Cell<'a>>,
) -> Result<(), (usize, String)> {
    match data {
        Value::Array(items) => {
            for item in items {
                flatten(item, datatype, cells)?;
            }
            Ok(())
        }
        value => {
            let cell = element(value, datatype).map_err(|message| (cells.len(), message))?;
            cells.push(cell);
            Ok(())
        }
    }
}

/// One element as a cell, if it is of `datatype` (`null` is a missing value in any).
fn element<'a>(value: &'a Value, datatype: &str) -> Result<Cell<'a>, String> {
    let got = || match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) | Value::Object(_) => "an object".to_owned(),
    };
    match (datatype, value) {
        (_, Value::Null) => Ok(Cell::Missing),
        ("BYTES", Value::String(text)) => Ok(Cell::Text(text)),
        ("BYTES", _) => Err(format!("BYTES takes strings, got {}", got())),
        ("BOOL", Value::Bool(b)) => Ok(Cell::Text(if *b { "true" } else { "false" })),
        ("BOOL", _) => Err(format!("BOOL takes true or false, got {}", got())),
        ("FP16" | "FP32" | "FP64", Value::Number(n)) => {
            let x = n
                .as_f64()
                .ok_or_else(|| format!("{datatype} takes numbers, got {}", got()))?;
            // What the datatype holds after rounding to it: f32::MAX written shortest
            // (3.4028235e38) is an FP32; 65519 rounds to FP16's largest, 65504.
            let fits = match datatype {
                "FP16" => x.abs() < 65520.0,
                "FP32" => (x as f32).is_finite(),
                _ => true,
            };
            if !fits {
                let max = if datatype == "FP16" {
                    "65504"
                } else {
                    "3.4028235e38"
                };
                return Err(format!(
                    "{datatype} holds numbers within ±{max}, got {}",
                    got()
                ));
            }
            Ok(Cell::Number(x))
        }
        (int, Value::Number(n)) if int.contains("INT") => {
            let (low, high) = integer_range(int);
            // An integer written as a float (`-0`, `1e2`, `100.0`) is that integer.
            let x = n
                .as_i64()
                .map(i128::from)
                .or(n.as_u64().map(i128::from))
                .or_else(|| {
                    n.as_f64()
                        .filter(|x| x.fract() == 0.0 && x.abs() < 2f64.powi(64))
                        .map(|x| x as i128)
                });
            match x {
                Some(x) if (low..=high).contains(&x) => Ok(Cell::Number(x as f64)),
                _ => Err(format!(
                    "{int} takes integers from {low} to {high}, got {}",
                    got()
                )),
            }
        }
        (int, _) if int.contains("INT") => {
            let (low, high) = integer_range(int);
            Err(format!(
                "{int} takes integers from {low} to {high}, got {}",
                got()
            ))
        }
        (_, _) => Err(format!("{datatype} takes numbers, got {}", got())),
    }
}

/// The integers an `INTn` or `UINTn` datatype holds.
fn integer_range(datatype: &str) -> (i128, i128) {
    let unsigned = datatype.starts_with('U');
    let bits: u32 = datatype
        .trim_start_matches(['U', 'I', 'N', 'T'])
        .parse()
        .unwrap_or(64);
    if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

/// Rows from one input per column, each of shape `[N]` or `[N, 1]`.
fn named_rows<'a>(
    model: &ServedModel,
    tensors: &'a [Tensor<'a>],
) -> Result<RequestRows<'a>, ApiError> {
    let mut by_column: Vec<Option<&Tensor<'_>>> = vec![None; model.columns.len()];
    for tensor in tensors {
        let at = format!("inputs[{}]", tensor.index);
        let Some(c) = model.columns.iter().position(|c| c == tensor.name) else {
            let hint = if tensor.shape.len() == 2 && tensors.len() == 1 {
                format!(
                    "; or send one [N, {}] tensor with the columns in that order",
                    model.columns.len()
                )
            } else {
                String::new()
            };
            return Err(ApiError::bad_request(format!(
                "{at}: `{}` is not one of the model's inputs; they are: {}{hint}",
                tensor.name,
                model.columns.join(", ")
            ))
            .at(at, None, Some(tensor.name)));
        };
        if let Some(first) = by_column[c] {
            return Err(ApiError::bad_request(format!(
                "{at}: `{}` is given twice (also inputs[{}])",
                tensor.name, first.index
            ))
            .at(at, None, Some(tensor.name)));
        }
        if !(tensor.shape.len() == 1 || tensor.shape.len() == 2 && tensor.shape[1] == 1) {
            return Err(ApiError::bad_request(format!(
                "{at} (`{}`): shape {:?}; a column's input has shape [N] (or [N, 1])",
                tensor.name, tensor.shape
            ))
            .at(at, None, Some(tensor.name)));
        }
        by_column[c] = Some(tensor);
    }
    let mut columns = Vec::with_capacity(by_column.len());
    for (c, tensor) in by_column.into_iter().enumerate() {
        let Some(tensor) = tensor else {
            return Err(ApiError::bad_request(format!(
                "no input `{}`; the model's inputs are: {}",
                model.columns[c],
                model.columns.join(", ")
            ))
            .at("inputs".into(), None, Some(&model.columns[c])));
        };
        columns.push(tensor);
    }
    let n = columns[0].shape[0];
    if let Some(other) = columns.iter().find(|t| t.shape[0] != n) {
        return Err(ApiError::bad_request(format!(
            "inputs[{}] (`{}`) has {} rows but inputs[{}] (`{}`) has {n}; every input needs one value per row",
            other.index, other.name, other.shape[0], columns[0].index, columns[0].name
        ))
        .at(format!("inputs[{}]", other.index), None, Some(other.name)));
    }
    let cells = (0..n)
        .map(|r| columns.iter().map(|t| t.cells[r]).collect())
        .collect();
    let indices: Vec<usize> = columns.iter().map(|t| t.index).collect();
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("inputs[{}].data[{r}]", indices[c])),
    })
}

/// Rows from one `[N, F]` tensor whose columns are the model's, in order.
fn tensor_rows<'a>(
    model: &ServedModel,
    tensor: &'a Tensor<'a>,
) -> Result<RequestRows<'a>, ApiError> {
    let width = model.columns.len();
    let at = format!("inputs[{}]", tensor.index);
    if tensor.shape[1] != width {
        return Err(ApiError::bad_request(format!(
            "{at} (`{}`): shape {:?}; a tensor input has shape [N, {width}], the model's columns in order: {}",
            tensor.name,
            tensor.shape,
            model.columns.join(", ")
        ))
        .at(at, None, None));
    }
    let cells = tensor
        .cells
        .chunks(width)
        .map(<[Cell<'_>]>::to_vec)
        .collect();
    let index = tensor.index;
    Ok(RequestRows {
        cells,
        field: Box::new(move |r, c| format!("inputs[{index}].data[{r}][{c}]")),
    })
}
