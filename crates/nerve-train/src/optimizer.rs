//! [`OptimizerConfig`]: the gradient-descent rule, built on burn's optimizers.

use std::fmt;
use std::str::FromStr;

use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// Which update rule to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Gradient descent, `θ ← θ - α∇J(θ)` (the tutorial's rule), optionally with momentum.
    Sgd,
    /// Adam (Kingma & Ba, 2015), the default (as in scikit-learn's MLP).
    #[default]
    Adam,
}

/// The optimizer and its hyperparameters. Defaults are PyTorch's, set explicitly where burn's
/// own defaults differ (burn: Adam ε = 1e-5, momentum dampening 0.1; PyTorch: 1e-8 and 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    /// The update rule.
    #[serde(rename = "name")]
    pub kind: OptimizerKind,
    /// SGD momentum; 0 is plain gradient descent.
    pub momentum: f64,
    /// Adam's β₁ (decay of the gradient's running mean).
    pub beta_1: f32,
    /// Adam's β₂ (decay of the squared gradient's running mean).
    pub beta_2: f32,
    /// Adam's ε (added to the denominator for numerical stability).
    pub epsilon: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            momentum: 0.0,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        }
    }
}

impl OptimizerConfig {
    /// Plain or momentum SGD with PyTorch's defaults otherwise.
    pub fn sgd(momentum: f64) -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            momentum,
            ..Self::default()
        }
    }

    /// Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8).
    pub fn adam() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            ..Self::default()
        }
    }

    /// Checks the hyperparameters, naming the first that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!(
                "`momentum` must be in [0, 1), got {}",
                self.momentum
            ));
        }
        for (name, beta) in [("beta_1", self.beta_1), ("beta_2", self.beta_2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(format!("`{name}` must be in [0, 1), got {beta}"));
            }
        }
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(format!("`epsilon` must be positive, got {}", self.epsilon));
        }
        Ok(())
    }

    /// Builds burn's optimizer.
    pub fn init(&self) -> ModuleOptimizer {
        match self.kind {
            OptimizerKind::Sgd => {
                let momentum = (self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(false)
                });
                SgdConfig::new().with_momentum(momentum).init()
            }
            OptimizerKind::Adam => AdamConfig::new()
                .with_beta_1(self.beta_1)
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon)
                .init(),
        }
    }
}

impl OptimizerKind {
    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OptimizerKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sgd" => Ok(OptimizerKind::Sgd),
            "adam" => Ok(OptimizerKind::Adam),
            _ => Err(format!(
                "unknown optimizer `{name}`; expected one of sgd, adam"
            )),
        }
    }
}
