//! Data sets and configs embedded in the binary, so `nerve train` works from any folder.

/// The tutorial's run config, `configs/xor.toml`.
pub const XOR_CONFIG: &str = include_str!("../../../configs/xor.toml");

/// The anchors' train/test row indices for iris, digits and diabetes (scikit-learn's
/// `train_test_split(test_size=0.2, random_state=42)`), used by `nerve bench`.
pub const SPLITS: &str = include_str!("../../../datasets/splits.json");

/// A data set embedded in the binary (the files under `datasets/`, described in its README).
pub struct Builtin {
    /// The name `--data` accepts.
    pub name: &'static str,
    /// What it is, in a few words.
    pub about: &'static str,
    /// The CSV text.
    pub csv: &'static str,
    /// Its tuned run config (`configs/NAME.toml`), which `--config NAME` reads.
    pub config: &'static str,
}

/// The built-in data sets, smallest first.
pub const DATASETS: [Builtin; 6] = [
    Builtin {
        name: "xor",
        about: "the tutorial's XOR table",
        csv: include_str!("../../../datasets/xor.csv"),
        config: XOR_CONFIG,
    },
    Builtin {
        name: "iris",
        about: "Fisher's iris flowers",
        csv: include_str!("../../../datasets/iris.csv"),
        config: include_str!("../../../configs/iris.toml"),
    },
    Builtin {
        name: "wine",
        about: "chemistry of 3 cultivars",
        csv: include_str!("../../../datasets/wine.csv"),
        config: include_str!("../../../configs/wine.toml"),
    },
    Builtin {
        name: "breast_cancer",
        about: "Wisconsin tumour cells",
        csv: include_str!("../../../datasets/breast_cancer.csv"),
        config: include_str!("../../../configs/breast_cancer.toml"),
    },
    Builtin {
        name: "digits",
        about: "8x8 handwritten digits",
        csv: include_str!("../../../datasets/digits.csv"),
        config: include_str!("../../../configs/digits.toml"),
    },
    Builtin {
        name: "diabetes",
        about: "progression after 1 year",
        csv: include_str!("../../../datasets/diabetes.csv"),
        config: include_str!("../../../configs/diabetes.toml"),
    },
];

/// The built-in data set `name`.
pub fn dataset(name: &str) -> Option<&'static Builtin> {
    DATASETS.iter().find(|d| d.name == name)
}

/// The names of the built-in data sets.
pub fn dataset_names() -> Vec<&'static str> {
    DATASETS.iter().map(|d| d.name).collect()
}

/// The names `--config` accepts besides files: every built-in data set's.
pub fn config_names() -> Vec<&'static str> {
    dataset_names()
}
