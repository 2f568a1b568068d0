//! [`OptimizerConfig`]: the gradient-descent rule, built on burn's optimizers.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};
use serde::{Deserialize, Serialize};

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
    pub fn validate(&self) -> Result<(), String> {
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

    /// Builds burn's optimizer. Gradient clipping is not burn's (which clips each tensor on its
    /// own): the trainer clips by the global norm before the step.
    pub fn init(&self) -> ModuleOptimizer {
        let decay = self.effective_weight_decay();
        let l2 = (decay > 0.0).then(|| WeightDecayConfig::new(decay as f32));
        match self.kind {
            OptimizerKind::Sgd => {
                let momentum = (self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(self.nesterov)
                });
                SgdConfig::new()
                    .with_momentum(momentum)
                    .with_weight_decay(l2)
                    .init()
            }
            OptimizerKind::Adam => AdamConfig::new()
                .with_beta_1(self.beta_1)
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon)
                .with_weight_decay(l2)
                .init(),
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_beta_1(self.beta_1)
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon)
                .with_weight_decay(decay as f32)
                .init(),
            OptimizerKind::RmsProp => RmsPropConfig::new()
                .with_alpha(self.alpha)
                .with_momentum(self.momentum as f32)
                .with_epsilon(self.epsilon)
                .with_weight_decay(l2)
                .init(),
        }
    }
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
