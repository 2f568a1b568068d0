//! [`Task`]: classification or regression, inferred from the target column, and class labels.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::cell::normalized_bits;
use crate::{Column, ColumnData, DataError};

/// What the target column asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict one of a few named classes.
    Classification,
    /// Predict a number.
    Regression,
}

impl Task {
    /// A numeric target with at most this many distinct integer values is taken for class ids.
    pub const MAX_INFERRED_CLASSES: usize = 20;

    /// The task a target column suggests: classification for a categorical column, or for a
    /// numeric one whose values are all integers with at most
    /// [`MAX_INFERRED_CLASSES`](Self::MAX_INFERRED_CLASSES) distinct values; regression otherwise.
    pub fn infer(target: &Column) -> Task {
        match target.data() {
            ColumnData::Categorical(_) | ColumnData::Date(_) => Task::Classification,
            ColumnData::Numeric(numbers) => {
                let mut distinct = HashSet::new();
                for value in numbers.values().iter().filter(|v| !v.is_nan()) {
                    if value.fract() != 0.0 {
                        return Task::Regression;
                    }
                    // `-0` and `0` are one value.
                    distinct.insert(normalized_bits(*value));
                    if distinct.len() > Self::MAX_INFERRED_CLASSES {
                        return Task::Regression;
                    }
                }
                Task::Classification
            }
        }
    }

    /// The name used in configs and output.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl nerve_choice::Choice for Task {
    const KIND: &'static str = "task";

    fn all() -> &'static [Self] {
        &[Task::Classification, Task::Regression]
    }

    fn name(self) -> &'static str {
        Task::name(self)
    }
}

impl std::str::FromStr for Task {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        nerve_choice::parse(text).map_err(|e| DataError::Config(e.to_string()))
    }
}

/// The distinct non-missing values of `column` as class labels, each under its first spelling
/// in the file (never through a float: `100000001` stays itself), in a stable order that does
/// not depend on the row order: numbers ascending, text in natural order (`2` before `10`,
/// then alphabetical).
pub fn class_labels(column: &Column) -> Vec<String> {
    let mut labels: Vec<String> = match column.data() {
        ColumnData::Numeric(numbers) => {
            let mut distinct: Vec<f64> = numbers
                .values()
                .iter()
                .map(|&v| f64::from_bits(normalized_bits(v)))
                .filter(|v| !v.is_nan())
                .collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            return distinct.iter().map(|&v| numbers.spelling(v)).collect();
        }
        ColumnData::Date(dates) => {
            let mut distinct: Vec<f64> = dates
                .days()
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let rows: Vec<usize> = distinct
                .iter()
                .filter_map(|d| dates.days().iter().position(|x| x == d))
                .collect();
            return rows.into_iter().map(|row| column.shown(row)).collect();
        }
        ColumnData::Categorical(c) => c
            .levels()
            .iter()
            .zip(c.used_levels())
            .filter(|&(_, used)| used)
            .map(|(level, _)| level.clone())
            .collect(),
    };
    labels.sort_by(|a, b| natural_order(a, b));
    labels
}

/// Numbers before text and in numeric order; text in byte order.
pub(crate) fn natural_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Table;

    fn column(text: &str) -> Column {
        let table = Table::from_csv_str("t.csv", text).expect("valid csv");
        table.columns()[0].clone()
    }

    #[test]
    fn tasks_are_inferred_from_the_target() {
        assert_eq!(Task::infer(&column("y\na\nb\n")), Task::Classification);
        assert_eq!(Task::infer(&column("y\n0\n1\n1\n")), Task::Classification);
        assert_eq!(Task::infer(&column("y\n0.5\n1\n")), Task::Regression);
        let many: String = (0..21).map(|i| format!("{i}\n")).collect();
        assert_eq!(
            Task::infer(&column(&format!("y\n{many}"))),
            Task::Regression
        );
        let twenty: String = (0..20).map(|i| format!("{i}\n")).collect();
        assert_eq!(
            Task::infer(&column(&format!("y\n{twenty}"))),
            Task::Classification
        );
        // `-0` is `0`: still twenty classes.
        assert_eq!(
            Task::infer(&column(&format!("y\n{twenty}-0\n"))),
            Task::Classification
        );
    }

    #[test]
    fn labels_have_a_stable_natural_order() {
        assert_eq!(
            class_labels(&column("y\nvirginica\nsetosa\nNA\nversicolor\nsetosa\n")),
            ["setosa", "versicolor", "virginica"]
        );
        assert_eq!(class_labels(&column("y\n10\n2\n1\n2\n")), ["1", "2", "10"]);
        // Labels are the values as first written, and equal values are one label.
        assert_eq!(
            class_labels(&column("y\n100000009\n100000001\n100000002\n100000001.0\n")),
            ["100000001", "100000002", "100000009"]
        );
        assert_eq!(
            class_labels(&column("y\n1.0\n0.0\n-0.0\n1\n")),
            ["0.0", "1.0"]
        );
        assert_eq!(
            class_labels(&column("y\nTrue\nfalse\nTRUE\nFalse\n")),
            ["True", "false"]
        );
        assert_eq!(
            class_labels(&column("y\n10\nb\n2\na\n")),
            ["2", "10", "a", "b"]
        );
        assert_eq!(
            "Regression".parse::<Task>().expect("a task"),
            Task::Regression
        );
        assert!("clustering".parse::<Task>().is_err());
    }
}
