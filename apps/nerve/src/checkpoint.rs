//! Checkpoints in a run folder, for `nerve train --resume`: `checkpoint/model.safetensors`
//! (the weights with their parameter ids), `checkpoint/optimizer.bpk` (burn's optimizer record),
//! `checkpoint/best.safetensors` (with early stopping), `checkpoint/history.jsonl` and, written
//! last, `checkpoint/state.json`. The shuffle, the schedule and dropout replay from the history
//! and the seed, so nothing else is needed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use nerve_model::{Mlp, MlpConfig};
use nerve_train::{Checkpoint, EpochReport, Observer, Resume, TrainPlan};
use serde_json::{Map, Value, json};

use crate::progress::Progress;
use crate::run_dir::write_atomically;

/// Forwards progress to the display and writes a checkpoint every `every` epochs — but not
/// more than once a second, except at the last epoch and on Ctrl-C, so that fast epochs are not
/// slowed down by disk writes.
pub(crate) struct RunObserver {
    progress: Progress,
    dir: PathBuf,
    every: usize,
    num_epochs: usize,
    last_write: Option<std::time::Instant>,
    best_written: Option<usize>,
    error: Option<anyhow::Error>,
}

/// The least time between two checkpoints.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl RunObserver {
    /// Checkpoints go to `run_dir/checkpoint`.
    pub(crate) fn new(progress: Progress, run_dir: &Path, every: usize) -> Self {
        Self {
            progress,
            dir: run_dir.join("checkpoint"),
            every,
            num_epochs: 0,
            last_write: None,
            best_written: None,
            error: None,
        }
    }

    /// Ends the display; reports a checkpoint that could not be written.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.progress.finish();
        match self.error.take() {
            Some(err) => Err(err.context("cannot write the checkpoint")),
            None => Ok(()),
        }
    }

    fn write(&mut self, checkpoint: &Checkpoint<'_>) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let weights = |model: &Mlp, epoch: usize| -> Result<Vec<u8>> {
            let mut extra = Map::new();
            extra.insert("param_ids".into(), json!(model.param_ids()));
            extra.insert("epoch".into(), json!(epoch));
            Ok(model.to_safetensors(&extra)?)
        };
        write_atomically(
            &self.dir.join("model.safetensors"),
            &weights(checkpoint.model, checkpoint.epoch)?,
        )?;
        let optimizer = checkpoint
            .optimizer
            .into_bytes()
            .map_err(|err| anyhow::anyhow!("cannot serialize the optimizer's state: {err}"))?;
        write_atomically(&self.dir.join("optimizer.bpk"), &optimizer)?;
        if let Some((epoch, model)) = checkpoint.best
            && self.best_written != Some(epoch)
        {
            write_atomically(&self.dir.join("best.safetensors"), &weights(model, epoch)?)?;
            self.best_written = Some(epoch);
        }
        let mut history = Vec::new();
        for report in checkpoint.history {
            serde_json::to_writer(&mut history, report)?;
            history.push(b'\n');
        }
        write_atomically(&self.dir.join("history.jsonl"), &history)?;
        let state = json!({
            "epoch": checkpoint.epoch,
            "best_epoch": checkpoint.best.map(|(epoch, _)| epoch),
        });
        write_atomically(&self.dir.join("state.json"), state.to_string().as_bytes())
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
        if self.every == 0 || !checkpoint.epoch.is_multiple_of(self.every) || self.error.is_some() {
            return;
        }
        let recent = self.last_write.is_some_and(|t| t.elapsed() < MIN_INTERVAL);
        let last = checkpoint.epoch == self.num_epochs || crate::progress::interrupted();
        if recent && !last {
            return;
        }
        self.last_write = Some(std::time::Instant::now());
        if let Err(err) = self.write(checkpoint) {
            tracing::warn!("checkpoint not written: {err:#}");
            self.error = Some(err);
        }
    }

    fn should_stop(&mut self) -> bool {
        self.progress.should_stop()
    }
}

/// Reads the checkpoint of `run_dir`: the weights (on `device`, with their parameter ids) and
/// what [`nerve_train::Trainer::resume`] needs.
pub(crate) fn load(
    run_dir: &Path,
    architecture: &MlpConfig,
    device: &Device,
) -> Result<(Mlp, Resume)> {
    let dir = run_dir.join("checkpoint");
    let state_path = dir.join("state.json");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).with_context(|| {
            format!(
                "{} has no checkpoint to resume from ({} is missing)",
                run_dir.display(),
                state_path.display()
            )
        })?)
        .with_context(|| format!("{} is not valid JSON", state_path.display()))?;
    let epoch = state["epoch"]
        .as_u64()
        .with_context(|| format!("{}: no `epoch`", state_path.display()))? as usize;
    let weights = |name: &str| -> Result<Mlp> {
        let path = dir.join(name);
        let (model, info) = Mlp::load_file(&path, device)?;
        if info.architecture != *architecture {
            bail!(
                "{}: the checkpoint's network differs from the run's config; was config.toml edited?",
                path.display()
            );
        }
        let ids: Vec<u64> =
            serde_json::from_value(info.extra.get("param_ids").cloned().unwrap_or_default())
                .with_context(|| format!("{}: no parameter ids", path.display()))?;
        Ok(model.with_param_ids(&ids)?)
    };
    let model = weights("model.safetensors")?;
    let optimizer = std::fs::read(dir.join("optimizer.bpk"))
        .with_context(|| format!("cannot read {}", dir.join("optimizer.bpk").display()))?;
    let history_path = dir.join("history.jsonl");
    let history: Vec<EpochReport> = std::fs::read_to_string(&history_path)
        .with_context(|| format!("cannot read {}", history_path.display()))?
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}, line {}", history_path.display(), i + 1))
        })
        .collect::<Result<_>>()?;
    if history.len() != epoch {
        bail!(
            "{}: the history has {} epochs but the checkpoint is of epoch {epoch}",
            dir.display(),
            history.len()
        );
    }
    let best = match state["best_epoch"].as_u64() {
        Some(best) => Some((best as usize, weights("best.safetensors")?)),
        None => None,
    };
    Ok((
        model,
        Resume {
            optimizer,
            history,
            best,
        },
    ))
}
