//! Fuzz target `model_file`: see `fuzz/targets.rs`.
#![no_main]
// apps/nerve's modules, compiled here for the parts the target reaches.
#![allow(dead_code, unreachable_pub)]

#[path = "../../apps/nerve/src/builtin.rs"]
mod builtin;
#[path = "../../apps/nerve/src/run_config.rs"]
mod run_config;
#[path = "../../apps/nerve/src/saved_model.rs"]
mod saved_model;
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::model_file(data);
});
