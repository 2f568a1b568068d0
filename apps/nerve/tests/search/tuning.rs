//! `nerve cv` (issue 22): k-fold cross-validation with the preprocessing fitted inside each
//! fold, reproducible from the split seed, on both backends; and its refusals.

#![allow(clippy::unwrap_used)]

use crate::common;

use crate::common::{fails, file, nerve, ok, svg_texts};
use serde_json::Value;

/// `nerve cv ARGS --json`: the one JSON object it prints.
fn cv(args: &[&str]) -> Value {
    let stdout = ok(&[&["cv", "--json", "--quiet"][..], args].concat());
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn cv_scores_every_fold_and_summarizes_each_metric() {
    let out = cv(&["--data", "iris", "--epochs", "30", "--folds", "4"]);
    assert_eq!(out["rows_folded"], 120, "{out}");
    assert_eq!(out["test_rows_left_out"], 30, "{out}");
    let folds = out["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 4);
    let mut held = 0;
    for fold in folds {
        // Stratified: 30 rows per fold, 10 of each species.
        assert_eq!(fold["rows_held_out"], 30, "{fold}");
        assert_eq!(fold["rows_trained"], 90, "{fold}");
        held += fold["rows_held_out"].as_u64().unwrap();
        for metric in [
            "accuracy",
            "balanced_accuracy",
            "f1_macro",
            "roc_auc",
            "log_loss",
            "loss",
        ] {
            assert!(fold["scores"][metric].is_number(), "{metric}: {fold}");
        }
    }
    assert_eq!(held, 120);
    // The summary is the folds' mean and (ddof 0) standard deviation.
    let values: Vec<f64> = folds
        .iter()
        .map(|f| f["scores"]["accuracy"].as_f64().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / 4.0;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    let summary = &out["summary"]["accuracy"];
    assert!(
        (summary["mean"].as_f64().unwrap() - mean).abs() < 1e-12,
        "{summary}"
    );
    assert!(
        (summary["std"].as_f64().unwrap() - std).abs() < 1e-12,
        "{summary}"
    );
    assert!(mean > 0.8, "{mean}");
    // Repeated: 2 x 4 folds, the second repeat shuffled otherwise.
    let repeated = cv(&[
        "--data",
        "iris",
        "--epochs",
        "30",
        "--folds",
        "4",
        "--repeats",
        "2",
    ]);
    let folds = repeated["per_fold"].as_array().unwrap();
    assert_eq!(folds.len(), 8);
    assert_eq!(folds[4]["repeat"], 1);
    // Regression: r2 and the errors in the target's units; the text table names the metric.
    let out = cv(&["--data", "diabetes", "--epochs", "20", "--folds", "3"]);
    assert_eq!(out["metric"], "r2");
    for metric in ["r2", "mse", "rmse", "mae", "mape", "loss"] {
        assert!(
            out["summary"][metric]["mean"].is_number(),
            "{metric}: {out}"
        );
    }
    let text = ok(&[
        "cv", "--data", "diabetes", "--epochs", "5", "--folds", "3", "--metric", "mae",
    ]);
    assert!(
        text.contains("3-fold cross-validation of diabetes"),
        "{text}"
    );
    assert!(text.contains("mae *"), "{text}");
}

#[test]
fn folds_and_scores_repeat_from_the_seeds_on_both_backends() {
    let args = ["--data", "wine", "--epochs", "15", "--folds", "3"];
    let first = cv(&args);
    let again = cv(&args);
    let scores = |out: &Value| -> Vec<Value> {
        out["per_fold"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["scores"].clone())
            .collect()
    };
    assert_eq!(scores(&first), scores(&again));
    let other_seed = cv(&[&args[..], &["--split-seed", "7"]].concat());
    assert_ne!(scores(&first), scores(&other_seed));
    // The ndarray backend folds the same rows and scores close to flex.
    let ndarray = cv(&[&args[..], &["--backend", "ndarray"]].concat());
    for (a, b) in first["per_fold"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ndarray["per_fold"].as_array().unwrap())
    {
        assert_eq!(a["rows_held_out"], b["rows_held_out"]);
        let (x, y) = (
            a["scores"]["log_loss"].as_f64().unwrap(),
            b["scores"]["log_loss"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-3, "flex {x}, ndarray {y}");
    }
}

#[test]
fn each_fold_fits_its_preprocessing_on_its_own_training_rows() {
    // One row holds an outlier and a category no other row has: only the fold that holds
    // it out meets the category unseen (its scaler never saw the row; a unit test of
    // `Prepared::refit` checks the scale itself).
    let mut text = String::from("x,colour,y\n");
    for i in 0..59 {
        text.push_str(&format!("{},{},{}\n", i % 7, ["red", "blue"][i % 2], i % 2));
    }
    text.push_str("1000000,green,1\n");
    let data = file("leak.csv", text);
    let out = cv(&[
        "--data",
        &data,
        "--test-split",
        "0",
        "--epochs",
        "5",
        "--folds",
        "5",
    ]);
    let unseen: Vec<u64> = out["per_fold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["unseen_categories"].as_u64().unwrap())
        .collect();
    assert_eq!(unseen.iter().sum::<u64>(), 1, "{unseen:?}");
    assert_eq!(out["rows_folded"], 60);
}

#[test]
fn bad_folds_and_metrics_are_refused_and_small_classes_warned_of() {
    fails(
        &["cv", "--data", "iris", "--folds", "1"],
        "at least 2 folds",
    );
    fails(
        &["cv", "--data", "iris", "--folds", "500"],
        "500 folds need at least 500 rows",
    );
    fails(
        &["cv", "--data", "iris", "--repeats", "0"],
        "--repeats must be at least 1",
    );
    fails(
        &["cv", "--data", "iris", "--metric", "r2"],
        "does not score classification",
    );
    let bad = nerve(&["cv", "--data", "iris", "--metric", "nonsense"]);
    assert_eq!(bad.status.code(), Some(2));
    // A class of 3 rows in 5 folds: two held-out folds lack it; a warning, not an error.
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        text.push_str(&format!(
            "{i}.5,{}\n",
            if i < 3 { "rare" } else { "common" }
        ));
    }
    let data = file("rare.csv", text);
    let out = nerve(&["cv", "--data", &data, "--test-split", "0", "--epochs", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("class `rare` has 3"), "{stderr}");
    assert!(
        stderr.contains("2 held-out folds have none of it"),
        "{stderr}"
    );
}

/// Runs `nerve tune ARGS` and returns its stdout (asserting success).
fn tune(args: &[&str]) -> String {
    ok(&[&["tune"][..], args].concat())
}

/// The trials of a search folder's results.json: trial id -> (rank, fold scores).
fn trials_of(dir: &std::path::Path) -> Vec<(u64, u64, Value)> {
    let table: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let mut rows: Vec<(u64, u64, Value)> = table["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["trial"].as_u64().unwrap(),
                t["rank"].as_u64().unwrap(),
                t["fold_scores"].clone(),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    rows
}

#[test]
fn tune_searches_a_grid_and_writes_the_table_the_best_config_and_the_refit() {
    let space = file(
        "grid.toml",
        "[model]\nd_hidden = [[4], [16]]\n\n[optimizer]\nlearning_rate = [0.001, 0.03]\n",
    );
    let dir = common::scratch().join("tune-grid");
    let _ = std::fs::remove_dir_all(&dir);
    let out = tune(&[
        "--data",
        "iris",
        "--space",
        &space,
        "--epochs",
        "40",
        "--folds",
        "3",
        "--jobs",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.contains("4 trials by 3-fold cross-validation (accuracy"),
        "{out}"
    );
    assert!(
        out.contains("Refitted on every training row: test accuracy"),
        "{out}"
    );
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines[0].starts_with("rank,trial,status,mean_accuracy,std_accuracy,seconds,model.d_hidden,optimizer.learning_rate,fold_1,fold_2,fold_3,error"),
        "{csv}"
    );
    // Ranked by mean accuracy, best first.
    let means: Vec<f64> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    // best.toml is a plain config that `nerve train --config` repeats: the best trial's settings.
    let best = dir.join("best.toml");
    let printed = ok(&[
        "train",
        "--config",
        best.to_str().unwrap(),
        "--print-config",
    ]);
    assert!(printed.contains("num_epochs = 40"), "{printed}");
    let best_line: Vec<&str> = lines[1].split(',').collect();
    assert!(
        printed.contains(&format!("learning_rate = {}", best_line[7])),
        "{printed}\n{}",
        lines[1]
    );
    assert!(dir.join("refit/model.safetensors").is_file());
    // tune.svg: every trial's mean, best first, and one panel for the numeric setting
    // (learning_rate; d_hidden is a list and has none).
    let (svg, texts) = svg_texts(&dir.join("tune.svg"));
    assert!(
        texts.contains(&"Search: accuracy by trial (higher is better)".to_owned()),
        "{texts:?}"
    );
    assert!(texts.contains(&"learning_rate".to_owned()), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("d_hidden")), "{texts:?}");
    let trials = circles(&svg, "4");
    assert_eq!(trials.len(), 4, "{svg}");
    // Best first: higher accuracy is higher on the page (a smaller y), rank by rank.
    assert!(
        trials
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{trials:?}"
    );
    assert_eq!(circles(&svg, "3").len(), 4, "{svg}");
    // The same command again: every trial already ran; nothing is trained again.
    let before = std::fs::read(dir.join("trials/trial-0000.json")).unwrap();
    let again = nerve(&[
        "tune",
        "--data",
        "iris",
        "--space",
        &space,
        "--epochs",
        "40",
        "--folds",
        "3",
        "--out",
        dir.to_str().unwrap(),
        "--refit",
        "false",
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(stderr.contains("4 of 4 trials already ran"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.join("trials/trial-0000.json")).unwrap(),
        before
    );
    // Another search in the same folder is refused, the folder untouched.
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &space,
            "--epochs",
            "41",
            "--folds",
            "3",
            "--out",
            dir.to_str().unwrap(),
        ],
        "holds another search",
    );
}

/// The centres of an SVG's circles of radius `r`, in drawing order.
fn circles(svg: &str, r: &str) -> Vec<(f64, f64)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("r") == Some(r))
        .map(|n| {
            let at = |name| n.attribute(name).unwrap().parse::<f64>().unwrap();
            (at("cx"), at("cy"))
        })
        .collect()
}

#[test]
fn jobs_one_and_two_and_plan_run_collect_give_the_same_scores() {
    let space = file(
        "random.toml",
        "[optimizer]\nlearning_rate = { log-uniform = [0.001, 0.1] }\n\n[training]\nnum_epochs = { int = [5, 30] }\n",
    );
    let base = common::scratch();
    // The one search every way below runs.
    let shared = [
        "--data",
        "wine",
        "--space",
        &space,
        "--trials",
        "4",
        "--search-seed",
        "3",
        "--folds",
        "3",
    ];
    let search = |dir: &str, jobs: &str| {
        let dir = base.join(dir);
        let _ = std::fs::remove_dir_all(&dir);
        let own = [
            "--jobs",
            jobs,
            "--refit",
            "false",
            "--out",
            dir.to_str().unwrap(),
        ];
        tune(&[&shared[..], &own[..]].concat());
        trials_of(&dir)
    };
    let one = search("tune-j1", "1");
    assert_eq!(one.len(), 4);
    assert_eq!(search("tune-j2", "2"), one);
    // Plan, then each trial in its own process (two at once), then collect.
    let planned = base.join("tune-plan");
    let _ = std::fs::remove_dir_all(&planned);
    tune(&[&shared[..], &["--plan", planned.to_str().unwrap()][..]].concat());
    assert!(!planned.join("results.csv").exists());
    let children: Vec<std::process::Child> = (0..4)
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
                .args(["tune", "--quiet", "--run-trial"])
                .arg(planned.join(format!("trials/trial-{i:04}.toml")))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    tune(&["--collect", planned.to_str().unwrap(), "--refit", "false"]);
    assert_eq!(trials_of(&planned), one);
}

#[test]
fn failed_trials_rank_last_and_a_search_of_only_failures_fails() {
    // SGD at a huge learning rate diverges: that trial fails, recorded with its error.
    let space = file("diverge.toml", "[optimizer]\nlearning_rate = [0.01, 1e6]\n");
    let dir = common::scratch().join("tune-diverge");
    let _ = std::fs::remove_dir_all(&dir);
    tune(&[
        "--data",
        "iris",
        "--space",
        &space,
        "--optimizer",
        "sgd",
        "--epochs",
        "30",
        "--folds",
        "3",
        "--refit",
        "false",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let last = csv.lines().last().unwrap();
    assert!(last.starts_with("2,1,failed,"), "{csv}");
    assert!(last.contains("diverged"), "{csv}");
    // The chart draws the scored trial only.
    let (svg, _) = svg_texts(&dir.join("tune.svg"));
    assert_eq!(circles(&svg, "4").len(), 1, "{svg}");
    let space = file(
        "all_diverge.toml",
        "[optimizer]\nlearning_rate = [1e6, 1e7]\n",
    );
    let dir = common::scratch().join("tune-all-diverge");
    let _ = std::fs::remove_dir_all(&dir);
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &space,
            "--optimizer",
            "sgd",
            "--epochs",
            "30",
            "--folds",
            "3",
            "--out",
            dir.to_str().unwrap(),
        ],
        "every one of the 2 trials failed",
    );
}

#[test]
fn bad_space_files_are_refused_with_line_and_key_and_nothing_is_written() {
    let dir = common::scratch().join("tune-bad");
    let _ = std::fs::remove_dir_all(&dir);
    for (text, expected) in [
        (
            "[model]\nhiden = [[4]]\n",
            "line 2: `model.hiden` = [4]: unknown field `hiden`",
        ),
        (
            "[optimizer]\nlearning_rate = [0.01, -1]\n",
            "line 2: `optimizer.learning_rate` = -1",
        ),
        (
            "[training]\nnum_epochs = 10\n",
            "line 2: `training.num_epochs` = 10: give a list",
        ),
        (
            "[training]\nnum_epochs = { int = [10] }\n",
            "line 2: `training.num_epochs`: int takes [low, high]",
        ),
        ("[model\nd_hidden = [[4]]\n", "line 1: not TOML"),
    ] {
        let space = file("bad_space.toml", text);
        fails(
            &[
                "tune",
                "--data",
                "iris",
                "--space",
                &space,
                "--out",
                dir.to_str().unwrap(),
            ],
            expected,
        );
        assert!(!dir.exists(), "{text}: wrote {}", dir.display());
    }
    fails(&["tune", "--data", "iris"], "give --space FILE");
    fails(
        &["tune", "--collect", dir.to_str().unwrap()],
        "not a search folder",
    );
}

/// A search of 6 iris trials over `dir` (300 epochs each, no refit), by `jobs` processes.
fn six_trial_search(name: &str, dir: &std::path::Path, jobs: &str) -> Vec<String> {
    let space = file(
        name,
        "[optimizer]\nlearning_rate = [0.003, 0.01, 0.03]\n\n[training]\nbatch_size = [16, 32]\n",
    );
    let _ = std::fs::remove_dir_all(dir);
    [
        "tune",
        "--data",
        "iris",
        "--space",
        &space,
        "--epochs",
        "300",
        "--jobs",
        jobs,
        "--refit",
        "false",
        "--out",
        dir.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Starts `nerve ARGS` in a process group of its own (its trial processes with it), stderr
/// piped, and returns it once the first trial of `dir` has its result.
fn start_search(args: &[String], dir: &std::path::Path) -> std::process::Child {
    use std::os::unix::process::CommandExt as _;
    let search = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(args)
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let first = dir.join("trials/trial-0000.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !first.exists() {
        assert!(std::time::Instant::now() < deadline, "no trial finished");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    search
}

/// Sends `signal` to the process group of `search` and waits for it.
fn signal_group(search: std::process::Child, signal: &str) -> std::process::Output {
    std::process::Command::new("kill")
        .args([signal, "--", &format!("-{}", search.id())])
        .status()
        .unwrap();
    search.wait_with_output().unwrap()
}

/// The result files of the 6 trials of `dir` that exist, with their bytes (some, not all).
fn finished_trials(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let finished: Vec<(std::path::PathBuf, Vec<u8>)> = (0..6)
        .map(|i| dir.join(format!("trials/trial-{i:04}.json")))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    assert!(
        !finished.is_empty() && finished.len() < 6,
        "{}",
        finished.len()
    );
    finished
}

/// Runs the stopped search of `dir` again: it resumes, keeps the `finished` trials as they
/// were, runs the others, and its table is whole.
fn resumes(args: &[String], dir: &std::path::Path, finished: &[(std::path::PathBuf, Vec<u8>)]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = nerve(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "resuming: {} of 6 trials already ran",
            finished.len()
        )),
        "{stderr}"
    );
    for (path, bytes) in finished {
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "{}", path.display());
    }
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(!csv.contains("failed"), "{csv}");
}

#[test]
fn a_search_killed_mid_trial_resumes_that_trial_and_no_finished_one() {
    let dir = common::scratch().join("tune-killed");
    let args = six_trial_search("resume.toml", &dir, "1");
    // The search and its trial process, killed outright (kill -9 of the process group) once
    // the first trial has its result.
    let search = start_search(&args, &dir);
    signal_group(search, "-9");
    let finished = finished_trials(&dir);
    resumes(&args, &dir, &finished);
}

#[test]
fn tune_warns_of_small_classes_and_refuses_data_settings_that_move_the_rows() {
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        text.push_str(&format!(
            "{i}.5,{}\n",
            if i < 3 { "rare" } else { "common" }
        ));
    }
    let data = file("rare_tune.csv", text);
    let space = file("small.toml", "[optimizer]\nlearning_rate = [0.01]\n");
    let dir = common::scratch().join("tune-rare");
    let _ = std::fs::remove_dir_all(&dir);
    let out = nerve(&[
        "tune",
        "--data",
        &data,
        "--space",
        &space,
        "--test-split",
        "0",
        "--epochs",
        "3",
        "--refit",
        "false",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("class `rare` has 3"), "{stderr}");
    let space = file("rows.toml", "[data]\ntest_split = [0.1, 0.3]\n");
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &space,
            "--out",
            dir.join("x").to_str().unwrap(),
        ],
        "line 2: `data.test_split`: a search cannot vary which rows",
    );
}

#[test]
fn early_stopping_inside_a_trial_stops_each_fold_as_cv_does() {
    let space = file(
        "patience.toml",
        "[optimizer]\nlearning_rate = [0.01, 0.03]\n",
    );
    let dir = common::scratch().join("tune-patience");
    let _ = std::fs::remove_dir_all(&dir);
    let shared = [
        "--data",
        "iris",
        "--epochs",
        "400",
        "--val-split",
        "0.2",
        "--patience",
        "3",
        "--folds",
        "3",
    ];
    let mut args = shared.to_vec();
    args.extend([
        "--space",
        &space,
        "--refit",
        "false",
        "--out",
        dir.to_str().unwrap(),
    ]);
    tune(&args);
    let table: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let first = table["trials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["trial"] == 0)
        .unwrap();
    // The trial's folds are `nerve cv`'s with the same settings: the same epochs (each fold
    // stopped by its own validation rows, long before 400) and the same scores.
    let mut cv_args = shared.to_vec();
    cv_args.extend(["--lr", "0.01"]);
    let cv = cv(&cv_args);
    let per_fold = cv["per_fold"].as_array().unwrap();
    let epochs: Vec<u64> = per_fold
        .iter()
        .map(|f| f["epochs"].as_u64().unwrap())
        .collect();
    assert!(epochs.iter().all(|&e| e > 0 && e < 400), "{epochs:?}");
    assert!(
        per_fold
            .iter()
            .all(|f| f["stop_reason"].as_str().unwrap().contains("patience")),
        "{cv}"
    );
    assert_eq!(first["fold_epochs"], serde_json::json!(epochs), "{first}");
    let scores: Vec<Value> = per_fold
        .iter()
        .map(|f| f["scores"]["accuracy"].clone())
        .collect();
    assert_eq!(first["fold_scores"], Value::Array(scores), "{first}");
}

#[test]
fn ctrl_c_stops_a_search_with_a_consistent_table_and_the_same_command_resumes_it() {
    let dir = common::scratch().join("tune-interrupted");
    let args = six_trial_search("interrupt.toml", &dir, "2");
    // Ctrl-C as a terminal sends it: SIGINT to the search and its trial processes (one process
    // group), once the first trial has its result.
    let out = signal_group(start_search(&args, &dir), "-INT");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    // One message, the search's: its trial processes are quiet.
    assert_eq!(stderr.matches("interrupted:").count(), 1, "{stderr}");
    // The table holds exactly the finished trials, none of them failed; a stopped trial has no
    // result (it runs again), and no file is left half-written, no lock held.
    let finished = finished_trials(&dir);
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), finished.len() + 1, "{csv}");
    assert!(!csv.contains("failed"), "{csv}");
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("trials")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp") || name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    resumes(&args, &dir, &finished);
}

/// A search and its collect run with 1 trial of 2 folds at `epochs` on iris, planned into
/// `dir`; returns the trial file.
fn one_trial_plan(dir: &std::path::Path, epochs: &str) -> String {
    let space = file("one.toml", "[optimizer]\nlearning_rate = [0.01]\n");
    let _ = std::fs::remove_dir_all(dir);
    tune(&[
        "--data",
        "iris",
        "--space",
        &space,
        "--epochs",
        epochs,
        "--folds",
        "2",
        "--plan",
        dir.to_str().unwrap(),
    ]);
    dir.join("trials/trial-0000.toml")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_trial_or_refit_stops_when_its_search_is_interrupted_even_by_a_signal_to_the_search_alone() {
    // A trial process of a search whose stop file exists stops at once, as on Ctrl-C: no
    // result, so the trial runs again.
    let dir = common::scratch().join("tune-stop-file");
    let trial = one_trial_plan(&dir, "50");
    let stop = dir.join("stop");
    std::fs::write(&stop, b"").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["tune", "--quiet", "--run-trial", &trial])
        .env("NERVE_STOP_FILE", &stop)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("trials/trial-0000.json").exists());
    // SIGINT to `nerve tune --collect` alone (not its process group) while it refits: the
    // refit stops, its unfinished run is removed, the table is printed, exit 130; collecting
    // again refits.
    let dir = common::scratch().join("tune-refit-stopped");
    let trial = one_trial_plan(&dir, "4000");
    ok(&["tune", "--quiet", "--run-trial", &trial]);
    let collect = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["tune", "--collect", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = dir.join("refit");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "no refit started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::process::Command::new("kill")
        .args(["-INT", &collect.id().to_string()])
        .status()
        .unwrap();
    let out = collect.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted during the refit"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Best settings:"),
        "{stderr}"
    );
    assert!(!started.exists(), "{stderr}");
    assert!(!dir.join(".nerve.stop").exists());
    let again = tune(&["--collect", dir.to_str().unwrap()]);
    assert!(again.contains("Refitted on every training row"), "{again}");
    assert!(started.join("model.safetensors").is_file());
}

#[test]
fn cv_stopped_like_ctrl_c_exits_130_without_a_summary() {
    // The stop file a search gives its children is, to any nerve command, a Ctrl-C: cv stops
    // in its first fold, says so, and exits 130 (not an error's 1).
    let stop = common::scratch().join("cv-stop");
    std::fs::write(&stop, b"").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"))
        .args(["cv", "--data", "iris", "--epochs", "50"])
        .env("NERVE_STOP_FILE", &stop)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted in fold 1: 0 of 5 folds ran"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
}
