//! [`ColumnRoles`]: what each column of a table is for — the target, a numeric, one-hot or
//! date feature, or left out (asked to be, an identifier, or without any value).

use crate::cell::{LevelKey, NumberSyntax, has_leading_zeros};
use crate::column::ColumnData;
use crate::dates::{DateOrder, days_since_epoch, parse_date};
use crate::{Categorical, DataError, Note, Table};

/// What one column is used as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// The target.
    Target,
    /// Each row's weight in the loss (`--weight-column`), not a feature.
    Weight,
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
    /// Left out: whole numbers that count the rows, or a row index written out with the file.
    RowNumbers,
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
/// identifiers, row numbers and empty columns (adding a note for each), and returns the roles.
/// `keep_categorical` are columns the user forced to be categorical, `keep_numeric` ones forced
/// to be numeric: never identifiers.
///
/// A text column whose cells are mostly numbers (or dates) but for a few is not guessed at: as
/// categories it would be an identifier, so it is an error naming the first odd cell and the
/// ways out (`--na-values`, `--ignore`, `--categorical`). With few distinct values it is used as
/// categories, with a note.
pub(crate) fn assign_roles(
    table: &mut Table,
    target: &str,
    weight: Option<&str>,
    ignored: &[String],
    keep_categorical: &[String],
    keep_numeric: &[String],
) -> Result<ColumnRoles, DataError> {
    let unnamed: Vec<&str> = table
        .notes()
        .iter()
        .filter_map(|note| match note {
            Note::ColumnNamed { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
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
        } else if Some(name.as_str()) == weight {
            ColumnRole::Weight
        } else if present == 0 {
            left_out.push(Note::AllMissing {
                column: name.clone(),
            });
            ColumnRole::AllMissing
        } else {
            match column.data() {
                ColumnData::Numeric(n) if !keep_numeric.contains(&name) => {
                    let index_name = unnamed.contains(&name.as_str()) || is_row_index_name(&name);
                    match row_numbers(n.values(), index_name) {
                        Some((range, in_order)) => {
                            left_out.push(Note::RowNumbers {
                                column: name.clone(),
                                range,
                                in_order,
                            });
                            ColumnRole::RowNumbers
                        }
                        None => ColumnRole::Numeric,
                    }
                }
                ColumnData::Numeric(_) => ColumnRole::Numeric,
                ColumnData::Date(_) => ColumnRole::Date,
                ColumnData::Categorical(c) => {
                    let distinct = c.used_levels().into_iter().filter(|&u| u).count();
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
        .filter(|(_, role)| {
            matches!(
                role,
                ColumnRole::Identifier | ColumnRole::RowNumbers | ColumnRole::AllMissing
            )
        })
        .map(|(name, _)| name.clone())
        .collect();
    table.remove_existing_columns(&drop);
    for note in left_out {
        table.push_note(note);
    }
    Ok(ColumnRoles { columns })
}

/// Whether a column's name is one that data frame libraries give a row index when they write
/// it out: R's `rownames` (and `row.names`), pandas' `Unnamed: 0` (what an unnamed first
/// column reads back as) and `index` (from `reset_index`), readr's `...1`.
fn is_row_index_name(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    // `Unnamed: 0.1`: pandas' name for a second unnamed column of that name, an index saved twice.
    let numbered = |prefix: &str| {
        lower.strip_prefix(prefix).is_some_and(|n| {
            n.starts_with(|c: char| c.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        })
    };
    matches!(
        lower.as_str(),
        "rownames" | "row.names" | "row_names" | "row names" | "rowname" | "index"
    ) || numbered("unnamed: ")
        || numbered("...")
}

/// Whether `values` are row numbers: whole numbers counting the rows in file order from 0 or
/// 1 (`(range, true)`), or — for a column named as a row index (`index_name`) — one distinct
/// whole number of 0 or more per row, in any order (a file sorted or filtered after its index
/// was written). At least [`MIN_ROWS_FOR_IDENTIFIER`] rows, none missing.
fn row_numbers(values: &[f64], index_name: bool) -> Option<((i64, i64), bool)> {
    if values.len() < MIN_ROWS_FOR_IDENTIFIER
        || values
            .iter()
            .any(|v| v.is_nan() || v.fract() != 0.0 || v.abs() > 1e15)
    {
        return None;
    }
    let first = values[0];
    if (first == 0.0 || first == 1.0)
        && values
            .iter()
            .enumerate()
            .all(|(i, &v)| v == first + i as f64)
    {
        let last = first as i64 + values.len() as i64 - 1;
        return Some(((first as i64, last), true));
    }
    if !index_name || values.iter().any(|&v| v < 0.0) {
        return None;
    }
    let mut sorted: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    sorted.sort_unstable();
    let distinct = sorted.windows(2).all(|w| w[0] < w[1]);
    distinct.then(|| ((sorted[0], sorted[sorted.len() - 1]), false))
}

/// What a categorical level looks like, to tell a column of numbers or dates written in
/// several ways from a column of text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Number {
        percent: bool,
        currency: Option<char>,
        decimal: Option<char>,
    },
    Date {
        year_first: bool,
        day_first: bool,
        month_first: bool,
    },
    /// A whole number written with leading zeros: a code, neither a number nor odd text.
    Code,
    Text,
}

impl Shape {
    fn of(level: &str, key: &LevelKey, syntax: &NumberSyntax) -> Shape {
        if has_leading_zeros(level) {
            return Shape::Code;
        }
        if !matches!(key, LevelKey::Integer(_))
            && let Some(parsed) = syntax.parse(level).filter(|p| p.value.is_finite())
        {
            return Shape::Number {
                percent: parsed.format.percent,
                currency: parsed.format.currency,
                decimal: parsed.decimal,
            };
        }
        match parse_date(level) {
            Some(fields) => Shape::Date {
                year_first: days_since_epoch(&fields, DateOrder::Ymd).is_some(),
                day_first: days_since_epoch(&fields, DateOrder::Dmy).is_some(),
                month_first: days_since_epoch(&fields, DateOrder::Mdy).is_some(),
            },
            None => Shape::Text,
        }
    }

    /// Whether two values cannot be read the same way in one column.
    fn conflicts(self, other: Shape) -> bool {
        let differ = |a: Option<char>, b: Option<char>| a.is_some() && b.is_some() && a != b;
        match (self, other) {
            (
                Shape::Number {
                    percent: p,
                    currency: c,
                    decimal: d,
                },
                Shape::Number {
                    percent: q,
                    currency: e,
                    decimal: f,
                },
            ) => p != q || differ(c, e) || differ(d, f),
            (
                Shape::Date {
                    year_first: y,
                    day_first: a,
                    month_first: m,
                },
                Shape::Date {
                    year_first: z,
                    day_first: b,
                    month_first: n,
                },
            ) => !((y && z) || (a && b) || (m && n)),
            _ => true,
        }
    }
}

/// For a text column mostly of numbers or dates: an error when it would be left out as an
/// identifier (one odd cell among many distinct numbers is a typo, a missing-value spelling or
/// a value written another way, not a reason to drop the column), a note otherwise.
fn check_mixed(
    table: &Table,
    name: &str,
    c: &Categorical,
    present: usize,
    identifier: bool,
    notes: &mut Vec<Note>,
) -> Result<(), DataError> {
    let syntax = table.syntax();
    let shapes: Vec<Shape> = c
        .levels()
        .iter()
        .zip(c.keys())
        .map(|(level, key)| Shape::of(level, key, &syntax))
        .collect();
    let rows: Vec<(usize, usize)> = c
        .codes()
        .iter()
        .enumerate()
        .filter(|&(_, &code)| code != Categorical::MISSING)
        .map(|(row, &code)| (row, code as usize))
        .collect();
    let numbers = rows
        .iter()
        .filter(|&&(_, k)| matches!(shapes[k], Shape::Number { .. }))
        .count();
    let dates = rows
        .iter()
        .filter(|&&(_, k)| matches!(shapes[k], Shape::Date { .. }))
        .count();
    let (kind, count) = if numbers >= dates {
        ("numbers", numbers)
    } else {
        ("dates", dates)
    };
    if count == 0 || count * 2 < present {
        return Ok(());
    }
    let cell = |(row, k): (usize, usize)| (table.line(row), c.levels()[k].as_str());
    let odd = rows
        .iter()
        .find(|&&(_, k)| shapes[k] == Shape::Text)
        .copied();
    let error = |message: String, line: u64| DataError::Csv {
        source_name: table.source_name().to_owned(),
        line,
        message: format!("column `{name}`: {message}"),
    };
    let ways_out = format!(
        "or pass --ignore {name} to leave the column out, or --categorical {name} to use it as categories"
    );
    match odd.map(cell) {
        Some((line, value)) if identifier => Err(error(
            format!(
                "{count} of its {present} values are {kind}, but `{value}` is not, so as text the column would be left out as an identifier. If `{value}` means missing, pass --na-values '{value}'; otherwise fix it, {ways_out}"
            ),
            line,
        )),
        Some((line, value)) => {
            notes.push(Note::NumbersAndText {
                column: name.to_owned(),
                kind,
                line,
                value: value.to_owned(),
            });
            Ok(())
        }
        // Codes with leading zeros among the numbers: a code column, which may well be an
        // identifier (customer numbers), not numbers written two ways.
        None if identifier && shapes.contains(&Shape::Code) => Ok(()),
        None if identifier => {
            // Every value is a number (or date), but not all written one way: the first value
            // that cannot be read like an earlier one, and that one.
            let mut seen: Vec<(Shape, (usize, usize))> = Vec::new();
            let mut clash = None;
            for &(row, k) in &rows {
                if let Some(&(_, earlier)) = seen.iter().find(|(s, _)| s.conflicts(shapes[k])) {
                    clash = Some((earlier, (row, k)));
                    break;
                }
                if !seen.iter().any(|(s, _)| *s == shapes[k]) {
                    seen.push((shapes[k], (row, k)));
                }
            }
            let (line, example) = match clash {
                Some((earlier, later)) => {
                    let ((a_line, a), (b_line, b)) = (cell(earlier), cell(later));
                    (
                        b_line,
                        format!("`{a}` on line {a_line}, `{b}` on line {b_line}"),
                    )
                }
                None => (
                    cell(rows[0]).0,
                    "day/month/year and month/day/year?".to_owned(),
                ),
            };
            Err(error(
                format!(
                    "its values are {kind}, but not written one way ({example}), so as text the column would be left out as an identifier. Write them one way, {ways_out}"
                ),
                line,
            ))
        }
        None => Ok(()),
    }
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
                "c{i},{colour},,2024-01-{:02},{},{}\n",
                i + 1,
                (i * 5) % 12,
                i % 2
            ));
        }
        let mut table = Table::from_csv_str("t.csv", &text).expect("reads");
        let roles =
            assign_roles(&mut table, "y", None, &["skip".to_owned()], &[], &[]).expect("roles");
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
        let roles =
            assign_roles(&mut table, "y", None, &[], &["id".to_owned()], &[]).expect("roles");
        assert_eq!(
            roles.columns[0],
            ("id".to_owned(), ColumnRole::OneHot { levels: 12 })
        );
    }
}
