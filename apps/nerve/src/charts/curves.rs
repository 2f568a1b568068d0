//! `curves.svg`: the loss and a metric per epoch, training beside validation.

use anyhow::{Context, Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{COLOURS, Chart, FONT_NAME, draw_legend, plot_error, tick};

/// Training curves: the loss per epoch (train and validation) above, the main metric below.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curves {
    /// What the run was (the data set), for the title.
    pub(crate) title: String,
    pub(crate) epochs: Vec<f64>,
    pub(crate) loss: Vec<Series>,
    /// The metric's name (`accuracy`, `R²`) and its series; absent when the history has none.
    pub(crate) metric: Option<(String, Vec<Series>)>,
    /// The epoch whose weights the run kept (early stopping's best), marked on both panels.
    pub(crate) kept_epoch: Option<f64>,
    /// The loss axis's name: the loss and its scale (`mse, standardized target`).
    pub(crate) loss_label: String,
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
            kept_epoch: None,
            loss_label: "loss".to_owned(),
        })
    }

    /// Marks the epoch whose weights were kept.
    pub(crate) fn with_kept_epoch(mut self, epoch: usize) -> Self {
        self.kept_epoch = Some(epoch as f64);
        self
    }

    /// Names the loss axis.
    pub(crate) fn with_loss_label(mut self, label: String) -> Self {
        self.loss_label = label;
        self
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

/// Draws one panel of line series over the epochs (`caption` names it and its y axis), on a
/// log scale when `log` is set, with the `kept` epoch marked.
fn line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    epochs: &[f64],
    series: &[Series],
    log: bool,
    kept: Option<f64>,
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
                .y_desc(caption)
                .x_label_formatter(&|e: &f64| format!("{e:.0}"))
                // Float noise around 0 on a linear axis (-1e-16) reads as 0; a log axis is
                // labelled at its decades only (its other ticks would print over each other).
                .y_label_formatter(&|v: &f64| {
                    if log {
                        let decade = v.log10();
                        if (decade - decade.round()).abs() < 1e-9 {
                            tick(*v)
                        } else {
                            String::new()
                        }
                    } else {
                        tick(if v.abs() < noise { 0.0 } else { *v })
                    }
                })
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
            if let Some(epoch) = kept {
                // The kept epoch: a dashed vertical line over the panel, named in the legend.
                let (y0, y1) = (chart.y_range().start, chart.y_range().end);
                let mark = RGBColor(40, 40, 40);
                chart
                    .draw_series(DashedLineSeries::new(
                        [(epoch, y0), (epoch, y1)],
                        6,
                        4,
                        mark.stroke_width(2),
                    ))
                    .map_err(plot_error)?
                    .label(format!("kept: epoch {epoch:.0}"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], mark.stroke_width(2))
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
        let loss_caption = if log {
            format!("{} (log scale)", self.loss_label)
        } else {
            self.loss_label.clone()
        };
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
            &loss_caption,
            &self.epochs,
            &self.loss,
            log,
            self.kept_epoch,
            SeriesLabelPosition::UpperRight,
        )?;
        if let (Some(area), Some((name, series))) = (metric_area, &self.metric) {
            let legend = SeriesLabelPosition::LowerRight;
            let kept = self.kept_epoch;
            line_panel(&area, name, &self.epochs, series, false, kept, legend)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::charts::{Format, render};
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
}
