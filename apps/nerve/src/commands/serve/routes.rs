//! The endpoints: axum's router with the metrics and timeout middleware ([`router`]), and
//! handlers of a few lines each — the extractors do the checks ([`super::extract`]), the
//! work runs within its permits and budgets ([`super::work`]), and a refusal's status comes
//! from its kind ([`ErrorKind`]).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::api_error::{ApiError, ErrorKind};
use super::extract::{BodyKind, JsonBody, ModelName, OnlyModel, Payload, ReadyModel};
use super::served_model::ServedModel;
use super::state::{AppState, Shared};
use super::work::answer;
use super::{mlflow, open_inference};

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
            ErrorKind::Timeout,
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
        ErrorKind::MethodNotAllowed,
        format!(
            "{} is not allowed on {}; inference takes POST, metadata and health GET",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

async fn model_metadata(ReadyModel(model): ReadyModel) -> Result<Response, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &open_inference::metadata(&model),
    ))
}

async fn model_ready(
    State(state): State<Shared>,
    ModelName(name): ModelName,
) -> Result<Response, ApiError> {
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

async fn infer(
    State(state): State<Shared>,
    ReadyModel(model): ReadyModel,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let max_rows = state.max_rows;
    answer(&state, model, body, move |model, bytes| {
        open_inference::infer(model, bytes, max_rows)
    })
    .await
}

/// `POST /invocations`: the one model served (with several, `/models/{name}/invocations`).
async fn invocations(
    State(state): State<Shared>,
    OnlyModel(model): OnlyModel,
    payload: Payload,
) -> Result<Response, ApiError> {
    invoke(&state, model, payload).await
}

async fn invocations_named(
    State(state): State<Shared>,
    ReadyModel(model): ReadyModel,
    payload: Payload,
) -> Result<Response, ApiError> {
    invoke(&state, model, payload).await
}

/// MLflow's scoring of a JSON or CSV body.
async fn invoke(
    state: &AppState,
    model: Arc<ServedModel>,
    Payload { kind, body }: Payload,
) -> Result<Response, ApiError> {
    let max_rows = state.max_rows;
    answer(state, model, body, move |model, bytes| match kind {
        BodyKind::Json => mlflow::invocations_json(model, bytes, max_rows),
        BodyKind::Csv => mlflow::invocations_csv(model, bytes, max_rows),
    })
    .await
}
