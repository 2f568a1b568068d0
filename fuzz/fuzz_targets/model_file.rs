//! Fuzz target `model_file`: see `fuzz/targets.rs`.
#![no_main]
// The target bodies are shared with apps/nerve's tests, where some go unused.
#![allow(dead_code, unreachable_pub)]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::model_file(data);
});
