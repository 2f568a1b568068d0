//! [`ColumnRoles`]: what each column of a table is for — the target, a numeric, one-hot or
//! date feature, or left out (asked to be, an identifier, or without any value).

use crate::cell::LevelKey;
use crate::column::ColumnData;
use crate::dates::parse_date;
use crate::{Categorical, DataError, Note, Table};

/// What one column is used as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// The target.
    Target,
    /// One numeric input.
    Numeric,
    /// One-hot inputs, one per level (before grouping infrequent ones).
    OneHot {
        /// The column's distinct values.
        levels: usize,
    },
    /// Five inputs from a date (year, month, day, weekday, days since the earliest).
    Date,
    /// Left out because the user asked (`--ignore`).
    Ignored,
    /// Left out: a text column with (nearly) one value per row.
    Identifier,
    /// Left out: no value in any row.
    AllMissing,
}

/// Every column's role, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnRoles {
    /// `(column, role)` for each column of the file.
    pub columns: Vec<(String, ColumnRole)>,
}

impl ColumnRoles {
    /// The columns with a role for which `keep` holds.
    pub fn names(&self, keep: impl Fn(&ColumnRole) -> bool) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|(_, role)| keep(role))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// A text column needs at least this many values to be taken for an identifier.
pub(crate) const MIN_ROWS_FOR_IDENTIFIER: usize = 10;

/// Decides the roles of `table`'s columns (after `ignored` ones were removed), leaves out
/// identifiers and empty columns (adding a note for each), and returns the roles.
/// `keep_categorical` are columns the user forced to be categorical: never identifiers.
///
/// A text column whose cells are mostly numbers (or dates) but for a few is not guessed at: as
/// categories it would be an identifier, so it is an error naming the first odd cell and the
/// ways out (`--na-values`, `--ignore`, `--categorical`). With few distinct values it is used as
/// categories, with a note.
pub(crate) fn assign_roles(
    table: &mut Table,
    target: &str,
    ignored: &[String],
    keep_categorical: &[String],
) -> Result<ColumnRoles, DataError> {
    let mut columns: Vec<(String, ColumnRole)> = ignored
        .iter()
        .map(|name| (name.clone(), ColumnRole::Ignored))
        .collect();
    let mut left_out = Vec::new();
    for column in table.columns() {
        let name = column.name().to_owned();
        let present = column.len() - column.missing_count();
        let role = if name == target {
            ColumnRole::Target
        } else if present == 0 {
            left_out.push(Note::AllMissing {
                column: name.clone(),
            });
            ColumnRole::AllMissing
        } else {
            match column.data() {
                ColumnData::Numeric(_) => ColumnRole::Numeric,
                ColumnData::Date(_) => ColumnRole::Date,
                ColumnData::Categorical(c) => {
                    let distinct = used_levels(c);
                    let forced = keep_categorical.contains(&name);
                    let identifier =
                        !forced && present >= MIN_ROWS_FOR_IDENTIFIER && distinct * 2 > present;
                    if !forced && name != target {
                        check_mixed(table, &name, c, present, identifier, &mut left_out)?;
                    }
                    if identifier {
                        left_out.push(Note::Identifier {
                            column: name.clone(),
                            distinct,
                            rows: present,
                        });
                        ColumnRole::Identifier
                    } else {
                        ColumnRole::OneHot { levels: distinct }
                    }
                }
            }
        };
        columns.push((name, role));
    }
    let drop: Vec<String> = columns
        .iter()
        .filter(|(_, role)| matches!(role, ColumnRole::Identifier | ColumnRole::AllMissing))
        .map(|(name, _)| name.clone())
        .collect();
    table.remove_existing_columns(&drop);
    for note in left_out {
        table.push_note(note);
    }
    Ok(ColumnRoles { columns })
}

/// For a text column mostly of numbers or dates: an error when it would be left out as an
/// identifier (one odd cell among many distinct numbers is a typo or a missing-value spelling,
/// not a reason to drop the column), a note otherwise.
fn check_mixed(
    table: &Table,
    name: &str,
    c: &Categorical,
    present: usize,
    identifier: bool,
    notes: &mut Vec<Note>,
) -> Result<(), DataError> {
    let is_number: Vec<bool> = c
        .keys()
        .iter()
        .map(|k| matches!(k, LevelKey::Number(_)))
        .collect();
    let is_date: Vec<bool> = c.levels().iter().map(|l| parse_date(l).is_some()).collect();
    let (mut numbers, mut dates, mut odd) = (0usize, 0usize, None);
    for (row, &code) in c.codes().iter().enumerate() {
        if code == Categorical::MISSING {
            continue;
        }
        let code = code as usize;
        numbers += usize::from(is_number[code]);
        dates += usize::from(is_date[code]);
        if !is_number[code] && !is_date[code] && odd.is_none() {
            odd = Some((table.line(row), c.levels()[code].as_str()));
        }
    }
    let Some((line, value)) = odd else {
        return Ok(());
    };
    let (kind, count) = if numbers >= dates {
        ("numbers", numbers)
    } else {
        ("dates", dates)
    };
    if count == 0 || count * 2 < present {
        return Ok(());
    }
    if identifier {
        return Err(DataError::Csv {
            source_name: table.source_name().to_owned(),
            line,
            message: format!(
                "column `{name}`: {count} of its {present} values are {kind}, but `{value}` is not, so as text the column would be left out as an identifier. If `{value}` means missing, pass --na-values '{value}'; otherwise fix it, or pass --ignore {name} to leave the column out or --categorical {name} to use it as categories"
            ),
        });
    }
    notes.push(Note::NumbersAndText {
        column: name.to_owned(),
        kind,
        line,
        value: value.to_owned(),
    });
    Ok(())
}

/// The number of levels that some row has.
fn used_levels(c: &Categorical) -> usize {
    let mut used = vec![false; c.levels().len()];
    for &code in c.codes() {
        if code != Categorical::MISSING {
            used[code as usize] = true;
        }
    }
    used.into_iter().filter(|&u| u).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_empty_columns_are_left_out() {
        let mut text = String::from("id,colour,empty,when,x,y\n");
        for i in 0..12 {
            let colour = ["red", "blue"][i % 2];
            text.push_str(&format!(
                "c{i},{colour},,2024-01-{:02},{i},{}\n",
                i + 1,
                i % 2
            ));
        }
        let mut table = Table::from_csv_str("t.csv", &text).expect("reads");
        let roles = assign_roles(&mut table, "y", &["skip".to_owned()], &[]).expect("roles");
        assert_eq!(
            roles.columns,
            vec![
                ("skip".to_owned(), ColumnRole::Ignored),
                ("id".to_owned(), ColumnRole::Identifier),
                ("colour".to_owned(), ColumnRole::OneHot { levels: 2 }),
                ("empty".to_owned(), ColumnRole::AllMissing),
                ("when".to_owned(), ColumnRole::Date),
                ("x".to_owned(), ColumnRole::Numeric),
                ("y".to_owned(), ColumnRole::Target),
            ]
        );
        assert_eq!(table.column_names(), ["colour", "when", "x", "y"]);
        let notes: Vec<String> = table.notes().iter().map(ToString::to_string).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("`id`: 12 distinct values in 12 rows")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("`empty` has no values")),
            "{notes:?}"
        );
        let mut table = Table::from_csv_str("t.csv", &text).expect("reads");
        let roles = assign_roles(&mut table, "y", &[], &["id".to_owned()]).expect("roles");
        assert_eq!(
            roles.columns[0],
            ("id".to_owned(), ColumnRole::OneHot { levels: 12 })
        );
    }
}
