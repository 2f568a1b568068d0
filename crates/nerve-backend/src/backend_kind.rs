//! [`BackendKind`]: the names of the CPU backends and the burn devices behind them.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// A burn CPU backend that nerve can run on.
///
/// Every variant exists whatever the cargo features, so configs and command lines parse the same
/// everywhere; asking for the device of a backend that was not compiled in is an error
/// ([`BackendError::NotCompiled`]) that lists the ones that were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String", into = "String")]
pub enum BackendKind {
    /// burn's pure-Rust CPU backend (`burn-flex`), the one burn recommends for CPUs. The default.
    Flex,
    /// burn's classic CPU backend on the `ndarray` crate. Deprecated upstream since burn 0.22,
    /// fully supported and tested here.
    NdArray,
}

/// Why a backend name could not be turned into a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The name is not a backend nerve knows.
    #[error("unknown backend `{name}`; available backends: {}", list(.available))]
    Unknown {
        /// The name that was asked for.
        name: String,
        /// The backends compiled into this build.
        available: Vec<BackendKind>,
    },
    /// The backend exists but this build was compiled without its cargo feature.
    #[error(
        "backend `{kind}` is not compiled into this build (enable the `{kind}` cargo feature of nerve-backend); available backends: {}",
        list(.available)
    )]
    NotCompiled {
        /// The backend that was asked for.
        kind: BackendKind,
        /// The backends compiled into this build.
        available: Vec<BackendKind>,
    },
}

fn list(kinds: &[BackendKind]) -> String {
    if kinds.is_empty() {
        return "none (build nerve-backend with the `flex` or `ndarray` feature)".to_owned();
    }
    kinds
        .iter()
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl BackendKind {
    /// Every backend nerve knows, compiled in or not, in order of preference.
    pub const ALL: [BackendKind; 2] = [BackendKind::Flex, BackendKind::NdArray];

    /// The name used on the command line and in config files.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::NdArray => "ndarray",
        }
    }

    /// Whether this build contains the backend (its cargo feature was enabled).
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::NdArray => cfg!(feature = "ndarray"),
        }
    }

    /// The backends compiled into this build, in order of preference.
    pub fn available() -> Vec<BackendKind> {
        Self::ALL
            .into_iter()
            .filter(|kind| kind.is_compiled())
            .collect()
    }

    /// A one-line description for listings such as `nerve backends`.
    pub fn description(self) -> &'static str {
        match self {
            BackendKind::Flex => "burn-flex: pure-Rust CPU backend, burn's recommended CPU backend",
            BackendKind::NdArray => {
                "burn-ndarray: the classic CPU backend on the ndarray crate (deprecated upstream)"
            }
        }
    }

    /// The plain (inference) device of this backend: no gradients are recorded on it.
    pub fn device(self) -> Result<Device, BackendError> {
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Ok(Device::flex()),
            // burn 0.22 deprecates the ndarray backend in favour of flex; nerve keeps supporting it
            // because users compare the two and the original design names it.
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::NdArray => Ok(Device::ndarray()),
            #[allow(unreachable_patterns)]
            kind => Err(BackendError::NotCompiled {
                kind,
                available: Self::available(),
            }),
        }
    }

    /// The training device of this backend: the plain device wrapped in burn's autodiff
    /// decorator, so every tensor operation records what `backward()` needs.
    pub fn autodiff_device(self) -> Result<Device, BackendError> {
        Ok(self.device()?.autodiff())
    }
}

/// Seeds the random number generator of the backend behind `device`.
///
/// flex and ndarray keep one process-wide generator each; it decides parameter initialisation
/// and dropout masks. Parameters are initialised lazily, when first used, so seed before the
/// model's first forward pass.
pub fn seed(device: &Device, seed: u64) {
    device.seed(seed);
}

impl Default for BackendKind {
    /// flex when compiled in (it is about twice as fast per step on small networks), else the
    /// first backend that is.
    fn default() -> Self {
        Self::available()
            .first()
            .copied()
            .unwrap_or(BackendKind::Flex)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl nerve_choice::Choice for BackendKind {
    const KIND: &'static str = "backend";

    fn all() -> &'static [Self] {
        &Self::ALL
    }

    fn name(self) -> &'static str {
        BackendKind::name(self)
    }
}

impl FromStr for BackendKind {
    type Err = BackendError;

    /// Parses a backend name as every nerve choice is parsed ([`nerve_choice::find`]). A known
    /// backend that is not compiled in is refused here already, so a bad `--backend` fails
    /// before any work starts; an unknown one lists the backends compiled in.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let kind =
            nerve_choice::find::<BackendKind>(name).ok_or_else(|| BackendError::Unknown {
                name: name.to_owned(),
                available: Self::available(),
            })?;
        if kind.is_compiled() {
            Ok(kind)
        } else {
            Err(BackendError::NotCompiled {
                kind,
                available: Self::available(),
            })
        }
    }
}

impl TryFrom<String> for BackendKind {
    type Error = BackendError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<BackendKind> for String {
    fn from(kind: BackendKind) -> Self {
        kind.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::Tensor;

    #[test]
    fn names_round_trip() {
        for kind in BackendKind::available() {
            assert_eq!(kind.name().parse::<BackendKind>(), Ok(kind));
            assert_eq!(
                kind.to_string().to_uppercase().parse::<BackendKind>(),
                Ok(kind)
            );
        }
    }

    #[test]
    fn unknown_backend_lists_the_available_ones() {
        let err = "gpu".parse::<BackendKind>().unwrap_err();
        let message = err.to_string();
        assert!(message.contains("unknown backend `gpu`"), "{message}");
        for kind in BackendKind::available() {
            assert!(message.contains(kind.name()), "{message}");
        }
    }

    #[test]
    fn devices_compute_and_differentiate() {
        for kind in BackendKind::available() {
            let device = kind.autodiff_device().expect("compiled-in backend");
            assert!(device.is_autodiff());
            let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device).require_grad();
            let grads = (x.clone() * x.clone()).sum().backward();
            let gx = x.grad(&grads).expect("x requires grad");
            let values = gx.into_data().try_to_vec::<f32>().expect("f32 data");
            assert_eq!(values, vec![2.0, 4.0, 6.0], "backend {kind}");
            assert!(!kind.device().expect("compiled-in backend").is_autodiff());
        }
    }

    #[test]
    fn seeding_makes_random_tensors_repeatable() {
        for kind in BackendKind::available() {
            let device = kind.device().expect("compiled-in backend");
            let draw = || {
                seed(&device, 7);
                Tensor::<1>::random([8], burn::tensor::Distribution::Default, &device)
                    .into_data()
                    .try_to_vec::<f32>()
                    .expect("f32 data")
            };
            assert_eq!(draw(), draw(), "backend {kind}");
        }
    }

    #[test]
    fn serde_uses_lowercase_names() {
        let kind: BackendKind = serde_json::from_str("\"ndarray\"").expect("valid name");
        assert_eq!(kind, BackendKind::NdArray);
        assert!(serde_json::from_str::<BackendKind>("\"gpu\"").is_err());
    }
}
