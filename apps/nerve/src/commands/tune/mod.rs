//! `nerve tune`: a grid or random search over the settings of `nerve train`, each trial
//! scored by k-fold cross-validation in its own process (`--jobs` at once), results kept one
//! file per trial so a search resumes where it stopped and spreads over machines (`--plan`,
//! `--run-trial`, `--collect`); then the results table, the best config as a plain
//! config.toml, and the best settings refitted on every training row and tested once.
//!
//! A search folder holds `search.json` (what the search is), `trials/trial-NNNN.toml` (one
//! run config per trial) and, as trials end, `trials/trial-NNNN.json`; collecting writes
//! `results.csv`, `results.json`, `best.toml` and `refit/` (a `nerve train` run folder).

mod space;
mod trial;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Args};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use self::space::{Space, apply};
use self::trial::{Ran, Stored, TrialPlan, TrialResult};
use crate::choice;
use crate::numbers::{duration, value};
use crate::output::{print, write_aligned};
use crate::run_dir::write_atomically;
use crate::settings_args::SettingsArgs;
use nerve_run::cross_validation::Metric;

/// `nerve tune --help`'s examples.
const EXAMPLES: &str = "\
Examples:
  nerve tune --data iris --space spaces/iris.toml              # grid or random, 5-fold CV each
  nerve tune -d churn.csv -t Churn --space space.toml --trials 50 --metric roc_auc --jobs 4
  nerve tune --data iris --space spaces/iris.toml --plan runs/tune-iris   # one file per trial
  nerve tune --run-trial runs/tune-iris/trials/trial-0007.toml           # on any machine
  nerve tune --collect runs/tune-iris                                     # table, best, refit";

/// Flags of `nerve tune`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct TuneArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// The search space (TOML): settings as in config.toml, each a list of values to try (a
    /// grid) or a range: { uniform = [low, high] }, { log-uniform = [low, high] }, { int =
    /// [low, high] }, { choice = [a, b] } [default: none; required to plan or run a search]
    #[arg(long, value_name = "FILE", help_heading = "Search")]
    space: Option<PathBuf>,
    /// Random trials to draw [default: the whole grid when every setting is a list, else 20]
    #[arg(long, value_name = "N", help_heading = "Search")]
    trials: Option<usize>,
    /// Seeds the random draws: trial i's settings depend on this seed and i alone.
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Search")]
    search_seed: u64,
    /// What the trials are ranked by [default: accuracy for classification, r2 for regression]
    #[arg(long, value_name = "NAME", value_parser = choice::<Metric>(), help_heading = "Search")]
    metric: Option<Metric>,
    /// Folds of each trial's cross-validation (stratified by class, by --split-seed).
    #[arg(long, value_name = "K", default_value_t = 5, help_heading = "Search")]
    folds: usize,
    /// Fold the rows N times (repeated k-fold).
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Search")]
    repeats: usize,
    /// Trials run at once, each its own process [default: the CPU's cores]
    #[arg(long, value_name = "N", help_heading = "Search")]
    jobs: Option<usize>,
    /// Train the best settings on every training row and test them once on the test split.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = ArgAction::Set, help_heading = "Search")]
    refit: bool,
    /// The search folder: search.json, trials/, results.csv, results.json, best.toml,
    /// refit/; running the same search again resumes it [default: runs/tune-DATA]
    #[arg(short, long, value_name = "DIR", help_heading = "Output")]
    out: Option<PathBuf>,
    /// Only write the search folder's trial files (one per trial) and stop: run them anywhere
    /// with --run-trial, then --collect [default: plan, run and collect in one go]
    #[arg(long, value_name = "DIR", help_heading = "Distributed", conflicts_with_all = ["out", "run_trial", "collect"])]
    plan: Option<PathBuf>,
    /// Run one trial file and write its result beside it (trial-NNNN.json) [default: run
    /// every trial of the search]
    #[arg(long, value_name = "FILE", help_heading = "Distributed", conflicts_with_all = ["collect", "space"])]
    run_trial: Option<PathBuf>,
    /// Merge a search folder's trial results: the table, best.toml, tune.svg and the refit
    /// [default: once the search's trials have run]
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Distributed",
        conflicts_with = "space"
    )]
    collect: Option<PathBuf>,
    /// No line per trial on stderr.
    #[arg(short, long, help_heading = "Output")]
    quiet: bool,
}

/// What a search is: written once into its folder as `search.json`; a search run again with
/// the same of all this resumes, with any other is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Search {
    metric: String,
    greater_is_better: bool,
    folds: usize,
    repeats: usize,
    search_seed: u64,
    /// Whether every point of a grid is tried (else random draws).
    grid: bool,
    trials: usize,
    /// The parameters' keys, in the space file's order.
    keys: Vec<String>,
    /// Each parameter and its domain.
    space: Vec<String>,
    /// The settings every trial starts from.
    base: toml::Table,
}

/// The file a search creates, on its first Ctrl-C, for its trial and refit processes: to them,
/// a Ctrl-C of their own (see `progress::STOP_FILE_ENV`).
const STOP_FILE: &str = ".nerve.stop";

/// Runs `nerve tune`.
pub(crate) fn run(args: TuneArgs) -> Result<ExitCode> {
    if let Some(path) = &args.run_trial {
        // A search's trial processes are quiet: the search speaks for them.
        crate::progress::catch_interrupts(
            (!args.quiet).then_some("stopping this trial; it runs again when started again"),
        );
        match trial::read_result(path)? {
            Stored::Valid(result) => {
                // A requeued job: the trial ran; its result stands.
                if !args.quiet {
                    eprintln!("{} (already ran)", describe(&result));
                }
                return Ok(ExitCode::SUCCESS);
            }
            Stored::Invalid(why) => eprintln!("warning: {why}; running the trial again"),
            Stored::Missing => {}
        }
        return match trial::run(path)? {
            Ran::Done(result) => {
                if !args.quiet {
                    eprintln!("{}", describe(&result));
                }
                Ok(ExitCode::SUCCESS)
            }
            Ran::Interrupted => Ok(ExitCode::from(130)),
        };
    }
    crate::progress::catch_interrupts(Some("stopping; the same command again resumes the search"));
    if let Some(dir) = &args.collect {
        let _stop = crate::progress::stop_children_by(dir.join(STOP_FILE));
        return collect(dir, args.refit);
    }
    let Some(space_path) = &args.space else {
        bail!("give --space FILE (the settings to search), or --run-trial FILE or --collect DIR");
    };
    let Some((search, plans)) = plan_search(&args, space_path)? else {
        eprintln!("interrupted while planning the search; nothing was written");
        return Ok(ExitCode::from(130));
    };
    if let Some(dir) = &args.plan {
        remove_leftovers(dir);
        if !write_plan(dir, &search, &plans)? {
            return Ok(planning_interrupted(dir));
        }
        eprintln!(
            "{} trial files in {}; run each with `nerve tune --run-trial FILE`, then `nerve tune --collect {}`",
            plans.len(),
            dir.join("trials").display(),
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => PathBuf::from("runs").join(format!(
            "tune-{}",
            nerve_run::data_name(
                search
                    .base
                    .get("data")
                    .and_then(|d| d.get("path"))
                    .and_then(toml::Value::as_str)
                    .unwrap_or("data")
            )
        )),
    };
    let _lock = crate::run_lock::RunLock::acquire(&dir)?;
    let _stop = crate::progress::stop_children_by(dir.join(STOP_FILE));
    remove_leftovers(&dir);
    if !write_plan(&dir, &search, &plans)? {
        return Ok(planning_interrupted(&dir));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let interrupted = run_pending(&dir, plans.len(), jobs, args.quiet)?;
    if interrupted {
        // The finished trials' table, consistent; the rest run when the search is resumed.
        let finished = write_table(&dir, false).map_or(0, |(_, results)| results.len());
        if finished == 0 {
            eprintln!(
                "interrupted before any trial finished; run the same command again to resume"
            );
        } else {
            eprintln!(
                "interrupted; the {finished} finished trials are in {}; run the same command again to resume",
                dir.join("results.csv").display()
            );
        }
        return Ok(ExitCode::from(130));
    }
    collect(&dir, args.refit)
}

/// The search and one trial file per trial, checked: every setting of the space applies to
/// the settings given. `None`: Ctrl-C stopped the planning.
fn plan_search(args: &TuneArgs, space_path: &Path) -> Result<Option<(Search, Vec<TrialPlan>)>> {
    let origin = space_path.display().to_string();
    let text = std::fs::read_to_string(space_path)
        .with_context(|| format!("cannot read the search space {origin}"))?;
    let space = Space::parse(&text, &origin)?;
    let mut config = args.settings.resolve()?;
    let prepared = nerve_run::prepare_settled(&mut config)?;
    if config.data.path == "-" {
        bail!(
            "nerve tune reads the data once per trial, so it cannot read stdin (`--data -`); save it to a file"
        );
    }
    // Trials are applied to the settings before their defaults are spelled out, so a trial
    // of `optimizer.name = "adamw"` gets adamw's default weight decay, as `train` would.
    // Counted before a single value is checked or a trial made: a grid of a million points,
    // or a list of 200,000 values, is refused at once.
    let count = space.count(args.trials, &origin)?;
    if !space.check(&config, &origin)? {
        return Ok(None);
    }
    let base = config.resolved();
    let metric = Metric::chosen(args.metric, prepared.task())?;
    // Fails now, not in every trial, when the rows cannot be folded.
    let (_, warnings) = nerve_run::cross_validation::folds(
        &prepared,
        nerve_run::cross_validation::Folding {
            folds: args.folds,
            repeats: args.repeats,
        },
        base.data.split_seed,
    )?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if let (Some(trials), Some(size)) = (args.trials, space.grid_size())
        && trials as u128 > size
    {
        eprintln!("warning: --trials {trials}, but the grid has {size} points: each runs once");
    }
    let points = space.trials(args.trials, args.search_seed);
    debug_assert_eq!(points.len(), count);
    let base_table: toml::Table = toml::from_str(&base.to_toml()?)?;
    let mut plans = Vec::with_capacity(points.len());
    for (id, params) in points.iter().enumerate() {
        if crate::progress::interrupted() {
            return Ok(None);
        }
        let config = apply(&config, params)
            .with_context(|| format!("trial {id}"))?
            .resolved();
        plans.push(TrialPlan {
            trial: id,
            folds: args.folds,
            repeats: args.repeats,
            metric: metric.name().to_owned(),
            params: params.iter().cloned().collect(),
            config: toml::from_str(&config.to_toml()?)?,
        });
    }
    let search = Search {
        metric: metric.name().to_owned(),
        greater_is_better: metric.greater_is_better(),
        folds: args.folds,
        repeats: args.repeats,
        search_seed: args.search_seed,
        grid: args.trials.is_none() && space.is_grid(),
        trials: plans.len(),
        keys: space.parameters.iter().map(|p| p.key.clone()).collect(),
        space: space.describe(),
        base: base_table,
    };
    Ok(Some((search, plans)))
}

/// Removes what a killed search, planner or trial left half-written in a search folder: the
/// temporaries of its files (`.trial-0009.toml.RANDOM.PID.tmp`) whose writer is gone.
fn remove_leftovers(dir: &Path) {
    crate::run_dir::remove_stale_temporaries(dir);
    crate::run_dir::remove_stale_temporaries(&dir.join("trials"));
}

/// What an interrupted planning says: the trial files written so far stay, and the same
/// command writes the rest.
fn planning_interrupted(dir: &Path) -> ExitCode {
    eprintln!(
        "interrupted while writing the trial files of {}; the same command again writes the rest",
        dir.display()
    );
    ExitCode::from(130)
}

/// Writes `search.json` and the trial files into `dir`, or checks that those already there
/// are this search's (a resumed search): another search's folder is refused, untouched.
/// Returns `false` when Ctrl-C stopped it (the files written so far are whole).
fn write_plan(dir: &Path, search: &Search, plans: &[TrialPlan]) -> Result<bool> {
    let trials = dir.join("trials");
    std::fs::create_dir_all(&trials)
        .with_context(|| format!("cannot create {}", trials.display()))?;
    let search_path = dir.join("search.json");
    if search_path.exists() {
        let found: Search = serde_json::from_slice(&std::fs::read(&search_path)?)
            .with_context(|| format!("{} is not a search", search_path.display()))?;
        if found != *search {
            bail!(
                "{} holds another search (its space, settings, metric, folds or seed differ); give another --out, or remove the folder to start over",
                dir.display()
            );
        }
    } else {
        let mut bytes = serde_json::to_vec_pretty(search)?;
        bytes.push(b'\n');
        write_atomically(&search_path, &bytes)?;
    }
    for plan in plans {
        if crate::progress::interrupted() {
            return Ok(false);
        }
        let path = trial::plan_path(&trials, plan.trial);
        let text = toml::to_string(plan)?;
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == text => {}
            Ok(_) => bail!(
                "{} differs from this search's trial {}; give another --out",
                path.display(),
                plan.trial
            ),
            Err(_) => write_atomically(&path, text.as_bytes())?,
        }
    }
    Ok(true)
}

/// Runs the trials of `dir` that have no result yet, `jobs` processes at once; returns
/// whether Ctrl-C stopped the search.
fn run_pending(dir: &Path, count: usize, jobs: usize, quiet: bool) -> Result<bool> {
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

/// A line about a finished trial.
fn describe(result: &TrialResult) -> String {
    let params: Vec<String> = result
        .params
        .iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect();
    match (result.mean, result.std) {
        (Some(mean), Some(std)) => format!(
            "trial {}: {} {} ± {} ({}; {})",
            result.trial,
            result.metric,
            value(mean),
            value(std),
            params.join(", "),
            duration(result.seconds)
        ),
        _ => format!(
            "trial {}: failed ({}): {}",
            result.trial,
            params.join(", "),
            result.error.as_deref().unwrap_or("no score")
        ),
    }
}

/// The search folder's results ranked: the best first, failed trials last.
fn ranked(dir: &Path, complete: bool) -> Result<(Search, Vec<TrialResult>)> {
    let search_path = dir.join("search.json");
    let search: Search =
        serde_json::from_slice(&std::fs::read(&search_path).with_context(|| {
            format!("{} is not a search folder (no search.json)", dir.display())
        })?)
        .with_context(|| format!("{} is not a search", search_path.display()))?;
    let trials = dir.join("trials");
    if complete {
        // (While the search runs, write_plan has just checked its trial files against it.)
        check_search(&search, &search_path, &trials)?;
    }
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for id in 0..search.trials {
        let plan = trial::plan_path(&trials, id);
        match trial::read_result(&plan)? {
            Stored::Valid(result) => results.push(*result),
            Stored::Missing => missing.push(id),
            // The table lists results that prove they are their trial's, nothing else.
            Stored::Invalid(why) if complete => bail!(
                "{why}; run the trial again with `nerve tune --run-trial {}` (or the search's command), then collect",
                plan.display()
            ),
            Stored::Invalid(_) => missing.push(id),
        }
    }
    if complete && !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(10)
            .map(|id| format!("trial-{id:04}"))
            .collect();
        bail!(
            "{} of {} trials have no result yet ({}{}): run them with `nerve tune --run-trial {}/trial-NNNN.toml`",
            missing.len(),
            search.trials,
            shown.join(", "),
            if missing.len() > 10 { ", ..." } else { "" },
            trials.display()
        );
    }
    let sign = if search.greater_is_better { -1.0 } else { 1.0 };
    results.sort_by(|a, b| match (a.mean, b.mean) {
        (Some(x), Some(y)) => (sign * rank_key(x))
            .total_cmp(&(sign * rank_key(y)))
            .then(a.trial.cmp(&b.trial)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.trial.cmp(&b.trial),
    });
    Ok((search, results))
}

/// Checks that `search.json` (at `path`) says what its trial files do, so that an edited or
/// foreign record cannot rank the trials another way: its metric names a metric and its
/// direction, every trial file of `trials` is one of its trials, scored by its metric, folds
/// and repeats, and there are no more of them.
fn check_search(search: &Search, path: &Path, trials: &Path) -> Result<()> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "{} does not describe the search of its trial files ({why}); remove the folder and run the search again",
            path.display()
        )
    };
    let metric: Metric = search.metric.parse().map_err(|err: String| refuse(err))?;
    if metric.greater_is_better() != search.greater_is_better {
        return Err(refuse(format!(
            "{} is {} better, not {}",
            metric.name(),
            if metric.greater_is_better() {
                "higher"
            } else {
                "lower"
            },
            if search.greater_is_better {
                "higher"
            } else {
                "lower"
            }
        )));
    }
    if trial::plan_path(trials, search.trials).exists() {
        return Err(refuse(format!(
            "it has {} trials, but {} exists",
            search.trials,
            trial::plan_path(trials, search.trials).display()
        )));
    }
    for id in 0..search.trials {
        let path = trial::plan_path(trials, id);
        if !path.exists() {
            return Err(refuse(format!("{} is missing", path.display())));
        }
        let plan = trial::read_plan(&path)?;
        if plan.trial != id
            || plan.metric != search.metric
            || plan.folds != search.folds
            || plan.repeats != search.repeats
        {
            return Err(refuse(format!(
                "{} is trial {}, scored by {} over {} folds x {} repeats",
                path.display(),
                plan.trial,
                plan.metric,
                plan.folds,
                plan.repeats
            )));
        }
    }
    Ok(())
}

/// Writes `results.csv` and `results.json` (atomically); returns the ranked results.
fn write_table(dir: &Path, complete: bool) -> Result<(Search, Vec<TrialResult>)> {
    let (search, results) = ranked(dir, complete)?;
    let folds = search.folds * search.repeats;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "rank".to_owned(),
        "trial".to_owned(),
        "status".to_owned(),
        format!("mean_{}", search.metric),
        format!("std_{}", search.metric),
        "seconds".to_owned(),
    ];
    header.extend(search.keys.iter().cloned());
    header.extend((1..=folds).map(|f| format!("fold_{f}")));
    header.push("error".to_owned());
    csv.write_record(&header)?;
    let ranks = ranks(&results);
    let mut rows_json = Vec::new();
    for (&rank, result) in ranks.iter().zip(&results) {
        let mut record = vec![
            rank.to_string(),
            result.trial.to_string(),
            result.status.clone(),
            result.mean.map_or_else(String::new, |v| v.to_string()),
            result.std.map_or_else(String::new, |v| v.to_string()),
            format!("{:.3}", result.seconds),
        ];
        record.extend(
            search
                .keys
                .iter()
                .map(|k| result.params.get(k).map_or_else(String::new, shown)),
        );
        let scores = result.fold_scores();
        record.extend((0..folds).map(|f| {
            scores
                .get(f)
                .filter(|v| v.is_finite())
                .map_or_else(String::new, ToString::to_string)
        }));
        record.push(result.error.clone().unwrap_or_default());
        csv.write_record(&record)?;
        let means: BTreeMap<String, f64> = mean_of_each(&result.folds);
        rows_json.push(json!({
            "rank": rank,
            "trial": result.trial,
            "status": result.status,
            "params": result.params,
            "mean": result.mean,
            "std": result.std,
            "fold_scores": scores.iter().map(|v| if v.is_finite() { json!(v) } else { Value::Null }).collect::<Vec<_>>(),
            "means": means,
            "fold_epochs": result.fold_epochs,
            "seconds": result.seconds,
            "error": result.error,
        }));
    }
    write_atomically(&dir.join("results.csv"), &csv.into_inner()?)?;
    let table = json!({
        "metric": search.metric,
        "greater_is_better": search.greater_is_better,
        "folds": search.folds,
        "repeats": search.repeats,
        "search_seed": search.search_seed,
        "trials": rows_json,
    });
    let mut bytes = serde_json::to_vec_pretty(&table)?;
    bytes.push(b'\n');
    write_atomically(&dir.join("results.json"), &bytes)?;
    Ok((search, results))
}

/// A mean as the ranking compares it: to 12 significant digits. The same fold scores summed in
/// another order, or equal fractions of different folds (341 of 360 rows right, however they
/// fall), differ in the last bits of a double; the ranking takes them as the tie they are.
fn rank_key(mean: f64) -> f64 {
    format!("{mean:.11e}").parse().unwrap_or(mean)
}

/// The rank of each of the ranked `results`, as scikit-learn's `rank_test_score`
/// (`scipy.stats.rankdata(method="min")`): tied means (equal to 12 significant digits, see
/// [`rank_key`]) share the best rank of their group, the next mean ranks after all of them;
/// failed trials all rank after every scored one.
fn ranks(results: &[TrialResult]) -> Vec<usize> {
    let mut ranks: Vec<usize> = Vec::with_capacity(results.len());
    for (i, result) in results.iter().enumerate() {
        let tied = i > 0 && results[i - 1].mean.map(rank_key) == result.mean.map(rank_key);
        ranks.push(if tied { ranks[i - 1] } else { i + 1 });
    }
    ranks
}

/// A setting's value as the table shows it: text unquoted, anything else as TOML writes it.
fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Each metric's mean over the folds that define it.
fn mean_of_each(folds: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for fold in folds {
        for (name, v) in fold {
            let entry = sums.entry(name.clone()).or_default();
            entry.0 += v;
            entry.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(name, (sum, n))| (name, sum / n as f64))
        .collect()
}

/// The table, `best.toml`, the refit; prints the summary.
fn collect(dir: &Path, refit: bool) -> Result<ExitCode> {
    let (search, results) = write_table(dir, true)?;
    let Some(best) = results.first().filter(|r| r.is_ok()) else {
        let first = results
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_default();
        bail!(
            "every one of the {} trials failed (see {}); trial {}: {first}",
            results.len(),
            dir.join("results.csv").display(),
            results.first().map_or(0, |r| r.trial)
        );
    };
    let plan = trial::read_plan(&trial::plan_path(&dir.join("trials"), best.trial))?;
    let config =
        nerve_run::RunConfig::parse(&toml::to_string(&plan.config)?, "the best trial", None)?;
    let header = format!(
        "# Chosen by `nerve tune`: trial {} of {}, {} {} ± {} over {} folds{} (search seed {}).\n# Repeat it with `nerve train --config best.toml`.\n\n",
        best.trial,
        search.trials,
        search.metric,
        value(best.mean.unwrap_or(f64::NAN)),
        value(best.std.unwrap_or(f64::NAN)),
        search.folds,
        if search.repeats > 1 {
            format!(" x {} repeats", search.repeats)
        } else {
            String::new()
        },
        search.search_seed
    );
    let best_path = dir.join("best.toml");
    write_atomically(
        &best_path,
        format!("{header}{}", config.to_toml()?).as_bytes(),
    )?;
    let mut text = String::new();
    let failed = results.iter().filter(|r| !r.is_ok()).count();
    writeln!(
        text,
        "{} trials{} by {}-fold cross-validation{} ({} {}): {}",
        results.len(),
        if failed > 0 {
            format!(" ({failed} failed)")
        } else {
            String::new()
        },
        search.folds,
        if search.repeats > 1 {
            format!(" repeated {} times", search.repeats)
        } else {
            String::new()
        },
        search.metric,
        if search.greater_is_better {
            "higher is better"
        } else {
            "lower is better"
        },
        dir.join("results.csv").display()
    )?;
    let mut head: Vec<String> = ["rank", "trial", "mean", "std", "time"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    head.extend(
        search
            .keys
            .iter()
            .map(|k| k.rsplit('.').next().unwrap_or(k).to_owned()),
    );
    let rows: Vec<Vec<String>> = ranks(&results)
        .into_iter()
        .zip(&results)
        .take(10)
        .map(|(rank, r)| {
            let mut row = vec![
                rank.to_string(),
                r.trial.to_string(),
                r.mean.map_or_else(|| "failed".to_owned(), value),
                r.std.map_or_else(String::new, value),
                duration(r.seconds),
            ];
            row.extend(
                search
                    .keys
                    .iter()
                    .map(|k| r.params.get(k).map_or_else(String::new, shown)),
            );
            row
        })
        .collect();
    write_aligned(&mut text, &head, &rows)?;
    if results.len() > 10 {
        writeln!(text, "  ... {} more in results.csv", results.len() - 10)?;
    }
    writeln!(text, "Best settings: {}", best_path.display())?;
    let chart = chart(&search, &results);
    let chart_path = dir.join("tune.svg");
    match crate::charts::save(&chart, &chart_path, crate::charts::Format::Svg) {
        Ok(()) => writeln!(text, "Chart: {}", chart_path.display())?,
        Err(err) => eprintln!("warning: cannot draw {}: {err:#}", chart_path.display()),
    }
    if refit {
        let (path, score) = refit_best(dir, &best_path, &search.metric)?;
        match score {
            Refit::Interrupted => {
                print(&text)?;
                eprintln!(
                    "interrupted during the refit (its unfinished run removed); `nerve tune --collect {}` refits",
                    dir.display()
                );
                return Ok(ExitCode::from(130));
            }
            Refit::Score(score) => writeln!(
                text,
                "Refitted on every training row: test {} {} ({})",
                search.metric,
                value(score),
                path.display()
            )?,
            Refit::Undefined => writeln!(
                text,
                "Refitted on every training row ({}); the test rows leave {} undefined",
                path.display(),
                search.metric
            )?,
            Refit::NoTestRows => writeln!(
                text,
                "Refitted on every training row ({}); no test rows to score it on (--test-split 0)",
                path.display()
            )?,
        }
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `tune.svg`'s data: the scored trials best first, and each setting whose values are all
/// numbers.
fn chart(search: &Search, results: &[TrialResult]) -> crate::charts::TuneChart {
    let scored: Vec<&TrialResult> = results.iter().filter(|r| r.is_ok()).collect();
    let settings = search
        .keys
        .iter()
        .filter_map(|key| {
            let points: Option<Vec<(f64, f64)>> = scored
                .iter()
                .map(|r| {
                    let x = match r.params.get(key)? {
                        toml::Value::Integer(i) => *i as f64,
                        toml::Value::Float(f) => *f,
                        _ => return None,
                    };
                    Some((x, r.mean?))
                })
                .collect();
            points
                .filter(|p| !p.is_empty())
                .map(|points| crate::charts::Setting {
                    key: key.clone(),
                    points,
                })
        })
        .collect();
    crate::charts::TuneChart {
        metric: search.metric.clone(),
        greater_is_better: search.greater_is_better,
        trials: scored
            .iter()
            .map(|r| (r.trial, r.mean.unwrap_or(f64::NAN), r.std.unwrap_or(0.0)))
            .collect(),
        settings,
    }
}

/// The refit's test score.
enum Refit {
    Score(f64),
    /// The test rows leave the metric undefined (ROC AUC of one class).
    Undefined,
    /// `--test-split 0`: no test rows.
    NoTestRows,
    /// Ctrl-C stopped it.
    Interrupted,
}

/// Trains `best` (a config file) into `dir/refit` with `nerve train`, and reads its test score
/// of `metric`.
fn refit_best(dir: &Path, best: &Path, metric: &str) -> Result<(PathBuf, Refit)> {
    let out = dir.join("refit");
    let exe = std::env::current_exe().context("cannot find this program to refit")?;
    let output = Command::new(exe)
        .args(["train", "--json", "--quiet", "--overwrite", "--config"])
        .arg(best)
        .arg("--out")
        .arg(&out)
        .env(crate::progress::STOP_FILE_ENV, dir.join(STOP_FILE))
        .stdin(Stdio::null())
        .output()
        .context("cannot start the refit")?;
    if !output.status.success()
        && (crate::progress::interrupted() || output.status.code() == Some(130))
    {
        // Stopped partway: its run folder would pass for the refit. (A refit that ended before
        // the Ctrl-C reached it is whole, and kept.)
        match std::fs::remove_dir_all(&out) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| {
                    format!("cannot remove the interrupted refit {}", out.display())
                });
            }
            _ => return Ok((out, Refit::Interrupted)),
        }
    }
    if !output.status.success() {
        bail!(
            "the refit of {} failed: {}",
            best.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .context("the refit printed no summary")?;
    let test = &summary["test"];
    if test.is_null() {
        return Ok((out, Refit::NoTestRows));
    }
    let score = test[metric]
        .as_f64()
        .or_else(|| test["report"][metric].as_f64());
    Ok((out, score.map_or(Refit::Undefined, Refit::Score)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(trial: usize, mean: Option<f64>) -> TrialResult {
        TrialResult {
            trial,
            plan_sha256: String::new(),
            params: BTreeMap::new(),
            status: if mean.is_some() { "ok" } else { "failed" }.to_owned(),
            error: None,
            metric: "accuracy".to_owned(),
            mean,
            std: mean.map(|_| 0.0),
            folds: Vec::new(),
            fold_epochs: Vec::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn tied_means_share_the_best_rank_and_failed_trials_rank_last_as_scikit_learn() {
        // scipy.stats.rankdata([-0.9, -0.9, -0.8, -0.8, -0.8, -0.7], method="min")
        // -> [1, 1, 3, 3, 3, 6]; two failed trials after them share rank 7.
        let means = [
            Some(0.9),
            Some(0.9),
            Some(0.8),
            Some(0.8),
            Some(0.8),
            Some(0.7),
            None,
            None,
        ];
        let results: Vec<TrialResult> = means
            .iter()
            .enumerate()
            .map(|(i, &m)| result(i, m))
            .collect();
        assert_eq!(ranks(&results), [1, 1, 3, 3, 3, 6, 7, 7]);
        // The same fold scores in two orders (the helper's report: iris trials 2 and 9,
        // 0.9666666666666668 and 0.9666666666666666) are one mean, and so are 341 of 360 rows
        // right however they fall over 15 folds of 24.
        let mean = |right: &[f64]| {
            let scores: Vec<f64> = right.iter().map(|r| r / 24.0).collect();
            nerve_run::cross_validation::mean_std(&scores).unwrap().0
        };
        let forward = mean(&[23., 24., 22., 23., 24.]);
        let backward = mean(&[23., 22., 24., 24., 23.]);
        assert_ne!(forward, backward);
        assert_eq!(
            ranks(&[result(0, Some(backward)), result(1, Some(forward))]),
            [1, 1]
        );
        let a = mean(&[
            24., 24., 23., 23., 22., 23., 23., 23., 22., 22., 23., 23., 23., 22., 21.,
        ]);
        let b = mean(&[
            21., 22., 23., 23., 23., 22., 22., 23., 23., 23., 22., 23., 23., 24., 24.,
        ]);
        assert_ne!(a, b);
        assert_eq!(ranks(&[result(0, Some(a)), result(1, Some(b))]), [1, 1]);
        // Means that differ in a real digit do not tie.
        assert_eq!(
            ranks(&[result(0, Some(0.9472)), result(1, Some(0.9471))]),
            [1, 2]
        );
        assert_eq!(ranks(&results[..1]), [1]);
        assert!(ranks(&[]).is_empty());
    }
}
