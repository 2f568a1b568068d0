//! `nerve train`: a run from flags and config to a run folder, in four steps as uv runs a
//! command (its settings resolved, then the command on them): [`TrainSettings::resolve`]
//! (flags and config, the folder locked, refusals), [`RunPlan::new`] (the table prepared and
//! settled, the fit planned, the network and any checkpoint loaded — everything checked before
//! a file is written), [`fit`] (the run folder, training with checkpoints) and [`finish`]
//! (scores, the saved files, the report).

mod args;
mod describe;
mod plan;
mod results;
mod settings;

pub(crate) use args::TrainArgs;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use describe::describe_run;
use nerve_data::{Dataset, Prepared};
use nerve_run::RunConfig;
use nerve_train::{TrainError, TrainOutcome, Trainer};
use plan::RunPlan;
use results::{Evaluation, print_results, summary};
use settings::TrainSettings;

use crate::charts;
use crate::checkpoint::{self, CheckpointFailure};
use crate::progress::{self, Progress};
use crate::run_dir::RunDir;

/// Runs `nerve train`: exit 0 when training ends normally, 130 when interrupted (after saving
/// the run), an error when it diverges (after saving the last good epoch's history).
pub(crate) fn run(args: TrainArgs) -> Result<ExitCode> {
    let settings = TrainSettings::resolve(args)?;
    let Some(plan) = RunPlan::new(settings)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let fitted = fit(plan)?;
    finish(fitted)
}

/// A run trained in its folder: what [`finish`] scores, saves and reports.
struct Fitted {
    plan: RunPlan,
    run_dir: RunDir,
    /// The trainer of the plan, which scores the parts too.
    trainer: Trainer,
    outcome: TrainOutcome,
    /// The divergence that ended training, its last good epoch kept as `outcome`.
    divergence: Option<TrainError>,
    checkpoint_failure: Option<CheckpointFailure>,
    last_checkpoint: Option<usize>,
}

/// Makes (or reopens) the run folder, writes the config, and trains — from a new network, an
/// `--init` model or the checkpoint — with checkpoints as the run goes.
fn fit(mut plan: RunPlan) -> Result<Fitted> {
    let lock = plan.settings.lock.take();
    let args = &plan.settings.args;
    let run_dir = match (&args.resume, lock) {
        (Some(dir), Some(lock)) => RunDir::reopen(dir, lock)?,
        (_, lock) => RunDir::create(
            args.out.as_deref().zip(lock),
            &nerve_run::data_name(&plan.config.data.path),
            args.overwrite,
        )?,
    };
    let (config, prepared) = (&plan.config, &plan.prepared);
    run_dir.write_config(config)?;
    if let Some(warning) = describe::shrink_warning(config, prepared) {
        eprintln!("{warning}");
    }
    if plan.settings.chatty() {
        if let Some(model) = &plan.model {
            eprint!("{}", describe_run(config, prepared, model));
        }
        eprintln!("Run folder: {}", run_dir.path().display());
    }
    progress::catch_interrupts(Some("finishing this epoch, then saving the run"));
    let mut observer = checkpoint::RunObserver::new(
        Progress::new(args.json, args.quiet).with_learning_rate(!config.schedule.is_constant()),
        &run_dir,
        plan.config_sha256.clone(),
        plan.data_sha256.clone(),
        &prepared.preprocessor,
        config.training.checkpoint_every,
        plan.resume.as_ref().map(|loaded| loaded.epoch),
    )?;
    let trainer = plan.fit.trainer();
    let (train, validation) = (&prepared.train, prepared.validation.as_ref());
    let device = &plan.settings.device;
    let result = match (plan.resume.take(), plan.model.take()) {
        (Some(loaded), _) => trainer.resume(
            loaded.model,
            loaded.resume,
            train,
            validation,
            device,
            &mut observer,
        ),
        (None, Some(model)) => trainer.fit(model, train, validation, device, &mut observer),
        (None, None) => unreachable!("a plan holds a network or a checkpoint"),
    };
    let checkpoint_failure = observer.finish();
    let last_checkpoint = observer.last_checkpoint();
    drop(observer);
    let (outcome, divergence) = match result {
        Ok(outcome) => (outcome, None),
        Err(mut err) => match err.take_last_good() {
            Some(last_good) => (last_good, Some(err)),
            None => return Err(err.into()),
        },
    };
    Ok(Fitted {
        plan,
        run_dir,
        trainer,
        outcome,
        divergence,
        checkpoint_failure,
        last_checkpoint,
    })
}

/// Scores each part, saves the model (first: on a nearly full disk it matters most), the
/// history and the metrics, draws the charts, and reports — or says how to resume.
fn finish(fitted: Fitted) -> Result<ExitCode> {
    let Fitted {
        plan,
        run_dir,
        trainer,
        outcome,
        divergence,
        checkpoint_failure,
        last_checkpoint,
    } = fitted;
    let (config, prepared) = (&plan.config, &plan.prepared);
    let plain = plan.settings.device.clone().without_autodiff();
    let evaluate = |data: &Dataset| -> Result<Evaluation> {
        Evaluation::new(&trainer, &outcome.model, config, prepared, data, &plain)
    };
    let train = evaluate(&prepared.train)?;
    let validation = prepared.validation.as_ref().map(evaluate).transpose()?;
    let test = prepared.test.as_ref().map(evaluate).transpose()?;
    let summary = summary(config, prepared, &outcome, &train, &validation, &test);
    let saved = save(&plan, &run_dir, &outcome, &summary);
    if let Some(failure) = checkpoint_failure {
        return Err(failure.report(run_dir.path(), outcome.history.len(), saved.err()));
    }
    saved.map_err(|err| {
        // Training is done; say what can still be had from the run folder.
        let resume = match last_checkpoint {
            Some(epoch) => format!(
                "`nerve train --resume {}` (once there is room) continues from its checkpoint of epoch {epoch}",
                run_dir.path().display()
            ),
            None => "it wrote no checkpoint".to_owned(),
        };
        err.context(format!(
            "the run trained {} epochs but its results could not all be saved; {resume}",
            outcome.history.len()
        ))
    })?;
    // The pictures come last and only warn on failure: the model and history are saved.
    if !outcome.history.is_empty()
        && let Err(err) = charts::draw_run(run_dir.path(), charts::Format::Svg)
    {
        eprintln!("warning: {err:#}");
    }
    if let Some(err) = divergence {
        // The checkpoint may be an epoch ahead of the model kept (whose weights were chosen for
        // a finite loss), and resuming the same config would diverge again: remove it, its
        // state first, so `--resume` refuses plainly ("no checkpoint") rather than mismatch.
        checkpoint::remove(run_dir.path());
        bail!(
            "{err}. The run folder {} holds the model and history of epoch {}, the last good one (its checkpoint is removed: train again with a smaller learning rate, or from this model with --init)",
            run_dir.path().display(),
            outcome.history.len()
        );
    }
    let printed = if plan.settings.args.json {
        let mut line = serde_json::to_value(&summary)?;
        line["event"] = "summary".into();
        writeln!(std::io::stdout().lock(), "{line}").map_err(anyhow::Error::from)
    } else {
        print_results(config, prepared, &outcome, &train, validation, test)
    };
    // An interrupted run says how to resume it and exits 130 even when its reader has gone
    // (a broken pipe ends the printing, not the run's report).
    if !progress::interrupted() {
        printed?;
        return Ok(ExitCode::SUCCESS);
    }
    report_interrupt(&run_dir, &outcome, last_checkpoint);
    Ok(ExitCode::from(130))
}

/// Writes the model (to the run folder and `--save`), the history and `metrics.json`.
fn save(
    plan: &RunPlan,
    run_dir: &RunDir,
    outcome: &TrainOutcome,
    summary: &nerve_run::RunSummary,
) -> Result<()> {
    let model_path = run_dir.path().join("model.safetensors");
    for path in std::iter::once(model_path.as_path()).chain(plan.settings.args.save.as_deref()) {
        nerve_run::save_model(
            path,
            &outcome.model,
            &plan.prepared.preprocessor,
            &plan.config,
            Some(summary),
        )?;
    }
    run_dir.write_history(
        &outcome.history,
        plan.prepared.task(),
        plan.prepared.validation.is_some(),
    )?;
    run_dir.write_metrics(summary)
}

/// What an interrupted run says: where it is saved and how to continue it.
fn report_interrupt(run_dir: &RunDir, outcome: &TrainOutcome, last_checkpoint: Option<usize>) {
    if outcome.stop_reason != nerve_train::StopReason::Interrupted {
        eprintln!(
            "interrupted while saving; training had ended, and the run is saved in {}",
            run_dir.path().display()
        );
        return;
    }
    let resume = match last_checkpoint {
        Some(epoch) => format!(
            "`nerve train --resume {}` continues it from epoch {epoch}",
            run_dir.path().display()
        ),
        None => {
            "no checkpoint was written (--checkpoint-every 0), so it cannot be resumed".to_owned()
        }
    };
    eprintln!(
        "interrupted after epoch {}: the run is saved in {}; {resume}",
        outcome.history.len(),
        run_dir.path().display()
    );
}

/// `--resume` continues a run as it was configured: only the epoch limit and the checkpoint
/// interval may change; any other flag would mix two configurations in one run (issue 14).
fn refuse_changed_settings(dir: &Path, config: &RunConfig) -> Result<()> {
    let saved = RunConfig::load(&dir.join("config.toml"))?.without_resume_settings();
    let asked = config.without_resume_settings();
    if asked == saved {
        return Ok(());
    }
    let changed = asked.changed_keys(&saved)?;
    if changed == ["training.num_epochs"] {
        bail!(
            "--resume {}: the {} schedule spans the run's {} epochs, so --epochs cannot change when it resumes (the learning rate would jump to another schedule's); resume with --epochs {}, or start a new run (--init from its model)",
            dir.display(),
            config.schedule.name,
            saved.training.num_epochs,
            saved.training.num_epochs
        );
    }
    bail!(
        "--resume {} continues the run as configured in its config.toml; only --epochs and --checkpoint-every may change, but these settings differ: {}. Start a new run to change them",
        dir.display(),
        changed.join(", ")
    )
}

/// Replaces the freshly fitted preprocessing with `preprocessor` (from the model or checkpoint
/// at `path`), naming it when the data does not fit.
fn use_preprocessing(
    prepared: &mut Prepared,
    preprocessor: &nerve_data::Preprocessor,
    path: &Path,
) -> Result<()> {
    prepared.use_preprocessor(preprocessor).with_context(|| {
        format!(
            "the data does not fit the preprocessing of {}",
            path.display()
        )
    })
}
