//! [`Graph`]: an ONNX graph under construction — nodes, constants and value names — over the
//! generated protobuf messages, so the export code reads as the computation it describes.

use crate::proto::tensor_proto::DataType;
use crate::proto::tensor_shape_proto::{Dimension, dimension};
use crate::proto::type_proto::{Tensor as TensorType, Value as TypeValue};
use crate::proto::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, attribute_proto::AttributeType,
};

/// The domain of the ONNX-ML operators (`CategoryMapper`).
pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// The symbolic batch dimension of every input and output.
pub(crate) const BATCH: &str = "N";

/// A graph being built: nodes in topological order (each wired to values made before it) and
/// constants as initializers. Every value it names starts with a prefix no input name starts
/// with, so the names are unique (ONNX's single-assignment rule).
pub(crate) struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    prefix: String,
    count: usize,
}

impl Graph {
    /// An empty graph whose own value names cannot clash with `reserved` (the input and output
    /// names).
    pub(crate) fn new<'a>(reserved: impl IntoIterator<Item = &'a str> + Clone) -> Graph {
        let mut prefix = "nerve/".to_owned();
        while reserved
            .clone()
            .into_iter()
            .any(|name| name.starts_with(&prefix))
        {
            prefix.insert(0, '_');
        }
        Graph {
            nodes: Vec::new(),
            initializers: Vec::new(),
            prefix,
            count: 0,
        }
    }

    /// A fresh value name, `hint` kept for readers of the graph (Netron, `onnx.helper`).
    fn fresh(&mut self, hint: &str) -> String {
        self.count += 1;
        format!("{}{}_{hint}", self.prefix, self.count)
    }

    /// Adds a node of the default domain with one output and returns the output's name.
    pub(crate) fn op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> String {
        let output = self.fresh(&op_type.to_ascii_lowercase());
        self.op_into(op_type, "", inputs, attributes, &output);
        output
    }

    /// Adds an `ai.onnx.ml` node with one output and returns the output's name.
    pub(crate) fn ml_op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> String {
        let output = self.fresh(&op_type.to_ascii_lowercase());
        self.op_into(op_type, ML_DOMAIN, inputs, attributes, &output);
        output
    }

    /// Adds a node whose one output is named `output` (a graph output).
    pub(crate) fn op_into(
        &mut self,
        op_type: &str,
        domain: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
        output: &str,
    ) {
        let name = format!("{}node{}_{op_type}", self.prefix, self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|&i| i.to_owned()).collect(),
            output: vec![output.to_owned()],
            name: Some(name),
            op_type: Some(op_type.to_owned()),
            domain: (!domain.is_empty()).then(|| domain.to_owned()),
            attribute: attributes,
            ..NodeProto::default()
        });
    }

    /// A constant float tensor of shape `dims`.
    pub(crate) fn f32s(&mut self, hint: &str, dims: &[usize], values: Vec<f32>) -> String {
        self.constant(hint, DataType::Float, dims, |t| t.float_data = values)
    }

    /// A constant double tensor of shape `dims`.
    pub(crate) fn f64s(&mut self, hint: &str, dims: &[usize], values: Vec<f64>) -> String {
        self.constant(hint, DataType::Double, dims, |t| t.double_data = values)
    }

    /// A constant int64 tensor of shape `dims`.
    pub(crate) fn i64s(&mut self, hint: &str, dims: &[usize], values: Vec<i64>) -> String {
        self.constant(hint, DataType::Int64, dims, |t| t.int64_data = values)
    }

    fn constant(
        &mut self,
        hint: &str,
        data_type: DataType,
        dims: &[usize],
        fill: impl FnOnce(&mut TensorProto),
    ) -> String {
        let name = self.fresh(hint);
        let mut tensor = TensorProto {
            name: Some(name.clone()),
            data_type: Some(data_type as i32),
            dims: dims.iter().map(|&d| d as i64).collect(),
            ..TensorProto::default()
        };
        fill(&mut tensor);
        self.initializers.push(tensor);
        name
    }

    /// The finished graph with its inputs and outputs.
    pub(crate) fn finish(
        self,
        name: &str,
        inputs: Vec<ValueInfoProto>,
        outputs: Vec<ValueInfoProto>,
    ) -> GraphProto {
        GraphProto {
            node: self.nodes,
            name: Some(name.to_owned()),
            initializer: self.initializers,
            input: inputs,
            output: outputs,
            ..GraphProto::default()
        }
    }
}

/// The type of a graph input or output: a tensor of `data_type` whose first dimension is the
/// batch ([`BATCH`]) and whose other dimensions are `rest`.
pub(crate) fn value_info(
    name: &str,
    data_type: DataType,
    rest: &[usize],
    doc: &str,
) -> ValueInfoProto {
    let dim = std::iter::once(Dimension {
        value: Some(dimension::Value::DimParam(BATCH.to_owned())),
        ..Dimension::default()
    })
    .chain(rest.iter().map(|&d| Dimension {
        value: Some(dimension::Value::DimValue(d as i64)),
        ..Dimension::default()
    }))
    .collect();
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorType {
                elem_type: Some(data_type as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..TypeProto::default()
        }),
        doc_string: Some(doc.to_owned()),
        ..ValueInfoProto::default()
    }
}

/// An integer attribute.
pub(crate) fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..AttributeProto::default()
    }
}

/// A float attribute.
pub(crate) fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(value),
        ..AttributeProto::default()
    }
}

/// A string attribute.
pub(crate) fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::String as i32),
        s: Some(value.as_bytes().to_vec()),
        ..AttributeProto::default()
    }
}

/// A list-of-integers attribute.
pub(crate) fn ints(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values,
        ..AttributeProto::default()
    }
}

/// A list-of-strings attribute.
pub(crate) fn strings(name: &str, values: &[String]) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Strings as i32),
        strings: values.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..AttributeProto::default()
    }
}
