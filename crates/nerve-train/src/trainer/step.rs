//! [`train_step`]: one optimisation step — forward, loss, backward, clipping, update.

use burn::module::{ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::{Module, Tensor};
use nerve_loss::{Loss, LossError, Targets};
use nerve_model::Mlp;

use crate::global_grad_norm_squared;

/// The result of one [`train_step`].
#[derive(Debug)]
pub struct StepOutput {
    /// The model after the update.
    pub model: Mlp,
    /// The network's output for the batch before the update, detached, on the plain device.
    pub output: Tensor<2>,
    /// The batch's loss before the update, detached from the graph, on the plain device.
    pub loss: Tensor<1>,
    /// The squared global gradient norm of the batch (after clipping), on the plain device.
    pub grad_norm_squared: Tensor<1>,
}

/// One step of gradient descent: forward, loss, backward (burn's autodiff), optional clipping
/// by the global gradient norm, optimizer update. Nothing is read back from the device.
///
/// # Shapes
///
/// - `x`: `[batch_size, d_input]`, on an autodiff device
pub fn train_step(
    model: Mlp,
    optimizer: &mut ModuleOptimizer,
    loss: Loss,
    x: Tensor<2>,
    targets: &Targets,
    learning_rate: f64,
    clip_grad_norm: Option<f64>,
) -> Result<StepOutput, LossError> {
    let device = x.device();
    let output = model.forward(x);
    let value = loss.forward(output.clone(), targets)?;
    let mut grads = GradientsParams::from_grads(value.backward(), &model);
    let mut grad_norm_squared = global_grad_norm_squared(&model, &grads, &device);
    if let Some(max_norm) = clip_grad_norm {
        // scale = min(1, max / (‖g‖ + 1e-6)), computed on the device: no sync.
        let scale = grad_norm_squared
            .clone()
            .sqrt()
            .add_scalar(1e-6)
            .recip()
            .mul_scalar(max_norm)
            .clamp_max(1.0);
        grads = scale_gradients(&model, grads, scale.clone());
        grad_norm_squared = grad_norm_squared * scale.clone() * scale;
    }
    let model = optimizer.step(learning_rate, model, grads);
    Ok(StepOutput {
        model,
        output: output.detach().without_autodiff(),
        loss: value.detach().without_autodiff(),
        grad_norm_squared,
    })
}

/// Multiplies every gradient of `model` by the one-element `scale`.
fn scale_gradients(model: &Mlp, grads: GradientsParams, scale: Tensor<1>) -> GradientsParams {
    struct Scaler {
        grads: GradientsParams,
        scale: Tensor<1>,
    }
    impl ModuleVisitor for Scaler {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.remove::<D>(param.id) {
                let scale: Tensor<D> = self.scale.clone().reshape([1usize; D]);
                self.grads.register(param.id, grad * scale);
            }
        }
    }
    let mut scaler = Scaler { grads, scale };
    model.visit(&mut scaler);
    scaler.grads
}
