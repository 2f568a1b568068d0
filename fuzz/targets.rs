//! The bodies of nerve's fuzz targets, shared by the libFuzzer binaries in `fuzz_targets/`
//! and by the corpus replay test in `apps/nerve` (`cargo test` runs every committed input).
//!
//! Each body must never panic, hang or abort on any input: errors are fine, they are what
//! bad input should get. Where a body can check an invariant on accepted input, it asserts it.
//! Each returns whether the input went all the way through (the replay test checks that the
//! valid seeds do, so a body cannot silently stop exercising the code).
//! The run config and the model file are nerve-run's, a dependency of both crates.

use nerve_data::{CsvOptions, Missing, PrepareOptions, TableReader, prepare};

/// The CSV reader and typing, then preparation (roles, split, preprocessing) as `nerve train`
/// does it. The first byte picks the options (delimiter, thousands separator, missing values)
/// so that the fuzzer explores them too; the rest is the file.
pub(crate) fn csv(data: &[u8]) -> bool {
    let Some((&choice, file)) = data.split_first() else {
        return false;
    };
    let options = CsvOptions {
        delimiter: [None, Some(b','), Some(b';'), Some(b'\t')][usize::from(choice & 3)],
        thousands: [None, Some('.'), Some(' '), Some(',')][usize::from((choice >> 2) & 3)],
        missing: [
            Missing::Drop,
            Missing::Impute,
            Missing::Error,
            Missing::Drop,
        ][usize::from((choice >> 4) & 3)],
        ..CsvOptions::default()
    };
    let whole = TableReader::new("fuzz.csv", file, &options).and_then(TableReader::read_all);
    // Read again in chunks of 3 rows, as `nerve predict` streams: the same rows.
    let chunked = TableReader::new("fuzz.csv", file, &options).and_then(|mut reader| {
        let mut rows = 0;
        while let Some(chunk) = reader.next_chunk(3)? {
            rows += chunk.num_rows();
        }
        Ok(rows)
    });
    if let (Ok(table), Ok(rows)) = (&whole, &chunked) {
        assert_eq!(
            table.num_rows(),
            *rows,
            "whole and chunked reading disagree"
        );
    }
    let Ok(table) = whole else {
        return false;
    };
    let prepare_options = PrepareOptions {
        missing: options.missing,
        ..PrepareOptions::default()
    };
    prepare(table, &prepare_options).is_ok()
}

/// The TOML run config: parsed and validated as `nerve train --config` does. A config that is
/// accepted must write itself out and read back the same, since a run folder's `config.toml`
/// must repeat the run.
pub(crate) fn config(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(config) = nerve_run::RunConfig::parse(text, "fuzz.toml", None) else {
        return false;
    };
    if config.validate().is_err() {
        return false;
    }
    let written = config
        .to_toml()
        .unwrap_or_else(|err| panic!("an accepted config cannot be written: {err:#}"));
    let read = nerve_run::RunConfig::parse(&written, "written.toml", None)
        .unwrap_or_else(|err| panic!("a written config cannot be read back: {err:#}\n{written}"));
    assert_eq!(
        read.to_toml().ok(),
        Some(written),
        "the config changed on the way"
    );
    true
}

/// The model file loader used by `eval`, `predict`, `explain`, `inspect` and `train --init`:
/// the safetensors weights and the `nerve` metadata (architecture, preprocessing, config). A
/// model that loads must run: its network takes a batch of its input width.
pub(crate) fn model_file(data: &[u8]) -> bool {
    let Ok(device) = nerve_backend::BackendKind::Flex.device() else {
        return false;
    };
    let Ok(saved) = nerve_run::SavedModel::from_bytes(data, "fuzz.safetensors", &device) else {
        return false;
    };
    let d_input = saved.preprocessor.d_input();
    let _ = (
        saved.preprocessor.input_columns(),
        saved.preprocessor.column_kinds(),
        saved.preprocessor.labels(),
        saved.preprocessor.decode_value(0.0),
        saved.metrics(),
    );
    let x = burn::prelude::Tensor::<2>::zeros([2, d_input], &device);
    let y = saved.model.forward(x);
    assert_eq!(y.dims(), [2, saved.model.config().d_output]);
    true
}
