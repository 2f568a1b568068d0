//! Parquet input (the `parquet` feature): a Parquet file is read into the same typed table as
//! the CSV file pandas writes from the same data (tests/data/parquet/make_parquet.py made both).

#![cfg(feature = "parquet")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{fails, ok, repo_file, train};

fn fixture(name: &str) -> String {
    repo_file(&format!("tests/data/parquet/{name}"))
}

#[test]
fn parquet_trains_and_predicts_as_the_same_csv() {
    let args = ["--target", "risk", "--epochs", "5", "--seed", "3"];
    let (csv_run, from_csv) = train(
        "pq-csv",
        &[&["--data", &fixture("people.csv")][..], &args].concat(),
    );
    for file in ["people.parquet", "people-zstd.parquet"] {
        let (run, from_parquet) = train(
            &format!("pq-{file}"),
            &[&["--data", &fixture(file)][..], &args].concat(),
        );
        for key in ["train", "test", "final_loss", "labels", "epochs_run"] {
            assert_eq!(from_parquet[key], from_csv[key], "{file}: {key}");
        }
        // The same preprocessing: every column typed alike (dates, booleans, categories).
        let inspect = |run: &std::path::Path| {
            let model = run.join("model.safetensors");
            ok(&["inspect", "--model", model.to_str().unwrap()])
                .lines()
                .skip_while(|l| !l.starts_with("column"))
                .take_while(|l| !l.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(inspect(&run), inspect(&csv_run), "{file}");
        // Predictions of the CSV model on the Parquet rows are those on the CSV rows.
        let model = csv_run.join("model.safetensors");
        let model = model.to_str().unwrap();
        assert_eq!(
            ok(&["predict", "-m", model, "-d", &fixture(file), "--proba"]),
            ok(&[
                "predict",
                "-m",
                model,
                "-d",
                &fixture("people.csv"),
                "--proba"
            ])
        );
    }
}

#[test]
fn a_parquet_column_nerve_cannot_read_is_named() {
    fails(
        &["train", "--data", &fixture("lists.parquet")],
        "column `tags`",
    );
    // Another instance of a file that is not what its magic bytes promise: a truncated one.
    let bytes = std::fs::read(fixture("people.parquet")).unwrap();
    let cut = common::file("cut.parquet", &bytes[..bytes.len() / 2]);
    fails(&["train", "--data", &cut], "not a readable Parquet file");
}
