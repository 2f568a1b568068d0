//! Shared helpers for nerve's workspace tests: the PyTorch fixtures, tensors built from them,
//! tolerant float comparison, and the list of backends every test runs on.
//!
//! The fixtures in `tests/fixtures/parity.json` come from PyTorch (float64, autograd,
//! `torch.optim`); `tests/fixtures/fixtures.py` is the script that wrote them.

// Test helpers fail loudly: a malformed fixture is a broken test, not user input.
#![allow(clippy::unwrap_used)]

use burn::prelude::{Device, Int, Tensor, TensorData};
use nerve_backend::BackendKind;
use serde_json::Value;

/// A file of the repository, by its path from the root. The root is found from cargo's
/// `CARGO_MANIFEST_DIR` at run time: a test binary built from another checkout that shares the
/// target folder (CI's, say) would otherwise read that checkout's files, or none.
pub fn repo_path(path: &str) -> std::path::PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    std::path::Path::new(&manifest).join("..").join(path)
}

/// The PyTorch parity fixtures.
pub fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/parity.json")).unwrap()
}

/// One case of the fixtures (`mse`, `cross_entropy`, `mlp`, ...).
pub fn case(name: &str) -> Value {
    fixtures()["cases"][name].clone()
}

/// The shape of an encoded tensor.
pub fn shape(encoded: &Value) -> Vec<usize> {
    encoded["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// The float64 values of an encoded tensor (inputs are exact in float32 too).
pub fn values(encoded: &Value) -> Vec<f64> {
    let key = if encoded.get("f64").is_some() {
        "f64"
    } else {
        "i64"
    };
    encoded[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// An encoded tensor of rank `D` on `device`, as float32.
pub fn tensor<const D: usize>(encoded: &Value, device: &Device) -> Tensor<D> {
    let data: Vec<f32> = values(encoded).into_iter().map(|v| v as f32).collect();
    Tensor::from_data(TensorData::new(data, shape(encoded)), device)
}

/// An encoded integer tensor as a `[n]` int tensor.
pub fn int_tensor(encoded: &Value, device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = values(encoded).into_iter().map(|v| v as i64).collect();
    let n = data.len();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

/// The values of any float tensor, widened to f64.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Asserts `|actual - expected| <= atol + rtol·|expected|` element-wise, naming the first
/// element that is off.
#[track_caller]
pub fn assert_close(what: &str, actual: &[f64], expected: &[f64], atol: f64, rtol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let ok = (a - e).abs() <= atol + rtol * e.abs();
        assert!(
            ok,
            "{what}[{i}]: got {a}, expected {e} (atol {atol}, rtol {rtol})"
        );
    }
}

/// The float32 tolerance the fixtures suggest: atol 1e-5 + rtol 1e-5 (PyTorch's own float32
/// error on these cases is below 1e-6).
pub const ATOL: f64 = 1e-5;
/// See [`ATOL`].
pub const RTOL: f64 = 1e-5;

/// Every backend compiled into the tests; there must be at least one.
pub fn backends() -> Vec<BackendKind> {
    let kinds = BackendKind::available();
    assert!(!kinds.is_empty(), "no backend compiled in");
    kinds
}

/// Builds `config`'s network with the backend generator seeded to `seed`.
///
/// flex and ndarray keep one process-wide generator, and parameters are drawn lazily on first
/// use, so tests running in parallel threads would interleave their draws. This holds a lock
/// from seeding until every parameter is drawn (one forward pass), which makes the weights a
/// function of the seed alone.
pub fn init_seeded(
    config: &nerve_model::MlpConfig,
    device: &Device,
    seed: u64,
) -> nerve_model::Mlp {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    nerve_backend::seed(device, seed);
    let mlp = config.init(device);
    let _ = mlp.forward(Tensor::zeros([1, config.d_input], device));
    mlp
}
