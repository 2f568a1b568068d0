//! [`Preprocessor`]: feature scaling, one-hot encoding, imputation and target encoding, fitted
//! on the training rows and applied unchanged to any other rows.

use serde::{Deserialize, Serialize};

use crate::cell::NumberFormat;
use crate::column::ColumnKind;
use crate::feature_transform::{mean_and_scale, numeric_values};
use crate::matcher::{Cell, Matcher};
use crate::{DataError, Dataset, FeatureTransform, Table, Task, class_labels};

/// How numeric features are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Standardize {
    /// `(x - mean) / std` with the training rows' mean and population standard deviation; a
    /// constant column gets scale 1 (scikit-learn's `StandardScaler`).
    #[serde(rename = "z-score")]
    ZScore,
    /// `(x - median) / IQR` (the interquartile range; half the range where it is 0, as
    /// RealMLP does), then smoothly clipped to (-3, 3) by `x / sqrt(1 + (x / 3)²)`: RealMLP-TD's
    /// robust scaling and smooth clipping (Holzmüller et al., "Better by default", NeurIPS
    /// 2024; pytabkit's `robust_scale` and `smooth_clip`). A heavy tail or an outlier cannot
    /// push an input far from the others.
    #[serde(rename = "robust")]
    Robust,
    /// [`Standardize::ZScore`], then the smooth clipping of [`Standardize::Robust`]: inputs
    /// within a few standard deviations barely change, an outlier stops near ±3. The default:
    /// chosen by `just bench-quality` (BENCHMARKS.md), where it kept a network from
    /// extrapolating from the few houses of extreme size in the Ames table.
    #[default]
    #[serde(rename = "z-score-clip")]
    ZScoreClip,
    /// Features are used as they are.
    #[serde(rename = "none")]
    None,
}

impl Standardize {
    /// The bound of [`Standardize::Robust`]'s smooth clipping.
    pub const SMOOTH_CLIP: f64 = 3.0;
}

impl nerve_choice::Choice for Standardize {
    const KIND: &'static str = "scaling";

    fn all() -> &'static [Self] {
        &[
            Standardize::ZScore,
            Standardize::ZScoreClip,
            Standardize::Robust,
            Standardize::None,
        ]
    }

    /// The name used in configs and on the command line (as serde writes it).
    fn name(self) -> &'static str {
        match self {
            Standardize::ZScore => "z-score",
            Standardize::Robust => "robust",
            Standardize::ZScoreClip => "z-score-clip",
            Standardize::None => "none",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Standardize::ZScore => &["zscore", "standard"],
            Standardize::Robust => &["robust-clip"],
            Standardize::ZScoreClip => &["zscore-clip"],
            Standardize::None => &[],
        }
    }
}

impl std::str::FromStr for Standardize {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        nerve_choice::parse(text).map_err(|e| DataError::Config(e.to_string()))
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
    /// A categorical feature with more training categories than this keeps the
    /// `max_categories - 1` most frequent as inputs and groups the rest into one
    /// `infrequent` input (scikit-learn's `OneHotEncoder(max_categories=...)`).
    pub max_categories: usize,
}

impl PreprocessOptions {
    /// The default of [`PreprocessOptions::max_categories`].
    pub const MAX_CATEGORIES: usize = 50;
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        Self {
            standardize: Standardize::default(),
            standardize_target: true,
            max_categories: Self::MAX_CATEGORIES,
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
        /// Cells match a class only as written (`007` is not `7`): the target was forced to
        /// be categorical. Otherwise by value, as the column was inferred.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        exact: bool,
    },
    /// `(y - offset) / scale`, in f64.
    Values {
        /// The target column.
        column: String,
        /// Subtracted (the training mean, or 0 without scaling).
        offset: f64,
        /// Divided by (the training standard deviation, or 1).
        scale: f64,
        /// How the numbers are written (what is stripped to read them).
        #[serde(default, skip_serializing_if = "NumberFormat::is_plain")]
        format: NumberFormat,
    },
}

/// Feature and target transforms fitted on training rows. Serializable, so a model file can
/// carry exactly the preprocessing its network was trained with.
///
/// The task is the target's encoding ([`Preprocessor::task`]): classes or values. The file form
/// also names it (`"task"`, for readers of the JSON), and reading checks the two agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "PreprocessorFile", try_from = "PreprocessorFile")]
pub struct Preprocessor {
    /// One transform per input column, in input order.
    pub features: Vec<FeatureTransform>,
    /// The target's encoding.
    pub target: TargetTransform,
}

/// [`Preprocessor`] as a model file holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreprocessorFile {
    task: Task,
    features: Vec<FeatureTransform>,
    target: TargetTransform,
}

impl From<Preprocessor> for PreprocessorFile {
    fn from(p: Preprocessor) -> Self {
        PreprocessorFile {
            task: p.task(),
            features: p.features,
            target: p.target,
        }
    }
}

impl TryFrom<PreprocessorFile> for Preprocessor {
    type Error = String;

    fn try_from(file: PreprocessorFile) -> Result<Self, Self::Error> {
        let preprocessor = Preprocessor {
            features: file.features,
            target: file.target,
        };
        if preprocessor.task() != file.task {
            return Err(format!(
                "the task is {} but the target is encoded for {}",
                file.task,
                preprocessor.task()
            ));
        }
        preprocessor.check()?;
        Ok(preprocessor)
    }
}

/// What [`Preprocessor::transform_features`] had to make up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransformReport {
    /// Missing cells replaced by the fill value, per column (columns with any).
    pub filled: Vec<(String, usize)>,
    /// Cells whose category was not seen in training (encoded as all zeros), per column.
    pub unseen: Vec<(String, usize)>,
}

impl TransformReport {
    /// Adds `more`'s counts to these, column by column (the report of rows transformed in
    /// chunks).
    pub fn merge(&mut self, more: TransformReport) {
        fn add(total: &mut Vec<(String, usize)>, more: Vec<(String, usize)>) {
            for (column, n) in more {
                match total.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, m)) => *m += n,
                    None => total.push((column, n)),
                }
            }
        }
        add(&mut self.filled, more.filled);
        add(&mut self.unseen, more.unseen);
    }
}

impl Preprocessor {
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
            features.push(FeatureTransform::fit(
                column,
                train_rows,
                options.standardize,
                options.max_categories,
            ));
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
                let exact = matches!(
                    target_column.data(),
                    crate::ColumnData::Categorical(c) if c.is_exact()
                );
                TargetTransform::Classes {
                    column: target.to_owned(),
                    labels,
                    exact,
                }
            }
            Task::Regression => {
                let values = numeric_values(table, target_column, "a number (regression target)")?;
                let (offset, scale) = if options.standardize_target {
                    mean_and_scale(train_rows.iter().map(|&r| values[r]))
                } else {
                    (0.0, 1.0)
                };
                let format = match target_column.data() {
                    crate::ColumnData::Numeric(numbers) => numbers.format(),
                    _ => NumberFormat::default(),
                };
                TargetTransform::Values {
                    column: target.to_owned(),
                    offset,
                    scale,
                    format,
                }
            }
        };
        Ok(Preprocessor { features, target })
    }

    /// Checks what every preprocessing nerve fits satisfies (read from a file, it may not):
    /// each feature as [`FeatureTransform::check`], feature names distinct and not the
    /// target's, at least one feature; a target of two or more distinct classes, or of values
    /// with a finite offset and a finite scale above 0.
    ///
    /// # Errors
    ///
    /// What is wrong, naming the column and the field.
    pub fn check(&self) -> Result<(), String> {
        if self.features.is_empty() {
            return Err("no feature columns".to_owned());
        }
        let target = self.target_name();
        if target.is_empty() {
            return Err("the target column has an empty name".to_owned());
        }
        let mut names = std::collections::HashSet::new();
        for feature in &self.features {
            feature.check()?;
            let name = feature.column();
            if name == target {
                return Err(format!("`{name}` is both the target and a feature"));
            }
            if !names.insert(name) {
                return Err(format!("two feature columns are named `{name}`"));
            }
        }
        match &self.target {
            TargetTransform::Classes { labels, .. } => {
                let mut seen = std::collections::HashSet::new();
                if labels.len() < 2 {
                    return Err(format!("the target `{target}` has fewer than two classes"));
                }
                if let Some(twice) = labels.iter().find(|l| !seen.insert(*l)) {
                    return Err(format!("the target `{target}` lists class `{twice}` twice"));
                }
            }
            TargetTransform::Values { offset, scale, .. } => {
                if !(offset.is_finite() && scale.is_finite() && *scale > 0.0) {
                    return Err(format!(
                        "the target `{target}` is scaled by offset {offset} and scale {scale}; both must be finite, the scale above 0"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Classification (the target is encoded as classes) or regression (as values).
    pub fn task(&self) -> Task {
        match self.target {
            TargetTransform::Classes { .. } => Task::Classification,
            TargetTransform::Values { .. } => Task::Regression,
        }
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

    /// The names of the network inputs: a numeric column's name, `column=category` for each
    /// one-hot input (`column=(infrequent)` for grouped categories), `column.part` for a date's.
    pub fn input_names(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(FeatureTransform::input_names)
            .collect()
    }

    /// How each column the model reads must be typed: the features as in training, and the
    /// target (categories for classes, numbers written as in training for values). Reading new
    /// rows with it (`CsvOptions::kinds`) never re-infers a type from the rows at hand.
    pub fn column_kinds(&self) -> Vec<(String, ColumnKind)> {
        let mut kinds: Vec<(String, ColumnKind)> = self
            .features
            .iter()
            .map(|f| (f.column().to_owned(), f.kind()))
            .collect();
        let target = match &self.target {
            TargetTransform::Classes { exact: true, .. } => ColumnKind::Text,
            TargetTransform::Classes { .. } => ColumnKind::Categorical,
            TargetTransform::Values { format, .. } => ColumnKind::Numeric(Some(*format)),
        };
        kinds.push((self.target_name().to_owned(), target));
        kinds
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
        self.features
            .iter()
            .flat_map(FeatureTransform::input_means)
            .collect()
    }

    /// How many target units one unit of the network's regression output is (the standardized
    /// target's scale); 1 for classification.
    pub fn target_scale(&self) -> f64 {
        match &self.target {
            TargetTransform::Values { scale, .. } => *scale,
            TargetTransform::Classes { .. } => 1.0,
        }
    }

    /// Maps a network output for regression back to the target's units: `output × scale +
    /// offset` in f64, given as the shortest decimal within half a step of the f32 output
    /// (`scale × ulp(output) / 2`, plus the f64 rounding of the sum), so that it shows every
    /// digit the network's output holds and no more (`65`, not `64.99999237060547`; a
    /// timestamp target keeps its seconds).
    pub fn decode_value(&self, output: f32) -> f64 {
        match &self.target {
            TargetTransform::Values { offset, scale, .. } => {
                let value = f64::from(output) * scale + offset;
                // Half the output's f32 step in the target's units, and the f64 rounding of
                // the sum itself (a unit in the last place near 1.7e9 is 2.4e-7).
                let step = f64::from(f32_step(output)) * scale.abs();
                shortest_within(value, step / 2.0 + value.abs() * f64::EPSILON)
            }
            TargetTransform::Classes { .. } => f64::from(output),
        }
    }

    /// The same preprocessing with its fitted statistics rounded to f32, as model files before
    /// format version 5 stored them: an older model's inputs are scaled by the numbers it was
    /// trained with (what is computed from them, a decoded value or a date's days, is f64).
    pub fn with_f32_statistics(mut self) -> Preprocessor {
        let round = |v: &mut f64| *v = f64::from(*v as f32);
        for feature in &mut self.features {
            match feature {
                FeatureTransform::Numeric {
                    offset,
                    scale,
                    fill,
                    ..
                } => [offset, scale, fill].into_iter().for_each(round),
                FeatureTransform::Categorical { frequencies, .. } => {
                    frequencies.iter_mut().for_each(round);
                }
                FeatureTransform::Date { parts, .. } => {
                    for p in parts {
                        [&mut p.offset, &mut p.scale, &mut p.fill]
                            .into_iter()
                            .for_each(round);
                    }
                }
            }
        }
        if let TargetTransform::Values { offset, scale, .. } = &mut self.target {
            [offset, scale].into_iter().for_each(round);
        }
        self
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
            let mut counts = (0, 0);
            feature.apply(table, rows, &mut out, width, first, &mut counts)?;
            let (filled, unseen) = counts;
            if unseen > 0 {
                report.unseen.push((feature.column().to_owned(), unseen));
            }
            if filled > 0 {
                report.filled.push((feature.column().to_owned(), filled));
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
                // In f64, as the features: near f32's limit the difference would overflow.
                rows.iter()
                    .map(|&row| match values[row] {
                        v if v.is_nan() => Err(missing(row)),
                        v => Ok(((v - offset) / scale) as f32),
                    })
                    .collect()
            }
            TargetTransform::Classes { labels, .. } => {
                let matcher = Matcher::new(table, column, labels);
                rows.iter()
                    .map(|&row| match matcher.get(row) {
                        Cell::Known(k) => Ok(k as f32),
                        Cell::Missing => Err(missing(row)),
                        Cell::Unknown(text) => Err(DataError::target(
                            source,
                            column.name(),
                            format!(
                                "line {}: class `{}` is not one of the known classes ({})",
                                table.line(row),
                                crate::error::shown(&text),
                                labels.join(", ")
                            ),
                        )),
                    })
                    .collect()
            }
        }
    }
}

/// The distance from `x` to the next f32 away from zero (the precision `x` is held to).
fn f32_step(x: f32) -> f32 {
    if !x.is_finite() {
        return 0.0;
    }
    let magnitude = x.abs();
    f32::from_bits(magnitude.to_bits() + 1) - magnitude
}

/// The decimal with the fewest significant digits within `tolerance` of `value` (`value`
/// itself when none is, or it is not finite).
fn shortest_within(value: f64, tolerance: f64) -> f64 {
    if !value.is_finite() || tolerance.is_nan() || tolerance <= 0.0 {
        return value;
    }
    for digits in 1..17 {
        if let Ok(candidate) = format!("{value:.*e}", digits - 1).parse::<f64>()
            && (candidate - value).abs() <= tolerance
        {
            return candidate;
        }
    }
    value
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
        let z_score = PreprocessOptions {
            standardize: Standardize::ZScore,
            ..PreprocessOptions::default()
        };
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &z_score).expect("fits");
        let (features, _) = p.transform_features(&t, &[0, 1, 2]).expect("applies");
        // x: mean 2, std 1 over rows 0 and 1; k is constant: scale 1.
        assert_eq!(features, [-1.0, 0.0, 1.0, 0.0, 98.0, 0.0]);
        // The default clips smoothly: z / sqrt(1 + (z/3)²), so the outlier at z = 98 stops
        // below 3 and z = ±1 moves a little (pytabkit's smooth_clip_func gives the same).
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &Default::default())
            .expect("fits");
        let (features, _) = p.transform_features(&t, &[0, 1, 2]).expect("applies");
        let clip = |z: f64| (z / (1.0 + z * z / 9.0).sqrt()) as f32;
        assert_eq!(features, [clip(-1.0), 0.0, clip(1.0), 0.0, clip(98.0), 0.0]);
        assert!(features[4] < 3.0 && features[4] > 2.99);
        // RealMLP's robust scaling, quantiles as numpy.quantile interpolates them.
        let robust = PreprocessOptions {
            standardize: Standardize::Robust,
            ..PreprocessOptions::default()
        };
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1, 2], &robust).expect("fits");
        let FeatureTransform::Numeric { offset, scale, .. } = &p.features[0] else {
            panic!("numeric");
        };
        // x = 1, 3, 100: median 3, quantiles 2 and 51.5.
        assert_eq!((*offset, *scale), (3.0, 49.5));
        // The target is standardized, never clipped: y = 0, 1 over rows 0 and 1.
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &z_score).expect("fits");
        assert_eq!(p.encode_targets(&t, &[0, 1]).expect("numeric"), [-1.0, 1.0]);
        assert_eq!(p.decode_value(1.0), 1.0);
        let raw = PreprocessOptions {
            standardize: Standardize::None,
            standardize_target: false,
            ..PreprocessOptions::default()
        };
        let p = Preprocessor::fit(&t, "y", Task::Regression, &[0, 1], &raw).expect("fits");
        let (features, _) = p.transform_features(&t, &[2]).expect("applies");
        assert_eq!(features, [100.0, 5.0]);
    }

    #[test]
    fn categories_are_one_hot_and_unseen_ones_are_zeros() {
        let t = table("colour,y\nred,a\nblue,b\nred,a\ngreen,b\nNA,a\n");
        // The training rows have no blank: a blank later is filled in.
        let p = Preprocessor::fit(
            &t,
            "y",
            Task::Classification,
            &[0, 1, 2],
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
        // With a blank among them, "missing" is a level of its own (OneHotEncoder's NaN
        // category) and nothing is made up.
        let p = Preprocessor::fit(
            &t,
            "y",
            Task::Classification,
            &[0, 1, 2, 4],
            &Default::default(),
        )
        .expect("fits");
        assert_eq!(
            p.input_names(),
            ["colour=blue", "colour=red", "colour=(missing)"]
        );
        let (features, report) = p.transform_features(&t, &[0, 4]).expect("applies");
        assert_eq!(features, [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(report.filled.is_empty());
    }

    #[test]
    fn numbers_with_blanks_in_training_gain_an_indicator() {
        // SimpleImputer(add_indicator=True).fit_transform([[1], [3], [nan], [5]]) gives
        // [[1, 0], [3, 0], [3, 1], [5, 0]]; standardized here: mean 3, std sqrt(8/3).
        let t = table("x,d,y\n1,2024-01-01,0\n3,,1\nNA,2024-01-03,0\n5,2024-01-05,1\n");
        let p = Preprocessor::fit(
            &t,
            "y",
            Task::Regression,
            &[0, 1, 2, 3],
            &Default::default(),
        )
        .expect("fits");
        let names = p.input_names();
        assert_eq!(names[..2], ["x", "x.missing"]);
        assert_eq!(names.last().map(String::as_str), Some("d.missing"));
        let (features, report) = p.transform_features(&t, &[1, 2]).expect("applies");
        let width = p.d_input();
        let std = (8.0f64 / 3.0).sqrt();
        assert!((f64::from(features[0]) - 0.0).abs() < 1e-6 && features[1] == 0.0);
        assert!(features[width] == 0.0 && features[width + 1] == 1.0);
        assert_eq!(features[width - 1], 1.0, "row 1's date is blank");
        assert_eq!(features[2 * width - 1], 0.0);
        assert!(report.filled.is_empty());
        // The indicator's training mean is the share of blanks.
        let means = p.input_means();
        assert_eq!(means[1], 0.25);
        assert!((f64::from(means[0]) - (3.0 - 3.0) / std).abs() < 1e-6);
    }

    #[test]
    fn input_means_are_the_training_means_of_the_transformed_inputs() {
        // Training rows 0, 1, 2, 4: x = 1, 3, 5, 7; colour = red, blue, red, missing (its
        // own level).
        let t = table("x,colour,y\n1,red,a\n3,blue,b\n5,red,a\n99,green,b\n7,NA,a\n");
        let rows = [0, 1, 2, 4];
        let p = Preprocessor::fit(&t, "y", Task::Classification, &rows, &Default::default())
            .expect("fits");
        assert_eq!(p.input_columns(), ["x", "colour", "colour", "colour"]);
        assert_eq!(
            p.input_names(),
            ["x", "colour=blue", "colour=red", "colour=(missing)"]
        );
        let (features, _) = p.transform_features(&t, &rows).expect("applies");
        let mut means = [0.0f32; 4];
        for row in features.chunks(4) {
            for (m, v) in means.iter_mut().zip(row) {
                *m += v / rows.len() as f32;
            }
        }
        let found = p.input_means();
        for (f, m) in found.iter().zip(means) {
            assert!((f - m).abs() < 1e-6, "{found:?} vs {means:?}");
        }
        assert_eq!(found[1..], [0.25, 0.5, 0.25]);
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
        // The file names the task beside the target's encoding; the two must agree.
        assert!(json.contains(r#""task":"regression""#), "{json}");
        let contradicting = json.replace(r#""task":"regression""#, r#""task":"classification""#);
        let err = serde_json::from_str::<Preprocessor>(&contradicting).unwrap_err();
        assert!(
            err.to_string().contains("target is encoded for regression"),
            "{err}"
        );
        let missing = table("a,y\n1,0\n");
        assert!(p.transform_features(&missing, &[0]).is_err());
    }

    #[test]
    fn statistics_are_kept_and_applied_in_f64() {
        // Issue 34.3: Unix timestamps 1700000060 .. 1700000062. Their mean (1700000060.98 here)
        // was stored as the f32 1700000000, leaving the training column ~107 standard deviations
        // from zero. Another instance: amounts near 1e12 that differ in their units.
        for (base, steps) in [
            (1_700_000_060.0, [0.0, 1.0, 2.0, 1.0, 2.0]),
            (1e12, [3.0, 7.0, 1.0, 9.0, 5.0]),
        ] {
            let text: String = steps
                .iter()
                .map(|s| format!("{},{}\n", base + s, s * 10.0))
                .collect();
            let t = table(&format!("x,y\n{text}"));
            let rows: Vec<usize> = (0..steps.len()).collect();
            let z_score = PreprocessOptions {
                standardize: Standardize::ZScore,
                ..PreprocessOptions::default()
            };
            let p = Preprocessor::fit(&t, "y", Task::Regression, &rows, &z_score).expect("fits");
            let FeatureTransform::Numeric { offset, scale, .. } = &p.features[0] else {
                panic!("numeric")
            };
            let mean = steps.iter().sum::<f64>() / steps.len() as f64;
            assert_eq!(*offset, base + mean);
            let (features, _) = p.transform_features(&t, &rows).expect("applies");
            for (z, s) in features.iter().zip(steps) {
                let want = (s - mean) / scale;
                assert!((f64::from(*z) - want).abs() < 1e-6, "{z} vs {want}");
            }
            // Rounded to f32 as older model files held them, the column is far from zero.
            let old = p.clone().with_f32_statistics();
            let (features, _) = old.transform_features(&t, &rows).expect("applies");
            assert!(features.iter().any(|z| z.abs() > 10.0), "{features:?}");
        }
    }

    #[test]
    fn a_regression_target_decodes_to_the_files_value() {
        // Issue 34.3: `65` came back as `64.99999`. Another instance: a target of timestamps.
        for values in [
            [65.0, 70.0, 80.0, 62.5],
            [1.7e9 + 1.0, 1.7e9 + 7.0, 1.7e9, 1.7e9 + 3.0],
        ] {
            let text: String = values.iter().map(|v| format!("{v},{v}\n")).collect();
            let t = table(&format!("x,y\n{text}"));
            let rows: Vec<usize> = (0..values.len()).collect();
            let p = Preprocessor::fit(&t, "y", Task::Regression, &rows, &Default::default())
                .expect("fits");
            let encoded = p.encode_targets(&t, &rows).expect("numbers");
            let decoded: Vec<f64> = encoded.iter().map(|&z| p.decode_value(z)).collect();
            assert_eq!(decoded, values);
            assert_eq!(
                p.decode_value(encoded[0]).to_string(),
                values[0].to_string()
            );
        }
    }

    proptest! {
        #[test]
        fn standardizing_round_trips(values in prop::collection::vec(-1e4f32..1e4, 2..50)) {
            let text: String = values.iter().map(|v| format!("{v},{v}\n")).collect();
            let t = table(&format!("x,y\n{text}"));
            let rows: Vec<usize> = (0..values.len()).collect();
            let z_score = PreprocessOptions {
                standardize: Standardize::ZScore,
                ..PreprocessOptions::default()
            };
            let p = Preprocessor::fit(&t, "y", Task::Regression, &rows, &z_score).expect("fits");
            let (features, _) = p.transform_features(&t, &rows).expect("applies");
            let targets = p.encode_targets(&t, &rows).expect("numeric");
            let n = features.len() as f64;
            let mean = features.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            prop_assert!(mean.abs() < 1e-3, "mean {}", mean);
            for ((&raw, &z), &y) in values.iter().zip(&features).zip(&targets) {
                let back = p.decode_value(y);
                let raw = f64::from(raw);
                let tolerance = 1e-3 * (1.0 + raw.abs());
                prop_assert!((back - raw).abs() <= tolerance, "{} came back as {}", raw, back);
                prop_assert_eq!(z, y);
            }
        }
    }
}
