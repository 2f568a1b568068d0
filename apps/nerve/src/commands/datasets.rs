//! `nerve datasets`: the built-in data sets, described from their own contents.

use std::io::Write as _;

use anyhow::Result;
use nerve_data::{Table, Task, class_labels};

use crate::builtin::DATASETS;

/// Prints one line per built-in data set: rows, features, target, task (as `nerve train
/// --data NAME` would infer it) and what it is.
pub(crate) fn run() -> Result<()> {
    let mut text = format!(
        "{:<14} {:>5} {:>8}  {:<12} {:<28} {}\n",
        "name", "rows", "features", "target", "task", "about"
    );
    for builtin in &DATASETS {
        let table = Table::from_csv_str(builtin.name, builtin.csv)?;
        let target = table
            .columns()
            .last()
            .expect("a table has at least one column");
        let task = match Task::infer(target) {
            Task::Classification => {
                format!("classification, {} classes", class_labels(target).len())
            }
            Task::Regression => "regression".to_owned(),
        };
        text.push_str(&format!(
            "{:<14} {:>5} {:>8}  {:<12} {:<28} {}\n",
            builtin.name,
            table.num_rows(),
            table.columns().len() - 1,
            target.name(),
            task,
            builtin.about
        ));
    }
    text.push_str(
        "Train on one with `nerve train --data NAME`; tuned settings are in configs/NAME.toml.\n",
    );
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
