//! `nerve export`: a model file as an ONNX model that takes the raw columns and answers what
//! `nerve predict` answers (nerve-onnx builds the graph; this reads the file and writes it).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use nerve_data::NaValues;
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
    /// ONNX (opset 13, with ai.onnx.ml 2): onnxruntime, tract, OpenVINO, TensorRT.
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
    /// Write the exported model here [default: the model file's name with `.onnx`]
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
        .unwrap_or_else(|| args.model.with_extension("onnx"));
    if same_file(&output, &args.model) {
        bail!(
            "--output {} is the model file itself; give another name (e.g. {})",
            output.display(),
            args.model.with_extension("onnx").display()
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

    println!(
        "Wrote {} ({} bytes, ONNX opset {}, ai.onnx.ml {}).",
        output.display(),
        bytes.len(),
        nerve_onnx::OPSET,
        nerve_onnx::ML_OPSET
    );
    println!("Inputs (one per column, batch dimension N):");
    for input in &onnx.inputs {
        let kind = match input.kind {
            InputKind::Numeric => "double [N]  NaN when missing",
            InputKind::Categorical => "string [N]  the cell's text",
        };
        println!("  {:<24} {kind}", input.name);
    }
    println!("Outputs:");
    match saved.preprocessor.labels() {
        Some(labels) => {
            println!("  {:<24} string [N]  the class name", onnx.prediction);
            if let Some(name) = &onnx.probabilities {
                println!(
                    "  {name:<24} float [N, {}]  one column per class: {}",
                    labels.len(),
                    crate::output::shorten(labels, 10)
                );
            }
        }
        None => println!(
            "  {:<24} float [N]  `{}` in its own units",
            onnx.prediction,
            saved.preprocessor.target_name()
        ),
    }
    if let Some(t) = threshold {
        println!("Decision threshold: the second class when its probability is at least {t}.");
    }
    Ok(ExitCode::SUCCESS)
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
