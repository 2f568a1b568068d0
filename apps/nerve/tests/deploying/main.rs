//! The `deploying` test binary: Models leaving nerve: ONNX export and `nerve serve` over loopback.
//! One binary per area (as uv's `tests/it/main.rs`), so burn is linked a few times, not once
//! per file; each module is one file's tests.

#[path = "../common/mod.rs"]
mod common;

mod onnx_export;
mod serving;
