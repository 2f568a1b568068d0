//! [`Initializer`]: how the weights of each layer are drawn before training.

use serde::{Deserialize, Serialize};

/// How the weights of each linear layer are initialised.
///
/// With [`Initializer::Pytorch`] the biases are drawn like the weights, exactly as PyTorch's
/// `nn.Linear` does; every other scheme starts the biases at zero, as Keras does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Initializer {
    /// PyTorch's `nn.Linear` default: Kaiming-uniform with gain `1/√3`, i.e. `U(±1/√d_input)`.
    #[default]
    Pytorch,
    /// He (Kaiming) uniform for ReLU networks: `U(±√(6/d_input))`.
    KaimingUniform,
    /// He (Kaiming) normal for ReLU networks: `N(0, 2/d_input)`.
    KaimingNormal,
    /// Glorot (Xavier) uniform: `U(±√(6/(d_input + d_output)))`.
    XavierUniform,
    /// Glorot (Xavier) normal: `N(0, 2/(d_input + d_output))`.
    XavierNormal,
}

impl Initializer {
    /// Every initializer, in the order listed in help texts.
    pub const ALL: [Initializer; 5] = [
        Initializer::Pytorch,
        Initializer::KaimingUniform,
        Initializer::KaimingNormal,
        Initializer::XavierUniform,
        Initializer::XavierNormal,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Initializer::Pytorch => "pytorch",
            Initializer::KaimingUniform => "kaiming-uniform",
            Initializer::KaimingNormal => "kaiming-normal",
            Initializer::XavierUniform => "xavier-uniform",
            Initializer::XavierNormal => "xavier-normal",
        }
    }

    /// burn's initializers for the weight and the bias of one layer (`None`: the bias is drawn
    /// like the weight).
    pub(crate) fn to_burn(self) -> (burn::nn::Initializer, Option<burn::nn::Initializer>) {
        use burn::nn::Initializer as Burn;
        // Gain √2 is the ReLU gain of He et al. (2015); with `fan_out_only: false` burn uses the
        // fan-in, as PyTorch's `kaiming_*_(mode="fan_in")` does.
        let sqrt2 = std::f64::consts::SQRT_2;
        match self {
            Initializer::Pytorch => (
                Burn::KaimingUniform {
                    gain: 1.0 / 3f64.sqrt(),
                    fan_out_only: false,
                },
                None,
            ),
            Initializer::KaimingUniform => (
                Burn::KaimingUniform {
                    gain: sqrt2,
                    fan_out_only: false,
                },
                Some(Burn::Zeros),
            ),
            Initializer::KaimingNormal => (
                Burn::KaimingNormal {
                    gain: sqrt2,
                    fan_out_only: false,
                },
                Some(Burn::Zeros),
            ),
            Initializer::XavierUniform => (Burn::XavierUniform { gain: 1.0 }, Some(Burn::Zeros)),
            Initializer::XavierNormal => (Burn::XavierNormal { gain: 1.0 }, Some(Burn::Zeros)),
        }
    }
}

nerve_choice::named_choice!(Initializer, "initializer");
