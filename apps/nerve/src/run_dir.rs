//! The run directory: `run.json`, `config.toml`, `history.csv`, `history.jsonl`,
//! `metrics.json`, each written atomically, in a folder one run holds locked.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use nerve_train::{EpochReport, PartMetrics, Scores};
use serde::{Deserialize, Serialize};

use crate::run_lock::RunLock;
use nerve_run::RunConfig;
use nerve_run::RunSummary;

/// A run's folder, locked by this process while the value lives.
pub(crate) struct RunDir {
    path: PathBuf,
    run_id: String,
    _lock: RunLock,
}

/// `run.json`: who a run folder belongs to. Its run id is also in each checkpoint's manifest,
/// so that `--resume` refuses a checkpoint that is not this run's.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunIdentity {
    /// Random, 16 hexadecimal digits.
    run_id: String,
    /// The nerve that started the run.
    nerve_version: String,
}

/// The run identity file's name.
pub(crate) const RUN_FILE: &str = "run.json";

impl RunDir {
    /// A new run's folder: `out` (locked by `lock`, taken on it beforehand) or, without one,
    /// `runs/<data>-<UTC timestamp>` (with a suffix if that exists), created and locked. An
    /// earlier run's files are removed with `overwrite` (else refused); the temporaries of
    /// killed writers are removed; `run.json` is written with a new run id.
    ///
    /// # Errors
    /// The folder cannot be created, locked or written: reported here, before any training.
    pub(crate) fn create(
        out: Option<(&Path, RunLock)>,
        data_name: &str,
        overwrite: bool,
    ) -> Result<RunDir> {
        let (path, mut lock) = match out {
            Some((out, lock)) => (out.to_path_buf(), lock),
            None => {
                let path = create_default(data_name)?;
                let lock = RunLock::acquire(&path)?;
                (path, lock)
            }
        };
        // Without `overwrite`, the caller has refused a folder holding an earlier run, under
        // the lock.
        if overwrite {
            remove_earlier_run(&path)?;
        }
        remove_stale_temporaries(&path);
        let identity = RunIdentity {
            run_id: format!("{:016x}", rand::random::<u64>()),
            nerve_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let mut text = serde_json::to_vec_pretty(&identity)?;
        text.push(b'\n');
        write_atomically(&path.join(RUN_FILE), &text)?;
        lock.keep_folder();
        Ok(RunDir {
            path,
            run_id: identity.run_id,
            _lock: lock,
        })
    }

    /// The folder of a run to continue (`--resume`), locked by `lock`.
    ///
    /// # Errors
    /// `run.json` is missing or is not one.
    pub(crate) fn reopen(path: &Path, mut lock: RunLock) -> Result<RunDir> {
        let run_id = read_run_id(path)?;
        remove_stale_temporaries(path);
        remove_stale_temporaries(&path.join(crate::checkpoint::FOLDER));
        lock.keep_folder();
        Ok(RunDir {
            path: path.to_path_buf(),
            run_id,
            _lock: lock,
        })
    }

    /// The run's id, as `run.json` records it.
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the fully resolved config, which repeats the run with `--config`.
    pub(crate) fn write_config(&self, config: &RunConfig) -> Result<()> {
        write_atomically(&self.path.join("config.toml"), config.to_toml()?.as_bytes())
    }

    /// Writes `history.csv` and `history.jsonl`, one row or object per epoch.
    /// With no epoch (a run that diverged in its first), `history.csv` still has its header,
    /// made for `task` and whether there is a `validation` part.
    pub(crate) fn write_history(
        &self,
        history: &[EpochReport],
        task: nerve_data::Task,
        validation: bool,
    ) -> Result<()> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let header: Vec<String> = match history.first() {
            Some(first) => history_row(first).into_iter().map(|(k, _)| k).collect(),
            None => history_header(task, validation),
        };
        csv.write_record(&header)?;
        for report in history {
            let row: Vec<String> = history_row(report)
                .into_iter()
                .map(|(_, v)| v.to_string())
                .collect();
            csv.write_record(&row)?;
        }
        let csv = csv.into_inner().context("cannot format history.csv")?;
        write_atomically(&self.path.join("history.csv"), &csv)?;
        write_atomically(&self.path.join("history.jsonl"), &history_jsonl(history)?)
    }

    /// Writes `metrics.json`.
    pub(crate) fn write_metrics(&self, summary: &RunSummary) -> Result<()> {
        write_atomically(&self.path.join("metrics.json"), &summary.to_bytes()?)
    }
}

/// Creates `runs/<data>-<YYYYMMDD-HHMMSS>` (UTC), or `-2`, `-3`, ... when taken. The folder is
/// claimed by `create_dir`, which fails if it exists, so two runs started in the same second
/// (two processes included) never share one.
fn create_default(data_name: &str) -> Result<PathBuf> {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter_map(|c| match c {
            'T' => Some('-'),
            c if c.is_ascii_digit() => Some(c),
            _ => None,
        })
        .collect();
    let name: String = data_name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let runs = Path::new("runs");
    std::fs::create_dir_all(runs)
        .with_context(|| format!("cannot create run folder {}", runs.display()))?;
    let base = runs.join(format!("{name}-{stamp}"));
    let mut path = base.clone();
    for n in 2.. {
        match std::fs::create_dir(&path) {
            Ok(()) => break,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                path = PathBuf::from(format!("{}-{n}", base.display()));
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot create run folder {}", path.display()));
            }
        }
    }
    Ok(path)
}

/// `history.jsonl`'s bytes (the run folder's and a checkpoint's): one JSON object per epoch.
pub(crate) fn history_jsonl(history: &[EpochReport]) -> Result<Vec<u8>> {
    let mut jsonl = Vec::new();
    for report in history {
        serde_json::to_writer(&mut jsonl, report)?;
        jsonl.push(b'\n');
    }
    Ok(jsonl)
}

/// The columns of one epoch: epoch, lr, the training then validation loss and metrics, the
/// gradient norm and the seconds since the start.
pub(crate) fn history_row(report: &EpochReport) -> Vec<(String, f64)> {
    let mut row = vec![
        ("epoch".to_owned(), report.epoch as f64),
        ("lr".to_owned(), report.lr),
    ];
    part_columns(&mut row, "train", &report.train);
    if let Some(validation) = &report.validation {
        part_columns(&mut row, "val", validation);
    }
    if let Some(auc) = report.validation_auc {
        row.push(("val_auc".to_owned(), auc));
    }
    row.push(("grad_norm".to_owned(), report.grad_norm));
    row.push(("seconds".to_owned(), report.elapsed.as_secs_f64()));
    row
}

/// The columns of `history.csv` for a task, as [`history_row`] names them.
fn history_header(task: nerve_data::Task, validation: bool) -> Vec<String> {
    let metrics: &[&str] = match task {
        nerve_data::Task::Classification => &["accuracy", "precision", "recall", "f1"],
        nerve_data::Task::Regression => &["mse", "rmse", "mae", "r2"],
    };
    let parts: &[&str] = if validation {
        &["train", "val"]
    } else {
        &["train"]
    };
    let mut header = vec!["epoch".to_owned(), "lr".to_owned()];
    for part in parts {
        header.push(format!("{part}_loss"));
        header.extend(metrics.iter().map(|m| format!("{part}_{m}")));
    }
    header.extend(["grad_norm".to_owned(), "seconds".to_owned()]);
    header
}

fn part_columns(row: &mut Vec<(String, f64)>, prefix: &str, part: &PartMetrics) {
    let mut push = |name: &str, value: f64| row.push((format!("{prefix}_{name}"), value));
    push("loss", part.loss);
    match &part.scores {
        Scores::Classification(m) => {
            push("accuracy", m.accuracy);
            push("precision", m.precision_macro);
            push("recall", m.recall_macro);
            push("f1", m.f1_macro);
        }
        Scores::Regression(m) => {
            push("mse", m.mse);
            push("rmse", m.rmse);
            push("mae", m.mae);
            push("r2", m.r2);
        }
    }
}

/// [`nerve_model::write_atomically`], with the path in the error.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    nerve_model::write_atomically(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the files an earlier run left in the folder (`--overwrite`), so every file in
/// it is this run's: nerve's own names only, nothing else the folder holds.
fn remove_earlier_run(folder: &Path) -> Result<()> {
    for name in RUN_FILES {
        let path = folder.join(name);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(err) = removed
            && err.kind() != std::io::ErrorKind::NotFound
        {
            return Err(anyhow::Error::new(err).context(format!(
                "cannot remove {} of the earlier run",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The checkpoint goes first and `run.json` next, so that an `--overwrite` killed midway
/// leaves no checkpoint to resume and a folder that says it is not a whole run.
pub(crate) const RUN_FILES: [&str; 16] = [
    "checkpoint",
    "run.json",
    "config.toml",
    "history.csv",
    "history.jsonl",
    "metrics.json",
    "model.safetensors",
    "curves.svg",
    "curves.png",
    "confusion.svg",
    "confusion.png",
    "calibration.svg",
    "calibration.png",
    "roc.svg",
    "roc.png",
    "explain.svg",
];

/// Refuses a `--out` folder that holds an earlier run's files: a run folder is one run's, and
/// two runs' files mixed in one folder (a config from one, a model from the other) mislead.
pub(crate) fn refuse_earlier_run(out: &Path) -> Result<()> {
    let found: Vec<&str> = RUN_FILES
        .iter()
        .copied()
        .filter(|name| out.join(name).exists())
        .collect();
    if !found.is_empty() {
        bail!(
            "--out {} holds an earlier run ({}); a run folder is one run's: choose another --out, pass --overwrite to replace it, or --resume {} to continue it",
            out.display(),
            found.join(", "),
            out.display()
        );
    }
    Ok(())
}

/// The run id in `folder`'s `run.json`.
///
/// # Errors
/// The file is missing (a folder of an older nerve, or not a run folder) or malformed.
pub(crate) fn read_run_id(folder: &Path) -> Result<String> {
    let path = folder.join(RUN_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} has no {RUN_FILE}: it is not a whole run folder of this nerve (an older nerve's run, or one whose --overwrite was interrupted), so it cannot be resumed; start a new run there with --overwrite, or train from its model with --init",
            folder.display()
        )
    })?;
    let identity: RunIdentity = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a run identity file", path.display()))?;
    Ok(identity.run_id)
}

/// Removes the temporaries (`.NAME.RANDOM.PID@HOST.tmp`, see
/// [`nerve_model::write_atomically`]) that a killed nerve left in `dir`: this machine's whose
/// process is gone (on Linux, no `/proc/PID`; elsewhere none are removed), and another
/// machine's (a search folder shared by several) only once an hour old, when no write is still
/// under way. A live writer's temporary is left alone. Nothing here is worth failing a run for.
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let here = nerve_model::host_name();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(tag) = name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|rest| rest.rsplit('.').next())
        else {
            continue;
        };
        let (pid, host) = match tag.split_once('@') {
            Some((pid, host)) => (pid, Some(host)),
            // Written before temporaries named their machine.
            None => (tag, None),
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let local = host.is_none_or(|host| Some(host) == here.as_deref());
        let stale = if local {
            Path::new("/proc").is_dir()
                && !Path::new(&format!("/proc/{pid}")).exists()
                && pid != std::process::id()
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_writers_temporaries_are_removed_a_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("nerve-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
        // No process has pid 4194304 (past Linux's maximum); this process is alive.
        let dead = dir.join(".model.safetensors.4194304.tmp");
        let live = dir.join(format!(".history.csv.{}.tmp", std::process::id()));
        let other = dir.join("notes.tmp");
        // Named with this machine, as nerve names them now; another machine's is kept, its
        // writer may be alive there (a search folder on a shared file system).
        let host = nerve_model::host_name().unwrap_or_else(|| "here".to_owned());
        let dead_here = dir.join(format!(".run.json.Ab12Cd.4194304@{host}.tmp"));
        let elsewhere = dir.join(".run.json.Ab12Cd.4194304@another-node.tmp");
        for path in [&dead, &live, &other, &dead_here, &elsewhere] {
            std::fs::write(path, b"x").unwrap_or_else(|err| panic!("{err}"));
        }
        remove_stale_temporaries(&dir);
        assert_eq!(
            (dead.exists(), live.exists(), other.exists()),
            (false, true, true)
        );
        assert_eq!(
            (dead_here.exists(), elsewhere.exists()),
            (nerve_model::host_name().is_none(), true)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
