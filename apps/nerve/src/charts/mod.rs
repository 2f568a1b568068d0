//! The pictures nerve draws with plotters: training curves (`curves.svg`), the confusion matrix
//! (`confusion.svg`), the reliability diagram (`calibration.svg`), ROC and precision-recall
//! curves (`roc.svg`), feature attributions (`explain.svg`), a spiking network's activity
//! (`spikes.svg`) and a search's trials (`tune.svg`), as SVG or PNG.
//!
//! Text is laid out with a bundled DejaVu Sans (ab_glyph), so drawing needs no system font
//! library; in an SVG the text stays text (`<text>` elements) and the viewer's sans-serif font
//! renders it.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::run_dir::write_atomically;
use nerve_run::RunSummary;
use nerve_train::Scores;

mod attribution;
mod confusion;
mod curves;
mod reliability;
mod spikes;
mod tune;

pub(crate) use attribution::{AttributionBars, Bars};
use confusion::Confusion;
use curves::Curves;
use reliability::{Reliability, RocCurves};
pub(crate) use spikes::SpikeActivity;
pub(crate) use tune::{Setting, TuneChart};

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name the bundled font is registered under.
const FONT_NAME: &str = "sans-serif";

/// Series colours (Tableau 10), chosen to stay distinct for the colour-blind in pairs.
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// SVG (the default: small, sharp at any size, text searchable) or PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Svg,
    Png,
}

impl Format {
    /// The format a picture file's name asks for: `.png` a PNG, `.svg` (or no extension) an
    /// SVG; any other extension is refused, naming `flag`, rather than written as SVG under a
    /// misleading name.
    pub(crate) fn of_path(path: &Path, flag: &str) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("png") => Ok(Format::Png),
            Some(e) if e.eq_ignore_ascii_case("svg") => Ok(Format::Svg),
            None => Ok(Format::Svg),
            Some(e) => bail!(
                "{flag} {}: nerve draws .svg or .png pictures, not .{e}",
                path.display()
            ),
        }
    }

    /// The file extension.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Something drawable on any plotters backend.
pub(crate) trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Draws `chart` and writes it to `path` atomically.
pub(crate) fn save(chart: &impl Chart, path: &Path, format: Format) -> Result<()> {
    write_atomically(path, &render(chart, format)?)
}

/// The bytes of `chart` drawn as `format`.
fn render(chart: &impl Chart, format: Format) -> Result<Vec<u8>> {
    register_bundled_font()?;
    let (width, height) = chart.size();
    let bytes = match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                chart.draw(&root)?;
                root.present().map_err(plot_error)?;
            }
            svg.into_bytes()
        }
        Format::Png => {
            let mut pixels = vec![0u8; width as usize * height as usize * 3];
            {
                let root =
                    BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
                chart.draw(&root)?;
                root.present().map_err(plot_error)?;
            }
            let mut png = Vec::new();
            image::ImageEncoder::write_image(
                image::codecs::png::PngEncoder::new(&mut png),
                &pixels,
                width,
                height,
                image::ColorType::Rgb8,
            )
            .context("cannot encode the PNG")?;
            png
        }
    };
    Ok(bytes)
}

fn register_bundled_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| register_font(FONT_NAME, style, FONT).is_ok())
    });
    if ok {
        Ok(())
    } else {
        bail!("the bundled font could not be read")
    }
}

fn plot_error(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the chart: {err}")
}

/// Draws a run folder's pictures from its files: `curves.<ext>` from `history.csv`, and for a
/// classification run `confusion.<ext>` from the confusion matrix in `metrics.json` (the test
/// rows', else the validation rows', else the training rows'), `calibration.<ext>` (the
/// reliability diagram) from the same part's report, and for two classes `roc.<ext>` (ROC and
/// precision-recall curves). Returns the files written.
pub(crate) fn draw_run(dir: &Path, format: Format) -> Result<Vec<std::path::PathBuf>> {
    let history_path = dir.join("history.csv");
    let metrics_path = dir.join("metrics.json");
    if !dir.is_dir() {
        bail!("{} is not a run folder (no such directory)", dir.display());
    }
    let metrics = RunSummary::read(&metrics_path)?;
    // The data file's name (not its whole path) and the target.
    let title = metrics.as_ref().map_or_else(
        || dir.display().to_string(),
        |m| {
            let name = Path::new(&m.data)
                .file_name()
                .map_or_else(|| m.data.clone(), |n| n.to_string_lossy().into_owned());
            format!("{name}, target `{}`", m.target)
        },
    );
    // The loss and its scale, from the run's config when it has one.
    let loss_label = nerve_run::RunConfig::load(&dir.join("config.toml"))
        .ok()
        .map_or_else(
            || "loss".to_owned(),
            |config| {
                let standardized = metrics
                    .as_ref()
                    .is_some_and(|m| m.task == nerve_data::Task::Regression)
                    && config.data.standardize_target;
                if standardized {
                    format!("{} loss, standardized target", config.loss())
                } else {
                    format!("{} loss", config.loss())
                }
            },
        );
    let (header, rows) = read_history(&history_path)?;
    let mut written = Vec::new();
    let mut curves = Curves::from_history(&format!("training on {title}"), &header, &rows)
        .with_context(|| format!("{}", history_path.display()))?
        .with_loss_label(loss_label);
    if let Some(metrics) = &metrics {
        curves = curves.with_kept_epoch(metrics.best_epoch);
    }
    let path = dir.join(format!("curves.{}", format.extension()));
    save(&curves, &path, format)?;
    written.push(path);
    if let Some(metrics) = &metrics
        && let Some(confusion) = confusion_of(metrics, &title)
    {
        let path = dir.join(format!("confusion.{}", format.extension()));
        save(&confusion, &path, format)?;
        written.push(path);
    }
    if let Some(metrics) = &metrics
        && let Some((part, summary, report)) = classification_report_of(metrics)
    {
        let labels = summary.labels.as_deref();
        let rows = summary.metrics.rows;
        let path = dir.join(format!("calibration.{}", format.extension()));
        let reliability = Reliability {
            title: format!("{title}: {part} rows ({rows})"),
            variant: crate::part_report::variant_name(report.calibration.variant, labels),
            calibration: report.calibration.clone(),
        };
        save(&reliability, &path, format)?;
        written.push(path);
        if let Some(curves) = &report.curves {
            let positive = labels
                .and_then(|l| l.get(1))
                .map_or_else(|| "1".to_owned(), |l| crate::output::shorten_cell(l));
            let path = dir.join(format!("roc.{}", format.extension()));
            let roc = RocCurves {
                title: format!("{title}: {part} rows ({rows})"),
                positive,
                curves: (**curves).clone(),
                roc_auc: report.roc_auc.value(),
                average_precision: report.average_precision.value(),
            };
            save(&roc, &path, format)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The report of the last classification part that has one (test, else validation, else
/// training), with the part's name and summary.
fn classification_report_of(
    metrics: &RunSummary,
) -> Option<(
    &str,
    &nerve_run::PartSummary,
    &nerve_train::ClassificationReport,
)> {
    metrics
        .parts()
        .rev()
        .find_map(|(part, summary)| match &summary.report {
            Some(nerve_train::Report::Classification(report)) => Some((part, summary, report)),
            _ => None,
        })
}

/// `history.csv`'s header and numeric rows; errors name the file, line and column.
fn read_history(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot read {} (is {} a run folder written by `nerve train`?)",
            path.display(),
            path.parent().unwrap_or(path).display()
        )
    })?;
    let mut reader = csv::Reader::from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("cannot read {}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("{}, line {line}", path.display()))?;
        let row = record
            .iter()
            .zip(&header)
            .map(|(cell, column)| {
                cell.parse::<f64>().map_err(|_| {
                    anyhow!(
                        "{}, line {line}, column `{column}`: expected a number, found `{cell}`",
                        path.display()
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("{} has no epochs to draw", path.display());
    }
    Ok((header, rows))
}

/// The confusion matrix of `metrics.json`'s test part, else validation, else train.
fn confusion_of(metrics: &RunSummary, title: &str) -> Option<Confusion> {
    let (part, matrix, labels) =
        metrics
            .parts()
            .rev()
            .find_map(|(part, summary)| match &summary.metrics.scores {
                Scores::Classification(m) if !m.confusion_matrix.is_empty() => {
                    Some((part, &m.confusion_matrix, summary.labels.as_ref()))
                }
                _ => None,
            })?;
    let labels: Vec<String> = labels
        .cloned()
        .unwrap_or_else(|| (0..matrix.len()).map(|i| i.to_string()).collect());
    if labels.len() != matrix.len() || matrix.iter().any(|row| row.len() != labels.len()) {
        return None;
    }
    let rows: usize = matrix.iter().flatten().sum();
    Some(Confusion {
        title: format!("{title}: {part} rows ({rows})"),
        labels,
        matrix: matrix.clone(),
    })
}

/// A tick label: short, without float noise (`0.30000000000000004` reads `0.3`).
fn tick(v: f64) -> String {
    let magnitude = v.abs();
    if v == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{v:.0e}")
    } else {
        let text = format!("{v:.4}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_owned()
    }
}

/// Draws the legend of `chart`'s labelled series at `position`, in the charts' one style.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font((FONT_NAME, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .position(position)
        .draw()
        .map_err(plot_error)
}

/// Pixels for a column of labels at `per_char` pixels a character, within `[min, max]`, plus a
/// gap.
fn label_width(labels: &[String], per_char: u32, min: u32, max: u32) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    (longest as u32 * per_char).clamp(min, max) + 20
}
