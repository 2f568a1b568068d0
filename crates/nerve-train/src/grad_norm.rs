//! The global L2 norm of a model's gradient, the tutorial's "until the gradient nears zero".

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::{Device, Module, Tensor};

/// The squared global L2 norm of the gradient, `Σ‖∂L/∂θ‖²` over every float parameter of
/// `model` that has a gradient, as a one-element tensor that stays on the device (reading it is
/// left to the caller, so a training loop can sync once per epoch rather than per step).
///
/// # Shapes
///
/// - result: `[1]`
pub fn global_grad_norm_squared<M: Module>(
    model: &M,
    grads: &GradientsParams,
    device: &Device,
) -> Tensor<1> {
    let mut visitor = SquaredNorm { grads, total: None };
    model.visit(&mut visitor);
    // Only a model without any gradient needs a zero made for it; the training step's hot path
    // starts from the first parameter's sum instead.
    visitor
        .total
        .unwrap_or_else(|| Tensor::zeros([1], &device.clone().without_autodiff()))
}

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squared = grad.powi_scalar(2).sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squared,
                None => squared,
            });
        }
    }
}
