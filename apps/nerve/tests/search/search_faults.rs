//! Fault injection for `nerve tune`'s search folder (issue 36), as `faults.rs` does for run
//! folders: result files that are not their trial's (copied from another trial or another
//! search, edited, truncated), `kill -9` at seeded moments of planning and of a search, a
//! full disk (a small tmpfs), grids too large to plan, and trial processes that must not
//! outlive their search. After each, every file of the folder parses, no temporary outlives
//! the next start of the search, and the table lists each trial once, with its own result.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Tmpfs, fails, file, nerve, ok, scratch};

/// The command of a 6-trial iris search (a 3 x 2 grid, 30 epochs, 3 folds, no refit) into
/// `dir`, started afresh; `epochs` sets how long each trial runs.
fn search_args(dir: &Path, epochs: &str) -> Vec<String> {
    let space = file(
        "faults-space.toml",
        "[optimizer]\nlearning_rate = [0.003, 0.01, 0.03]\n\n[training]\nbatch_size = [16, 32]\n",
    );
    [
        "tune",
        "--data",
        "iris",
        "--space",
        &space,
        "--epochs",
        epochs,
        "--folds",
        "3",
        "--jobs",
        "2",
        "--refit",
        "false",
        "--out",
        dir.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    nerve(&args)
}

fn result_path(dir: &Path, trial: usize) -> PathBuf {
    dir.join(format!("trials/trial-{trial:04}.json"))
}

/// The trials results.csv lists, in its order, after checking that every file of the folder
/// parses as what its name says and that no temporary is left.
fn listed_trials(dir: &Path) -> Vec<u64> {
    assert!(
        check_folder(dir).is_empty(),
        "temporaries left in {}",
        dir.display()
    );
    let table: Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    table["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trial"].as_u64().unwrap())
        .collect()
}

/// Asserts that every file under `dir` parses (trial files as TOML, results and search.json
/// as JSON, results.csv as CSV) and returns the temporaries found (`.NAME.*.tmp`).
fn check_folder(dir: &Path) -> Vec<PathBuf> {
    let mut temporaries = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return temporaries;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            temporaries.extend(check_folder(&path));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let what = path.display();
        if name.starts_with('.') && name.ends_with(".tmp") {
            temporaries.push(path.clone());
        } else if name.ends_with(".json") {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|err| panic!("{what} is not JSON: {err}"));
        } else if name.ends_with(".toml") {
            toml::from_str::<toml::Table>(std::str::from_utf8(&bytes).unwrap())
                .unwrap_or_else(|err| panic!("{what} is not TOML: {err}"));
        } else if name.ends_with(".csv") {
            let mut reader = csv::Reader::from_reader(bytes.as_slice());
            for record in reader.records() {
                record.unwrap_or_else(|err| panic!("{what}: {err}"));
            }
        }
    }
    temporaries
}

#[test]
fn a_result_that_is_not_its_trials_is_refused_by_collect_and_run_again_by_the_search() {
    let dir = scratch().join("search-results");
    let other = scratch().join("search-results-other");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
    let args = search_args(&dir, "30");
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut all = listed_trials(&dir);
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2, 3, 4, 5]);
    // The same search at another epoch count: its trial files differ, so its results are
    // another search's.
    ok(&search_args(&other, "20")
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let collect = [
        "tune",
        "--collect",
        dir.to_str().unwrap(),
        "--refit",
        "false",
    ];
    let original = std::fs::read(result_path(&dir, 3)).unwrap();
    // Each way a result can fail to be its trial's: the reported copy of trial 4's result,
    // another search's trial 3, a mean its folds do not give, other settings, a truncated
    // file, a result of an older nerve (no digest of its trial file).
    let edited = |edit: fn(&mut Value)| -> Vec<u8> {
        let mut value: Value = serde_json::from_slice(&original).unwrap();
        edit(&mut value);
        serde_json::to_vec_pretty(&value).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "trial 4's result",
            std::fs::read(result_path(&dir, 4)).unwrap(),
            "is the result of trial 4, not of trial 3",
        ),
        (
            "another search's",
            std::fs::read(result_path(&other, 3)).unwrap(),
            "was not made from",
        ),
        (
            "an edited mean",
            edited(|v| v["mean"] = Value::from(0.999)),
            "not those of its fold scores",
        ),
        (
            "edited settings",
            edited(|v| v["params"]["optimizer.learning_rate"] = Value::from(0.5)),
            "holds other settings",
        ),
        (
            "a truncated file",
            original[..original.len() / 2].to_vec(),
            "is not a trial result",
        ),
        (
            "an older nerve's",
            edited(|v| {
                v.as_object_mut().unwrap().remove("plan_sha256");
            }),
            "was not made from",
        ),
    ];
    for (case, bytes, want) in cases {
        std::fs::write(result_path(&dir, 3), &bytes).unwrap();
        fails(&collect, want);
        // The search's own command runs the trial again, saying why, and lists each trial
        // once; trial 3's result is its own again (the runs repeat from the seeds).
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{case}: {stderr}");
        assert!(
            stderr.contains(want) && stderr.contains("running the trial again"),
            "{case}: {stderr}"
        );
        assert!(
            stderr.contains("resuming: 5 of 6 trials already ran"),
            "{case}: {stderr}"
        );
        let mut listed = listed_trials(&dir);
        listed.sort_unstable();
        assert_eq!(listed, [0, 1, 2, 3, 4, 5], "{case}");
        let again: Value =
            serde_json::from_slice(&std::fs::read(result_path(&dir, 3)).unwrap()).unwrap();
        let first: Value = serde_json::from_slice(&original).unwrap();
        assert_eq!(again["folds"], first["folds"], "{case}");
        ok(&collect);
    }
    // A search.json that does not describe its trial files (found by a helper: an edited
    // direction ranked the worst trial first, another metric's name relabelled the scores, a
    // smaller count collected only some trials): refused, naming the file.
    let record = dir.join("search.json");
    let original_record = std::fs::read_to_string(&record).unwrap();
    for (edit, want) in [
        (
            (
                "\"greater_is_better\": true",
                "\"greater_is_better\": false",
            ),
            "accuracy is higher better, not lower",
        ),
        (
            ("\"metric\": \"accuracy\"", "\"metric\": \"log_loss\""),
            "log_loss is lower better",
        ),
        (("\"trials\": 6", "\"trials\": 1"), "it has 1 trials, but"),
    ] {
        assert!(original_record.contains(edit.0), "{original_record}");
        std::fs::write(&record, original_record.replace(edit.0, edit.1)).unwrap();
        fails(&collect, "does not describe the search of its trial files");
        fails(&collect, want);
    }
    std::fs::write(&record, &original_record).unwrap();
    // `--run-trial` of a trial whose result is another's runs it again too.
    std::fs::copy(result_path(&dir, 4), result_path(&dir, 3)).unwrap();
    let trial = dir.join("trials/trial-0003.toml");
    let out = nerve(&["tune", "--run-trial", trial.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("running the trial again"), "{stderr}");
    assert!(!stderr.contains("already ran"), "{stderr}");
    ok(&collect);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

/// `kill -9` of a process, `after` from its start.
fn kill_after(mut child: std::process::Child, after: Duration) -> Option<std::process::ExitStatus> {
    std::thread::sleep(after);
    let _ = child.kill();
    child.wait().ok()
}

#[test]
fn kill_9_while_planning_or_running_leaves_no_temporary_past_the_next_start() {
    // Planning 3,000 trial files (each written atomically, synced) takes a few seconds: killed
    // at seeded moments within it, the same command completes the plan, every file whole.
    let dir = scratch().join("search-killed-plan");
    let _ = std::fs::remove_dir_all(&dir);
    let space = file(
        "faults-large.toml",
        "[optimizer]\nlearning_rate = [0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]\n\n[training]\nbatch_size = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256]\nnum_epochs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]\n",
    );
    let plan = [
        "tune",
        "--data",
        "iris",
        "--space",
        &space,
        "--plan",
        dir.to_str().unwrap(),
    ];
    let mut state = 0x36u64;
    for _ in 0..5 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let after = Duration::from_millis(100 + (state >> 33) % 1500);
        let child = Command::new(env!("CARGO_BIN_EXE_nerve"))
            .current_dir(scratch())
            .args(plan)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill_after(child, after);
        // Whatever the kill left parses (its temporaries aside).
        check_folder(&dir);
    }
    // A temporary of a writer long dead (pid past Linux's maximum), as a kill leaves one.
    let trials = dir.join("trials");
    std::fs::create_dir_all(&trials).unwrap();
    let stale = trials.join(".trial-0009.toml.AbC123.4194304.tmp");
    std::fs::write(&stale, b"[half").unwrap();
    let out = ok(&plan);
    let _ = out;
    assert!(
        check_folder(&dir).is_empty(),
        "temporaries left after planning again"
    );
    assert_eq!(std::fs::read_dir(&trials).unwrap().count(), 3000);
    std::fs::remove_dir_all(&dir).unwrap();

    // A search killed outright (with its trial processes) while trials run: the next start
    // removes what they left, keeps the finished results and runs the rest.
    let dir = scratch().join("search-killed-run");
    let _ = std::fs::remove_dir_all(&dir);
    let args = search_args(&dir, "300");
    use std::os::unix::process::CommandExt as _;
    let search = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(scratch())
        .args(&args)
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !result_path(&dir, 0).exists() && !result_path(&dir, 1).exists() {
        assert!(Instant::now() < deadline, "no trial finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill")
        .args(["-9", "--", &format!("-{}", search.id())])
        .status()
        .unwrap();
    let _ = search.wait_with_output();
    std::fs::write(dir.join("trials/.trial-0005.json.XyZ789.4194304.tmp"), b"{").unwrap();
    std::fs::write(dir.join(".results.csv.XyZ789.4194304.tmp"), b"rank").unwrap();
    // Another machine's temporary (a shared folder, its writer perhaps alive there) stays.
    let elsewhere = dir.join("trials/.trial-0004.json.XyZ789.4194304@another-node.tmp");
    std::fs::write(&elsewhere, b"{").unwrap();
    let out = run(&args);
    assert!(elsewhere.exists());
    std::fs::remove_file(&elsewhere).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listed_trials(&dir).len(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_grid_too_large_to_search_is_refused_at_once_with_its_count() {
    // The reported grid: 6 settings of 10 values each, a million points.
    let values = |v: &[&str]| format!("[{}]", v.join(", "));
    let ten = |f: fn(usize) -> String| (1..=10).map(f).collect::<Vec<_>>();
    let lr = ten(|i| format!("{}", i as f64 / 1000.0));
    let beta = ten(|i| format!("{}", 0.5 + i as f64 / 25.0));
    let batch = ten(|i| (i * 8).to_string());
    let epochs = ten(|i| (i * 5).to_string());
    let hidden = ten(|i| format!("[{}]", i * 4));
    let activation = ten(|i| format!("\"{}\"", if i % 2 == 0 { "relu" } else { "tanh" }));
    let refs = |v: &[String]| values(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let million = file(
        "faults-million.toml",
        format!(
            "[optimizer]\nlearning_rate = {}\nbeta_1 = {}\n\n[training]\nbatch_size = {}\nnum_epochs = {}\n\n[model]\nd_hidden = {}\nactivation = {}\n",
            refs(&lr),
            refs(&beta),
            refs(&batch),
            refs(&epochs),
            refs(&hidden),
            refs(&activation)
        ),
    );
    let dir = scratch().join("search-million");
    for mode in ["--plan", "--out"] {
        fails(
            &[
                "tune",
                "--data",
                "iris",
                "--space",
                &million,
                mode,
                dir.to_str().unwrap(),
            ],
            "the grid has 1,000,000 points (10 x 10 x 10 x 10 x 10 x 10 values of 6 settings); a search runs at most 10,000 trials",
        );
        assert!(!dir.join("trials").exists(), "{mode}: trial files written");
    }
    // More of the kind: --trials past the limit on a random space (a grid that overflows 64
    // bits is the unit test's); a sample of the grid within the limit is planned.
    // One list of 20,001 values: counted before any value is checked.
    let long = file(
        "faults-long.toml",
        format!(
            "[optimizer]\nlearning_rate = [{}]\n",
            (1..=20_001)
                .map(|i| format!("{}", f64::from(i) * 1e-6))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &long,
            "--plan",
            dir.to_str().unwrap(),
        ],
        "the grid has 20,001 points (20001 values of 1 settings)",
    );
    // An empty range is refused, not dropped from the search.
    let empty = file(
        "faults-empty.toml",
        "[optimizer]\nlearning_rate = {}\n[training]\nbatch_size = [16, 32]\n",
    );
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &empty,
            "--plan",
            dir.to_str().unwrap(),
        ],
        "line 2: `optimizer.learning_rate` = {}: an empty range",
    );
    let random = file(
        "faults-random.toml",
        "[optimizer]\nlearning_rate = { log-uniform = [1e-4, 1e-1] }\n",
    );
    fails(
        &[
            "tune",
            "--data",
            "iris",
            "--space",
            &random,
            "--trials",
            "20000",
            "--plan",
            dir.to_str().unwrap(),
        ],
        "--trials 20,000: a search runs at most 10,000 trials",
    );
    assert!(!dir.join("trials").exists());
    ok(&[
        "tune",
        "--data",
        "iris",
        "--space",
        &million,
        "--trials",
        "40",
        "--plan",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_dir(dir.join("trials")).unwrap().count(), 40);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The nerve processes whose command line names `text`.
fn processes_naming(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let program = cmdline.split(' ').next().unwrap_or("");
        if cmdline.contains(text) && program.ends_with("/nerve") {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn a_full_disk_stops_the_search_after_its_trials_and_the_search_resumes_once_there_is_room() {
    let mount = scratch().join("search-full-disk");
    let Some(_tmpfs) = Tmpfs::mount(&mount, "1m") else {
        return;
    };
    let dir = mount.join("search");
    let args = search_args(&dir, "150");
    // The search starts with room; once its first trial processes run, a file fills the disk
    // to the last byte, so the trials' results cannot be written.
    let search = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(scratch())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_naming("--run-trial")
        .iter()
        .all(|p| !p.contains(dir.to_str().unwrap()))
    {
        assert!(Instant::now() < deadline, "no trial started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let filler = mount.join("filler");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&[0]).is_ok() {}
    }
    let out = search.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The search returned only after every trial process it started had ended, and released
    // its lock: nothing writes into the folder any more.
    assert!(
        processes_naming(dir.to_str().unwrap()).is_empty(),
        "{:?}",
        processes_naming(dir.to_str().unwrap())
    );
    assert!(!dir.join(".nerve.lock").exists());
    let before: Vec<PathBuf> = std::fs::read_dir(dir.join("trials"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let after: Vec<PathBuf> = std::fs::read_dir(dir.join("trials"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        before, after,
        "the folder changed after the search returned"
    );
    assert!(
        check_folder(&dir).is_empty(),
        "temporaries left on a full disk"
    );
    // Room again: the same command completes the search, every trial scored.
    std::fs::remove_file(&filler).unwrap();
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(table.lines().count(), 7, "{table}");
    assert!(!table.contains("failed"), "{table}");
}
