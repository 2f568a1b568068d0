//! `nerve train`: a run from flags and config to a run folder.

mod args;
mod describe;
mod results;

pub(crate) use args::TrainArgs;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use describe::describe_run;
use nerve_data::{Dataset, Prepared, prepare};
use nerve_run::{FitPlan, RunConfig};
use results::{Evaluation, print_results, summary};

use crate::charts;
use crate::checkpoint;
use crate::progress::{self, Progress};
use crate::run_dir::{RunDir, read_run_id};
use crate::run_lock::RunLock;

/// Runs `nerve train`: exit 0 when training ends normally, 130 when interrupted (after saving
/// the run), an error when it diverges (after saving the last good epoch's history).
pub(crate) fn run(mut args: TrainArgs) -> Result<ExitCode> {
    // `runs/x/.` and `runs/x/` name `runs/x` (create_dir_all fails on a trailing `.`), and
    // `a/b/../c` names `a/c` (creating it must not make `a/b`).
    for folder in [&mut args.out, &mut args.resume].into_iter().flatten() {
        *folder = crate::output_paths::lexical(folder);
    }
    let chatty = !args.json && !args.quiet;
    if cfg!(debug_assertions) && chatty {
        eprintln!(
            "warning: this is a debug build of nerve; training will be slow. Build with `cargo run --release -p nerve -- train`."
        );
    }
    if let Some(save) = &args.save {
        // The run folder is made before the model is saved, so `--save` may point inside it.
        let run_folder = args.out.as_deref().or(args.resume.as_deref());
        crate::output_paths::check_save(save, run_folder)?;
    }
    let mut config = args.resolve()?;
    if config.training.num_epochs == 0 && args.init.is_none() {
        bail!(
            "--epochs 0 would save an untrained model of random weights; give at least 1 epoch, or use --init MODEL to evaluate and save that model as it is"
        );
    }
    if let Some(out) = &args.out {
        crate::output_paths::refuse_nested_run(out)?;
    }
    // The folder is locked before anything in it is read for the run or written, and stays
    // locked until the run ends: a second run on it is refused at once.
    let lock = match args.out.as_deref().or(args.resume.as_deref()) {
        Some(folder) if !args.print_config => Some(RunLock::acquire(folder)?),
        _ => None,
    };
    if let Some(dir) = &args.resume {
        refuse_changed_settings(dir, &config)?;
    } else if let Some(out) = &args.out
        && !args.overwrite
    {
        crate::run_dir::refuse_earlier_run(out)?;
    }
    let device = config.backend.autodiff_device()?;
    let init = args
        .init
        .as_deref()
        .map(|path| nerve_run::SavedModel::load(path, &device))
        .transpose()?;
    if let Some(init) = &init {
        // The file's architecture, so its weights fit; the data decides the widths again.
        let mut architecture = init.info.architecture.clone().with_widths(0, 0);
        config.spiking = architecture.spiking.take();
        // Dropout acts on training only: the one architecture setting --init may change.
        if let Some(dropout) = args.settings.dropout {
            architecture.dropout = dropout;
        }
        config.model = architecture;
    }
    let table = nerve_run::load_table(&mut config)?;
    let mut prepared = prepare(table, &config.data.prepare_options())?;
    if let Some(init) = &init {
        use_preprocessing(
            &mut prepared,
            &init.preprocessor,
            args.init.as_deref().unwrap_or(Path::new("the model")),
        )?;
    }
    nerve_run::settle(&mut config, &prepared)?;
    let config = config.resolved();
    if args.print_config {
        std::io::stdout()
            .lock()
            .write_all(config.to_toml()?.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    // The checkpoint is checked before anything is written: a refused `--resume` (another
    // network, a damaged checkpoint) must leave the run folder as it was (issue 14). Its rows
    // are transformed with the preprocessing it trained with (fitted, or an `--init` model's).
    let config_sha256 = config.checkpoint_hash()?;
    let checkpoint = match &args.resume {
        Some(dir) => {
            let verified = checkpoint::open(dir, &read_run_id(dir)?, &config_sha256)?;
            let source = dir.join(checkpoint::FOLDER);
            use_preprocessing(&mut prepared, verified.preprocessor(), &source)?;
            anyhow::ensure!(
                config.training.num_epochs >= verified.epoch(),
                "--resume {}: its checkpoint is of epoch {}, past --epochs {}; give --epochs {} or more",
                dir.display(),
                verified.epoch(),
                config.training.num_epochs,
                verified.epoch()
            );
            Some(verified)
        }
        None => None,
    };
    // Planned before the run folder is made: a quantity the run cannot watch, class weights
    // the rows cannot have or an invalid network is a usage error.
    let plan = FitPlan::new(
        &config,
        &prepared.preprocessor,
        &prepared.train,
        prepared.validation.as_ref().is_some_and(|v| !v.is_empty()),
        prepared.table.source_name(),
    )?;
    let mlp_config = &plan.architecture;
    // Before the run folder is made: a run that cannot fit would abort mid-epoch.
    check_memory(mlp_config, &config, prepared.train.len(), args.memory_limit)?;

    let model = match init {
        Some(init) => {
            let found = &init.info.architecture;
            anyhow::ensure!(
                found.d_input == mlp_config.d_input && found.d_output == mlp_config.d_output,
                "the model in {} takes {} inputs and gives {} outputs, but this data needs {} and {}",
                args.init.as_deref().unwrap_or(Path::new("?")).display(),
                found.d_input,
                found.d_output,
                mlp_config.d_input,
                mlp_config.d_output
            );
            init.model
        }
        None => plan.new_network(&prepared.train, &device),
    };

    let data_sha256 = checkpoint::data_hash(
        &std::iter::once(&prepared.train)
            .chain(prepared.validation.as_ref())
            .collect::<Vec<_>>(),
    );
    let resume = checkpoint
        .map(|verified| verified.load(&data_sha256, mlp_config, &device))
        .transpose()?;
    if let (Some(loaded), Some(dir)) = (&resume, &args.resume)
        && let Some(reason) = loaded.resume.finished(&plan.train_config)
    {
        bail!("--resume {}: {reason}", dir.display());
    }
    let run_dir = match (&args.resume, lock) {
        (Some(dir), Some(lock)) => RunDir::reopen(dir, lock)?,
        (_, lock) => RunDir::create(
            args.out.as_deref().zip(lock),
            &nerve_run::data_name(&config.data.path),
            args.overwrite,
        )?,
    };
    run_dir.write_config(&config)?;
    if let Some(warning) = describe::shrink_warning(&config, &prepared) {
        eprintln!("{warning}");
    }
    if chatty {
        eprint!("{}", describe_run(&config, &prepared, &model));
        eprintln!("Run folder: {}", run_dir.path().display());
    }

    progress::catch_interrupts(Some("finishing this epoch, then saving the run"));
    let mut observer = checkpoint::RunObserver::new(
        Progress::new(args.json, args.quiet).with_learning_rate(!config.schedule.is_constant()),
        &run_dir,
        config_sha256,
        data_sha256,
        &prepared.preprocessor,
        config.training.checkpoint_every,
        resume.as_ref().map(|loaded| loaded.epoch),
    )?;
    let trainer = plan.trainer();
    let validation = prepared.validation.as_ref();
    let result = match resume {
        Some(loaded) => trainer.resume(
            loaded.model,
            loaded.resume,
            &prepared.train,
            validation,
            &device,
            &mut observer,
        ),
        None => trainer.fit(model, &prepared.train, validation, &device, &mut observer),
    };
    let checkpoint_failure = observer.finish();
    let last_checkpoint = observer.last_checkpoint();
    let (outcome, divergence) = match result {
        Ok(outcome) => (outcome, None),
        Err(mut err) => match err.take_last_good() {
            Some(last_good) => (last_good, Some(err)),
            None => return Err(err.into()),
        },
    };

    let plain = device.without_autodiff();
    let evaluate = |data: &Dataset| -> Result<Evaluation> {
        Evaluation::new(&trainer, &outcome.model, &config, &prepared, data, &plain)
    };
    let train = evaluate(&prepared.train)?;
    let validation = prepared.validation.as_ref().map(evaluate).transpose()?;
    let test = prepared.test.as_ref().map(evaluate).transpose()?;
    let summary = summary(&config, &prepared, &outcome, &train, &validation, &test);
    // The model first: on a nearly full disk it is what matters most.
    let save = || -> Result<()> {
        let model_path = run_dir.path().join("model.safetensors");
        for path in std::iter::once(model_path.as_path()).chain(args.save.as_deref()) {
            nerve_run::save_model(
                path,
                &outcome.model,
                &prepared.preprocessor,
                &config,
                Some(&summary),
            )?;
        }
        run_dir.write_history(
            &outcome.history,
            prepared.task(),
            prepared.validation.is_some(),
        )?;
        run_dir.write_metrics(&summary)
    };
    let saved = save();
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
    let printed = if args.json {
        let mut line = serde_json::to_value(&summary)?;
        line["event"] = "summary".into();
        writeln!(std::io::stdout().lock(), "{line}").map_err(anyhow::Error::from)
    } else {
        print_results(&config, &prepared, &outcome, &train, validation, test)
    };
    // An interrupted run says how to resume it and exits 130 even when its reader has gone
    // (a broken pipe ends the printing, not the run's report).
    if !progress::interrupted() {
        printed?;
    } else {
        if outcome.stop_reason != nerve_train::StopReason::Interrupted {
            eprintln!(
                "interrupted while saving; training had ended, and the run is saved in {}",
                run_dir.path().display()
            );
        } else {
            let resume = match last_checkpoint {
                Some(epoch) => format!(
                    "`nerve train --resume {}` continues it from epoch {epoch}",
                    run_dir.path().display()
                ),
                None => "no checkpoint was written (--checkpoint-every 0), so it cannot be resumed"
                    .to_owned(),
            };
            eprintln!(
                "interrupted after epoch {}: the run is saved in {}; {resume}",
                outcome.history.len(),
                run_dir.path().display()
            );
        }
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
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

/// Refuses a spiking network whose training would not fit in memory: its estimated activations
/// for backpropagation through time ([`nerve_model::spiking::training_memory`]) against
/// `--memory-limit`, or the memory available now (`MemAvailable` of /proc/meminfo; no check
/// where it cannot be read). The refusal gives the figure and the batch size that would fit.
fn check_memory(
    mlp: &nerve_model::MlpConfig,
    config: &RunConfig,
    train_rows: usize,
    limit: Option<usize>,
) -> Result<()> {
    let batch = config
        .training
        .batch_size
        .resolve(train_rows)
        .min(train_rows)
        .max(1);
    let trace_rows = train_rows.min(nerve_train::SILENCE_SAMPLE_ROWS);
    let Some(needed) = nerve_model::spiking::training_memory(mlp, batch, trace_rows) else {
        return Ok(());
    };
    let (limit, what) = match limit {
        Some(0) => bail!("--memory-limit 0: give the memory training may take, such as 8GiB"),
        Some(limit) => (limit as u64, "--memory-limit"),
        None => match available_memory() {
            Some(available) => (available, "the memory available now"),
            None => return Ok(()),
        },
    };
    if needed.peak() <= limit {
        return Ok(());
    }
    let steps = mlp.spiking.as_ref().map_or(0, |s| s.time_steps);
    let neurons = mlp.d_hidden.iter().sum::<usize>() + mlp.d_output;
    let limit_text = crate::numbers::bytes(limit);
    let change = "fewer --time-steps or a narrower --hidden (it grows with each)";
    if needed.graph <= limit {
        // The trace does not depend on the batch: only the network's size changes it.
        bail!(
            "this spiking network's training would keep about {} to trace which layers fire after each epoch ({steps} time steps x {trace_rows} rows x {neurons} neurons), more than {what} ({limit_text}); give {change}",
            crate::numbers::bytes(needed.trace)
        );
    }
    let fitting_batch = (batch as f64 * limit as f64 / needed.graph as f64).floor() as usize;
    // A smaller batch helps only where the trace fits.
    let hint = if fitting_batch >= 1 && fitting_batch < batch && needed.trace <= limit {
        format!("--batch-size {fitting_batch} or less, or ")
    } else {
        String::new()
    };
    bail!(
        "this spiking network's training would keep about {} of activations for backpropagation through time ({steps} time steps x {batch} rows a batch x {neurons} neurons, several f32 tensors each), more than {what} ({limit_text}); give {hint}{change}",
        crate::numbers::bytes(needed.graph),
    )
}

/// `MemAvailable` of /proc/meminfo, in bytes (Linux; `None` elsewhere).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
