//! The pictures nerve draws with plotters: training curves (`curves.svg`), the confusion matrix
//! (`confusion.svg`) and feature attributions (`explain.svg`), as SVG or PNG.
//!
//! Text is laid out with a bundled DejaVu Sans (ab_glyph), so drawing needs no system font
//! library; in an SVG the text stays text (`<text>` elements) and the viewer's sans-serif font
//! renders it.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::run_dir::write_atomically;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
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

/// Training curves: the loss per epoch (train and validation) above, the main metric below.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curves {
    /// What the run was (the data set), for the title.
    pub(crate) title: String,
    pub(crate) epochs: Vec<f64>,
    pub(crate) loss: Vec<Series>,
    /// The metric's name (`accuracy`, `R²`) and its series; absent when the history has none.
    pub(crate) metric: Option<(String, Vec<Series>)>,
}

/// One line: a name and one value per epoch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) values: Vec<f64>,
}

impl Curves {
    /// The curves of a history table: `header` as in `history.csv` (`epoch`, `train_loss`,
    /// `val_loss`, `train_accuracy` or `train_r2`, ...) and one row of values per epoch.
    pub(crate) fn from_history(title: &str, header: &[String], rows: &[Vec<f64>]) -> Result<Self> {
        let column = |name: &str| -> Option<Vec<f64>> {
            let i = header.iter().position(|h| h == name)?;
            Some(
                rows.iter()
                    .map(|row| row.get(i).copied().unwrap_or(f64::NAN))
                    .collect(),
            )
        };
        let epochs = column("epoch").context("the history has no `epoch` column")?;
        let pair = |suffix: &str| -> Vec<Series> {
            [("train", "train"), ("val", "validation")]
                .into_iter()
                .filter_map(|(prefix, name)| {
                    column(&format!("{prefix}_{suffix}")).map(|values| Series {
                        name: name.to_owned(),
                        values,
                    })
                })
                .collect()
        };
        let loss = pair("loss");
        if loss.is_empty() {
            bail!("the history has no `train_loss` column");
        }
        let metric = [("accuracy", "accuracy"), ("r2", "R²")]
            .into_iter()
            .map(|(suffix, name)| (name.to_owned(), pair(suffix)))
            .find(|(_, series)| !series.is_empty());
        Ok(Curves {
            title: title.to_owned(),
            epochs,
            loss,
            metric,
        })
    }
}

/// The `[lo, hi]` range of the finite values of `series`, widened when flat.
fn value_range<'a>(series: impl Iterator<Item = &'a Series>) -> Option<(f64, f64)> {
    let (lo, hi) = series
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some((lo - pad, hi + pad))
}

/// Points per line at most: a 100 000-epoch run would otherwise write megabytes of SVG.
const MAX_POINTS: usize = 2000;

/// Draws one panel of line series over the epochs, on a log scale when `log` is set.
fn line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_name: &str,
    epochs: &[f64],
    series: &[Series],
    log: bool,
    legend: SeriesLabelPosition,
) -> Result<()> {
    let first = epochs.first().copied().unwrap_or(1.0);
    let last = epochs.last().copied().unwrap_or(1.0).max(first + 1.0);
    let Some((lo, hi)) = value_range(series.iter()) else {
        return Ok(());
    };
    let noise = if log { 0.0 } else { (hi - lo) * 1e-9 };
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, (FONT_NAME, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80);
    macro_rules! draw_lines {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(y_name)
                .x_label_formatter(&|e: &f64| format!("{e:.0}"))
                // Float noise around 0 on a linear axis (-1e-16) reads as 0.
                .y_label_formatter(&|v: &f64| tick(if v.abs() < noise { 0.0 } else { *v }))
                // A log axis needs more candidates to label every decade it spans.
                .y_labels(if log { 30 } else { 10 })
                .label_style((FONT_NAME, 13))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
            for (i, s) in series.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                // A long run keeps at most MAX_POINTS points per line (and always its last),
                // which is more than the chart has pixels across.
                let stride = epochs.len().div_ceil(MAX_POINTS).max(1);
                let last = epochs.len().saturating_sub(1);
                let points = epochs
                    .iter()
                    .zip(&s.values)
                    .enumerate()
                    .filter(|&(i, _)| i % stride == 0 || i == last)
                    .map(|(_, point)| point)
                    .filter(|(_, v)| v.is_finite() && (!log || **v > 0.0))
                    .map(|(&e, &v)| (e, v));
                chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
            }
            draw_legend(&mut chart, legend.clone())?;
        }};
    }
    if log {
        let positive = series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        draw_lines!(
            builder
                .build_cartesian_2d(first..last, (lo * 0.8..hi * 1.25).log_scale())
                .map_err(plot_error)?
        );
    } else {
        draw_lines!(
            builder
                .build_cartesian_2d(first..last, lo..hi)
                .map_err(plot_error)?
        );
    }
    Ok(())
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

/// Whether a loss curve spans enough orders of magnitude to be read on a log scale.
fn wants_log_scale(series: &[Series]) -> bool {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let all_positive = !values.is_empty() && values.iter().all(|&v| v > 0.0);
    let (lo, hi) = values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    // Plotters labels a log axis only at round values, so one that spans less than two
    // decades would show few labels; such a curve reads well on a linear axis.
    all_positive && hi / lo > 100.0
}

impl Chart for Curves {
    fn size(&self) -> (u32, u32) {
        (900, if self.metric.is_some() { 720 } else { 400 })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&self.title, (FONT_NAME, 22))
            .map_err(plot_error)?;
        let log = wants_log_scale(&self.loss);
        let loss_caption = if log { "loss (log scale)" } else { "loss" };
        // The metric, when there is one, gets the lower half.
        let (loss_area, metric_area) = match &self.metric {
            Some(_) => {
                let (upper, lower) = root.split_vertically(root.dim_in_pixel().1 / 2);
                (upper, Some(lower))
            }
            None => (root, None),
        };
        // Losses fall and metrics rise: each legend goes where its curves end up least.
        line_panel(
            &loss_area,
            loss_caption,
            "loss",
            &self.epochs,
            &self.loss,
            log,
            SeriesLabelPosition::UpperRight,
        )?;
        if let (Some(area), Some((name, series))) = (metric_area, &self.metric) {
            let legend = SeriesLabelPosition::LowerRight;
            line_panel(&area, name, name, &self.epochs, series, false, legend)?;
        }
        Ok(())
    }
}

/// A confusion matrix: rows are the true classes, columns the predicted ones; each cell shows
/// its count, shaded by its share of the true class's rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Confusion {
    pub(crate) title: String,
    pub(crate) labels: Vec<String>,
    /// `matrix[true][predicted]`.
    pub(crate) matrix: Vec<Vec<usize>>,
}

impl Confusion {
    /// Pixels above the grid: the title, the axis name and the class names.
    const TOP: i32 = 100;

    fn cell(&self) -> u32 {
        match self.labels.len() {
            0..=4 => 110,
            5..=8 => 72,
            _ => 52,
        }
    }

    fn label_width(&self) -> u32 {
        label_width(&self.labels, 9, 40, 220)
    }
}

/// Pixels for a column of labels at `per_char` pixels a character, within `[min, max]`, plus a
/// gap.
fn label_width(labels: &[String], per_char: u32, min: u32, max: u32) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    (longest as u32 * per_char).clamp(min, max) + 20
}

impl Chart for Confusion {
    fn size(&self) -> (u32, u32) {
        let n = self.labels.len() as u32;
        let side = self.cell() * n;
        (
            (side + self.label_width() + 80).max(420),
            side + Self::TOP as u32 + 30,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let n = self.labels.len();
        let cell = self.cell() as i32;
        let left = self.label_width() as i32 + 50;
        let top = Self::TOP;
        let text = |size: u32| TextStyle::from((FONT_NAME, size)).color(&BLACK);
        let centred = |size: u32| text(size).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw_text(&self.title, &text(20), (20, 12))
            .map_err(plot_error)?;
        root.draw_text(
            "predicted",
            &centred(15),
            (left + cell * n as i32 / 2, top - 45),
        )
        .map_err(plot_error)?;
        root.draw(&Text::new(
            "true",
            (18, top + cell * n as i32 / 2),
            centred(15).transform(FontTransform::Rotate270),
        ))
        .map_err(plot_error)?;
        for (i, label) in self.labels.iter().enumerate() {
            let middle = cell * i as i32 + cell / 2;
            root.draw_text(label, &centred(13), (left + middle, top - 18))
                .map_err(plot_error)?;
            root.draw_text(
                label,
                &text(13).pos(Pos::new(HPos::Right, VPos::Center)),
                (left - 10, top + middle),
            )
            .map_err(plot_error)?;
        }
        for (t, row) in self.matrix.iter().enumerate() {
            let total: usize = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                // White for 0 through to a deep blue for the whole row.
                let shade = |full: u8| (255.0 - (255.0 - f64::from(full)) * share) as u8;
                let fill = RGBColor(shade(8), shade(69), shade(148));
                let (x, y) = (left + cell * p as i32, top + cell * t as i32);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))
                .map_err(plot_error)?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    RGBColor(200, 200, 200).stroke_width(1),
                ))
                .map_err(plot_error)?;
                let colour = if share > 0.5 { WHITE } else { BLACK };
                root.draw_text(
                    &count.to_string(),
                    &centred(15).color(&colour),
                    (x + cell / 2, y + cell / 2),
                )
                .map_err(plot_error)?;
            }
        }
        Ok(())
    }
}

/// Feature attributions as horizontal bars, largest on top: one bar per feature, split into one
/// segment per output (class) when there are several.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttributionBars {
    pub(crate) title: String,
    /// What the bar length measures, for the axis.
    pub(crate) measure: String,
    /// The features, in the order drawn (top first).
    pub(crate) features: Vec<String>,
    /// The outputs' names (one legend entry each) and, per output, one value per feature.
    pub(crate) segments: Vec<(String, Vec<f64>)>,
}

impl AttributionBars {
    fn label_width(&self) -> u32 {
        label_width(&self.features, 8, 60, 300)
    }
}

impl Chart for AttributionBars {
    fn size(&self) -> (u32, u32) {
        (
            900 + self.label_width(),
            // Tall enough for one legend entry per segment too.
            (140 + 28 * self.features.len() as u32).max(110 + 20 * self.segments.len() as u32),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let totals: Vec<f64> = (0..self.features.len())
            .map(|f| self.segments.iter().map(|(_, v)| v[f]).sum())
            .collect();
        let max = totals
            .iter()
            .copied()
            .fold(0.0f64, f64::max)
            .max(f64::MIN_POSITIVE);
        // An axis over an infinite (or overflowing) range never finishes its ticks.
        if totals.iter().any(|t| !t.is_finite()) || !(max * 1.35).is_finite() {
            anyhow::bail!(
                "the attributions are not finite numbers (the model's outputs overflow: was it saved by a run that diverged?), so there is nothing to draw"
            );
        }
        let n = self.features.len();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_NAME, 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(self.label_width())
            // A segmented range has one segment more than its values: 0..n-1 gives n rows.
            // With a legend, the right quarter stays free of bars for it.
            .build_cartesian_2d(
                0.0..max * if self.segments.len() > 1 { 1.35 } else { 1.05 },
                (0..n - 1).into_segmented(),
            )
            .map_err(plot_error)?;
        let features = &self.features;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_desc(self.measure.as_str())
            .x_label_formatter(&|v: &f64| tick(*v))
            .label_style((FONT_NAME, 13))
            .y_labels(n)
            .y_label_formatter(&|v: &SegmentValue<usize>| match v {
                // Row 0 is at the bottom; the first feature goes on top.
                SegmentValue::CenterOf(i) if *i < n => features[n - 1 - i].clone(),
                SegmentValue::Last => features[0].clone(),
                _ => String::new(),
            })
            .draw()
            .map_err(plot_error)?;
        let mut start = vec![0.0f64; n];
        for (k, (name, values)) in self.segments.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let bars: Vec<Rectangle<(f64, SegmentValue<usize>)>> = values
                .iter()
                .enumerate()
                .map(|(f, &v)| {
                    let row = n - 1 - f;
                    let mut bar = Rectangle::new(
                        [
                            (start[f], SegmentValue::Exact(row)),
                            (start[f] + v, SegmentValue::Exact(row + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(4, 4, 0, 0);
                    start[f] += v;
                    bar
                })
                .collect();
            let series = chart.draw_series(bars).map_err(plot_error)?;
            if self.segments.len() > 1 {
                series.label(name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled())
                });
            }
        }
        if self.segments.len() > 1 {
            draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}

/// Draws a run folder's pictures from its files: `curves.<ext>` from `history.csv`, and for a
/// classification run `confusion.<ext>` from the confusion matrix in `metrics.json` (the test
/// rows', else the validation rows', else the training rows'). Returns the files written.
pub(crate) fn draw_run(dir: &Path, format: Format) -> Result<Vec<std::path::PathBuf>> {
    let history_path = dir.join("history.csv");
    let metrics_path = dir.join("metrics.json");
    if !dir.is_dir() {
        bail!("{} is not a run folder (no such directory)", dir.display());
    }
    let metrics: Option<serde_json::Value> = match std::fs::read(&metrics_path) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not valid JSON", metrics_path.display()))?,
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", metrics_path.display()));
        }
    };
    let title = metrics
        .as_ref()
        .and_then(|m| m["data"].as_str())
        .map_or_else(|| dir.display().to_string(), str::to_owned);
    let (header, rows) = read_history(&history_path)?;
    let mut written = Vec::new();
    let curves = Curves::from_history(&format!("training of {title}"), &header, &rows)
        .with_context(|| format!("{}", history_path.display()))?;
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
    Ok(written)
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
fn confusion_of(metrics: &serde_json::Value, title: &str) -> Option<Confusion> {
    let (part, value) = ["test", "validation", "train"]
        .into_iter()
        .map(|part| (part, &metrics[part]))
        .find(|(_, value)| value["confusion_matrix"].is_array())?;
    let matrix: Vec<Vec<usize>> = serde_json::from_value(value["confusion_matrix"].clone()).ok()?;
    let labels: Vec<String> = serde_json::from_value(value["labels"].clone())
        .unwrap_or_else(|_| (0..matrix.len()).map(|i| i.to_string()).collect());
    if labels.len() != matrix.len() || matrix.iter().any(|row| row.len() != labels.len()) {
        return None;
    }
    let rows: usize = matrix.iter().flatten().sum();
    Some(Confusion {
        title: format!("{title}: {part} rows ({rows})"),
        labels,
        matrix,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ticks_are_short_and_free_of_float_noise() {
        assert_eq!(tick(0.1 + 0.2), "0.3");
        assert_eq!(tick(200.0), "200");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1e-12), "1e-12");
        assert_eq!(tick(-0.25), "-0.25");
    }

    fn history(epochs: usize, columns: &[&str]) -> (Vec<String>, Vec<Vec<f64>>) {
        let header = columns.iter().map(|c| (*c).to_owned()).collect();
        let rows = (1..=epochs)
            .map(|e| {
                columns
                    .iter()
                    .map(|c| {
                        if *c == "epoch" {
                            e as f64
                        } else {
                            1.0 / e as f64
                        }
                    })
                    .collect()
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn curves_take_their_series_from_the_history_columns() {
        let (header, rows) = history(3, &["epoch", "lr", "train_loss", "val_loss", "train_r2"]);
        let curves = Curves::from_history("t", &header, &rows).unwrap();
        let names: Vec<&str> = curves.loss.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["train", "validation"]);
        let (metric, series) = curves.metric.unwrap();
        assert_eq!((metric.as_str(), series.len()), ("R²", 1));

        let (header, rows) = history(3, &["lr", "train_loss"]);
        let err = Curves::from_history("t", &header, &rows).unwrap_err();
        assert!(err.to_string().contains("`epoch`"), "{err}");
    }

    #[test]
    fn long_runs_are_drawn_with_at_most_max_points_per_line() {
        let (header, rows) = history(5 * MAX_POINTS + 3, &["epoch", "train_loss"]);
        let curves = Curves::from_history("t", &header, &rows).unwrap();
        let svg = String::from_utf8(render(&curves, Format::Svg).unwrap()).unwrap();
        let longest = svg
            .split("<polyline")
            .skip(1)
            .map(|line| {
                let points = line.split("points=\"").nth(1).unwrap_or("");
                points
                    .split('"')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .count()
            })
            .max()
            .unwrap();
        assert!(
            longest > MAX_POINTS / 2 && longest <= MAX_POINTS + 1,
            "{longest}"
        );
    }

    #[test]
    fn attribution_bars_refuse_non_finite_or_overflowing_values() {
        // Issue 14.3: an infinite bar sent plotters' axis code into an endless loop.
        // Infinite, NaN, and two segments whose sum overflows (1e308 + 1e308).
        for segments in [
            vec![vec![f64::INFINITY, 1.0]],
            vec![vec![f64::NAN, 1.0]],
            vec![vec![1e308, 1.0], vec![1e308, 1.0]],
        ] {
            let bars = AttributionBars {
                title: "t".to_owned(),
                measure: "m".to_owned(),
                features: vec!["a".to_owned(), "b".to_owned()],
                segments: segments
                    .iter()
                    .enumerate()
                    .map(|(i, values)| (format!("y{i}"), values.clone()))
                    .collect(),
            };
            match render(&bars, Format::Svg) {
                Ok(_) => panic!("{segments:?} was drawn"),
                Err(err) => assert!(err.to_string().contains("not finite"), "{err}"),
            }
        }
    }
}
