//! The model file: an [`Mlp`]'s weights as safetensors, with nerve's metadata.
//!
//! Tensors are named `layers.{i}.weight` (`[d_in, d_out]`, f32) and `layers.{i}.bias`
//! (`[d_out]`, f32), `i` from 0 at the first hidden layer; a spiking network adds
//! `neurons.{i}.beta`, `neurons.{i}.threshold` (and `neurons.{i}.alpha` for synaptic neurons),
//! each `[1]`, and for rate or latency coding `encoder.low` / `encoder.high` (`[d_input]`, the
//! training rows' range of each input). The safetensors header's
//! `__metadata__` holds one entry, `nerve`: a JSON object with `format_version`,
//! `nerve_version`, `architecture` (the [`MlpConfig`]) and whatever else the caller adds (the
//! CLI adds the task, preprocessing, training config and metrics). Any safetensors reader can
//! load the weights.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde_json::{Map, Value};

use burn::module::Param;

use crate::spiking::{InputRange, Neuron};
use crate::{Mlp, MlpConfig, ModelError};

/// The model file format this build writes and the newest it reads. Version 2 added the
/// training share of each category to the preprocessing (the baseline of `nerve explain`);
/// version 3 added number formats, grouped infrequent categories and date inputs. Older files
/// still load, and an older nerve refuses a newer file with "upgrade nerve" rather than an
/// unknown-field error. Version 4 added spiking networks (`architecture.spiking`, the
/// `neurons.*` and `encoder.*` tensors). Version 5 keeps the preprocessing's fitted statistics
/// (means, scales, fill values, category shares, the target's offset and scale) in f64; an
/// older file's were f32 and are applied as such. Version 6 added missing-value indicator
/// inputs, categories' missing level and smooth clipping (`indicator`, `missing_level`,
/// `smooth_clip` in a feature's transform).
pub const FORMAT_VERSION: u64 = 6;

/// The `__metadata__` key of nerve's JSON.
pub const METADATA_KEY: &str = "nerve";

/// What a model file says about itself besides the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The file's format version.
    pub format_version: u64,
    /// The nerve version that wrote it.
    pub nerve_version: String,
    /// The network's architecture.
    pub architecture: MlpConfig,
    /// Everything else the writer recorded, by key.
    pub extra: Map<String, Value>,
}

impl Mlp {
    /// The model file's bytes: the weights and the `nerve` metadata, with `extra` entries
    /// beside `format_version`, `nerve_version` and `architecture`.
    pub fn to_safetensors(&self, extra: &Map<String, Value>) -> Result<Vec<u8>, ModelError> {
        let mut nerve = extra.clone();
        nerve.insert("format_version".into(), FORMAT_VERSION.into());
        nerve.insert("nerve_version".into(), env!("CARGO_PKG_VERSION").into());
        nerve.insert(
            "architecture".into(),
            serde_json::to_value(self.config()).map_err(|err| bad("<memory>", err))?,
        );
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (i, layer) in self.layers().iter().enumerate() {
            let bias = layer.bias.as_ref().ok_or_else(|| {
                bad(
                    "<memory>",
                    format!("layer {i} has no bias; nerve's layers always do"),
                )
            })?;
            tensors.push(bytes_of(format!("layers.{i}.weight"), layer.weight.val())?);
            tensors.push(bytes_of(format!("layers.{i}.bias"), bias.val())?);
        }
        for (i, neurons) in self.neurons.iter().enumerate() {
            tensors.push(bytes_of(format!("neurons.{i}.beta"), neurons.beta.val())?);
            tensors.push(bytes_of(
                format!("neurons.{i}.threshold"),
                neurons.threshold.val(),
            )?);
            if let Some(alpha) = &neurons.alpha {
                tensors.push(bytes_of(format!("neurons.{i}.alpha"), alpha.val())?);
            }
        }
        if let Some(range) = &self.encoder {
            tensors.push(bytes_of("encoder.low".to_owned(), range.low.val())?);
            tensors.push(bytes_of("encoder.high".to_owned(), range.high.val())?);
        }
        let views = tensors
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|view| (name.clone(), view))
                    .map_err(|err| bad("<memory>", err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = HashMap::from([(METADATA_KEY.to_owned(), Value::Object(nerve).to_string())]);
        safetensors::serialize(views, Some(metadata)).map_err(|err| bad("<memory>", err))
    }

    /// Writes the model file to `path` atomically: a temporary file beside it, then a rename,
    /// so a reader never sees half a file and a failed write leaves an older file intact.
    pub fn save_file(&self, path: &Path, extra: &Map<String, Value>) -> Result<(), ModelError> {
        let bytes = self.to_safetensors(extra)?;
        crate::write_atomically(path, &bytes).map_err(|source| ModelError::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model file: the network on `device` (in inference mode if `device` is plain) and
    /// what the file says about itself.
    pub fn load_file(path: &Path, device: &Device) -> Result<(Mlp, ModelInfo), ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        })?;
        Self::from_safetensors(&bytes, &path.display().to_string(), device)
    }

    /// Parses model file bytes; `source` names them in errors.
    pub fn from_safetensors(
        bytes: &[u8],
        source: &str,
        device: &Device,
    ) -> Result<(Mlp, ModelInfo), ModelError> {
        let info = read_info(bytes, source)?;
        let file = SafeTensors::deserialize(bytes)
            .map_err(|err| bad(source, format!("not a valid safetensors file ({err})")))?;
        let mut parameters = Vec::new();
        for i in 0..info.architecture.layer_dims().len() {
            let weight = tensor::<2>(&file, &format!("layers.{i}.weight"), source, device)?;
            let bias = tensor::<1>(&file, &format!("layers.{i}.bias"), source, device)?;
            parameters.push((weight, bias));
        }
        let mut model =
            Mlp::from_parameters(&info.architecture, parameters).map_err(|err| bad(source, err))?;
        if let Some(spiking) = &info.architecture.spiking {
            let one = |name: String| -> Result<Tensor<1>, ModelError> {
                let t = tensor::<1>(&file, &name, source, device)?;
                if t.dims() != [1] {
                    return Err(bad(
                        source,
                        format!("tensor `{name}` has shape {:?}, expected [1]", t.dims()),
                    ));
                }
                Ok(t)
            };
            for (i, neurons) in model.neurons.iter_mut().enumerate() {
                neurons.beta = Param::from_tensor(one(format!("neurons.{i}.beta"))?);
                neurons.threshold = Param::from_tensor(one(format!("neurons.{i}.threshold"))?);
                if spiking.neuron == Neuron::Synaptic {
                    neurons.alpha = Some(Param::from_tensor(one(format!("neurons.{i}.alpha"))?));
                }
            }
            let names = file.names();
            if names.contains(&"encoder.low") {
                let low = tensor::<1>(&file, "encoder.low", source, device)?;
                let high = tensor::<1>(&file, "encoder.high", source, device)?;
                let d_input = info.architecture.d_input;
                if low.dims() != [d_input] || high.dims() != [d_input] {
                    return Err(bad(
                        source,
                        format!("`encoder.low` and `encoder.high` must have shape [{d_input}]"),
                    ));
                }
                model.encoder = Some(InputRange {
                    low: Param::from_tensor(low),
                    high: Param::from_tensor(high),
                });
            }
        }
        Ok((model, info))
    }
}

/// Only the metadata of a model file, without building the network.
pub fn read_info(bytes: &[u8], source: &str) -> Result<ModelInfo, ModelError> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|err| {
        bad(
            source,
            format!("not a safetensors model file, or a truncated one ({err})"),
        )
    })?;
    let text = metadata
        .metadata()
        .as_ref()
        .and_then(|entries| entries.get(METADATA_KEY))
        .ok_or_else(|| {
            bad(
                source,
                "a safetensors file, but not a nerve model: its header has no `nerve` metadata",
            )
        })?;
    let Ok(Value::Object(mut nerve)) = serde_json::from_str::<Value>(text) else {
        return Err(bad(source, "the `nerve` metadata is not a JSON object"));
    };
    let format_version = nerve
        .remove("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad(source, "the `nerve` metadata has no `format_version`"))?;
    if format_version > FORMAT_VERSION {
        return Err(ModelError::NewerFormat {
            path: source.to_owned(),
            found: format_version,
            supported: FORMAT_VERSION,
            version: env!("CARGO_PKG_VERSION"),
        });
    }
    let nerve_version = nerve
        .remove("nerve_version")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let architecture: MlpConfig = nerve
        .remove("architecture")
        .ok_or_else(|| bad(source, "the `nerve` metadata has no `architecture`"))
        .and_then(|v| {
            serde_json::from_value(v).map_err(|err| bad(source, format!("`architecture`: {err}")))
        })?;
    architecture
        .validate()
        .map_err(|err| bad(source, format!("`architecture`: {err}")))?;
    Ok(ModelInfo {
        format_version,
        nerve_version,
        architecture,
        extra: nerve,
    })
}

fn bad(path: &str, message: impl std::fmt::Display) -> ModelError {
    ModelError::BadFile {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// A tensor's name, shape and little-endian f32 bytes.
fn bytes_of<const D: usize>(
    name: String,
    tensor: Tensor<D>,
) -> Result<(String, Vec<usize>, Vec<u8>), ModelError> {
    let shape = tensor.dims().to_vec();
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|err| bad("<memory>", format!("{name}: {err:?}")))?;
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok((name, shape, bytes))
}

/// The f32 tensor `name` of `file`, on `device`.
fn tensor<const D: usize>(
    file: &SafeTensors<'_>,
    name: &str,
    source: &str,
    device: &Device,
) -> Result<Tensor<D>, ModelError> {
    let view = file
        .tensor(name)
        .map_err(|_| bad(source, format!("the tensor `{name}` is missing")))?;
    if view.dtype() != Dtype::F32 {
        return Err(bad(
            source,
            format!("`{name}` holds {:?} values; nerve reads F32", view.dtype()),
        ));
    }
    if view.shape().len() != D {
        return Err(bad(
            source,
            format!(
                "`{name}` has shape {:?}; expected {D} dimensions",
                view.shape()
            ),
        ));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    // A network with a NaN or infinite weight answers NaN for every row: refuse it here, once,
    // rather than predict, explain or train on from it.
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(
            source,
            format!(
                "`{name}` holds a non-finite weight ({} at index {at}): the training that wrote it diverged; retrain with a smaller learning rate",
                values[at]
            ),
        ));
    }
    Ok(Tensor::from_data(
        TensorData::new(values, view.shape().to_vec()),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nerve_backend::BackendKind;

    fn model(device: &Device) -> Mlp {
        nerve_backend::seed(device, 1);
        MlpConfig::new(3, vec![4], 2).init(device)
    }

    fn outputs(model: &Mlp, device: &Device) -> Vec<f32> {
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.5f32, -1.0, 2.0, 1.0, 0.0, -0.5], [2, 3]),
            device,
        );
        model
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32")
    }

    #[test]
    fn round_trips_weights_and_metadata() {
        for kind in BackendKind::available() {
            let device = kind.device().expect("compiled in");
            let original = model(&device);
            let mut extra = Map::new();
            extra.insert("task".into(), "classification".into());
            let bytes = original.to_safetensors(&extra).expect("serializes");
            let (loaded, info) =
                Mlp::from_safetensors(&bytes, "m.safetensors", &device).expect("reads back");
            assert_eq!(info.format_version, FORMAT_VERSION);
            assert_eq!(info.architecture, *original.config());
            assert_eq!(info.extra["task"], "classification");
            assert_eq!(
                outputs(&loaded, &device),
                outputs(&original, &device),
                "{kind}"
            );

            // Names and shapes as any safetensors reader sees them.
            let file = SafeTensors::deserialize(&bytes).expect("valid safetensors");
            let mut names = file.names();
            names.sort();
            assert_eq!(
                names,
                [
                    "layers.0.bias",
                    "layers.0.weight",
                    "layers.1.bias",
                    "layers.1.weight"
                ]
            );
            assert_eq!(
                file.tensor("layers.0.weight").expect("present").shape(),
                [3, 4]
            );
            assert_eq!(file.tensor("layers.1.bias").expect("present").shape(), [2]);
        }
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let device = BackendKind::default().device().expect("compiled in");
        let bytes = model(&device)
            .to_safetensors(&Map::new())
            .expect("serializes");
        let truncated = Mlp::from_safetensors(&bytes[..bytes.len() / 2], "t", &device);
        assert!(truncated.is_err());
        let err = Mlp::from_safetensors(b"just some text", "x.csv", &device).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.csv: not a safetensors model file"),
            "{err}"
        );
        // A safetensors file from elsewhere: no nerve metadata.
        let data = [0u8; 8];
        let view = TensorView::new(Dtype::F32, vec![2], &data).expect("valid view");
        let foreign = safetensors::serialize([("w", view)], None).expect("serializes");
        let err = Mlp::from_safetensors(&foreign, "f", &device).unwrap_err();
        assert!(err.to_string().contains("not a nerve model"), "{err}");
        // A newer format.
        let pattern = format!("\\\"format_version\\\":{FORMAT_VERSION}").into_bytes();
        let at = bytes
            .windows(pattern.len())
            .position(|w| w == pattern)
            .expect("the header holds the format version");
        // Version 1 files (no category shares) still load.
        let mut older = bytes.clone();
        older[at + pattern.len() - 1] = b'1';
        let (_, info) =
            Mlp::from_safetensors(&older, "o", &device).expect("a version 1 file loads");
        assert_eq!(info.format_version, 1);
        let mut newer = bytes.clone();
        newer[at + pattern.len() - 1] = b'9';
        let err = Mlp::from_safetensors(&newer, "n", &device).unwrap_err();
        assert!(
            matches!(err, ModelError::NewerFormat { found: 9, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade nerve"), "{err}");
    }
}
