//! The `search` test binary: Cross-validation and search (`nerve cv`, `nerve tune`), and the search's faults.
//! One binary per area (as uv's `tests/it/main.rs`), so burn is linked a few times, not once
//! per file; each module is one file's tests.

#[path = "../common/mod.rs"]
mod common;

mod search_faults;
mod tuning;
