//! What the CLI test files share: running the built `nerve` from a scratch folder of the test
//! binary's own, and training into a fresh run folder.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A file of the repository, by its path from the root. The root is found from cargo's
/// `CARGO_MANIFEST_DIR` at run time: a test binary built from another checkout that shares the
/// target folder (CI's, say) would otherwise read that checkout's files, or none.
pub(crate) fn repo_file(path: &str) -> String {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    Path::new(&manifest)
        .join("../..")
        .join(path)
        .to_str()
        .unwrap()
        .to_owned()
}

/// A folder for this test binary and process: default run folders and test files land there.
/// It is removed when the binary exits with no test failed (a failing run keeps it, to look
/// into).
pub(crate) fn scratch() -> PathBuf {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "cli".to_owned());
    let dir = std::env::temp_dir().join(format!("nerve-{binary}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static CLEANUP: std::sync::Once = std::sync::Once::new();
    CLEANUP.call_once(|| {
        let _ = SCRATCH.set(dir.clone());
        // A failed test panics: the hook notes it (and prints it as before).
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            FAILED.store(true, std::sync::atomic::Ordering::SeqCst);
            previous(info);
        }));
        // SAFETY: `atexit` takes a plain `extern "C" fn()` that lives as long as the program;
        // `remove_scratch` touches only statics and the file system.
        #[allow(unsafe_code)]
        unsafe {
            libc::atexit(remove_scratch);
        }
    });
    dir
}

/// This process's [`scratch`] folder, once made.
static SCRATCH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Whether a test of this process failed (panicked).
static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Run at exit: removes the scratch folder unless a test failed.
extern "C" fn remove_scratch() {
    if !FAILED.load(std::sync::atomic::Ordering::SeqCst)
        && let Some(dir) = SCRATCH.get()
    {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Writes `bytes` to a file of [`scratch`] and returns its path as text.
pub(crate) fn file(name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Runs `nerve` with `args` from [`scratch`].
pub(crate) fn nerve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(scratch())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `nerve`, asserts success and returns its stdout.
#[track_caller]
pub(crate) fn ok(args: &[&str]) -> String {
    let out = nerve(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `nerve` and asserts that it exits 1, without a panic, saying `expected` on stderr.
#[track_caller]
pub(crate) fn fails(args: &[&str], expected: &str) {
    let out = nerve(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(expected), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

/// Trains into a fresh run folder `name` (with `--json --quiet`); returns it and the JSON
/// summary.
pub(crate) fn train(name: &str, extra: &[&str]) -> (PathBuf, Value) {
    let run = scratch().join(name);
    let _ = std::fs::remove_dir_all(&run);
    let args = [
        &["train", "--json", "--quiet", "--out", run.to_str().unwrap()][..],
        extra,
    ]
    .concat();
    let stdout = ok(&args);
    let summary = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    (run, summary)
}

/// A CSV file's header (names trimmed, as nerve reads them) and its rows, as text cells.
pub(crate) fn read_cells(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Every tensor of a model file, by name, with its shape and raw bytes.
pub(crate) fn tensors(path: impl AsRef<Path>) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut all: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec(), view.data().to_vec()))
        .collect();
    all.sort();
    all
}

/// Writes a copy of the model file `from` at `to`, after `edit` has changed its tensors (name
/// -> f32 values) and its `nerve` metadata (JSON): model files no training makes, for the
/// readers' and exporter's refusals.
#[allow(dead_code)]
pub(crate) fn edited_model(
    from: &Path,
    to: &Path,
    edit: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<f32>>, &mut serde_json::Value),
) {
    let bytes = std::fs::read(from).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap_or_default();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut shapes = std::collections::BTreeMap::new();
    let mut values = std::collections::BTreeMap::new();
    for (name, view) in file.tensors() {
        shapes.insert(name.clone(), view.shape().to_vec());
        let floats = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        values.insert(name, floats);
    }
    let mut nerve: serde_json::Value = serde_json::from_str(&metadata["nerve"]).unwrap();
    edit(&mut values, &mut nerve);
    metadata.insert("nerve".to_owned(), nerve.to_string());
    let raw: Vec<(String, Vec<u8>)> = values
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = raw
        .iter()
        .map(|(name, data)| {
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                shapes[name].clone(),
                data,
            )
            .unwrap();
            (name.clone(), view)
        })
        .collect();
    std::fs::write(to, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

/// An SVG's source and the texts of its `<text>` elements, after checking that it parses as
/// XML with an `<svg>` root.
pub(crate) fn svg_texts(file: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let texts = {
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", file.display()));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
            .collect()
    };
    (text, texts)
}

/// The run description `nerve train` prints on stderr (a 1-epoch run into `out`).
pub(crate) fn describe(data: &str, out: &str, extra: &[&str]) -> String {
    let run = scratch().join(out);
    let _ = std::fs::remove_dir_all(&run);
    let args = [
        &[
            "train",
            "--data",
            data,
            "--epochs",
            "1",
            "--out",
            run.to_str().unwrap(),
        ][..],
        extra,
    ]
    .concat();
    let output = nerve(&args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{args:?}: {stderr}");
    stderr
}

/// A deterministic stream of numbers in [0, 1) (a linear congruential generator).
pub(crate) fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A tmpfs of a given size mounted at a folder while the value lives: a disk that fills.
pub(crate) struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`700k`, `1m`) at `dir`. Mounting needs root, which CI has
    /// (and requires, with `NERVE_REQUIRE_TMPFS`); elsewhere `None`, saying the test is
    /// skipped.
    #[allow(clippy::print_stderr)]
    pub(crate) fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let _ = std::fs::create_dir_all(dir);
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if mounted {
            return Some(Tmpfs(dir.to_path_buf()));
        }
        assert!(
            std::env::var_os("NERVE_REQUIRE_TMPFS").is_none(),
            "NERVE_REQUIRE_TMPFS is set but a tmpfs cannot be mounted"
        );
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A field of /proc/PID/status (`VmHWM`, `Threads`): its first number (kB for sizes).
pub(crate) fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
