//! # nerve-loss
//!
//! The losses nerve trains with, thin over burn's own (`burn::nn::loss`): [`Loss::Mse`],
//! [`Loss::CrossEntropy`] (softmax over logits, integer class targets),
//! [`Loss::BinaryCrossEntropy`] (on logits, numerically stable for large ones) and
//! [`Loss::Huber`]. All reduce by the mean over every element, as PyTorch does.
//!
//! Targets are checked once, when they become [`Targets`] (class ids in range, binary targets 0
//! or 1, finite values, matching widths), so invalid targets give a typed [`LossError`] instead
//! of a panic or a silent NaN; [`Loss::forward`] then only checks shapes, which costs nothing.
//!
//! ```
//! use burn::prelude::{Tensor, TensorData};
//! use nerve_loss::Loss;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = nerve_backend::BackendKind::default().device()?;
//! let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0, 0.0, 2.0], [2, 2]), &device);
//! let classes = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0], [2, 1]), &device);
//! let loss = Loss::CrossEntropy;
//! let targets = loss.targets(classes, 2)?;
//! let value = loss.forward(logits, &targets)?.into_scalar::<f32>();
//! assert!((value - (1.0 + (-2.0f32).exp()).ln()).abs() < 1e-6);
//!
//! // A class id outside 0..2 is refused with an error naming the row.
//! let bad = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 2.0], [2, 1]), &device);
//! assert!(loss.targets(bad, 2).is_err());
//! # Ok(())
//! # }
//! ```

mod loss;
mod targets;

pub use loss::{Loss, LossError};
pub use targets::Targets;

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
