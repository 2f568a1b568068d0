//! The `training` test binary: Training and using models from the command line: the CLI, its help and flags, class imbalance, spiking networks, explanations, faults, model files, the library and the guide's examples.
//! One binary per area (as uv's `tests/it/main.rs`), so burn is linked a few times, not once
//! per file; each module is one file's tests.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod docs;
mod explainability;
mod faults;
mod help_and_flags;
mod imbalance;
mod library;
mod model_files;
mod spiking;
