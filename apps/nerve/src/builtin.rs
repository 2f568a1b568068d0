//! Data sets and configs embedded in the binary, so `nerve train` works from any folder.

/// The tutorial's run config, `configs/xor.toml`.
pub(crate) const XOR_CONFIG: &str = include_str!("../../../configs/xor.toml");

/// The built-in data sets: `(name, CSV text)`.
const DATASETS: [(&str, &str); 1] = [("xor", include_str!("../../../datasets/xor.csv"))];

/// The CSV text of the built-in data set `name`.
pub(crate) fn dataset(name: &str) -> Option<&'static str> {
    DATASETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The names of the built-in data sets.
pub(crate) fn dataset_names() -> Vec<&'static str> {
    DATASETS.iter().map(|(name, _)| *name).collect()
}
