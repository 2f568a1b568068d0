//! [`Preprocessor`]: feature scaling, one-hot encoding, imputation and target encoding, fitted
//! on the training rows and applied unchanged to any other rows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::task::natural_order;
use crate::{Categorical, Column, ColumnData, DataError, Dataset, Table, Task, class_labels};

/// How numeric features are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Standardize {
    /// `(x - mean) / std` with the training rows' mean and population standard deviation; a
    /// constant column gets scale 1 (scikit-learn's `StandardScaler`).
    #[default]
    #[serde(rename = "z-score")]
    ZScore,
    /// Features are used as they are.
    #[serde(rename = "none")]
    None,
}

impl std::str::FromStr for Standardize {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "z-score" | "zscore" | "standard" => Ok(Standardize::ZScore),
            "none" => Ok(Standardize::None),
            _ => Err(DataError::Config(format!(
                "unknown scaling `{text}`; expected z-score or none"
            ))),
        }
    }
}

/// Settings of [`Preprocessor::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreprocessOptions {
    /// How numeric features are scaled.
    pub standardize: Standardize,
    /// Whether a regression target is standardized for training (and mapped back for
    /// predictions and metrics).
    pub standardize_target: bool,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        Self {
            standardize: Standardize::ZScore,
            standardize_target: true,
        }
    }
}

/// What one input column becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FeatureTransform {
    /// One network input, `(x - offset) / scale`; a missing value is first replaced by `fill`.
    Numeric {
        /// The source column.
        column: String,
        /// Subtracted (the training mean, or 0 without scaling).
        offset: f32,
        /// Divided by (the training standard deviation, 1 for a constant column or without scaling).
        scale: f32,
        /// Replaces a missing value: the training mean.
        fill: f32,
    },
    /// One network input per category, 1 for the row's category and 0 for the others; a
    /// category not seen in training gives all zeros, a missing value counts as `fill`.
    Categorical {
        /// The source column.
        column: String,
        /// The categories seen in training, in natural order.
        categories: Vec<String>,
        /// Replaces a missing value: the most frequent training category.
        fill: String,
        /// The share of training rows in each category (missing cells counted as `fill`): the
        /// training mean of each one-hot input. Empty in model files written before nerve kept
        /// it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        frequencies: Vec<f32>,
    },
}

impl FeatureTransform {
    /// The source column's name.
    pub fn column(&self) -> &str {
        match self {
            FeatureTransform::Numeric { column, .. }
            | FeatureTransform::Categorical { column, .. } => column,
        }
    }

    /// How many network inputs it makes.
    pub fn width(&self) -> usize {
        match self {
            FeatureTransform::Numeric { .. } => 1,
            FeatureTransform::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// What the target column becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetTransform {
    /// Class ids `0..labels.len()`, in the order of `labels`.
    Classes {
        /// The target column.
        column: String,
        /// The class names.
        labels: Vec<String>,
    },
    /// `(y - offset) / scale`.
    Values {
        /// The target column.
        column: String,
        /// Subtracted (the training mean, or 0 without scaling).
        offset: f32,
        /// Divided by (the training standard deviation, or 1).
        scale: f32,
    },
}

/// Feature and target transforms fitted on training rows. Serializable, so a model file can
/// carry exactly the preprocessing its network was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocessor {
    /// Classification or regression.
    pub task: Task,
    /// One transform per input column, in input order.
    pub features: Vec<FeatureTransform>,
    /// The target's encoding.
    pub target: TargetTransform,
}

/// What [`Preprocessor::transform_features`] had to make up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransformReport {
    /// Missing cells replaced by the fill value, per column (columns with any).
    pub filled: Vec<(String, usize)>,
    /// Cells whose category was not seen in training (encoded as all zeros), per column.
    pub unseen: Vec<(String, usize)>,
}

impl Preprocessor {
    /// A categorical feature with more distinct values than this is refused: one-hot encoding
    /// would make the network absurdly wide, and such a column is usually an identifier.
    pub const MAX_CATEGORIES: usize = 1000;

    /// Fits the transforms on `train_rows` of `table`: every column but `target` is a feature.
    pub fn fit(
        table: &Table,
        target: &str,
        task: Task,
        train_rows: &[usize],
        options: &PreprocessOptions,
    ) -> Result<Preprocessor, DataError> {
        let source = table.source_name();
        if train_rows.is_empty() {
            return Err(DataError::empty(source, "no training rows"));
        }
        let target_column = table.column(target)?;
        let mut features = Vec::new();
        for column in table.columns().iter().filter(|c| c.name() != target) {
            features.push(fit_feature(column, train_rows, options, source)?);
        }
        if features.is_empty() {
            return Err(DataError::empty(
                source,
                "a data set needs at least one feature column besides the target",
            ));
        }
        let target = match task {
            Task::Classification => {
                // The labels come from every row, not only training rows, so that a class seen
                // only in the test rows still has an output (stratified splits make that rare).
                let labels = class_labels(target_column);
                if labels.len() < 2 {
                    let only = labels
                        .first()
                        .map_or("none".to_owned(), |l| format!("`{l}`"));
                    return Err(DataError::target(
                        source,
                        target,
                        format!(
                            "classification needs at least two classes, found one ({only}); is this the right target column?"
                        ),
                    ));
                }
                TargetTransform::Classes {
                    column: target.to_owned(),
                    labels,
                }
            }
            Task::Regression => {
                let values = numeric_values(table, target_column, "a number (regression target)")?;
                let (offset, scale) = if options.standardize_target {
                    mean_and_scale(train_rows.iter().map(|&r| values[r]))
                } else {
                    (0.0, 1.0)
                };
                TargetTransform::Values {
                    column: target.to_owned(),
                    offset,
                    scale,
                }
            }
        };
        Ok(Preprocessor {
            task,
            features,
            target,
        })
    }

    /// The number of network inputs.
    pub fn d_input(&self) -> usize {
        self.features.iter().map(FeatureTransform::width).sum()
    }

    /// The number of network outputs: one per class, or one value.
    pub fn d_output(&self) -> usize {
        match &self.target {
            TargetTransform::Classes { labels, .. } => labels.len(),
            TargetTransform::Values { .. } => 1,
        }
    }

    /// The class names, for classification.
    pub fn labels(&self) -> Option<&[String]> {
        match &self.target {
            TargetTransform::Classes { labels, .. } => Some(labels),
            TargetTransform::Values { .. } => None,
        }
    }

    /// The target column's name.
    pub fn target_name(&self) -> &str {
        match &self.target {
            TargetTransform::Classes { column, .. } | TargetTransform::Values { column, .. } => {
                column
            }
        }
    }

    /// The names of the network inputs: a numeric column's name, or `column=category` for
    /// each one-hot input.
    pub fn input_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.d_input());
        for feature in &self.features {
            match feature {
                FeatureTransform::Numeric { column, .. } => names.push(column.clone()),
                FeatureTransform::Categorical {
                    column, categories, ..
                } => names.extend(categories.iter().map(|c| format!("{column}={c}"))),
            }
        }
        names
    }

    /// The source column of each network input: a numeric column's name, or the categorical
    /// column's name for each of its one-hot inputs (attributions are summed back by it).
    pub fn input_columns(&self) -> Vec<&str> {
        self.features
            .iter()
            .flat_map(|feature| std::iter::repeat_n(feature.column(), feature.width()))
            .collect()
    }

    /// The training mean of each network input, after the transforms: `(mean - offset) / scale`
    /// for a numeric column (0 when standardized), the category's share of the training rows for
    /// a one-hot input. The natural "average row" to compare a row against, as the baseline of
    /// integrated gradients. (For a model file without the shares, the most frequent category
    /// stands in: 1 for it, 0 for the others.)
    pub fn input_means(&self) -> Vec<f32> {
        let mut means = Vec::with_capacity(self.d_input());
        for feature in &self.features {
            match feature {
                FeatureTransform::Numeric {
                    offset,
                    scale,
                    fill,
                    ..
                } => means.push((fill - offset) / scale),
                FeatureTransform::Categorical {
                    categories,
                    fill,
                    frequencies,
                    ..
                } => {
                    if frequencies.len() == categories.len() {
                        means.extend_from_slice(frequencies);
                    } else {
                        means.extend(categories.iter().map(|c| f32::from(u8::from(c == fill))));
                    }
                }
            }
        }
        means
    }

    /// How many target units one unit of the network's regression output is (the standardized
    /// target's scale); 1 for classification.
    pub fn target_scale(&self) -> f64 {
        match &self.target {
            TargetTransform::Values { scale, .. } => f64::from(*scale),
            TargetTransform::Classes { .. } => 1.0,
        }
    }

    /// Maps a network output for regression back to the target's units.
    pub fn decode_value(&self, output: f32) -> f32 {
        match &self.target {
            TargetTransform::Values { offset, scale, .. } => output * scale + offset,
            TargetTransform::Classes { .. } => output,
        }
    }

    /// The features and targets of `rows` of `table`, columns matched by name.
    pub fn transform(&self, table: &Table, rows: &[usize]) -> Result<Dataset, DataError> {
        let (features, _) = self.transform_features(table, rows)?;
        let targets = self.encode_targets(table, rows)?;
        Ok(Dataset::from_parts(
            table.source_name(),
            self.input_names(),
            self.target_name(),
            features,
            targets,
        )?
        .with_lines(rows.iter().map(|&r| table.line(r)).collect()))
    }

    /// The network inputs for `rows` of `table`, row-major `rows.len() × d_input`. Columns are
    /// matched by name, in any order; other columns are ignored.
    pub fn transform_features(
        &self,
        table: &Table,
        rows: &[usize],
    ) -> Result<(Vec<f32>, TransformReport), DataError> {
        let width = self.d_input();
        let mut out = vec![0.0f32; rows.len() * width];
        let mut report = TransformReport::default();
        let mut first = 0;
        for feature in &self.features {
            let column = table.column(feature.column())?;
            let mut filled = 0;
            match feature {
                FeatureTransform::Numeric {
                    offset,
                    scale,
                    fill,
                    ..
                } => {
                    let values = numeric_values(table, column, "a number")?;
                    for (i, &row) in rows.iter().enumerate() {
                        let mut value = values[row];
                        if value.is_nan() {
                            value = *fill;
                            filled += 1;
                        }
                        out[i * width + first] = (value - offset) / scale;
                    }
                }
                FeatureTransform::Categorical {
                    categories, fill, ..
                } => {
                    let matcher = Matcher::new(column, categories);
                    let fill = categories.iter().position(|c| c == fill);
                    let mut unseen = 0;
                    for (i, &row) in rows.iter().enumerate() {
                        let k = match matcher.get(row) {
                            Cell::Known(k) => Some(k),
                            Cell::Missing => {
                                filled += 1;
                                fill
                            }
                            Cell::Unknown(_) => {
                                unseen += 1;
                                None
                            }
                        };
                        if let Some(k) = k {
                            out[i * width + first + k] = 1.0;
                        }
                    }
                    if unseen > 0 {
                        report.unseen.push((column.name().to_owned(), unseen));
                    }
                }
            }
            if filled > 0 {
                report.filled.push((column.name().to_owned(), filled));
            }
            first += feature.width();
        }
        Ok((out, report))
    }

    /// The encoded targets of `rows`: class ids, or (standardized) values. A missing target or a
    /// class not known to the preprocessor is an error naming its line.
    pub fn encode_targets(&self, table: &Table, rows: &[usize]) -> Result<Vec<f32>, DataError> {
        let source = table.source_name();
        let column = table.column(self.target_name())?;
        let missing = |row: usize| {
            DataError::target(
                source,
                column.name(),
                format!("line {}: the target is missing", table.line(row)),
            )
        };
        match &self.target {
            TargetTransform::Values { offset, scale, .. } => {
                let values = numeric_values(table, column, "a number (regression target)")?;
                rows.iter()
                    .map(|&row| match values[row] {
                        v if v.is_nan() => Err(missing(row)),
                        v => Ok((v - offset) / scale),
                    })
                    .collect()
            }
            TargetTransform::Classes { labels, .. } => {
                let matcher = Matcher::new(column, labels);
                rows.iter()
                    .map(|&row| match matcher.get(row) {
                        Cell::Known(k) => Ok(k as f32),
                        Cell::Missing => Err(missing(row)),
                        Cell::Unknown(text) => Err(DataError::target(
                            source,
                            column.name(),
                            format!(
                                "line {}: class `{text}` is not one of the known classes ({})",
                                table.line(row),
                                labels.join(", ")
                            ),
                        )),
                    })
                    .collect()
            }
        }
    }
}

fn fit_feature(
    column: &Column,
    train_rows: &[usize],
    options: &PreprocessOptions,
    source: &str,
) -> Result<FeatureTransform, DataError> {
    let name = column.name().to_owned();
    match column.data() {
        ColumnData::Numeric(values) => {
            let (mean, scale) = mean_and_scale(train_rows.iter().map(|&r| values[r]));
            let (offset, scale) = match options.standardize {
                Standardize::ZScore => (mean, scale),
                Standardize::None => (0.0, 1.0),
            };
            Ok(FeatureTransform::Numeric {
                column: name,
                offset,
                scale,
                fill: mean,
            })
        }
        ColumnData::Categorical(c) => {
            let mut counts = vec![0usize; c.levels().len()];
            for &row in train_rows {
                if let Some(code) = Some(c.codes()[row]).filter(|&k| k != Categorical::MISSING) {
                    counts[code as usize] += 1;
                }
            }
            let mut seen: Vec<(&String, usize)> = c
                .levels()
                .iter()
                .zip(counts)
                .filter(|&(_, n)| n > 0)
                .collect();
            if seen.len() > Preprocessor::MAX_CATEGORIES {
                let (line, value) = c.first_text();
                return Err(DataError::Config(format!(
                    "{source}, column `{name}`: {} distinct text values (e.g. `{value}` on line {line}); \
                     one-hot encoding more than {} would make the network too wide. Is it an identifier? \
                     Leave it out with --ignore {name}",
                    seen.len(),
                    Preprocessor::MAX_CATEGORIES
                )));
            }
            seen.sort_by(|a, b| natural_order(a.0, b.0));
            // The most frequent category fills missing cells; ties go to the first in order.
            let fill = seen
                .iter()
                .rev()
                .max_by_key(|&&(_, n)| n)
                .map(|(level, _)| (*level).clone())
                .unwrap_or_default();
            let missing = train_rows.len() - seen.iter().map(|&(_, n)| n).sum::<usize>();
            let frequencies = seen
                .iter()
                .map(|&(level, n)| {
                    let n = if *level == fill { n + missing } else { n };
                    (n as f64 / train_rows.len() as f64) as f32
                })
                .collect();
            let categories = seen.into_iter().map(|(level, _)| level.clone()).collect();
            Ok(FeatureTransform::Categorical {
                column: name,
                categories,
                fill,
                frequencies,
            })
        }
    }
}

/// The mean and population standard deviation of the non-missing values (in f64), the scale
/// being 1 for a constant column; `(0, 1)` when all are missing.
fn mean_and_scale(values: impl Iterator<Item = f32> + Clone) -> (f32, f32) {
    let present = values.filter(|v| !v.is_nan()).map(f64::from);
    let (n, sum) = present
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let variance = present.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let std = variance.sqrt();
    // A column that is constant up to rounding gets scale 1, as in scikit-learn.
    let constant =
        !std.is_finite() || std <= 10.0 * f64::EPSILON * mean.abs().max(f64::MIN_POSITIVE);
    (mean as f32, if constant { 1.0 } else { std as f32 })
}

/// The values of a column that must be numeric; a categorical column is an error naming its
/// first text cell.
fn numeric_values<'a>(
    table: &Table,
    column: &'a Column,
    expected: &str,
) -> Result<&'a [f32], DataError> {
    match column.data() {
        ColumnData::Numeric(values) => Ok(values),
        ColumnData::Categorical(c) => {
            let (line, value) = c.first_text();
            Err(DataError::NotNumeric {
                source_name: table.source_name().to_owned(),
                line,
                column: column.name().to_owned(),
                expected: expected.to_owned(),
                value: value.to_owned(),
            })
        }
    }
}

/// A cell matched against a list of names (categories or class labels).
enum Cell {
    Missing,
    Known(usize),
    Unknown(String),
}

/// Matches the cells of one column against `names`: a categorical column by level code (one
/// lookup per level, not per row), a numeric one by the number's shortest text.
struct Matcher<'a> {
    column: &'a Column,
    by_code: Vec<Option<usize>>,
    by_text: HashMap<&'a str, usize>,
}

impl<'a> Matcher<'a> {
    fn new(column: &'a Column, names: &'a [String]) -> Self {
        let by_text: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let by_code = match column.data() {
            ColumnData::Categorical(c) => c
                .levels()
                .iter()
                .map(|level| by_text.get(level.as_str()).copied())
                .collect(),
            ColumnData::Numeric(_) => Vec::new(),
        };
        Self {
            column,
            by_code,
            by_text,
        }
    }

    fn get(&self, row: usize) -> Cell {
        match self.column.data() {
            ColumnData::Categorical(c) => match c.codes()[row] {
                Categorical::MISSING => Cell::Missing,
                code => match self.by_code[code as usize] {
                    Some(k) => Cell::Known(k),
                    None => Cell::Unknown(c.levels()[code as usize].clone()),
                },
            },
            ColumnData::Numeric(values) if values[row].is_nan() => Cell::Missing,
            ColumnData::Numeric(values) => {
                let text = values[row].to_string();
                match self.by_text.get(text.as_str()) {
                    Some(&k) => Cell::Known(k),
                    None => Cell::Unknown(text),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(text: &str) -> Table {
        Table::from_csv_str("t.csv", text).expect("valid csv")
    }

    #[test]
    fn numeric_features_are_standardized_on_training_rows_only() {
        let t = table("x,k,y\n1,5,0\n3,5,1\n100,5,0\n");
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &Default::default())
            .expect("fits");
        let (features, _) = p.transform_features(&t, &[0, 1, 2]).expect("applies");
        // x: mean 2, std 1 over rows 0 and 1; k is constant: scale 1.
        assert_eq!(features, [-1.0, 0.0, 1.0, 0.0, 98.0, 0.0]);
        assert_eq!(p.encode_targets(&t, &[0, 1]).expect("numeric"), [-1.0, 1.0]);
        assert_eq!(p.decode_value(1.0), 1.0);
        let raw = PreprocessOptions {
            standardize: Standardize::None,
            standardize_target: false,
        };
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &raw).expect("fits");
        let (features, _) = p.transform_features(&t, &[2]).expect("applies");
        assert_eq!(features, [100.0, 5.0]);
    }

    #[test]
    fn categories_are_one_hot_and_unseen_ones_are_zeros() {
        let t = table("colour,y\nred,a\nblue,b\nred,a\ngreen,b\nNA,a\n");
        let p = Preprocessor::fit(
            &t,
            "y",
            Task::Classification,
            &[0, 1, 2, 4],
            &Default::default(),
        )
        .expect("fits");
        assert_eq!(p.input_names(), ["colour=blue", "colour=red"]);
        assert_eq!(p.labels(), Some(&["a".to_owned(), "b".to_owned()][..]));
        let (features, report) = p.transform_features(&t, &[0, 1, 3, 4]).expect("applies");
        // green was not in training: zeros. NA takes the most frequent category, red.
        assert_eq!(features, [0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(report.unseen, vec![("colour".to_owned(), 1)]);
        assert_eq!(report.filled, vec![("colour".to_owned(), 1)]);
        assert_eq!(p.encode_targets(&t, &[0, 1]).expect("known"), [0.0, 1.0]);
    }

    #[test]
    fn input_means_are_the_training_means_of_the_transformed_inputs() {
        // Training rows 0, 1, 2, 4: x = 1, 3, 5, 7; colour = red, blue, red, missing (-> red).
        let t = table("x,colour,y\n1,red,a\n3,blue,b\n5,red,a\n99,green,b\n7,NA,a\n");
        let rows = [0, 1, 2, 4];
        let p = Preprocessor::fit(&t, "y", Task::Classification, &rows, &Default::default())
            .expect("fits");
        assert_eq!(p.input_columns(), ["x", "colour", "colour"]);
        assert_eq!(p.input_names(), ["x", "colour=blue", "colour=red"]);
        let (features, _) = p.transform_features(&t, &rows).expect("applies");
        let mut means = [0.0f32; 3];
        for row in features.chunks(3) {
            for (m, v) in means.iter_mut().zip(row) {
                *m += v / rows.len() as f32;
            }
        }
        let found = p.input_means();
        for (f, m) in found.iter().zip(means) {
            assert!((f - m).abs() < 1e-6, "{found:?} vs {means:?}");
        }
        assert_eq!(found[1..], [0.25, 0.75]);
    }

    #[test]
    fn bad_targets_name_the_line() {
        let t = table("x,y\n1,a\n2,a\n");
        let err = Preprocessor::fit(&t, "y", Task::Classification, &[0, 1], &Default::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, target column `y`: classification needs at least two classes, found one (`a`); is this the right target column?"
        );
        let err =
            Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &Default::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 2, column `y`: expected a number (regression target), found `a`"
        );
        let fitted = table("x,y\n1,a\n2,b\n");
        let p = Preprocessor::fit(
            &fitted,
            "y",
            Task::Classification,
            &[0],
            &Default::default(),
        )
        .expect("fits");
        let other = table("x,y\n1,a\n2,c\n");
        let err = p.encode_targets(&other, &[0, 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, target column `y`: line 3: class `c` is not one of the known classes (a, b)"
        );
    }

    #[test]
    fn columns_are_matched_by_name_and_the_preprocessor_serializes() {
        let t = table("a,b,y\n1,x,0.5\n2,z,1.5\n");
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &Default::default())
            .expect("fits");
        let reordered = table("b,extra,y,a\nx,9,0,1\nz,9,0,2\n");
        assert_eq!(
            p.transform_features(&reordered, &[0, 1])
                .expect("by name")
                .0,
            p.transform_features(&t, &[0, 1]).expect("same").0
        );
        let json = serde_json::to_string(&p).expect("serializes");
        assert_eq!(
            serde_json::from_str::<Preprocessor>(&json).expect("parses"),
            p
        );
        let missing = table("a,y\n1,0\n");
        assert!(p.transform_features(&missing, &[0]).is_err());
    }

    proptest! {
        #[test]
        fn standardizing_round_trips(values in prop::collection::vec(-1e4f32..1e4, 2..50)) {
            let text: String = values.iter().map(|v| format!("{v},{v}\n")).collect();
            let t = table(&format!("x,y\n{text}"));
            let rows: Vec<usize> = (0..values.len()).collect();
            let p = Preprocessor::fit(&t, "y", Task::Regression, &rows, &Default::default())
                .expect("fits");
            let (features, _) = p.transform_features(&t, &rows).expect("applies");
            let targets = p.encode_targets(&t, &rows).expect("numeric");
            let n = features.len() as f64;
            let mean = features.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            prop_assert!(mean.abs() < 1e-3, "mean {}", mean);
            for ((&raw, &z), &y) in values.iter().zip(&features).zip(&targets) {
                let back = p.decode_value(y);
                let tolerance = 1e-3 * (1.0 + raw.abs());
                prop_assert!((back - raw).abs() <= tolerance, "{} came back as {}", raw, back);
                prop_assert_eq!(z, y);
            }
        }
    }
}
