//! `nerve datasets`: the built-in data sets, described from their own contents and their tuned
//! configs.

use std::io::Write as _;

use anyhow::Result;
use nerve_data::{Table, Task, class_labels};

use crate::builtin::DATASETS;
use crate::run_config::RunConfig;

/// Prints one line per built-in data set: rows, features, target, task (as `nerve train
/// --data NAME` would infer it, and the tuned config's where it says otherwise) and what it is.
pub(crate) fn run() -> Result<()> {
    let mut text = format!(
        "{:<14} {:>5} {:>8}  {:<12} {:<27} {}\n",
        "name", "rows", "features", "target", "task", "about"
    );
    let mut notes = String::new();
    for builtin in &DATASETS {
        let table = Table::from_csv_str(builtin.name, builtin.csv)?;
        let target = table
            .columns()
            .last()
            .expect("a table has at least one column");
        let inferred = Task::infer(target);
        let task = match inferred {
            Task::Classification => {
                format!("classification, {} classes", class_labels(target).len())
            }
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
        text.push_str(&format!(
            "{:<14} {:>5} {:>8}  {:<12} {:<27} {}\n",
            builtin.name,
            table.num_rows(),
            table.columns().len() - 1,
            target.name(),
            task,
            builtin.about
        ));
    }
    text.push_str(&notes);
    text.push_str(
        "Train on one with `nerve train --data NAME`, or with its tuned settings with `nerve train --config NAME`\n(`--print-config` shows them); `nerve train` with no arguments is `nerve train --config xor`.\n",
    );
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
