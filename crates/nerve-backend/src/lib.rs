//! # nerve-backend
//!
//! Which burn CPU backend runs nerve's tensors, chosen at run time. The principal type is
//! [`BackendKind`]: parse it from a name (`"flex"`, `"ndarray"`), then ask it for a burn
//! [`Device`](burn::prelude::Device), with or without autodiff.
//!
//! This is the only nerve crate that names a concrete burn backend; every other crate takes a
//! `Device` and stays backend-free, so adding a backend touches this crate alone. Each backend sits
//! behind a cargo feature of the same name (`flex`, `ndarray`, both on by default), so a program
//! that wants one backend compiles only that one.
//!
//! ```
//! use nerve_backend::BackendKind;
//!
//! # fn main() -> Result<(), nerve_backend::BackendError> {
//! let kind: BackendKind = "flex".parse()?;
//! let device = kind.autodiff_device()?;
//! assert!(device.is_autodiff());
//! nerve_backend::seed(&device, 42);
//! # Ok(())
//! # }
//! ```

mod backend_kind;

pub use backend_kind::{BackendError, BackendKind, seed};

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
