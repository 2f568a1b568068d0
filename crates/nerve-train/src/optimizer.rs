//! [`OptimizerConfig`]: the gradient-descent rule, built on burn's optimizers.

use crate::InvalidSetting;
use std::sync::Arc;

use burn::module::{ModuleVisitor, Param};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, RmsPropConfig};
use burn::prelude::{Device, Module, Tensor};
use burn::store::RecordError;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::fused::{AdamDecay, FusedAdam, FusedSgd, GradGauge};
use crate::global_grad_norm_squared;

/// Which update rule to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Gradient descent, `θ ← θ - α∇J(θ)` (the tutorial's rule), optionally with momentum
    /// (classical or Nesterov) and L2 weight decay.
    Sgd,
    /// Adam (Kingma & Ba, 2015), the default (as in scikit-learn's MLP).
    #[default]
    Adam,
    /// Adam with decoupled weight decay (Loshchilov & Hutter, 2019).
    AdamW,
    /// RMSprop (Hinton, 2012), optionally with momentum.
    RmsProp,
}

/// The optimizer and its hyperparameters: the `[optimizer]` table of a run config.
///
/// Defaults are PyTorch's, set explicitly where burn's own differ: Adam and AdamW ε = 1e-8
/// (burn: 1e-5); SGD momentum dampening 0 (burn: 0.1); AdamW weight decay 0.01 (burn: 1e-4);
/// RMSprop ε = 1e-8 and momentum 0 (burn: 1e-5 and 0.9). The learning rate defaults to 1e-3
/// for every rule (scikit-learn's default; PyTorch has none for SGD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    /// The update rule.
    #[serde(rename = "name")]
    pub kind: OptimizerKind,
    /// The step size α of `θ ← θ - α∇J(θ)` (the schedule's starting value).
    pub learning_rate: f64,
    /// SGD and RMSprop momentum; 0 is none.
    pub momentum: f64,
    /// SGD: Nesterov momentum instead of classical.
    pub nesterov: bool,
    /// L2 penalty on the weights (added to the gradient), or for AdamW the decoupled decay;
    /// `None` is the rule's default: 0.01 for AdamW, 0 otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Adam's β₁ (decay of the gradient's running mean).
    pub beta_1: f32,
    /// Adam's β₂ (decay of the squared gradient's running mean).
    pub beta_2: f32,
    /// Added to the denominator of Adam, AdamW and RMSprop for numerical stability.
    pub epsilon: f32,
    /// RMSprop's smoothing constant α for the squared gradient's running mean.
    pub alpha: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            learning_rate: 1e-3,
            momentum: 0.0,
            nesterov: false,
            weight_decay: None,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            alpha: 0.99,
        }
    }
}

impl OptimizerConfig {
    /// Plain or momentum SGD with PyTorch's defaults otherwise.
    pub fn sgd(learning_rate: f64, momentum: f64) -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            learning_rate,
            momentum,
            ..Self::default()
        }
    }

    /// Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8).
    pub fn adam(learning_rate: f64) -> Self {
        Self {
            kind: OptimizerKind::Adam,
            learning_rate,
            ..Self::default()
        }
    }

    /// The weight decay in effect: the configured one or the rule's default.
    pub fn effective_weight_decay(&self) -> f64 {
        self.weight_decay.unwrap_or(match self.kind {
            OptimizerKind::AdamW => 0.01,
            _ => 0.0,
        })
    }

    /// The same settings with every default spelled out, as a run records them.
    pub fn resolved(&self) -> Self {
        Self {
            weight_decay: Some(self.effective_weight_decay()),
            ..self.clone()
        }
    }

    /// Checks the hyperparameters, naming the first that is out of range.
    ///
    /// # Errors
    ///
    /// The first setting out of its range.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.problem().map_err(InvalidSetting)
    }

    /// [`OptimizerConfig::validate`]'s checks, in words.
    fn problem(&self) -> Result<(), String> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(format!(
                "`learning_rate` must be a positive number, got {}",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!(
                "`momentum` must be in [0, 1), got {}",
                self.momentum
            ));
        }
        if self.nesterov && (self.kind != OptimizerKind::Sgd || self.momentum == 0.0) {
            return Err("`nesterov` needs the sgd optimizer with a momentum above 0".to_owned());
        }
        let decay = self.effective_weight_decay();
        if !(decay.is_finite() && decay >= 0.0) {
            return Err(format!("`weight_decay` must be 0 or positive, got {decay}"));
        }
        for (name, beta) in [
            ("beta_1", self.beta_1),
            ("beta_2", self.beta_2),
            ("alpha", self.alpha),
        ] {
            if !(0.0..1.0).contains(&beta) {
                return Err(format!("`{name}` must be in [0, 1), got {beta}"));
            }
        }
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(format!("`epsilon` must be positive, got {}", self.epsilon));
        }
        Ok(())
    }

    /// Builds the optimizer: SGD, Adam and AdamW as nerve's fused steps (one pass over each
    /// parameter, the same arithmetic as burn's, see [`Optimizer`]), RMSprop as burn's own.
    /// Gradient clipping is not burn's (which clips each tensor on its own): [`Optimizer::step`]
    /// clips by the global norm.
    pub fn init(&self) -> Optimizer {
        let decay = self.effective_weight_decay();
        let gauge = Arc::new(GradGauge::default());
        let module = match self.kind {
            OptimizerKind::Sgd => ModuleOptimizer::from(FusedSgd {
                // burn's `Momentum` holds μ as f32 and multiplies by `1 − dampening` computed
                // in f64; dampening is 0 here (PyTorch's default).
                momentum: (self.momentum > 0.0).then_some((self.momentum as f32, 1.0)),
                nesterov: self.nesterov,
                weight_decay: (decay > 0.0).then_some(decay as f32),
                gauge: gauge.clone(),
            }),
            OptimizerKind::Adam | OptimizerKind::AdamW => ModuleOptimizer::from(FusedAdam {
                beta_1: self.beta_1,
                beta_2: self.beta_2,
                epsilon: self.epsilon,
                decay: match self.kind {
                    OptimizerKind::AdamW => AdamDecay::Decoupled(decay as f32),
                    // As burn's: an L2 term whenever the decay is above 0 in f64.
                    _ if decay > 0.0 => AdamDecay::L2(decay as f32),
                    _ => AdamDecay::None,
                },
                gauge: gauge.clone(),
            }),
            OptimizerKind::RmsProp => {
                let l2 = (decay > 0.0).then(|| WeightDecayConfig::new(decay as f32));
                let optimizer = RmsPropConfig::new()
                    .with_alpha(self.alpha)
                    .with_momentum(self.momentum as f32)
                    .with_epsilon(self.epsilon)
                    .with_weight_decay(l2)
                    .init();
                return Optimizer {
                    module: optimizer,
                    gauge: None,
                };
            }
        };
        Optimizer {
            module,
            gauge: Some(gauge),
        }
    }
}

/// A configured optimizer: burn's [`ModuleOptimizer`] (which keeps each parameter's state and
/// writes the record a checkpoint stores) running nerve's fused update rules where there is one
/// — SGD, Adam, AdamW: each parameter tensor updated in a single pass over its memory, in place
/// when its buffer is not shared, with the gradient's norm measured in that pass — and burn's
/// own for RMSprop. The fused rules compute burn's formulas in the same f32 operations, so the
/// parameters match burn's optimizers bit for bit; their records have burn's layout.
pub struct Optimizer {
    module: ModuleOptimizer,
    /// Shared with the fused rule: the gradient scale in, the squared gradient norm out.
    gauge: Option<Arc<GradGauge>>,
}

impl Optimizer {
    /// burn's module optimizer underneath (its record is what a checkpoint saves).
    pub fn module(&self) -> &ModuleOptimizer {
        &self.module
    }

    /// Serializes the optimizer's state (burn's burnpack bytes).
    ///
    /// # Errors
    ///
    /// burn's, when the record cannot be written.
    pub fn into_bytes(&self) -> Result<Bytes, RecordError> {
        self.module.into_bytes()
    }

    /// The same optimizer with the state from `bytes` (written by [`Optimizer::into_bytes`] or
    /// by burn's optimizer of the same rule).
    ///
    /// # Errors
    ///
    /// burn's, when the bytes are not an optimizer record.
    pub fn from_bytes(self, bytes: Bytes) -> Result<Self, RecordError> {
        Ok(Self {
            module: self.module.from_bytes(bytes)?,
            gauge: self.gauge,
        })
    }

    /// One update of `model` with `grads` at learning rate `learning_rate`, after scaling the
    /// gradients so that their global L2 norm is at most `clip_grad_norm` (scale
    /// `min(1, max / (‖g‖ + 1e-6))`, PyTorch's `clip_grad_norm_`). Returns the updated model and
    /// the squared global norm of the gradients applied (after clipping). `device` is the
    /// model's (for a model without gradients, whose norm is a zero made there).
    pub fn step<M: Module>(
        &mut self,
        learning_rate: f64,
        model: M,
        grads: GradientsParams,
        clip_grad_norm: Option<f64>,
        device: &Device,
    ) -> (M, f64) {
        let norm_squared = |model: &M, grads: &GradientsParams| {
            global_grad_norm_squared(model, grads, device).into_scalar::<f64>()
        };
        // The norm is measured twice with clipping on — here, and again by the fused pass
        // after scaling — since the scale must be known before the first parameter is updated.
        match &self.gauge {
            Some(gauge) => {
                let scale =
                    clip_grad_norm.map_or(1.0, |max| clip_scale(norm_squared(&model, &grads), max));
                gauge.begin(scale);
                let model = self.module.step(learning_rate, model, grads);
                (model, gauge.squared_norm())
            }
            None => {
                let mut grads = grads;
                let mut squared = norm_squared(&model, &grads);
                if let Some(max) = clip_grad_norm {
                    let scale = clip_scale(squared, max);
                    grads = scale_gradients(&model, grads, scale);
                    squared *= f64::from(scale) * f64::from(scale);
                }
                (self.module.step(learning_rate, model, grads), squared)
            }
        }
    }
}

/// The factor clipping multiplies every gradient by: `min(1, max / (‖g‖ + 1e-6))` as PyTorch's
/// `clip_grad_norm_` computes it, in f32 as the gradients are, from the squared global norm.
/// (Before the fused steps nerve multiplied by the reciprocal on the device, which can differ in
/// the last bit.)
pub(crate) fn clip_scale(norm_squared: f64, max_norm: f64) -> f32 {
    ((max_norm as f32) / ((norm_squared as f32).sqrt() + 1e-6)).min(1.0)
}

/// Multiplies every gradient of `model` by `scale`.
pub(crate) fn scale_gradients<M: Module>(
    model: &M,
    grads: GradientsParams,
    scale: f32,
) -> GradientsParams {
    struct Scaler {
        grads: GradientsParams,
        scale: f32,
    }
    impl ModuleVisitor for Scaler {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, grad.mul_scalar(self.scale));
            }
        }
    }
    let mut scaler = Scaler { grads, scale };
    model.visit(&mut scaler);
    scaler.grads
}

impl OptimizerKind {
    /// Every rule, in the order help texts list them.
    pub const ALL: [OptimizerKind; 4] = [
        OptimizerKind::Sgd,
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
        OptimizerKind::RmsProp,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
            OptimizerKind::RmsProp => "rmsprop",
        }
    }
}

nerve_choice::named_choice!(OptimizerKind, "optimizer");
