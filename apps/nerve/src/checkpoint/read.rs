//! Reading a checkpoint back for `--resume`: [`open`] verifies, [`Verified::load`] loads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use nerve_data::Preprocessor;
use nerve_model::{Mlp, MlpConfig};
use nerve_train::{EpochReport, Resume};

use super::{FOLDER, FORMAT, FileDigest, MANIFEST, Manifest};

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
/// [`nerve_run::RunConfig::checkpoint_hash`] is `config_sha256`.
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

    /// Loads the checkpoint after checking that it was trained on the rows whose [`data_hash`](super::data_hash)
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
