//! Writing checkpoints as a run goes: [`RunObserver`].

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nerve_data::Preprocessor;
use nerve_model::Mlp;
use nerve_train::{Checkpoint, EpochReport, Observer, TrainPlan};
use serde_json::{Map, json};

use super::{FOLDER, FORMAT, FileDigest, MANIFEST, Manifest};
use crate::progress::Progress;
use crate::run_dir::{RunDir, history_jsonl, write_atomically};

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
    /// [`nerve_run::RunConfig::checkpoint_hash`], `data_sha256` [`data_hash`](super::data_hash);
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
        contents.push(("history.jsonl", history_jsonl(checkpoint.history)?));
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
        nerve_model::sync_folder(folder);
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

/// Removes the epoch folders in `dir` other than `keep`: earlier checkpoints and a killed
/// writer's half-written one. Nothing here is worth failing a run for.
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
        self.progress.on_start(plan);
    }

    fn on_step(&mut self, epoch: usize, step: usize) {
        self.progress.on_step(epoch, step);
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        self.progress.on_epoch(report);
    }

    fn on_checkpoint(&mut self, checkpoint: &Checkpoint<'_>) -> bool {
        if self.every == 0 || self.error.is_some() {
            return true;
        }
        // The epoch a run ends at (its limit, early stopping, Ctrl-C) is always checkpointed,
        // whatever the interval: `--resume` must continue from where the run stopped.
        let due = checkpoint.epoch.is_multiple_of(self.every);
        let recent = self.last_write.is_some_and(|t| t.elapsed() < MIN_INTERVAL);
        if !checkpoint.last && (!due || recent) {
            return true;
        }
        self.last_write = Some(std::time::Instant::now());
        match self.write(checkpoint) {
            Ok(()) => true,
            Err(err) => {
                // The run stops while its model and history can still be saved.
                tracing::warn!("checkpoint not written, stopping: {err:#}");
                self.error = Some((checkpoint.epoch, err));
                false
            }
        }
    }

    fn should_stop(&mut self) -> bool {
        self.progress.should_stop()
    }
}
