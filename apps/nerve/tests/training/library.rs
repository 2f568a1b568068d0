//! nerve-run as a library: a program that calls only `nerve_run` trains on a CSV and gets the
//! answers `nerve predict` gives for the model it saved, and the model `nerve train` makes of
//! the same config answers exactly as the library's does (one run, whichever way it is started).
//! Both tasks, on tables with a category, missing cells and a date.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::common::{file, ok, read_cells, scratch};
use nerve_run::{BackendKind, Columns, NoopObserver, Predictions, RunConfig, train};

/// A table of `rows` rows: a number, a category, a date and a sometimes-missing number, and a
/// target of two classes (`classes`) or a value.
fn table(name: &str, rows: usize, classes: bool) -> String {
    let mut text = String::from("size,colour,day,extra,target\n");
    for i in 0..rows {
        let size = (i * 37 % 101) as f64 / 10.0;
        let colour = ["red", "green", "blue"][i % 3];
        let day = format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
        let extra = if i % 7 == 0 {
            String::new()
        } else {
            format!("{}", (i % 5) as f64 * 0.5)
        };
        let target = if classes {
            if size + if colour == "red" { 2.0 } else { 0.0 } > 5.5 {
                "yes".to_owned()
            } else {
                "no".to_owned()
            }
        } else {
            format!(
                "{:.3}",
                3.0 * size - if colour == "blue" { 4.0 } else { 0.0 } + 10.0
            )
        };
        text.push_str(&format!("{size},{colour},{day},{extra},{target}\n"));
    }
    file(name, text)
}

/// The library's config for `csv`: the defaults `nerve train --data csv --target target`
/// starts from, with a short run and imputed missing cells.
fn config(csv: &str) -> RunConfig {
    let mut config = RunConfig::for_data(csv);
    config.data.target = Some("target".into());
    config.data.missing = "impute".parse().unwrap();
    config.training.num_epochs = 30;
    config
}

/// One library training at a time in this process: burn's generator is process-wide and draws
/// a network's weights at its first forward pass, so two trainings in two threads at once
/// would draw each other's numbers (nerve-run's `train` says so).
static ONE_TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Trains `csv` with the library, saves the model in `dir`, and returns its answers to the
/// file's rows as text, one row each: the prediction, then the probabilities (classification).
fn library_answers(csv: &str, dir: &Path) -> Vec<Vec<String>> {
    let _one = ONE_TRAINING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let device = BackendKind::Flex.autodiff_device().unwrap();
    let trained = train(config(csv), &device, &mut NoopObserver).unwrap();
    trained.save(&dir.join("model.safetensors")).unwrap();
    let predictor = trained.predictor(&device.without_autodiff()).unwrap();
    let table = predictor
        .saved()
        .reader(csv, None, Columns::Features, &[])
        .unwrap()
        .read_all()
        .unwrap();
    let answers = predictor.answer(&table).unwrap();
    let mut rows = Vec::new();
    match &answers.predictions {
        Predictions::Classes(classes) => {
            let labels = predictor.labels().unwrap();
            for (i, &k) in classes.iter().enumerate() {
                let mut row = vec![labels[k].clone()];
                let p = &answers.probabilities[i * answers.width..(i + 1) * answers.width];
                row.extend(p.iter().map(f32::to_string));
                rows.push(row);
            }
        }
        Predictions::Values(values) => {
            rows.extend(values.iter().map(|v| vec![v.to_string()]));
        }
    }
    rows
}

/// `nerve predict`'s answers for `model` on `csv`, as [`library_answers`] gives them.
fn cli_answers(model: &Path, csv: &str, classes: bool) -> Vec<Vec<String>> {
    let out = scratch().join(format!(
        "{}.predictions.csv",
        model
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
    ));
    let mut args = vec![
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        csv,
        "--output",
        out.to_str().unwrap(),
    ];
    if classes {
        args.push("--proba");
    }
    ok(&args);
    let (header, rows) = read_cells(out.to_str().unwrap());
    assert_eq!(header[0], "row");
    rows.into_iter().map(|row| row[1..].to_vec()).collect()
}

/// Values compared as numbers: `nerve predict` writes f32 probabilities as their shortest
/// decimal, and the library's are the same f32s.
fn assert_same(a: &[Vec<String>], b: &[Vec<String>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: row counts");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: row {i}");
        for (u, v) in x.iter().zip(y) {
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(u), Ok(v)) => assert!(u == v, "{what}: row {i}: {x:?} against {y:?}"),
                _ => assert_eq!(u, v, "{what}: row {i}"),
            }
        }
    }
}

fn library_agrees_with_the_cli(name: &str, classes: bool) {
    let csv = table(&format!("{name}.csv"), 80, classes);
    let dir = scratch().join(format!("{name}-library"));
    std::fs::create_dir_all(&dir).unwrap();
    let library = library_answers(&csv, &dir);
    assert_eq!(library.len(), 80);
    // The library's model file, answered by `nerve predict`.
    let predicted = cli_answers(&dir.join("model.safetensors"), &csv, classes);
    assert_same(&library, &predicted, "library model, nerve predict");
    // The same run started by `nerve train` (the same settings as flags) makes the same model.
    let run = scratch().join(format!("{name}-cli"));
    ok(&[
        "train",
        "--data",
        &csv,
        "--target",
        "target",
        "--missing",
        "impute",
        "--epochs",
        "30",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]);
    let trained = cli_answers(&run.join("model.safetensors"), &csv, classes);
    assert_same(&library, &trained, "library run, nerve train run");
}

#[test]
fn a_program_on_nerve_run_classifies_as_nerve_predict_does() {
    library_agrees_with_the_cli("classes", true);
}

#[test]
fn a_program_on_nerve_run_regresses_as_nerve_predict_does() {
    library_agrees_with_the_cli("values", false);
}

/// The library's errors are typed by kind: a setting, the data path, the data itself.
#[test]
fn library_errors_name_what_is_wrong() {
    let _one = ONE_TRAINING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let device = BackendKind::Flex.autodiff_device().unwrap();
    let missing = scratch().join("no-such.csv");
    let err = train(
        RunConfig::for_data(missing.to_str().unwrap()),
        &device,
        &mut NoopObserver,
    )
    .unwrap_err();
    assert!(matches!(err, nerve_run::RunError::DataPath(_)), "{err:?}");
    assert!(err.to_string().contains("no such file"), "{err}");
    let csv = table("bad-target.csv", 30, true);
    let mut bad = config(&csv);
    bad.data.target = Some("nope".into());
    let err = train(bad, &device, &mut NoopObserver).unwrap_err();
    assert!(matches!(err, nerve_run::RunError::Data(_)), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
    let mut bad = config(&csv);
    bad.data.test_split = 1.5;
    let err = train(bad, &device, &mut NoopObserver).unwrap_err();
    assert!(matches!(err, nerve_run::RunError::Setting(_)), "{err:?}");
    assert!(err.to_string().contains("test_split"), "{err}");
}
