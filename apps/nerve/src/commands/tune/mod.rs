//! `nerve tune`: a grid or random search over the settings of `nerve train`, each trial
//! scored by k-fold cross-validation in its own process (`--jobs` at once), results kept one
//! file per trial so a search resumes where it stopped and spreads over machines (`--plan`,
//! `--run-trial`, `--collect`); then the results table, the best config as a plain
//! config.toml, and the best settings refitted on every training row and tested once.
//!
//! A search folder holds `search.json` (what the search is), `trials/trial-NNNN.toml` (one
//! run config per trial) and, as trials end, `trials/trial-NNNN.json`; collecting writes
//! `results.csv`, `results.json`, `best.toml` and `refit/` (a `nerve train` run folder).

mod collect;
mod processes;
mod results;
mod search;
mod space;
mod trial;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Args};

use self::collect::collect;
use self::processes::run_pending;
use self::results::{describe, write_table};
use self::search::{STOP_FILE, Search};
use self::space::{Space, apply};
use self::trial::{Ran, Stored, TrialPlan};
use crate::choice;
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
