//! [`to_onnx`]: a network and its preprocessing as one ONNX model that takes the raw columns and
//! answers what `nerve predict` answers.

use nerve_data::{FeatureTransform, NaValues, Preprocessor, TargetTransform, matches_by_number};
use nerve_loss::Loss;
use nerve_model::Mlp;
use prost::Message as _;
use serde_json::json;

use crate::features::{decimal_point, spellings, wire_features};
use crate::graph::{Graph, value_info};
use crate::network::{wire_head, wire_network};
use crate::proto::tensor_proto::DataType;
use crate::proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};

/// The ONNX operator set of the default domain the graph uses: 13, the oldest that has every
/// operator it needs with today's semantics (`Unsqueeze`/`Squeeze` with axes as an input,
/// `Softmax` over one axis, `Equal` on doubles), so the widest range of runtimes
/// loads it (onnxruntime 1.8 and later, tract). The graph also needs string and double tensors
/// and `ai.onnx.ml`'s `CategoryMapper`, which some runtimes (TensorRT) do not have.
pub const OPSET: i64 = 13;

/// The `ai.onnx.ml` operator set (for `CategoryMapper`): 2, the one paired with opset 13.
pub const ML_OPSET: i64 = 2;

/// The ONNX IR version matching [`OPSET`] (ONNX 1.8).
pub const IR_VERSION: i64 = 7;

/// Settings of [`to_onnx`] beyond the model itself.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Two classes: answer the second class when its probability is at least this, compared
    /// in f32 (`nerve predict --threshold`); `None` answers the most probable class.
    pub threshold: Option<f64>,
    /// The missing-value spellings the model's rows are read with (the run's `--na-values`
    /// beside pandas' defaults): a categorical input holding one is filled, and a numeric
    /// input equal to one of its numbers too.
    pub na_values: NaValues,
    /// More `metadata_props` entries (key, value), after nerve's own.
    pub metadata: Vec<(String, String)>,
}

/// What a graph input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A numeric column: `double [N]`, NaN for a missing value.
    Numeric,
    /// A categorical column: `string [N]`, each cell's text.
    Categorical,
}

/// One graph input: a feature column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnnxInput {
    /// The column's name, which is the input's name.
    pub name: String,
    /// What it holds.
    pub kind: InputKind,
}

/// An exported model and its signature.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    /// The ONNX model.
    pub proto: ModelProto,
    /// The graph inputs, one per feature column, in the model's input order.
    pub inputs: Vec<OnnxInput>,
    /// The name of the predictions output: `string [N]` class names, or `double [N]` values
    /// in the target's units.
    pub prediction: String,
    /// The name of the probabilities output (`float [N, classes]`, classification only).
    pub probabilities: Option<String>,
    /// Categorical columns that nerve matches partly by number value: a category that is a
    /// number (`3` matches `3.00`, `+3`, `03`), or a missing-value number (`--na-values -999`).
    /// A string lookup can only list spellings, so the graph matches the common ones
    /// ([`nerve_data::category_spellings`]: `3`, `3.0`; the `number_spellings` metadata) and
    /// treats any other spelling of such a number as an unseen category where `nerve predict`
    /// would not. Empty when every category is text or a truth value.
    pub matched_by_number: Vec<String>,
}

impl OnnxModel {
    /// The model as the bytes of an `.onnx` file (protobuf).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.proto.encode_to_vec()
    }
}

/// Why a model cannot be exported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    /// A spiking network: its neurons run over time steps with state, which this export does
    /// not express (an ONNX `Loop` could; not written yet).
    #[error(
        "this is a spiking network: ONNX export covers rate networks (layers with an activation) for now; its neurons run over time steps, which the export does not express yet"
    )]
    Spiking,
    /// A date column: ONNX has no operator that parses dates from text.
    #[error(
        "feature `{column}` is a date column: ONNX cannot parse dates from text, so the export does not support date features yet; retrain without it (`--ignore {column}`) or with its parts as numeric columns"
    )]
    Date {
        /// The column.
        column: String,
    },
    /// A loss and target that nerve does not train together.
    #[error("a {task} model trained with the {loss} loss is not one nerve makes")]
    Head {
        /// The task.
        task: String,
        /// The loss.
        loss: Loss,
    },
    /// Network and preprocessing disagree.
    #[error(
        "the network ({network_in} inputs, {network_out} outputs) does not match its preprocessing ({preprocessing_in} inputs, {preprocessing_out} outputs)"
    )]
    Mismatch {
        /// The network's input width.
        network_in: usize,
        /// The network's output width.
        network_out: usize,
        /// The preprocessing's input width.
        preprocessing_in: usize,
        /// The output width the preprocessing and loss call for.
        preprocessing_out: usize,
    },
    /// No feature column makes a network input.
    #[error("no feature column makes a network input; there is nothing to export")]
    NoInputs,
    /// A decision threshold that does not apply.
    #[error("{0}")]
    Threshold(String),
    /// Preprocessing no training makes ([`Preprocessor::check`]): an empty or repeated column
    /// name, a scale of 0, a non-finite statistic.
    #[error("the model's preprocessing is not one nerve trains: {0}")]
    Preprocessing(String),
    /// The graph built breaks a rule of the ONNX checker (`onnx.checker.check_model`): found
    /// before anything is written, and a fault of the exporter.
    #[error(
        "the graph the export built is not valid ONNX ({0}); nothing was written (a fault in nerve: please report it)"
    )]
    Graph(String),
    /// A weight tensor that could not be read.
    #[error("cannot read the weights of layer {layer}: {message}")]
    Weights {
        /// The layer.
        layer: usize,
        /// What went wrong.
        message: String,
    },
}

/// Checks the rules of the ONNX checker that a graph built here could break (onnx's
/// `checker.cc`: `check_graph`): every value name non-empty; each assigned once (inputs,
/// initializers and node outputs: static single assignment); each node input (but an omitted
/// optional one, `""`) and each graph output defined before it is used; every initializer
/// finite (a NaN or infinite weight or statistic would answer NaN where `predict` refuses).
fn check_graph(graph: &crate::proto::GraphProto) -> Result<(), String> {
    fn define<'g>(
        defined: &mut std::collections::HashSet<&'g str>,
        name: &'g str,
        what: &str,
    ) -> Result<(), String> {
        if name.is_empty() {
            return Err(format!("{what} has an empty name"));
        }
        if !defined.insert(name) {
            return Err(format!("`{name}` is assigned twice ({what})"));
        }
        Ok(())
    }
    let mut defined = std::collections::HashSet::new();
    for input in &graph.input {
        define(
            &mut defined,
            input.name.as_deref().unwrap_or(""),
            "a graph input",
        )?;
    }
    for tensor in &graph.initializer {
        let name = tensor.name.as_deref().unwrap_or("");
        define(&mut defined, name, "an initializer")?;
        let finite = tensor.float_data.iter().all(|v| v.is_finite())
            && tensor.double_data.iter().all(|v| v.is_finite());
        if !finite {
            return Err(format!(
                "the constant `{name}` holds a value that is not finite"
            ));
        }
    }
    // Node outputs are defined as the nodes come, in topological order.
    for node in &graph.node {
        let what = node.name.as_deref().unwrap_or("a node");
        for input in node.input.iter().filter(|i| !i.is_empty()) {
            if !defined.contains(input.as_str()) {
                return Err(format!("{what} reads `{input}` before it is defined"));
            }
        }
        for attribute in &node.attribute {
            if !(attribute.f.is_none_or(f32::is_finite)
                && attribute.floats.iter().all(|v| v.is_finite()))
            {
                return Err(format!("{what} has an attribute that is not finite"));
            }
        }
        for output in &node.output {
            define(&mut defined, output, what)?;
        }
    }
    for output in &graph.output {
        let name = output.name.as_deref().unwrap_or("");
        if !defined.contains(name) {
            return Err(format!("the graph output `{name}` is never computed"));
        }
    }
    Ok(())
}

/// Exports `model`, trained with `loss` on data prepared by `preprocessor`, as an ONNX model.
///
/// The graph takes one input per feature column, named after it: numeric columns as
/// `double [N]` (NaN, or a number among `options.na_values`, is missing), categorical columns
/// as `string [N]`. It fills missing values with the training fill values, standardizes as
/// nerve does (`(x − offset) / scale` in f64, then f32), one-hot encodes categories (matched by
/// text as [`nerve_data::category_spellings`] lists; an unseen one is all zeros), runs the
/// layers (`Gemm` + activation) and returns `prediction` (class names as `string [N]`, or
/// `double [N]` values in the target's units) and, for a classifier, `probabilities`
/// (`float [N, classes]`, softmax or the sigmoid's `[1 − p, p]`). `N` is symbolic.
///
/// # Errors
///
/// [`ExportError`]: a spiking network, a date feature, a network that does not fit its
/// preprocessing, a threshold for other than two classes.
pub fn to_onnx(
    model: &Mlp,
    preprocessor: &Preprocessor,
    loss: Loss,
    options: &ExportOptions,
) -> Result<OnnxModel, ExportError> {
    if model.is_spiking() {
        return Err(ExportError::Spiking);
    }
    preprocessor.check().map_err(ExportError::Preprocessing)?;
    if let Some(FeatureTransform::Date { column, .. }) = preprocessor
        .features
        .iter()
        .find(|f| matches!(f, FeatureTransform::Date { .. }))
    {
        return Err(ExportError::Date {
            column: column.clone(),
        });
    }
    let head = Head::of(preprocessor, loss)?;
    let config = model.config();
    let d_output = match head {
        Head::Sigmoid | Head::Values { .. } => 1,
        Head::Softmax => preprocessor.d_output(),
    };
    if config.d_input != preprocessor.d_input() || config.d_output != d_output {
        return Err(ExportError::Mismatch {
            network_in: config.d_input,
            network_out: config.d_output,
            preprocessing_in: preprocessor.d_input(),
            preprocessing_out: d_output,
        });
    }
    let threshold = check_threshold(options.threshold, preprocessor)?;
    let matched_by_number: Vec<String> = preprocessor
        .features
        .iter()
        .filter_map(|f| match f {
            FeatureTransform::Categorical {
                column,
                categories,
                infrequent,
                exact,
                ..
            } if !options.na_values.numbers().is_empty()
                || (!exact
                    && categories
                        .iter()
                        .chain(infrequent)
                        .any(|c| matches_by_number(c))) =>
            {
                Some(column.clone())
            }
            _ => None,
        })
        .collect();

    let inputs: Vec<OnnxInput> = preprocessor
        .features
        .iter()
        .map(|f| OnnxInput {
            name: f.column().to_owned(),
            kind: match f {
                FeatureTransform::Categorical { .. } => InputKind::Categorical,
                _ => InputKind::Numeric,
            },
        })
        .collect();
    let taken: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let prediction = unused_name("prediction", &taken);
    let probabilities = preprocessor
        .labels()
        .map(|_| unused_name("probabilities", &taken));
    let mut reserved = taken.clone();
    reserved.push(&prediction);
    reserved.extend(probabilities.as_deref());

    let mut graph = Graph::new(reserved.iter().copied());
    let Some(x) = wire_features(&mut graph, &preprocessor.features, &options.na_values) else {
        return Err(ExportError::NoInputs);
    };
    let logits = wire_network(&mut graph, model, x)?;
    wire_head(
        &mut graph,
        &head,
        &logits,
        threshold,
        preprocessor.labels(),
        &prediction,
        probabilities.as_deref(),
    );

    let graph_inputs = preprocessor
        .features
        .iter()
        .map(|f| match f {
            FeatureTransform::Categorical { .. } => value_info(
                f.column(),
                DataType::String,
                &[],
                "categorical column: each cell's text",
            ),
            _ => value_info(
                f.column(),
                DataType::Double,
                &[],
                "numeric column: NaN for a missing value",
            ),
        })
        .collect();
    let mut graph_outputs = vec![match head {
        Head::Values { .. } => value_info(
            &prediction,
            DataType::Double,
            &[],
            "the predicted value, in the target's units",
        ),
        _ => value_info(
            &prediction,
            DataType::String,
            &[],
            "the predicted class name",
        ),
    }];
    if let (Some(name), Some(labels)) = (&probabilities, preprocessor.labels()) {
        graph_outputs.push(value_info(
            name,
            DataType::Float,
            &[labels.len()],
            "each class's probability, in the order of the class_labels metadata",
        ));
    }
    let graph = graph.finish("nerve", graph_inputs, graph_outputs);
    check_graph(&graph).map_err(ExportError::Graph)?;

    let metadata = metadata(
        preprocessor,
        &options.na_values.extra(),
        &inputs,
        &prediction,
        probabilities.as_deref(),
        threshold,
    );
    let proto = ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![
            OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(OPSET),
            },
            OperatorSetIdProto {
                domain: Some(crate::graph::ML_DOMAIN.to_owned()),
                version: Some(ML_OPSET),
            },
        ],
        producer_name: Some("nerve".to_owned()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        doc_string: Some(format!(
            "A nerve model predicting `{}` from its raw columns (metadata `inputs` lists them). Numeric columns are double [N] inputs, NaN when missing; categorical columns are string [N] inputs.",
            preprocessor.target_name()
        )),
        graph: Some(graph),
        metadata_props: metadata
            .into_iter()
            .chain(options.metadata.iter().cloned())
            .map(|(key, value)| StringStringEntryProto {
                key: Some(key),
                value: Some(value),
            })
            .collect(),
        ..ModelProto::default()
    };
    Ok(OnnxModel {
        proto,
        inputs,
        prediction,
        probabilities,
        matched_by_number,
    })
}

/// What the network's outputs become.
pub(crate) enum Head {
    /// Cross-entropy: softmax over one logit per class.
    Softmax,
    /// Binary cross-entropy: the sigmoid of one logit is the second class's probability.
    Sigmoid,
    /// Regression: `output · scale + offset`, in f64 (as nerve decodes it, but for `predict`'s
    /// rounding to the output's precision: a target near 1e9 keeps its units' digits).
    Values {
        /// The target's scale.
        scale: f64,
        /// The target's offset.
        offset: f64,
    },
}

impl Head {
    fn of(preprocessor: &Preprocessor, loss: Loss) -> Result<Head, ExportError> {
        match (&preprocessor.target, loss) {
            (TargetTransform::Classes { .. }, Loss::CrossEntropy) => Ok(Head::Softmax),
            (TargetTransform::Classes { labels, .. }, Loss::BinaryCrossEntropy)
                if labels.len() == 2 =>
            {
                Ok(Head::Sigmoid)
            }
            (TargetTransform::Values { scale, offset, .. }, Loss::Mse | Loss::Huber) => {
                Ok(Head::Values {
                    scale: *scale,
                    offset: *offset,
                })
            }
            _ => Err(ExportError::Head {
                task: preprocessor.task().to_string(),
                loss,
            }),
        }
    }
}

/// The threshold as `nerve predict` takes it: a probability, for two classes only.
fn check_threshold(
    threshold: Option<f64>,
    preprocessor: &Preprocessor,
) -> Result<Option<f32>, ExportError> {
    let Some(t) = threshold else {
        return Ok(None);
    };
    if !(0.0..=1.0).contains(&t) {
        return Err(ExportError::Threshold(format!(
            "the threshold must be a probability between 0 and 1, got {t}"
        )));
    }
    match preprocessor.labels() {
        Some(labels) if labels.len() == 2 => Ok(Some(t as f32)),
        _ => Err(ExportError::Threshold(
            "a decision threshold is for models of two classes".to_owned(),
        )),
    }
}

/// `base`, with `_` appended until no input takes the name.
fn unused_name(base: &str, taken: &[&str]) -> String {
    let mut name = base.to_owned();
    while taken.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// nerve's `metadata_props`: what a caller needs to build inputs and read outputs.
fn metadata(
    preprocessor: &Preprocessor,
    na_values: &[String],
    inputs: &[OnnxInput],
    prediction: &str,
    probabilities: Option<&str>,
    threshold: Option<f32>,
) -> Vec<(String, String)> {
    let described: Vec<serde_json::Value> = preprocessor
        .features
        .iter()
        .zip(inputs)
        .map(|(f, input)| match f {
            FeatureTransform::Categorical {
                categories,
                infrequent,
                exact,
                missing_level,
                ..
            } => {
                // The spellings the graph accepts for categories that are numbers; any other
                // spelling of those numbers is unseen to the graph (OnnxModel::matched_by_number).
                // A column forced to be categorical matches only as written.
                let number_spellings: Vec<String> = if *exact {
                    Vec::new()
                } else {
                    categories
                        .iter()
                        .chain(infrequent)
                        .filter(|c| matches_by_number(c))
                        .flat_map(|c| spellings(c, decimal_point(&preprocessor.features)))
                        .collect()
                };
                json!({
                    "name": input.name, "type": "string", "kind": "categorical",
                    "categories": categories, "infrequent": infrequent,
                    "number_spellings": number_spellings,
                    "matched": if *exact { "as written" } else { "by value" },
                    // A missing cell (NaN, or a missing-value spelling) has an input of its own.
                    "missing_level": missing_level,
                })
            }
            FeatureTransform::Numeric {
                format, indicator, ..
            } => {
                let mut described = json!({
                    "name": input.name, "type": "double", "kind": "numeric",
                    // NaN is filled with the training mean and sets an indicator input.
                    "missing_indicator": indicator.is_some(),
                });
                if let Some(written) = format.written_with() {
                    described["written_with"] = json!(written);
                }
                described
            }
            _ => json!({"name": input.name, "type": "double", "kind": "numeric"}),
        })
        .collect();
    let mut entries = vec![
        ("nerve_version", env!("CARGO_PKG_VERSION").to_owned()),
        ("task", preprocessor.task().to_string()),
        ("target", preprocessor.target_name().to_owned()),
        (
            "feature_names",
            json!(inputs.iter().map(|i| &i.name).collect::<Vec<_>>()).to_string(),
        ),
        ("inputs", json!(described).to_string()),
        ("prediction_output", prediction.to_owned()),
        ("na_values", json!(na_values).to_string()),
    ];
    if let (Some(name), Some(labels)) = (probabilities, preprocessor.labels()) {
        entries.push(("probabilities_output", name.to_owned()));
        entries.push(("class_labels", json!(labels).to_string()));
    }
    if let Some(t) = threshold {
        entries.push(("decision_threshold", t.to_string()));
    }
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::prelude::{Tensor as BurnTensor, TensorData};
    use nerve_backend::BackendKind;
    use nerve_data::{PreprocessOptions, Table, Task};
    use nerve_model::MlpConfig;
    use tract_onnx::prelude::*;

    use super::*;

    /// Runs `onnx` in tract on `columns` (each column's cells: numbers, or text when `text`).
    fn run_tract(onnx: &OnnxModel, columns: &[(Vec<f64>, Vec<&str>)]) -> TVec<TValue> {
        let model = tract_onnx::onnx()
            .model_for_read(&mut onnx.to_bytes().as_slice())
            .expect("tract reads the model")
            .into_optimized()
            .expect("tract optimizes it")
            .into_runnable()
            .expect("tract runs it");
        let inputs: TVec<TValue> = onnx
            .inputs
            .iter()
            .zip(columns)
            .map(|(input, (numbers, text))| {
                let tensor: Tensor = match input.kind {
                    InputKind::Numeric => tract_ndarray::Array1::from(numbers.clone()).into(),
                    InputKind::Categorical => tract_ndarray::Array1::from(
                        text.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                    )
                    .into(),
                };
                tensor.into()
            })
            .collect();
        model.run(inputs).expect("tract runs the rows")
    }

    #[test]
    fn columns_named_like_outputs_or_graph_values_keep_their_names_and_answers() {
        let csv = "prediction,nerve/1_cast,probabilities,class\n\
            1.5,a,10,x\n2.5,b,20,y\n3.5,a,30,x\n0.5,b,40,y\n2.0,a,15,x\n";
        let table = Table::from_csv_str("t.csv", csv).expect("reads");
        let rows: Vec<usize> = (0..table.num_rows()).collect();
        let p = Preprocessor::fit(
            &table,
            "class",
            Task::Classification,
            &rows,
            &PreprocessOptions::default(),
        )
        .expect("fits");
        let new = Table::from_csv_str(
            "new.csv",
            "prediction,nerve/1_cast,probabilities\n1.0,a,12\n,c,\n4.0,NA,25\n",
        )
        .expect("reads");
        let new_rows = [0, 1, 2];
        let (x, _) = p.transform_features(&new, &new_rows).expect("transforms");
        for backend in BackendKind::ALL {
            let device = backend.device().expect("device");
            let model = MlpConfig::new(p.d_input(), vec![3], p.d_output()).init(&device);
            let onnx = to_onnx(&model, &p, Loss::CrossEntropy, &ExportOptions::default())
                .expect("exports");
            let names: Vec<&str> = onnx.inputs.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(names, ["prediction", "nerve/1_cast", "probabilities"]);
            assert_eq!(onnx.prediction, "prediction_");
            assert_eq!(onnx.probabilities.as_deref(), Some("probabilities_"));

            let input =
                BurnTensor::<2>::from_data(TensorData::new(x.clone(), [3, p.d_input()]), &device);
            let want = Loss::CrossEntropy
                .probabilities(model.forward(input))
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32");
            let outputs = run_tract(
                &onnx,
                &[
                    (vec![1.0, f64::NAN, 4.0], vec![]),
                    (vec![], vec!["a", "c", "NA"]),
                    (vec![12.0, f64::NAN, 25.0], vec![]),
                ],
            );
            let got = outputs[1]
                .to_plain_array_view::<f32>()
                .expect("probabilities");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-6, "{backend}: {g} vs {w}");
            }
            let labels = outputs[0].to_plain_array_view::<String>().expect("labels");
            assert_eq!(labels.len(), 3);
        }
    }

    #[test]
    fn preprocessing_no_training_makes_is_refused_before_a_graph_is_built() {
        let p = fitted("a,b,y\n1,u,p\n2,v,q\n3,u,p\n4,v,q\n", "y");
        let device = BackendKind::default().device().expect("device");
        let model = MlpConfig::new(p.d_input(), vec![], p.d_output()).init(&device);
        let refused = |edit: &dyn Fn(&mut Preprocessor), want: &str| {
            let mut bad = p.clone();
            edit(&mut bad);
            let err = to_onnx(&model, &bad, Loss::CrossEntropy, &ExportOptions::default())
                .expect_err(want);
            assert!(matches!(err, ExportError::Preprocessing(_)), "{err}");
            assert!(err.to_string().contains(want), "{err}");
        };
        // Edits the first feature (numeric `a`): its name, scale and offset.
        let numeric = |edit: fn(&mut String, &mut f64, &mut f64)| {
            move |p: &mut Preprocessor| {
                if let FeatureTransform::Numeric {
                    column,
                    scale,
                    offset,
                    ..
                } = &mut p.features[0]
                {
                    edit(column, scale, offset);
                }
            }
        };
        // The reported inputs: a feature named "" (onnx's checker rejects the graph) and a
        // scale of 0 (every row answered where predict refuses each).
        refused(&numeric(|c, _, _| c.clear()), "empty name");
        refused(&numeric(|_, s, _| *s = 0.0), "`scale` is 0");
        // More of the kind: a negative or NaN scale, an infinite offset, two columns of one
        // name, a feature named as the target.
        refused(&numeric(|_, s, _| *s = -2.0), "`scale` is -2");
        refused(&numeric(|_, s, _| *s = f64::NAN), "`scale` is NaN");
        refused(&numeric(|_, _, o| *o = f64::INFINITY), "`offset` is inf");
        refused(
            &numeric(|c, _, _| *c = "b".to_owned()),
            "two feature columns are named `b`",
        );
        refused(
            &numeric(|c, _, _| *c = "y".to_owned()),
            "both the target and a feature",
        );
    }

    #[test]
    fn the_graph_check_finds_what_onnx_s_checker_rejects() {
        use crate::proto::{GraphProto, NodeProto, TensorProto, ValueInfoProto};
        let input = |name: &str| ValueInfoProto {
            name: Some(name.to_owned()),
            ..ValueInfoProto::default()
        };
        let node = |inputs: &[&str], output: &str| NodeProto {
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![output.to_owned()],
            op_type: Some("Identity".to_owned()),
            ..NodeProto::default()
        };
        let good = GraphProto {
            input: vec![input("x")],
            node: vec![node(&["x"], "y")],
            output: vec![input("y")],
            ..GraphProto::default()
        };
        assert_eq!(check_graph(&good), Ok(()));
        let mut empty = good.clone();
        empty.input[0].name = Some(String::new());
        assert!(check_graph(&empty).unwrap_err().contains("empty name"));
        let mut twice = good.clone();
        twice.node.push(node(&["x"], "y"));
        assert!(check_graph(&twice).unwrap_err().contains("assigned twice"));
        let mut early = good.clone();
        early.node.insert(0, node(&["y"], "z"));
        assert!(
            check_graph(&early)
                .unwrap_err()
                .contains("before it is defined")
        );
        let mut nan = good.clone();
        nan.initializer.push(TensorProto {
            name: Some("w".to_owned()),
            double_data: vec![1.0, f64::NAN],
            ..TensorProto::default()
        });
        assert!(check_graph(&nan).unwrap_err().contains("not finite"));
        let mut unset = good;
        unset.output.push(input("never"));
        assert!(check_graph(&unset).unwrap_err().contains("never computed"));
    }

    #[test]
    fn a_threshold_is_for_two_classes_and_a_probability() {
        let table = Table::from_csv_str("t.csv", "a,y\n1,p\n2,q\n3,r\n").expect("reads");
        let p = Preprocessor::fit(
            &table,
            "y",
            Task::Classification,
            &[0, 1, 2],
            &PreprocessOptions::default(),
        )
        .expect("fits");
        let device = BackendKind::default().device().expect("device");
        let model = MlpConfig::new(1, vec![], 3).init(&device);
        let options = ExportOptions {
            threshold: Some(0.5),
            ..ExportOptions::default()
        };
        let err = to_onnx(&model, &p, Loss::CrossEntropy, &options).expect_err("3 classes");
        assert!(err.to_string().contains("two classes"), "{err}");
        let err = to_onnx(&model, &p, Loss::Mse, &ExportOptions::default()).expect_err("mse");
        assert!(matches!(err, ExportError::Head { .. }), "{err}");
    }

    fn fitted(csv: &str, target: &str) -> Preprocessor {
        let table = Table::from_csv_str("t.csv", csv).expect("reads");
        let rows: Vec<usize> = (0..table.num_rows()).collect();
        Preprocessor::fit(
            &table,
            target,
            Task::Classification,
            &rows,
            &PreprocessOptions::default(),
        )
        .expect("fits")
    }

    fn exported(p: &Preprocessor, options: &ExportOptions) -> OnnxModel {
        let device = BackendKind::default().device().expect("device");
        let model = MlpConfig::new(p.d_input(), vec![], p.d_output()).init(&device);
        to_onnx(&model, p, Loss::CrossEntropy, options).expect("exports")
    }

    fn metadata_entry(onnx: &OnnxModel, key: &str) -> String {
        onnx.proto
            .metadata_props
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .and_then(|p| p.value.clone())
            .expect("metadata entry")
    }

    #[test]
    fn number_categories_of_a_decimal_comma_file_match_only_as_written() {
        // The reviewer's report: in a `;` file `1,500` is 1.5, so listing `1500` for it (a
        // comma file's reading) would match the wrong cells.
        let p = fitted(
            "size;x;y\n1,500;1,5;a\n2,5;2,0;b\n7;3,5;a\nXL;0,5;b\n1,500;1,0;a\n",
            "y",
        );
        let onnx = exported(&p, &ExportOptions::default());
        assert_eq!(onnx.matched_by_number, ["size"]);
        let inputs = metadata_entry(&onnx, "inputs");
        let spellings: serde_json::Value = serde_json::from_str(&inputs).expect("json");
        let listed: Vec<&str> = spellings[0]["number_spellings"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert!(
            listed.contains(&"1,500") && listed.contains(&"7"),
            "{listed:?}"
        );
        assert!(
            !listed.iter().any(|s| ["1500", "1.5", "7.0"].contains(s)),
            "{listed:?}"
        );
    }

    #[test]
    fn missing_value_numbers_apply_to_plain_numeric_columns_only() {
        // The reviewer's report: nerve compares --na-values with a cell's text, so `500%` is
        // never the missing value 5; the graph, fed 5.0 for it, must not fill it either.
        let options = ExportOptions {
            na_values: NaValues::with_extra(["5"]),
            ..ExportOptions::default()
        };
        let percent = fitted("p,y\n500%,a\n5%,b\n10%,a\n20%,b\n", "y");
        let graph = exported(&percent, &options).proto.graph.expect("graph");
        let ors = |g: &crate::proto::GraphProto| {
            g.node
                .iter()
                .filter(|n| n.op_type.as_deref() == Some("Or"))
                .count()
        };
        assert_eq!(ors(&graph), 0);
        let plain = fitted("p,y\n500,a\n5,b\n10,a\n20,b\n", "y");
        let graph = exported(&plain, &options).proto.graph.expect("graph");
        assert_eq!(ors(&graph), 1);
        assert_eq!(
            metadata_entry(&exported(&plain, &options), "na_values"),
            r#"["5"]"#
        );
    }
}
