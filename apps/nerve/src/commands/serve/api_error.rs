//! [`ApiError`]: a refused request, answered with its status and a JSON body that names what
//! was wrong and where (the field, the row, the column).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A request the server refuses, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    pub(crate) status: StatusCode,
    /// What was wrong, in a sentence that names the field, row and column.
    pub(crate) error: String,
    /// Where in the body, as a JSON path (`inputs[1].data[3]`) or a CSV line (`line 4`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
    /// The row, counted from 0 as in the request's arrays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) row: Option<usize>,
    /// The model's column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) column: Option<String>,
}

impl ApiError {
    /// A refusal with `status`.
    pub(crate) fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            field: None,
            row: None,
            column: None,
        }
    }

    /// 400: the body is not what the endpoint takes.
    pub(crate) fn bad_request(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    /// 404: no such model or path.
    pub(crate) fn not_found(error: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error)
    }

    /// The place in the body the error is about.
    pub(crate) fn at(mut self, field: String, row: Option<usize>, column: Option<&str>) -> Self {
        self.field = Some(field);
        self.row = row;
        self.column = column.map(str::to_owned);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(&self)).into_response()
    }
}
