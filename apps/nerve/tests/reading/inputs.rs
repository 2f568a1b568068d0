//! The inputs people have (gzip, standard input) read like plain CSV files, and predictions that
//! join back to the rows they came from.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::{fails, file, ok, scratch, train};

/// `nerve` with `input` on its standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(scratch())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout
}

fn iris() -> Vec<u8> {
    std::fs::read(common::repo_file("datasets/iris.csv")).unwrap()
}

#[test]
fn gzip_and_stdin_train_the_same_model_as_the_file() {
    let plain = file("iris-plain.csv", iris());
    let zipped = file("iris-zipped.csv.gz", gzip(&iris()));
    let args = ["--epochs", "3", "--seed", "5"];
    let (_, from_file) = train("in-plain", &[&["--data", &plain][..], &args].concat());
    let (run, from_gzip) = train("in-gzip", &[&["--data", &zipped][..], &args].concat());
    assert_eq!(from_file["test"], from_gzip["test"]);
    assert_eq!(from_file["final_loss"], from_gzip["final_loss"]);
    let run_dir = run.to_str().unwrap();
    let out = with_stdin(
        &[
            "train",
            "--data",
            "-",
            "--epochs",
            "3",
            "--seed",
            "5",
            "--json",
            "--quiet",
            "--out",
            &format!("{run_dir}-stdin"),
        ],
        &iris(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8(out.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(summary["test"], from_file["test"]);
    // Predictions from stdin, gzip or not, are the file's.
    let model = run.join("model.safetensors");
    let model = model.to_str().unwrap();
    let expected = ok(&["predict", "--model", model, "--data", &plain, "--proba"]);
    for input in [iris(), gzip(&iris())] {
        let out = with_stdin(&["predict", "-m", model, "-d", "-", "--proba"], &input);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
}

#[test]
fn a_damaged_gzip_file_is_an_error_naming_it() {
    let mut bytes = gzip(&iris());
    bytes.truncate(bytes.len() / 2);
    let damaged = file("damaged.csv.gz", bytes);
    fails(&["train", "--data", &damaged], "as gzip");
}

/// Predictions carry identifiers and join back to the data by `row` (0-based, the DataFrame
/// index), read by Python's csv module; nothing is printed when a column is missing.
#[test]
fn predictions_join_back_by_row_and_kept_columns() {
    let (run, _) = train("keep", &["--data", "iris", "--epochs", "2"]);
    let model = run.join("model.safetensors");
    let model = model.to_str().unwrap();
    let mut data = String::from(
        "customer_id,note,sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n",
    );
    let ids = ["007", "7", "7.0", "A, \"quoted\"", "", "x\ny"];
    for (i, id) in ids.iter().enumerate() {
        let quoted = format!("\"{}\"", id.replace('"', "\"\""));
        data.push_str(&format!("{quoted},n{i},5.{i},3.0,1.{i},0.2\n"));
    }
    let data = file("customers.csv", data);
    let predictions = ok(&[
        "predict",
        "-m",
        model,
        "-d",
        &data,
        "--keep",
        "customer_id,note",
    ]);
    let out_path = file("customers-predictions.csv", &predictions);
    let script = r#"
import csv, json, sys
data = list(csv.DictReader(open(sys.argv[1], newline="")))
preds = list(csv.DictReader(open(sys.argv[2], newline="")))
joined = [dict(data[int(p["row"])], **{"prediction": p["prediction"], "kept": p["customer_id"], "kept_note": p["note"]}) for p in preds]
print(json.dumps(joined))
"#;
    let out = Command::new("python3")
        .args(["-c", script, &data, &out_path])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let joined: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(joined.len(), ids.len());
    for (i, row) in joined.iter().enumerate() {
        assert_eq!(row["customer_id"], ids[i], "{row}");
        assert_eq!(row["kept"], ids[i], "row {i}: {row}");
        assert_eq!(row["kept_note"], format!("n{i}"), "{row}");
        assert!(
            ["setosa", "versicolor", "virginica"].contains(&row["prediction"].as_str().unwrap())
        );
    }
    assert!(
        predictions.starts_with("row,customer_id,note,prediction\n0,007,n0,"),
        "{predictions}"
    );

    // A missing column, model's or --keep's, is found before anything is written.
    for (keep, missing) in [("nope", "nope"), ("customer_id", "petal_width_cm")] {
        let broken = if missing == "petal_width_cm" {
            file(
                "no-petal.csv",
                "customer_id,sepal_length_cm,sepal_width_cm,petal_length_cm\n1,5.0,3.0,1.0\n",
            )
        } else {
            data.clone()
        };
        let out = common::nerve(&["predict", "-m", model, "-d", &broken, "--keep", keep]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("has no column `{missing}`")), "{err}");
    }
    // Output columns that could not be told apart are refused, as is an empty name.
    for (keep, expected) in [
        ("customer_id,customer_id", "two output columns of that name"),
        ("prediction", "two output columns of that name"),
        ("row", "two output columns of that name"),
        ("customer_id,", "empty column"),
    ] {
        let out = common::nerve(&["predict", "-m", model, "-d", &data, "--keep", keep]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{keep}: {err}");
        assert!(err.contains(expected), "{keep}: {err}");
        assert!(out.stdout.is_empty());
    }
    // A bad row in the first chunk leaves no output (not even the header).
    let bad = file(
        "bad-row.csv",
        "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.0,3.0,1.0,0.2\nfive,3.0,1.0,0.2\n",
    );
    let out = common::nerve(&["predict", "-m", model, "-d", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
