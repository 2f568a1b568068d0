//! [`MlpConfig`] and the [`Mlp`] it builds.

use std::fmt::Write as _;

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::{Device, Module, Tensor};
use serde::{Deserialize, Serialize};

use crate::spiking::{InputRange, NeuronParams, SpikingConfig};
use crate::{Activation, Initializer};

/// Describes a feed-forward network: `d_input -> d_hidden[0] -> ... -> d_output`.
///
/// Every hidden layer is a linear layer followed by [`activation`](Self::activation) and, while
/// training, dropout. The output layer is linear only. This is the single source of truth for
/// the architecture: the TOML `[model]` table, the CLI flags and a saved model all hold one.
///
/// A width of 0 means "not decided yet": a run config leaves `d_input` and `d_output` to the
/// data, so they are 0 there and left out of its text; [`validate`](Self::validate) refuses a
/// network with a zero width. Fields left out of a table take [`MlpConfig::default`]'s values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// Number of input features.
    #[serde(skip_serializing_if = "undecided")]
    pub d_input: usize,
    /// Width of each hidden layer, first to last; empty for a linear model.
    pub d_hidden: Vec<usize>,
    /// Number of outputs (one per target column, or one logit per class).
    #[serde(skip_serializing_if = "undecided")]
    pub d_output: usize,
    /// Activation after each hidden layer.
    pub activation: Activation,
    /// Probability of zeroing a hidden unit while training, in `[0, 1)`; 0 turns dropout off.
    pub dropout: f64,
    /// How weights and biases are drawn before training.
    pub initializer: Initializer,
    /// A spiking network's neurons, time steps and coding; `None` for a rate network (units
    /// with [`activation`](Self::activation)). A spiking network ignores `activation`: its
    /// hidden units are the neurons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spiking: Option<SpikingConfig>,
}

/// Whether a width is still to be decided (0).
fn undecided(width: &usize) -> bool {
    *width == 0
}

impl Default for MlpConfig {
    /// scikit-learn's `MLPClassifier` default: one hidden layer of 100 ReLU units; the widths
    /// of the input and output undecided (0) until the data sets them ([`MlpConfig::with_widths`]).
    fn default() -> Self {
        Self::new(0, vec![100], 0)
    }
}

/// A configuration that cannot describe a network.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A layer width of zero.
    #[error("`{field}` must be at least 1, got 0")]
    ZeroWidth {
        /// The field holding the zero (`d_input`, `d_output` or `d_hidden[i]`).
        field: String,
    },
    /// A dropout probability outside `[0, 1)`.
    #[error("`dropout` must be in [0, 1), got {0}")]
    Dropout(f64),
    /// Spiking settings that cannot describe a network (the message names the field).
    #[error("[spiking] {0}")]
    Spiking(String),
    /// More parameters than [`MlpConfig::MAX_PARAMS`]: surely a typo in a layer width.
    #[error(
        "the network would have {params} parameters, more than the {max} nerve allows; check the layer widths"
    )]
    TooLarge {
        /// The parameter count the widths imply.
        params: u128,
        /// [`MlpConfig::MAX_PARAMS`].
        max: u128,
    },
    /// Parameters given to [`Mlp::from_parameters`] that do not fit the configuration.
    #[error("parameter `{name}` has shape {found:?}, but the architecture needs {expected:?}")]
    ShapeMismatch {
        /// The parameter's name, e.g. `layers.0.weight`.
        name: String,
        /// The shape the configuration implies.
        expected: Vec<usize>,
        /// The shape that was given.
        found: Vec<usize>,
    },
    /// A different number of layers than the configuration implies.
    #[error("the architecture has {expected} layers, but parameters for {found} were given")]
    LayerCount {
        /// Layers in the configuration.
        expected: usize,
        /// Layers given.
        found: usize,
    },
    /// A model file that could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error (the error's `source`, so a report prints it once).
        source: std::io::Error,
    },
    /// A file that is not a nerve model file (not safetensors, truncated, no nerve metadata,
    /// tensors missing or of the wrong shape).
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A model file written by a newer nerve, in a format this one does not know.
    #[error(
        "{path} was written by a newer nerve (model format {found}; this nerve {version} reads format {supported} and older); upgrade nerve to use it"
    )]
    NewerFormat {
        /// The file.
        path: String,
        /// The file's format version.
        found: u64,
        /// The newest format this build reads.
        supported: u64,
        /// This nerve's version.
        version: &'static str,
    },
}

impl MlpConfig {
    /// The largest network [`validate`](Self::validate) accepts: 2³¹ parameters, 8 GiB of
    /// float32 weights before gradients and optimizer state.
    pub const MAX_PARAMS: u128 = 1 << 31;

    /// A network with ReLU hidden layers, no dropout and PyTorch's initialisation.
    pub fn new(d_input: usize, d_hidden: Vec<usize>, d_output: usize) -> Self {
        Self {
            d_input,
            d_hidden,
            d_output,
            activation: Activation::default(),
            dropout: 0.0,
            initializer: Initializer::default(),
            spiking: None,
        }
    }

    /// Sets the input and output widths (the data's feature count and target width).
    pub fn with_widths(mut self, d_input: usize, d_output: usize) -> Self {
        self.d_input = d_input;
        self.d_output = d_output;
        self
    }

    /// Sets the hidden-layer activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets the dropout probability.
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets the initializer.
    pub fn with_initializer(mut self, initializer: Initializer) -> Self {
        self.initializer = initializer;
        self
    }

    /// Makes the network spiking (`Some`) or a rate network (`None`).
    pub fn with_spiking(mut self, spiking: Option<SpikingConfig>) -> Self {
        self.spiking = spiking;
        self
    }

    /// Checks that the configuration describes a network: no zero widths, dropout in `[0, 1)`.
    pub fn validate(&self) -> Result<(), ModelError> {
        let zero = |field: String| Err(ModelError::ZeroWidth { field });
        if self.d_input == 0 {
            return zero("d_input".into());
        }
        if let Some(i) = self.d_hidden.iter().position(|&d| d == 0) {
            return zero(format!("d_hidden[{i}]"));
        }
        if self.d_output == 0 {
            return zero("d_output".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelError::Dropout(self.dropout));
        }
        if let Some(problem) = self.spiking.as_ref().and_then(SpikingConfig::problem) {
            return Err(ModelError::Spiking(problem));
        }
        // Counted in u128 so that absurd widths cannot overflow the count itself.
        let params: u128 = self
            .layer_dims()
            .iter()
            .map(|&(i, o)| (i as u128) * (o as u128) + o as u128)
            .sum();
        if params > Self::MAX_PARAMS {
            return Err(ModelError::TooLarge {
                params,
                max: Self::MAX_PARAMS,
            });
        }
        Ok(())
    }

    /// The `(d_input, d_output)` of every linear layer, first to last.
    pub fn layer_dims(&self) -> Vec<(usize, usize)> {
        let widths: Vec<usize> = std::iter::once(self.d_input)
            .chain(self.d_hidden.iter().copied())
            .chain(std::iter::once(self.d_output))
            .collect();
        widths.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// The number of trainable parameters of the network: weights and biases, and a spiking
    /// network's learned `β` and `θ` (one per layer each).
    pub fn num_params(&self) -> usize {
        let layers = self.layer_dims();
        let neurons = self.spiking.as_ref().map_or(0, |s| {
            layers.len() * (usize::from(s.learn_beta) + usize::from(s.learn_threshold))
        });
        layers.iter().map(|(i, o)| i * o + o).sum::<usize>() + neurons
    }

    /// Builds the network on `device`, its parameters drawn by the configured initializer.
    ///
    /// Parameters are materialised lazily, on first use, from the device's seeded generator.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid; call [`validate`](Self::validate) first on anything a
    /// user wrote.
    pub fn init(&self, device: &Device) -> Mlp {
        self.assert_valid();
        let (weight_init, bias_init) = self.initializer.to_burn();
        let layers = self
            .layer_dims()
            .into_iter()
            .map(|(d_in, d_out)| {
                let mut layer = LinearConfig::new(d_in, d_out)
                    .with_initializer(weight_init.clone())
                    .init(device);
                if let Some(bias_init) = &bias_init {
                    layer.bias = Some(bias_init.init([d_out], device));
                }
                layer
            })
            .collect();
        self.assemble(layers, device)
    }

    fn assert_valid(&self) {
        if let Err(err) = self.validate() {
            panic!("invalid MlpConfig: {err}");
        }
    }

    fn assemble(&self, layers: Vec<Linear>, device: &Device) -> Mlp {
        let neurons = match &self.spiking {
            Some(spiking) => layers
                .iter()
                .map(|_| NeuronParams::new(spiking, device))
                .collect(),
            None => Vec::new(),
        };
        Mlp {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
            neurons,
            encoder: None,
            config: self.clone(),
        }
    }
}

/// A feed-forward network built by [`MlpConfig::init`].
///
/// Its linear layers are stored as `layers.{i}` (i from 0 at the first hidden layer), each with a
/// `weight` of shape `[d_input, d_output]` (burn's layout, the transpose of PyTorch's) and a
/// `bias` of shape `[d_output]`.
///
/// A spiking network also has `neurons.{i}` (each layer's `β`, `θ` and, synaptic, `α`; shape
/// `[1]`) and, when its encoding maps features to probabilities, `encoder.low` / `encoder.high`
/// (the training rows' range, `[d_input]`).
#[derive(Module, Debug)]
pub struct Mlp {
    pub(crate) layers: Vec<Linear>,
    pub(crate) dropout: Dropout,
    pub(crate) neurons: Vec<NeuronParams>,
    pub(crate) encoder: Option<InputRange>,
    #[module(skip)]
    pub(crate) config: MlpConfig,
}

impl Mlp {
    /// Builds a network from given parameters: one `(weight [d_input, d_output], bias
    /// [d_output])` pair per layer, first to last. The tensors' device becomes the model's.
    pub fn from_parameters(
        config: &MlpConfig,
        parameters: Vec<(Tensor<2>, Tensor<1>)>,
    ) -> Result<Mlp, ModelError> {
        config.validate()?;
        let dims = config.layer_dims();
        if dims.len() != parameters.len() {
            return Err(ModelError::LayerCount {
                expected: dims.len(),
                found: parameters.len(),
            });
        }
        let Some(device) = parameters.first().map(|(weight, _)| weight.device()) else {
            return Err(ModelError::LayerCount {
                expected: dims.len(),
                found: 0,
            });
        };
        let mut layers = Vec::with_capacity(dims.len());
        for (i, ((d_in, d_out), (weight, bias))) in dims.into_iter().zip(parameters).enumerate() {
            check_shape(format!("layers.{i}.weight"), &[d_in, d_out], &weight.dims())?;
            check_shape(format!("layers.{i}.bias"), &[d_out], &bias.dims())?;
            layers.push(Linear {
                weight: Param::from_tensor(weight),
                bias: Some(Param::from_tensor(bias)),
            });
        }
        Ok(config.assemble(layers, &device))
    }

    /// The ids of the parameters, in the module's order: `layers.0.weight`, `layers.0.bias`,
    /// `layers.1.weight`, ..., then a spiking network's `neurons.{i}` and `encoder`. An optimizer
    /// keys its state by these ids, so a checkpoint records them.
    pub fn param_ids(&self) -> Vec<u64> {
        struct Ids(Vec<u64>);
        impl ModuleVisitor for Ids {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.id.val());
            }
        }
        let mut ids = Ids(Vec::new());
        self.visit(&mut ids);
        ids.0
    }

    /// The same network with the parameter ids `ids` (as [`Mlp::param_ids`] lists them), so
    /// an optimizer's saved state applies to it again.
    pub fn with_param_ids(self, ids: &[u64]) -> Result<Mlp, ModelError> {
        struct SetIds<'a>(std::slice::Iter<'a, u64>);
        impl ModuleMapper for SetIds<'_> {
            fn map_float<const D: usize>(
                &mut self,
                mut param: Param<Tensor<D>>,
            ) -> Param<Tensor<D>> {
                if let Some(&id) = self.0.next() {
                    param.id = ParamId::from(id);
                }
                param
            }
        }
        let expected = self.param_ids().len();
        if ids.len() != expected {
            return Err(ModelError::LayerCount {
                expected,
                found: ids.len(),
            });
        }
        Ok(self.map(&mut SetIds(ids.iter())))
    }

    /// The same spiking network with the training rows' range of each input, which the rate
    /// and latency encodings map features to probabilities by (`encoder.low`, `encoder.high`).
    /// A rate network ignores it.
    pub fn with_input_range(mut self, range: InputRange) -> Self {
        if self.config.spiking.is_some() {
            self.encoder = Some(range);
        }
        self
    }

    /// The input range set by [`with_input_range`](Self::with_input_range), if any.
    pub fn input_range(&self) -> Option<&InputRange> {
        self.encoder.as_ref()
    }

    /// Whether the outputs have a gradient with respect to the inputs (what input attributions
    /// need): every network but a latency-coded spiking one, whose inputs become spike times.
    pub fn has_input_gradients(&self) -> bool {
        self.config
            .spiking
            .as_ref()
            .is_none_or(|s| s.encoding != crate::spiking::Encoding::Latency)
    }

    /// Whether this is a spiking network.
    pub fn is_spiking(&self) -> bool {
        self.config.spiking.is_some()
    }

    /// The configuration this network was built from.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The linear layers, first to last.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// The same network with its output layer's weights and bias multiplied by `factor`, so
    /// that its outputs (a rate network's logits) are multiplied by it: temperature scaling
    /// with `factor = 1 / T` (Guo et al. 2017) as a plain network, with no extra operation.
    ///
    /// # Panics
    ///
    /// For a spiking network, whose readout is not linear in its output layer.
    pub fn with_output_scaled(mut self, factor: f64) -> Mlp {
        assert!(
            !self.is_spiking(),
            "a spiking readout is not linear in its weights"
        );
        let output = self
            .layers
            .last_mut()
            .expect("an Mlp always has an output layer");
        output.weight = output.weight.clone().map(|w| w.mul_scalar(factor));
        if let Some(bias) = output.bias.take() {
            output.bias = Some(bias.map(|b| b.mul_scalar(factor)));
        }
        self
    }

    /// The forward pass: hidden layers with activation (and dropout while training), then the
    /// linear output layer.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch_size, d_input]`
    /// - output: `[batch_size, d_output]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        if let Some(spiking) = &self.config.spiking {
            return self.forward_spiking(x, spiking, None);
        }
        let (output, hidden) = self
            .layers
            .split_last()
            .expect("an Mlp always has an output layer");
        let activation = self.config.activation;
        let x = hidden.iter().fold(x, |x, layer| {
            self.dropout.forward(activation.forward(layer.forward(x)))
        });
        output.forward(x)
    }

    /// The hidden layers' pre-activations (`z = x W + b`, before the activation), first to
    /// last, with dropout off: what [`LayerActivity`](crate::LayerActivity) summarises.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch_size, d_input]`
    /// - one result per hidden layer `i`: `[batch_size, d_hidden[i]]`
    pub fn hidden_pre_activations(&self, x: Tensor<2>) -> Vec<Tensor<2>> {
        let hidden = &self.layers[..self.layers.len() - 1];
        let activation = self.config.activation;
        let mut result = Vec::with_capacity(hidden.len());
        let mut x = x;
        for layer in hidden {
            let z = layer.forward(x);
            x = activation.forward(z.clone());
            result.push(z);
        }
        result
    }

    /// A readable description: the architecture, then each layer with its parameter count.
    ///
    /// ```text
    /// Mlp 4 -> 5 (relu) -> 1, 31 parameters
    ///   layers.0  Linear 4 -> 5, relu   25 parameters
    ///   layers.1  Linear 5 -> 1          6 parameters
    /// ```
    ///
    /// A spiking network names its neurons instead of the activation, and its time steps:
    ///
    /// ```text
    /// Spiking Mlp 4 -> 5 (lif) -> 1, 25 time steps, direct coding, mean-membrane readout, 31 parameters
    /// ```
    pub fn summary(&self) -> String {
        let config = &self.config;
        let unit = match &config.spiking {
            Some(spiking) => spiking.neuron.to_string(),
            None => config.activation.to_string(),
        };
        let hidden: String = config
            .d_hidden
            .iter()
            .map(|d| format!(" -> {d} ({unit})"))
            .collect();
        let mut out = match &config.spiking {
            Some(s) => format!(
                "Spiking Mlp {}{hidden} -> {}, {} time step{}, {} coding, {} readout, {} parameters",
                config.d_input,
                config.d_output,
                s.time_steps,
                if s.time_steps == 1 { "" } else { "s" },
                s.encoding,
                s.readout,
                config.num_params()
            ),
            None => format!(
                "Mlp {}{hidden} -> {}, {} parameters",
                config.d_input,
                config.d_output,
                config.num_params()
            ),
        };
        if config.dropout > 0.0 {
            let _ = write!(out, ", dropout {}", config.dropout);
        }
        if let Some(s) = &config.spiking {
            // Learned values are read from the network (per layer), not the configuration.
            let learned = |values: Vec<f64>| -> String {
                let values: Vec<String> = values.into_iter().map(short).collect();
                format!("learned, per layer {}", values.join(" / "))
            };
            let neurons = self.neurons();
            // Each parameter holds one value (shape [1]).
            let read = |t: &Tensor<1>| -> f64 { f64::from(crate::activity::read(t.clone())[0]) };
            let beta = if s.learn_beta {
                // What acts is β clamped to [0, 1].
                learned(
                    neurons
                        .iter()
                        .map(|n| read(&n.beta).clamp(0.0, 1.0))
                        .collect(),
                )
            } else {
                short(s.beta)
            };
            let threshold = if s.learn_threshold {
                learned(neurons.iter().map(|n| read(&n.threshold)).collect())
            } else {
                short(s.threshold)
            };
            let _ = write!(
                out,
                "\n  neurons: {}, beta {beta}, threshold {threshold}, reset by {}{}",
                s.neuron,
                s.reset,
                if s.neuron == crate::spiking::Neuron::Synaptic {
                    format!(", synaptic alpha {}", short(s.alpha))
                } else {
                    String::new()
                },
            );
            let _ = write!(
                out,
                "\n  surrogate gradient: {} (slope {}){}",
                s.surrogate,
                short(s.slope()),
                if s.detach_reset {
                    ", reset detached"
                } else {
                    ", through the reset"
                }
            );
        }

        let dims = config.layer_dims();
        let rows: Vec<(String, String, usize)> = dims
            .iter()
            .enumerate()
            .map(|(i, &(d_in, d_out))| {
                let act = if i + 1 < dims.len() {
                    format!(", {unit}")
                } else if config.spiking.is_some() {
                    ", readout".to_owned()
                } else {
                    String::new()
                };
                (
                    format!("layers.{i}"),
                    format!("Linear {d_in} -> {d_out}{act}"),
                    d_in * d_out + d_out,
                )
            })
            .collect();
        let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let desc_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        let count_width = rows
            .iter()
            .map(|r| r.2.to_string().len())
            .max()
            .unwrap_or(0);
        for (name, desc, count) in rows {
            let _ = write!(
                out,
                "\n  {name:<name_width$}  {desc:<desc_width$}  {count:>count_width$} parameters"
            );
        }
        out
    }
}

/// A number in at most four significant digits (`0.9`, `1.234e9`), for the summary.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let magnitude = v.abs();
    if !(1e-3..1e6).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn check_shape(name: String, expected: &[usize], found: &[usize]) -> Result<(), ModelError> {
    if expected == found {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            name,
            expected: expected.to_vec(),
            found: found.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::TensorData;
    use nerve_backend::BackendKind;

    fn device() -> Device {
        BackendKind::default()
            .device()
            .expect("a compiled-in backend")
    }

    #[test]
    fn layer_dims_and_parameter_count() {
        let config = MlpConfig::new(4, vec![8, 3], 2);
        assert_eq!(config.layer_dims(), vec![(4, 8), (8, 3), (3, 2)]);
        assert_eq!(config.num_params(), 4 * 8 + 8 + 8 * 3 + 3 + 3 * 2 + 2);
        let mlp = config.init(&device());
        assert_eq!(mlp.num_params(), config.num_params());
        assert_eq!(mlp.layers()[0].weight.dims(), [4, 8]);
    }

    /// Scaling the output layer scales the outputs (the logits), on every backend.
    #[test]
    fn scaling_the_output_layer_scales_the_outputs() {
        for kind in BackendKind::available() {
            let device = kind.device().expect("compiled in");
            let mlp = MlpConfig::new(3, vec![4], 2).init(&device);
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![0.5f32, -1.0, 2.0, 0.1, 0.2, -0.3], [2, 3]),
                &device,
            );
            let before = mlp
                .forward(x.clone())
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            let after = mlp
                .with_output_scaled(0.25)
                .forward(x)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            for (b, a) in before.iter().zip(&after) {
                assert!((a - 0.25 * b).abs() < 1e-6, "{kind}: {a} vs {b} / 4");
            }
        }
    }

    #[test]
    fn no_hidden_layer_is_a_linear_model() {
        let config = MlpConfig::new(3, vec![], 1);
        assert_eq!(config.layer_dims(), vec![(3, 1)]);
        let mlp = config.init(&device());
        assert_eq!(mlp.forward(Tensor::zeros([2, 3], &device())).dims(), [2, 1]);
    }

    #[test]
    fn validate_names_the_bad_field() {
        let err = MlpConfig::new(4, vec![5, 0], 1).validate().unwrap_err();
        assert_eq!(err.to_string(), "`d_hidden[1]` must be at least 1, got 0");
        let err = MlpConfig::new(4, vec![5], 1)
            .with_dropout(1.0)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("dropout"));
        let err = MlpConfig::new(4, vec![usize::MAX / 2, 3], 1)
            .validate()
            .unwrap_err();
        assert!(matches!(err, ModelError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn forward_matches_hand_computation() {
        let device = device();
        // y = relu(x W1 + b1) W2 + b2 with W stored [in, out].
        let w1 = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, -1.0, 2.0, 0.5], [2, 2]),
            &device,
        );
        let b1 = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 1.0], [2]), &device);
        let w2 = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 3.0], [2, 1]), &device);
        let b2 = Tensor::<1>::from_data(TensorData::new(vec![-0.5f32], [1]), &device);
        let config = MlpConfig::new(2, vec![2], 1);
        let mlp = Mlp::from_parameters(&config, vec![(w1, b1), (w2, b2)]).expect("shapes fit");
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [1, 2]), &device);
        // hidden = relu([1*1 + 1*2 + 0, 1*-1 + 1*0.5 + 1]) = [3, 0.5]; out = 3 + 1.5 - 0.5 = 4.
        let out = mlp.forward(x).into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(out, vec![4.0]);
    }

    #[test]
    fn from_parameters_rejects_wrong_shapes() {
        let device = device();
        let config = MlpConfig::new(2, vec![], 1);
        let err = Mlp::from_parameters(
            &config,
            vec![(Tensor::zeros([1, 2], &device), Tensor::zeros([1], &device))],
        )
        .unwrap_err();
        assert!(
            matches!(
                &err,
                ModelError::ShapeMismatch { name, expected, found }
                    if name == "layers.0.weight" && *expected == [2, 1] && *found == [1, 2]
            ),
            "{err}"
        );
    }

    #[test]
    fn every_activation_and_initializer_builds_and_runs() {
        let device = device();
        for activation in Activation::ALL {
            for initializer in Initializer::ALL {
                let mlp = MlpConfig::new(3, vec![4], 2)
                    .with_activation(activation)
                    .with_initializer(initializer)
                    .init(&device);
                let out = mlp.forward(Tensor::ones([5, 3], &device));
                let values = out.into_data().try_to_vec::<f32>().expect("f32");
                assert!(
                    values.iter().all(|v| v.is_finite()),
                    "{activation} {initializer}"
                );
            }
        }
    }

    #[test]
    fn summary_lists_layers() {
        let summary = MlpConfig::new(4, vec![5], 1).init(&device()).summary();
        assert!(
            summary.starts_with("Mlp 4 -> 5 (relu) -> 1, 31 parameters"),
            "{summary}"
        );
        assert!(
            summary.contains("layers.0  Linear 4 -> 5, relu  25 parameters"),
            "{summary}"
        );
        assert!(
            summary.contains("layers.1  Linear 5 -> 1         6 parameters"),
            "{summary}"
        );
    }
}
