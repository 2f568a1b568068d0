//! `confusion.svg`: the test confusion matrix, counts and row shares.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, FONT_NAME, label_width, plot_error};

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
