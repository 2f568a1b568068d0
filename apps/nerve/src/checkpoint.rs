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
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use nerve_data::Preprocessor;
use nerve_model::{Mlp, MlpConfig};
use nerve_train::{Checkpoint, EpochReport, Observer, Resume, TrainPlan};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};
use sha2::{Digest as _, Sha256};

use crate::progress::Progress;
use crate::run_dir::{RunDir, sync_folder, write_atomically};

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
    /// [`crate::run_config::RunConfig::checkpoint_hash`] of the config it was written under.
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

/// The SHA-256 of the rows a run trains on — the training and validation features and targets,
/// as the network sees them — so that `--resume` refuses a data file changed since.
pub(crate) fn data_hash(parts: &[&nerve_data::Dataset]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update((part.d_input() as u64).to_le_bytes());
        for value in part.features().iter().chain(part.targets()) {
            hasher.update(value.to_le_bytes());
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

/// Forwards progress to the display and writes a checkpoint every `every` epochs — but not
/// more than once a second, except at the last epoch and on Ctrl-C, so that fast epochs are not
/// slowed down by disk writes. A checkpoint that cannot be written stops the run after that
/// epoch (see [`RunObserver::finish`]).
pub(crate) struct RunObserver {
    progress: Progress,
    dir: PathBuf,
    run_id: String,
    config_sha256: String,
    data_sha256: String,
    /// The run's preprocessing, as JSON, stored with the weights.
    preprocessing: serde_json::Value,
    every: usize,
    num_epochs: usize,
    last_write: Option<std::time::Instant>,
    /// The epoch of the newest checkpoint written (or resumed from).
    written: Option<usize>,
    error: Option<(usize, anyhow::Error)>,
}

/// The least time between two checkpoints.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl RunObserver {
    /// Checkpoints go to `run_dir/checkpoint`, made now (when `every > 0`) so that a folder
    /// that cannot hold one is reported before training. `config_sha256` is
    /// [`crate::run_config::RunConfig::checkpoint_hash`], `data_sha256` [`data_hash`];
    /// `preprocessor` is stored with the weights (a resumed run transforms its rows with it);
    /// `resumed_from` the epoch of the checkpoint a `--resume` started from.
    pub(crate) fn new(
        progress: Progress,
        run_dir: &RunDir,
        config_sha256: String,
        data_sha256: String,
        preprocessor: &Preprocessor,
        every: usize,
        resumed_from: Option<usize>,
    ) -> Result<Self> {
        let dir = run_dir.path().join(FOLDER);
        if every > 0 {
            std::fs::create_dir_all(&dir).with_context(|| {
                format!("cannot create the checkpoint folder {}", dir.display())
            })?;
        }
        Ok(Self {
            progress,
            dir,
            run_id: run_dir.run_id().to_owned(),
            config_sha256,
            data_sha256,
            preprocessing: serde_json::to_value(preprocessor)?,
            every,
            num_epochs: 0,
            last_write: None,
            written: resumed_from,
            error: None,
        })
    }

    /// The epoch of the newest checkpoint in the folder (written, or resumed from).
    pub(crate) fn last_checkpoint(&self) -> Option<usize> {
        self.written
    }

    /// Ends the display. Returns the checkpoint failure that stopped the run, if any: its
    /// epoch, the epoch of the last checkpoint written, and why.
    pub(crate) fn finish(&mut self) -> Option<CheckpointFailure> {
        self.progress.finish();
        self.error.take().map(|(epoch, error)| CheckpointFailure {
            epoch,
            last_written: self.written,
            error,
        })
    }

    fn write(&mut self, checkpoint: &Checkpoint<'_>) -> Result<()> {
        let name = format!("epoch-{:06}", checkpoint.epoch);
        if self.written == Some(checkpoint.epoch) {
            return Ok(());
        }
        let folder = self.dir.join(&name);
        // A folder of this name is a kill's leftover (the manifest never named it).
        if folder.exists() {
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("cannot remove {}", folder.display()))?;
        }
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let written = self.write_files(checkpoint, &folder);
        let files = match written {
            Ok(files) => files,
            Err(err) => {
                // Frees the space a full disk needs for the model and history.
                let _ = std::fs::remove_dir_all(&folder);
                return Err(err);
            }
        };
        let mut manifest = Manifest {
            format: FORMAT,
            run_id: self.run_id.clone(),
            config_sha256: self.config_sha256.clone(),
            data_sha256: self.data_sha256.clone(),
            epoch: checkpoint.epoch,
            best_epoch: checkpoint.best.map(|(epoch, _)| epoch),
            folder: name.clone(),
            files,
            sha256: String::new(),
        };
        manifest.sha256 = manifest.own_digest()?;
        let mut text = serde_json::to_vec_pretty(&manifest)?;
        text.push(b'\n');
        if let Err(err) = write_atomically(&self.dir.join(MANIFEST), &text) {
            let _ = std::fs::remove_dir_all(&folder);
            return Err(err);
        }
        self.written = Some(checkpoint.epoch);
        remove_other_epochs(&self.dir, &name);
        Ok(())
    }

    /// Writes and syncs the checkpoint's files into `folder`; returns their digests.
    fn write_files(
        &self,
        checkpoint: &Checkpoint<'_>,
        folder: &Path,
    ) -> Result<BTreeMap<String, FileDigest>> {
        let weights = |model: &Mlp, epoch: usize| -> Result<Vec<u8>> {
            let mut extra = Map::new();
            extra.insert("param_ids".into(), json!(model.param_ids()));
            extra.insert("epoch".into(), json!(epoch));
            extra.insert("preprocessing".into(), self.preprocessing.clone());
            Ok(model.to_safetensors(&extra)?)
        };
        let mut contents: Vec<(&str, Vec<u8>)> = vec![
            (
                "model.safetensors",
                weights(checkpoint.model, checkpoint.epoch)?,
            ),
            (
                "optimizer.bpk",
                checkpoint
                    .optimizer
                    .into_bytes()
                    .map_err(|err| {
                        anyhow::anyhow!("cannot serialize the optimizer's state: {err}")
                    })?
                    .to_vec(),
            ),
        ];
        if let Some((epoch, model)) = checkpoint.best {
            contents.push(("best.safetensors", weights(model, epoch)?));
        }
        let mut history = Vec::new();
        for report in checkpoint.history {
            serde_json::to_writer(&mut history, report)?;
            history.push(b'\n');
        }
        contents.push(("history.jsonl", history));
        let mut files = BTreeMap::new();
        for (name, bytes) in contents {
            let path = folder.join(name);
            let write = || -> std::io::Result<()> {
                let mut file = std::fs::File::create(&path)?;
                file.write_all(&bytes)?;
                file.sync_all()
            };
            write().with_context(|| format!("cannot write {}", path.display()))?;
            files.insert(name.to_owned(), FileDigest::of(&bytes));
        }
        sync_folder(folder);
        Ok(files)
    }
}

/// A checkpoint that could not be written, which stopped the run.
pub(crate) struct CheckpointFailure {
    /// The epoch whose checkpoint failed (the run stopped after it).
    pub epoch: usize,
    /// The epoch of the last checkpoint written, which `--resume` continues from.
    pub last_written: Option<usize>,
    /// Why.
    pub error: anyhow::Error,
}

impl CheckpointFailure {
    /// The error a run that stopped on this failure ends with, in `run_dir`, after `epochs`
    /// epochs, when saving its results failed too (`saving`) or not.
    pub(crate) fn report(
        self,
        run_dir: &Path,
        epochs: usize,
        saving: Option<anyhow::Error>,
    ) -> anyhow::Error {
        let kept = match saving {
            None => format!(
                "the run folder {} holds the model and history of epoch {epochs}",
                run_dir.display()
            ),
            Some(err) => format!("saving its results failed too ({err:#})"),
        };
        let resume = match self.last_written {
            Some(epoch) => format!(
                "`nerve train --resume {}` continues from the checkpoint of epoch {epoch}",
                run_dir.display()
            ),
            None => "no checkpoint was written".to_owned(),
        };
        self.error.context(format!(
            "cannot write the checkpoint of epoch {}, so the run stopped there; {kept}; {resume}",
            self.epoch
        ))
    }
}

/// Removes the epoch folders (and temporaries) in `dir` other than `keep`: earlier checkpoints
/// and a killed writer's leftovers. Nothing here is worth failing a run for.
fn remove_other_epochs(dir: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("epoch-") && name != keep {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Observer for RunObserver {
    fn on_start(&mut self, plan: &TrainPlan) {
        self.num_epochs = plan.num_epochs;
        self.progress.on_start(plan);
    }

    fn on_step(&mut self, epoch: usize, step: usize) {
        self.progress.on_step(epoch, step);
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        self.progress.on_epoch(report);
    }

    fn on_checkpoint(&mut self, checkpoint: &Checkpoint<'_>) {
        if self.every == 0 || self.error.is_some() {
            return;
        }
        // The last epoch and an interrupted one are always checkpointed, whatever the
        // interval: `--resume` must continue from where the run stopped.
        let last = checkpoint.epoch == self.num_epochs || crate::progress::interrupted();
        let due = checkpoint.epoch.is_multiple_of(self.every);
        let recent = self.last_write.is_some_and(|t| t.elapsed() < MIN_INTERVAL);
        if !last && (!due || recent) {
            return;
        }
        self.last_write = Some(std::time::Instant::now());
        if let Err(err) = self.write(checkpoint) {
            tracing::warn!("checkpoint not written, stopping: {err:#}");
            self.error = Some((checkpoint.epoch, err));
        }
    }

    fn should_stop(&mut self) -> bool {
        // A run that cannot checkpoint stops while its model and history can still be saved,
        // rather than training on with nothing to resume from.
        self.error.is_some() || self.progress.should_stop()
    }
}

/// Removes `run_dir`'s checkpoint, its manifest first, so a kill midway leaves none rather
/// than a damaged one. Nothing here is worth failing for.
pub(crate) fn remove(run_dir: &Path) {
    let dir = run_dir.join(FOLDER);
    let _ = std::fs::remove_file(dir.join(MANIFEST));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A checkpoint whose files are verified (see [`open`]), held in memory, not yet loaded.
pub(crate) struct Verified {
    manifest: Manifest,
    manifest_path: PathBuf,
    folder: PathBuf,
    contents: BTreeMap<String, (PathBuf, Vec<u8>)>,
    preprocessor: Preprocessor,
}

/// Reads the checkpoint of `run_dir` and verifies that it is complete (exactly the files it
/// should hold, each the size and SHA-256 its manifest records, the manifest its own),
/// belongs to the run `run_id`, and was written under the config whose
/// [`crate::run_config::RunConfig::checkpoint_hash`] is `config_sha256`.
///
/// # Errors
/// No checkpoint, an older layout, another run's or config's checkpoint, a damaged file — each
/// named with its path.
pub(crate) fn open(run_dir: &Path, run_id: &str, config_sha256: &str) -> Result<Verified> {
    let dir = run_dir.join(FOLDER);
    let manifest_path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if dir.join("state.json").exists() {
                bail!(
                    "{}: this checkpoint was written by an older nerve, without the manifest that proves it complete; start a new run (or train from {} with --init)",
                    dir.display(),
                    run_dir.join("model.safetensors").display()
                );
            }
            bail!(
                "{} has no checkpoint to resume from ({} is missing: the run wrote none, with --checkpoint-every 0 or before its first)",
                run_dir.display(),
                manifest_path.display()
            );
        }
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", manifest_path.display()));
        }
    };
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a checkpoint manifest", manifest_path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{}: checkpoint format {} is not one this nerve reads ({FORMAT})",
            manifest_path.display(),
            manifest.format
        );
    }
    if manifest.sha256 != manifest.own_digest()? {
        bail!(
            "{}: the manifest was edited or damaged (its SHA-256 does not match); the checkpoint cannot be trusted",
            manifest_path.display()
        );
    }
    if manifest.run_id != run_id {
        bail!(
            "{}: the checkpoint belongs to another run (run id {}, but {} is run {run_id}); it was copied here from elsewhere",
            manifest_path.display(),
            manifest.run_id,
            run_dir.display()
        );
    }
    if manifest.config_sha256 != config_sha256 {
        bail!(
            "{}: the checkpoint was written under another config than {}'s (was it edited?); resuming would mix two configurations. Start a new run",
            manifest_path.display(),
            run_dir.join("config.toml").display()
        );
    }
    let folder_name = Path::new(&manifest.folder);
    if folder_name.components().count() != 1 || !manifest.folder.starts_with("epoch-") {
        bail!(
            "{}: `folder` must name an epoch folder, not {:?}",
            manifest_path.display(),
            manifest.folder
        );
    }
    let folder = dir.join(folder_name);
    let mut required = vec!["model.safetensors", "optimizer.bpk", "history.jsonl"];
    if manifest.best_epoch.is_some() {
        required.push("best.safetensors");
    }
    let listed: Vec<&str> = manifest.files.keys().map(String::as_str).collect();
    required.sort_unstable();
    if listed != required {
        bail!(
            "{}: the checkpoint should hold {} but its manifest lists {}",
            manifest_path.display(),
            required.join(", "),
            listed.join(", ")
        );
    }
    let mut contents = BTreeMap::new();
    for (name, expected) in &manifest.files {
        let path = folder.join(name);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "the checkpoint is incomplete: cannot read {} (its manifest lists it)",
                path.display()
            )
        })?;
        let found = FileDigest::of(&bytes);
        if &found != expected {
            bail!(
                "the checkpoint is damaged: {} has {} bytes with SHA-256 {}, but its manifest says {} bytes with {}",
                path.display(),
                found.bytes,
                found.sha256,
                expected.bytes,
                expected.sha256
            );
        }
        contents.insert(name.clone(), (path, bytes));
    }
    let (model_path, model_bytes) = &contents["model.safetensors"];
    let info = nerve_model::read_info(model_bytes, &model_path.display().to_string())?;
    let preprocessor: Preprocessor = info
        .extra
        .get("preprocessing")
        .cloned()
        .map(serde_json::from_value)
        .transpose()?
        .with_context(|| format!("{}: no preprocessing", model_path.display()))?;
    Ok(Verified {
        manifest,
        manifest_path,
        folder,
        contents,
        preprocessor,
    })
}

/// A checkpoint loaded: the weights (on the device, with their parameter ids), what
/// [`nerve_train::Trainer::resume`] needs, and its epoch.
pub(crate) struct Loaded {
    pub model: Mlp,
    pub resume: Resume,
    pub epoch: usize,
}

impl Verified {
    /// The preprocessing the checkpoint's run fitted (or took from `--init`): a resumed run
    /// transforms its rows with it, so they are the rows it trained on.
    pub(crate) fn preprocessor(&self) -> &Preprocessor {
        &self.preprocessor
    }

    /// The epoch the checkpoint is of.
    pub(crate) fn epoch(&self) -> usize {
        self.manifest.epoch
    }

    /// Loads the checkpoint after checking that it was trained on the rows whose [`data_hash`]
    /// is `data_sha256` and holds `architecture`'s network at the epochs its manifest names.
    ///
    /// # Errors
    /// Other rows, another network, weights of another epoch, an unreadable history.
    pub(crate) fn load(
        self,
        data_sha256: &str,
        architecture: &MlpConfig,
        device: &Device,
    ) -> Result<Loaded> {
        let Verified {
            manifest,
            manifest_path,
            folder,
            contents,
            ..
        } = self;
        if manifest.data_sha256 != data_sha256 {
            bail!(
                "{}: the checkpoint was trained on other rows than the data now gives (was the data file changed?); resuming would mix two data sets. Start a new run",
                manifest_path.display()
            );
        }
        let weights = |name: &str, epoch: usize| -> Result<Mlp> {
            let (path, bytes) = &contents[name];
            let source = path.display().to_string();
            let (model, info) = Mlp::from_safetensors(bytes, &source, device)?;
            if info.architecture != *architecture {
                bail!("{source}: the checkpoint's network differs from the run's config");
            }
            if info.extra.get("epoch").and_then(serde_json::Value::as_u64) != Some(epoch as u64) {
                bail!("{source}: these weights are not of epoch {epoch}, as the manifest says");
            }
            let ids: Vec<u64> =
                serde_json::from_value(info.extra.get("param_ids").cloned().unwrap_or_default())
                    .with_context(|| format!("{source}: no parameter ids"))?;
            Ok(model.with_param_ids(&ids)?)
        };
        let model = weights("model.safetensors", manifest.epoch)?;
        let (history_path, history_bytes) = &contents["history.jsonl"];
        let history: Vec<EpochReport> = std::str::from_utf8(history_bytes)
            .with_context(|| format!("{} is not UTF-8", history_path.display()))?
            .lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .with_context(|| format!("{}, line {}", history_path.display(), i + 1))
            })
            .collect::<Result<_>>()?;
        if history.len() != manifest.epoch {
            bail!(
                "{}: the history has {} epochs but the checkpoint is of epoch {}",
                folder.display(),
                history.len(),
                manifest.epoch
            );
        }
        let best = match manifest.best_epoch {
            Some(best) if best <= manifest.epoch => {
                Some((best, weights("best.safetensors", best)?))
            }
            Some(best) => bail!(
                "{}: the best epoch {best} is after the checkpoint's epoch {}",
                manifest_path.display(),
                manifest.epoch
            ),
            None => None,
        };
        Ok(Loaded {
            model,
            resume: Resume {
                optimizer: contents["optimizer.bpk"].1.clone(),
                history,
                best,
            },
            epoch: manifest.epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a checkpoint folder whose manifest lists `files` (any bytes) with `best_epoch`,
    /// its digests and its own SHA-256 all correct, as a hand edit that recomputed them would.
    fn forged(dir: &Path, files: &[&str], best_epoch: Option<usize>) {
        let folder = dir.join(FOLDER).join("epoch-000002");
        std::fs::create_dir_all(&folder).unwrap_or_else(|err| panic!("{err}"));
        let mut digests = BTreeMap::new();
        for name in files {
            std::fs::write(folder.join(name), name.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            digests.insert((*name).to_owned(), FileDigest::of(name.as_bytes()));
        }
        let mut manifest = Manifest {
            format: FORMAT,
            run_id: "r".to_owned(),
            config_sha256: "c".to_owned(),
            data_sha256: "d".to_owned(),
            epoch: 2,
            best_epoch,
            folder: "epoch-000002".to_owned(),
            files: digests,
            sha256: String::new(),
        };
        manifest.sha256 = manifest.own_digest().unwrap_or_else(|err| panic!("{err}"));
        let text = serde_json::to_vec(&manifest).unwrap_or_else(|err| panic!("{err}"));
        std::fs::write(dir.join(FOLDER).join(MANIFEST), text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_manifest_must_list_exactly_the_files_its_epochs_need() {
        // Found by a review: `best_epoch` set to null (digest recomputed) while
        // best.safetensors was still listed resumed without the best weights.
        let dir = std::env::temp_dir().join(format!("nerve-manifest-{}", std::process::id()));
        let base = ["history.jsonl", "model.safetensors", "optimizer.bpk"];
        let with_best = [&base[..], &["best.safetensors"]].concat();
        for (files, best, listed) in [
            (&with_best[..], None, "best.safetensors, history.jsonl"),
            (
                &base[..],
                Some(1),
                "history.jsonl, model.safetensors, optimizer.bpk",
            ),
            (&base[..2], None, "history.jsonl, model.safetensors"),
        ] {
            let _ = std::fs::remove_dir_all(&dir);
            forged(&dir, files, best);
            let err = open(&dir, "r", "c").err().map(|err| format!("{err:#}"));
            let err = err.unwrap_or_else(|| panic!("{files:?} with best {best:?} was accepted"));
            assert!(
                err.contains("the checkpoint should hold") && err.contains(listed),
                "{err}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
