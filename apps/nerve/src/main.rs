//! The `nerve` command-line tool: the only part of nerve that prints.
//!
//! `nerve train` trains a network from a TOML run config plus flags that override it; with no
//! arguments it trains the tutorial's network on its 4-row table. `nerve datasets` lists the
//! built-in data sets; `nerve backends` the compiled-in CPU backends.

// This binary is the one place allowed to print: to stderr with `eprintln!`, to stdout only
// through writers whose errors are returned (`output::print`), never `println!`, which panics
// when the reader of a pipe has gone.
#![allow(clippy::print_stderr)]

mod allocator;
mod charts;
mod checkpoint;
mod commands;
#[cfg(test)]
mod fuzz_replay;
mod labelled;
mod model_input;
mod numbers;
mod output;
mod output_paths;
mod part_report;
mod progress;
mod run_dir;
mod run_lock;
mod settings_args;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use nerve_backend::BackendKind;

#[global_allocator]
static ALLOCATOR: allocator::SizeSplit = allocator::SizeSplit;

/// Build, train, inspect and use feed-forward neural networks.
#[derive(Debug, Parser)]
#[command(name = "nerve", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a network (with no arguments: the tutorial's 4-5-1 network on its 4-row table).
    Train(Box<commands::train::TrainArgs>),
    /// Cross-validate the settings of `nerve train`: k folds, preprocessing fitted inside each.
    Cv(Box<commands::cv::CvArgs>),
    /// Search the settings of `nerve train` (grid or random), each trial cross-validated; resumable, parallel, distributable.
    Tune(Box<commands::tune::TuneArgs>),
    /// Score a model file on labelled data: the metrics `nerve train` reports.
    Eval(commands::eval::EvalArgs),
    /// Predict with a model file: one CSV line per input row.
    Predict(commands::predict::PredictArgs),
    /// Export a model file to ONNX, preprocessing included, for onnxruntime, tract and others.
    Export(commands::export::ExportArgs),
    /// Serve model files over HTTP: KServe V2 (Open Inference Protocol), MLflow's /invocations, Prometheus /metrics.
    Serve(commands::serve::ServeArgs),
    /// Calibrate a classifier's probabilities: fit a temperature on held-out rows, write a copy.
    Calibrate(commands::calibrate::CalibrateArgs),
    /// Describe a model file: architecture, preprocessing, training, metrics, weight statistics.
    Inspect(commands::inspect::InspectArgs),
    /// Explain a model's answers: features ranked by integrated-gradients attribution, and a chart.
    Explain(commands::explain::ExplainArgs),
    /// Redraw a run folder's pictures (curves, confusion matrix, calibration, ROC) from its history and metrics.
    Plot(commands::plot::PlotArgs),
    /// Benchmark the anchor workloads W1-W6 on each backend (JSON lines, then a summary).
    Bench(commands::bench::BenchArgs),
    /// List the built-in data sets (`--data NAME`) with their rows, features, target and task.
    Datasets,
    /// List the CPU backends compiled into this build.
    Backends,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let command = cli_command();
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|err| err.exit());
    let result = match cli.command {
        Command::Train(args) => commands::train::run(*args),
        Command::Cv(args) => commands::cv::run(*args),
        Command::Tune(args) => commands::tune::run(*args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Eval(args) => commands::eval::eval(args),
        Command::Predict(args) => commands::predict::predict(args),
        Command::Export(args) => commands::export::export(args),
        Command::Serve(args) => commands::serve::serve(args),
        Command::Calibrate(args) => commands::calibrate::calibrate(args),
        Command::Inspect(args) => commands::inspect::inspect(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Plot(args) => commands::plot::plot(args),
        Command::Datasets => commands::datasets::run().map(|()| ExitCode::SUCCESS),
        Command::Backends => list_backends().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped early (`nerve predict ... | head`) is not an error, as for
        // ripgrep and coreutils: every command's output ends here, quietly.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, with each settings flag's default (for `--data`) in its help.
fn cli_command() -> clap::Command {
    ["train", "cv", "tune"]
        .into_iter()
        .fold(Cli::command(), |command, name| {
            command.mut_subcommand(name, settings_args::with_defaults)
        })
}

/// Whether `err` comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Parses a flag's value with the type's `FromStr`, for clap's `value_parser`.
pub(crate) fn value_parser<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(|err| err.to_string())
}

/// clap's parser of a named choice (an activation, a loss, a task...): read by the type's
/// `FromStr`, which every nerve choice implements with [`nerve_choice::parse`], and listed as
/// the flag's possible values in `--help`.
#[derive(Clone)]
pub(crate) struct ChoiceParser<C>(std::marker::PhantomData<C>);

/// The [`ChoiceParser`] of `C`, for `#[arg(value_parser = choice::<C>())]`.
pub(crate) fn choice<C>() -> ChoiceParser<C> {
    ChoiceParser(std::marker::PhantomData)
}

impl<C> clap::builder::TypedValueParser for ChoiceParser<C>
where
    C: nerve_choice::Choice + std::str::FromStr + Send + Sync,
    C::Err: std::fmt::Display,
{
    type Value = C;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<C, clap::Error> {
        // clap's own function parser, so the error names the flag as for any other value.
        let parse: fn(&str) -> Result<C, String> = value_parser::<C>;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            C::all()
                .iter()
                .map(|c| clap::builder::PossibleValue::new(c.name())),
        ))
    }
}

fn list_backends() -> anyhow::Result<()> {
    let default = BackendKind::default();
    let mut text = String::new();
    for kind in BackendKind::available() {
        let marker = if kind == default { " (default)" } else { "" };
        text += &format!("{:<8} {}{marker}\n", kind.name(), kind.description());
    }
    Ok(output::print(&text)?)
}

#[cfg(test)]
mod tests {
    use clap::{ArgAction, CommandFactory};

    use super::*;

    /// Every flag of every command says what it is when not given: a default clap shows, a
    /// `[default: ...]` in its help, or it is a switch (off unless given).
    #[test]
    fn every_flag_names_its_default() {
        let mut command = cli_command();
        command.build();
        let mut silent = Vec::new();
        for sub in command.get_subcommands() {
            for arg in sub.get_arguments() {
                let switch = matches!(
                    arg.get_action(),
                    ArgAction::SetTrue | ArgAction::Help | ArgAction::HelpLong | ArgAction::Version
                );
                if arg.is_positional() || arg.is_hide_set() || arg.is_required_set() || switch {
                    continue;
                }
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                if arg.get_default_values().is_empty() && !help.contains("[default: ") {
                    silent.push(format!("{} --{}", sub.get_name(), arg.get_id()));
                }
                // One spelling: clap's `[default: X]`, never a `(default: X)` beside it.
                if help.contains("(default") {
                    silent.push(format!(
                        "{} --{} says (default",
                        sub.get_name(),
                        arg.get_id()
                    ));
                }
            }
        }
        assert!(
            silent.is_empty(),
            "flags whose help names no default: {silent:?}"
        );
    }

    /// `train`'s flags all sit under a heading.
    #[test]
    fn train_flags_are_grouped() {
        let mut command = Cli::command();
        command.build();
        let train = command.find_subcommand("train").expect("train exists");
        for arg in train.get_arguments() {
            if arg.get_id() != "help" {
                assert!(
                    arg.get_help_heading().is_some(),
                    "--{} has no heading",
                    arg.get_id()
                );
            }
        }
    }
}
