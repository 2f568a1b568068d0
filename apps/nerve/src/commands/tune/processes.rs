//! Trial processes: `--jobs` children of `nerve tune --run-trial` at once, stopped together
//! (the stop file, then a kill) when the search stops or fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::results::{describe, write_table};
use super::search::STOP_FILE;
use super::trial;
use super::trial::{Stored, TrialResult};

/// Runs the trials of `dir` that have no result yet, `jobs` processes at once; returns
/// whether Ctrl-C stopped the search.
pub(super) fn run_pending(dir: &Path, count: usize, jobs: usize, quiet: bool) -> Result<bool> {
    let trials = dir.join("trials");
    let mut pending = Vec::new();
    for id in 0..count {
        let path = trial::plan_path(&trials, id);
        match trial::read_result(&path)? {
            Stored::Valid(_) => {}
            Stored::Missing => pending.push(path),
            Stored::Invalid(why) => {
                // Not this trial's result: out of the table, and the trial runs again.
                eprintln!("warning: {why}; running the trial again");
                let result = trial::result_path(&path);
                std::fs::remove_file(&result)
                    .with_context(|| format!("cannot remove {}", result.display()))?;
                pending.push(path);
            }
        }
    }
    if !quiet && pending.len() < count {
        eprintln!(
            "resuming: {} of {count} trials already ran",
            count - pending.len()
        );
    }
    let exe = std::env::current_exe().context("cannot find this program to run the trials")?;
    let mut queue = pending.into_iter();
    // Whatever ends this function — the last trial, Ctrl-C or an error (a full disk) — it
    // returns only once every trial process it started has ended.
    let mut running = TrialProcesses {
        children: Vec::new(),
        stop_file: dir.join(STOP_FILE),
    };
    let mut done = count - queue.len();
    loop {
        while running.children.len() < jobs && !crate::progress::interrupted() {
            let Some(path) = queue.next() else { break };
            let child = Command::new(&exe)
                .args(["tune", "--quiet", "--run-trial"])
                .arg(&path)
                .env(crate::progress::STOP_FILE_ENV, dir.join(STOP_FILE))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .context("cannot start a trial process")?;
            running.children.push((path, child));
        }
        if running.children.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut i = 0;
        while i < running.children.len() {
            let Some(status) = running.children[i].1.try_wait()? else {
                i += 1;
                continue;
            };
            let (path, _) = running.children.swap_remove(i);
            match trial::read_result(&path)? {
                Stored::Valid(result) => {
                    done += 1;
                    if !quiet {
                        eprintln!("[{done}/{count}] {}", describe(&result));
                    }
                    // The table as it stands, after each trial.
                    write_table(dir, false)?;
                }
                Stored::Invalid(why) => bail!("{why}: written while the search ran it"),
                Stored::Missing if stopped_by_interrupt() => {}
                Stored::Missing => {
                    // The process died without a result (killed, out of memory): a failed
                    // trial, recorded so the search can rank it.
                    let (plan, digest) = trial::read_plan_and_digest(&path)?;
                    let result = TrialResult::failed(
                        plan,
                        digest,
                        format!("the trial's process ended without a result ({status})"),
                        0.0,
                    );
                    trial::write_result(&path, &result)?;
                    done += 1;
                }
            }
        }
    }
    Ok(crate::progress::interrupted())
}

/// The trial processes a search is running, each with its trial file. Dropped with some still
/// running (the search failed: a full disk, a result it cannot read), it stops them as a
/// Ctrl-C would (the stop file they watch), waits for them, and kills any still running after
/// [`TrialProcesses::GRACE`]: no trial writes into the folder after its search returned and
/// released the lock.
struct TrialProcesses {
    children: Vec<(PathBuf, std::process::Child)>,
    stop_file: PathBuf,
}

impl TrialProcesses {
    /// How long stopped trials have to end (a trial checks the stop file every batch).
    const GRACE: std::time::Duration = std::time::Duration::from_secs(10);
}

impl Drop for TrialProcesses {
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        // Best effort: on a full disk the file cannot be created, and the kill below stops them.
        let _ = std::fs::File::create(&self.stop_file);
        let deadline = std::time::Instant::now() + Self::GRACE;
        for (_, child) in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Whether a trial process that ended without a result was stopped by the search's own Ctrl-C
/// (so its trial runs again when the search resumes), rather than dying alone (killed, out of
/// memory, or interrupted by a signal sent to it only: a failed trial). A Ctrl-C reaches the
/// trial and the search at once, so the search's flag is asked again after a pause.
fn stopped_by_interrupt() -> bool {
    if crate::progress::interrupted() {
        return true;
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    crate::progress::interrupted()
}
