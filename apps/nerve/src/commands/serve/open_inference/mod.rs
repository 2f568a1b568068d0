//! The Open Inference Protocol (KServe V2, also spoken by Triton and Seldon) over JSON: model
//! metadata, and `infer` with one input per feature column (shape `[N]`) or one `[N, F]`
//! tensor in the model's column order.
//!
//! Reference: <https://github.com/kserve/open-inference-protocol> (`rest_predict_v2.yaml`).

use nerve_data::ColumnKind;
use nerve_run::Predictions;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::api_error::{ApiError, too_many_rows};
use super::json::{parse_json, to_json};
use super::served_model::ServedModel;
use super::work::Outcome;
use crate::model_input::report_messages;

mod inputs;

use inputs::{Tensor, named_rows, tensor_rows};

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
