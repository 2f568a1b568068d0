//! [`Dataset`]: features and a target column, taken from a [`Table`].

use burn::prelude::{Device, Tensor, TensorData};

use crate::{DataError, Table};

/// A feature matrix and one target column, row-aligned.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    source: String,
    feature_names: Vec<String>,
    target_name: String,
    /// Row-major, `len() × feature_names.len()`.
    features: Vec<f32>,
    targets: Vec<f32>,
}

impl Table {
    /// Splits the table into features and the `target` column (the last column when `None`).
    /// Every other column is a feature.
    pub fn into_dataset(self, target: Option<&str>) -> Result<Dataset, DataError> {
        let target_index = match target {
            Some(name) => self.column_index(name)?,
            None => self.columns().len() - 1,
        };
        if self.columns().len() < 2 {
            return Err(DataError::Empty {
                source_name: self.source_name().to_owned(),
                message: "a data set needs at least one feature column besides the target"
                    .to_owned(),
            });
        }
        let rows = self.num_rows();
        let mut features = Vec::with_capacity(rows * (self.columns().len() - 1));
        let mut targets = Vec::with_capacity(rows);
        for i in 0..rows {
            let row = self.row(i);
            targets.push(row[target_index]);
            features.extend(
                row.iter()
                    .enumerate()
                    .filter(|&(j, _)| j != target_index)
                    .map(|(_, v)| *v),
            );
        }
        let mut feature_names = self.columns().to_vec();
        let target_name = feature_names.remove(target_index);
        Ok(Dataset {
            source: self.source_name().to_owned(),
            feature_names,
            target_name,
            features,
            targets,
        })
    }
}

impl Dataset {
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

    /// Whether there are no rows (never true for a data set read from a [`Table`]).
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
        &self.features[i * d..(i + 1) * d]
    }

    /// The target of every row.
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// The features as one tensor on `device`.
    ///
    /// # Shapes
    ///
    /// - result: `[len, d_input]`
    pub fn features_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.features.clone(), [self.len(), self.d_input()]),
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
