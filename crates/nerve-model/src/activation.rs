//! [`Activation`]: the non-linearity applied after each hidden layer.

use burn::prelude::Tensor;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

/// The activation function applied element-wise after every hidden layer.
///
/// The output layer has none: it produces raw values for regression and logits for
/// classification, which the losses turn into probabilities themselves (numerically stably).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, x)`, the tutorial's choice.
    #[default]
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// The Gaussian error linear unit, exact (erf) form as in PyTorch's default.
    Gelu,
    /// `x` for `x > 0`, else `0.01 x` (PyTorch's default negative slope).
    LeakyRelu,
}

impl Activation {
    /// Every activation, in the order listed in help texts.
    pub const ALL: [Activation; 5] = [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::LeakyRelu,
    ];

    /// The slope for negative inputs of [`Activation::LeakyRelu`].
    pub const LEAKY_RELU_SLOPE: f64 = 0.01;

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::LeakyRelu => "leaky-relu",
        }
    }

    /// Applies the activation element-wise.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Sigmoid => activation::sigmoid(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Gelu => activation::gelu(x),
            Activation::LeakyRelu => activation::leaky_relu(x, Self::LEAKY_RELU_SLOPE),
        }
    }
}

nerve_choice::named_choice!(Activation, "activation");

#[cfg(test)]
mod tests {
    use crate::{Activation, Initializer};

    #[test]
    fn names_parse_forgivingly_and_errors_list_the_choices() {
        for activation in Activation::ALL {
            assert_eq!(activation.name().parse::<Activation>(), Ok(activation));
        }
        assert_eq!(
            " Leaky_ReLU ".parse::<Activation>(),
            Ok(Activation::LeakyRelu)
        );
        assert_eq!(
            "KAIMING_UNIFORM".parse::<Initializer>(),
            Ok(Initializer::KaimingUniform)
        );
        assert_eq!(
            "swish".parse::<Activation>().unwrap_err(),
            "unknown activation `swish`; expected one of relu, sigmoid, tanh, gelu, leaky-relu"
        );
        assert!(
            "he".parse::<Initializer>()
                .unwrap_err()
                .starts_with("unknown initializer `he`; expected one of pytorch, kaiming-uniform")
        );
    }
}
