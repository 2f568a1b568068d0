//! Reading data for a saved model, shared by eval, predict, inspect and explain: the model file,
//! a reader typed by the model's columns, and the transformed inputs with what was unusual.

use anyhow::Result;
use burn::prelude::{Device, Tensor, TensorData};
use clap::Args;
use nerve_backend::BackendKind;
use nerve_data::{Preprocessor, Table, TransformReport};
use nerve_run::{Delimiter, SavedModel};

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
    let saved = SavedModel::load(path, &device)?;
    Ok((saved, device))
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
    report.merge(made_up);
    Ok(Tensor::from_data(
        TensorData::new(features, [rows.len(), p.d_input()]),
        device,
    ))
}
