//! [`Note`]: what reading and preparing data decided on the user's behalf, for the CLI to say.

use crate::cell::{Notation, NumberFormat, NumberSyntax};
use crate::column::{Column, ColumnData};
use crate::dates::DateOrder;

/// A decision taken while reading or preparing data that changes what the model sees. Each
/// displays as one sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// An unnamed column with values was given a name.
    ColumnNamed {
        /// The column's 1-based position in the header row.
        position: usize,
        /// The name it was given (`column_N`).
        name: String,
    },
    /// An unnamed column without any value was left out.
    EmptyColumnDropped {
        /// The column's 1-based position in the header row.
        position: usize,
    },
    /// A numeric column's values were read after stripping their formatting.
    NumberFormat {
        /// The column.
        column: String,
        /// What was stripped.
        format: NumberFormat,
    },
    /// The row-weight column's values were read after stripping their formatting (as
    /// [`Note::NumberFormat`], without the way back to text: weights are numbers).
    WeightFormat {
        /// The column.
        column: String,
        /// What was stripped.
        format: NumberFormat,
    },
    /// A column read with decimal commas, each followed by exactly three digits (`1,234` read
    /// as 1.234): in another convention the comma separates thousands.
    AmbiguousDecimalComma {
        /// The column.
        column: String,
        /// The first such value's line.
        line: u64,
        /// The first such value.
        value: String,
    },
    /// A column holds numbers (or dates) and some text: it is used as categories.
    NumbersAndText {
        /// The column.
        column: String,
        /// `numbers` or `dates`.
        kind: &'static str,
        /// The first text value's line.
        line: u64,
        /// The first text value.
        value: String,
    },
    /// A column of numbers, some written with leading zeros (`02134`), is read as codes:
    /// categories, not quantities.
    LeadingZeros {
        /// The column.
        column: String,
        /// The first such value's line.
        line: u64,
        /// The first such value.
        value: String,
    },
    /// A few cells of a numeric column are written with leading zeros, too few (under 1 in
    /// 100, and not a fixed-width code) for a column of codes: it is read as numbers.
    StrayLeadingZeros {
        /// The column.
        column: String,
        /// The first such cell's line.
        line: u64,
        /// The first such cell.
        value: String,
        /// How many cells are so written.
        count: usize,
    },
    /// Cells of an inferred categorical column in different notations were read as one
    /// category, being equal as numbers (`1E5` and `100000`, `007` and `7`).
    MergedSpellings {
        /// The column.
        column: String,
        /// How many categories have spellings in more than one notation.
        levels: usize,
        /// Up to three of them: the category's first spelling and up to three others.
        examples: Vec<(String, Vec<String>)>,
    },
    /// A column of whole numbers that count the rows (or are named as a row index and hold
    /// one distinct number per row) was left out as an identifier.
    RowNumbers {
        /// The column.
        column: String,
        /// Its smallest and largest value.
        range: (i64, i64),
        /// Whether the numbers count the rows in file order (rather than being named so).
        in_order: bool,
    },
    /// A date column's times carry different UTC offsets, which are dropped.
    MixedOffsets {
        /// The column.
        column: String,
        /// A time with one offset (or none), `(line, text)`.
        first: (u64, String),
        /// A time with another.
        other: (u64, String),
        /// Cells that fall on another calendar day than in UTC.
        other_day: usize,
        /// Cells with a time.
        timed: usize,
    },
    /// A column was read as dates.
    Dates {
        /// The column.
        column: String,
        /// The field order.
        order: DateOrder,
        /// Whether every value fits the other day/month order too.
        ambiguous: bool,
    },
    /// A text column with (nearly) one value per row was left out as an identifier.
    Identifier {
        /// The column.
        column: String,
        /// Its distinct values.
        distinct: usize,
        /// Its non-missing cells.
        rows: usize,
    },
    /// A column without any value was left out.
    AllMissing {
        /// The column.
        column: String,
    },
    /// A categorical column's rarest levels were grouped into one "infrequent" input.
    Infrequent {
        /// The column.
        column: String,
        /// Its levels in the training rows.
        levels: usize,
        /// The levels kept as inputs of their own.
        kept: usize,
    },
    /// A split part came out smaller than asked (stratification keeps a row of every class
    /// in training).
    SplitShort {
        /// `test` or `validation`.
        part: &'static str,
        /// The rows asked for.
        requested: usize,
        /// The rows it got.
        got: usize,
    },
}

impl Note {
    /// The notes that reading a column calls for: a stripped number format, dates (and their
    /// offsets), leading-zero codes, spellings merged by value.
    pub(crate) fn about_column(column: &Column, syntax: &NumberSyntax) -> Vec<Note> {
        let mut notes = Vec::new();
        match column.data() {
            ColumnData::Numeric(n) => {
                if n.format().strips() {
                    notes.push(Note::NumberFormat {
                        column: column.name().to_owned(),
                        format: n.format(),
                    });
                }
                if let Some(((line, value), count)) = n.stray_zeros.clone() {
                    notes.push(Note::StrayLeadingZeros {
                        column: column.name().to_owned(),
                        line,
                        value,
                        count,
                    });
                }
                if let Some((line, value)) = n.ambiguous_comma() {
                    notes.push(Note::AmbiguousDecimalComma {
                        column: column.name().to_owned(),
                        line,
                        value: value.to_owned(),
                    });
                }
            }
            ColumnData::Date(d) => {
                notes.push(Note::Dates {
                    column: column.name().to_owned(),
                    order: d.order(),
                    ambiguous: d.ambiguous(),
                });
                if let Some(clash) = &d.offsets {
                    notes.push(Note::MixedOffsets {
                        column: column.name().to_owned(),
                        first: clash.first.clone(),
                        other: clash.other.clone(),
                        other_day: clash.other_day,
                        timed: clash.timed,
                    });
                }
            }
            ColumnData::Categorical(c) if c.inferred => {
                if let Some((line, value)) = c.leading_zeros.clone().filter(|_| !c.has_text) {
                    notes.push(Note::LeadingZeros {
                        column: column.name().to_owned(),
                        line,
                        value,
                    });
                }
                let canonical = |row: usize| {
                    let code = c.codes[row];
                    (u64::from(code), c.levels[code as usize].as_str())
                };
                if let Some(note) = merged_notations(column.name(), &c.written, canonical, syntax) {
                    notes.push(note);
                }
            }
            ColumnData::Categorical(_) => {}
        }
        notes
    }
}

impl Note {
    /// The note on the classes of a numeric target whose cells are written in more than one
    /// notation (`1E5` and `100000` are one class), if any.
    pub(crate) fn merged_classes(column: &Column, syntax: &NumberSyntax) -> Option<Note> {
        let ColumnData::Numeric(n) = column.data() else {
            return None;
        };
        let spellings: Vec<(u64, String)> = n
            .written
            .iter()
            .map(|(row, _)| {
                let value = n.values[row];
                (crate::cell::normalized_bits(value), n.spelling(value))
            })
            .collect();
        let rows: Vec<usize> = n.written.iter().map(|(row, _)| row).collect();
        let canonical = |row: usize| {
            let i = rows.binary_search(&row).unwrap_or_default();
            (spellings[i].0, spellings[i].1.as_str())
        };
        merged_notations(column.name(), &n.written, canonical, syntax)
    }
}

/// The note on values whose cells are written in more than one notation, if any: `written`
/// holds the cells not written as `canonical(row)` shows them (a group id and its text).
fn merged_notations<'a>(
    name: &str,
    written: &crate::written::Written,
    canonical: impl Fn(usize) -> (u64, &'a str),
    syntax: &NumberSyntax,
) -> Option<Note> {
    let mut merged: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut examples: Vec<(String, Vec<String>)> = Vec::new();
    for (row, text) in written.iter() {
        let (group, shown) = canonical(row);
        if Notation::of(text, syntax) == Notation::of(shown, syntax) {
            continue;
        }
        let next = merged.len();
        let position = *merged.entry(group).or_insert(next);
        if position == next {
            examples.push((shown.to_owned(), Vec::new()));
        }
        if let Some((_, others)) = examples.get_mut(position)
            && others.len() < 3
            && !others.iter().any(|o| o == text)
        {
            others.push(text.to_owned());
        }
    }
    examples.truncate(3);
    (!merged.is_empty()).then(|| Note::MergedSpellings {
        column: name.to_owned(),
        levels: merged.len(),
        examples,
    })
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::ColumnNamed { position, name } => write!(
                f,
                "column {position} has no name in the header row; it is called `{name}`"
            ),
            Note::EmptyColumnDropped { position } => write!(
                f,
                "column {position} has no name and no values (a delimiter at the end of every line?); left out"
            ),
            Note::NumberFormat { column, format } => write!(
                f,
                "column `{column}`: read as numbers after stripping {} (--categorical {column} keeps it as text)",
                format.describe()
            ),
            Note::WeightFormat { column, format } => write!(
                f,
                "column `{column}` (row weights): read as numbers after stripping {}",
                format.describe()
            ),
            Note::AmbiguousDecimalComma {
                column,
                line,
                value,
            } => write!(
                f,
                "column `{column}`: decimal commas (`{value}` on line {line} reads as {}); if the comma separates thousands, pass --thousands ,",
                value.replacen(',', ".", 1)
            ),
            Note::NumbersAndText {
                column,
                kind,
                line,
                value,
            } => write!(
                f,
                "column `{column}` holds {kind} and text (`{value}` on line {line}): used as categories (--na-values if it means missing)"
            ),
            Note::LeadingZeros {
                column,
                line,
                value,
            } => write!(
                f,
                "column `{column}`: numbers written with leading zeros (`{value}` on line {line}) are codes, not quantities: read as categories (--numeric {column} reads them as numbers)"
            ),
            Note::StrayLeadingZeros {
                column,
                line,
                value,
                count,
            } => write!(
                f,
                "column `{column}`: {count} cell(s) written with leading zeros (`{value}` on line {line}), too few for a column of codes: read as numbers (--categorical {column} keeps every cell as written)"
            ),
            Note::MergedSpellings {
                column,
                levels,
                examples,
            } => {
                let shown: Vec<String> = examples
                    .iter()
                    .map(|(level, others)| {
                        let others: Vec<String> = others.iter().map(|o| format!("`{o}`")).collect();
                        format!("{} as `{level}`", others.join(", "))
                    })
                    .collect();
                let more = if *levels > examples.len() {
                    format!(" and {} more", levels - examples.len())
                } else {
                    String::new()
                };
                write!(
                    f,
                    "column `{column}`: {levels} categor{} written in several notations read as one, being equal as numbers ({}{more}); --categorical {column} keeps every spelling apart",
                    if *levels == 1 { "y" } else { "ies" },
                    shown.join(", ")
                )
            }
            Note::RowNumbers {
                column,
                range: (first, last),
                in_order,
            } => {
                let what = if *in_order {
                    format!("counts the rows in file order ({first} to {last})")
                } else {
                    format!(
                        "is named as a row index and holds one distinct whole number per row ({first} to {last})"
                    )
                };
                write!(
                    f,
                    "column `{column}` {what}: row numbers, not a feature; left out (--numeric {column} uses it)"
                )
            }
            Note::MixedOffsets {
                column,
                first: (first_line, first),
                other: (other_line, other),
                other_day,
                timed,
            } => write!(
                f,
                "column `{column}`: times with different UTC offsets (`{first}` on line {first_line}, `{other}` on line {other_line}) are read as the local times written, offsets dropped; {other_day} of {timed} fall on another day than in UTC (convert the column to one zone first if the moment matters)"
            ),
            Note::Dates {
                column,
                order,
                ambiguous,
            } => {
                write!(
                    f,
                    "column `{column}`: dates ({}), used as year, month, day, weekday and days since the earliest training date",
                    order.pattern()
                )?;
                if *ambiguous {
                    write!(
                        f,
                        "; every value also fits month/day/year (--categorical {column} keeps it as text)"
                    )?;
                }
                Ok(())
            }
            Note::Identifier {
                column,
                distinct,
                rows,
            } => write!(
                f,
                "column `{column}`: {distinct} distinct values in {rows} rows looks like an identifier; left out (--categorical {column} uses it)"
            ),
            Note::AllMissing { column } => {
                write!(f, "column `{column}` has no values; left out")
            }
            Note::Infrequent {
                column,
                levels,
                kept,
            } => write!(
                f,
                "column `{column}`: {levels} categories; the {kept} most frequent are inputs, the other {} share one `infrequent` input (--max-categories)",
                levels - kept
            ),
            Note::SplitShort {
                part,
                requested,
                got,
            } => write!(
                f,
                "the {part} split has {got} rows, not the {requested} asked for: stratifying keeps at least one row of every class for training"
            ),
        }
    }
}
