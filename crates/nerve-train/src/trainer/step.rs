//! [`train_step`]: one optimisation step — forward, loss, backward, clipping, update.

use burn::optim::GradientsParams;
use burn::prelude::Tensor;
use nerve_loss::{Loss, LossError, Targets};
use nerve_model::Mlp;

use crate::Optimizer;

/// The result of one [`train_step`].
#[derive(Debug)]
pub struct StepOutput {
    /// The model after the update.
    pub model: Mlp,
    /// The network's output for the batch before the update, detached, on the plain device.
    pub output: Tensor<2>,
    /// The batch's loss before the update, detached from the graph, on the plain device.
    pub loss: Tensor<1>,
    /// The squared global L2 norm of the batch's gradient (after clipping).
    pub grad_norm_squared: f64,
}

/// One step of gradient descent: forward, loss, backward (burn's autodiff), optional clipping
/// by the global gradient norm, optimizer update (see [`Optimizer::step`]).
///
/// # Shapes
///
/// - `x`: `[batch_size, d_input]`, on an autodiff device
pub fn train_step(
    model: Mlp,
    optimizer: &mut Optimizer,
    loss: Loss,
    x: Tensor<2>,
    targets: &Targets,
    learning_rate: f64,
    clip_grad_norm: Option<f64>,
) -> Result<StepOutput, LossError> {
    let device = x.device();
    let output = model.forward(x);
    let value = loss.forward(output.clone(), targets)?;
    let grads = GradientsParams::from_grads(value.backward(), &model);
    let (model, grad_norm_squared) =
        optimizer.step(learning_rate, model, grads, clip_grad_norm, &device);
    Ok(StepOutput {
        model,
        output: output.detach().without_autodiff(),
        loss: value.detach().without_autodiff(),
        grad_norm_squared,
    })
}
