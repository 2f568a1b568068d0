//! Replays every committed fuzz input — the seed corpora in `fuzz/corpus/` and the inputs
//! that once failed, in `fuzz/regressions/` — through the fuzz targets' own bodies
//! (`fuzz/targets.rs`), so that `cargo test` and `just ci` catch a regression of anything the
//! fuzzers found, without the fuzzers' instrumented build.

use std::path::Path;

#[path = "../../../fuzz/targets.rs"]
mod targets;

/// Runs `body` on every input of `target`; a panic names the input. The seeds made from valid
/// files (`seed_*` but for the bad-file corpus) must go all the way through.
fn replay(target: &str, body: fn(&[u8]) -> bool) {
    // At run time (cargo sets it), so a binary built from another checkout sharing the target
    // folder replays this checkout's inputs.
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let root = Path::new(&manifest).join("../../fuzz");
    let mut count = 0;
    for folder in [root.join("corpus"), root.join("regressions")] {
        let Ok(entries) = std::fs::read_dir(folder.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap_or_else(|err| panic!("{err}")).path();
            let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{err}"));
            let Ok(accepted) = std::panic::catch_unwind(|| body(&bytes)) else {
                panic!("fuzz target {target} fails on {}", path.display());
            };
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let valid = name.starts_with("seed_") && !name.contains("_bad_");
            assert!(
                accepted || !valid,
                "fuzz target {target} refuses a valid seed, {}",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count > 0, "no committed inputs for fuzz target {target}");
}

#[test]
fn the_csv_corpus_replays() {
    replay("csv", targets::csv);
}

#[test]
fn the_config_corpus_replays() {
    replay("config", targets::config);
}

#[test]
fn the_model_file_corpus_replays() {
    replay("model_file", targets::model_file);
}
