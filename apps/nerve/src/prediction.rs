//! One function from rows to answers, used by `nerve predict` (a CSV file, chunk by chunk) and
//! `nerve serve` (each request's rows): the model's preprocessing, the network, then the class
//! (at the model's threshold) or the value, so a row gets the same answer either way.

use anyhow::Result;
use burn::prelude::Device;
use nerve_data::{Table, TransformReport};
use nerve_loss::Loss;

use crate::model_input::model_inputs;
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
    Values(Vec<f32>),
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
    /// A feature column missing from `table`, or outputs that cannot be read back.
    pub(crate) fn answer(&self, table: &Table) -> Result<Answers> {
        let p = &self.saved.preprocessor;
        let rows: Vec<usize> = (0..table.num_rows()).collect();
        let mut report = TransformReport::default();
        let x = model_inputs(p, table, &rows, &self.device, &mut report)?;
        let output = self.loss.probabilities(self.saved.model.forward(x));
        let [_, width] = output.dims();
        let probabilities = output
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|err| anyhow::anyhow!("cannot read the predictions: {err:?}"))?;
        let predictions = match p.labels() {
            Some(_) => Predictions::Classes(
                probabilities
                    .chunks(width)
                    .map(|row| nerve_train::predicted_class(row, self.threshold))
                    .collect(),
            ),
            None => Predictions::Values(
                probabilities
                    .chunks(width)
                    .map(|row| p.decode_value(row[0]))
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
