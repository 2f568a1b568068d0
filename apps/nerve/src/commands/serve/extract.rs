//! The checks every inference request repeats, as axum extractors (axum's
//! `FromRequestParts` / `FromRequest`, as in its `parse-body-based-on-content-type`
//! example): the model named in the path and ready ([`ReadyModel`]), or the only one served
//! ([`OnlyModel`]); the body's kind by its headers and the body itself, read within the
//! bodies' budget ([`JsonBody`], [`Payload`]). A handler that takes them runs only once they
//! pass, in the order of its arguments.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::api_error::{ApiError, ErrorKind};
use super::served_model::ServedModel;
use super::state::Shared;
use super::work::{Received, read_body};

/// The `{name}` of the path.
pub(super) struct ModelName(pub(super) String);

impl FromRequestParts<Shared> for ModelName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(name)| ModelName(name))
            .map_err(|err| ApiError::bad_request(format!("the model name in the path: {err}")))
    }
}

/// The model the path names, loaded: 404 for an unknown name, 503 while it loads.
pub(super) struct ReadyModel(pub(super) Arc<ServedModel>);

impl FromRequestParts<Shared> for ReadyModel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let ModelName(name) = ModelName::from_request_parts(parts, state).await?;
        state.model(&name).map(ReadyModel)
    }
}

/// The one model served, for `POST /invocations`: with several, a 400 naming their URLs.
pub(super) struct OnlyModel(pub(super) Arc<ServedModel>);

impl FromRequestParts<Shared> for OnlyModel {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        match state.slots.as_slice() {
            [only] => state.model(&only.name).map(OnlyModel),
            slots => {
                let urls: Vec<String> = slots
                    .iter()
                    .map(|s| format!("/models/{}/invocations", s.name))
                    .collect();
                Err(ApiError::bad_request(format!(
                    "this server has {} models; POST to one of {}",
                    slots.len(),
                    urls.join(", ")
                )))
            }
        }
    }
}

/// A JSON body (the Open Inference Protocol's), read.
pub(super) struct JsonBody(pub(super) Received);

impl FromRequest<Shared> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Shared) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        body_kind(&parts.headers, false)?;
        read_body(state, &parts.headers, body).await.map(JsonBody)
    }
}

/// A JSON or CSV body (MLflow's), read, with its kind.
pub(super) struct Payload {
    pub(super) kind: BodyKind,
    pub(super) body: Received,
}

impl FromRequest<Shared> for Payload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Shared) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let kind = body_kind(&parts.headers, true)?;
        let body = read_body(state, &parts.headers, body).await?;
        Ok(Payload { kind, body })
    }
}

/// Refuses a body sent in a transfer coding other than `chunked` (the one hyper decodes) with
/// 501 naming it, as RFC 9112 §6.1 asks of a server that does not understand a coding: a
/// `gzip, chunked` body would otherwise be read still compressed.
fn transfer_codings(headers: &HeaderMap) -> Result<(), ApiError> {
    for value in headers.get_all(header::TRANSFER_ENCODING) {
        let text = value.to_str().unwrap_or("(not ASCII)");
        for coding in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if !coding.eq_ignore_ascii_case("chunked") {
                return Err(ApiError::new(
                    ErrorKind::NotImplemented,
                    format!(
                        "Transfer-Encoding {coding:?} is not taken; send the body uncompressed (chunked or with a Content-Length)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What a body is, by its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyKind {
    /// `application/json` (or `…+json`, or no content type).
    Json,
    /// `text/csv`.
    Csv,
}

/// The body's kind: JSON (`application/json`, `…+json`, or no content type), CSV
/// (`text/csv`), UTF-8 only; anything else is a 415 that lists what is taken.
pub(super) fn body_kind(headers: &HeaderMap, csv_allowed: bool) -> Result<BodyKind, ApiError> {
    transfer_codings(headers)?;
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING)
        && !encoding
            .to_str()
            .is_ok_and(|e| e.trim().eq_ignore_ascii_case("identity"))
    {
        return Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            format!("Content-Encoding {encoding:?} is not taken; send the body uncompressed"),
        ));
    }
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Json);
    };
    let accepted = if csv_allowed {
        "application/json or text/csv"
    } else {
        "application/json"
    };
    let unsupported = |what: &str| {
        ApiError::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "Content-Type {what} is not taken here; send {accepted} (with curl: -H 'Content-Type: application/json')"
            ),
        )
    };
    let text = value.to_str().map_err(|_| unsupported("(not ASCII)"))?;
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    for parameter in parts {
        if let Some((key, value)) = parameter.split_once('=')
            && key.trim().eq_ignore_ascii_case("charset")
        {
            let charset = value.trim().trim_matches('"').to_ascii_lowercase();
            if charset != "utf-8" && charset != "utf8" {
                return Err(ApiError::new(
                    ErrorKind::UnsupportedMediaType,
                    format!(
                        "charset {charset} is not taken; send UTF-8 ({accepted}; charset=utf-8)"
                    ),
                ));
            }
        }
    }
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(BodyKind::Json),
        "text/csv" if csv_allowed => Ok(BodyKind::Csv),
        _ => Err(unsupported(&format!("`{text}`"))),
    }
}
