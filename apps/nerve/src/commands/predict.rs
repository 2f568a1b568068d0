//! `nerve predict`: a model's answers for every row of a CSV, streamed in chunks.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use nerve_data::TransformReport;

use crate::model_input::{ReadFlags, open_model, warn_about};
use crate::output_paths::check_output_file;
use crate::run_dir::write_atomically;
use nerve_run::Columns;
use nerve_run::{Predictions, Predictor};

const EXAMPLES: &str = "\
Examples:
  nerve predict -m runs/iris/model.safetensors -d new.csv > predictions.csv
  nerve predict -m model.safetensors -d customers.csv --keep id --proba -o p.csv
  zcat big.csv.gz | nerve predict -m model.safetensors -d -";

/// Flags of `nerve predict`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct PredictArgs {
    /// A model file written by `nerve train`.
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// A CSV file with the feature columns (any order; other columns are ignored), or a
    /// built-in data set's name.
    #[arg(short, long, value_name = "FILE|NAME")]
    data: String,
    /// Write the predictions here [default: stdout]
    #[arg(short, long, value_name = "FILE.csv")]
    output: Option<PathBuf>,
    /// Add one probability column per class.
    #[arg(long)]
    proba: bool,
    /// Copy these columns (identifiers, say) into the output between `row` and the prediction, as
    /// written (trimmed; a missing-value spelling such as NA is an empty cell; `007` stays `007`)
    /// [default: none]
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    keep: Vec<String>,
    /// Two classes: answer the second class when its probability is at least P [default: the
    /// model's stored threshold (`nerve eval --optimize-threshold`), else the most probable
    /// class]
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    threshold: Option<f64>,
    /// Rows read and predicted at a time.
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    batch_rows: usize,
    #[command(flatten)]
    read: ReadFlags,
}

/// Runs `nerve predict`: streams the rows in batches, writes one CSV line per row.
pub(crate) fn predict(args: PredictArgs) -> Result<ExitCode> {
    if args.batch_rows == 0 {
        bail!("--batch-rows must be at least 1");
    }
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let predictor = Predictor::new(saved, device, args.threshold)?;
    let saved = predictor.saved();
    let labels = predictor.labels();
    let class_names = labels.unwrap_or_default();
    if args.proba && labels.is_none() {
        bail!("--proba needs a classification model; this one predicts values");
    }
    let keep: Vec<String> = args.keep.iter().map(|k| k.trim().to_owned()).collect();
    // The output's columns: row, the kept ones, the prediction, the probabilities. They must be
    // told apart when the output is read back.
    let mut header = vec!["row".to_owned()];
    header.extend(keep.iter().cloned());
    header.push("prediction".to_owned());
    if args.proba
        && let Some(labels) = labels
    {
        header.extend(labels.iter().map(|l| format!("p_{l}")));
    }
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            bail!("--keep names an empty column; give column names separated by commas");
        }
        if header[..i].contains(name) {
            bail!(
                "--keep `{name}` would make two output columns of that name (the output has `row`, the kept columns, `prediction`{})",
                if args.proba { " and `p_<class>`" } else { "" }
            );
        }
    }
    // Everything that can be checked is, before anything is written: the model, the output
    // path, and the columns against the header.
    let mut sink = Sink::new(args.output.clone())?;
    let mut reader = saved.reader(&args.data, args.read.delimiter, Columns::Features, &keep)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    // The header goes out with the first chunk's rows, so a file whose first chunk fails
    // leaves no output at all.
    csv.write_record(&header)?;
    let mut report = TransformReport::default();
    let mut row_id = 0usize;
    while let Some(chunk) = reader.next_chunk(args.batch_rows)? {
        let answers = predictor.answer(&chunk)?;
        report.merge(answers.report);
        let kept: Vec<&nerve_data::Column> = keep
            .iter()
            .map(|name| chunk.column(name))
            .collect::<Result<_, _>>()?;
        let probabilities = answers.probabilities.chunks(answers.width);
        for (i, out) in probabilities.enumerate() {
            // 0-based over the data rows, as a DataFrame's index: `row` joins back to
            // `pandas.read_csv(data)`.
            let mut record = vec![row_id.to_string()];
            row_id += 1;
            // A missing cell is an empty field, as pandas writes one.
            record.extend(kept.iter().map(|column| {
                if column.is_missing(i) {
                    String::new()
                } else {
                    column.display(i)
                }
            }));
            match &answers.predictions {
                Predictions::Classes(classes) => {
                    record.push(class_names[classes[i]].clone());
                    if args.proba {
                        record.extend(out.iter().map(|v| v.to_string()));
                    }
                }
                Predictions::Values(values) => record.push(values[i].to_string()),
            }
            csv.write_record(&record)?;
        }
        sink.write(&csv.into_inner()?)?;
        csv = csv::Writer::from_writer(Vec::new());
    }
    if row_id == 0 {
        bail!(
            "{}: the header row is not followed by any data rows",
            args.data
        );
    }
    sink.finish()?;
    warn_about(&report);
    Ok(ExitCode::SUCCESS)
}

/// Where predictions go: stdout as they come, or a file that appears whole at the end.
enum Sink {
    Stdout,
    File { path: PathBuf, buffer: Vec<u8> },
}

impl Sink {
    fn new(output: Option<PathBuf>) -> Result<Self> {
        Ok(match output {
            None => Sink::Stdout,
            Some(path) => {
                check_output_file(&path, "--output", None)?;
                Sink::File {
                    path,
                    buffer: Vec::new(),
                }
            }
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Stdout => {
                std::io::stdout().lock().write_all(bytes)?;
            }
            Sink::File { buffer, .. } => buffer.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout => Ok(()),
            Sink::File { path, buffer } => write_atomically(&path, &buffer),
        }
    }
}
