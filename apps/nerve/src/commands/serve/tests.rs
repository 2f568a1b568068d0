//! The router called in process (no socket): health while models load, and the request
//! parsers fed random JSON and CSV bodies (none may panic; each is answered or refused with a
//! 4xx). The loopback tests are in `apps/nerve/tests/deploying/serving.rs`.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::api_error::ApiError;
use super::json::{parse_json, to_json};
use super::routes::router;
use super::served_model::{ServedModel, Slot};
use super::state::{AppState, Shared};
use super::work::Outcome;
use super::{mlflow, open_inference};

/// A model file committed for the fuzz targets: penguins (two categorical, two numeric columns).
fn penguins() -> Arc<ServedModel> {
    static MODEL: OnceLock<Arc<ServedModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/corpus/model_file/seed_penguins.safetensors");
            Arc::new(
                ServedModel::load("penguins", &path, nerve_backend::BackendKind::default())
                    .unwrap(),
            )
        })
        .clone()
}

fn state(slots: Vec<Slot>) -> Shared {
    Arc::new(AppState::new(slots, 1 << 20, 1000, Duration::from_secs(10), 2).unwrap())
}

fn slot(name: &str, loaded: Option<Arc<ServedModel>>) -> Slot {
    let slot = Slot {
        name: name.to_owned(),
        path: name.into(),
        loaded: OnceLock::new(),
    };
    if let Some(model) = loaded {
        let _ = slot.loaded.set(Ok(model));
    }
    slot
}

/// Sends one request to the router; returns the status and the body, which must be JSON.
fn call(state: &Shared, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("{uri}: not JSON ({err}): {bytes:?}"));
        (status, value)
    })
}

#[test]
fn while_a_model_loads_live_is_200_and_ready_503_then_200_once_loaded() {
    let state = state(vec![slot("penguins", None)]);
    assert_eq!(call(&state, "GET", "/v2/health/live", "").0, StatusCode::OK);
    let (status, body) = call(&state, "GET", "/v2/health/ready", "");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["loading"], json!(["penguins"]));
    assert_eq!(
        call(&state, "GET", "/ping", "").0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        call(&state, "GET", "/v2/models/penguins/ready", "").0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = call(&state, "POST", "/v2/models/penguins/infer", "{}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"].as_str().unwrap().contains("still loading"),
        "{body}"
    );
    // Loading ends.
    let _ = state.slots[0].loaded.set(Ok(penguins()));
    assert_eq!(
        call(&state, "GET", "/v2/health/ready", "").0,
        StatusCode::OK
    );
    assert_eq!(
        call(&state, "GET", "/v2/models/penguins/ready", "").0,
        StatusCode::OK
    );
}

#[test]
fn with_no_model_or_a_failed_one_ready_is_not_200() {
    let empty = state(Vec::new());
    assert_eq!(call(&empty, "GET", "/v2/health/live", "").0, StatusCode::OK);
    assert_ne!(
        call(&empty, "GET", "/v2/health/ready", "").0,
        StatusCode::OK
    );
    let failed = state(vec![slot("broken", None)]);
    let _ = failed.slots[0].loaded.set(Err("not a model file".into()));
    assert_ne!(
        call(&failed, "GET", "/v2/health/ready", "").0,
        StatusCode::OK
    );
    let (status, body) = call(&failed, "POST", "/invocations", "{}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"].as_str().unwrap().contains("not a model file"),
        "{body}"
    );
}

#[test]
fn the_router_answers_in_process_and_counts_what_it_answered() {
    let state = state(vec![slot("penguins", Some(penguins()))]);
    let body = r#"{"dataframe_records": [
        {"island": "Dream", "bill_length_mm": 49.1, "flipper_length_mm": 184, "sex": "male"},
        {"sex": null, "flipper_length_mm": "NA", "island": "Atlantis", "bill_length_mm": 40}
    ]}"#;
    let (status, answer) = call(&state, "POST", "/invocations", body);
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["predictions"].as_array().unwrap().len(), 2);
    assert_eq!(answer["classes"], json!(["Adelie", "Chinstrap", "Gentoo"]));
    let warnings = answer["warnings"].to_string();
    assert!(
        warnings.contains("`island` were not seen in training"),
        "{warnings}"
    );
    assert!(warnings.contains("missing value(s) of `sex`"), "{warnings}");
    assert!(
        warnings.contains("missing value(s) of `flipper_length_mm`"),
        "{warnings}"
    );
    let metrics = state.metrics.render().1;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(r#"nerve_rows_predicted_total{model="penguins"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"nerve_http_requests_total{endpoint="/invocations",status="200"} 1"#),
        "{metrics}"
    );
}

/// Keys a request's objects are likely to hold, so random bodies reach deep into the parsers.
const KEYS: [&str; 22] = [
    "inputs",
    "outputs",
    "name",
    "shape",
    "datatype",
    "data",
    "id",
    "parameters",
    "binary_data",
    "dataframe_split",
    "dataframe_records",
    "instances",
    "params",
    "columns",
    "index",
    "island",
    "bill_length_mm",
    "flipper_length_mm",
    "sex",
    "species",
    "FP32",
    "x",
];

/// Leaves: every JSON kind, with the values that break parsers (huge, negative, non-finite
/// spellings, missing-value spellings, datatype names, column names).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-5i64..10).prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "", "NA", "inf", "-inf", "NaN", "1e40", "3.5", "Dream", "male", "BYTES", "FP32",
            "INT64", "BOOL", "FP16", "UINT8", "é", "1,5", "38%",
        ])
        .prop_map(|s| json!(s)),
        prop::sample::select(KEYS.to_vec()).prop_map(|s| json!(s)),
        ".{0,8}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..6).prop_map(
                |pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

/// A V2 request whose shape is right and whose contents are random.
fn v2_request() -> impl Strategy<Value = Value> {
    let input = (
        prop::sample::select(KEYS.to_vec()),
        prop::sample::select(vec!["FP32", "FP64", "INT64", "UINT8", "BYTES", "BOOL", "FP8"]),
        prop::collection::vec(0u64..4, 0..3),
        json_value(),
    )
        .prop_map(|(name, datatype, shape, data)| {
            json!({"name": name, "datatype": datatype, "shape": shape, "data": data})
        });
    prop::collection::vec(input, 0..5).prop_map(|inputs| json!({ "inputs": inputs }))
}

fn check_refusal(result: Result<Outcome, ApiError>) {
    match result {
        Ok(outcome) => {
            serde_json::from_slice::<Value>(&outcome.body).unwrap();
        }
        Err(err) => assert!(
            err.kind.status().is_client_error()
                || err.kind.status() == StatusCode::SERVICE_UNAVAILABLE,
            "{err:?}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_json_bodies_are_answered_or_refused_never_a_panic(value in json_value()) {
        let model = penguins();
        let body = serde_json::to_vec(&value).unwrap();
        check_refusal(open_inference::infer(&model, &body, 1000));
        check_refusal(mlflow::invocations_json(&model, &body, 1000));
        for key in ["dataframe_split", "dataframe_records", "instances", "inputs"] {
            let wrapped = serde_json::to_vec(&json!({ key: value })).unwrap();
            check_refusal(mlflow::invocations_json(&model, &wrapped, 1000));
        }
    }

    #[test]
    fn random_inference_requests_are_answered_or_refused(request in v2_request()) {
        let body = serde_json::to_vec(&request).unwrap();
        check_refusal(open_inference::infer(&penguins(), &body, 1000));
    }

    #[test]
    fn random_bytes_and_csv_bodies_are_answered_or_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        cells in prop::collection::vec(prop::sample::select(vec![
            "island", "sex", "bill_length_mm", "flipper_length_mm", "Dream", "NA", "", "\"", "1e99",
            "12", ",", ";", "\n", "\r\n", "\t", "é", "\u{feff}",
        ]), 0..40),
    ) {
        let model = penguins();
        check_refusal(open_inference::infer(&model, &bytes, 1000));
        check_refusal(mlflow::invocations_json(&model, &bytes, 1000));
        check_refusal(mlflow::invocations_csv(&model, &bytes, 1000));
        let csv = format!("island,bill_length_mm,flipper_length_mm,sex\n{}", cells.concat());
        check_refusal(mlflow::invocations_csv(&model, csv.as_bytes(), 1000));
    }
}

#[test]
fn python_s_bare_nan_is_a_missing_value_and_infinity_is_refused_with_where_it_is() {
    // json.dumps writes float('nan') bare; MLflow's Python server reads it, so does nerve.
    let value = parse_json(br#"{"a": [NaN, 1, "NaN", "x\"NaN"], "NaN": NaN}"#).unwrap();
    assert_eq!(value, json!({"a": [null, 1, "NaN", "x\"NaN"], "NaN": null}));
    for (body, token) in [
        ("{\"instances\": [[1,\n 2, Infinity]]}", "Infinity"),
        (r#"{"instances": [[-Infinity, NaN]]}"#, "-Infinity"),
    ] {
        let err = parse_json(body.as_bytes()).unwrap_err();
        assert!(err.error.contains(&format!("`{token}`")), "{body}: {err:?}");
        assert!(err.error.contains("send null"), "{err:?}");
        assert!(
            err.field.as_deref().unwrap().starts_with("line "),
            "{err:?}"
        );
    }
    let err = parse_json(br#"{"x": "Infinity", "y": }"#).unwrap_err();
    assert!(!err.error.contains("`Infinity`"), "{err:?}");
    let penguins = penguins();
    let body = br#"{"dataframe_records": [{"island": "Dream", "bill_length_mm": NaN, "flipper_length_mm": 184, "sex": NaN}]}"#;
    let answer = mlflow::invocations_json(&penguins, body, 10).unwrap();
    let answer: Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(
        answer["warnings"].to_string().contains("`bill_length_mm`"),
        "{answer}"
    );
}

#[test]
fn answers_are_strict_json_even_for_non_finite_floats() {
    let body = to_json(&[f32::NAN, f32::INFINITY, 0.5]).unwrap();
    assert_eq!(body, b"[null,null,0.5]");
}
