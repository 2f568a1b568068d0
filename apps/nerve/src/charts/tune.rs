//! `tune.svg`: a search's trials — each trial's cross-validated score with its spread (± one
//! standard deviation over the folds), best first — and the score against each numeric
//! setting searched, one small panel each.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{COLOURS, Chart, FONT_NAME, plot_error, tick};

/// A numeric setting of the search and each scored trial's value of it with its mean.
pub(crate) struct Setting {
    /// Its dotted key (`optimizer.learning_rate`).
    pub(crate) key: String,
    /// `(value, mean score)` per trial.
    pub(crate) points: Vec<(f64, f64)>,
}

/// The chart of a search.
pub(crate) struct TuneChart {
    /// The metric's name and whether higher is better.
    pub(crate) metric: String,
    pub(crate) greater_is_better: bool,
    /// `(trial, mean, std)` of each scored trial, best first.
    pub(crate) trials: Vec<(usize, f64, f64)>,
    pub(crate) settings: Vec<Setting>,
}

const WIDTH: u32 = 900;
const TOP: u32 = 340;
const PANEL: u32 = 260;
const PER_ROW: usize = 3;

impl Chart for TuneChart {
    fn size(&self) -> (u32, u32) {
        let rows = self.settings.len().div_ceil(PER_ROW) as u32;
        (WIDTH, TOP + rows * PANEL + 40)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let direction = if self.greater_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let root = root
            .titled(
                &format!("Search: {} by trial ({direction})", self.metric),
                (FONT_NAME, 20),
            )
            .map_err(plot_error)?;
        let (top, bottom) = root.split_vertically(TOP);
        self.draw_trials(&top)?;
        let rows = self.settings.len().div_ceil(PER_ROW);
        if rows > 0 {
            let panels = bottom.split_evenly((rows, PER_ROW));
            for (setting, area) in self.settings.iter().zip(&panels) {
                self.draw_setting(setting, area)?;
            }
        }
        Ok(())
    }
}

impl TuneChart {
    /// Each trial's mean ± std, in rank order.
    fn draw_trials<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let n = self.trials.len().max(1);
        let (low, high) = range(self.trials.iter().flat_map(|&(_, m, s)| [m - s, m + s]));
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5..n as f64 + 0.5, low..high)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("rank (best first)")
            .y_desc(format!("{} (mean ± std over folds)", self.metric))
            .x_labels(n.min(20))
            // Ranks are whole numbers: a tick between two ranks stays blank.
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-9 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT_NAME, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_error)?;
        let colour = COLOURS[0];
        chart
            .draw_series(self.trials.iter().enumerate().map(|(i, &(_, m, s))| {
                let x = i as f64 + 1.0;
                PathElement::new(vec![(x, m - s), (x, m + s)], colour.stroke_width(2))
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(
                self.trials
                    .iter()
                    .enumerate()
                    .map(|(i, &(_, m, _))| Circle::new((i as f64 + 1.0, m), 4, colour.filled())),
            )
            .map_err(plot_error)?;
        Ok(())
    }

    /// The mean score against one setting (log10 of it when its values span two decades).
    fn draw_setting<DB: DrawingBackend>(
        &self,
        setting: &Setting,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<()> {
        let positive = setting.points.iter().all(|&(x, _)| x > 0.0);
        let (x_low, x_high) = range(setting.points.iter().map(|&(x, _)| x));
        let log = positive && x_low > 0.0 && x_high / x_low >= 100.0;
        let points: Vec<(f64, f64)> = setting
            .points
            .iter()
            .map(|&(x, y)| (if log { x.log10() } else { x }, y))
            .collect();
        let (x_low, x_high) = range(points.iter().map(|&(x, _)| x));
        let (y_low, y_high) = range(points.iter().map(|&(_, y)| y));
        let name = setting.key.rsplit('.').next().unwrap_or(&setting.key);
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .caption(
                if log {
                    format!("{name} (log10)")
                } else {
                    name.to_owned()
                },
                (FONT_NAME, 14),
            )
            .x_label_area_size(28)
            .y_label_area_size(52)
            .build_cartesian_2d(x_low..x_high, y_low..y_high)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT_NAME, 12))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(plot_error)?;
        let colour = COLOURS[1];
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3, colour.mix(0.8).filled())),
            )
            .map_err(plot_error)?;
        Ok(())
    }
}

/// A padded range holding every value (a unit range around a single value).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if high > low {
        (high - low) * 0.08
    } else {
        low.abs().max(1.0) * 0.05
    };
    (low - pad, high + pad)
}
