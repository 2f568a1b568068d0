//! # nerve-model
//!
//! Feed-forward networks (multi-layer perceptrons) on burn. [`MlpConfig`] describes one — input
//! width, hidden layer widths, output width, [`Activation`], dropout and [`Initializer`] — and
//! [`MlpConfig::init`] builds the [`Mlp`] module on a burn `Device`. The crate is backend-free: it
//! never names a concrete backend, and it does no terminal I/O; its only file I/O is the model
//! file ([`Mlp::save_file`], [`Mlp::load_file`]: safetensors with nerve's JSON metadata).
//!
//! To look inside a network: [`IntegratedGradients`] attributes each output to the inputs
//! ([`Attributions`], by burn's autodiff along the path from a baseline row), and
//! [`Mlp::hidden_activity`] summarises each hidden layer on some rows ([`LayerActivity`]: mean
//! activation, dead units).
//!
//! ```
//! use burn::prelude::{Module, Tensor};
//! use nerve_model::{Activation, MlpConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = nerve_backend::BackendKind::default().device()?;
//! // The tutorial's network: 4 inputs -> 5 ReLU units -> 1 output.
//! let config = MlpConfig::new(4, vec![5], 1).with_activation(Activation::Relu);
//! config.validate()?;
//! let mlp = config.init(&device);
//! assert_eq!(mlp.num_params(), 4 * 5 + 5 + 5 * 1 + 1);
//! let x = Tensor::<2>::zeros([3, 4], &device);
//! assert_eq!(mlp.forward(x).dims(), [3, 1]);
//! # Ok(())
//! # }
//! ```

mod activation;
mod activity;
mod atomic_write;
mod attribution;
mod initializer;
mod mlp;
mod model_file;
pub mod spiking;

pub use activation::Activation;
pub use activity::LayerActivity;
pub use atomic_write::{host_name, sync_folder, write_atomically};
pub use attribution::{Attributions, IntegratedGradients};
pub use initializer::Initializer;
pub use mlp::{Mlp, MlpConfig, ModelError};
pub use model_file::{FORMAT_VERSION, METADATA_KEY, ModelInfo, read_info};
pub use spiking::{SpikeTrace, SpikingConfig};

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
