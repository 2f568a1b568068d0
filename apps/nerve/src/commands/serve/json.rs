//! JSON bodies in and out: a request's body parsed (a bare `NaN` read as null, as MLflow's
//! Python server reads it; `Infinity` named), and an answer written strictly.

use serde_json::Value;

use super::api_error::{ApiError, ErrorKind};

/// A JSON body, or a 400 that says where it stops being JSON.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the body is empty; send a JSON object",
        ));
    }
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    // pandas' missing value, written bare by Python's json.dumps (MLflow's own client sends a
    // DataFrame that way): read as null, as MLflow's Python server reads it.
    let rewritten = nan_as_null(body);
    let bytes = rewritten.as_deref().unwrap_or(body);
    serde_json::from_slice(bytes).map_err(|err| {
        let place = format!("line {}, column {}", err.line(), err.column());
        // Python's json.dumps writes Infinity too, which JSON does not have.
        let message = match non_json_number(bytes, err.line(), err.column()) {
            Some(token) => format!(
                "the body is not valid JSON: `{token}` at {place} is not a JSON value, and nerve takes finite numbers only; send null for a missing value"
            ),
            None => format!("the body is not valid JSON: {err}"),
        };
        ApiError::bad_request(message).at(place, None, None)
    })
}

/// `body` with each bare `NaN` (outside strings) written `null`; `None` when it has none.
fn nan_as_null(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let (mut in_string, mut escaped, mut replaced) = (false, false, false);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if body[i..].starts_with(b"NaN") {
            out.extend_from_slice(b"null");
            replaced = true;
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    replaced.then_some(out)
}

/// `Infinity` or `-Infinity` where serde_json stopped (1-based line, column), if that is
/// what stopped it.
fn non_json_number(body: &[u8], line: usize, column: usize) -> Option<&'static str> {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    // serde_json points at the offending byte, or one or two past it (after a `-`).
    let at = line_start + column.saturating_sub(1);
    (at.saturating_sub(2).max(line_start)..=at).find_map(|start| {
        let rest = body.get(start..)?;
        ["-Infinity", "Infinity"]
            .into_iter()
            .find(|token| rest.starts_with(token.as_bytes()))
    })
}

/// `value` as JSON (strict: a non-finite float is `null`, never a bare `NaN`).
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|err| {
        ApiError::new(
            ErrorKind::Internal,
            format!("cannot write the answer: {err}"),
        )
    })
}
