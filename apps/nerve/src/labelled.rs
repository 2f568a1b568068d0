//! A labelled data file read for a saved model, and the part of the model's own split to use:
//! what `eval` scores and `calibrate` fits on.

use anyhow::Result;
use nerve_data::{Dataset, Split, Table};

use crate::model_input::ReadFlags;
use nerve_run::Columns;
use nerve_run::SavedModel;

/// Which rows of a labelled file: all, or a part of the model's own split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Every row.
    All,
    /// The training rows of the model's own split (same data, split seed and fractions).
    Train,
    /// The validation rows of the model's own split.
    Validation,
    /// The test rows of the model's own split: reproduces the run's test metrics.
    Test,
}

impl nerve_choice::Choice for Part {
    const KIND: &'static str = "split";

    fn all() -> &'static [Self] {
        &[Part::All, Part::Train, Part::Validation, Part::Test]
    }

    fn name(self) -> &'static str {
        match self {
            Part::All => "all",
            Part::Train => "train",
            Part::Validation => "validation",
            Part::Test => "test",
        }
    }
}

impl std::str::FromStr for Part {
    type Err = nerve_choice::UnknownChoice;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        nerve_choice::parse(text)
    }
}

/// A labelled part, ready to score.
pub(crate) struct LabelledPart {
    /// The file's table: the model's columns, rows without a target (or, under the run's
    /// policy, with missing features) left out.
    pub(crate) table: Table,
    /// The part's rows, transformed by the model's preprocessing.
    pub(crate) data: Dataset,
    /// Rows left out for missing values.
    pub(crate) dropped: usize,
}

/// Reads `data` for `saved`'s model and takes the rows of `part` of its split.
///
/// # Errors
///
/// The file cannot be read or lacks the model's columns; a missing value under `--missing
/// error`; the part has no rows.
pub(crate) fn labelled_part(
    saved: &SavedModel,
    data: &str,
    read: &ReadFlags,
    part: Part,
) -> Result<LabelledPart> {
    use nerve_choice::Choice as _;
    let p = &saved.preprocessor;
    let data_config = &saved.config.data;
    let mut table = saved
        .reader(data, read.delimiter, Columns::WithTarget, &[])?
        .read_all()?;
    let present: Vec<String> = data_config
        .ignore
        .iter()
        .filter(|name| table.column_index(name).is_ok())
        .cloned()
        .collect();
    table.remove_columns(&present)?;
    // Rows without a target cannot be scored; incomplete features follow the run's policy.
    let target = p.target_name().to_owned();
    let mut dropped = table.drop_incomplete_rows(&[&target])?.rows_dropped;
    // The table holds only the model's columns: the run's policy applies to them all.
    dropped += table
        .apply_missing(data_config.missing, &target)
        .map_err(|err| match err {
            nerve_data::DataError::Missing {
                source_name,
                line,
                column,
                ..
            } => anyhow::anyhow!(
                "{source_name}, line {line}, column `{column}`: a missing value, and the model was trained with --missing error, so it is refused here too"
            ),
            other => other.into(),
        })?
        .rows_dropped;
    let rows = part_rows(&table, saved, part)?;
    if rows.is_empty() {
        anyhow::bail!(
            "the model's split of {} has no {} rows (its run used --val-split {} and --test-split {}); choose another --split",
            table.source_name(),
            part.name(),
            data_config.val_split,
            data_config.test_split
        );
    }
    let data = p.transform(&table, &rows)?;
    Ok(LabelledPart {
        table,
        data,
        dropped,
    })
}

/// The rows of `part` in the model's own split of `table` (as `nerve train` made it).
fn part_rows(table: &Table, saved: &SavedModel, part: Part) -> Result<Vec<usize>> {
    let n = table.num_rows();
    if part == Part::All {
        return Ok((0..n).collect());
    }
    let preprocessor = &saved.preprocessor;
    let strata = preprocessor
        .labels()
        .map(|labels| nerve_data::class_ids(table, preprocessor.target_name(), labels));
    let (split, _) = Split::of_rows(n, strata.as_deref(), &saved.config.data.split_options())?;
    Ok(match part {
        Part::Train | Part::All => split.train,
        Part::Validation => split.validation,
        Part::Test => split.test,
    })
}
