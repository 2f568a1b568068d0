//! `nerve export`: a model file as an ONNX model that takes the raw columns and answers what
//! `nerve predict` answers (nerve-onnx builds the graph; this reads the file and writes it).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use nerve_data::{FeatureTransform, NaValues};
use nerve_onnx::{ExportOptions, InputKind, to_onnx};

use crate::model_input::open_model;
use crate::output_paths::check_output_file;
use crate::run_dir::write_atomically;

const EXAMPLES: &str = "\
Examples:
  nerve export -m runs/iris/model.safetensors                 # writes runs/iris/model.onnx
  nerve export -m model.safetensors --format onnx -o deploy/iris.onnx
  python -c \"import onnxruntime as ort; print(ort.InferenceSession('deploy/iris.onnx').get_inputs())\"";

/// Formats a model can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// ONNX (opset 13, with ai.onnx.ml 2), as onnxruntime and tract run it.
    Onnx,
}

/// Flags of `nerve export`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ExportArgs {
    /// A model file written by `nerve train`.
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// The format to write.
    #[arg(long, value_enum, default_value_t = Format::Onnx)]
    format: Format,
    /// Write the exported model here [default: the model file's name with `.onnx`, or
    /// `-exported.onnx` for a model file named `.onnx`]
    #[arg(short, long, value_name = "FILE.onnx")]
    output: Option<PathBuf>,
    /// Two classes: answer the second class when its probability is at least P, as `nerve
    /// predict --threshold` [default: the model's stored threshold, else the most probable
    /// class]
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    threshold: Option<f64>,
}

/// Runs `nerve export`: reads the model file, builds the graph, writes it atomically.
pub(crate) fn export(args: ExportArgs) -> Result<ExitCode> {
    let Format::Onnx = args.format;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| other_name(&args.model));
    if same_file(&output, &args.model) {
        bail!(
            "--output {} is the model file itself; give another name (e.g. {})",
            output.display(),
            other_name(&args.model).display()
        );
    }
    check_output_file(&output, "--output", None)?;
    let (saved, _device) = open_model(&args.model, nerve_backend::BackendKind::default())?;
    let threshold = saved.decision_threshold(args.threshold)?;
    let source = args.model.display().to_string();
    let options = ExportOptions {
        threshold,
        na_values: NaValues::with_extra(&saved.config.data.na_values),
        metadata: vec![
            ("source_model".to_owned(), file_name(&args.model)),
            (
                "model_nerve_version".to_owned(),
                saved.info.nerve_version.clone(),
            ),
        ],
    };
    let onnx = to_onnx(
        &saved.model,
        &saved.preprocessor,
        saved.config.loss(),
        &options,
    )
    .map_err(|err| anyhow::anyhow!("{source}: cannot export to ONNX: {err}"))?;
    let bytes = onnx.to_bytes();
    write_atomically(&output, &bytes)?;

    for column in &onnx.matched_by_number {
        eprintln!(
            "warning: `{column}` has categories that are numbers (or --na-values numbers): nerve matches any spelling of them (3, 3.00, +3), the graph only the common ones (3, 3.0; the `number_spellings` and `na_values` metadata); send them so, or other spellings count as unseen"
        );
    }
    for feature in &saved.preprocessor.features {
        if let FeatureTransform::Numeric { column, format, .. } = feature
            && let Some(written_with) = format.written_with()
        {
            eprintln!(
                "note: `{column}` was written with {written_with} in training; its input takes the number nerve read (`38%` is 0.38, `$1,299` is 1299, `2,5` is 2.5)"
            );
        }
    }
    crate::output::print(&describe(&output, bytes.len(), &onnx, &saved, threshold))?;
    Ok(ExitCode::SUCCESS)
}

/// What was written: the file, and the graph's inputs and outputs.
fn describe(
    output: &Path,
    size: usize,
    onnx: &nerve_onnx::OnnxModel,
    saved: &nerve_run::SavedModel,
    threshold: Option<f64>,
) -> String {
    let mut text = format!(
        "Wrote {} ({size} bytes, ONNX opset {}, ai.onnx.ml {}).\nInputs (one per column, batch dimension N):\n",
        output.display(),
        nerve_onnx::OPSET,
        nerve_onnx::ML_OPSET
    );
    for input in &onnx.inputs {
        let kind = match input.kind {
            InputKind::Numeric => "double [N]  NaN when missing",
            InputKind::Categorical => "string [N]  the cell's text",
        };
        text += &format!("  {:<24} {kind}\n", input.name);
    }
    text += "Outputs:\n";
    match saved.preprocessor.labels() {
        Some(labels) => {
            text += &format!("  {:<24} string [N]  the class name\n", onnx.prediction);
            if let Some(name) = &onnx.probabilities {
                text += &format!(
                    "  {name:<24} float [N, {}]  one column per class: {}\n",
                    labels.len(),
                    crate::output::shorten(labels, 10)
                );
            }
        }
        None => {
            text += &format!(
                "  {:<24} double [N]  `{}` in its own units\n",
                onnx.prediction,
                saved.preprocessor.target_name()
            );
        }
    }
    if let Some(t) = threshold {
        text += &format!(
            "Decision threshold: the second class when its probability is at least {t}.\n"
        );
    }
    text
}

/// A name for the export beside `model` that is not `model` itself: `.onnx`, or
/// `-exported.onnx` for a model file already named `.onnx`.
fn other_name(model: &Path) -> PathBuf {
    let onnx = model.with_extension("onnx");
    if onnx == model {
        let stem = model
            .file_stem()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        model.with_file_name(format!("{stem}-exported.onnx"))
    } else {
        onnx
    }
}

/// Whether two paths name the same file (an existing one, by its canonical path).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
