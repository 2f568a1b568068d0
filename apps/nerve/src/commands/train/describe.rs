//! The description of a run printed before training: data, features, network, settings.

use std::fmt::Write as _;

use nerve_data::{ColumnRole, FeatureTransform, Missing, Prepared, Standardize, Task};
use nerve_model::Mlp;

use crate::output::shorten;
use nerve_run::RunConfig;

/// The few lines that say what is about to happen: data, task, split, preprocessing, training.
pub(super) fn describe_run(config: &RunConfig, prepared: &Prepared, model: &Mlp) -> String {
    let mut text = describe_data(config, prepared);
    text.push_str(&describe_training(config, prepared));
    text.push_str(&describe_weights(config, prepared));
    text.push_str(&describe_early_stopping(config, prepared));
    let _ = writeln!(text, "{}", model.summary());
    crate::output::wrap(&text, crate::output::Stream::Stderr)
}

/// The notes of reading and preparing, the data, its split, its features and what was left
/// out.
fn describe_data(config: &RunConfig, prepared: &Prepared) -> String {
    let mut text = String::new();
    let source = prepared.table.source_name();
    let p = &prepared.preprocessor;
    for note in &prepared.notes {
        let _ = writeln!(text, "note: {note}");
    }
    let dropped = &prepared.dropped;
    // A large shrink is a warning of its own (`shrink_warning`), printed even when quiet.
    if dropped.rows_dropped > 0 && shrink_warning(config, prepared).is_none() {
        let _ = writeln!(text, "note: {}", left_out_rows(config, prepared));
    }
    for line in missing_handled(prepared) {
        let _ = writeln!(text, "note: {line}");
    }
    let inferred = if prepared.task_inferred {
        "inferred; --task overrides"
    } else {
        "as configured"
    };
    let what = match p.labels() {
        Some(labels) => format!(", {} classes: {}", labels.len(), shorten(labels, 10)),
        None => String::new(),
    };
    let _ = writeln!(
        text,
        "Data: {source}, {} rows; target `{}`: {} ({inferred}){what}",
        prepared.table.num_rows(),
        p.target_name(),
        prepared.task(),
    );
    let split = &prepared.split;
    if prepared.split_skipped {
        let _ = writeln!(
            text,
            "note: {} rows are too few to hold any out (fewer than {}): all train, and metrics are on the training rows",
            prepared.table.num_rows(),
            nerve_data::MIN_ROWS_TO_SPLIT
        );
    } else if !split.test.is_empty() || !split.validation.is_empty() {
        let stratified = if prepared.task() == Task::Classification {
            "stratified by class, "
        } else {
            ""
        };
        let mut parts = vec![format!("{} train", split.train.len())];
        if !split.validation.is_empty() {
            parts.push(format!("{} validation", split.validation.len()));
        }
        if !split.test.is_empty() {
            parts.push(format!("{} test", split.test.len()));
        }
        let _ = writeln!(
            text,
            "Split: {} rows ({stratified}split seed {})",
            parts.join(", "),
            config.data.split_seed
        );
    }
    let _ = writeln!(text, "{}", describe_features(config, p));
    let left_out: Vec<String> = prepared
        .roles
        .columns
        .iter()
        .filter_map(|(column, role)| {
            let why = match role {
                ColumnRole::Ignored => "--ignore",
                ColumnRole::Identifier => "identifier",
                ColumnRole::RowNumbers => "row numbers",
                ColumnRole::AllMissing => "no values",
                _ => return None,
            };
            Some(format!("`{column}` ({why})"))
        })
        .collect();
    if !left_out.is_empty() {
        let _ = writeln!(text, "Left out: {}", shorten(&left_out, 10));
    }

    text
}

/// The training line: backend, optimizer, schedule, loss, batch, epochs, seed.
fn describe_training(config: &RunConfig, prepared: &Prepared) -> String {
    let mut text = String::new();
    let training = &config.training;
    let mut schedule = config.schedule.name.to_string();
    if config.schedule.warmup_epochs > 0 {
        let _ = write!(
            schedule,
            " after {} warm-up epochs",
            config.schedule.warmup_epochs
        );
    }
    let _ = writeln!(
        text,
        "Training: backend {}, {} lr {} ({schedule}), {} loss, batch {}, up to {} epoch(s), seed {}",
        config.backend,
        config.optimizer.kind,
        config.optimizer.learning_rate,
        config.loss(),
        training.batch_size.resolve(prepared.train.len()),
        training.num_epochs,
        training.seed
    );
    text
}

/// Row and class weights, or a note on a rare class when there are none.
fn describe_weights(config: &RunConfig, prepared: &Prepared) -> String {
    let mut text = String::new();
    let p = &prepared.preprocessor;
    if let (Some(column), Some(weights)) = (&config.data.weight_column, prepared.train.weights()) {
        let (low, high) = weights
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &w| {
                (lo.min(w), hi.max(w))
            });
        let mean = weights.iter().map(|&w| f64::from(w)).sum::<f64>() / weights.len() as f64;
        let zero = weights.iter().filter(|&&w| w == 0.0).count();
        let zero = if zero > 0 {
            format!("; {zero} weigh 0 and are not learned from")
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "Row weights: `{}` ({} to {}, mean {} over the training rows{zero})",
            crate::output::shorten_cell(column.trim()),
            crate::numbers::value(f64::from(low)),
            crate::numbers::value(f64::from(high)),
            crate::numbers::value(mean),
        );
    }
    if config.weighted() {
        let _ = writeln!(
            text,
            "Weighted: the epoch losses, early stopping and the kept epoch use the weighted loss; the final losses and scores are unweighted"
        );
    }
    if let Some(labels) = p.labels() {
        let train = prepared.train.targets();
        match &config.loss.class_weight {
            Some(spec) => {
                if let Ok(weights) = spec.resolve(labels, train) {
                    let shown: Vec<String> = labels
                        .iter()
                        .zip(&weights)
                        .map(|(l, w)| {
                            format!(
                                "{} {}",
                                crate::output::shorten_cell(l),
                                crate::numbers::value(*w)
                            )
                        })
                        .collect();
                    let _ = writeln!(text, "Class weights: {}", shorten(&shown, 10));
                }
            }
            None => {
                // A rare class is easy to ignore for a model scored by accuracy.
                let mut counts = vec![0usize; labels.len()];
                for &t in train {
                    if let Some(c) = counts.get_mut(t as usize) {
                        *c += 1;
                    }
                }
                if let Some((k, &count)) = counts.iter().enumerate().min_by_key(|&(_, c)| *c)
                    && !train.is_empty()
                    && (count as f64) < 0.1 * train.len() as f64
                {
                    let _ = writeln!(
                        text,
                        "note: class `{}` is {:.1} % of the training rows; a model can score well by ignoring it (--class-weight balanced weighs every class the same)",
                        crate::output::shorten_cell(&labels[k]),
                        100.0 * count as f64 / train.len() as f64
                    );
                }
            }
        }
    }
    text
}

/// What early stopping watches, and why it is on when `auto` turned it on.
fn describe_early_stopping(config: &RunConfig, prepared: &Prepared) -> String {
    let mut text = String::new();
    let training = &config.training;
    if training.patience > 0 {
        let watched = match training.monitor {
            nerve_train::Monitor::ValLoss if prepared.validation.is_none() => {
                "training loss (no --val-split)".to_owned()
            }
            nerve_train::Monitor::ValLoss => "validation loss".to_owned(),
            nerve_train::Monitor::TrainLoss => "training loss".to_owned(),
            monitor => format!("{monitor} (maximized)"),
        };
        // Said when `auto` made it: a user who gave no flag should know why rows were held out.
        let training_rows = prepared.split.train.len() + prepared.split.validation.len();
        let why = if training.early_stopping == nerve_run::EarlyStopping::Auto
            && training.patience == nerve_run::EarlyStopping::PATIENCE
            && training_rows >= nerve_run::EarlyStopping::AUTO_MIN_ROWS
        {
            format!(
                " (the default from {} training rows; --early-stopping off trains every epoch)",
                crate::numbers::count(nerve_run::EarlyStopping::AUTO_MIN_ROWS)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "Early stopping: after {} epochs without a {watched} improvement of more than {}; the best epoch's weights are kept{why}",
            training.patience, training.min_delta
        );
    }
    text
}

/// The features line of the run description: each kind of input with its columns.
fn describe_features(config: &RunConfig, p: &nerve_data::Preprocessor) -> String {
    let mut numeric = Vec::new();
    let mut one_hot = Vec::new();
    let mut dates = Vec::new();
    for feature in &p.features {
        match feature {
            FeatureTransform::Numeric { column, .. } => numeric.push(format!("`{column}`")),
            FeatureTransform::Categorical {
                column,
                categories,
                infrequent,
                missing_level,
                ..
            } => {
                let missing = if *missing_level { " + (missing)" } else { "" };
                one_hot.push(if infrequent.is_empty() {
                    format!("`{column}` ({}{missing})", categories.len())
                } else {
                    format!(
                        "`{column}` ({} + infrequent of {}{missing})",
                        categories.len(),
                        categories.len() + infrequent.len()
                    )
                });
            }
            FeatureTransform::Date { column, .. } => dates.push(format!("`{column}`")),
        }
    }
    let scaling = match config.data.standardize {
        Standardize::ZScore => "standardized on the training rows",
        Standardize::Robust => {
            "robust-scaled (median, interquartile range) and smoothly clipped to ±3 on the training rows"
        }
        Standardize::ZScoreClip => "standardized on the training rows and smoothly clipped to ±3",
        Standardize::None => "as they are",
    };
    let mut parts = Vec::new();
    if !numeric.is_empty() {
        parts.push(format!(
            "{} numeric {} ({scaling})",
            numeric.len(),
            shorten(&numeric, 10)
        ));
    }
    if !one_hot.is_empty() {
        parts.push(format!("one-hot {}", shorten(&one_hot, 10)));
    }
    if !dates.is_empty() {
        parts.push(format!(
            "dates {} (year, month, day, weekday, days since the earliest)",
            shorten(&dates, 10)
        ));
    }
    format!("Features: {} -> {} inputs", parts.join("; "), p.d_input())
}

/// `name n, name n` for per-column counts.
/// The rows left out for missing values, per column, and the flag that keeps them.
fn left_out_rows(config: &RunConfig, prepared: &Prepared) -> String {
    let dropped = &prepared.dropped;
    let share = 100.0 * dropped.rows_dropped as f64 / dropped.rows_before.max(1) as f64;
    let target = prepared.preprocessor.target_name();
    let only_targets = dropped
        .per_column
        .iter()
        .all(|(column, _)| column == target);
    let (what, advice) = if config.data.missing == Missing::Drop && !only_targets {
        (
            "with missing values",
            "; --missing impute keeps them (blanks encoded as missing)",
        )
    } else {
        ("without a target", "; a missing target cannot be imputed")
    };
    format!(
        "left out {} of {} rows ({share:.0}%) {what} (missing per column: {}){advice}",
        dropped.rows_dropped,
        dropped.rows_before,
        counts(&dropped.per_column),
    )
}

/// A warning when more than a tenth of the rows were left out: a run must not shrink silently.
pub(super) fn shrink_warning(config: &RunConfig, prepared: &Prepared) -> Option<String> {
    let dropped = &prepared.dropped;
    (dropped.rows_dropped * 10 > dropped.rows_before)
        .then(|| format!("warning: {}", left_out_rows(config, prepared)))
}

/// What was done with each feature column's missing cells: encoded as missing (an indicator
/// input or a level of their own, as in training) or filled with the training mean or most
/// frequent value (a blank in rows the training part had none of).
fn missing_handled(prepared: &Prepared) -> Vec<String> {
    let (mut level, mut indicator, mut filled) = (Vec::new(), Vec::new(), Vec::new());
    for (column, n) in &prepared.imputed {
        let cell = format!("{} of `{column}`", crate::numbers::count(*n));
        match prepared
            .preprocessor
            .features
            .iter()
            .find(|f| f.column() == column)
        {
            Some(FeatureTransform::Categorical {
                missing_level: true,
                ..
            }) => level.push(cell),
            Some(f) if f.encodes_missing() => indicator.push(cell),
            Some(_) => filled.push(cell),
            None => {}
        }
    }
    let mut lines = Vec::new();
    if !level.is_empty() {
        lines.push(format!(
            "blanks as a level of their own (`=(missing)`): {}",
            shorten(&level, 10)
        ));
    }
    if !indicator.is_empty() {
        lines.push(format!(
            "blanks filled with the training mean, with a missing-indicator input (`.missing`): {}",
            shorten(&indicator, 10)
        ));
    }
    if !filled.is_empty() {
        lines.push(format!(
            "blanks filled with the training mean or most frequent value (the training rows had none): {}",
            shorten(&filled, 10)
        ));
    }
    lines
}

fn counts(per_column: &[(String, usize)]) -> String {
    let parts: Vec<String> = per_column
        .iter()
        .map(|(column, n)| format!("`{column}` {n}"))
        .collect();
    parts.join(", ")
}
