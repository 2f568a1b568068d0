//! [`ApiError`]: a refused request, answered with its status and a JSON body that names what
//! was wrong and where (the field, the row, the column).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What kind of refusal a request gets; its HTTP status is decided here alone
/// ([`ErrorKind::status`]), as text-embeddings-inference's `ErrorType` decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The body is not what the endpoint takes (400).
    BadRequest,
    /// No such model or path (404).
    NotFound,
    /// A method the path does not take (405).
    MethodNotAllowed,
    /// No answer within `--timeout` (408).
    Timeout,
    /// A body or a row count over the limits (413).
    TooLarge,
    /// A content type, encoding or charset not taken (415).
    UnsupportedMediaType,
    /// A failure inside nerve (500).
    Internal,
    /// A transfer coding the server does not decode (501).
    NotImplemented,
    /// A model loading or failed to load, or the server stopping (503).
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status of the kind.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A request the server refuses, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    pub(crate) kind: ErrorKind,
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
    /// A refusal of `kind`.
    pub(crate) fn new(kind: ErrorKind, error: impl Into<String>) -> Self {
        ApiError {
            kind,
            error: error.into(),
            field: None,
            row: None,
            column: None,
        }
    }

    /// 400: the body is not what the endpoint takes.
    pub(crate) fn bad_request(error: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, error)
    }

    /// 404: no such model or path.
    pub(crate) fn not_found(error: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, error)
    }

    /// The place in the body the error is about.
    pub(crate) fn at(mut self, field: String, row: Option<usize>, column: Option<&str>) -> Self {
        self.field = Some(field);
        self.row = row;
        self.column = column.map(str::to_owned);
        self
    }
}

/// A 413 for a request with more rows than `--max-rows`.
pub(crate) fn too_many_rows(rows: usize, max_rows: usize) -> ApiError {
    ApiError::new(
        ErrorKind::TooLarge,
        format!("{rows} rows; at most {max_rows} are taken per request (--max-rows): split them"),
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.kind.status(), axum::Json(&self)).into_response()
    }
}
