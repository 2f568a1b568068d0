//! [`Dataset`]: features and a target column, taken from a [`Table`].

use burn::prelude::{Device, Tensor, TensorData};

use crate::{ColumnData, DataError, Table};

/// A feature matrix and one target column, row-aligned: what a network trains on. Made by a
/// [`Preprocessor`](crate::Preprocessor) (see [`prepare`](crate::prepare)), from a numeric table
/// as it is ([`Table::into_dataset`]), or from vectors ([`Dataset::from_parts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    source: String,
    feature_names: Vec<String>,
    target_name: String,
    /// Row-major f32, `[len(), feature_names.len()]`, in a shared (reference-counted) buffer:
    /// a tensor made from it on a CPU backend that can use the buffer as it is (flex) shares it
    /// instead of copying, so training does not hold the features twice.
    features: TensorData,
    targets: Vec<f32>,
    /// The source file line of each row, when known.
    lines: Option<Vec<u64>>,
    /// One weight per row (`--weight-column`), when given: finite and ≥ 0.
    weights: Option<Vec<f32>>,
}

impl Table {
    /// The table as it is, without preprocessing: the `target` column (the last when `None`)
    /// and every other column as a feature. Every column must be numeric and complete; use
    /// [`prepare`](crate::prepare) for text columns, missing values, scaling and splits.
    pub fn into_dataset(self, target: Option<&str>) -> Result<Dataset, DataError> {
        let source = self.source_name();
        let target_index = match target {
            Some(name) => self.column_index(name)?,
            None => self.columns().len() - 1,
        };
        if self.columns().len() < 2 {
            return Err(DataError::empty(
                source,
                "a data set needs at least one feature column besides the target",
            ));
        }
        let mut numeric = Vec::with_capacity(self.columns().len());
        for column in self.columns() {
            match column.data() {
                ColumnData::Numeric(numbers) => {
                    let values = numbers.values();
                    if let Some(row) = values.iter().position(|v| v.is_nan()) {
                        return Err(DataError::Missing {
                            source_name: source.to_owned(),
                            line: self.line(row),
                            column: column.name().to_owned(),
                            value: "NA".to_owned(),
                        });
                    }
                    numeric.push(values);
                }
                ColumnData::Categorical(c) => {
                    let (line, value) = c.first_text();
                    return Err(DataError::NotNumeric {
                        source_name: source.to_owned(),
                        line,
                        column: column.name().to_owned(),
                        expected: "a finite number".to_owned(),
                        value: value.to_owned(),
                    });
                }
                ColumnData::Date(_) => {
                    return Err(DataError::NotNumeric {
                        source_name: source.to_owned(),
                        line: self.line(0),
                        column: column.name().to_owned(),
                        expected: "a finite number (dates need prepare())".to_owned(),
                        value: column.display(0),
                    });
                }
            }
        }
        let rows = self.num_rows();
        let targets = numeric[target_index].iter().map(|&v| v as f32).collect();
        let mut features = Vec::with_capacity(rows * (numeric.len() - 1));
        for row in 0..rows {
            for (j, column) in numeric.iter().enumerate() {
                if j != target_index {
                    features.push(column[row] as f32);
                }
            }
        }
        let mut feature_names: Vec<String> =
            self.column_names().iter().map(|&n| n.to_owned()).collect();
        let target_name = feature_names.remove(target_index);
        let lines = (0..rows).map(|r| self.line(r)).collect();
        Ok(
            Dataset::from_parts(source, feature_names, &target_name, features, targets)?
                .with_lines(lines),
        )
    }
}

impl Dataset {
    /// A data set from row-major `features` (`targets.len() × feature_names.len()`) and one
    /// target per row; `source` names it in errors.
    pub fn from_parts(
        source: &str,
        feature_names: Vec<String>,
        target_name: &str,
        features: Vec<f32>,
        targets: Vec<f32>,
    ) -> Result<Dataset, DataError> {
        if features.len() != targets.len() * feature_names.len() {
            return Err(DataError::Config(format!(
                "{source}: {} feature values do not make {} rows of {} features",
                features.len(),
                targets.len(),
                feature_names.len()
            )));
        }
        let (bytes, shape, dtype) =
            TensorData::new(features, [targets.len(), feature_names.len()]).into_parts();
        Ok(Dataset {
            source: source.to_owned(),
            feature_names,
            target_name: target_name.to_owned(),
            features: TensorData::from_bytes(bytes.shared(), shape, dtype),
            targets,
            lines: None,
            weights: None,
        })
    }

    /// Records the source file line of each row (for messages about rows).
    ///
    /// # Panics
    ///
    /// When `lines` does not have one entry per row.
    pub fn with_lines(mut self, lines: Vec<u64>) -> Dataset {
        assert_eq!(lines.len(), self.len(), "one line per row");
        self.lines = Some(lines);
        self
    }

    /// Gives each row a weight (a sample weight: how much the row counts in the loss).
    ///
    /// # Panics
    ///
    /// When `weights` does not have one entry per row.
    pub fn with_weights(mut self, weights: Vec<f32>) -> Dataset {
        assert_eq!(weights.len(), self.len(), "one weight per row");
        self.weights = Some(weights);
        self
    }

    /// Each row's weight, when the rows are weighted ([`Dataset::with_weights`]).
    pub fn weights(&self) -> Option<&[f32]> {
        self.weights.as_deref()
    }

    /// The source file line of row `row`, when known.
    pub fn line(&self, row: usize) -> Option<u64> {
        self.lines.as_ref().map(|lines| lines[row])
    }

    /// The name of the file or data set it came from.
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// The feature columns' names, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The target column's name.
    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The number of features per row (the network's `d_input`).
    pub fn d_input(&self) -> usize {
        self.feature_names.len()
    }

    /// The features of row `i`.
    pub fn features_of(&self, i: usize) -> &[f32] {
        let d = self.d_input();
        &self.features()[i * d..(i + 1) * d]
    }

    /// The target of every row (a class id, or a value).
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// All features, row-major `len() × d_input()`.
    pub fn features(&self) -> &[f32] {
        self.features
            .as_slice::<f32>()
            .unwrap_or_else(|err| unreachable!("the features are f32 by construction: {err:?}"))
    }

    /// The features as one tensor on `device`.
    ///
    /// # Shapes
    ///
    /// - result: `[len, d_input]`
    pub fn features_tensor(&self, device: &Device) -> Tensor<2> {
        // Cloning the shared buffer copies no values.
        Tensor::from_data(self.features.clone(), device)
    }

    /// The features of rows `rows` as one tensor on `device` (evaluating a large data set a
    /// slice at a time keeps only one slice on the device).
    ///
    /// # Shapes
    ///
    /// - result: `[rows.len(), d_input]`
    pub fn features_tensor_rows(&self, rows: std::ops::Range<usize>, device: &Device) -> Tensor<2> {
        let d = self.d_input();
        Tensor::from_data(
            TensorData::new(
                self.features()[rows.start * d..rows.end * d].to_vec(),
                [rows.len(), d],
            ),
            device,
        )
    }

    /// The targets of rows `rows` as one column tensor on `device`.
    ///
    /// # Shapes
    ///
    /// - result: `[rows.len(), 1]`
    pub fn targets_tensor_rows(&self, rows: std::ops::Range<usize>, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.targets[rows.clone()].to_vec(), [rows.len(), 1]),
            device,
        )
    }

    /// The targets as one column tensor on `device`.
    ///
    /// # Shapes
    ///
    /// - result: `[len, 1]`
    pub fn targets_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.targets.clone(), [self.len(), 1]),
            device,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nerve_backend::BackendKind;

    fn table() -> Table {
        Table::from_csv_str("t.csv", "a,y,b\n1,10,2\n3,30,4\n").expect("valid csv")
    }

    #[test]
    fn target_by_name_or_last() {
        let data = table().into_dataset(Some("y")).expect("y exists");
        assert_eq!(data.feature_names(), ["a", "b"]);
        assert_eq!(data.targets(), [10.0, 30.0]);
        assert_eq!(data.features_of(1), [3.0, 4.0]);
        let data = table().into_dataset(None).expect("last column");
        assert_eq!(data.target_name(), "b");
        assert_eq!(data.features_of(0), [1.0, 10.0]);
    }

    #[test]
    fn unknown_target_lists_columns() {
        let err = table().into_dataset(Some("price")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv has no column `price`; its columns are: a, y, b"
        );
    }

    #[test]
    fn tensors_have_the_documented_shapes() {
        let device = BackendKind::default().device().expect("compiled in");
        let data = table().into_dataset(Some("y")).expect("y exists");
        let x = data.features_tensor(&device);
        assert_eq!(x.dims(), [2, 2]);
        assert_eq!(
            x.into_data().try_to_vec::<f32>().expect("f32"),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(data.targets_tensor(&device).dims(), [2, 1]);
    }
}
