//! Fault injection (issue 14): `kill -9` at seeded moments of training and saving, a full
//! disk (a small tmpfs), a checkpoint folder taken away mid-run, damaged, foreign and
//! half-written checkpoints, and two runs on one folder. After each, every file in the run
//! folder parses, no temporary outlives the next start of a run there, and `--resume` either
//! ends bit-identical to an uninterrupted run or refuses with a clear message.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Tmpfs, fails, nerve, ok, scratch, tensors, train};

/// A run of ~2 s with a validation split and early-stopping bookkeeping (so checkpoints carry
/// `best.safetensors` too), checkpointing every epoch (at most once a second).
const ARGS: &[&str] = &[
    "--data",
    "digits",
    "--hidden",
    "64",
    "--batch-size",
    "32",
    "--epochs",
    "400",
    "--val-split",
    "0.2",
    "--patience",
    "100000",
];

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(scratch())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Asserts that every file under `dir` parses as what its name says, and returns the
/// temporaries found (`.NAME.PID.tmp`).
fn check_files(dir: &Path) -> Vec<PathBuf> {
    let mut temporaries = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return temporaries;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            assert!(
                name == "checkpoint" || name.starts_with("epoch-"),
                "unexpected folder {}",
                path.display()
            );
            temporaries.extend(check_files(&path));
            continue;
        }
        let what = path.display().to_string();
        match name.as_str() {
            _ if name.starts_with('.') && name.ends_with(".tmp") => temporaries.push(path),
            ".nerve.lock" => {
                // Empty only if killed between truncating it and writing the pid.
                let pid = text(&path);
                assert!(
                    pid.is_empty() || pid.trim().parse::<u32>().is_ok(),
                    "{what}: {pid:?}"
                );
            }
            "config.toml" => {
                let out = nerve(&["train", "--config", &what, "--print-config"]);
                assert!(
                    out.status.success(),
                    "{what}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            "run.json" | "metrics.json" | "manifest.json" => {
                serde_json::from_str::<Value>(&text(&path))
                    .unwrap_or_else(|err| panic!("{what}: {err}"));
            }
            "history.jsonl" => {
                for line in text(&path).lines() {
                    serde_json::from_str::<Value>(line)
                        .unwrap_or_else(|err| panic!("{what}: {err}"));
                }
            }
            "history.csv" => {
                let text = text(&path);
                let mut lines = text.lines();
                let width = lines.next().unwrap_or_default().split(',').count();
                assert!(width > 2, "{what}: no header");
                for line in lines {
                    assert_eq!(line.split(',').count(), width, "{what}: {line}");
                }
            }
            _ if name.ends_with(".safetensors") => {
                let bytes = std::fs::read(&path).unwrap();
                safetensors::SafeTensors::deserialize(&bytes)
                    .unwrap_or_else(|err| panic!("{what}: {err}"));
            }
            _ if name.ends_with(".svg") => {
                roxmltree::Document::parse(&text(&path))
                    .unwrap_or_else(|err| panic!("{what}: {err}"));
            }
            // Verified against its manifest's SHA-256 by --resume.
            "optimizer.bpk" => {}
            _ => panic!("unexpected file {what}"),
        }
    }
    temporaries
}

/// The messages a refused `--resume` of a killed run may give: killed before the run folder
/// held a config, or before the first checkpoint.
const REFUSALS: &[&str] = &[
    "is not a run folder to resume",
    "has no checkpoint to resume from",
];

/// splitmix64: the kill timings, seeded, so a failure replays.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn kill_9_at_twenty_seeded_moments_resumes_bit_identically_or_refuses() {
    let started = Instant::now();
    let (reference, summary) = train("kill-reference", ARGS);
    let duration = started.elapsed();
    let expected = tensors(reference.join("model.safetensors"));
    let (mut resumed, mut refused) = (0, 0);
    let mut states = Vec::new();
    let mut seed = 14;
    for i in 0..20 {
        // One moment in each of twenty strata of the span from the start to 20 % past the end
        // of an uninterrupted run, denser at the start where the states change fastest:
        // starting, reading the data, the first checkpoint, training, the final save, and
        // (past the end) a finished run.
        let fraction = (i as f64 + (next(&mut seed) % 1000) as f64 / 1000.0) / 20.0;
        let delay = duration.mul_f64(1.2 * fraction * fraction);
        let dir = scratch().join(format!("kill-{i}"));
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.to_str().unwrap();
        let mut child = spawn(&[&["train", "--quiet", "--out", out][..], ARGS].concat());
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        check_files(&dir);
        let state = match std::fs::read_to_string(dir.join("checkpoint/manifest.json")) {
            Ok(text) => {
                let manifest: Value = serde_json::from_str(&text).unwrap();
                format!("checkpoint of epoch {}", manifest["epoch"])
            }
            Err(_) if dir.join("config.toml").exists() => "no checkpoint".to_owned(),
            Err(_) => "no run".to_owned(),
        };
        states.push(format!("{delay:.2?}: {state}"));

        let attempt = nerve(&["train", "--resume", out, "--json", "--quiet"]);
        let stderr = String::from_utf8_lossy(&attempt.stderr);
        let context = format!("kill {i} after {delay:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{context}");
        if attempt.status.success() {
            resumed += 1;
            let stdout = String::from_utf8_lossy(&attempt.stdout);
            let result: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(result["test"], summary["test"], "{context}");
            assert_eq!(
                tensors(dir.join("model.safetensors")),
                expected,
                "{context}"
            );
        } else {
            refused += 1;
            assert_eq!(attempt.status.code(), Some(1), "{context}");
            assert!(REFUSALS.iter().any(|m| stderr.contains(m)), "{context}");
            // The folder is not lost: a new run over it gives the uninterrupted result.
            ok(&[&["train", "--quiet", "--overwrite", "--out", out][..], ARGS].concat());
            assert_eq!(
                tensors(dir.join("model.safetensors")),
                expected,
                "{context}"
            );
        }
        let left = check_files(&dir);
        assert!(left.is_empty(), "{context}: temporaries left: {left:?}");
        assert!(!dir.join(".nerve.lock").exists(), "{context}");
    }
    eprintln!(
        "kill -9 ×20 (run of {duration:?}): {resumed} resumed bit-identically, {refused} refused and retrained; killed at {}",
        states.join(", ")
    );
    assert!(resumed > 0, "no kill left a checkpoint to resume");
}

/// Runs a long run into `dir` and waits until its first checkpoint is complete.
fn long_run(dir: &Path, extra: &[&str]) -> Child {
    let _ = std::fs::remove_dir_all(dir);
    let child = spawn(
        &[
            &["train", "--quiet", "--out", dir.to_str().unwrap()][..],
            &ARGS[..ARGS.len() - 6],
            // Long: digits' 1,437 training rows would turn early stopping on by default.
            &["--epochs", "1000000", "--early-stopping", "off"],
            extra,
        ]
        .concat(),
    );
    let manifest = dir.join("checkpoint/manifest.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !manifest.exists() {
        assert!(Instant::now() < deadline, "no checkpoint after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_second_run_on_a_busy_folder_is_refused_naming_the_holder() {
    let dir = scratch().join("busy");
    let mut first = long_run(&dir, &[]);
    let out = dir.to_str().unwrap();
    let holder = format!("process {}", first.id());
    let refused_at_once = Instant::now();
    for args in [
        &["train", "--data", "iris", "--out", out][..],
        &["train", "--data", "iris", "--out", out, "--overwrite"],
        &["train", "--resume", out],
    ] {
        let attempt = nerve(args);
        let stderr = String::from_utf8_lossy(&attempt.stderr);
        assert_eq!(attempt.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is in use by another nerve run") && stderr.contains(&holder),
            "{args:?}: {stderr}"
        );
    }
    assert!(refused_at_once.elapsed() < Duration::from_secs(30));
    // The first run's files are all its own: its checkpoint carries its run id.
    let run: Value = serde_json::from_str(&text(&dir.join("run.json"))).unwrap();
    let manifest: Value =
        serde_json::from_str(&text(&dir.join("checkpoint/manifest.json"))).unwrap();
    assert_eq!(run["run_id"], manifest["run_id"]);
    assert!(text(&dir.join("config.toml")).contains("digits"));
    first.kill().unwrap();
    first.wait().unwrap();
    // Killed, the holder no longer holds the lock: the folder resumes.
    let manifest: Value =
        serde_json::from_str(&text(&dir.join("checkpoint/manifest.json"))).unwrap();
    let epochs = (manifest["epoch"].as_u64().unwrap() + 2).to_string();
    ok(&["train", "--resume", out, "--epochs", &epochs, "--quiet"]);
    assert!(check_files(&dir).is_empty());
    assert_eq!(
        text(&dir.join("history.csv")).lines().count() - 1,
        epochs.parse::<usize>().unwrap()
    );
}

#[test]
fn two_runs_started_together_on_one_folder_never_mix() {
    for round in 0..3 {
        let dir = scratch().join(format!("race-{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.to_str().unwrap();
        let run = |data: &'static str| {
            let out = out.to_owned();
            std::thread::spawn(move || {
                nerve(&[
                    "train", "--data", data, "--epochs", "20", "--out", &out, "--quiet",
                ])
            })
        };
        let (a, b) = (run("iris"), run("wine"));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let winners: Vec<usize> = (0..2).filter(|&i| results[i].status.success()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one run may own the folder"
        );
        let loser = String::from_utf8_lossy(&results[1 - winners[0]].stderr).into_owned();
        assert!(
            loser.contains("is in use by another nerve run")
                || loser.contains("holds an earlier run"),
            "{loser}"
        );
        let data = ["iris", "wine"][winners[0]];
        let config = text(&dir.join("config.toml"));
        let metrics = text(&dir.join("metrics.json"));
        assert!(
            config.contains(data) && metrics.contains(data),
            "{config}\n{metrics}"
        );
        assert!(check_files(&dir).is_empty());
    }
}

#[test]
fn a_checkpoint_that_cannot_be_written_stops_the_run_with_its_model_saved() {
    // Issue 14.8: a checkpoint failure warned, trained on and saved nothing.
    let dir = scratch().join("checkpoint-taken");
    let mut child = long_run(&dir, &[]);
    // The checkpoint folder is taken away and a file stands in its place.
    let aside = scratch().join("checkpoint-aside");
    let _ = std::fs::remove_dir_all(&aside);
    std::fs::rename(dir.join("checkpoint"), &aside).unwrap();
    std::fs::write(dir.join("checkpoint"), b"in the way").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the run went on without checkpoints"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let epochs = text(&dir.join("history.csv")).lines().count() - 1;
    assert!(epochs > 0);
    let summary: Value = serde_json::from_str(&text(&dir.join("metrics.json"))).unwrap();
    assert_eq!(summary["epochs_run"], epochs);
    // Found by a review: the run was recorded as "interrupted".
    assert_eq!(summary["stop_reason"], "checkpoint_failed");
    ok(&[
        "eval",
        "--model",
        dir.join("model.safetensors").to_str().unwrap(),
        "--data",
        "digits",
    ]);
    std::fs::remove_file(dir.join("checkpoint")).unwrap();
    assert!(check_files(&dir).is_empty());
}

#[test]
fn a_folder_that_cannot_be_written_is_reported_before_training() {
    // --out names a file: refused at once, the file untouched.
    let out = scratch().join("file-not-folder");
    std::fs::write(&out, b"x").unwrap();
    let started = Instant::now();
    fails(
        &[&["train", "--out", out.to_str().unwrap()][..], ARGS].concat(),
        "cannot create run folder",
    );
    assert_eq!(text(&out), "x");
    // A folder under a file: the same.
    let nested = out.join("run");
    fails(
        &[&["train", "--out", nested.to_str().unwrap()][..], ARGS].concat(),
        "cannot create run folder",
    );
    // Both before a single epoch of the ~2 s run.
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// Trains with `args` into a run folder on a tmpfs of `size` (`None` without root), and
/// checks what every full disk must leave: exit 1 saying so, no temporary, every file whole,
/// the model saved (it is written first). Returns the folder (with the mount, unmounted on
/// drop) and stderr.
fn on_a_full_disk(name: &str, size: &str, args: &[&str]) -> Option<(Tmpfs, PathBuf, String)> {
    let mount = scratch().join(name);
    // Without root, the write-failure tests above stand.
    let tmpfs = Tmpfs::mount(&mount, size)?;
    let dir = mount.join("run");
    let out = nerve(
        &[
            &["train", "--quiet", "--out", dir.to_str().unwrap()][..],
            args,
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("No space left on device") && !stderr.contains("\u{1b}["),
        "{stderr}"
    );
    assert!(
        check_files(&dir).is_empty(),
        "temporaries left on a full disk"
    );
    ok(&[
        "inspect",
        "--model",
        dir.join("model.safetensors").to_str().unwrap(),
    ]);
    Some((tmpfs, dir, stderr))
}

#[test]
fn a_full_disk_stops_the_run_keeping_the_model_and_no_temporary() {
    // Issue 14.7/14.8: a full disk left 6–33 MB temporaries and discarded the run.
    // ~300 KB of weights: a checkpoint (the weights and Adam's two moments, ~900 KB) cannot
    // fit, the model and history can.
    let args = ["--data", "digits", "--hidden", "1000", "--epochs", "3"];
    let Some((_tmpfs, dir, stderr)) = on_a_full_disk("full-disk", "700k", &args) else {
        return;
    };
    assert!(
        stderr.contains("cannot write the checkpoint of epoch 1")
            && stderr.contains("no checkpoint was written"),
        "{stderr}"
    );
    assert_eq!(text(&dir.join("history.csv")).lines().count(), 2);
    fails(
        &["train", "--resume", dir.to_str().unwrap()],
        "has no checkpoint to resume from",
    );
}

#[test]
fn a_full_disk_late_in_a_run_names_the_checkpoint_to_resume() {
    // Found by reviews: checkpoints fit for a few hundred epochs, then the disk filled — in a
    // checkpoint (3000 epochs) or while saving the results after the last one (700 epochs);
    // the run ended with only "cannot write history.jsonl", naming no checkpoint.
    for epochs in ["3000", "700"] {
        let args = [
            &ARGS[..ARGS.len() - 6],
            &[
                "--epochs",
                epochs,
                "--val-split",
                "0.2",
                "--early-stopping",
                "off",
            ],
        ]
        .concat();
        let Some((_tmpfs, _, stderr)) =
            on_a_full_disk(&format!("full-disk-late-{epochs}"), "700k", &args)
        else {
            return;
        };
        assert!(
            stderr.contains("continues from") && stderr.contains("checkpoint of epoch"),
            "{epochs}: {stderr}"
        );
    }
}

#[test]
fn ctrl_c_between_checkpoint_intervals_still_checkpoints_the_epoch_it_stopped_at() {
    // Found by a review: with --checkpoint-every 1000, Ctrl-C at epoch 650 said "--resume
    // continues it", and --resume found no checkpoint.
    let dir = scratch().join("interrupt-interval");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let child = spawn(
        &[
            &[
                "train",
                "--quiet",
                "--out",
                out,
                "--checkpoint-every",
                "1000",
            ][..],
            ARGS,
        ]
        .concat(),
    );
    // Wait for training to start (the config is written just before), then a little more.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("config.toml").exists() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let manifest: Value =
        serde_json::from_str(&text(&dir.join("checkpoint/manifest.json"))).unwrap();
    let epochs = text(&dir.join("history.csv")).lines().count() as u64 - 1;
    assert_eq!(manifest["epoch"].as_u64(), Some(epochs));
    let (reference, _) = train("interrupt-reference", ARGS);
    ok(&["train", "--resume", out, "--quiet"]);
    assert_eq!(
        tensors(dir.join("model.safetensors")),
        tensors(reference.join("model.safetensors"))
    );
}

#[test]
fn the_epoch_a_run_stops_at_is_its_last_checkpoint() {
    // Found by a review: early stopping (or --tol) ended a run a few epochs after its last
    // throttled checkpoint, so --resume replayed them.
    for (name, stop) in [
        (
            "stop-patience",
            &[
                "--patience",
                "3",
                "--min-delta",
                "0.5",
                "--val-split",
                "0.2",
            ][..],
        ),
        ("stop-tol", &["--tol", "1e9"]),
    ] {
        let (run, summary) = train(
            name,
            &[&["--data", "iris", "--epochs", "500"][..], stop].concat(),
        );
        let manifest: Value =
            serde_json::from_str(&text(&run.join("checkpoint/manifest.json"))).unwrap();
        assert_eq!(manifest["epoch"], summary["epochs_run"], "{name}");
        assert!(
            summary["epochs_run"].as_u64().unwrap() < 500,
            "{name}: {summary}"
        );
    }
}

#[test]
fn resume_refuses_what_would_mix_two_runs() {
    let args = [
        "--data",
        "iris",
        "--epochs",
        "6",
        "--patience",
        "100",
        "--val-split",
        "0.2",
    ];
    let (run, _) = train("resume-mix", &args);
    let out = run.to_str().unwrap();
    let before = snapshot(&run);
    // --out or --init beside --resume: a usage error (the run continues in its own folder,
    // from its own checkpoint).
    for extra in [
        &["--out", "elsewhere"][..],
        &["--init", "m.safetensors"],
        &["--overwrite"],
    ] {
        let attempt = nerve(&[&["train", "--resume", out][..], extra].concat());
        assert_eq!(attempt.status.code(), Some(2), "{extra:?}");
        assert!(String::from_utf8_lossy(&attempt.stderr).contains("cannot be used with"));
    }
    // --epochs below the checkpoint's epoch.
    fails(
        &["train", "--resume", out, "--epochs", "3"],
        "past --epochs 3; give --epochs 6 or more",
    );
    // A changed setting is named by its key.
    fails(
        &["train", "--resume", out, "--seed", "1"],
        "these settings differ: training.seed.",
    );
    // A hand-edited manifest (the best epoch moved).
    let manifest_path = run.join("checkpoint/manifest.json");
    let manifest = text(&manifest_path);
    let edited = manifest.replacen("\"best_epoch\": ", "\"best_epoch\": 1", 1);
    assert_ne!(edited, manifest);
    std::fs::write(&manifest_path, &edited).unwrap();
    fails(
        &["train", "--resume", out, "--epochs", "9"],
        "the manifest was edited or damaged",
    );
    std::fs::write(&manifest_path, &manifest).unwrap();
    assert_eq!(snapshot(&run), before);

    // The data file changed since the checkpoint: other rows.
    let csv_path = scratch().join("resume-data.csv");
    let mut csv = String::from("a,b,y\n");
    for i in 0..60 {
        csv.push_str(&format!("{},{},{}\n", i % 7, i % 5, i % 2));
    }
    std::fs::write(&csv_path, &csv).unwrap();
    let (run, _) = train(
        "resume-data",
        &["--data", csv_path.to_str().unwrap(), "--epochs", "4"],
    );
    csv.push_str("3,3,1\n");
    std::fs::write(&csv_path, &csv).unwrap();
    fails(
        &["train", "--resume", run.to_str().unwrap(), "--epochs", "8"],
        "trained on other rows than the data now gives",
    );
}

#[test]
fn a_run_from_init_resumes_with_the_init_models_preprocessing() {
    // Found by a review: a resumed `--init` run refitted the preprocessing and was refused as
    // "trained on other rows".
    let (base, _) = train(
        "init-base",
        &["--data", "iris", "--epochs", "5", "--split-seed", "7"],
    );
    let init = base.join("model.safetensors");
    let args = [
        "--data",
        "iris",
        "--epochs",
        "12",
        "--init",
        init.to_str().unwrap(),
    ];
    let (whole, _) = train("init-whole", &args);
    let part_args = [
        "--data",
        "iris",
        "--epochs",
        "6",
        "--init",
        init.to_str().unwrap(),
    ];
    let (part, _) = train("init-part", &part_args);
    ok(&[
        "train",
        "--resume",
        part.to_str().unwrap(),
        "--epochs",
        "12",
        "--quiet",
    ]);
    assert_eq!(
        tensors(part.join("model.safetensors")),
        tensors(whole.join("model.safetensors"))
    );
}

#[test]
fn a_schedule_laid_over_the_epoch_limit_keeps_it_on_resume() {
    // Found by a review: a cosine run resumed with more epochs jumped from the end of one
    // schedule into the middle of another.
    let args = ["--data", "iris", "--epochs", "8", "--schedule", "cosine"];
    let (run, _) = train("cosine-run", &args);
    let out = run.to_str().unwrap();
    fails(
        &["train", "--resume", out, "--epochs", "12"],
        "the cosine schedule spans the run's 8 epochs",
    );
    // The same limit resumes (here: nothing left to train); a step schedule may grow.
    ok(&["train", "--resume", out, "--epochs", "8", "--quiet"]);
    let (run, _) = train(
        "step-run",
        &["--data", "iris", "--epochs", "8", "--schedule", "step"],
    );
    ok(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "12",
        "--quiet",
    ]);
}

#[test]
fn refused_commands_leave_the_disk_as_it_was() {
    // Found by a review: a schedule burn refused only once training began, after --overwrite
    // had removed the earlier run; `a/b/../c` left `a/b` behind.
    let (run, _) = train("refused-overwrite", &["--data", "iris", "--epochs", "2"]);
    let before = snapshot(&run);
    fails(
        &[
            "train",
            "--data",
            "iris",
            "--out",
            run.to_str().unwrap(),
            "--overwrite",
            "--schedule",
            "cosine",
            "--min-lr",
            "1",
        ],
        "Minimum learning rate",
    );
    assert_eq!(snapshot(&run), before);
    let top = scratch().join("refused-parents");
    let _ = std::fs::remove_dir_all(&top);
    for out in [top.join("a/b/../c"), top.join("p/q/r")] {
        fails(
            &[
                "train",
                "--data",
                "no-such.csv",
                "--out",
                out.to_str().unwrap(),
            ],
            "no-such.csv",
        );
    }
    assert!(!top.exists(), "a refused command left folders behind");
    // --out inside another run's folder (its checkpoint folder, say) is refused.
    fails(
        &[
            "train",
            "--data",
            "iris",
            "--out",
            run.join("checkpoint/inner").to_str().unwrap(),
        ],
        "lies inside the run folder",
    );
}

#[test]
fn save_never_replaces_a_run_folders_files() {
    let (other, _) = train("save-other", &["--data", "iris", "--epochs", "2"]);
    let own = scratch().join("save-own");
    let _ = std::fs::remove_dir_all(&own);
    let out = own.to_str().unwrap();
    let save_args = [
        "train", "--data", "iris", "--epochs", "2", "--out", out, "--save",
    ];
    for (save, expected) in [
        (
            own.join("run.json"),
            "would replace a file of the run folder itself",
        ),
        (
            own.join("config.toml"),
            "would replace a file of the run folder itself",
        ),
        (own.join("checkpoint/manifest.json"), "does not exist"),
        (other.join("model.safetensors"), "is another run's folder"),
        (other.join("copy.safetensors"), "is another run's folder"),
        // Other spellings of the same places.
        (
            own.join("../save-own/config.toml"),
            "would replace a file of the run folder itself",
        ),
        (
            other.join("../save-other/copy.safetensors"),
            "is another run's folder",
        ),
        // A folder the run does not make.
        (own.join("sub/m.safetensors"), "does not exist"),
        // A file that is not a model: the data itself.
        (
            PathBuf::from(common::file("save-data.csv", "a,y\n1,0\n2,1\n")),
            "not a model file",
        ),
    ] {
        let save = save.to_str().unwrap();
        fails(&[&save_args[..], &[save]].concat(), expected);
    }
    // A copy inside the run's own folder, under a name of its own, is fine.
    let copy = own.join("copy.safetensors");
    ok(&[&save_args[..], &[copy.to_str().unwrap(), "--quiet"]].concat());
    assert!(copy.is_file() && check_files(&own).is_empty());
}

#[test]
fn damaged_foreign_and_half_written_checkpoints() {
    let args = ["--data", "iris", "--epochs", "6", "--patience", "100"];
    let (run, summary) = train("checkpoint-kinds", &args);
    let out = run.to_str().unwrap();
    let checkpoint = run.join("checkpoint");

    // A kill between a new checkpoint's files and its manifest: an epoch folder the
    // manifest does not name, half written, and a temporary of a dead writer.
    let partial = checkpoint.join("epoch-000007");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("model.safetensors"), b"\x10\x00").unwrap();
    std::fs::write(checkpoint.join(".manifest.json.4194304.tmp"), b"{").unwrap();
    let (_, whole) = train(
        "checkpoint-kinds-whole",
        &["--data", "iris", "--epochs", "9", "--patience", "100"],
    );
    let resumed = ok(&[
        "train", "--resume", out, "--epochs", "9", "--json", "--quiet",
    ]);
    let resumed: Value = serde_json::from_str(resumed.lines().last().unwrap()).unwrap();
    assert_eq!(resumed["test"], whole["test"]);
    assert!(!partial.exists() && check_files(&run).is_empty());
    assert_eq!(summary["epochs_run"], 6);

    // A damaged file: refused, naming it, and nothing changes.
    let (run, _) = train("checkpoint-damaged", &args);
    let out = run.to_str().unwrap();
    let model = run.join("checkpoint/epoch-000006/model.safetensors");
    let mut bytes = std::fs::read(&model).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let before = snapshot(&run);
    fails(
        &["train", "--resume", out, "--epochs", "9"],
        "the checkpoint is damaged",
    );
    assert_eq!(snapshot(&run), before);
    // A file missing (an optimizer state lost).
    std::fs::write(&model, {
        bytes[last] ^= 1;
        &bytes
    })
    .unwrap();
    std::fs::remove_file(run.join("checkpoint/epoch-000006/optimizer.bpk")).unwrap();
    fails(
        &["train", "--resume", out, "--epochs", "9"],
        "the checkpoint is incomplete",
    );

    // Another run's checkpoint, copied in: refused by its run id.
    let (other, _) = train("checkpoint-other", &args);
    let (run, _) = train("checkpoint-foreign", &args);
    std::fs::remove_dir_all(run.join("checkpoint")).unwrap();
    copy_dir(&other.join("checkpoint"), &run.join("checkpoint"));
    fails(
        &["train", "--resume", run.to_str().unwrap(), "--epochs", "9"],
        "the checkpoint belongs to another run",
    );

    // Issue 14.10: a new run over an old one with --checkpoint-every 0 resumed the old run's
    // checkpoint under the new config. Now the old checkpoint goes with --overwrite, and
    // the run id would refuse it anyway.
    let (run, _) = train("checkpoint-replaced", &args);
    let out = run.to_str().unwrap();
    ok(&[
        "train",
        "--data",
        "diabetes",
        "--epochs",
        "2",
        "--checkpoint-every",
        "0",
        "--out",
        out,
        "--overwrite",
        "--quiet",
    ]);
    assert!(!run.join("checkpoint").exists());
    fails(
        &["train", "--resume", out, "--epochs", "4"],
        "has no checkpoint to resume from",
    );

    // config.toml edited after the checkpoint: refused by the config's hash.
    let (run, _) = train("checkpoint-edited", &args);
    let config = run.join("config.toml");
    let edited = text(&config).replace("seed = 42", "seed = 43");
    assert_ne!(edited, text(&config));
    std::fs::write(&config, edited).unwrap();
    fails(
        &["train", "--resume", run.to_str().unwrap(), "--epochs", "9"],
        "written under another config",
    );
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(snapshot(&path));
        } else {
            all.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    all.sort();
    all
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
