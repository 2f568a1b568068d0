//! `nerve serve`: models behind HTTP, speaking the Open Inference Protocol (KServe V2) and
//! MLflow's scoring protocol, with Prometheus metrics.
//!
//! Each request's rows go through the [`Predictor`](nerve_run::Predictor) that `nerve
//! predict` uses, on a blocking thread (never the async runtime's), at most `--workers` at a
//! time; a request's body is read only once the bytes it declares fit in a budget shared by
//! every request (`body_budget`), and its work is skipped if its client has gone by the time a
//! worker is free. So what many large requests at once can take is bounded. A request that fails gets a 4xx with `{"error": ...}` naming the field, row and
//! column; a panic while answering one is a 500 for that request only.

mod api_error;
mod metrics;
mod mlflow;
mod open_inference;
mod send_timeout;
mod served_model;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Args;
use http_body_util::BodyExt as _;
use nerve_backend::BackendKind;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::api_error::ApiError;
use self::metrics::Metrics;
use self::served_model::{ServedModel, Slot};
use crate::choice;

const EXAMPLES: &str = "\
Examples:
  nerve serve -m runs/iris/model.safetensors
  nerve serve -m iris=runs/iris/model.safetensors -m wine=runs/wine/model.safetensors --addr 0.0.0.0:8080
  curl -s localhost:8080/invocations -H 'Content-Type: application/json' \\
    -d '{\"dataframe_records\": [{\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}]}'";

/// Flags of `nerve serve`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ServeArgs {
    /// A model file written by `nerve train`, served under NAME: the file's stem, or for
    /// `model.safetensors` its run folder's name (`runs/iris/model.safetensors` is `iris`).
    /// Repeat for several models.
    #[arg(short, long = "model", value_name = "[NAME=]FILE", required = true)]
    models: Vec<String>,
    /// The address and port to listen on (0.0.0.0 for every interface; port 0 picks a free one).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// The largest request body taken, in bytes (suffixes KB, MB, KiB, MiB); larger ones get a
    /// 413. Bodies held at once, by all requests together, are bounded by 4 × SIZE or 64 MiB,
    /// whichever is larger: more requests wait their turn (within --timeout) unread.
    #[arg(long, value_name = "SIZE", default_value = "8MiB", value_parser = crate::numbers::parse_size)]
    max_body: usize,
    /// The most rows one request may hold; more get a 413.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_rows: usize,
    /// How long a request may take, from its first byte to its answer (a slow client gets a
    /// 408; a client that never finishes its headers is disconnected).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Requests answered at once, each on its own thread [default: the CPU's cores].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// CPU backend (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = choice::<BackendKind>(), default_value_t = BackendKind::default())]
    backend: BackendKind,
}

/// What every handler shares.
pub(crate) struct AppState {
    slots: Vec<Slot>,
    metrics: Metrics,
    max_body: usize,
    max_rows: usize,
    timeout: Duration,
    /// `--workers` permits: one is held by each request being answered, until its work ends.
    workers: Arc<Semaphore>,
    /// One permit per byte of request bodies that may be held at once ([`body_budget`]).
    bodies: Arc<Semaphore>,
    /// One permit per byte of answers written and not yet sent (the same budget's size).
    answers: Arc<Semaphore>,
    /// The bodies' budget in bytes (and the answers').
    budget: usize,
}

impl AppState {
    /// The state of a server answering for `slots`.
    fn new(
        slots: Vec<Slot>,
        max_body: usize,
        max_rows: usize,
        timeout: Duration,
        workers: usize,
    ) -> Result<Self> {
        let budget = body_budget(max_body);
        Ok(AppState {
            slots,
            metrics: Metrics::new().context("cannot set up the metrics")?,
            max_body,
            max_rows,
            timeout,
            workers: Arc::new(Semaphore::new(workers)),
            bodies: Arc::new(Semaphore::new(budget)),
            answers: Arc::new(Semaphore::new(budget)),
            budget,
        })
    }
}

/// The bytes of request bodies held at once: 4 × `max_body` or 64 MiB, whichever is larger
/// (a permit count must fit in 32 bits, so at most 4 GiB).
fn body_budget(max_body: usize) -> usize {
    max_body
        .saturating_mul(4)
        .max(64 << 20)
        .min(u32::MAX as usize)
}

type Shared = Arc<AppState>;

/// An answer, written out.
pub(crate) struct Outcome {
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    /// The rows answered.
    pub(crate) rows: usize,
}

/// Runs `nerve serve` until Ctrl-C or SIGTERM (requests in flight finish), or a model fails to
/// load.
pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode> {
    let specs = model_specs(&args.models)?;
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        anyhow::anyhow!(
            "--addr `{}`: expected IP:PORT, such as 127.0.0.1:8080 or 0.0.0.0:8080",
            args.addr
        )
    })?;
    if args.max_rows == 0 || args.max_body == 0 {
        bail!("--max-rows and --max-body must be at least 1");
    }
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    // The backend is checked before anything listens.
    args.backend.device()?;
    let slots = specs
        .into_iter()
        .map(|(name, path)| Slot {
            name,
            path,
            loaded: OnceLock::new(),
        })
        .collect();
    let state = Arc::new(AppState::new(
        slots,
        args.max_body,
        args.max_rows,
        args.timeout,
        workers,
    )?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nerve-serve")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(state, addr, args.backend))
}

/// Listens, loads the models in the background, serves until told to stop.
async fn run(state: Shared, addr: SocketAddr, backend: BackendKind) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let names: Vec<&str> = state.slots.iter().map(|s| s.name.as_str()).collect();
    eprintln!(
        "nerve serve: listening on http://{local} (loading {}; Ctrl-C stops)",
        names.join(", ")
    );
    let (failed_tx, mut failed_rx) = tokio::sync::watch::channel(None::<String>);
    let loader = {
        let state = state.clone();
        tokio::spawn(async move {
            for (i, slot) in state.slots.iter().enumerate() {
                state.metrics.ready(&slot.name, false);
                let (name, path) = (slot.name.clone(), slot.path.clone());
                let loaded =
                    tokio::task::spawn_blocking(move || ServedModel::load(&name, &path, backend))
                        .await;
                let loaded = match loaded {
                    Ok(Ok(model)) => Ok(Arc::new(model)),
                    Ok(Err(err)) => Err(format!("{err:#}")),
                    Err(err) => Err(format!("loading it failed: {err}")),
                };
                let slot = &state.slots[i];
                match &loaded {
                    Ok(_) => state.metrics.ready(&slot.name, true),
                    Err(err) => {
                        let _ = failed_tx.send(Some(format!(
                            "cannot serve `{}` ({}): {err}",
                            slot.name,
                            slot.path.display()
                        )));
                    }
                }
                let _ = slot.loaded.set(loaded);
            }
            if state.slots.iter().all(|s| s.ready().is_some()) {
                let described: Vec<String> = state
                    .slots
                    .iter()
                    .filter_map(Slot::ready)
                    .map(|m| {
                        format!(
                            "{} ({}, {} inputs) at http://{local}/v2/models/{}/infer",
                            m.name,
                            m.predictor
                                .saved()
                                .preprocessor
                                .task()
                                .to_string()
                                .to_lowercase(),
                            m.columns.len(),
                            m.name
                        )
                    })
                    .collect();
                eprintln!("nerve serve: ready: {}", described.join("; "));
            }
        })
    };
    let app = router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.timeout)
        .keep_alive(true)
        // A client that sends its request and then shuts its side (`nc -N`, some HTTP/1.0
        // clients) still gets the answer.
        .half_close(true);
    let mut stop = std::pin::pin!(shutdown_signal());
    // Resolves with the first load failure, never otherwise: once loading is over (the sender
    // dropped), it waits forever rather than answering `changed()`'s error again and again.
    let mut load_failure = std::pin::pin!(async move {
        loop {
            if failed_rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
            if let Some(message) = failed_rx.borrow().clone() {
                return message;
            }
        }
    });
    let failure = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // Out of file descriptors and the like: wait, then go on serving.
                        tracing::warn!("cannot accept a connection: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Answers go out as soon as they are written (no Nagle delay on small ones).
                let _ = stream.set_nodelay(true);
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                // An answer the client does not read is dropped after --timeout.
                let stream = send_timeout::SendTimeout::new(stream, state.timeout);
                let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut stop => break None,
            message = &mut load_failure => break Some(message),
        }
    };
    drop(listener);
    loader.abort();
    eprintln!("nerve serve: stopping; answering the requests in flight");
    // In-flight requests finish (each is bounded by --timeout); idle connections close now.
    if tokio::time::timeout(state.timeout + Duration::from_secs(1), graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("nerve serve: some connections were still open after --timeout; closed them");
    }
    match failure {
        Some(message) => bail!(message),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// `--model` values as (name, path): `NAME=FILE`, or the name taken from the file.
fn model_specs(values: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let mut specs: Vec<(String, PathBuf)> = Vec::new();
    for value in values {
        let (name, path) = match value.split_once('=') {
            Some((name, path)) if !std::path::Path::new(value).exists() => {
                (name.to_owned(), PathBuf::from(path))
            }
            _ => {
                let path = PathBuf::from(value);
                (default_name(&path), path)
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            bail!(
                "--model {value}: the name `{name}` must be letters, digits, `-`, `_` or `.` (it goes in URLs); give one as NAME=FILE"
            );
        }
        // RFC 3986 §5.2.4: clients remove `.` and `..` segments before sending, so
        // /v2/models/../infer would reach /v2/infer.
        if name == "." || name == ".." {
            bail!(
                "--model {value}: the name `{name}` is not a URL segment (clients read it as the folder it names); give another as NAME=FILE"
            );
        }
        if !path.is_file() {
            bail!(
                "--model {value}: {} is not a file; give a model file written by `nerve train`",
                path.display()
            );
        }
        if let Some((_, other)) = specs.iter().find(|(n, _)| *n == name) {
            bail!(
                "--model {value}: the name `{name}` is already taken by {}; name them apart with NAME=FILE",
                other.display()
            );
        }
        specs.push((name, path));
    }
    Ok(specs)
}

/// A model's default name: its file's stem, or its folder's name for `model.safetensors`
/// (what `nerve train` writes into each run folder).
fn default_name(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem == "model"
        && let Some(folder) = path.canonicalize().ok().and_then(|p| {
            p.parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
    {
        return folder;
    }
    stem
}

/// Every endpoint, with the metrics and timeout middleware around it.
pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route("/v2/models/{name}/infer", post(infer))
        .route("/invocations", post(invocations))
        .route("/models/{name}/invocations", post(invocations_named))
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Times every request, bounds it by `--timeout`, and counts it.
async fn track(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let start = Instant::now();
    let response = match tokio::time::timeout(state.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "no answer within {} (--timeout): the body came too slowly or the request is too large",
                humantime::format_duration(state.timeout)
            ),
        )
        .into_response(),
    };
    state
        .metrics
        .request(&endpoint, response.status().as_u16(), start.elapsed());
    response
}

/// A JSON answer with `status`.
fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn server_metadata() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"name": "nerve", "version": env!("CARGO_PKG_VERSION"), "extensions": []}),
    )
}

async fn live() -> Response {
    json_response(StatusCode::OK, &json!({"live": true}))
}

/// 200 once every model is loaded; 503 while one loads (or none is served).
async fn ready(State(state): State<Shared>) -> Response {
    let ready = !state.slots.is_empty() && state.slots.iter().all(|s| s.ready().is_some());
    let loading: Vec<&str> = state
        .slots
        .iter()
        .filter(|s| s.loaded.get().is_none())
        .map(|s| s.name.as_str())
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &json!({"ready": ready, "loading": loading}))
}

/// MLflow's `/ping` and `/health`: 200 once ready.
async fn ping(state: State<Shared>) -> Response {
    ready(state).await
}

async fn version() -> Response {
    json_response(StatusCode::OK, &json!({"nerve": env!("CARGO_PKG_VERSION")}))
}

async fn metrics(State(state): State<Shared>) -> Response {
    state.metrics.bodies_held(
        state.budget - state.bodies.available_permits(),
        state.budget - state.answers.available_permits(),
    );
    let (content_type, body) = state.metrics.render();
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn not_found(request: Request) -> Response {
    ApiError::not_found(format!(
        "no endpoint {} {}; nerve serves /v2/health/live, /v2/health/ready, /v2/models/{{name}}, /v2/models/{{name}}/ready, POST /v2/models/{{name}}/infer, POST /invocations, POST /models/{{name}}/invocations, /ping, /health, /version and /metrics",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}; inference takes POST, metadata and health GET",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

impl AppState {
    /// The slot of the model called `name`.
    fn slot(&self, name: &str) -> Result<&Slot, ApiError> {
        self.slots.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.slots.iter().map(|s| s.name.as_str()).collect();
            ApiError::not_found(format!(
                "no model `{name}`; this server has: {}",
                names.join(", ")
            ))
        })
    }

    /// The model called `name`, if it is ready: 404 for an unknown name, 503 while it loads.
    fn model(&self, name: &str) -> Result<Arc<ServedModel>, ApiError> {
        let slot = self.slot(name)?;
        match slot.loaded.get() {
            Some(Ok(model)) => Ok(model.clone()),
            Some(Err(err)) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("model `{name}` failed to load: {err}"),
            )),
            None => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "model `{name}` is still loading; try again (GET /v2/models/{name}/ready says when)"
                ),
            )),
        }
    }
}

/// A `{name}` from the path, or a 400 when it is not text.
type NamePath = Result<Path<String>, axum::extract::rejection::PathRejection>;

fn path_name(name: NamePath) -> Result<String, ApiError> {
    name.map(|Path(name)| name)
        .map_err(|err| ApiError::bad_request(format!("the model name in the path: {err}")))
}

async fn model_metadata(State(state): State<Shared>, name: NamePath) -> Result<Response, ApiError> {
    let model = state.model(&path_name(name)?)?;
    Ok(json_response(
        StatusCode::OK,
        &open_inference::metadata(&model),
    ))
}

async fn model_ready(State(state): State<Shared>, name: NamePath) -> Result<Response, ApiError> {
    let name = path_name(name)?;
    let slot = state.slot(&name)?;
    let ready = slot.ready().is_some();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json_response(
        status,
        &json!({"name": name, "ready": ready}),
    ))
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
                    StatusCode::NOT_IMPLEMENTED,
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
enum BodyKind {
    Json,
    Csv,
}

/// The body's kind: JSON (`application/json`, `…+json`, or no content type), CSV
/// (`text/csv`), UTF-8 only; anything else is a 415 that lists what is taken.
fn body_kind(headers: &HeaderMap, csv_allowed: bool) -> Result<BodyKind, ApiError> {
    transfer_codings(headers)?;
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING)
        && !encoding
            .to_str()
            .is_ok_and(|e| e.trim().eq_ignore_ascii_case("identity"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
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

/// A request's body, and its share of the bodies' budget, given back when both are dropped
/// (after the request's work).
struct Received {
    bytes: Bytes,
    _held: OwnedSemaphorePermit,
}

/// Reads the whole body, at most `--max-body` bytes, once what it declares (`Content-Length`,
/// or `--max-body` when it is sent in chunks) fits in the bodies' budget: until then the
/// request waits unread, and its client, unable to send, waits too. A body over the limit is
/// read on (up to a bound) and dropped before the 413 goes out, so the client, still
/// sending, gets the answer instead of a reset connection.
async fn read_body(
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
            StatusCode::PAYLOAD_TOO_LARGE,
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
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"))?;
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
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the answer: {err}"),
        )
    })
}

/// A 413 for a request with more rows than `--max-rows`.
pub(crate) fn too_many_rows(rows: usize, max_rows: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{rows} rows; at most {max_rows} are taken per request (--max-rows): split them"),
    )
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
async fn answer<F>(
    state: &AppState,
    model: Arc<ServedModel>,
    body: Received,
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&ServedModel, &[u8]) -> Result<Outcome, ApiError> + Send + 'static,
{
    let stopping = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
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
                StatusCode::REQUEST_TIMEOUT,
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
            StatusCode::INTERNAL_SERVER_ERROR,
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

async fn infer(
    State(state): State<Shared>,
    name: NamePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = state.model(&path_name(name)?)?;
    body_kind(&headers, false)?;
    let body = read_body(&state, &headers, body).await?;
    let max_rows = state.max_rows;
    answer(&state, model, body, move |model, bytes| {
        open_inference::infer(model, bytes, max_rows)
    })
    .await
}

/// `POST /invocations`: the one model served (with several, `/models/{name}/invocations`).
async fn invocations(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let name = match state.slots.as_slice() {
        [only] => only.name.clone(),
        slots => {
            let urls: Vec<String> = slots
                .iter()
                .map(|s| format!("/models/{}/invocations", s.name))
                .collect();
            return Err(ApiError::bad_request(format!(
                "this server has {} models; POST to one of {}",
                slots.len(),
                urls.join(", ")
            )));
        }
    };
    invoke(&state, &name, &headers, body).await
}

async fn invocations_named(
    State(state): State<Shared>,
    name: NamePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    invoke(&state, &path_name(name)?, &headers, body).await
}

async fn invoke(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = state.model(name)?;
    let kind = body_kind(headers, true)?;
    let body = read_body(state, headers, body).await?;
    let max_rows = state.max_rows;
    answer(state, model, body, move |model, bytes| match kind {
        BodyKind::Json => mlflow::invocations_json(model, bytes, max_rows),
        BodyKind::Csv => mlflow::invocations_csv(model, bytes, max_rows),
    })
    .await
}

#[cfg(test)]
mod tests;
