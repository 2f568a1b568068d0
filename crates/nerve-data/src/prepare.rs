//! [`prepare`]: from a table to training, validation and test sets in one call, doing what
//! pandas and scikit-learn's preprocessing would: missing values, task, split, scaling, encoding.

use crate::matcher::{Cell, Matcher};
use crate::roles::assign_roles;
use crate::{
    ColumnData, ColumnKind, ColumnRoles, DataError, Dataset, Missing, MissingReport, Note,
    PreprocessOptions, Preprocessor, Split, SplitOptions, Standardize, Table, Task, class_labels,
};

/// Data sets with fewer rows than this are not split: every row trains (and is evaluated).
pub const MIN_ROWS_TO_SPLIT: usize = 20;

/// A classification target with more classes than this is refused (surely a regression target).
pub const MAX_CLASSES: usize = 65_536;

/// What [`prepare`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepareOptions {
    /// The target column; the last column when `None`.
    pub target: Option<String>,
    /// The task; inferred from the target ([`Task::infer`]) when `None`.
    pub task: Option<Task>,
    /// Columns to leave out (identifiers, free text).
    pub ignore: Vec<String>,
    /// Columns to use as categories whatever their values (never left out as identifiers),
    /// each cell as written (`1E5` and `100000`, `007` and `7` are different categories).
    /// Read them with [`PrepareOptions::column_kinds`] in [`CsvOptions::kinds`](crate::CsvOptions).
    pub categorical: Vec<String>,
    /// Columns that must be numbers (a cell that is not one is an error; never left out as
    /// row numbers, and leading zeros are read as numbers).
    pub numeric: Vec<String>,
    /// See [`PreprocessOptions::max_categories`].
    pub max_categories: usize,
    /// Rows with missing values.
    pub missing: Missing,
    /// Scaling of numeric features.
    pub standardize: Standardize,
    /// Whether a regression target is standardized for training.
    pub standardize_target: bool,
    /// Test and validation fractions and the split's seed.
    pub split: SplitOptions,
    /// A column of row weights (sample weights), not a feature: every cell a finite number
    /// ≥ 0. Each part's [`Dataset::weights`] holds its rows' weights.
    pub weight_column: Option<String>,
}

impl PrepareOptions {
    /// The forced column types, for reading the table ([`CsvOptions::kinds`](crate::CsvOptions)):
    /// [`ColumnKind::Text`] for the categorical ones (levels as written), numbers for the
    /// numeric ones.
    pub fn column_kinds(&self) -> Vec<(String, ColumnKind)> {
        let categorical = self
            .categorical
            .iter()
            .map(|name| (name.clone(), ColumnKind::Text));
        let numeric = self
            .numeric
            .iter()
            .map(|name| (name.clone(), ColumnKind::Numeric(None)));
        categorical.chain(numeric).collect()
    }
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            target: None,
            task: None,
            ignore: Vec::new(),
            categorical: Vec::new(),
            numeric: Vec::new(),
            max_categories: PreprocessOptions::MAX_CATEGORIES,
            missing: Missing::Impute,
            standardize: Standardize::default(),
            standardize_target: true,
            split: SplitOptions::default(),
            weight_column: None,
        }
    }
}

/// The prepared data and what was done to get it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Whether the task was inferred from the target column.
    pub task_inferred: bool,
    /// The transforms, fitted on the training rows.
    pub preprocessor: Preprocessor,
    /// The training rows.
    pub train: Dataset,
    /// The validation rows, when a validation split was asked for.
    pub validation: Option<Dataset>,
    /// The test rows, when a test split was made.
    pub test: Option<Dataset>,
    /// The rows left out for missing values (any column with [`Missing::Drop`], the target
    /// with [`Missing::Impute`]).
    pub dropped: MissingReport,
    /// Missing feature cells filled in, per column, over all remaining rows ([`Missing::Impute`]).
    pub imputed: Vec<(String, usize)>,
    /// Set when a split was asked for but the data set has fewer than [`MIN_ROWS_TO_SPLIT`] rows.
    pub split_skipped: bool,
    /// The table after leaving out ignored columns and dropped rows: the raw values behind
    /// the data sets, for display.
    pub table: Table,
    /// The rows of [`Prepared::table`] in each part.
    pub split: Split,
    /// What each column of the file is used as.
    pub roles: ColumnRoles,
    /// What reading and preparing decided (columns named or left out, number formats, dates,
    /// grouped categories, short splits), for the user to hear of.
    pub notes: Vec<Note>,
    /// The weight of each row of [`Prepared::table`], from [`PrepareOptions::weight_column`].
    pub weights: Option<Vec<f32>>,
}

impl PrepareOptions {
    /// What [`Preprocessor::fit`] takes of these options.
    pub fn preprocess_options(&self) -> PreprocessOptions {
        PreprocessOptions {
            standardize: self.standardize,
            standardize_target: self.standardize_target,
            max_categories: self.max_categories,
        }
    }
}

impl Prepared {
    /// The preprocessing fitted again on `fit_rows` of [`Prepared::table`] alone — each
    /// column's scale, fill value and categories from those rows, as [`prepare`] fits on the
    /// training rows — and each of `parts` transformed with it (with its rows' weights): what
    /// a cross-validation fold trains and is scored on, so no statistic of a held-out row
    /// reaches its training.
    ///
    /// # Errors
    /// `fit_rows` is empty or out of the table, or a part holds a value the preprocessing
    /// cannot encode.
    pub fn refit(
        &self,
        fit_rows: &[usize],
        parts: &[&[usize]],
        options: &PreprocessOptions,
    ) -> Result<(Preprocessor, Vec<Dataset>), DataError> {
        let num_rows = self.table.num_rows();
        if fit_rows.is_empty()
            || parts
                .iter()
                .flat_map(|p| p.iter())
                .chain(fit_rows)
                .any(|&r| r >= num_rows)
        {
            return Err(DataError::Config(format!(
                "rows to fit on must be some of the table's {num_rows}"
            )));
        }
        let target = self.preprocessor.target_name().to_owned();
        let preprocessor = Preprocessor::fit(&self.table, &target, self.task(), fit_rows, options)?;
        let weights = self.weights.as_deref();
        let datasets = parts
            .iter()
            .map(|rows| transform_part(&preprocessor, &self.table, rows, weights))
            .collect::<Result<_, _>>()?;
        Ok((preprocessor, datasets))
    }

    /// The task, given or inferred (as the target is encoded: [`Preprocessor::task`]).
    pub fn task(&self) -> Task {
        self.preprocessor.task()
    }

    /// Replaces the fitted preprocessing with `preprocessor` (a saved model's, so that its
    /// weights see inputs scaled and encoded as in their training): every part is transformed
    /// again with it.
    ///
    /// # Errors
    /// The preprocessor is for another task, or the table lacks a column it needs or holds a
    /// value it cannot encode.
    pub fn use_preprocessor(&mut self, preprocessor: &Preprocessor) -> Result<(), DataError> {
        // The preprocessing just fitted (a resumed run's own, say): the parts are already its.
        if *preprocessor == self.preprocessor {
            return Ok(());
        }
        if preprocessor.task() != self.task() {
            return Err(DataError::Config(format!(
                "the model does {}, the data {}",
                preprocessor.task(),
                self.task()
            )));
        }
        let weights = self.weights.as_deref();
        let part = |rows: &[usize]| -> Result<Option<Dataset>, DataError> {
            if rows.is_empty() {
                return Ok(None);
            }
            transform_part(preprocessor, &self.table, rows, weights).map(Some)
        };
        let train = transform_part(preprocessor, &self.table, &self.split.train, weights)?;
        let validation = part(&self.split.validation)?;
        let test = part(&self.split.test)?;
        (self.train, self.validation, self.test) = (train, validation, test);
        self.preprocessor = preprocessor.clone();
        Ok(())
    }
}

/// Prepares `table` for training: leaves out ignored columns; drops (or, for features, imputes)
/// missing values; infers the task; splits the rows (stratified by class for classification,
/// seeded); fits the [`Preprocessor`] on the training rows and applies it to every part.
pub fn prepare(mut table: Table, options: &PrepareOptions) -> Result<Prepared, DataError> {
    for name in options.categorical.iter().chain(&options.numeric) {
        table.column(name)?;
    }
    if let Some(both) = options
        .categorical
        .iter()
        .find(|c| options.numeric.contains(c))
    {
        return Err(DataError::Config(format!(
            "column `{both}` is given as both --categorical and --numeric; choose one"
        )));
    }
    if options.max_categories < 2 {
        return Err(DataError::Config(format!(
            "--max-categories must be at least 2 (one category and the infrequent group), got {}",
            options.max_categories
        )));
    }
    table.remove_columns(&options.ignore)?;
    // The last column by default, passing over the weight column.
    let weight_name = match &options.weight_column {
        Some(name) => table.column(name).ok().map(|c| c.name().to_owned()),
        None => None,
    };
    let target = match &options.target {
        Some(name) => table.column(name)?.name().to_owned(),
        None => table
            .column_names()
            .iter()
            .rev()
            .find(|&&name| Some(name) != weight_name.as_deref())
            .map(|&name| name.to_owned())
            .unwrap_or_default(),
    };
    if options.task == Some(Task::Regression) && options.categorical.contains(&target) {
        return Err(DataError::Config(format!(
            "the target `{target}` is given as --categorical, but --task regression needs numbers"
        )));
    }
    // A regression target is numbers, even when some are written with leading zeros.
    if options.task == Some(Task::Regression) {
        table.read_codes_as_numbers(&target);
    }
    let weight_column = match &options.weight_column {
        Some(name) if options.ignore.contains(name) => {
            return Err(DataError::Config(format!(
                "`{name}` is given as both --ignore and --weight-column; choose one"
            )));
        }
        Some(name) => {
            let name = table.column(name)?.name().to_owned();
            if name == target {
                return Err(DataError::Config(format!(
                    "`{name}` cannot be both the target and the weight column"
                )));
            }
            if options.categorical.contains(&name) {
                return Err(DataError::Config(format!(
                    "the weight column `{name}` is given as --categorical, but weights are numbers"
                )));
            }
            // Its number-format note offers no way back to text.
            for note in &mut table.notes {
                if let Note::NumberFormat { column, format } = note
                    && *column == name
                {
                    *note = Note::WeightFormat {
                        column: name.clone(),
                        format: *format,
                    };
                }
            }
            Some(name)
        }
        None => None,
    };
    let roles = assign_roles(
        &mut table,
        &target,
        weight_column.as_deref(),
        &options.ignore,
        &options.categorical,
        &options.numeric,
    )?;
    // The weights are checked before missing values are handled (a missing weight is an
    // error, never filled in) and taken out after (rows dropped for other columns drop theirs).
    if let Some(name) = &weight_column {
        weights_of(&table, name)?;
    }
    let feature_columns = table.columns().len() - usize::from(weight_column.is_some());
    if feature_columns < 2 {
        let left_out: Vec<String> = table.notes().iter().map(ToString::to_string).collect();
        let why = if left_out.is_empty() {
            String::new()
        } else {
            format!(" ({})", left_out.join("; "))
        };
        return Err(DataError::empty(
            table.source_name(),
            format!(
                "a data set needs at least one feature column besides the target `{target}`{why}"
            ),
        ));
    }
    let dropped = table.apply_missing(options.missing, &target)?;
    let weights = match &weight_column {
        Some(name) => {
            let weights = weights_of(&table, name)?;
            table.remove_existing_columns(std::slice::from_ref(name));
            Some(weights)
        }
        None => None,
    };
    let imputed: Vec<(String, usize)> = table
        .missing_counts()
        .into_iter()
        .map(|(name, n)| (name.to_owned(), n))
        .collect();

    let task_inferred = options.task.is_none();
    let task = match options.task {
        Some(task) => task,
        None => infer_task(&table, &target, options.categorical.contains(&target))?,
    };
    // Numbers become classes by value: say so when `1E5` and `100000` became one class.
    if task == Task::Classification
        && let Some(note) = Note::merged_classes(table.column(&target)?, &table.syntax())
    {
        table.push_note(note);
    }
    let target_column = table.column(&target)?;
    let strata = match task {
        Task::Classification => {
            let labels = class_labels(target_column);
            if labels.len() > MAX_CLASSES {
                return Err(DataError::target(
                    table.source_name(),
                    &target,
                    format!(
                        "{} distinct values are too many classes (at most {MAX_CLASSES}); is this a regression target? Try --task regression",
                        labels.len()
                    ),
                ));
            }
            Some(class_ids(&table, &target, &labels))
        }
        Task::Regression => None,
    };

    let num_rows = table.num_rows();
    let (split, split_skipped) = Split::of_rows(num_rows, strata.as_deref(), &options.split)?;

    if !split_skipped {
        let (test_rows, validation_rows) = options.split.requested(num_rows);
        for (part, requested, got) in [
            ("test", test_rows, split.test.len()),
            ("validation", validation_rows, split.validation.len()),
        ] {
            if got < requested {
                table.push_note(Note::SplitShort {
                    part,
                    requested,
                    got,
                });
            }
        }
    }
    let preprocessor = Preprocessor::fit(
        &table,
        &target,
        task,
        &split.train,
        &options.preprocess_options(),
    )?;
    let mut notes = table.notes().to_vec();
    for feature in &preprocessor.features {
        if let crate::FeatureTransform::Categorical {
            column,
            categories,
            infrequent,
            ..
        } = feature
            && !infrequent.is_empty()
        {
            notes.push(Note::Infrequent {
                column: column.clone(),
                levels: categories.len() + infrequent.len(),
                kept: categories.len(),
            });
        }
    }
    let part = |rows: &[usize]| -> Result<Option<Dataset>, DataError> {
        if rows.is_empty() {
            return Ok(None);
        }
        transform_part(&preprocessor, &table, rows, weights.as_deref()).map(Some)
    };
    let train = transform_part(&preprocessor, &table, &split.train, weights.as_deref())?;
    if let Some(weights) = train.weights()
        && !weights.iter().any(|&w| w > 0.0)
    {
        return Err(DataError::Config(format!(
            "{}: every training row has weight 0 in `{}`; at least one must count",
            table.source_name(),
            options.weight_column.as_deref().unwrap_or_default()
        )));
    }
    let validation = part(&split.validation)?;
    let test = part(&split.test)?;
    Ok(Prepared {
        task_inferred,
        preprocessor,
        train,
        validation,
        test,
        dropped,
        imputed,
        split_skipped,
        table,
        split,
        roles,
        notes,
        weights,
    })
}

/// `rows` of `table` through `preprocessor`, with their weights when the rows are weighted.
fn transform_part(
    preprocessor: &Preprocessor,
    table: &Table,
    rows: &[usize],
    weights: Option<&[f32]>,
) -> Result<Dataset, DataError> {
    let part = preprocessor.transform(table, rows)?;
    Ok(match weights {
        Some(weights) => part.with_weights(rows.iter().map(|&row| weights[row]).collect()),
        None => part,
    })
}

/// The weight column's values, one per row, checked: every cell a finite number ≥ 0 (the
/// first that is not is named, with its line).
fn weights_of(table: &Table, name: &str) -> Result<Vec<f32>, DataError> {
    let source = table.source_name().to_owned();
    let column = table.column(name)?;
    let name = column.name().to_owned();
    let expected = "a weight: a finite number, 0 or more";
    match column.data() {
        ColumnData::Numeric(numbers) => {
            let values = numbers.values();
            if let Some(row) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                let value = values[row];
                return Err(if value.is_nan() {
                    // Not DataError::Missing: its advice (--missing drop or impute) does not
                    // apply to weights, which every row needs.
                    DataError::NotNumeric {
                        source_name: source,
                        line: table.line(row),
                        column: name,
                        expected: "a weight on every row (a finite number, 0 or more); weights cannot be missing".to_owned(),
                        value: column.display(row),
                    }
                } else {
                    DataError::NotNumeric {
                        source_name: source,
                        line: table.line(row),
                        column: name,
                        expected: expected.to_owned(),
                        value: column.display(row),
                    }
                });
            }
            Ok(values.iter().map(|&v| v as f32).collect())
        }
        ColumnData::Categorical(c) => {
            let (line, value) = c.first_text();
            Err(DataError::NotNumeric {
                source_name: source,
                line,
                column: name,
                expected: expected.to_owned(),
                value: value.to_owned(),
            })
        }
        ColumnData::Date(_) => Err(DataError::NotNumeric {
            source_name: source,
            line: table.line(0),
            column: name,
            expected: expected.to_owned(),
            value: column.display(0),
        }),
    }
}

/// The task the target suggests ([`Task::infer`]), unless most of its classes would have a
/// single row: then numbers are a regression target, and text is refused (a quantity whose
/// formatting was not understood, or an identifier), with what to do about it.
fn infer_task(table: &Table, target: &str, forced_categorical: bool) -> Result<Task, DataError> {
    let column = table.column(target)?;
    if let ColumnData::Date(_) = column.data() {
        return Err(DataError::target(
            table.source_name(),
            target,
            "dates cannot be a target (nerve predicts classes or numbers); choose another --target",
        ));
    }
    let task = Task::infer(column);
    if task == Task::Regression {
        return Ok(task);
    }
    let labels = class_labels(column);
    let ids = class_ids(table, target, &labels);
    let mut counts = vec![0usize; labels.len()];
    for id in ids {
        counts[id as usize] += 1;
    }
    let singletons = counts.iter().filter(|&&n| n == 1).count();
    let rows: usize = counts.iter().sum();
    // Tiny tables (the tutorial's) are not judged: every class there has few rows.
    if rows < MIN_ROWS_TO_SPLIT || labels.len() <= 2 || singletons * 2 <= labels.len() {
        return Ok(task);
    }
    match column.data() {
        ColumnData::Numeric(_) => Ok(Task::Regression),
        ColumnData::Categorical(_) if forced_categorical => Err(DataError::target(
            table.source_name(),
            target,
            format!(
                "{singletons} of its {} distinct values occur in a single row, so it cannot be learned as classes; it is given as --categorical: drop that for regression, or pass --task classification to insist",
                labels.len()
            ),
        )),
        ColumnData::Categorical(c) => {
            let (line, value) = c.first_text();
            Err(DataError::target(
                table.source_name(),
                target,
                format!(
                    "{singletons} of its {} distinct values occur in a single row, so it cannot be learned as classes. If it is a quantity, fix the formatting that keeps it from reading as numbers (first such value: `{value}` on line {line}) or pass --task regression; if it is an identifier, choose another --target",
                    labels.len()
                ),
            ))
        }
        ColumnData::Date(_) => Err(DataError::target(
            table.source_name(),
            target,
            "dates cannot be a target; choose another --target",
        )),
    }
}

/// Each row's class index among `labels` (for stratification and for counting rows per class),
/// matched by value exactly as the Preprocessor matches them; a missing cell or an unknown
/// label counts as class 0. With a model's labels, it reproduces the strata of its split.
pub fn class_ids(table: &Table, target: &str, labels: &[String]) -> Vec<u32> {
    let Ok(column) = table.column(target) else {
        return Vec::new();
    };
    let matcher = Matcher::new(table, column, labels);
    (0..column.len())
        .map(|row| match matcher.get(row) {
            Cell::Known(k) => k as u32,
            Cell::Missing | Cell::Unknown(_) => 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FeatureTransform;

    /// 40 rows: a numeric feature, a categorical one with gaps, a string label in the middle.
    fn penguins() -> Table {
        let mut text = String::from("bill,island,species,mass\n");
        for i in 0..40 {
            let island = match i % 4 {
                0 => "Biscoe",
                1 => "Dream",
                2 => "NA",
                _ => "Torgersen",
            };
            let species = if i % 5 == 0 { "Gentoo" } else { "Adelie" };
            let bill = if i == 7 {
                "NA".to_owned()
            } else {
                format!("{}", 30 + i)
            };
            text.push_str(&format!("{bill},{island},{species},{}\n", 3000 + 10 * i));
        }
        Table::from_csv_str("penguins.csv", &text).expect("valid csv")
    }

    #[test]
    fn a_split_is_reproduced_from_the_rows_the_options_and_the_labels() {
        // `nerve eval --split` rebuilds a run's split from its table, its saved options and
        // the model's class labels: it must be the split `prepare` made.
        let options = PrepareOptions {
            target: Some("species".to_owned()),
            split: SplitOptions {
                test: 0.25,
                validation: 0.2,
                seed: 7,
            },
            ..PrepareOptions::default()
        };
        let prepared = prepare(penguins(), &options).expect("prepares");
        let labels = prepared.preprocessor.labels().expect("classes");
        let strata = class_ids(&prepared.table, "species", labels);
        let (split, skipped) =
            Split::of_rows(prepared.table.num_rows(), Some(&strata), &options.split)
                .expect("splits");
        assert!(!skipped && !split.validation.is_empty() && !split.test.is_empty());
        assert_eq!(split, prepared.split);
        // Too few rows: not split, and said so.
        let (small, skipped) = Split::of_rows(5, None, &options.split).expect("splits");
        assert!(skipped && small.train == [0, 1, 2, 3, 4]);
    }

    #[test]
    fn impute_keeps_every_row_and_stratifies() {
        let options = PrepareOptions {
            target: Some("species".to_owned()),
            missing: Missing::Impute,
            ..PrepareOptions::default()
        };
        let prepared = prepare(penguins(), &options).expect("prepares");
        assert_eq!(prepared.task(), Task::Classification);
        assert!(prepared.task_inferred);
        assert_eq!(prepared.dropped.rows_dropped, 0);
        assert_eq!(
            prepared.imputed,
            vec![("bill".to_owned(), 1), ("island".to_owned(), 10)]
        );
        let test = prepared.test.as_ref().expect("40 rows are split");
        assert_eq!((prepared.train.len(), test.len()), (32, 8));
        // 8 Gentoo of 40: 2 in the test rows (label 0 is Adelie, 1 Gentoo).
        assert_eq!(test.targets().iter().filter(|&&t| t == 1.0).count(), 2);
        // A numeric column with blanks in training gains an indicator, a categorical one a
        // level of its own (whether the blank rows fall in training depends on the split).
        let bill_blank_in_training = prepared
            .split
            .train
            .iter()
            .any(|&r| prepared.table.column("bill").is_ok_and(|c| c.is_missing(r)));
        let mut expected = vec!["bill"];
        if bill_blank_in_training {
            expected.push("bill.missing");
        }
        expected.extend([
            "island=Biscoe",
            "island=Dream",
            "island=Torgersen",
            "island=(missing)",
            "mass",
        ]);
        assert_eq!(prepared.train.feature_names(), expected);
        assert_eq!(test.line(0).map(|line| line > 1), Some(true));
    }

    #[test]
    fn a_refit_sees_only_its_fit_rows() {
        // Row 30 holds an outlier and a category no other row has: a fold that holds it out
        // must neither scale by it nor know its category.
        let mut text = String::from("x,colour,y\n");
        for i in 0..30 {
            let colour = ["red", "blue"][i % 2];
            text.push_str(&format!("{},{colour},{}\n", i % 10, i % 2));
        }
        text.push_str("1000000,green,1\n");
        let table = Table::from_csv_str("leak.csv", &text).expect("valid csv");
        let options = PrepareOptions {
            split: SplitOptions {
                test: 0.0,
                ..SplitOptions::default()
            },
            ..PrepareOptions::default()
        };
        let prepared = prepare(table, &options).expect("prepares");
        let fit: Vec<usize> = (0..30).collect();
        let (p, parts) = prepared
            .refit(&fit, &[&fit, &[30]], &options.preprocess_options())
            .expect("refits");
        match &p.features[0] {
            FeatureTransform::Numeric { offset, .. } => assert!((*offset - 4.5).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
        match &p.features[1] {
            FeatureTransform::Categorical { categories, .. } => {
                assert_eq!(categories, &["blue", "red"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parts[0].len(), 30);
        let (_, report) = p
            .transform_features(&prepared.table, &[30])
            .expect("transforms");
        assert_eq!(report.unseen, vec![("colour".to_owned(), 1)]);
        // Fitted on every row, the same preprocessing sees both.
        let all: Vec<usize> = (0..31).collect();
        let (p, _) = prepared
            .refit(&all, &[], &options.preprocess_options())
            .expect("refits");
        match &p.features[0] {
            FeatureTransform::Numeric { offset, .. } => assert!(*offset > 30_000.0),
            other => panic!("{other:?}"),
        }
        assert!(
            prepared
                .refit(&[], &[], &options.preprocess_options())
                .is_err()
        );
        assert!(
            prepared
                .refit(&[31], &[], &options.preprocess_options())
                .is_err()
        );
    }

    #[test]
    fn drop_regression_and_small_data() {
        let options = PrepareOptions {
            target: Some("mass".to_owned()),
            missing: Missing::Drop,
            ..PrepareOptions::default()
        };
        let prepared = prepare(penguins(), &options).expect("prepares");
        assert_eq!(prepared.task(), Task::Regression);
        // Row 7 (bill) and every `NA` island are dropped: 40 - 10 - 1.
        assert_eq!(prepared.dropped.rows_dropped, 11);
        assert_eq!(prepared.preprocessor.d_output(), 1);
        let small = Table::from_csv_str("s.csv", "x,y\n1,0\n2,1\n3,0\n").expect("valid");
        let prepared = prepare(small, &PrepareOptions::default()).expect("prepares");
        assert!(prepared.split_skipped);
        assert!(prepared.test.is_none());
        assert_eq!(prepared.train.len(), 3);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let options = PrepareOptions {
            target: Some("weight".to_owned()),
            ..PrepareOptions::default()
        };
        let err = prepare(penguins(), &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "penguins.csv has no column `weight`; its columns are: bill, island, species, mass"
        );
        let options = PrepareOptions {
            target: Some("species".to_owned()),
            task: Some(Task::Regression),
            ..PrepareOptions::default()
        };
        let err = prepare(penguins(), &options).unwrap_err();
        assert!(
            err.to_string()
                .contains("column `species`: expected a number"),
            "{err}"
        );
        let options = PrepareOptions {
            missing: Missing::Error,
            ..PrepareOptions::default()
        };
        let err = prepare(penguins(), &options).unwrap_err();
        assert!(err.to_string().contains("line 4, column `island`"), "{err}");
        let options = PrepareOptions {
            ignore: vec!["bill".into(), "island".into(), "species".into()],
            ..PrepareOptions::default()
        };
        let err = prepare(penguins(), &options).unwrap_err();
        assert!(
            err.to_string().contains("at least one feature column"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod weight_tests {
    use super::*;

    /// 30 rows `x,w,y`: the weight of row i (line i + 2) is `weight(i)`.
    fn table(weight: impl Fn(usize) -> String) -> Table {
        let mut text = String::from("x,w,y\n");
        for i in 0..30 {
            let x = if i == 4 {
                "NA".to_owned()
            } else {
                i.to_string()
            };
            text.push_str(&format!("{x},{},{}\n", weight(i), i % 3));
        }
        Table::from_csv_str("w.csv", &text).expect("valid csv")
    }

    fn options() -> PrepareOptions {
        PrepareOptions {
            target: Some("y".into()),
            task: Some(Task::Classification),
            weight_column: Some("w".into()),
            missing: Missing::Drop,
            ..PrepareOptions::default()
        }
    }

    /// The weight column is not a feature; each part's rows carry their own weights, also
    /// after a row is dropped for a missing value elsewhere.
    #[test]
    fn weights_follow_their_rows_through_drops_and_the_split() {
        let prepared = prepare(table(|i| format!("{}", i + 1)), &options()).expect("valid");
        assert_eq!(prepared.train.feature_names(), ["x"]);
        assert!(
            prepared
                .roles
                .columns
                .contains(&("w".into(), crate::ColumnRole::Weight))
        );
        let ColumnData::Numeric(x) = prepared.table.column("x").expect("x").data() else {
            panic!("x is numeric");
        };
        let x = x.values();
        for (part, rows) in [
            (Some(&prepared.train), &prepared.split.train),
            (prepared.test.as_ref(), &prepared.split.test),
        ] {
            let weights = part.expect("a part").weights().expect("weighted");
            assert_eq!(weights.len(), rows.len());
            for (&w, &row) in weights.iter().zip(rows.iter()) {
                // w = x + 1 on every row that was kept (the row without x was dropped).
                assert_eq!(f64::from(w), x[row] + 1.0, "row {row}");
            }
        }
        let all: usize = [&prepared.split.train, &prepared.split.test]
            .iter()
            .map(|r| r.len())
            .sum();
        assert_eq!(all, 29);
    }

    /// A weight that is not one is named with its line: missing, negative, text (infinities
    /// are refused by the reader already); and
    /// training rows that all weigh 0 are refused.
    #[test]
    fn bad_weights_are_named() {
        type Weight = Box<dyn Fn(usize) -> String>;
        let cases: [(Weight, &str); 5] = [
            (
                Box::new(|i| if i == 5 { "NA".into() } else { "1".into() }),
                "line 7",
            ),
            (
                Box::new(|i| if i == 9 { "-2".into() } else { "1".into() }),
                "line 11",
            ),
            (
                Box::new(|i| if i == 2 { "-0.001".into() } else { "1".into() }),
                "line 4",
            ),
            (
                Box::new(|i| if i == 3 { "heavy".into() } else { "1".into() }),
                "line 5",
            ),
            (Box::new(|_| "0".into()), "every training row has weight 0"),
        ];
        for (weight, expected) in cases {
            let err = prepare(table(weight), &options()).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
            if expected.starts_with("line") {
                assert!(err.contains("w.csv") && err.contains("`w`"), "{err}");
            }
        }
    }

    /// The weight column cannot also be the target, ignored, or categorical; an unknown name
    /// is an unknown column.
    #[test]
    fn weight_column_conflicts_are_refused() {
        for (change, expected) in [
            (
                PrepareOptions {
                    weight_column: Some("y".into()),
                    ..options()
                },
                "both the target and the weight column",
            ),
            (
                PrepareOptions {
                    ignore: vec!["w".into()],
                    ..options()
                },
                "both --ignore and --weight-column",
            ),
            (
                PrepareOptions {
                    categorical: vec!["w".into()],
                    ..options()
                },
                "weights are numbers",
            ),
            (
                PrepareOptions {
                    weight_column: Some("weight".into()),
                    ..options()
                },
                "weight",
            ),
        ] {
            let err = prepare(table(|_| "1".into()), &change)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }
}
