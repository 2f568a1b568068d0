//! `explain.svg`: the mean |attribution| of each input column, one segment per output.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{COLOURS, Chart, FONT_NAME, draw_legend, label_width, plot_error, tick};

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::charts::{Format, render};
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
