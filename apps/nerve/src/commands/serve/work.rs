//! A request's work and what it holds: its body read once its size fits in the bodies'
//! budget ([`read_body`]), then answered on a blocking thread holding a worker permit
//! ([`answer`]), its answer's size held from the answers' budget until sent or dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::sync::OwnedSemaphorePermit;

use super::api_error::{ApiError, ErrorKind};
use super::served_model::ServedModel;
use super::state::AppState;

/// An answer, written out.
pub(crate) struct Outcome {
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    /// The rows answered.
    pub(crate) rows: usize,
}

/// A request's body, and its share of the bodies' budget, given back when both are dropped
/// (after the request's work).
pub(super) struct Received {
    bytes: Bytes,
    _held: OwnedSemaphorePermit,
}

/// Reads the whole body, at most `--max-body` bytes, once what it declares (`Content-Length`,
/// or `--max-body` when it is sent in chunks) fits in the bodies' budget: until then the
/// request waits unread, and its client, unable to send, waits too. A body over the limit is
/// read on (up to a bound) and dropped before the 413 goes out, so the client, still
/// sending, gets the answer instead of a reset connection.
pub(super) async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Received, ApiError> {
    let limit = state.max_body;
    let drain_limit = limit.saturating_mul(8).max(64 << 20);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = |size: String| {
        ApiError::new(
            ErrorKind::TooLarge,
            format!(
                "the body is {size} bytes; at most {limit} are taken (--max-body): send fewer rows per request"
            ),
        )
    };
    // A client that waits for `100 Continue` has sent nothing yet: refuse it at once.
    let expects_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if let Some(declared) = declared
        && (declared > drain_limit as u64 || (expects_continue && declared > limit as u64))
    {
        return Err(too_large(declared.to_string()));
    }
    // A body declared over the limit is drained, not kept: it needs no share.
    let keep = declared.is_none_or(|d| d <= limit as u64);
    let share = match declared {
        _ if !keep => 0,
        Some(declared) => declared as usize,
        None => limit,
    }
    .min(state.budget);
    let held = state
        .bodies
        .clone()
        .acquire_many_owned(u32::try_from(share).unwrap_or(u32::MAX))
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unavailable, "the server is stopping"))?;
    let mut body = body;
    let mut bytes = Vec::with_capacity(if keep { share } else { 0 });
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            ApiError::bad_request(format!("the body could not be read to its end: {err}"))
        })?;
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if keep && total <= limit {
                bytes.extend_from_slice(&data);
            } else if total > drain_limit {
                break;
            }
        }
    }
    if total > limit {
        return Err(too_large(
            declared.map_or_else(|| format!("over {total}"), |d| d.to_string()),
        ));
    }
    Ok(Received {
        bytes: Bytes::from(bytes),
        _held: held,
    })
}

/// Sets its flag when dropped: the request it belongs to has ended, answered or not (timed
/// out, or its client gone).
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Answers `body` on a blocking thread, at most `--workers` at once. The worker's permit and
/// the body's share of the budget are held by the work itself, so a request that times out
/// or whose client leaves frees them only when its work has stopped; work whose request has
/// already ended is skipped. The answer then takes its size from the answers' budget, its
/// worker still held (so answers nobody reads stop the workers rather than fill the memory),
/// and gives it back once sent, or dropped (`--timeout` without the client reading). A panic
/// while answering is this request's 500, and the server goes on.
pub(super) async fn answer<F>(
    state: &AppState,
    model: Arc<ServedModel>,
    body: Received,
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&ServedModel, &[u8]) -> Result<Outcome, ApiError> + Send + 'static,
{
    let stopping = || ApiError::new(ErrorKind::Unavailable, "the server is stopping");
    let permit = state
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| stopping())?;
    let ended = Arc::new(AtomicBool::new(false));
    let _abandoned = Abandoned(ended.clone());
    let worker_model = model.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let Received { bytes, _held } = body;
        let outcome = if ended.load(Ordering::Relaxed) {
            // Nobody is waiting for this answer (the response is never sent).
            Err(ApiError::new(
                ErrorKind::Timeout,
                "the request ended before a worker was free",
            ))
        } else {
            work(&worker_model, &bytes)
        };
        (outcome, permit)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            ErrorKind::Internal,
            "answering this request failed inside nerve (a bug: please report it with the request); the server goes on",
        )
    })?;
    let (outcome, _worker) = answered;
    let Outcome { body, rows } = outcome?;
    let size = u32::try_from(body.len().clamp(1, state.budget)).unwrap_or(u32::MAX);
    let held = state
        .answers
        .clone()
        .acquire_many_owned(size)
        .await
        .map_err(|_| stopping())?;
    state.metrics.rows(&model.name, rows);
    let body = Bytes::from_owner(HeldAnswer { body, _held: held });
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// An answer's bytes with their share of the answers' budget, given back when hyper lets go
/// of them (sent, or the connection dropped).
struct HeldAnswer {
    body: Vec<u8>,
    _held: OwnedSemaphorePermit,
}

impl AsRef<[u8]> for HeldAnswer {
    fn as_ref(&self) -> &[u8] {
        &self.body
    }
}
