//! `explain.svg`: how much each input column moves the model's answer, and which way.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{COLOURS, Chart, FONT_NAME, label_width, plot_error, tick};

/// Feature attributions as horizontal bars, largest on top, with the legend (titled) in a
/// column of its own to the right so the bars use the whole axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttributionBars {
    pub(crate) title: String,
    /// What the bar length measures, for the axis.
    pub(crate) measure: String,
    /// The features, in the order drawn (top first).
    pub(crate) features: Vec<String>,
    /// The legend's title (the target's name).
    pub(crate) legend_title: String,
    pub(crate) bars: Bars,
}

/// What each feature's bar is made of.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bars {
    /// One direction (a regression target's value, a binary model's log-odds): per feature
    /// the mean over the rows of its positive attributions (drawn right of zero) and of its
    /// negative ones (≤ 0, drawn left), so the bar's whole width is the mean |attribution|.
    /// Each side is `(legend label, one value per feature)`.
    Signed {
        positive: (String, Vec<f64>),
        negative: (String, Vec<f64>),
    },
    /// Several outputs (classes): per output the mean |attribution| of each feature, stacked
    /// left to right; `(legend label, one value per feature)` each.
    Stacked(Vec<(String, Vec<f64>)>),
}

/// Colours of the two sides of a signed bar: towards the positive direction (blue) and away
/// from it (orange), the colour-blind-safe pair of [`COLOURS`].
const SIGNED_COLOURS: [RGBColor; 2] = [COLOURS[0], COLOURS[1]];

impl AttributionBars {
    fn label_width(&self) -> u32 {
        label_width(&self.features, 8, 60, 300)
    }

    /// The legend's entries, in order.
    fn legend(&self) -> Vec<(&str, RGBColor)> {
        match &self.bars {
            Bars::Signed { positive, negative } => vec![
                (positive.0.as_str(), SIGNED_COLOURS[0]),
                (negative.0.as_str(), SIGNED_COLOURS[1]),
            ],
            Bars::Stacked(segments) => segments
                .iter()
                .enumerate()
                .map(|(k, (name, _))| (name.as_str(), COLOURS[k % COLOURS.len()]))
                .collect(),
        }
    }

    /// Pixels of the legend column.
    fn legend_width(&self) -> u32 {
        let names: Vec<String> = self
            .legend()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .chain([self.legend_title.clone()])
            .collect();
        label_width(&names, 8, 40, 240) + 40
    }

    /// The axis range: the bars' extent, with 3 % to spare on each side that has bars.
    fn x_range(&self) -> Result<(f64, f64)> {
        let n = self.features.len();
        let (low, high) = match &self.bars {
            Bars::Signed { positive, negative } => (
                negative.1.iter().copied().fold(0.0f64, f64::min),
                positive.1.iter().copied().fold(0.0f64, f64::max),
            ),
            Bars::Stacked(segments) => (
                0.0,
                (0..n)
                    .map(|f| segments.iter().map(|(_, v)| v[f]).sum::<f64>())
                    .fold(0.0f64, f64::max),
            ),
        };
        let values = match &self.bars {
            Bars::Signed { positive, negative } => vec![&positive.1, &negative.1],
            Bars::Stacked(segments) => segments.iter().map(|(_, v)| v).collect(),
        };
        // An axis over an infinite (or overflowing) range never finishes its ticks.
        if values.iter().any(|v| v.iter().any(|a| !a.is_finite()))
            || !(low * 1.03).is_finite()
            || !(high * 1.03).is_finite()
        {
            anyhow::bail!(
                "the attributions are not finite numbers (the model's outputs overflow: was it saved by a run that diverged?), so there is nothing to draw"
            );
        }
        if high - low <= 0.0 {
            // Every attribution is 0: an axis of width 1 around zero.
            return Ok((low.min(0.0), high.max(1.0)));
        }
        Ok((low * 1.03, high * 1.03))
    }
}

impl Chart for AttributionBars {
    fn size(&self) -> (u32, u32) {
        (
            820 + self.label_width() + self.legend_width(),
            // Tall enough for the legend's title and one entry per output too.
            (140 + 28 * self.features.len() as u32).max(130 + 20 * self.legend().len() as u32),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_error)?;
        let (low, high) = self.x_range()?;
        let n = self.features.len();
        let (width, _) = root.dim_in_pixel();
        let (plot_area, legend_area) =
            root.split_horizontally(width.saturating_sub(self.legend_width()));
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(&self.title, (FONT_NAME, 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(self.label_width())
            // A segmented range has one segment more than its values: 0..n-1 gives n rows.
            .build_cartesian_2d(low..high, (0..n - 1).into_segmented())
            .map_err(plot_error)?;
        let features = &self.features;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(RGBColor(240, 240, 240))
            .x_max_light_lines(2)
            .x_desc(self.measure.as_str())
            // Zero, not the `-1e-16` that stepping from a negative start reaches.
            .x_label_formatter(&|v: &f64| {
                tick(if v.abs() < (high - low) * 1e-9 {
                    0.0
                } else {
                    *v
                })
            })
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
        // One bar from `from` to `to` on feature `f`'s row.
        let bar = |f: usize, from: f64, to: f64, colour: RGBColor| {
            let row = n - 1 - f;
            let mut bar = Rectangle::new(
                [
                    (from, SegmentValue::Exact(row)),
                    (to, SegmentValue::Exact(row + 1)),
                ],
                colour.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        };
        match &self.bars {
            Bars::Signed { positive, negative } => {
                for (values, colour) in [
                    (&positive.1, SIGNED_COLOURS[0]),
                    (&negative.1, SIGNED_COLOURS[1]),
                ] {
                    chart
                        .draw_series(
                            values
                                .iter()
                                .enumerate()
                                .map(|(f, &v)| bar(f, 0.0, v, colour)),
                        )
                        .map_err(plot_error)?;
                }
                // Zero, where the two sides meet.
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Last)],
                        BLACK.stroke_width(1),
                    )))
                    .map_err(plot_error)?;
            }
            Bars::Stacked(segments) => {
                let mut start = vec![0.0f64; n];
                for (k, (_, values)) in segments.iter().enumerate() {
                    let colour = COLOURS[k % COLOURS.len()];
                    let bars: Vec<_> = values
                        .iter()
                        .enumerate()
                        .map(|(f, &v)| {
                            let drawn = bar(f, start[f], start[f] + v, colour);
                            start[f] += v;
                            drawn
                        })
                        .collect();
                    chart.draw_series(bars).map_err(plot_error)?;
                }
            }
        }
        draw_side_legend(&legend_area, &self.legend_title, &self.legend())
    }
}

/// A legend in its own area: `title` in bold, then one coloured square and label per entry,
/// level with the top of the plot.
fn draw_side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    entries: &[(&str, RGBColor)],
) -> Result<()> {
    let left = 10;
    let top = 60;
    let style = |size: u32| {
        TextStyle::from((FONT_NAME, size))
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    area.draw_text(
        title,
        &TextStyle::from((FONT_NAME, 14, FontStyle::Bold))
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center)),
        (left, top),
    )
    .map_err(plot_error)?;
    for (i, (name, colour)) in entries.iter().enumerate() {
        let y = top + 24 + 20 * i as i32;
        area.draw(&Rectangle::new(
            [(left, y - 6), (left + 14, y + 6)],
            colour.filled(),
        ))
        .map_err(plot_error)?;
        area.draw_text(name, &style(13), (left + 22, y))
            .map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::charts::{Format, render};

    fn chart(bars: Bars) -> AttributionBars {
        AttributionBars {
            title: "t".to_owned(),
            measure: "m".to_owned(),
            features: vec!["a".to_owned(), "b".to_owned()],
            legend_title: "target".to_owned(),
            bars,
        }
    }

    fn stacked(segments: &[Vec<f64>]) -> Bars {
        Bars::Stacked(
            segments
                .iter()
                .enumerate()
                .map(|(i, values)| (format!("y{i}"), values.clone()))
                .collect(),
        )
    }

    #[test]
    fn attribution_bars_refuse_non_finite_or_overflowing_values() {
        // Issue 14.3: an infinite bar sent plotters' axis code into an endless loop.
        // Infinite, NaN, two segments whose sum overflows (1e308 + 1e308), and a signed side
        // that overflows once the axis adds its margin.
        for bars in [
            stacked(&[vec![f64::INFINITY, 1.0]]),
            stacked(&[vec![f64::NAN, 1.0]]),
            stacked(&[vec![1e308, 1.0], vec![1e308, 1.0]]),
            Bars::Signed {
                positive: ("up".to_owned(), vec![1.0, f64::NAN]),
                negative: ("down".to_owned(), vec![0.0, -1.0]),
            },
            Bars::Signed {
                positive: ("up".to_owned(), vec![1.0, 0.0]),
                negative: ("down".to_owned(), vec![-f64::MAX, -1.0]),
            },
        ] {
            match render(&chart(bars.clone()), Format::Svg) {
                Ok(_) => panic!("{bars:?} was drawn"),
                Err(err) => assert!(err.to_string().contains("not finite"), "{err}"),
            }
        }
    }

    #[test]
    fn the_axis_ends_at_the_bars_on_the_sides_that_have_them() {
        let signed = chart(Bars::Signed {
            positive: ("up".to_owned(), vec![2.0, 0.5]),
            negative: ("down".to_owned(), vec![-0.25, -1.0]),
        });
        assert_eq!(signed.x_range().unwrap(), (-1.03, 2.06));
        let only_positive = chart(Bars::Signed {
            positive: ("up".to_owned(), vec![2.0, 0.5]),
            negative: ("down".to_owned(), vec![0.0, 0.0]),
        });
        assert_eq!(only_positive.x_range().unwrap(), (0.0, 2.06));
        // Stacked: the longest sum of segments.
        let (low, high) = chart(stacked(&[vec![1.0, 3.0], vec![1.0, 0.5]]))
            .x_range()
            .unwrap();
        assert_eq!(low, 0.0);
        assert!((high - 3.5 * 1.03).abs() < 1e-12, "{high}");
        // All zero: still an axis.
        assert_eq!(
            chart(stacked(&[vec![0.0, 0.0]])).x_range().unwrap(),
            (0.0, 1.0)
        );
    }

    #[test]
    fn the_legend_has_its_title_and_every_entry() {
        let svg = String::from_utf8(
            render(
                &chart(stacked(&[vec![1.0, 2.0], vec![0.5, 0.5]])),
                Format::Svg,
            )
            .unwrap(),
        )
        .unwrap();
        // plotters writes each text on a line of its own inside `<text>`.
        for text in ["target", "y0", "y1"] {
            assert!(svg.lines().any(|l| l.trim() == text), "{text} in {svg}");
        }
    }
}
