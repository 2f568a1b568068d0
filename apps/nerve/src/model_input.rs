//! Reading data for a saved model, shared by eval, predict, inspect and explain: the model file,
//! a reader typed by the model's columns, and the transformed inputs with what was unusual.

use anyhow::Result;
use burn::prelude::{Device, Tensor, TensorData};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{
    ColumnKind, CsvOptions, Missing, NaValues, Preprocessor, Table, TableReader, TransformReport,
};

use crate::run_config::{Delimiter, resolve_data};
use crate::saved_model::{self, SavedModel};
use crate::{choice, value_parser};

/// Flags shared by the commands that use a model file: how its data is read and where it runs.
#[derive(Debug, Args)]
pub(crate) struct ReadFlags {
    /// The CSV field delimiter [default: detected]
    #[arg(long, value_name = "CHAR", value_parser = value_parser::<Delimiter>)]
    pub(crate) delimiter: Option<Delimiter>,
    /// CPU backend (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = choice::<BackendKind>(), default_value_t = BackendKind::default())]
    pub(crate) backend: BackendKind,
}

pub(crate) fn open_model(
    path: &std::path::Path,
    backend: BackendKind,
) -> Result<(SavedModel, Device)> {
    let device = backend.device()?;
    let saved = saved_model::load(path, &device)?;
    Ok((saved, device))
}

/// Which of a model's columns a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// The features only (predict, explain, inspect): the target, if present, is not read.
    Features,
    /// The features and the target (eval).
    WithTarget,
}

/// The rows of `data` read for a model: a file or a built-in data set, missing cells kept.
/// Only the model's columns are read, each typed as in training (never re-inferred from the
/// rows at hand), with the run's delimiter (unless given), missing-value strings and
/// thousands separator.
///
/// `keep` names more columns to read as text exactly as written (`predict --keep`). Every
/// column read is checked against the header here, before any row is: a missing one is an
/// error naming it and the file's columns.
pub(crate) fn open_reader(
    data: &str,
    delimiter: Option<Delimiter>,
    saved: &SavedModel,
    columns: Columns,
    keep: &[String],
) -> Result<TableReader<Box<dyn std::io::Read>>> {
    let options = read_options(saved, delimiter, columns, keep);
    let needed: Vec<String> = options.kinds.iter().map(|(name, _)| name.clone()).collect();
    let reader = resolve_data(data)?.reader(&options)?;
    if let Some(column) = needed.iter().find(|n| !reader.columns().contains(n)) {
        return Err(nerve_data::DataError::NoSuchColumn {
            source_name: data.to_owned(),
            column: column.clone(),
            available: reader.columns().to_vec(),
        }
        .into());
    }
    Ok(reader)
}

/// How rows are read for `saved`: only the model's columns (`columns`) plus `keep` as text,
/// each typed as in training (never re-inferred from the rows at hand), with the run's
/// delimiter (unless given), missing-value strings and thousands separator.
pub(crate) fn read_options(
    saved: &SavedModel,
    delimiter: Option<Delimiter>,
    columns: Columns,
    keep: &[String],
) -> CsvOptions {
    let run = &saved.config.data;
    let mut kinds = saved.preprocessor.column_kinds();
    if columns == Columns::Features {
        kinds.retain(|(name, _)| name != saved.preprocessor.target_name());
    }
    for name in keep {
        if !kinds.iter().any(|(n, _)| n == name) {
            kinds.push((name.clone(), ColumnKind::Text));
        }
    }
    CsvOptions {
        delimiter: delimiter.or(run.delimiter).map(|d| d.0),
        missing: Missing::Drop,
        na_values: NaValues::with_extra(&run.na_values),
        thousands: run.thousands,
        kinds,
        skip_unlisted: true,
    }
}

/// What transforming rows had to make up, one sentence per column.
pub(crate) fn report_messages(report: &TransformReport) -> Vec<String> {
    let unseen = report.unseen.iter().map(|(column, n)| {
        format!(
            "{n} value(s) of `{column}` were not seen in training; they are encoded as all zeros"
        )
    });
    let filled = report.filled.iter().map(|(column, n)| {
        format!(
            "{n} missing value(s) of `{column}` were filled with the training rows' mean or most frequent value"
        )
    });
    unseen.chain(filled).collect()
}

/// Warns about what transforming rows for a model had to make up.
pub(crate) fn warn_about(report: &TransformReport) {
    for message in report_messages(report) {
        eprintln!("warning: {message}");
    }
}

/// The network inputs for `rows` of `table`, transformed as in training, as one tensor on
/// `device`; what the transform made up (filled cells, unseen categories) is added to `report`.
///
/// # Shapes
///
/// - result: `[rows.len(), d_input]`
pub(crate) fn model_inputs(
    p: &Preprocessor,
    table: &Table,
    rows: &[usize],
    device: &Device,
    report: &mut TransformReport,
) -> Result<Tensor<2>> {
    let (features, made_up) = p.transform_features(table, rows)?;
    merge(&mut report.filled, made_up.filled);
    merge(&mut report.unseen, made_up.unseen);
    Ok(Tensor::from_data(
        TensorData::new(features, [rows.len(), p.d_input()]),
        device,
    ))
}

/// Adds `more` to `total`, column by column.
pub(crate) fn merge_reports(total: &mut TransformReport, more: TransformReport) {
    merge(&mut total.filled, more.filled);
    merge(&mut total.unseen, more.unseen);
}

/// Adds per-column counts.
fn merge(total: &mut Vec<(String, usize)>, more: Vec<(String, usize)>) {
    for (column, n) in more {
        match total.iter_mut().find(|(c, _)| *c == column) {
            Some((_, m)) => *m += n,
            None => total.push((column, n)),
        }
    }
}
