//! The feature columns as the network's input matrix, as `Preprocessor::transform_features`
//! makes it: missing values filled, numbers standardized in f64, categories one-hot.

use nerve_data::{FeatureTransform, NaValues, category_spellings, number_spellings};

use crate::graph::{Graph, int, ints, strings};
use crate::proto::tensor_proto::DataType;

/// Wires every feature column into one `float [N, d_input]` value and returns its name (`None`
/// when no column makes an input). A run of consecutive numeric columns is one block (`[N, k]`,
/// one set of operations); each categorical column is another.
pub(crate) fn wire_features(
    graph: &mut Graph,
    features: &[FeatureTransform],
    na_values: &NaValues,
) -> Option<String> {
    let axis1 = graph.i64s("axis1", &[1], vec![1]);
    let decimal_point = decimal_point(features);
    let mut blocks = Vec::new();
    let mut run: Vec<&FeatureTransform> = Vec::new();
    for feature in features {
        match feature {
            // A run holds columns alike in whether --na-values numbers apply (see numeric_block).
            FeatureTransform::Numeric { .. }
                if run.first().is_none_or(|first| {
                    plain(first) == plain(feature) && clip(first) == clip(feature)
                }) =>
            {
                run.push(feature);
            }
            FeatureTransform::Numeric { .. } => {
                blocks.push(numeric_block(graph, &run, na_values, &axis1));
                run.clear();
                run.push(feature);
            }
            FeatureTransform::Categorical { .. } => {
                if !run.is_empty() {
                    blocks.push(numeric_block(graph, &run, na_values, &axis1));
                    run.clear();
                }
                if let Some(block) =
                    categorical_block(graph, feature, na_values, decimal_point, &axis1)
                {
                    blocks.push(block);
                }
            }
            // Refused before wiring (ExportError::Date).
            FeatureTransform::Date { .. } => {}
        }
    }
    if !run.is_empty() {
        blocks.push(numeric_block(graph, &run, na_values, &axis1));
    }
    match blocks.len() {
        0 => None,
        1 => blocks.pop(),
        _ => {
            let parts: Vec<&str> = blocks.iter().map(String::as_str).collect();
            Some(graph.op("Concat", &parts, vec![int("axis", 1)]))
        }
    }
}

/// Numeric columns `[N]` (double) -> `[N, k + indicators]` float: a value that is NaN (or equal
/// to a numeric missing-value spelling) takes the column's fill, then `(x - offset) / scale` in
/// f64 — nerve reads numbers as f64 and computes exactly this before rounding to f32, so a
/// column near 1e6 with a small spread keeps its digits — and the result is cast to float. A
/// column with a missing indicator has a second input, right after its value, 1 where the
/// value was missing: the values and the indicators are joined and put in nerve's input order
/// by one `Gather`.
fn numeric_block(
    graph: &mut Graph,
    run: &[&FeatureTransform],
    na_values: &NaValues,
    axis1: &str,
) -> String {
    let (mut offsets, mut scales, mut fills) = (Vec::new(), Vec::new(), Vec::new());
    let mut indicators = Vec::new();
    let columns: Vec<String> = run
        .iter()
        .map(|feature| {
            if let FeatureTransform::Numeric {
                offset,
                scale,
                fill,
                indicator,
                ..
            } = feature
            {
                offsets.push(*offset);
                scales.push(*scale);
                fills.push(*fill);
                indicators.push(indicator.is_some());
            }
            graph.op("Unsqueeze", &[feature.column(), axis1], vec![])
        })
        .collect();
    let k = columns.len();
    let x = if k == 1 {
        columns[0].clone()
    } else {
        let parts: Vec<&str> = columns.iter().map(String::as_str).collect();
        graph.op("Concat", &parts, vec![int("axis", 1)])
    };
    // NaN is the one value not equal to itself. (`IsNaN` would say it plainly, but tract runs
    // it on f16 and f32 only.)
    let equal_self = graph.op("Equal", &[&x, &x], vec![]);
    let mut missing = graph.op("Not", &[&equal_self], vec![]);
    // nerve compares a cell's text, as written, with the missing-value numbers: `500%` or
    // `1,000` is never one, so a column written with a format keeps its value here too.
    let numbers = if plain(run[0]) {
        na_values.numbers()
    } else {
        &[]
    };
    for &number in numbers {
        let spelling = graph.f64s("na_number", &[], vec![number]);
        let equal = graph.op("Equal", &[&x, &spelling], vec![]);
        missing = graph.op("Or", &[&missing, &equal], vec![]);
    }
    let fill = graph.f64s("fill", &[k], fills);
    let filled = graph.op("Where", &[&missing, &fill, &x], vec![]);
    let offset = graph.f64s("offset", &[k], offsets);
    let centred = graph.op("Sub", &[&filled, &offset], vec![]);
    let scale = graph.f64s("scale", &[k], scales);
    let mut z = graph.op("Div", &[&centred, &scale], vec![]);
    if let Some(c) = clip(run[0]) {
        // z held within ±CLIP_RANGE (so that (z / c)² cannot overflow, as for 1e300 or an
        // infinity), then z / sqrt(1 + (z / c)²), in f64 as nerve computes it.
        let low = graph.f64s("clip_low", &[], vec![-nerve_data::CLIP_RANGE]);
        let high = graph.f64s("clip_high", &[], vec![nerve_data::CLIP_RANGE]);
        z = graph.op("Clip", &[&z, &low, &high], vec![]);
        let bound = graph.f64s("clip", &[], vec![c]);
        let ratio = graph.op("Div", &[&z, &bound], vec![]);
        let square = graph.op("Mul", &[&ratio, &ratio], vec![]);
        let one = graph.f64s("one", &[], vec![1.0]);
        let sum = graph.op("Add", &[&square, &one], vec![]);
        let root = graph.op("Sqrt", &[&sum], vec![]);
        z = graph.op("Div", &[&z, &root], vec![]);
    }
    let z = graph.op("Cast", &[&z], vec![int("to", DataType::Float as i64)]);
    if !indicators.contains(&true) {
        return z;
    }
    // [values (k), indicators (k)] -> value, then its indicator where it has one, column by
    // column.
    let flags = graph.op("Cast", &[&missing], vec![int("to", DataType::Float as i64)]);
    let both = graph.op("Concat", &[&z, &flags], vec![int("axis", 1)]);
    let order: Vec<i64> = indicators
        .iter()
        .enumerate()
        .flat_map(|(i, &has)| std::iter::once(i as i64).chain(has.then_some((k + i) as i64)))
        .collect();
    let order = graph.i64s("input_order", &[order.len()], order);
    graph.op("Gather", &[&both, &order], vec![int("axis", 1)])
}

/// A categorical column `[N]` (string) -> `[N, width]` float one-hot. `CategoryMapper` maps
/// each spelling of a category (and of an infrequent one, to the group's input) to its input,
/// each missing-value spelling to the missing level's input (or, for a model whose training
/// rows had no blanks here, the fill category's), and anything else to -1, which matches no
/// input (all zeros, as nerve encodes an unseen category). `None` for a column with no inputs.
fn categorical_block(
    graph: &mut Graph,
    feature: &FeatureTransform,
    na_values: &NaValues,
    decimal_point: bool,
    axis1: &str,
) -> Option<String> {
    let FeatureTransform::Categorical {
        column,
        categories,
        fill,
        infrequent,
        exact,
        missing_level,
        ..
    } = feature
    else {
        return None;
    };
    let width = feature.width();
    if width == 0 {
        return None;
    }
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<i64> = Vec::new();
    // A set beside the list: 40,000 postal codes make 120,000 spellings.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut add = |spelling: String, input: usize| {
        // The first wins: a cell is missing before it is a category (as the reader decides),
        // and a name repeated by value matches its first index (as nerve's matcher does).
        if seen.insert(spelling.clone()) {
            keys.push(spelling);
            values.push(input as i64);
        }
    };
    let missing_input = if *missing_level {
        Some(width - 1)
    } else {
        categories.iter().position(|c| c == fill)
    };
    if let Some(fill_input) = missing_input {
        for spelling in na_values.spellings() {
            add(spelling, fill_input);
        }
        // nerve reads a cell equal to a missing-value number as missing in any column.
        for &number in na_values.numbers() {
            for spelling in number_spellings(number) {
                add(spelling, fill_input);
            }
        }
    }
    // A column forced to be categorical matches each category only as written.
    let by_value = decimal_point && !exact;
    for (input, category) in categories.iter().enumerate() {
        for spelling in spellings(category, by_value) {
            add(spelling, input);
        }
    }
    for category in infrequent {
        for spelling in spellings(category, by_value) {
            add(spelling, categories.len());
        }
    }
    let index = graph.ml_op(
        "CategoryMapper",
        &[column],
        vec![
            strings("cats_strings", &keys),
            ints("cats_int64s", values),
            int("default_int64", -1),
        ],
    );
    let index = graph.op("Unsqueeze", &[&index, axis1], vec![]);
    let inputs = graph.i64s("inputs", &[1, width], (0..width as i64).collect());
    let hot = graph.op("Equal", &[&index, &inputs], vec![]);
    Some(graph.op("Cast", &[&hot], vec![int("to", DataType::Float as i64)]))
}

/// A numeric column's smooth clipping bound, if any (a run shares one).
fn clip(feature: &FeatureTransform) -> Option<f64> {
    match feature {
        FeatureTransform::Numeric { smooth_clip, .. } => *smooth_clip,
        _ => None,
    }
}

/// Whether a numeric column was written as plain numbers (no format stripped, a decimal point).
fn plain(feature: &FeatureTransform) -> bool {
    match feature {
        FeatureTransform::Numeric { format, .. } => format.written_with().is_none(),
        _ => true,
    }
}

/// Whether the model was trained on a file with a decimal point: a model trained on one with a
/// decimal comma (its numeric columns say so) is fed such files, where `1,500` is 1.5 and the
/// spellings listed for a point file would be wrong.
pub(crate) fn decimal_point(features: &[FeatureTransform]) -> bool {
    !features
        .iter()
        .any(|f| matches!(f, FeatureTransform::Numeric { format, .. } if format.decimal_comma))
}

/// A category's spellings for the lookup: [`category_spellings`] for a column matched by value
/// in a decimal-point model, the name alone in a decimal-comma one or a column matched as
/// written.
pub(crate) fn spellings(category: &str, by_value: bool) -> Vec<String> {
    if by_value {
        category_spellings(category)
    } else {
        vec![category.to_owned()]
    }
}
