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
    /// Columns to use as categories whatever their values (never left out as identifiers).
    /// Read them with [`PrepareOptions::column_kinds`] in [`CsvOptions::kinds`](crate::CsvOptions).
    pub categorical: Vec<String>,
    /// Columns that must be numbers (a cell that is not one is an error).
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
}

impl PrepareOptions {
    /// The forced column types, for reading the table ([`CsvOptions::kinds`](crate::CsvOptions)).
    pub fn column_kinds(&self) -> Vec<(String, ColumnKind)> {
        let categorical = self
            .categorical
            .iter()
            .map(|name| (name.clone(), ColumnKind::Categorical));
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
            missing: Missing::Drop,
            standardize: Standardize::ZScore,
            standardize_target: true,
            split: SplitOptions::default(),
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
}

impl Prepared {
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
        let part = |rows: &[usize]| -> Result<Option<Dataset>, DataError> {
            if rows.is_empty() {
                return Ok(None);
            }
            preprocessor.transform(&self.table, rows).map(Some)
        };
        let train = preprocessor.transform(&self.table, &self.split.train)?;
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
    let target = match &options.target {
        Some(name) => table.column(name)?.name().to_owned(),
        None => table
            .column_names()
            .last()
            .map(|&name| name.to_owned())
            .unwrap_or_default(),
    };
    if options.task == Some(Task::Regression) && options.categorical.contains(&target) {
        return Err(DataError::Config(format!(
            "the target `{target}` is given as --categorical, but --task regression needs numbers"
        )));
    }
    let roles = assign_roles(&mut table, &target, &options.ignore, &options.categorical)?;
    if table.columns().len() < 2 {
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
    let imputed: Vec<(String, usize)> = table
        .missing_counts()
        .into_iter()
        .map(|(name, n)| (name.to_owned(), n))
        .collect();

    let target_column = table.column(&target)?;
    let task_inferred = options.task.is_none();
    let task = match options.task {
        Some(task) => task,
        None => infer_task(&table, &target, options.categorical.contains(&target))?,
    };
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
        &PreprocessOptions {
            standardize: options.standardize,
            standardize_target: options.standardize_target,
            max_categories: options.max_categories,
        },
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
        preprocessor.transform(&table, rows).map(Some)
    };
    let train = preprocessor.transform(&table, &split.train)?;
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
    })
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
        assert_eq!(
            prepared.train.feature_names(),
            [
                "bill",
                "island=Biscoe",
                "island=Dream",
                "island=Torgersen",
                "mass"
            ]
        );
        assert_eq!(test.line(0).map(|line| line > 1), Some(true));
    }

    #[test]
    fn drop_regression_and_small_data() {
        let options = PrepareOptions {
            target: Some("mass".to_owned()),
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
