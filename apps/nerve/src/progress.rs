//! The trainer's [`Observer`] for the terminal: an indicatif bar, plain lines, or JSON lines.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use nerve_train::{EpochReport, Observer, TrainPlan};
use serde_json::json;

/// How progress is shown.
pub(crate) enum Progress {
    /// A progress bar with loss and ETA on stderr (stderr is a terminal).
    Bar(Option<ProgressBar>),
    /// One plain line on stderr every `every` epochs (stderr is not a terminal).
    Lines {
        every: usize,
        num_epochs: usize,
        /// The latest epoch not yet printed, shown when training stops early.
        unprinted: Option<EpochReport>,
    },
    /// One JSON object per epoch on stdout.
    Json,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise; JSON when asked.
    pub(crate) fn new(json: bool) -> Self {
        if json {
            Progress::Json
        } else if std::io::stderr().is_terminal() {
            Progress::Bar(None)
        } else {
            Progress::Lines {
                every: 1,
                num_epochs: 0,
                unprinted: None,
            }
        }
    }

    /// Removes the bar, if any, before the final output.
    /// Removes the bar, or prints the last epoch's line if it was skipped.
    pub(crate) fn finish(&mut self) {
        match self {
            Progress::Bar(Some(bar)) => bar.finish_and_clear(),
            Progress::Lines {
                num_epochs,
                unprinted,
                ..
            } => {
                if let Some(report) = unprinted.take() {
                    print_line(&report, *num_epochs);
                }
            }
            _ => {}
        }
    }
}

impl Observer for Progress {
    fn on_start(&mut self, plan: &TrainPlan) {
        match self {
            Progress::Bar(bar) => {
                let style = ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} epochs  {msg}  ETA {eta}",
                )
                .expect("the template is valid")
                .progress_chars("=> ");
                let new = ProgressBar::new(plan.num_epochs as u64)
                    .with_style(style)
                    .with_prefix("training");
                new.enable_steady_tick(Duration::from_millis(200));
                *bar = Some(new);
            }
            Progress::Lines {
                every, num_epochs, ..
            } => {
                // About ten lines per run, whatever its length.
                *every = plan.num_epochs.div_ceil(10).max(1);
                *num_epochs = plan.num_epochs;
            }
            Progress::Json => {}
        }
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        match self {
            Progress::Bar(Some(bar)) => {
                bar.set_position(report.epoch as u64);
                bar.set_message(format!(
                    "loss {:.3e}  |grad| {:.2e}",
                    report.loss, report.grad_norm
                ));
            }
            Progress::Bar(None) => {}
            Progress::Lines {
                every,
                num_epochs,
                unprinted,
            } => {
                if report.epoch.is_multiple_of(*every)
                    || report.epoch == 1
                    || report.epoch == *num_epochs
                {
                    print_line(report, *num_epochs);
                    *unprinted = None;
                } else {
                    *unprinted = Some(report.clone());
                }
            }
            Progress::Json => {
                let line = json!({
                    "event": "epoch",
                    "epoch": report.epoch,
                    "loss": report.loss,
                    "grad_norm": report.grad_norm,
                    "seconds": report.elapsed.as_secs_f64(),
                });
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (e.g. `| head`) must not turn into a panic.
                let _ = writeln!(stdout, "{line}");
            }
        }
    }
}

fn print_line(report: &EpochReport, num_epochs: usize) {
    eprintln!(
        "epoch {:>width$}/{num_epochs}  loss {:.6e}  |grad| {:.3e}  {:.2}s",
        report.epoch,
        report.loss,
        report.grad_norm,
        report.elapsed.as_secs_f64(),
        width = num_epochs.to_string().len(),
    );
}
