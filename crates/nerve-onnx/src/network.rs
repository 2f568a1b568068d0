//! The network as `Gemm` + activation per layer, and the head that turns its outputs into
//! what `nerve predict` answers: probabilities and class names, or values in the target's units.

use nerve_model::{Activation, Mlp};

use crate::export::{ExportError, Head};
use crate::graph::{Graph, float, int, ints, strings};
use crate::proto::tensor_proto::DataType;

/// Wires the layers onto `x` (`float [N, d_input]`) and returns the output layer's
/// `float [N, d_output]`. Weights are `[d_in, d_out]` as nerve stores them, so `Gemm` takes
/// them untransposed; dropout is off, as in inference.
pub(crate) fn wire_network(
    graph: &mut Graph,
    model: &Mlp,
    x: String,
) -> Result<String, ExportError> {
    let layers = model.layers();
    let last = layers.len() - 1;
    let activation = model.config().activation;
    let mut x = x;
    for (i, layer) in layers.iter().enumerate() {
        let weight = layer.weight.val();
        let [d_in, d_out] = weight.dims();
        let weight = host_values(weight.into_data(), i)?;
        let bias = match &layer.bias {
            Some(bias) => host_values(bias.val().into_data(), i)?,
            None => vec![0.0; d_out],
        };
        let w = graph.f32s(&format!("layers.{i}.weight"), &[d_in, d_out], weight);
        let b = graph.f32s(&format!("layers.{i}.bias"), &[d_out], bias);
        x = graph.op("Gemm", &[&x, &w, &b], vec![]);
        if i < last {
            x = wire_activation(graph, activation, &x);
        }
    }
    Ok(x)
}

fn host_values(data: burn::prelude::TensorData, layer: usize) -> Result<Vec<f32>, ExportError> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|err| ExportError::Weights {
            layer,
            message: format!("{err:?}"),
        })
}

/// One activation, as burn computes it: GELU is the exact (erf) form,
/// `x · ½ · (1 + erf(x / √2))`, written out because `Gelu` is an operator only from opset 20;
/// leaky ReLU's slope is [`Activation::LEAKY_RELU_SLOPE`].
fn wire_activation(graph: &mut Graph, activation: Activation, x: &str) -> String {
    match activation {
        Activation::Relu => graph.op("Relu", &[x], vec![]),
        Activation::Sigmoid => graph.op("Sigmoid", &[x], vec![]),
        Activation::Tanh => graph.op("Tanh", &[x], vec![]),
        Activation::LeakyRelu => graph.op(
            "LeakyRelu",
            &[x],
            vec![float("alpha", Activation::LEAKY_RELU_SLOPE as f32)],
        ),
        Activation::Gelu => {
            let root_half = graph.f32s("frac_1_sqrt_2", &[], vec![std::f32::consts::FRAC_1_SQRT_2]);
            let scaled = graph.op("Mul", &[x, &root_half], vec![]);
            let erf = graph.op("Erf", &[&scaled], vec![]);
            let one = graph.f32s("one", &[], vec![1.0]);
            let shifted = graph.op("Add", &[&erf, &one], vec![]);
            let product = graph.op("Mul", &[x, &shifted], vec![]);
            let half = graph.f32s("half", &[], vec![0.5]);
            graph.op("Mul", &[&product, &half], vec![])
        }
    }
}

/// Wires the outputs from the network's `logits`: `prediction` (class names, or values) and,
/// for a classifier, `probabilities` ([`nerve_loss::Loss::probabilities`]). The class is the
/// first most probable (`ArgMax`, as `nerve_train::predicted_class`), or with a threshold the
/// second class when its probability is at least it (compared in f32).
pub(crate) fn wire_head(
    graph: &mut Graph,
    head: &Head,
    logits: &str,
    threshold: Option<f32>,
    labels: Option<&[String]>,
    prediction: &str,
    probabilities: Option<&str>,
) {
    // Every classifier head has a probabilities output (to_onnx names it); the name here is
    // only the fallback of a caller that gave none.
    let probs_name = probabilities.unwrap_or("probabilities");
    match head {
        Head::Values { scale, offset } => {
            let output = graph.op("Cast", &[logits], vec![int("to", DataType::Double as i64)]);
            let scale = graph.f64s("target_scale", &[], vec![*scale]);
            let scaled = graph.op("Mul", &[&output, &scale], vec![]);
            let offset = graph.f64s("target_offset", &[], vec![*offset]);
            let value = graph.op("Add", &[&scaled, &offset], vec![]);
            let axes = graph.i64s("axis1", &[1], vec![1]);
            graph.op_into("Squeeze", "", &[&value, &axes], vec![], prediction);
            return;
        }
        Head::Softmax => {
            graph.op_into("Softmax", "", &[logits], vec![int("axis", 1)], probs_name);
        }
        Head::Sigmoid => {
            let p = graph.op("Sigmoid", &[logits], vec![]);
            let one = graph.f32s("one", &[], vec![1.0]);
            let q = graph.op("Sub", &[&one, &p], vec![]);
            graph.op_into("Concat", "", &[&q, &p], vec![int("axis", 1)], probs_name);
        }
    }
    let class = match threshold {
        Some(t) => {
            let second = graph.i64s("second_class", &[], vec![1]);
            let p = graph.op("Gather", &[probs_name, &second], vec![int("axis", 1)]);
            let t = graph.f32s("threshold", &[], vec![t]);
            let at_least = graph.op("GreaterOrEqual", &[&p, &t], vec![]);
            // `Where` rather than a `Cast` to int64, which tract types as a dimension.
            let first = graph.i64s("first_class", &[], vec![0]);
            graph.op("Where", &[&at_least, &second, &first], vec![])
        }
        None => graph.op(
            "ArgMax",
            &[probs_name],
            vec![int("axis", 1), int("keepdims", 0)],
        ),
    };
    let labels = labels.unwrap_or_default();
    graph.op_into(
        "CategoryMapper",
        crate::graph::ML_DOMAIN,
        &[&class],
        vec![
            ints("cats_int64s", (0..labels.len() as i64).collect()),
            strings("cats_strings", labels),
            crate::graph::string("default_string", ""),
        ],
        prediction,
    );
}
