//! The trainer's [`Observer`] for the terminal: epoch and step bars, plain lines, or nothing;
//! JSON lines on stdout besides; and the Ctrl-C flag.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use nerve_train::{EpochReport, Observer, PartMetrics, Scores, TrainPlan};

/// Set by the first Ctrl-C: training ends after the current epoch.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler: the first press finishes the epoch and saves the run, the
/// second aborts at once.
pub(crate) fn catch_interrupts() {
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: aborting now");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing this epoch, then saving the run (Ctrl-C again aborts at once)"
        );
    });
    if let Err(err) = installed {
        tracing::warn!("Ctrl-C will abort at once: {err}");
    }
}

/// Whether Ctrl-C was pressed.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// How progress is shown on stderr.
enum Display {
    /// An epoch bar and a step bar, with a summary line per epoch kept above them.
    Bars {
        multi: MultiProgress,
        /// Made by `on_start`, once the lengths are known.
        bars: Option<(ProgressBar, ProgressBar)>,
        /// Keep one summary line every this many epochs (about a hundred lines per run).
        keep_every: usize,
    },
    /// One plain line every `every` epochs (stderr is not a terminal).
    Lines {
        every: usize,
        /// The latest epoch not yet printed, shown when training stops.
        unprinted: Option<String>,
    },
    /// Nothing (`--quiet`).
    Quiet,
}

/// Shows the trainer's progress.
pub(crate) struct Progress {
    display: Display,
    json: bool,
    num_epochs: usize,
}

impl Progress {
    /// Bars on a terminal, plain lines otherwise, nothing when `quiet`; with `json`, one JSON
    /// object per epoch on stdout as well.
    pub(crate) fn new(json: bool, quiet: bool) -> Self {
        let display = if quiet {
            Display::Quiet
        } else if std::io::stderr().is_terminal() {
            Display::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: None,
                keep_every: 1,
            }
        } else {
            Display::Lines {
                every: 1,
                unprinted: None,
            }
        };
        Self {
            display,
            json,
            num_epochs: 0,
        }
    }

    /// Removes the bars, or prints the last epoch's line if it was skipped.
    pub(crate) fn finish(&mut self) {
        match &mut self.display {
            Display::Bars { bars, .. } => {
                if let Some((epochs, steps)) = bars.take() {
                    steps.finish_and_clear();
                    epochs.finish_and_clear();
                }
            }
            Display::Lines { unprinted, .. } => {
                if let Some(line) = unprinted.take() {
                    eprintln!("{line}");
                }
            }
            Display::Quiet => {}
        }
    }
}

impl Observer for Progress {
    fn on_start(&mut self, plan: &TrainPlan) {
        self.num_epochs = plan.num_epochs;
        match &mut self.display {
            Display::Bars {
                multi,
                bars,
                keep_every,
            } => {
                let style = |template: &str| {
                    ProgressStyle::with_template(template)
                        .expect("the template is valid")
                        .progress_chars("=> ")
                };
                let epochs = multi.add(
                    ProgressBar::new(plan.num_epochs as u64)
                        .with_style(style("epochs [{bar:30}] {pos}/{len}  {msg}  ETA {eta}")),
                );
                epochs.enable_steady_tick(Duration::from_millis(200));
                let steps = multi.add(
                    ProgressBar::new(plan.steps_per_epoch as u64)
                        .with_style(style("steps  [{bar:30}] {pos}/{len}")),
                );
                *bars = Some((epochs, steps));
                *keep_every = plan.num_epochs.div_ceil(100).max(1);
            }
            Display::Lines { every, .. } => {
                // About ten lines per run, whatever its length.
                *every = plan.num_epochs.div_ceil(10).max(1);
            }
            Display::Quiet => {}
        }
    }

    fn on_step(&mut self, _epoch: usize, step: usize) {
        if let Display::Bars {
            bars: Some((_, steps)),
            ..
        } = &self.display
        {
            steps.set_position(step as u64);
        }
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        let line = summary_line(report, self.num_epochs);
        match &mut self.display {
            Display::Bars {
                multi,
                bars,
                keep_every,
            } => {
                if let Some((epochs, _)) = bars {
                    epochs.set_position(report.epoch as u64);
                    epochs.set_message(short_metrics(report));
                }
                if report.epoch.is_multiple_of(*keep_every) || report.epoch == 1 {
                    let _ = multi.println(&line);
                }
            }
            Display::Lines { every, unprinted } => {
                if report.epoch.is_multiple_of(*every)
                    || report.epoch == 1
                    || report.epoch == self.num_epochs
                {
                    eprintln!("{line}");
                    *unprinted = None;
                } else {
                    *unprinted = Some(line);
                }
            }
            Display::Quiet => {}
        }
        if self.json {
            let mut value = serde_json::to_value(report).unwrap_or_default();
            value["event"] = "epoch".into();
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) must not turn into a panic.
            let _ = writeln!(stdout, "{value}");
        }
    }

    fn should_stop(&mut self) -> bool {
        interrupted()
    }
}

/// `loss 0.1234 acc 0.9500` for a part.
fn part_text(part: &PartMetrics) -> String {
    match &part.scores {
        Scores::Classification(m) => format!("loss {:.4} acc {:.4}", part.loss, m.accuracy),
        Scores::Regression(m) => format!("loss {:.4} r2 {:.4}", part.loss, m.r2),
    }
}

/// The bar's message: the latest epoch's training and validation figures.
fn short_metrics(report: &EpochReport) -> String {
    let mut text = part_text(&report.train);
    if let Some(validation) = &report.validation {
        text.push_str(&format!(" | val {}", part_text(validation)));
    }
    text
}

/// One line per epoch: its number, rate, training and validation figures, gradient norm, time.
pub(crate) fn summary_line(report: &EpochReport, num_epochs: usize) -> String {
    let mut line = format!(
        "epoch {:>width$}/{num_epochs}  lr {:.2e}  loss {:.6e}",
        report.epoch,
        report.lr,
        report.loss(),
        width = num_epochs.to_string().len(),
    );
    match &report.train.scores {
        Scores::Classification(m) => line.push_str(&format!("  acc {:.4}", m.accuracy)),
        Scores::Regression(m) => line.push_str(&format!("  r2 {:.4}", m.r2)),
    }
    if let Some(validation) = &report.validation {
        line.push_str(&format!("  | val {}", part_text(validation)));
    }
    line.push_str(&format!(
        "  |grad| {:.3e}  {:.2}s",
        report.grad_norm,
        report.elapsed.as_secs_f64()
    ));
    line
}
