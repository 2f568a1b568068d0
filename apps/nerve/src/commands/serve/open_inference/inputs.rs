//! A request's input tensors read into cells: one tensor per feature column (`[N]`) or one `[N, F]` tensor, each element checked against its datatype.

use nerve_data::Cell;
use serde_json::Value;

use super::super::api_error::ApiError;
use super::super::served_model::{RequestRows, ServedModel};

/// The datatypes of the protocol's tensors.
pub(super) const DATATYPES: [&str; 13] = [
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16",
    "FP32", "FP64", "BYTES",
];

/// One input tensor of a request, checked against its own shape and datatype.
pub(super) struct Tensor<'a> {
    /// Its position in `inputs`.
    pub(super) index: usize,
    pub(super) name: &'a str,
    pub(super) shape: Vec<usize>,
    /// The elements, row-major (nested arrays flattened).
    pub(super) cells: Vec<Cell<'a>>,
}

impl<'a> Tensor<'a> {
    pub(super) fn parse(index: usize, input: &'a Value) -> Result<Tensor<'a>, ApiError> {
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
pub(super) fn flatten<'a>(
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
pub(super) fn element<'a>(value: &'a Value, datatype: &str) -> Result<Cell<'a>, String> {
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
pub(super) fn integer_range(datatype: &str) -> (i128, i128) {
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
pub(super) fn named_rows<'a>(
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
pub(super) fn tensor_rows<'a>(
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
