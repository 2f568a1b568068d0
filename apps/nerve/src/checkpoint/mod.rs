//! Checkpoints in a run folder, for `nerve train --resume`, atomic as a whole.
//!
//! A checkpoint is a folder `checkpoint/epoch-NNNNNN/` holding `model.safetensors` (the weights
//! with their parameter ids), `optimizer.bpk` (burn's optimizer record), `history.jsonl` and,
//! with early stopping, `best.safetensors`. Its files are written and synced first; then
//! `checkpoint/manifest.json` — the run id, the hashes of the config and of the training rows,
//! the epoch, each file's size and SHA-256, and its own SHA-256 — replaces the previous
//! manifest with one rename, and only then are older epoch folders removed. A kill at any moment leaves the manifest naming a complete checkpoint (the
//! previous one until the rename), and `--resume` verifies every file against it. The shuffle,
//! the schedule and dropout replay from the history and the seed, so nothing else is needed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

mod read;
mod write;

pub(crate) use read::{Loaded, open};
pub(crate) use write::{CheckpointFailure, RunObserver};

/// The checkpoint folder's name in a run folder.
pub(crate) const FOLDER: &str = "checkpoint";

/// The manifest's name in the checkpoint folder.
const MANIFEST: &str = "manifest.json";

/// The manifest layout this nerve writes and reads.
const FORMAT: u32 = 1;

/// `checkpoint/manifest.json`: which epoch folder is the checkpoint, and what it must hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// [`FORMAT`].
    format: u32,
    /// The run it belongs to (the run folder's `run.json`).
    run_id: String,
    /// [`nerve_run::RunConfig::checkpoint_hash`] of the config it was written under.
    config_sha256: String,
    /// [`data_hash`] of the rows it was trained on.
    data_sha256: String,
    /// The epochs completed.
    epoch: usize,
    /// With early stopping: the best epoch so far (its weights are `best.safetensors`).
    best_epoch: Option<usize>,
    /// The epoch folder, inside the checkpoint folder.
    folder: String,
    /// Every file of the epoch folder, by name.
    files: BTreeMap<String, FileDigest>,
    /// The SHA-256 of this manifest written with this field empty: a hand edit shows.
    sha256: String,
}

impl Manifest {
    /// [`Manifest::sha256`] as it should be.
    fn own_digest(&self) -> Result<String> {
        let mut blank = self.clone();
        blank.sha256.clear();
        Ok(format!("{:x}", Sha256::digest(serde_json::to_vec(&blank)?)))
    }
}

/// The SHA-256 of the rows a run trains on — the training and validation features, targets and
/// row weights,
/// as the network sees them — so that `--resume` refuses a data file changed since.
pub(crate) fn data_hash(parts: &[&nerve_data::Dataset]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update((part.d_input() as u64).to_le_bytes());
        for value in part.features().iter().chain(part.targets()) {
            hasher.update(value.to_le_bytes());
        }
        // Row weights change what the rows teach as much as their values do. Unweighted rows
        // hash as before, so checkpoints written before weights existed still verify.
        if let Some(weights) = part.weights() {
            hasher.update(b"weights");
            for value in weights {
                hasher.update(value.to_le_bytes());
            }
        }
    }
    format!("{:x}", hasher.finalize())
}

/// A file's size and SHA-256, as the manifest records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDigest {
    bytes: u64,
    sha256: String,
}

impl FileDigest {
    fn of(bytes: &[u8]) -> FileDigest {
        FileDigest {
            bytes: bytes.len() as u64,
            sha256: format!("{:x}", Sha256::digest(bytes)),
        }
    }
}

/// Removes `run_dir`'s checkpoint, its manifest first, so a kill midway leaves none rather
/// than a damaged one. Nothing here is worth failing for.
pub(crate) fn remove(run_dir: &Path) {
    let dir = run_dir.join(FOLDER);
    let _ = std::fs::remove_file(dir.join(MANIFEST));
    let _ = std::fs::remove_dir_all(&dir);
}
