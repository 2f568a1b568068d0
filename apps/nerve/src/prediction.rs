//! One function from rows to answers, used by `nerve predict` (a CSV file, chunk by chunk) and
//! `nerve serve` (each request's rows): the model's preprocessing, the network, then the class
//! (at the model's threshold) or the value, so a row gets the same answer either way.

use anyhow::Result;
use burn::prelude::{Device, Tensor, TensorData};
use nerve_data::{Table, TransformReport};
use nerve_loss::Loss;

use crate::model_input::merge_reports;
use crate::saved_model::SavedModel;

/// A model ready to answer rows.
pub(crate) struct Predictor {
    saved: SavedModel,
    device: Device,
    threshold: Option<f64>,
    loss: Loss,
}

/// What a model answers for some rows.
pub(crate) struct Answers {
    /// One per row.
    pub(crate) predictions: Predictions,
    /// Row-major `[rows, width]`: each class's probability (what `predict --proba` prints), or
    /// for a regression model the network's outputs before the target's scaling is undone.
    pub(crate) probabilities: Vec<f32>,
    /// The probabilities' columns: the number of classes, or the network's outputs.
    pub(crate) width: usize,
    /// What the preprocessing had to make up (filled cells, unseen categories).
    pub(crate) report: TransformReport,
}

/// The answers themselves.
pub(crate) enum Predictions {
    /// Index into [`Predictor::labels`], per row.
    Classes(Vec<usize>),
    /// The predicted value, in the target's units, per row.
    Values(Vec<f64>),
}

impl Predictor {
    /// A predictor for `saved` on `device`, answering two-class models at `threshold` (the
    /// `--threshold` flag) or else at the model's stored threshold.
    ///
    /// # Errors
    ///
    /// A threshold outside [0, 1], or given for a model without two classes.
    pub(crate) fn new(saved: SavedModel, device: Device, threshold: Option<f64>) -> Result<Self> {
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
    pub(crate) fn saved(&self) -> &SavedModel {
        &self.saved
    }

    /// The class names, for a classifier.
    pub(crate) fn labels(&self) -> Option<&[String]> {
        self.saved.preprocessor.labels()
    }

    /// The model's answers for every row of `table`, which must hold the model's feature
    /// columns typed as in training (a reader or [`Table::from_records`] with the model's
    /// column kinds).
    ///
    /// # Errors
    ///
    /// A feature column missing from `table`, outputs that cannot be read back, or a row the
    /// network answers with a non-finite number ([`NonFiniteOutput`], in the error's chain):
    /// its class or value would be made up.
    pub(crate) fn answer(&self, table: &Table) -> Result<Answers> {
        let p = &self.saved.preprocessor;
        let n = table.num_rows();
        let mut report = TransformReport::default();
        let mut probabilities = Vec::new();
        let mut width = 0;
        // The forward pass goes [`FORWARD_ROWS`] rows at a time: its activations (rows x
        // hidden units) are the largest memory an answer takes.
        let mut starts: Vec<usize> = (0..n).step_by(FORWARD_ROWS).collect();
        if starts.is_empty() {
            starts.push(0);
        }
        for start in starts {
            let rows: Vec<usize> = (start..n.min(start + FORWARD_ROWS)).collect();
            let (features, made_up) = p.transform_features(table, &rows)?;
            merge_reports(&mut report, made_up);
            // An input beyond f32 after scaling: the answer would be made up, even where an
            // activation that saturates (tanh) hides the infinity.
            let d_input = p.d_input();
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
            let x = Tensor::<2>::from_data(
                TensorData::new(features, [rows.len(), d_input]),
                &self.device,
            );
            let output = self.loss.probabilities(self.saved.model.forward(x));
            width = output.dims()[1];
            probabilities.extend(
                output
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|err| anyhow::anyhow!("cannot read the predictions: {err:?}"))?,
            );
        }
        // A regression value is checked in the target's units too: undoing the scaling can
        // overflow an output that was finite.
        let values: Option<Vec<f64>> = p.labels().is_none().then(|| {
            probabilities
                .chunks(width)
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
                    .chunks(width)
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

/// Rows per forward pass of [`Predictor::answer`]: 4,096 rows of 100 hidden units take
/// 1.6 MB a layer, where 200,000 rows at once took 80 MB.
const FORWARD_ROWS: usize = 4096;

/// A row with no prediction: an input beyond f32 after the model's scaling (3.4e38 in a
/// column scaled by a standard deviation below 1), or a network output of NaN or an infinity
/// (f32 arithmetic overflowed on inputs far outside the training data); a class or value read
/// from it would be made up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NonFiniteOutput {
    /// The row, counted from 0 in the rows answered.
    pub(crate) row: usize,
    /// Where the row came from: the file (or `request`) and its line, when known.
    pub(crate) source: String,
    pub(crate) line: Option<u64>,
    /// The column behind the network input farthest from the training data, and that input
    /// (its name: the column, or `column=category`) and value after the model's scaling.
    pub(crate) column: String,
    pub(crate) input: String,
    pub(crate) value: f32,
}

/// Scaled inputs at least this far from 0 are "far outside the training data": standardized
/// training values lie within a few units of it.
const FAR_OUTSIDE: f32 = 1e6;

impl NonFiniteOutput {
    /// The error for `row`, whose network inputs (after `p`'s scaling) are `features`.
    pub(crate) fn new(
        p: &nerve_data::Preprocessor,
        features: &[f32],
        row: usize,
        source: &str,
        line: Option<u64>,
    ) -> Self {
        let names = p.input_names();
        let columns = p.input_columns();
        // NaN compares as the largest, so a non-finite input is the one named.
        let farthest = (0..features.len())
            .max_by(|&a, &b| features[a].abs().total_cmp(&features[b].abs()))
            .unwrap_or(0);
        NonFiniteOutput {
            row,
            source: source.to_owned(),
            line,
            column: columns
                .get(farthest)
                .map_or_else(String::new, |c| (*c).to_owned()),
            input: names.get(farthest).cloned().unwrap_or_default(),
            value: features.get(farthest).copied().unwrap_or(0.0),
        }
    }

    /// What went wrong, without the place (the server names the row and field itself).
    pub(crate) fn reason(&self) -> String {
        if !self.value.is_finite() {
            format!(
                "this row has no prediction: `{}` is beyond 32-bit floats after the model's scaling, far outside the training data (which lies within a few units of 0); check the row's values and their units",
                self.input
            )
        } else if self.value.abs() >= FAR_OUTSIDE {
            format!(
                "the network's output for this row is not a finite number, so it has no prediction: `{}` is {:e} after the model's scaling, too far outside the training data (which lies within a few units of 0) for 32-bit arithmetic; check the row's values and their units",
                self.input, self.value
            )
        } else {
            format!(
                "the network's output for this row is not a finite number, so it has no prediction, although its inputs are ordinary (the farthest from the training data, `{}`, is {} after scaling): the model's own weights overflow 32-bit arithmetic",
                self.input, self.value
            )
        }
    }
}

impl std::fmt::Display for NonFiniteOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}: line {line}: {}", self.source, self.reason()),
            None => write!(f, "{}: row {}: {}", self.source, self.row, self.reason()),
        }
    }
}

impl std::error::Error for NonFiniteOutput {}

/// Checks that every row of `data` (prepared by `p`) has an answer in `outputs` (row-major,
/// `width` per row): no network input beyond f32 after scaling, no NaN or infinite output.
///
/// # Errors
///
/// The first row that has none, as [`NonFiniteOutput`].
pub(crate) fn check_answered(
    p: &nerve_data::Preprocessor,
    data: &nerve_data::Dataset,
    outputs: &[f32],
    width: usize,
) -> Result<(), NonFiniteOutput> {
    // An input beyond f32 is refused even where a saturating output hides it.
    match non_finite_row(data.features(), data.d_input()).or_else(|| non_finite_row(outputs, width))
    {
        Some(row) => Err(NonFiniteOutput::new(
            p,
            data.features_of(row),
            row,
            data.source_name(),
            data.line(row),
        )),
        None => Ok(()),
    }
}

/// The first row of `outputs` (row-major, `width` per row) with a NaN or an infinity.
pub(crate) fn non_finite_row(outputs: &[f32], width: usize) -> Option<usize> {
    outputs
        .chunks(width.max(1))
        .position(|row| row.iter().any(|v| !v.is_finite()))
}
