//! Parquet files, read through the CSV typing rules: each record batch (Apache `parquet` with its
//! Arrow arrays) is written as CSV text and streamed into [`TableReader`], so a Parquet column is
//! typed exactly as the same column of a CSV file that pandas writes from the same data —
//! numbers in their shortest round-trip form (`170.0`, `0.1`), booleans `True`/`False`
//! (categories, as in a CSV), dates ISO `YYYY-MM-DD` (timestamps with a time of day as
//! `YYYY-MM-DD HH:MM:SS`, which read as text), strings as they are, dictionary columns as their
//! values, nulls (and float NaN) as missing cells.
//!
//! Written by hand rather than with `arrow-csv`: its writer spells floats and dates in its own
//! ways, and this one is the one place where Parquet's types meet nerve's cells.
//!
//! Errors name the file and, for a row, its "line" as in a CSV file with a header (the first
//! row is line 2).

use std::io::Read;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::reader::ChunkReader;

use crate::DataError;

/// Rows per record batch read.
const BATCH_ROWS: usize = 8192;

/// A Parquet file as CSV text, a batch at a time.
pub(crate) struct ParquetText {
    source: String,
    batches: ParquetRecordBatchReader,
    /// CSV text not yet read out, from `position`.
    buffer: Vec<u8>,
    position: usize,
    /// Rows written so far (for the line of a bad cell).
    rows: usize,
    /// The column names (for messages).
    names: Vec<String>,
}

impl ParquetText {
    /// Opens the Parquet data in `reader` (a file, or bytes in memory); the header line is the
    /// schema's column names.
    pub(crate) fn new<R: ChunkReader + 'static>(
        source: &str,
        reader: R,
    ) -> Result<ParquetText, DataError> {
        let bad = |err: parquet::errors::ParquetError| {
            DataError::empty(source, format!("not a readable Parquet file: {err}"))
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(reader).map_err(bad)?;
        let names: Vec<String> = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = builder.with_batch_size(BATCH_ROWS).build().map_err(bad)?;
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(&names)
            .map_err(|err| DataError::empty(source, err.to_string()))?;
        Ok(ParquetText {
            source: source.to_owned(),
            batches,
            buffer: csv.into_inner().unwrap_or_default(),
            position: 0,
            rows: 0,
            names,
        })
    }

    /// Writes the next batch into the buffer; `false` at the end.
    fn refill(&mut self) -> std::io::Result<bool> {
        let Some(batch) = self.batches.next() else {
            return Ok(false);
        };
        let batch = batch.map_err(|err| {
            std::io::Error::other(format!(
                "{}: reading Parquet rows after line {}: {err}",
                self.source,
                self.rows + 1
            ))
        })?;
        self.position = 0;
        let text = batch_as_csv(&batch, &self.names, self.rows).map_err(std::io::Error::other)?;
        self.rows += batch.num_rows();
        self.buffer = text;
        Ok(true)
    }
}

impl Read for ParquetText {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.position == self.buffer.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.buffer.len() - self.position);
        buf[..n].copy_from_slice(&self.buffer[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// A batch's rows as CSV lines; `names` are its columns', `first_row` counts the rows before it.
fn batch_as_csv(
    batch: &RecordBatch,
    names: &[String],
    first_row: usize,
) -> Result<Vec<u8>, String> {
    let mut csv = csv::Writer::from_writer(Vec::with_capacity(batch.num_rows() * 16));
    let mut record: Vec<String> = vec![String::new(); batch.num_columns()];
    for row in 0..batch.num_rows() {
        for (c, column) in batch.columns().iter().enumerate() {
            record[c] = cell(column.as_ref(), row).map_err(|kind| {
                format!(
                    "column `{}` (line {}) is of Parquet type {kind}, which nerve does not read; write it as numbers, text, booleans or dates",
                    names[c],
                    first_row + row + 2
                )
            })?;
        }
        csv.write_record(&record).map_err(|err| err.to_string())?;
    }
    csv.into_inner().map_err(|err| err.to_string())
}

/// One cell as CSV text: empty for null (and float NaN); `Err` names an unsupported type.
fn cell(array: &dyn Array, row: usize) -> Result<String, String> {
    if array.is_null(row) {
        return Ok(String::new());
    }
    macro_rules! int {
        ($t:ty) => {
            array.as_primitive::<$t>().value(row).to_string()
        };
    }
    // Floats as pandas writes them to CSV (Python's repr: `170.0`, `0.1`, `1e-07` alike), NaN
    // as missing.
    let float = |value: f64| {
        if value.is_nan() {
            String::new()
        } else {
            format!("{value:?}")
        }
    };
    Ok(match array.data_type() {
        // As pandas writes them (`True`); read by value, any spelling is one category.
        DataType::Boolean => if array.as_boolean().value(row) {
            "True"
        } else {
            "False"
        }
        .to_owned(),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => {
            let value = array.as_primitive::<Float32Type>().value(row);
            // Through its shortest f32 text, so 0.1f32 is `0.1`, not 0.10000000149011612.
            float(format!("{value:?}").parse::<f64>().unwrap_or(f64::NAN))
        }
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => array.as_string_view().value(row).to_owned(),
        DataType::Date32 => date(i64::from(array.as_primitive::<Date32Type>().value(row)))?,
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().value(row);
            date(ms.div_euclid(86_400_000))?
        }
        DataType::Timestamp(unit, _) => {
            use arrow_array::types::{
                TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                TimestampSecondType,
            };
            let value = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            timestamp(value, unit)?
        }
        DataType::Decimal128(_, _) => array
            .as_primitive::<arrow_array::types::Decimal128Type>()
            .value_as_string(row),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let key = dictionary.normalized_keys()[row];
            cell(dictionary.values().as_ref(), key)?
        }
        other => return Err(other.to_string()),
    })
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
fn date(days: i64) -> Result<String, String> {
    chrono::DateTime::from_timestamp(days.saturating_mul(86_400), 0)
        .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
        .ok_or_else(|| format!("date (day {days}, out of range)"))
}

/// A timestamp as `YYYY-MM-DD` at midnight (a date column), else `YYYY-MM-DD HH:MM:SS`.
fn timestamp(value: i64, unit: &TimeUnit) -> Result<String, String> {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let seconds = value.div_euclid(per_second);
    let time = chrono::DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| format!("timestamp ({value}, out of range)"))?;
    Ok(
        if seconds.rem_euclid(86_400) == 0 && value.rem_euclid(per_second) == 0 {
            time.format("%Y-%m-%d").to_string()
        } else {
            time.format("%Y-%m-%d %H:%M:%S").to_string()
        },
    )
}
