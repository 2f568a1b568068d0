//! `nerve calibrate`: temperature scaling (Guo et al. 2017) fitted on held-out rows, written
//! as a copy of the model whose output layer is divided by the temperature.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use burn::prelude::Module;
use clap::Args;
use nerve_choice::Choice as _;
use nerve_loss::Loss;
use nerve_train::{ClassificationReport, Temperature, fit_temperature};
use serde_json::json;

use crate::labelled::{Part, labelled_part};
use crate::model_input::{ReadFlags, open_model};
use crate::numbers::value;
use crate::output_paths::check_model_copy;
use nerve_run::{TEMPERATURE_KEY, THRESHOLD_KEY};

const EXAMPLES: &str = "\
Examples:
  nerve calibrate -m runs/churn/model.safetensors -d churn.csv \\
      -o calibrated.safetensors
  nerve calibrate -m model.safetensors -d new.csv --split all -o c.safetensors";

/// Flags of `nerve calibrate`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct CalibrateArgs {
    /// A classification model file written by `nerve train`.
    #[arg(short, long, value_name = "FILE")]
    model: PathBuf,
    /// The labelled data (a CSV file or a built-in data set's name) the model's split is made
    /// of, as for `nerve eval`.
    #[arg(short, long, value_name = "FILE|NAME")]
    data: String,
    /// The rows the temperature is fitted on: the validation rows of the model's split (the
    /// default), or all / train / test. Never the rows you will test on.
    #[arg(long, value_name = "PART", value_parser = crate::choice::<Part>(), default_value = "validation")]
    split: Part,
    /// The calibrated copy of the model to write.
    #[arg(short, long, value_name = "FILE.safetensors")]
    output: PathBuf,
    #[command(flatten)]
    read: ReadFlags,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The temperature's effect on some rows.
struct Effect {
    rows: usize,
    nll: (f64, f64),
    ece: (f64, f64),
}

/// One part's probabilities (row-major, `classes` per row) under the model and its
/// calibrated copy, with the true class ids.
struct Probabilities {
    before: Vec<f32>,
    after: Vec<f32>,
    classes: usize,
    actual: Vec<usize>,
}

impl Probabilities {
    /// The log loss and ECE before and after.
    fn effect(&self) -> Result<Effect> {
        let report = |p: &[f32]| ClassificationReport::new(p, &self.actual, self.classes);
        let (before, after) = (report(&self.before)?, report(&self.after)?);
        Ok(Effect {
            rows: self.actual.len(),
            nll: (before.log_loss, after.log_loss),
            ece: (before.calibration.ece, after.calibration.ece),
        })
    }
}

/// Runs `nerve calibrate`.
pub(crate) fn calibrate(args: CalibrateArgs) -> Result<ExitCode> {
    let (saved, device) = open_model(&args.model, args.read.backend)?;
    let p = &saved.preprocessor;
    let Some(labels) = p.labels() else {
        bail!("calibrate scales class probabilities; this model predicts values");
    };
    if saved.model.is_spiking() {
        bail!(
            "calibrate divides the output layer by a temperature, which is exact for a rate network's logits but not for a spiking network's readout; not supported yet"
        );
    }
    let loss = saved.config.loss();
    let width = saved.model.config().d_output;
    if loss == Loss::BinaryCrossEntropy && width != 1 {
        bail!("calibrate supports bce with one output (two classes), not multi-label bce");
    }
    check_model_copy(&args.output, &args.model)?;
    if matches!(args.split, Part::Test | Part::All) {
        eprintln!(
            "warning: fitting on {} makes the test rows' scores optimistic; fit on --split validation, and test once",
            if args.split == Part::Test {
                "the test rows"
            } else {
                "every row (the test rows too)"
            }
        );
    }
    let part = labelled_part(&saved, &args.data, &args.read, args.split)?;
    if part.dropped > 0 {
        eprintln!("note: left out {} rows with missing values", part.dropped);
    }
    let present: std::collections::BTreeSet<usize> =
        part.data.targets().iter().map(|&t| t as usize).collect();
    if present.len() < 2 {
        bail!(
            "the {} rows hold one class only, so a temperature fitted on them would only push every probability towards it; fit on rows of every class",
            args.split.name()
        );
    }
    let logits = |model: &nerve_model::Mlp, data: &nerve_data::Dataset| -> Vec<f32> {
        model
            .clone()
            .fork(&device)
            .forward(data.features_tensor(&device))
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("converted to f32 above")
    };
    let actual = |data: &nerve_data::Dataset| -> Vec<usize> {
        data.targets().iter().map(|&t| t as usize).collect()
    };
    let z = logits(&saved.model, &part.data);
    let temperature = match fit_temperature(&z, &actual(&part.data), width) {
        Temperature::Fitted(t) => t,
        Temperature::BelowRange(bound) => bail!(
            "the log loss on the {} rows keeps falling as T goes to 0 (below {}: they are separated perfectly, as rows the model trained on are): no temperature calibrates them; fit on held-out rows",
            args.split.name(),
            crate::numbers::value(bound)
        ),
        Temperature::AboveRange(bound) => bail!(
            "the log loss on the {} rows keeps falling as T grows past {} (where every probability is within 1e-4 of uniform: the model ranks these rows no better than chance); nothing to calibrate",
            args.split.name(),
            crate::numbers::value(bound)
        ),
        Temperature::Constant => bail!(
            "the model gives every one of the {} rows the same scores: no temperature changes its probabilities; nothing to calibrate",
            args.split.name()
        ),
    };
    let calibrated = saved.model.clone().with_output_scaled(1.0 / temperature);
    // Each part's probabilities before and after, computed once: its effect and the stored
    // threshold's answers are read from them.
    let probabilities = |data: &nerve_data::Dataset| -> Probabilities {
        let (before, classes) = nerve_run::network_outputs(&saved.model, loss, data, &device);
        let (after, _) = nerve_run::network_outputs(&calibrated, loss, data, &device);
        Probabilities {
            before,
            after,
            classes,
            actual: actual(data),
        }
    };
    let fitted_probabilities = probabilities(&part.data);
    let fitted = fitted_probabilities.effect()?;
    // The honest measure: the test rows of the model's split, when they were not fitted on.
    let test = match args.split {
        Part::Validation | Part::Train => {
            let test = labelled_part(&saved, &args.data, &args.read, Part::Test).ok();
            test.filter(|t| !t.data.is_empty())
                .map(|t| probabilities(&t.data).effect())
                .transpose()?
        }
        Part::All | Part::Test => None,
    };
    // A stored threshold moves with the probabilities so that it keeps every answer: the
    // logit it stood for, divided by T.
    let threshold = saved.threshold().map(|t| {
        let logit = (t / (1.0 - t)).ln();
        1.0 / (1.0 + (-logit / temperature).exp())
    });
    let chosen_on = match args.split {
        Part::All => format!("all rows of {}", part.table.source_name()),
        other => format!("{} rows of {}", other.name(), part.table.source_name()),
    };
    // The temperature of the whole chain when the model was calibrated before.
    let overall = temperature * saved.temperature().unwrap_or(1.0);
    // Whether the moved threshold keeps every fitted row's answer: probabilities saturated at
    // 0 or 1 in f32 can lose it.
    let changed = match threshold {
        Some(t) => {
            let Probabilities {
                before,
                after,
                classes,
                ..
            } = &fitted_probabilities;
            let stored = saved.threshold();
            before
                .chunks(*classes)
                .zip(after.chunks(*classes))
                .filter(|(b, a)| {
                    nerve_train::predicted_class(b, stored)
                        != nerve_train::predicted_class(a, Some(t))
                })
                .count()
        }
        None => 0,
    };
    let record = json!({
        "temperature": temperature,
        "overall_temperature": overall,
        "fitted_on": chosen_on,
        "rows": fitted.rows,
        "log_loss_before": fitted.nll.0,
        "log_loss_after": fitted.nll.1,
        "ece_before": fitted.ece.0,
        "ece_after": fitted.ece.1,
    });
    let mut extra = vec![(TEMPERATURE_KEY, record.clone())];
    if let (Some(t), Some(stored)) = (threshold, saved.info.extra.get(THRESHOLD_KEY)) {
        let mut stored = stored.clone();
        stored["threshold"] = json!(t);
        stored["rescaled_by_temperature"] = json!(temperature);
        extra.push((THRESHOLD_KEY, stored));
    }
    saved.save_copy_with(&args.output, &calibrated, extra)?;

    let mut out = String::new();
    if args.json {
        let mut value = record;
        if let Some(test) = &test {
            value["test"] = json!({
                "rows": test.rows,
                "log_loss_before": test.nll.0,
                "log_loss_after": test.nll.1,
                "ece_before": test.ece.0,
                "ece_after": test.ece.1,
            });
        }
        if let Some(t) = threshold {
            value["threshold"] = json!(t);
            value["threshold_answers_changed"] = json!(changed);
        }
        writeln!(out, "{value}")?;
    } else {
        let variant = if labels.len() == 2 {
            format!("P(`{}`)", crate::output::shorten_cell(&labels[1]))
        } else {
            "top class".to_owned()
        };
        writeln!(
            out,
            "Temperature {} fitted on the {chosen_on} ({} rows): the logits are divided by it, so every row keeps its most probable class",
            value(temperature),
            fitted.rows
        )?;
        let line = |out: &mut String, what: &str, e: &Effect| {
            writeln!(
                out,
                "  {what} ({} rows): log loss {} -> {}, ECE of {variant} {} -> {}",
                e.rows,
                value(e.nll.0),
                value(e.nll.1),
                value(e.ece.0),
                value(e.ece.1)
            )
        };
        line(&mut out, "fitted rows", &fitted)?;
        if let Some(test) = &test {
            line(&mut out, "test rows", test)?;
        }
        if let Some(t) = threshold {
            if changed == 0 {
                writeln!(
                    out,
                    "The stored decision threshold becomes {} (the same answers on the {} fitted rows)",
                    value(t),
                    fitted.rows
                )?;
            } else {
                writeln!(
                    out,
                    "warning: the stored decision threshold becomes {}, but {changed} of the {} fitted rows change answer (their probabilities saturate at 0 or 1 in float32, so the old threshold cannot be moved exactly)",
                    value(t),
                    fitted.rows
                )?;
            }
        }
        if (overall - temperature).abs() > 1e-12 {
            writeln!(
                out,
                "The model was calibrated before: its logits are now divided by {} in all",
                value(overall)
            )?;
        }
        writeln!(out, "Wrote {}", args.output.display())?;
        out = crate::output::wrap(&out, crate::output::Stream::Stdout);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
