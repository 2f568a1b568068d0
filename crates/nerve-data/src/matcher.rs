//! [`Matcher`]: the cells of a column matched against names (a model's categories or class
//! labels) by value, the one way a cell becomes a category or class id for new rows.

use std::collections::HashMap;

use crate::cell::{LevelKey, NumberSyntax, capitalisations, parse_bool};
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
        // A column read exactly as written (forced to be categorical) matches names as written.
        let exact = matches!(column.data(), ColumnData::Categorical(c) if c.is_exact());
        let mut by_key = HashMap::new();
        for (i, name) in names.into_iter().enumerate() {
            // A numeric column's labels are its values as first written, formatted or not
            // (`1,000`, `100000000000000001`): matched by the number they read as.
            let key = if exact {
                LevelKey::Text(name.clone())
            } else {
                syntax
                    .parse(name)
                    .filter(|p| numeric && p.value.is_finite())
                    .map_or_else(
                        || LevelKey::of(name, &syntax),
                        |p| LevelKey::number(p.value),
                    )
            };
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
                let text = self.column.shown(row);
                match self.by_key.get(&LevelKey::Text(text.clone())) {
                    Some(&k) => Cell::Known(k),
                    None => Cell::Unknown(text),
                }
            }
        }
    }
}

/// The texts of a cell that nerve matches to the category (or class label) `name` by value, as
/// `nerve predict` does in a file with a decimal point: `name` itself and, for a number or a truth
/// value, its common other spellings — the shortest decimal (`3`, `0.5`), an integer with `.0`
/// (`3.0`, as Python's `str(float)` writes it), and every capitalisation of `true` / `false`.
/// Each is checked to have `name`'s key, so none matches another category. (In a file with a
/// decimal comma a number can read as another value — `1,500` is 1.5 there — so a caller
/// matching such a file's cells lists only `name`.) For a consumer that can only compare
/// strings exactly (an ONNX graph's category lookup); other spellings of a number (`3.00`,
/// `+3`, `$3`) match in nerve but are not listed ([`matches_by_number`] tells which names).
pub fn category_spellings(name: &str) -> Vec<String> {
    let syntax = NumberSyntax::default();
    let key = LevelKey::of(name, &syntax);
    let mut candidates = vec![name.to_owned()];
    match &key {
        LevelKey::Number(_) => {
            if let Some(parsed) = syntax.parse(name) {
                let value = parsed.value;
                // 0 and -0 are one level (their key ignores the sign).
                let values = if value == 0.0 {
                    vec![0.0, -0.0]
                } else {
                    vec![value]
                };
                for value in values {
                    candidates.push(format!("{value}"));
                    if value.fract() == 0.0 && value.abs() < 1e16 {
                        candidates.push(format!("{value:.1}"));
                    }
                }
            }
        }
        LevelKey::Integer(digits) => candidates.push(digits.clone()),
        LevelKey::Bool(b) => {
            candidates.extend(capitalisations(if *b { "true" } else { "false" }));
            debug_assert!(candidates[1..].iter().all(|c| parse_bool(c) == Some(*b)));
        }
        LevelKey::Text(_) => {}
    }
    let mut spellings: Vec<String> = Vec::new();
    for candidate in candidates {
        if LevelKey::of(&candidate, &syntax) == key && !spellings.contains(&candidate) {
            spellings.push(candidate);
        }
    }
    spellings
}

/// Whether nerve matches cells to the category `name` by the number they read as (`3`
/// matches `3.00`, `+3` and `300%`), so that [`category_spellings`] cannot list every
/// spelling it matches.
pub fn matches_by_number(name: &str) -> bool {
    std::iter::once(NumberSyntax::default())
        .chain(OTHER_SYNTAXES)
        .any(|syntax| {
            matches!(
                LevelKey::of(name, &syntax),
                LevelKey::Number(_) | LevelKey::Integer(_)
            )
        })
}

/// The number syntaxes of files other than comma-delimited with a decimal point: a decimal
/// comma (`;` and tab files), and `.` thousands with a decimal comma (`--thousands .`).
const OTHER_SYNTAXES: [NumberSyntax; 2] = [
    NumberSyntax {
        decimal_comma: true,
        thousands: None,
    },
    NumberSyntax {
        decimal_comma: true,
        thousands: Some('.'),
    },
];

/// The common spellings of a number, as [`category_spellings`] lists them for a number
/// category: for a missing-value number (`--na-values -999`) matched in a column of text.
pub fn number_spellings(value: f64) -> Vec<String> {
    let name = format!("{value}");
    category_spellings(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NaValues;

    #[test]
    fn category_spellings_match_the_category_and_nothing_else() {
        assert_eq!(category_spellings("Adelie"), ["Adelie"]);
        assert_eq!(category_spellings("3"), ["3", "3.0"]);
        assert_eq!(category_spellings("3.0"), ["3.0", "3"]);
        assert_eq!(category_spellings("0.5"), ["0.5"]);
        // The helper's report: `-0` then `0` in one column are one level.
        assert_eq!(category_spellings("-0"), ["-0", "0", "0.0", "-0.0"]);
        assert_eq!(category_spellings("0"), ["0", "0.0", "-0", "-0.0"]);
        assert!(matches_by_number("3.50") && matches_by_number("-0"));
        assert!(!matches_by_number("Adelie") && !matches_by_number("True"));
        // The reviewer's report: `2,5` is text in a comma file but 2.5 with a decimal comma, so
        // it counts as a number category (the export warns about its column).
        assert_eq!(category_spellings("2,5"), ["2,5"]);
        assert!(matches_by_number("2,5") && matches_by_number("1,500"));
        assert_eq!(number_spellings(-999.0), ["-999", "-999.0"]);
        assert_eq!(category_spellings("True").len(), 16);
        assert_eq!(category_spellings("false").len(), 32);
        assert_eq!(
            category_spellings("00012345678901234567"),
            ["00012345678901234567", "12345678901234567"]
        );
    }

    #[test]
    fn missing_spellings_are_all_read_as_missing() {
        let na = NaValues::with_extra(["?", "-999"]);
        let spellings = na.spellings();
        assert!(spellings.iter().all(|s| na.contains(s)), "{spellings:?}");
        for s in ["", "NA", "nA", "NULL", "nUlL", "-NaN", "+nAn", "?", "-999"] {
            assert!(spellings.iter().any(|t| t == s), "{s} missing");
        }
        assert_eq!(na.numbers(), [-999.0]);
    }
}
