//! The CLI's surface: help that names defaults, headings and examples, and a flag for every key
//! of a run config.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;

use crate::common::nerve;

/// Every key of the printed config as `section.key` (top-level keys bare), with its value.
fn keys(config: &str) -> Vec<(String, String)> {
    let table: toml::Table = config.parse().unwrap();
    let mut keys = Vec::new();
    for (name, value) in &table {
        match value {
            toml::Value::Table(section) => {
                for (key, value) in section {
                    keys.push((format!("{name}.{key}"), value.to_string()));
                }
            }
            value => keys.push((name.clone(), value.to_string())),
        }
    }
    keys
}

/// Each key of a run config, the flags that set it (on top of `--data iris`) and the value it
/// then has.
const FLAGS: [(&str, &[&str], &str); 64] = [
    ("backend", &["--backend", "ndarray"], "\"ndarray\""),
    ("data.path", &["--data", "wine"], "\"wine\""),
    (
        "data.target",
        &["--target", "petal_width_cm"],
        "\"petal_width_cm\"",
    ),
    (
        "data.task",
        &["--data", "xor", "--task", "regression"],
        "\"regression\"",
    ),
    (
        "data.ignore",
        &["--ignore", "sepal_width_cm"],
        "[\"sepal_width_cm\"]",
    ),
    ("data.delimiter", &["--delimiter", ","], "\",\""),
    ("data.missing", &["--missing", "impute"], "\"impute\""),
    ("data.na_values", &["--na-values", "?"], "[\"?\"]"),
    ("data.thousands", &["--thousands", "'"], "\"'\""),
    (
        "data.categorical",
        &["--categorical", "sepal_width_cm"],
        "[\"sepal_width_cm\"]",
    ),
    (
        "data.numeric",
        &["--numeric", "sepal_width_cm"],
        "[\"sepal_width_cm\"]",
    ),
    ("data.max_categories", &["--max-categories", "7"], "7"),
    ("data.standardize", &["--standardize", "none"], "\"none\""),
    (
        "data.standardize_target",
        &["--standardize-target", "false"],
        "false",
    ),
    ("data.test_split", &["--test-split", "0.3"], "0.3"),
    ("data.val_split", &["--val-split", "0.1"], "0.1"),
    ("data.split_seed", &["--split-seed", "7"], "7"),
    ("model.d_hidden", &["--hidden", "8,4"], "[8, 4]"),
    ("model.activation", &["--activation", "tanh"], "\"tanh\""),
    ("model.dropout", &["--dropout", "0.25"], "0.25"),
    (
        "model.initializer",
        &["--initializer", "xavier-normal"],
        "\"xavier-normal\"",
    ),
    (
        "spiking.neuron",
        &["--network", "spiking", "--neuron", "synaptic"],
        "\"synaptic\"",
    ),
    (
        "spiking.time_steps",
        &["--network", "spiking", "--time-steps", "7"],
        "7",
    ),
    (
        "spiking.beta",
        &["--network", "spiking", "--beta", "0.5"],
        "0.5",
    ),
    (
        "spiking.alpha",
        &[
            "--network",
            "spiking",
            "--neuron",
            "synaptic",
            "--synaptic-alpha",
            "0.25",
        ],
        "0.25",
    ),
    (
        "spiking.threshold",
        &["--network", "spiking", "--threshold", "1.5"],
        "1.5",
    ),
    (
        "spiking.learn_beta",
        &["--network", "spiking", "--learn-beta", "true"],
        "true",
    ),
    (
        "spiking.learn_threshold",
        &["--network", "spiking", "--learn-threshold", "true"],
        "true",
    ),
    (
        "spiking.reset",
        &["--network", "spiking", "--reset", "zero"],
        "\"zero\"",
    ),
    (
        "spiking.detach_reset",
        &["--network", "spiking", "--detach-reset", "false"],
        "false",
    ),
    (
        "spiking.surrogate",
        &["--network", "spiking", "--surrogate", "arctan"],
        "\"arctan\"",
    ),
    (
        "spiking.slope",
        &["--network", "spiking", "--slope", "5"],
        "5.0",
    ),
    (
        "spiking.encoding",
        &["--network", "spiking", "--encoding", "rate"],
        "\"rate\"",
    ),
    (
        "spiking.readout",
        &["--network", "spiking", "--readout", "spike-count"],
        "\"spike-count\"",
    ),
    (
        "loss.name",
        &["--data", "breast_cancer", "--loss", "bce"],
        "\"bce\"",
    ),
    (
        "loss.class_weight",
        &["--class-weight", "balanced"],
        "\"balanced\"",
    ),
    ("optimizer.name", &["--optimizer", "sgd"], "\"sgd\""),
    ("optimizer.learning_rate", &["--lr", "0.5"], "0.5"),
    (
        "optimizer.momentum",
        &["--optimizer", "sgd", "--momentum", "0.5"],
        "0.5",
    ),
    (
        "optimizer.nesterov",
        &["--optimizer", "sgd", "--momentum", "0.5", "--nesterov"],
        "true",
    ),
    (
        "optimizer.weight_decay",
        &["--weight-decay", "0.25"],
        "0.25",
    ),
    ("optimizer.beta_1", &["--beta-1", "0.5"], "0.5"),
    ("optimizer.beta_2", &["--beta-2", "0.75"], "0.75"),
    ("optimizer.epsilon", &["--epsilon", "0.25"], "0.25"),
    ("optimizer.alpha", &["--alpha", "0.5"], "0.5"),
    ("schedule.name", &["--schedule", "step"], "\"step\""),
    ("schedule.warmup_epochs", &["--warmup-epochs", "3"], "3"),
    ("schedule.step_size", &["--step-size", "7"], "7"),
    ("schedule.gamma", &["--gamma", "0.5"], "0.5"),
    ("schedule.min_lr", &["--min-lr", "0.0005"], "0.0005"),
    ("schedule.patience", &["--plateau-patience", "4"], "4"),
    ("schedule.factor", &["--plateau-factor", "0.5"], "0.5"),
    (
        "schedule.threshold",
        &["--plateau-threshold", "0.25"],
        "0.25",
    ),
    ("schedule.cooldown", &["--plateau-cooldown", "2"], "2"),
    ("training.num_epochs", &["--epochs", "12"], "12"),
    ("training.batch_size", &["--batch-size", "16"], "16"),
    ("training.seed", &["--seed", "9"], "9"),
    ("training.tol", &["--tol", "0.25"], "0.25"),
    ("training.patience", &["--patience", "5"], "5"),
    (
        "training.early_stopping",
        &["--early-stopping", "off"],
        "\"off\"",
    ),
    ("training.min_delta", &["--min-delta", "0.25"], "0.25"),
    (
        "training.monitor",
        &["--monitor", "train_loss"],
        "\"train_loss\"",
    ),
    (
        "data.weight_column",
        &["--weight-column", "petal_width_cm"],
        "\"petal_width_cm\"",
    ),
    (
        "training.clip_grad_norm",
        &["--clip-grad-norm", "1.5"],
        "1.5",
    ),
];

#[test]
fn every_config_key_has_a_flag_that_sets_it() {
    let mut seen = BTreeSet::new();
    for (key, flags, expected) in FLAGS {
        let mut args = vec!["train"];
        if !flags.contains(&"--data") {
            args.extend(["--data", "iris"]);
        }
        args.extend_from_slice(flags);
        args.push("--print-config");
        let out = nerve(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = keys(&text);
        let value = printed
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        assert_eq!(value, Some(expected), "{args:?} should set {key}:\n{text}");
        seen.extend(printed.into_iter().map(|(k, _)| k));
    }
    // Every key printed by any of those configs (optional keys included) is in the table, but
    // the checkpoint interval, which has a flag of its own below.
    let covered: BTreeSet<&str> = FLAGS.iter().map(|(k, _, _)| *k).collect();
    let missing: Vec<&String> = seen
        .iter()
        .filter(|k| !covered.contains(k.as_str()) && *k != "training.checkpoint_every")
        .collect();
    assert!(
        missing.is_empty(),
        "config keys without a flag: {missing:?}"
    );
    let out = nerve(&[
        "train",
        "--data",
        "iris",
        "--checkpoint-every",
        "3",
        "--print-config",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("checkpoint_every = 3"));
}

#[test]
fn help_is_grouped_with_defaults_examples_and_short_flags() {
    let out = nerve(&["train", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let headings: Vec<&str> = help
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .collect();
    assert_eq!(
        headings,
        [
            "Options:",
            "Data:",
            "Model:",
            "Spiking network:",
            "Loss:",
            "Optimizer:",
            "Schedule:",
            "Training:",
            "Config:",
            "Output:",
            "Examples:"
        ],
        "{help}"
    );
    for line in [
        "-d, --data <FILE|NAME>",
        "-e, --epochs <N>",
        "-o, --out <DIR>",
        "[default: 0.001]",
        "[default: 100]",
        "[default: adam]",
        "[possible values:",
        "leaky-relu]",
        "nerve train --config iris",
    ] {
        assert!(help.contains(line), "`{line}` missing:\n{help}");
    }
    for command in ["predict", "eval", "calibrate", "explain", "inspect", "plot"] {
        let out = nerve(&[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(help.contains("Examples:\n  nerve "), "{command}:\n{help}");
        if command != "plot" {
            assert!(help.contains("-m, --model <FILE>"), "{command}:\n{help}");
        }
    }
}

/// `--help` when not on a terminal is wrapped at clap's default (100 columns), never a word
/// broken: every line fits.
#[test]
fn help_lines_fit_the_width() {
    // The examples fit 80 columns (they are not wrapped).
    for command in [
        "train",
        "predict",
        "eval",
        "calibrate",
        "explain",
        "inspect",
        "plot",
    ] {
        let out = nerve(&[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in help.lines().skip_while(|l| *l != "Examples:") {
            assert!(line.chars().count() <= 80, "{command}: {line}");
        }
    }
    for command in [
        "train",
        "predict",
        "eval",
        "calibrate",
        "explain",
        "inspect",
        "plot",
        "bench",
    ] {
        let out = nerve(&[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in help.lines() {
            assert!(
                line.chars().count() <= 100,
                "{command}: {} columns: {line}",
                line.chars().count()
            );
        }
    }
}

#[test]
fn empty_hidden_and_zero_epochs_are_refused_with_the_spelling_that_works() {
    let out = nerve(&["train", "--data", "iris", "--hidden", ""]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`none` for no hidden layer"), "{err}");
    for args in [
        &["train", "--data", "iris", "--epochs", "0"][..],
        // Another instance of the kind: a config file asking for no epochs.
        &["train", "--config", "iris", "-e", "0", "--quiet"][..],
    ] {
        let out = nerve(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("untrained model"), "{err}");
        assert!(err.contains("--init"), "{err}");
    }
}

/// A negative number given to a numeric flag reaches its range check (not "unexpected
/// argument '-0'").
#[test]
fn negative_values_are_checked_as_values() {
    for (flag, value, expected) in [
        ("--dropout", "-0.1", "dropout"),
        ("--val-split", "-0.5", "val_split"),
        ("--epochs", "-1", "invalid digit"),
    ] {
        let out = nerve(&["train", "--data", "iris", flag, value, "--print-config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flag} {value}");
        assert!(
            !err.contains("unexpected argument"),
            "{flag} {value}: {err}"
        );
        assert!(err.contains(expected), "{flag} {value}: {err}");
    }
}

#[test]
fn built_in_configs_are_reachable_by_name() {
    let out = nerve(&["train", "--config", "iris", "--print-config"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The file's own settings (configs/iris.toml, regenerated by `just tune-configs`).
    let file = std::fs::read_to_string(common::repo_file("configs/iris.toml")).unwrap();
    let hidden = file.lines().find(|l| l.starts_with("d_hidden = ")).unwrap();
    assert!(text.contains(hidden), "{hidden}\n{text}");
    let out = nerve(&["train", "--config", "nosuch"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("neither a file nor a built-in config"),
        "{err}"
    );
    assert!(err.contains("iris"), "{err}");
    let out = nerve(&["datasets"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("xor: its tuned config (`--config xor`) trains it as regression"),
        "{text}"
    );
}

/// What a run prints (its description, epoch table, preview, results) and `nerve datasets`
/// fit the terminal (`COLUMNS` stands in for one, as for clap): wide data (64 pixel columns,
/// 30 long names) wraps at spaces or drops preview columns. Piped without `COLUMNS`, lines stay
/// whole (for grep).
#[test]
fn what_commands_print_fits_the_terminal() {
    let run = |args: &[&str], columns: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nerve"));
        command.current_dir(common::scratch()).args(args);
        match columns {
            Some(c) => command.env("COLUMNS", c),
            None => command.env_remove("COLUMNS"),
        };
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for data in ["digits", "breast_cancer", "diabetes"] {
        let dir = common::scratch().join(format!("width-{data}"));
        let _ = std::fs::remove_dir_all(&dir);
        let args = [
            "train",
            "--data",
            data,
            "--epochs",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ];
        let text = run(&args, Some("80"));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{data}: {} columns: {line}",
                line.chars().count()
            );
        }
        // Piped without COLUMNS: the description's lines stay whole.
        if data == "digits" {
            std::fs::remove_dir_all(&dir).unwrap();
            let piped = run(&args, None);
            assert!(
                piped
                    .lines()
                    .any(|l| l.starts_with("Features: 64 numeric") && l.contains("-> 64 inputs")),
                "{piped}"
            );
        }
    }
    let text = run(&["datasets"], Some("80"));
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "datasets: {line}");
    }
}
