//! `spikes.svg`: a spiking network firing — one row's spike raster and membrane traces, and
//! the firing rates of every hidden neuron over the data.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{COLOURS, Chart, FONT_NAME, draw_legend, plot_error, tick};

/// What `nerve inspect --data` draws for a spiking model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpikeActivity {
    pub(crate) title: String,
    /// The row drawn in the raster and traces (0-based, as `--row`).
    pub(crate) row: usize,
    /// Per hidden neuron (all hidden layers, first to last), the steps at which it fired on
    /// the row.
    pub(crate) raster: Vec<Vec<usize>>,
    /// Where each hidden layer's neurons start in `raster` and its name (`layers.0`).
    pub(crate) layer_starts: Vec<(usize, String)>,
    /// Time steps.
    pub(crate) time_steps: usize,
    /// A few neurons' membrane potential at every step on the row: `(name, values)`.
    pub(crate) traces: Vec<(String, Vec<f64>)>,
    /// The firing threshold drawn over the traces (the first hidden layer's).
    pub(crate) threshold: f64,
    /// Every hidden neuron's firing rate (spikes per step) over the data's rows.
    pub(crate) rates: Vec<f64>,
}

/// Bins of the firing-rate histogram over [0, 1].
const BINS: usize = 20;

impl Chart for SpikeActivity {
    fn size(&self) -> (u32, u32) {
        (1000, 1050)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&self.title, (FONT_NAME, 20))
            .map_err(plot_error)?;
        let panels = root.split_evenly((3, 1));
        self.draw_raster(&panels[0])?;
        self.draw_traces(&panels[1])?;
        self.draw_rates(&panels[2])
    }
}

impl SpikeActivity {
    fn draw_raster<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let neurons = self.raster.len().max(1);
        let steps = self.time_steps.max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("spike raster of row {}: each dot a spike", self.row),
                (FONT_NAME, 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..steps as f64 - 0.5, -0.5..neurons as f64 - 0.5)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time step")
            .y_desc("hidden neuron")
            .x_label_formatter(&|t: &f64| format!("{t:.0}"))
            .y_label_formatter(&|n: &f64| format!("{n:.0}"))
            .label_style((FONT_NAME, 12))
            .draw()
            .map_err(plot_error)?;
        for (k, (start, name)) in self.layer_starts.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let end = self
                .layer_starts
                .get(k + 1)
                .map_or(self.raster.len(), |(s, _)| *s);
            let dots = self.raster[*start..end]
                .iter()
                .enumerate()
                .flat_map(|(i, steps)| steps.iter().map(move |&t| (t as f64, (start + i) as f64)));
            chart
                .draw_series(dots.map(|p| Circle::new(p, 2, colour.filled())))
                .map_err(plot_error)?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        }
        if self.layer_starts.len() > 1 {
            draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }

    fn draw_traces<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let values = self.traces.iter().flat_map(|(_, v)| v.iter().copied());
        let (lo, hi) = values
            .chain([0.0, self.threshold])
            .filter(|v| v.is_finite())
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-3);
        // Room above the lines for the legend.
        let hi = hi + (hi - lo) * 0.35;
        let steps = self.time_steps.max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "membrane potential of row {}: five neurons, charging, firing and reset",
                    self.row
                ),
                (FONT_NAME, 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..steps as f64 - 0.5, lo - pad..hi + pad)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("time step")
            .y_desc("membrane potential U")
            .x_label_formatter(&|t: &f64| format!("{t:.0}"))
            .y_label_formatter(&|v: &f64| tick(*v))
            .label_style((FONT_NAME, 12))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(plot_error)?;
        for (i, (name, values)) in self.traces.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let points = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(t, &v)| (t as f64, v));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(plot_error)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        let mark = RGBColor(40, 40, 40);
        chart
            .draw_series(DashedLineSeries::new(
                [(-0.5, self.threshold), (steps as f64 - 0.5, self.threshold)],
                6,
                4,
                mark.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(format!("threshold θ = {}", tick(self.threshold)))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], mark.stroke_width(2))
            });
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }

    fn draw_rates<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let mut counts = [0usize; BINS];
        for &rate in self.rates.iter().filter(|r| r.is_finite()) {
            let bin = ((rate * BINS as f64) as usize).min(BINS - 1);
            counts[bin] += 1;
        }
        let silent = self.rates.iter().filter(|&&r| r == 0.0).count();
        let top = counts.iter().copied().max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "firing rates of the {} hidden neurons over the data ({silent} silent)",
                    self.rates.len()
                ),
                (FONT_NAME, 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..top as f64 * 1.08)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("firing rate (spikes per time step)")
            .y_desc("neurons")
            .x_label_formatter(&|v: &f64| tick(*v))
            .y_label_formatter(&|v: &f64| format!("{v:.0}"))
            .label_style((FONT_NAME, 12))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(plot_error)?;
        let width = 1.0 / BINS as f64;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &n)| {
                let x = i as f64 * width;
                let mut bar =
                    Rectangle::new([(x, 0.0), (x + width, n as f64)], COLOURS[0].filled());
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(plot_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::charts::{Format, render};

    #[test]
    fn every_panel_is_drawn_and_names_what_it_shows() {
        let chart = SpikeActivity {
            title: "iris".to_owned(),
            row: 3,
            raster: vec![vec![0, 2, 4], vec![], vec![1]],
            layer_starts: vec![(0, "layers.0".to_owned())],
            time_steps: 5,
            traces: vec![("layers.0 #0".to_owned(), vec![1.2, 0.4, 1.1, 0.3, 1.0])],
            threshold: 1.0,
            rates: vec![0.6, 0.0, 0.2],
        };
        let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
        for text in [
            "spike raster of row 3: each dot a spike",
            "threshold θ = 1",
            "firing rates of the 3 hidden neurons over the data (1 silent)",
            "layers.0 #0",
        ] {
            assert!(svg.lines().any(|l| l.trim() == text), "{text} in {svg}");
        }
        // Four spikes, four dots.
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
    }
}
