//! The trainer's [`Observer`] for the terminal: epoch and step bars, plain lines, or nothing;
//! JSON lines on stdout besides; and the Ctrl-C flag.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use nerve_train::{EpochReport, Observer, PartMetrics, Scores, TrainPlan};

use crate::numbers::{duration, score, significant, value};

/// Set by the first Ctrl-C: training ends after the current epoch.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The environment variable a parent process (`nerve tune`) sets for its children: the path of
/// a file whose existence is, to them, a Ctrl-C. A signal sent to the parent alone
/// (`kill -INT PID`) then stops its trials and refit too, each once, at an epoch's end.
pub(crate) const STOP_FILE_ENV: &str = "NERVE_STOP_FILE";

/// The file this process creates on its first Ctrl-C, for its children (see
/// [`stop_children_by`]).
static CHILDREN_STOP_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Installs the Ctrl-C handler: the first press sets the flag the command polls, creates the
/// children's stop file if there is one, and prints `what` (what the command does now, e.g.
/// "finishing this epoch, then saving the run"); the second aborts at once. With `None`, for a
/// process whose parent speaks for it, neither press prints anything.
pub(crate) fn catch_interrupts(what: Option<&'static str>) {
    let installed = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            if what.is_some() {
                eprintln!("\ninterrupted again: aborting now");
            }
            std::process::exit(130);
        }
        if let Some(path) = CHILDREN_STOP_FILE.get() {
            let _ = std::fs::write(path, b"");
        }
        if let Some(what) = what {
            eprintln!("\ninterrupted: {what} (Ctrl-C again aborts at once)");
        }
    });
    if let Err(err) = installed {
        tracing::warn!("Ctrl-C will abort at once: {err}");
    }
}

/// Makes this process's first Ctrl-C create `path`, which its children, started with
/// [`STOP_FILE_ENV`] set to it, take as their own Ctrl-C. A stale file at `path` is removed
/// first; the returned guard removes it again when dropped.
pub(crate) fn stop_children_by(path: PathBuf) -> StopFile {
    let _ = std::fs::remove_file(&path);
    let _ = CHILDREN_STOP_FILE.set(path.clone());
    if interrupted() {
        let _ = std::fs::write(&path, b"");
    }
    StopFile(path)
}

/// Removes the children's stop file when dropped.
pub(crate) struct StopFile(PathBuf);

impl Drop for StopFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether Ctrl-C was pressed (or, in a child of `nerve tune`, its parent's stop file exists).
pub(crate) fn interrupted() -> bool {
    static STOP_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    INTERRUPTED.load(Ordering::SeqCst)
        || STOP_FILE
            .get_or_init(|| std::env::var_os(STOP_FILE_ENV).map(PathBuf::from))
            .as_ref()
            .is_some_and(|path| path.exists())
}

/// How progress is shown on stderr.
enum Display {
    /// An epoch bar and a step bar, with a summary line per epoch kept above them.
    Bars {
        multi: MultiProgress,
        /// Made by `on_start`, once the lengths are known.
        bars: Option<(ProgressBar, ProgressBar)>,
    },
    /// Plain lines (stderr is not a terminal).
    Lines {
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
    /// A line is kept every this many epochs: about [`LINES_PER_RUN`] per run.
    every: usize,
    /// When the last line was kept (time since the start), so long runs get one at least every
    /// [`LINE_INTERVAL`].
    last_line: Duration,
    /// Whether the learning rate moves (a schedule or warm-up): shown in each line then.
    lr_changes: bool,
    /// Whether the epoch lines' header was printed.
    header_shown: bool,
    /// The silent spiking layers last warned about (warned again only when they change).
    silent_warned: Vec<usize>,
    /// Training rows (the silent-layer check looks at up to `SILENCE_SAMPLE_ROWS` of them).
    num_rows: usize,
}

/// Epoch lines of a run, about (first and last epochs aside).
const LINES_PER_RUN: usize = 20;

/// A long run keeps an epoch line at least this often besides.
const LINE_INTERVAL: Duration = Duration::from_secs(30);

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
            }
        } else {
            Display::Lines { unprinted: None }
        };
        Self {
            display,
            json,
            num_epochs: 0,
            every: 1,
            last_line: Duration::ZERO,
            lr_changes: false,
            header_shown: false,
            silent_warned: Vec::new(),
            num_rows: 0,
        }
    }

    /// Shows the learning rate in each epoch line (when a schedule moves it).
    pub(crate) fn with_learning_rate(mut self, changes: bool) -> Self {
        self.lr_changes = changes;
        self
    }

    /// Whether the epoch line of `report` is kept: the first and last epochs, every
    /// [`Progress::every`]-th, and one at least every [`LINE_INTERVAL`].
    fn keeps(&mut self, report: &EpochReport) -> bool {
        let keep = report.epoch == 1
            || report.epoch == self.num_epochs
            || report.epoch.is_multiple_of(self.every)
            || report.elapsed >= self.last_line + LINE_INTERVAL;
        if keep {
            self.last_line = report.elapsed;
        }
        keep
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
        self.num_rows = plan.num_rows;
        self.every = plan.num_epochs.div_ceil(LINES_PER_RUN).max(1);
        match &mut self.display {
            Display::Bars { multi, bars } => {
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
            }
            Display::Lines { .. } | Display::Quiet => {}
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
        let line = summary_line(report, self.num_epochs, self.lr_changes);
        let keep = self.keeps(report);
        // The header goes above the first line kept (the first epoch's, or a resumed run's).
        let header = (keep && !self.header_shown)
            .then(|| header_line(report, self.num_epochs, self.lr_changes));
        if header.is_some() {
            self.header_shown = true;
        }
        match &mut self.display {
            Display::Bars { multi, bars } => {
                if let Some((epochs, _)) = bars {
                    epochs.set_position(report.epoch as u64);
                    epochs.set_message(short_metrics(report));
                }
                if keep {
                    if let Some(header) = &header {
                        let _ = multi.println(header);
                    }
                    let _ = multi.println(&line);
                }
            }
            Display::Lines { unprinted } => {
                if keep {
                    if let Some(header) = &header {
                        eprintln!("{header}");
                    }
                    eprintln!("{line}");
                    *unprinted = None;
                } else {
                    *unprinted = Some(line);
                }
            }
            Display::Quiet => {}
        }
        if report.silent_layers != self.silent_warned {
            if !report.silent_layers.is_empty() {
                let layers: Vec<String> = report
                    .silent_layers
                    .iter()
                    .map(|l| format!("layers.{l}"))
                    .collect();
                let rows = nerve_train::SILENCE_SAMPLE_ROWS.min(self.num_rows);
                let warning = crate::output::wrap(
                    &format!(
                        "warning: epoch {}: spiking {} {} fired no spike on {} training rows; a network that does not fire learns nothing (a lower --threshold, a larger --beta or more --time-steps help)",
                        report.epoch,
                        if layers.len() == 1 { "layer" } else { "layers" },
                        layers.join(", "),
                        if rows == self.num_rows {
                            format!("any of its {rows}")
                        } else {
                            format!("the first {rows}")
                        }
                    ),
                    crate::output::Stream::Stderr,
                );
                match &self.display {
                    Display::Bars { multi, .. } => {
                        let _ = multi.println(&warning);
                    }
                    _ => eprintln!("{warning}"),
                }
            }
            self.silent_warned.clone_from(&report.silent_layers);
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

/// `loss 0.07239 acc 0.9500` for a part.
fn part_text(part: &PartMetrics) -> String {
    match &part.scores {
        Scores::Classification(m) => {
            format!("loss {} acc {}", value(part.loss), score(m.accuracy))
        }
        Scores::Regression(m) => format!("loss {} r2 {}", value(part.loss), score(m.r2)),
    }
}

/// The bar's message: the latest epoch's training and validation figures.
fn short_metrics(report: &EpochReport) -> String {
    let mut text = part_text(&report.train);
    if let Some(validation) = &report.validation {
        text.push_str(&format!("  val {}", part_text(validation)));
    }
    text
}

/// The columns of the epoch lines: their names and widths (right-aligned but the first, the
/// epoch, as wide as `epoch/num_epochs`).
fn columns(report: &EpochReport, num_epochs: usize, lr_changes: bool) -> Vec<(String, usize)> {
    let metric = match report.train.scores {
        Scores::Classification(_) => "acc",
        Scores::Regression(_) => "r2",
    };
    let epoch_width = (2 * num_epochs.to_string().len() + 1).max(5);
    let mut columns = vec![
        ("epoch".to_owned(), epoch_width),
        ("loss".to_owned(), 10),
        (metric.to_owned(), 9),
    ];
    if report.validation.is_some() {
        columns.push(("val loss".to_owned(), 10));
        columns.push((format!("val {metric}"), 9));
    }
    if lr_changes {
        columns.push(("lr".to_owned(), 9));
    }
    columns.push(("grad".to_owned(), 9));
    columns.push(("time".to_owned(), 11));
    columns
}

/// The header over the epoch lines.
pub(crate) fn header_line(report: &EpochReport, num_epochs: usize, lr_changes: bool) -> String {
    columns(report, num_epochs, lr_changes)
        .iter()
        .enumerate()
        .map(|(i, (name, width))| align(name, *width, i == 0))
        .collect()
}

/// One line per epoch under [`header_line`], within 80 columns for runs of up to 9 999 epochs:
/// the epoch, the training then validation loss and metric, the learning rate when
/// `lr_changes` (a schedule moves it), the gradient norm, the time so far.
pub(crate) fn summary_line(report: &EpochReport, num_epochs: usize, lr_changes: bool) -> String {
    let score_of = |part: &PartMetrics| match &part.scores {
        Scores::Classification(m) => score(m.accuracy),
        Scores::Regression(m) => score(m.r2),
    };
    let mut cells = vec![
        format!("{}/{num_epochs}", report.epoch),
        value(report.train.loss),
        score_of(&report.train),
    ];
    if let Some(validation) = &report.validation {
        cells.push(value(validation.loss));
        cells.push(score_of(validation));
    }
    if lr_changes {
        cells.push(significant(report.lr, 3));
    }
    cells.push(significant(report.grad_norm, 3));
    cells.push(duration(report.elapsed.as_secs_f64()));
    columns(report, num_epochs, lr_changes)
        .iter()
        .zip(cells)
        .enumerate()
        .map(|(i, ((_, width), cell))| align(&cell, *width, i == 0))
        .collect()
}

/// `text` padded to `width`: on the right for the first column, on the left for the others.
fn align(text: &str, width: usize, first: bool) -> String {
    if first {
        format!("{text:<width$}")
    } else {
        format!("{text:>width$}")
    }
}

/// An observer that only stops training on Ctrl-C (no progress shown): cross-validation's
/// folds in `nerve cv` and a tune trial's.
pub(crate) struct StopOnInterrupt;

impl nerve_train::Observer for StopOnInterrupt {
    fn should_stop(&mut self) -> bool {
        interrupted()
    }
}
