//! [`Search`]: what a search is, as `search.json` records it, and the stop file its trial
//! processes watch.

use serde::{Deserialize, Serialize};

/// What a search is: written once into its folder as `search.json`; a search run again with
/// the same of all this resumes, with any other is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Search {
    pub(super) metric: String,
    pub(super) greater_is_better: bool,
    pub(super) folds: usize,
    pub(super) repeats: usize,
    pub(super) search_seed: u64,
    /// Whether every point of a grid is tried (else random draws).
    pub(super) grid: bool,
    pub(super) trials: usize,
    /// The parameters' keys, in the space file's order.
    pub(super) keys: Vec<String>,
    /// Each parameter and its domain.
    pub(super) space: Vec<String>,
    /// The settings every trial starts from.
    pub(super) base: toml::Table,
}

/// The file a search creates, on its first Ctrl-C, for its trial and refit processes: to them,
/// a Ctrl-C of their own (see `progress::STOP_FILE_ENV`).
pub(super) const STOP_FILE: &str = ".nerve.stop";
