//! [`Note`]: what reading and preparing data decided on the user's behalf, for the CLI to say.

use crate::cell::NumberFormat;
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
    /// The note that reading a column calls for: a stripped number format, or dates.
    pub(crate) fn about_column(column: &Column) -> Vec<Note> {
        let mut notes = Vec::new();
        match column.data() {
            ColumnData::Numeric(n) => {
                if n.format().strips() {
                    notes.push(Note::NumberFormat {
                        column: column.name().to_owned(),
                        format: n.format(),
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
            ColumnData::Date(d) => notes.push(Note::Dates {
                column: column.name().to_owned(),
                order: d.order(),
                ambiguous: d.ambiguous(),
            }),
            ColumnData::Categorical(_) => {}
        }
        notes
    }
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
