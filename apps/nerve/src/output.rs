//! What commands print, shared by all: aligned tables with cut cells, the metrics headline,
//! the confusion matrix, class probabilities, shortened name lists.

use std::fmt::Write as _;

use anyhow::Result;
use nerve_train::{ClassificationMetrics, PartMetrics, Scores};

use crate::numbers::{score, value};

/// Writes `text` to stdout. An error (a reader that has gone: `nerve ... | head`) is returned,
/// not a panic as from `println!`, so `main` ends the command quietly; the binary denies
/// `println!` (clippy's `print_stdout`) so every command prints through here or a lock of its own.
pub(crate) fn print(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The first `max` names (each cut to a table cell's length), then how many more.
pub(crate) fn shorten(names: &[String], max: usize) -> String {
    let shown: Vec<String> = names.iter().take(max).map(|n| shorten_cell(n)).collect();
    if names.len() <= max {
        shown.join(", ")
    } else {
        format!("{}, ... ({} more)", shown.join(", "), names.len() - max)
    }
}

/// Where a command's text goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// The columns prose printed on `stream` is wrapped to, found as clap finds its help's width:
/// the terminal's width when `stream` is a terminal, else `COLUMNS` when set; else `None`, and
/// a pipe or file gets whole lines (for grep and logs).
pub(crate) fn line_width(stream: Stream) -> Option<usize> {
    let terminal = match stream {
        Stream::Stdout => terminal_size::terminal_size_of(std::io::stdout()),
        Stream::Stderr => terminal_size::terminal_size_of(std::io::stderr()),
    };
    terminal
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|&w| w > 0)
}

/// `text` wrapped for `stream`: to [`line_width`], as [`wrap_to`] does.
pub(crate) fn wrap(text: &str, stream: Stream) -> String {
    wrap_to(text, line_width(stream))
}

/// `text` with each line longer than `width` broken at spaces (textwrap), the continuation
/// lines indented by two; lines that start with a space (tables) and words longer than a line
/// are left whole. `None`: `text` as it is.
fn wrap_to(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_owned();
    };
    let options = textwrap::Options::new(width)
        .subsequent_indent("  ")
        .break_words(false);
    let mut wrapped = String::with_capacity(text.len() + text.len() / width.max(1) * 3);
    for line in text.split_inclusive('\n') {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        if body.starts_with(' ') || body.chars().count() <= width {
            wrapped.push_str(line);
        } else {
            wrapped.push_str(&textwrap::fill(body, &options));
            wrapped.push_str(end);
        }
    }
    wrapped
}

/// One line: a part's main metrics.
pub(crate) fn headline(part: &PartMetrics) -> String {
    match &part.scores {
        Scores::Classification(m) => format!(
            "loss {}, accuracy {}, macro-F1 {} (precision {}, recall {})",
            value(part.loss),
            score(m.accuracy),
            score(m.f1_macro),
            score(m.precision_macro),
            score(m.recall_macro)
        ),
        Scores::Regression(m) => format!(
            "R² {}, MAE {}, RMSE {} (loss {})",
            score(m.r2),
            value(m.mae),
            value(m.rmse),
            value(part.loss)
        ),
    }
}

/// The test confusion matrix with class names, for a handful of classes.
pub(crate) fn write_confusion(
    text: &mut String,
    labels: Option<&[String]>,
    metrics: &ClassificationMetrics,
) -> Result<()> {
    const MAX_CLASSES_SHOWN: usize = 12;
    let Some(labels) = labels else {
        return Ok(());
    };
    if labels.len() > MAX_CLASSES_SHOWN {
        return Ok(());
    }
    writeln!(
        text,
        "Confusion matrix (rows: true class, columns: predicted):"
    )?;
    let mut header = vec![String::new()];
    header.extend(labels.iter().cloned());
    let lines: Vec<Vec<String>> = labels
        .iter()
        .zip(&metrics.confusion_matrix)
        .map(|(label, counts)| {
            std::iter::once(label.clone())
                .chain(counts.iter().map(usize::to_string))
                .collect()
        })
        .collect();
    write_aligned(text, &header, &lines)
}

/// A right-aligned table.
pub(crate) fn write_aligned(
    text: &mut String,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<()> {
    let shown =
        |cells: &[String]| -> Vec<String> { cells.iter().map(|c| shorten_cell(c)).collect() };
    let header = shown(header);
    let rows: Vec<Vec<String>> = rows.iter().map(|r| shown(r)).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Padded by hand: `format!("{:>w$}")` panics for widths past 65,535.
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                let pad = w.saturating_sub(cell.chars().count());
                format!("{}{cell}", " ".repeat(pad))
            })
            .collect();
        format!("  {}", padded.join("  "))
    };
    writeln!(text, "{}", line(&header))?;
    for row in &rows {
        writeln!(text, "{}", line(row))?;
    }
    Ok(())
}

/// Table cells longer than this many characters are cut (a class label can be any length).
const MAX_CELL_CHARS: usize = 60;

/// A cell as a table shows it: at most [`MAX_CELL_CHARS`] characters, the cut marked with `...`.
pub(crate) fn shorten_cell(cell: &str) -> String {
    if cell.chars().count() <= MAX_CELL_CHARS {
        return cell.to_owned();
    }
    let kept: String = cell.chars().take(MAX_CELL_CHARS - 3).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_and_tables_stay_whole() {
        let long = format!("Features: {}", vec!["`pixel_0_0`,"; 20].join(" "));
        let table = format!("  {}", "x ".repeat(60));
        let text = wrap_to(&format!("short\n{long}\n{table}\nend"), Some(80));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "short");
        assert!(lines[1].starts_with("Features: `pixel_0_0`,"), "{text}");
        let continued: Vec<&&str> = lines.iter().filter(|l| l.starts_with("  `pixel")).collect();
        assert!(!continued.is_empty(), "{text}");
        assert!(
            lines
                .iter()
                .filter(|l| l.contains("pixel"))
                .all(|l| l.chars().count() <= 80)
        );
        // Every word kept, in order.
        let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(&text), words(&format!("short {long} {table} end")));
        assert!(lines.contains(&table.as_str()));
        assert_eq!(*lines.last().unwrap_or(&""), "end");
        assert!(!text.ends_with('\n'));
        // A word longer than a line is not cut.
        let url = "x".repeat(100);
        assert_eq!(wrap_to(&format!("{url}\n"), Some(80)), format!("{url}\n"));
        // No width (a pipe): whole lines.
        assert_eq!(wrap_to(&long, None), long);
    }
}
