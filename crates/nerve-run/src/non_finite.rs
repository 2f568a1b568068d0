//! [`NonFiniteOutput`]: a row the network cannot answer, named by its place and the input
//! farthest from the training data; the one check of scaled inputs and outputs that predict,
//! eval, cross-validation and serve share.

use nerve_data::{Dataset, Preprocessor};

/// A row with no prediction: an input beyond f32 after the model's scaling (3.4e38 in a
/// column scaled by a standard deviation below 1), or a network output of NaN or an infinity
/// (f32 arithmetic overflowed on inputs far outside the training data); a class or value read
/// from it would be made up.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteOutput {
    /// The row, counted from 0 in the rows answered.
    pub row: usize,
    /// Where the row came from: the file (or `request`).
    pub source: String,
    /// The row's line in that file, when known.
    pub line: Option<u64>,
    /// The column behind the network input farthest from the training data.
    pub column: String,
    /// That input's name: the column, or `column=category`.
    pub input: String,
    /// That input's value after the model's scaling.
    pub value: f32,
}

/// Scaled inputs at least this far from 0 are "far outside the training data": standardized
/// training values lie within a few units of it.
const FAR_OUTSIDE: f32 = 1e6;

impl NonFiniteOutput {
    /// The error for `row`, whose network inputs (after `p`'s scaling) are `features`.
    pub fn new(
        p: &Preprocessor,
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
    pub fn reason(&self) -> String {
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
pub fn check_answered(
    p: &Preprocessor,
    data: &Dataset,
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
