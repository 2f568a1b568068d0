//! [`TableReader`]: a CSV file read in chunks of rows into [`Table`]s — the input stack
//! (UTF-16 transcoding, the line tracker, the `csv` parser), the header row, and the errors of
//! reading, each naming the file and physical line.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::DataError;
use crate::builder::{Builder, Place};
use crate::cell::NumberSyntax;
use crate::line_tracker::{LineTracker, QuoteProblem};
use crate::note::Note;
use crate::table::{CsvOptions, Missing, Table};

/// The input stack under the CSV parser: the bytes decompressed (gzip, found by its magic
/// bytes), decoded to UTF-8 (UTF-16 with a byte-order mark is transcoded, a UTF-8 byte-order
/// mark dropped), watched for line breaks and quotes.
type Input<R> = LineTracker<BufReader<std::io::Chain<Peeked, Decoded<R>>>>;

/// Bytes read ahead of the parser, then given back to it.
type Peeked = std::io::Cursor<Vec<u8>>;

/// The file as UTF-8 text (after its first bytes were read to look for a byte-order mark).
type Decoded<R> = Text<std::io::Chain<Peeked, Bytes<R>>>;

/// The file's bytes as they are, or gunzipped (every member of a multi-member file, as `zcat`).
enum Bytes<R: Read> {
    Plain(std::io::Chain<Peeked, R>),
    Gzip(Box<GzipMembers<std::io::Chain<Peeked, R>>>),
}

/// The text of every member of a gzip file in turn, each decoded by `flate2`.
///
/// `flate2::read::MultiGzDecoder` does the same, but bytes after the last member that are not
/// gzip come out as "unexpected end of file" or "invalid gzip header", which reads as a damaged
/// member; here they are named for what they are (`zcat` warns of "trailing garbage" and
/// Python's `gzip` refuses it; a data reader should not guess, so this refuses too).
struct GzipMembers<R: Read> {
    /// The member being read, over the rest of the file; `None` once the file has ended.
    member: Option<flate2::bufread::GzDecoder<BufReader<R>>>,
}

impl<R: Read> GzipMembers<R> {
    fn new(reader: R) -> Self {
        Self {
            member: Some(flate2::bufread::GzDecoder::new(BufReader::new(reader))),
        }
    }
}

impl<R: Read> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended: the file ends, another member starts, or something else follows.
            let mut rest = self
                .member
                .take()
                .map(flate2::bufread::GzDecoder::into_inner);
            let Some(reader) = rest.as_mut() else {
                return Ok(0);
            };
            let next = reader.fill_buf()?;
            if next.is_empty() {
                return Ok(0);
            }
            if !next.starts_with(&GZIP_MAGIC) {
                let head: Vec<String> = next.iter().take(8).map(|b| format!("{b:02x}")).collect();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the compressed data is complete, but more bytes follow that are not gzip (starting {}); the file has something appended after it",
                        head.join(" ")
                    ),
                ));
            }
            self.member = rest.map(flate2::bufread::GzDecoder::new);
        }
    }
}

impl<R: Read> Read for Bytes<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Bytes::Plain(reader) => reader.read(buf),
            Bytes::Gzip(reader) => reader.read(buf),
        }
    }
}

/// gzip's magic bytes (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// UTF-8 input as it is, or UTF-16 transcoded to UTF-8 by `encoding_rs`.
enum Text<R: Read> {
    Utf8(R),
    Utf16(encoding_rs_io::DecodeReaderBytes<R, Vec<u8>>),
}

impl<R: Read> Read for Text<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Text::Utf8(reader) => reader.read(buf),
            Text::Utf16(reader) => reader.read(buf),
        }
    }
}

/// How much of a file's start is read before parsing (to detect binary data and the delimiter).
const PEEK_BYTES: usize = 64 * 1024;

/// Reads a CSV file in chunks of rows, for inputs too large to hold at once (`nerve predict`).
/// Each chunk is a [`Table`] with the file's line numbers; columns named in
/// [`CsvOptions::kinds`] are typed as given, the others on the chunk's own rows.
pub struct TableReader<R: Read> {
    source: String,
    csv: csv::Reader<Input<R>>,
    names: Vec<String>,
    /// Columns that had no name in the header row (0-based positions).
    unnamed: Vec<usize>,
    syntax: NumberSyntax,
    options: CsvOptions,
    record: csv::ByteRecord,
}

impl<R: Read> std::fmt::Debug for TableReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("source", &self.source)
            .field("columns", &self.names)
            .finish_non_exhaustive()
    }
}

impl TableReader<std::fs::File> {
    /// Opens a CSV file (plain or gzip).
    pub fn open(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        Self::new(&path.display().to_string(), open_file(path)?, options)
    }
}

/// Opens `path` for reading; a folder or an unreadable file is an error naming it.
fn open_file(path: &Path) -> Result<std::fs::File, DataError> {
    let io_error = |source| DataError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.is_dir() {
        return Err(io_error(std::io::Error::other(
            "it is a folder; expected a CSV file",
        )));
    }
    std::fs::File::open(path).map_err(io_error)
}

impl TableReader<Box<dyn Read>> {
    /// Opens a data file, whatever its kind (found by its first bytes, not its name): CSV, plain
    /// or gzip, or Parquet (with the `parquet` feature; read through the same typing rules, see
    /// the crate's Parquet notes).
    ///
    /// # Errors
    /// As [`TableReader::open`]; a Parquet file without the feature, or one that cannot be read.
    pub fn from_path(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let mut file = open_file(path)?;
        let magic = read_start(&mut file, 4, &name)?;
        if magic.as_slice() == PARQUET_MAGIC {
            #[cfg(feature = "parquet")]
            {
                let text = crate::parquet_input::ParquetText::new(&name, file)?;
                return Self::new(&name, Box::new(text), &parquet_options(options));
            }
            #[cfg(not(feature = "parquet"))]
            return Err(no_parquet(&name));
        }
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(magic).chain(file));
        Self::new(&name, input, options)
    }

    /// Reads a stream (standard input, say): CSV, plain or gzip, or Parquet, which is read into
    /// memory first (its index is at its end).
    ///
    /// # Errors
    /// As [`TableReader::new`]; Parquet as in [`TableReader::from_path`].
    pub fn from_reader(
        source_name: &str,
        mut reader: impl Read + 'static,
        options: &CsvOptions,
    ) -> Result<Self, DataError> {
        let magic = read_start(&mut reader, 4, source_name)?;
        if magic.as_slice() == PARQUET_MAGIC {
            #[cfg(feature = "parquet")]
            {
                let mut bytes = magic;
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|source| DataError::Io {
                        path: source_name.to_owned(),
                        source,
                    })?;
                let text =
                    crate::parquet_input::ParquetText::new(source_name, bytes::Bytes::from(bytes))?;
                return Self::new(source_name, Box::new(text), &parquet_options(options));
            }
            #[cfg(not(feature = "parquet"))]
            return Err(no_parquet(source_name));
        }
        Self::new(
            source_name,
            Box::new(std::io::Cursor::new(magic).chain(reader)),
            options,
        )
    }
}

/// The first `n` bytes of `reader` (fewer at its end), to tell what kind of file it is.
fn read_start(reader: &mut impl Read, n: u64, source_name: &str) -> Result<Vec<u8>, DataError> {
    let mut start = Vec::with_capacity(n as usize);
    reader
        .take(n)
        .read_to_end(&mut start)
        .map_err(|source| DataError::Io {
            path: source_name.to_owned(),
            source,
        })?;
    Ok(start)
}

/// Parquet's magic bytes, at the start of every Parquet file.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// The CSV options for a Parquet file's text: written with commas, whatever was asked.
#[cfg(feature = "parquet")]
fn parquet_options(options: &CsvOptions) -> CsvOptions {
    CsvOptions {
        delimiter: Some(b','),
        ..options.clone()
    }
}

#[cfg(not(feature = "parquet"))]
fn no_parquet(source_name: &str) -> DataError {
    DataError::empty(
        source_name,
        "this is a Parquet file, and this nerve was built without Parquet support; build it with `--features parquet` (or convert the file to CSV)",
    )
}

impl<R: Read> TableReader<R> {
    /// Reads the header row (detecting the delimiter unless `options` fixes it).
    ///
    /// A gzip file (`.csv.gz`, found by its magic bytes whatever its name) is read through
    /// `flate2`'s decoder; what follows applies to the text inside.
    pub fn new(source_name: &str, mut reader: R, options: &CsvOptions) -> Result<Self, DataError> {
        let magic = read_start(&mut reader, 2, source_name)?;
        let gzip = magic == GZIP_MAGIC;
        let head = std::io::Cursor::new(magic).chain(reader);
        let mut reader = if gzip {
            Bytes::Gzip(Box::new(GzipMembers::new(head)))
        } else {
            Bytes::Plain(head)
        };
        // A damaged gzip stream fails while reading; say what the file was taken for.
        let io_error = |source: std::io::Error| DataError::Io {
            path: source_name.to_owned(),
            source: if gzip {
                std::io::Error::new(source.kind(), format!("reading it as gzip: {source}"))
            } else {
                source
            },
        };
        // The byte-order mark, read before the decoder (which knows UTF-16 but not UTF-32).
        let mut bom = Vec::with_capacity(4);
        (&mut reader)
            .take(4)
            .read_to_end(&mut bom)
            .map_err(io_error)?;
        // Compressed twice, or a format that compresses itself: say so rather than "binary".
        if gzip && bom.as_slice() == PARQUET_MAGIC {
            return Err(DataError::empty(
                source_name,
                "this is a Parquet file inside gzip; Parquet compresses its own columns, so gunzip it and read the .parquet file",
            ));
        }
        if gzip && bom.starts_with(&GZIP_MAGIC) {
            return Err(DataError::empty(
                source_name,
                "this is gzip inside gzip (compressed twice); gunzip it once and read the result",
            ));
        }
        if bom.starts_with(&[0xFF, 0xFE, 0, 0]) || bom.starts_with(&[0, 0, 0xFE, 0xFF]) {
            return Err(DataError::empty(
                source_name,
                "this is UTF-32 text; save it as UTF-8 (or UTF-16) and try again",
            ));
        }
        let transcoded = bom.starts_with(&[0xFF, 0xFE]) || bom.starts_with(&[0xFE, 0xFF]);
        let mut decoded = if transcoded {
            Text::Utf16(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .bom_sniffing(true)
                    .strip_bom(true)
                    .build(std::io::Cursor::new(bom).chain(reader)),
            )
        } else {
            // UTF-8 passes through as it is (no copy through a decoder), less its byte-order mark.
            let skip = if bom.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            Text::Utf8(std::io::Cursor::new(bom[skip..].to_vec()).chain(reader))
        };
        // Read the start (which holds the header line of any sane file) to look at it, then
        // parse it followed by the rest.
        let mut start = Vec::with_capacity(PEEK_BYTES);
        (&mut decoded)
            .take(PEEK_BYTES as u64)
            .read_to_end(&mut start)
            .map_err(io_error)?;
        if let Some(message) = binary_or_utf16(&start) {
            return Err(DataError::empty(source_name, message));
        }
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(&start));
        let reader =
            BufReader::with_capacity(256 * 1024, std::io::Cursor::new(start).chain(decoded));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(LineTracker::new(reader, delimiter, transcoded));
        let header = match csv.byte_headers() {
            Ok(header) => header.clone(),
            Err(err) => return Err(read_error(source_name, &mut csv, err)),
        };
        csv.get_mut().line_of_record(0);
        let mut names = Vec::with_capacity(header.len());
        let mut unnamed = Vec::new();
        for (position, field) in header.iter().enumerate() {
            let name = std::str::from_utf8(field)
                .map_err(|_| not_utf8(source_name, 1, None, header.as_slice()))?;
            names.push(name.to_owned());
            if name.is_empty() {
                unnamed.push(position);
            }
        }
        // An unnamed column is called `column_N` (N its position), made unique if the file
        // has a column of that name already.
        for &position in &unnamed {
            let base = format!("column_{}", position + 1);
            let mut name = base.clone();
            let mut k = 2;
            while names.contains(&name) {
                name = format!("{base}_{k}");
                k += 1;
            }
            names[position] = name;
        }
        if unnamed.len() == names.len() {
            return Err(DataError::empty(
                source_name,
                "no header row; expected column names on the first line",
            ));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(DataError::DuplicateColumn {
                    source_name: source_name.to_owned(),
                    column: name.clone(),
                });
            }
        }
        let syntax = NumberSyntax {
            decimal_comma: delimiter != b',',
            thousands: options.thousands,
        };
        Ok(Self {
            source: source_name.to_owned(),
            csv,
            names,
            unnamed,
            syntax,
            options: options.clone(),
            record: csv::ByteRecord::new(),
        })
    }

    /// The column names from the header row (`column_N` for an unnamed N-th column).
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// Every remaining row as one table; no rows at all is an error. An unnamed column with
    /// no values (from a delimiter at the end of every line) is left out; an unnamed column
    /// with values keeps its `column_N` name. Both are noted.
    pub fn read_all(mut self) -> Result<Table, DataError> {
        let mut table = self.next_chunk(usize::MAX)?.ok_or_else(|| {
            DataError::empty(
                &self.source,
                "the header row is not followed by any data rows",
            )
        })?;
        let mut notes = Vec::new();
        for &position in &self.unnamed {
            let name = &self.names[position];
            let Ok(index) = table.column_index(name) else {
                continue;
            };
            if table.columns[index].missing_count() == table.num_rows() {
                table.columns.remove(index);
                notes.push(Note::EmptyColumnDropped {
                    position: position + 1,
                });
            } else {
                notes.push(Note::ColumnNamed {
                    position: position + 1,
                    name: name.clone(),
                });
            }
        }
        notes.append(&mut table.notes);
        table.notes = notes;
        Ok(table)
    }

    /// The next rows, at most `max_rows` of them; `None` at the end of the file.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Table>, DataError> {
        let source_name = self.source.as_str();
        let mut builders: Vec<Option<Builder>> = self
            .names
            .iter()
            .map(|name| match self.options.kind(name) {
                None if self.options.skip_unlisted => None,
                kind => Some(Builder::new(kind)),
            })
            .collect();
        let mut lines = Vec::new();
        while lines.len() < max_rows {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    check_quotes(source_name, self.csv.get_ref())?;
                    break;
                }
                Err(err) => return Err(read_error(source_name, &mut self.csv, err)),
            }
            check_quotes(source_name, self.csv.get_ref())?;
            let start = self.record.position().map_or(0, |p| p.byte());
            let line = self.csv.get_mut().line_of_record(start);
            for ((field, builder), name) in self.record.iter().zip(&mut builders).zip(&self.names) {
                let Some(builder) = builder else {
                    continue;
                };
                let text = std::str::from_utf8(field)
                    .map_err(|_| not_utf8(source_name, line, Some(name), self.record.as_slice()))?;
                let cell = if self.options.na_values.contains(text) {
                    if self.options.missing == Missing::Error {
                        return Err(DataError::Missing {
                            source_name: source_name.to_owned(),
                            line,
                            column: name.clone(),
                            value: text.to_owned(),
                        });
                    }
                    None
                } else {
                    Some(text)
                };
                let place = Place {
                    source: source_name,
                    column: name,
                    line,
                };
                builder.push(cell, &place, &self.syntax)?;
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let mut columns = Vec::with_capacity(builders.len());
        for (builder, name) in builders.into_iter().zip(&self.names) {
            if let Some(builder) = builder {
                columns.push(builder.finish(name.clone(), source_name, &self.syntax)?);
            }
        }
        let notes = columns
            .iter()
            .flat_map(|c| Note::about_column(c, &self.syntax))
            .collect();
        Ok(Some(Table {
            source: source_name.to_owned(),
            columns,
            lines,
            notes,
            syntax: self.syntax,
            header: self.options.skip_unlisted.then(|| self.names.clone()),
        }))
    }
}

/// Why the start of a file is not CSV text, if it is not: NUL bytes mean binary data, or
/// UTF-16 text without a byte-order mark (which says which order it is).
fn binary_or_utf16(start: &[u8]) -> Option<String> {
    // A few NUL bytes in text are reported with their line while reading; many mean binary data.
    let nuls = start.iter().filter(|&&b| b == 0).count();
    if nuls == 0 || nuls * 10 < start.len() {
        return None;
    }
    let sample = &start[..start.len().min(4096) & !1];
    let zeros_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = sample.len() / 2;
    let (even, odd) = (zeros_at(0), zeros_at(1));
    Some(if half > 0 && odd * 10 >= half * 9 && even * 10 <= half {
        "this looks like UTF-16LE text without a byte-order mark; save it as UTF-8 (or UTF-16 with a byte-order mark) and try again".to_owned()
    } else if half > 0 && even * 10 >= half * 9 && odd * 10 <= half {
        "this looks like UTF-16BE text without a byte-order mark; save it as UTF-8 (or UTF-16 with a byte-order mark) and try again".to_owned()
    } else {
        "this looks like a binary file (it contains NUL bytes), not CSV text".to_owned()
    })
}

/// A cell (or header) that is not UTF-8, naming the encoding it most likely is in.
fn not_utf8(source_name: &str, line: u64, column: Option<&str>, bytes: &[u8]) -> DataError {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let guess = detector.guess(None, true);
    let place = column.map_or(String::new(), |c| format!("column `{c}`: "));
    DataError::Csv {
        source_name: source_name.to_owned(),
        line,
        message: format!(
            "{place}the text is not valid UTF-8; it looks like {name}. Convert the file to UTF-8 (e.g. `iconv -f {name} -t UTF-8 FILE > FILE.utf8.csv`, or \"CSV UTF-8\" in a spreadsheet's Save As) and try again",
            name = guess.name()
        ),
    }
}

/// The quoting problem the tracker found, as an error.
fn check_quotes<R: Read>(source_name: &str, tracker: &LineTracker<R>) -> Result<(), DataError> {
    let Some(problem) = tracker.problem() else {
        return Ok(());
    };
    let (line, message) = match *problem {
        QuoteProblem::Nul { line } => (
            line,
            "a NUL byte: binary data, not CSV text (is this the right file?)".to_owned(),
        ),
        QuoteProblem::Malformed { line } => (
            line,
            "the UTF-16 text does not decode here (an unpaired surrogate); the file may be damaged"
                .to_owned(),
        ),
        QuoteProblem::Unclosed { line } => (
            line,
            "a quoted field opens here and is never closed: the rest of the file would be one value. Add the closing quote (`\"`)".to_owned(),
        ),
        QuoteProblem::TextAfterQuote { opened, line } if opened == line => (
            line,
            "text follows the closing quote of a field; a quote inside a quoted field is written twice (`\"\"`)".to_owned(),
        ),
        QuoteProblem::TextAfterQuote { opened, line } => (
            opened,
            format!(
                "a quoted field opens here and runs to line {line}, where text follows its closing quote; is the closing quote on line {opened} missing?"
            ),
        ),
    };
    Err(DataError::Csv {
        source_name: source_name.to_owned(),
        line,
        message,
    })
}

/// A parse error of the `csv` crate as a [`DataError`] with the physical line; a quoting
/// problem, when there is one, explains it better.
fn read_error<R: Read>(
    source_name: &str,
    csv: &mut csv::Reader<Input<R>>,
    err: csv::Error,
) -> DataError {
    if let Err(quotes) = check_quotes(source_name, csv.get_ref()) {
        return quotes;
    }
    let line = err
        .position()
        .map_or(0, |p| csv.get_mut().line_of_record(p.byte()));
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header row, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8 text".to_owned(),
        csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => err.to_string(),
    };
    DataError::Csv {
        source_name: source_name.to_owned(),
        line,
        message,
    }
}

/// The field delimiter of a CSV file, guessed from its start: whichever of `,`, `;` and tab
/// occurs most often outside double quotes on the first line; a comma on a tie or when none does.
pub fn sniff_delimiter(start: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &byte in start {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if quoted => {}
            _ => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == byte) {
                    counts[i] += 1;
                }
            }
        }
    }
    // `max_by_key` keeps the last maximum; scanning in reverse makes the earlier (comma) win ties.
    let best = (0..CANDIDATES.len())
        .rev()
        .max_by_key(|&i| counts[i])
        .unwrap_or(0);
    CANDIDATES[best]
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn read(bytes: Vec<u8>) -> Result<Table, DataError> {
        TableReader::new(
            "t.csv.gz",
            std::io::Cursor::new(bytes),
            &CsvOptions::default(),
        )?
        .read_all()
    }

    #[test]
    fn gzip_is_read_as_the_text_inside_whatever_the_name() {
        let text = b"a;b\n1;x\n2,5;y\n";
        let plain = read(text.to_vec()).unwrap();
        let zipped = read(gzip(text)).unwrap();
        assert_eq!(zipped.columns(), plain.columns());
        assert_eq!(zipped.num_rows(), 2);
        // Another instance: two members (`cat a.gz b.gz`), as zcat reads them; and UTF-16 inside.
        let mut two = gzip(b"a,b\n1,x\n");
        two.extend(gzip(b"2,y\n"));
        assert_eq!(read(two).unwrap().num_rows(), 2);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a,b\n1,x\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(read(gzip(&utf16)).unwrap().num_rows(), 1);
    }

    /// `Table::open` finds the kind of a file as the CLI does (by its first bytes): a gzip file
    /// whatever its name, and a folder refused by name.
    #[test]
    fn table_open_reads_a_gzip_file_by_its_bytes() {
        let dir = std::env::temp_dir().join(format!("nerve-open-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("named-plain.csv");
        std::fs::write(&path, gzip(b"a,b\n1,x\n2,y\n")).unwrap();
        let table = Table::open(&path, &CsvOptions::default()).unwrap();
        assert_eq!(table.num_rows(), 2);
        let err = Table::open(&dir, &CsvOptions::default()).unwrap_err();
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert!(source.unwrap_or_default().contains("folder"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// What follows a complete gzip stream, or sits inside one, is named for what it is.
    #[test]
    fn bytes_after_gzip_and_formats_inside_it_are_named() {
        let mut trailing = gzip(b"a,b\n1,x\n");
        trailing.extend(b"garbage appended by a broken upload");
        let mut short = gzip(b"a,b\n1,x\n");
        short.extend([0u8; 3]);
        for bytes in [trailing, short] {
            let err = read(bytes).unwrap_err();
            let source = std::error::Error::source(&err).map(ToString::to_string);
            let text = format!("{err}: {}", source.unwrap_or_default());
            assert!(
                text.contains("t.csv.gz") && text.contains("more bytes follow that are not gzip"),
                "{text}"
            );
        }
        let parquet = read(gzip(b"PAR1\x15\x04\x15\x10")).unwrap_err().to_string();
        assert!(parquet.contains("Parquet file inside gzip"), "{parquet}");
        let twice = read(gzip(&gzip(b"a,b\n1,x\n"))).unwrap_err().to_string();
        assert!(twice.contains("gzip inside gzip"), "{twice}");
    }

    #[test]
    fn a_damaged_gzip_file_says_it_was_read_as_gzip() {
        let mut bytes = gzip(&b"a,b\n".repeat(2000));
        bytes.truncate(bytes.len() / 2);
        let err = read(bytes).unwrap_err();
        let source = std::error::Error::source(&err).map(ToString::to_string);
        let text = format!("{err}: {}", source.unwrap_or_default());
        assert!(
            text.contains("t.csv.gz") && text.contains("as gzip"),
            "{text}"
        );
    }
}
