//! [`Matcher`]: the cells of a column matched against names (a model's categories or class
//! labels) by value, the one way a cell becomes a category or class id for new rows.

use std::collections::HashMap;

use crate::cell::LevelKey;
use crate::column::{Column, ColumnData};
use crate::{Categorical, Table};

/// A cell matched against a list of names (categories or class labels).
pub(crate) enum Cell {
    /// A missing value.
    Missing,
    /// The index of the name it matches.
    Known(usize),
    /// A value matching no name, as written.
    Unknown(String),
}

/// Matches the cells of one column against `names` by value (`3` matches `3.0`, `TRUE`
/// matches `True`): a categorical column by level (one lookup per level, not per row), a
/// numeric one by number.
pub(crate) struct Matcher<'a> {
    column: &'a Column,
    by_code: Vec<Option<usize>>,
    by_key: HashMap<LevelKey, usize>,
}

impl<'a> Matcher<'a> {
    /// A matcher of `column`'s cells (read from `table`, whose number syntax reads the names)
    /// against `names`, in order; a name repeated by value matches its first index.
    pub(crate) fn new<'n>(
        table: &Table,
        column: &'a Column,
        names: impl IntoIterator<Item = &'n String>,
    ) -> Self {
        let syntax = table.syntax();
        let numeric = matches!(column.data(), ColumnData::Numeric(_));
        let mut by_key = HashMap::new();
        for (i, name) in names.into_iter().enumerate() {
            // A numeric column's labels are its values as first written, formatted or not
            // (`1,000`, `100000000000000001`): matched by the number they read as.
            let key = syntax
                .parse(name)
                .filter(|p| numeric && p.value.is_finite())
                .map_or_else(
                    || LevelKey::of(name, &syntax),
                    |p| LevelKey::number(p.value),
                );
            by_key.entry(key).or_insert(i);
        }
        let by_code = match column.data() {
            ColumnData::Categorical(c) => c
                .keys()
                .iter()
                .map(|key| by_key.get(key).copied())
                .collect(),
            _ => Vec::new(),
        };
        Self {
            column,
            by_code,
            by_key,
        }
    }

    /// What the cell of `row` matches.
    pub(crate) fn get(&self, row: usize) -> Cell {
        match self.column.data() {
            ColumnData::Categorical(c) => match c.codes()[row] {
                Categorical::MISSING => Cell::Missing,
                code => match self.by_code[code as usize] {
                    Some(k) => Cell::Known(k),
                    None => Cell::Unknown(c.levels()[code as usize].clone()),
                },
            },
            _ if self.column.is_missing(row) => Cell::Missing,
            ColumnData::Numeric(numbers) => {
                let value = numbers.values()[row];
                match self.by_key.get(&LevelKey::number(value)) {
                    Some(&k) => Cell::Known(k),
                    None => Cell::Unknown(numbers.spelling(value)),
                }
            }
            ColumnData::Date(_) => {
                let text = self.column.display(row);
                match self.by_key.get(&LevelKey::Text(text.clone())) {
                    Some(&k) => Cell::Known(k),
                    None => Cell::Unknown(text),
                }
            }
        }
    }
}
