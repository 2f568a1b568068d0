//! `calibration.svg` (a reliability diagram) and `roc.svg` (ROC and precision-recall curves)
//! from a classification part's report.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{COLOURS, Chart, FONT_NAME, draw_legend, plot_error};
use nerve_train::{BinaryCurves, Calibration};

/// A reliability diagram: each bin's observed share against its mean predicted probability,
/// over the diagonal of perfect calibration, with the rows per bin as bars below.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reliability {
    pub(crate) title: String,
    /// What the probabilities are: `P(`Yes`)` or `top class`.
    pub(crate) variant: String,
    pub(crate) calibration: Calibration,
}

impl Chart for Reliability {
    fn size(&self) -> (u32, u32) {
        (640, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&self.title, (FONT_NAME, 20))
            .map_err(plot_error)?;
        let (upper, lower) = root.split_vertically(root.dim_in_pixel().1 * 7 / 10);
        let mut chart = ChartBuilder::on(&upper)
            .caption(
                format!(
                    "reliability of {}: ECE {:.4}",
                    self.variant, self.calibration.ece
                ),
                (FONT_NAME, 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(format!("mean predicted {}", self.variant))
            .y_desc("observed share")
            .label_style((FONT_NAME, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_error)?;
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                6,
                4,
                grey.stroke_width(1),
            ))
            .map_err(plot_error)?
            .label("perfectly calibrated")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1))
            });
        let points: Vec<(f64, f64)> = self
            .calibration
            .bins
            .iter()
            .filter_map(|b| Some((b.mean_predicted?, b.observed?)))
            .collect();
        let colour = COLOURS[0];
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(plot_error)?
            .label("model (one point per non-empty bin)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(plot_error)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        let most = self
            .calibration
            .bins
            .iter()
            .map(|b| b.count)
            .max()
            .unwrap_or(0)
            .max(1);
        let mut counts = ChartBuilder::on(&lower)
            .caption("rows per bin", (FONT_NAME, 14))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..(most as f64 * 1.15))
            .map_err(plot_error)?;
        counts
            .configure_mesh()
            .x_desc(format!("predicted {}", self.variant))
            .y_desc("rows")
            // Whole rows only: at small counts the axis's half steps would print twice.
            .y_labels((most + 1).min(8))
            .y_label_formatter(&|v: &f64| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .label_style((FONT_NAME, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_error)?;
        counts
            .draw_series(self.calibration.bins.iter().map(|b| {
                Rectangle::new(
                    [(b.lower, 0.0), (b.upper, b.count as f64)],
                    COLOURS[0].mix(0.5).filled(),
                )
            }))
            .map_err(plot_error)?;
        counts
            .draw_series(self.calibration.bins.iter().map(|b| {
                Text::new(
                    b.count.to_string(),
                    (
                        0.5 * (b.lower + b.upper) - 0.015,
                        b.count as f64 + most as f64 * 0.1,
                    ),
                    (FONT_NAME, 12),
                )
            }))
            .map_err(plot_error)?;
        Ok(())
    }
}

/// ROC (left) and precision-recall (right) curves of a two-class model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RocCurves {
    pub(crate) title: String,
    /// The positive class's name.
    pub(crate) positive: String,
    pub(crate) curves: BinaryCurves,
    pub(crate) roc_auc: Option<f64>,
    pub(crate) average_precision: Option<f64>,
}

impl Chart for RocCurves {
    fn size(&self) -> (u32, u32) {
        (1000, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&self.title, (FONT_NAME, 20))
            .map_err(plot_error)?;
        let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
        let shown =
            |v: Option<f64>| v.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.4}"));
        let c = &self.curves;
        panel(
            &left,
            &format!("ROC of `{}`: AUC {}", self.positive, shown(self.roc_auc)),
            ("false positive rate", "true positive rate (recall)"),
            c.fpr.iter().copied().zip(c.tpr.iter().copied()).collect(),
            ("random ranking", [(0.0, 0.0), (1.0, 1.0)]),
            SeriesLabelPosition::LowerRight,
        )?;
        panel(
            &right,
            &format!(
                "precision-recall of `{}`: AP {}",
                self.positive,
                shown(self.average_precision)
            ),
            ("recall", "precision"),
            precision_steps(&c.recall, &c.precision),
            (
                "random ranking (share positive)",
                [(0.0, c.positive_share), (1.0, c.positive_share)],
            ),
            SeriesLabelPosition::LowerLeft,
        )?;
        Ok(())
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    (x_desc, y_desc): (&str, &str),
    points: Vec<(f64, f64)>,
    (baseline_name, baseline): (&str, [(f64, f64); 2]),
    legend: SeriesLabelPosition,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT_NAME, 15))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..1.0, 0.0..1.02)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT_NAME, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_error)?;
    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(baseline, 6, 4, grey.stroke_width(1)))
        .map_err(plot_error)?
        .label(baseline_name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1)));
    let colour = COLOURS[0];
    chart
        .draw_series(LineSeries::new(points, colour.stroke_width(2)))
        .map_err(plot_error)?
        .label("model")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    draw_legend(&mut chart, legend)
}

/// The precision-recall curve as the step function average precision integrates: from each
/// recall to the next at the next point's precision (AP = Σ (R_n − R_{n−1}) P_n).
fn precision_steps(recall: &[f64], precision: &[f64]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(2 * recall.len());
    for (i, (&r, &p)) in recall.iter().zip(precision).enumerate() {
        if i > 0 {
            points.push((recall[i - 1], p));
        }
        points.push((r, p));
    }
    points
}
