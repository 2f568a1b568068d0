//! The `reading` test binary: Reading tables: real-world CSVs, the bad-file corpus, column meanings, odd inputs and extremes.
//! One binary per area (as uv's `tests/it/main.rs`), so burn is linked a few times, not once
//! per file; each module is one file's tests.

#[path = "../common/mod.rs"]
mod common;

mod column_meaning;
mod data_files;
mod extremes;
mod inputs;
mod real_world_csv;
