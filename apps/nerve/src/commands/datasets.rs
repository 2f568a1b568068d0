//! `nerve datasets`: the built-in data sets, described from their own contents and their tuned
//! configs.

use std::io::Write as _;

use anyhow::Result;
use nerve_data::{Table, Task, class_labels};

use nerve_run::RunConfig;
use nerve_run::builtin::DATASETS;

/// Prints one line per built-in data set: rows, features, target, task (as `nerve train
/// --data NAME` would infer it, and the tuned config's where it says otherwise) and what it is.
pub(crate) fn run() -> Result<()> {
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut notes = String::new();
    for builtin in &DATASETS {
        let table = Table::from_csv_str(builtin.name, builtin.csv)?;
        let target = table
            .columns()
            .last()
            .expect("a table has at least one column");
        let inferred = Task::infer(target);
        let task = match inferred {
            Task::Classification => format!("{} classes", class_labels(target).len()),
            Task::Regression => "regression".to_owned(),
        };
        let config = RunConfig::parse(builtin.config, builtin.name, None)?;
        if let Some(tuned) = config.data.task
            && tuned != inferred
        {
            notes.push_str(&format!(
                "{}: its tuned config (`--config {}`) trains it as {tuned} ({} loss).\n",
                builtin.name,
                builtin.name,
                config.loss()
            ));
        }
        rows.push([
            builtin.name.to_owned(),
            table.num_rows().to_string(),
            (table.columns().len() - 1).to_string(),
            target.name().to_owned(),
            task,
            builtin.about.to_owned(),
        ]);
    }
    let header = ["name", "rows", "features", "target", "task", "about"].map(str::to_owned);
    let width = |c: usize| {
        rows.iter()
            .chain([&header])
            .map(|r| r[c].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let line = |r: &[String; 6]| {
        format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:<w3$}  {:<w4$}  ",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        )
    };
    // `about` wraps within what is left of the line, its continuation under itself.
    let indent = " ".repeat(line(&header).chars().count());
    let width = crate::output::line_width(crate::output::Stream::Stdout);
    let mut text = String::new();
    for r in std::iter::once(&header).chain(&rows) {
        let whole = format!("{}{}", line(r), r[5]);
        match width {
            Some(width) => text.push_str(&textwrap::fill(
                &whole,
                textwrap::Options::new(width)
                    .subsequent_indent(&indent)
                    .break_words(false),
            )),
            None => text.push_str(&whole),
        }
        text.push('\n');
    }
    text.push_str(&notes);
    text.push_str(
        "Train on one with `nerve train --data NAME`, or with its tuned settings with\n`nerve train --config NAME` (`--print-config` shows them); `nerve train` with no\narguments is `nerve train --config xor`.\n",
    );
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
