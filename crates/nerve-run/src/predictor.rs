//! One function from rows to answers, used by `nerve predict` (a CSV file, chunk by chunk),
//! `nerve serve` (each request's rows), `nerve eval` and cross-validation: the model's
//! preprocessing, the network a chunk of rows at a time ([`network_outputs`]), then the class
//! (at the model's threshold) or the value, so a row gets the same answer whichever way it
//! comes.

use burn::prelude::{Device, Module, Tensor, TensorData};
use nerve_data::{DataError, Dataset, Table, TransformReport};
use nerve_loss::Loss;
use nerve_model::Mlp;

use crate::non_finite::non_finite_row;
use crate::{NonFiniteOutput, Result, RunError, SavedModel};

/// Why rows got no answers.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The rows cannot be transformed: a feature column missing from the table (named).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A row whose scaled input or network output is not finite (named by its place).
    #[error(transparent)]
    NonFinite(#[from] NonFiniteOutput),
}

impl From<PredictError> for RunError {
    fn from(err: PredictError) -> RunError {
        match err {
            PredictError::Data(err) => RunError::Data(err),
            PredictError::NonFinite(err) => RunError::NonFinite(err),
        }
    }
}

/// A model ready to answer rows.
pub struct Predictor {
    saved: SavedModel,
    device: Device,
    threshold: Option<f64>,
    loss: Loss,
}

/// What a model answers for some rows.
#[derive(Debug, Clone)]
pub struct Answers {
    /// One per row.
    pub predictions: Predictions,
    /// Row-major `[rows, width]`: each class's probability (what `predict --proba` prints), or
    /// for a regression model the network's outputs before the target's scaling is undone.
    pub probabilities: Vec<f32>,
    /// The probabilities' columns: the number of classes, or the network's outputs.
    pub width: usize,
    /// What the preprocessing had to make up (filled cells, unseen categories).
    pub report: TransformReport,
}

/// The answers themselves.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Index into [`Predictor::labels`], per row.
    Classes(Vec<usize>),
    /// The predicted value, in the target's units, per row.
    Values(Vec<f64>),
}

impl Predictor {
    /// A predictor for `saved` on `device` (a plain one: no autodiff), answering two-class
    /// models at `threshold` (the `--threshold` flag) or else at the model's stored threshold.
    ///
    /// # Errors
    ///
    /// A threshold outside [0, 1], or given for a model without two classes
    /// ([`RunError::Setting`]).
    pub fn new(saved: SavedModel, device: Device, threshold: Option<f64>) -> Result<Self> {
        let threshold = saved.decision_threshold(threshold)?;
        let loss = saved.config.loss();
        Ok(Predictor {
            saved,
            device,
            threshold,
            loss,
        })
    }

    /// The model file behind it.
    pub fn saved(&self) -> &SavedModel {
        &self.saved
    }

    /// The class names, for a classifier.
    pub fn labels(&self) -> Option<&[String]> {
        self.saved.preprocessor.labels()
    }

    /// The model's answers for every row of `table`, which must hold the model's feature
    /// columns typed as in training (a reader from [`SavedModel::reader`], or
    /// [`Table::from_records`] with the model's column kinds).
    ///
    /// # Errors
    ///
    /// A feature column missing from `table`, or a row the network answers with a non-finite
    /// number ([`PredictError::NonFinite`]): its class or value would be made up.
    pub fn answer(&self, table: &Table) -> Result<Answers, PredictError> {
        let p = &self.saved.preprocessor;
        let n = table.num_rows();
        let d_input = p.d_input();
        let mut report = TransformReport::default();
        let mut probabilities = Vec::new();
        let mut width = 0;
        for start in chunk_starts(n) {
            let rows: Vec<usize> = (start..n.min(start + FORWARD_ROWS)).collect();
            let (features, made_up) = p.transform_features(table, &rows)?;
            report.merge(made_up);
            // An input beyond f32 after scaling: the answer would be made up, even where an
            // activation that saturates (tanh) hides the infinity.
            if let Some(i) = non_finite_row(&features, d_input) {
                let row = start + i;
                return Err(NonFiniteOutput::new(
                    p,
                    &features[i * d_input..(i + 1) * d_input],
                    row,
                    table.source_name(),
                    Some(table.line(row)),
                )
                .into());
            }
            let (outputs, w) = forward(&self.saved.model, self.loss, features, &self.device);
            width = w;
            probabilities.extend(outputs);
        }
        // A regression value is checked in the target's units too: undoing the scaling can
        // overflow an output that was finite.
        let values: Option<Vec<f64>> = p.labels().is_none().then(|| {
            probabilities
                .chunks(width.max(1))
                .map(|row| p.decode_value(row[0]))
                .collect()
        });
        let bad_value = values
            .as_deref()
            .and_then(|v| v.iter().position(|v| !v.is_finite()));
        if let Some(row) = non_finite_row(&probabilities, width).or(bad_value) {
            let (features, _) = p.transform_features(table, &[row])?;
            return Err(NonFiniteOutput::new(
                p,
                &features,
                row,
                table.source_name(),
                Some(table.line(row)),
            )
            .into());
        }
        let predictions = match values {
            Some(values) => Predictions::Values(values),
            None => Predictions::Classes(
                probabilities
                    .chunks(width.max(1))
                    .map(|row| nerve_train::predicted_class(row, self.threshold))
                    .collect(),
            ),
        };
        Ok(Answers {
            predictions,
            probabilities,
            width,
            report,
        })
    }
}

/// The network's outputs for every row of `data`, row-major, and their width: the standardized
/// value for regression, one probability per class for classification
/// ([`Loss::probabilities`]), computed [`FORWARD_ROWS`] rows at a time on `device` (a plain
/// device; the model is moved there).
///
/// # Shapes
///
/// - `data`: `[rows, d_input]` features
/// - result: `[rows * width]` and `width`
pub fn network_outputs(
    model: &Mlp,
    loss: Loss,
    data: &Dataset,
    device: &Device,
) -> (Vec<f32>, usize) {
    let model = model.clone().fork(device);
    let d_input = data.d_input();
    let n = data.len();
    let mut outputs = Vec::with_capacity(n);
    let mut width = 0;
    for start in chunk_starts(n) {
        let end = n.min(start + FORWARD_ROWS);
        let features = data.features()[start * d_input..end * d_input].to_vec();
        let (chunk, w) = forward(&model, loss, features, device);
        width = w;
        outputs.extend(chunk);
    }
    (outputs, width)
}

/// One forward pass of `features` (row-major, `d_input` per row) through `model` and the
/// loss's output map.
fn forward(model: &Mlp, loss: Loss, features: Vec<f32>, device: &Device) -> (Vec<f32>, usize) {
    let d_input = model.config().d_input;
    let rows = features.len() / d_input.max(1);
    let x = Tensor::<2>::from_data(TensorData::new(features, [rows, d_input]), device);
    let output = loss.probabilities(model.forward(x));
    let width = output.dims()[1];
    let values = output
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32 above");
    (values, width)
}

/// The first row of each chunk of [`FORWARD_ROWS`] of `n` rows (`[0]` for none, so a table
/// without rows still gets its width from one empty pass).
fn chunk_starts(n: usize) -> Vec<usize> {
    let mut starts: Vec<usize> = (0..n).step_by(FORWARD_ROWS).collect();
    if starts.is_empty() {
        starts.push(0);
    }
    starts
}

/// Rows per forward pass: 4,096 rows of 100 hidden units take 1.6 MB a layer, where 200,000
/// rows at once took 80 MB.
pub const FORWARD_ROWS: usize = 4096;
