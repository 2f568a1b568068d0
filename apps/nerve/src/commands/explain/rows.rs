//! Explain's per-row output: the attributions of one row as JSON or as an aligned table,
//! with how far they are from complete.

use std::fmt::Write as _;

use anyhow::Result;
use nerve_data::{Preprocessor, Table};
use nerve_model::Attributions;
use serde_json::json;

use super::Explanation;

/// One explained row as JSON: its outputs and the baseline's (target units for regression, logits
/// for classes) and each feature's attribution to each output.
pub(super) fn row_json(
    table: &Table,
    a: &Attributions,
    e: &Explanation,
    i: usize,
    row: usize,
    decode: impl Fn(f32) -> f64,
) -> serde_json::Value {
    let outputs = 0..a.d_output();
    let attributions: serde_json::Map<String, serde_json::Value> = e
        .features
        .iter()
        .enumerate()
        .map(|(f, name)| {
            let per_output: Vec<f64> = outputs.clone().map(|k| e.values[k][i][f]).collect();
            (name.clone(), json!(per_output))
        })
        .collect();
    json!({
        "row": row,
        "line": table.line(row),
        "output": outputs.clone().map(|k| decode(a.output(k, i))).collect::<Vec<_>>(),
        "baseline_output": outputs.map(|k| decode(a.baseline_output(k))).collect::<Vec<_>>(),
        "attributions": attributions,
    })
}

/// The mean over rows and outputs of |Σ attributions − (f(x) − f(b))|.
pub(super) fn completeness_gap(a: &Attributions) -> f64 {
    let count = (a.rows() * a.d_output()).max(1) as f64;
    (0..a.d_output())
        .flat_map(|k| (0..a.rows()).map(move |row| a.completeness_gap(k, row).abs()))
        .sum::<f64>()
        / count
}

/// One explained row (`i`-th attributed, data row `row`): its `prediction` (from
/// `Loss::probabilities`) and the attributions to the predicted class's logit (or the value),
/// largest first.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_row(
    out: &mut String,
    table: &Table,
    p: &Preprocessor,
    a: &Attributions,
    e: &Explanation,
    (i, row): (usize, usize),
    prediction: &[f32],
    shown: usize,
) -> Result<()> {
    let (k, prediction) = match p.labels() {
        Some(labels) => {
            let best = nerve_train::predicted_class(prediction, None);
            // With one bce logit, attribute that logit: it argues for the second class.
            let k = if a.d_output() == 1 { 0 } else { best };
            (
                k,
                format!("{} (probability {:.3})", labels[best], prediction[best]),
            )
        }
        None => (0, format!("{:.4}", p.decode_value(prediction[0]))),
    };
    if p.labels().is_some() {
        writeln!(
            out,
            "\nRow {row} (line {}): predicted {prediction}; logit of {} {:.4} here, {:.4} at the baseline",
            table.line(row),
            e.outputs[k],
            a.output(k, i),
            a.baseline_output(k)
        )?;
    } else {
        writeln!(
            out,
            "\nRow {row} (line {}): predicted {prediction}; the baseline row predicts {:.4}",
            table.line(row),
            p.decode_value(a.baseline_output(0))
        )?;
    }
    let values = &e.values[k][i];
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&x, &y| values[y].abs().total_cmp(&values[x].abs()));
    let header = [
        "feature".to_owned(),
        "value".to_owned(),
        "attribution".to_owned(),
    ];
    let lines: Vec<Vec<String>> = order
        .iter()
        .take(shown)
        .map(|&f| {
            let name = &e.features[f];
            let column = name.split('=').next().unwrap_or(name);
            let value = table
                .column(column)
                .map_or_else(|_| "-".to_owned(), |c| c.display(row));
            vec![name.clone(), value, format!("{:+.4}", values[f])]
        })
        .collect();
    crate::output::write_aligned(out, &header, &lines)
}

pub(super) fn join(rows: &[usize]) -> String {
    rows.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
