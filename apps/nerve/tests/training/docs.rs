//! Every command output README.md and the guide (`docs/*.md`) show is what nerve prints, so the
//! pages cannot go stale: each ```` ```console ```` block's `$ nerve …` commands run, in order,
//! in a scratch folder of their page's (a later block reads an earlier one's run folder), and
//! what each prints — its standard output, or its standard error when the shown output is an
//! `error:` — is matched against the lines below it.
//!
//! Matching, as trycmd's and insta's filters do for what varies between runs: a line `...`
//! stands for any lines, a line ending in `...` for any end of that line; words are compared
//! one by one (so a table's alignment may differ), numbers within 0.5 % (or 1e-6: a loss near
//! zero differs in its last digits between CPUs' kernels), and durations (`26.9 ms`) not at
//! all.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of a console block and the lines shown for it.
struct Example {
    /// The page and line of the command, for the failure message.
    place: String,
    args: Vec<String>,
    expected: Vec<String>,
}

/// The console blocks' commands of `page` (a path from the repository's root).
fn examples(page: &str) -> Vec<Example> {
    let text = std::fs::read_to_string(common::repo_file(page)).unwrap();
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let words = split_words(command);
            assert_eq!(
                words.first().map(String::as_str),
                Some("nerve"),
                "{page}:{}: a console block runs nerve",
                i + 1
            );
            examples.push(Example {
                place: format!("{page}:{}", i + 1),
                args: words[1..].to_vec(),
                expected: Vec::new(),
            });
        } else if let Some(example) = examples.last_mut() {
            example.expected.push(line.to_owned());
        }
    }
    examples
}

/// A command line's words: split at spaces, with '…' and "…" quoting.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), _) if c == q => quote = None,
            (None, ' ') => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            _ => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// A line's words with durations made one word, `<duration>`.
fn words(line: &str) -> Vec<String> {
    const UNITS: [&str; 6] = ["ns", "µs", "ms", "s", "min", "h"];
    // Commas separate words too, so a CSV line's numbers are compared one by one.
    let raw: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let is_unit = |w: &str| {
            let unit = w.split('/').next().unwrap_or_default();
            UNITS.contains(&unit.trim_end_matches([',', ';', ')', ':']))
        };
        if number(raw[i]).is_some() && raw.get(i + 1).is_some_and(|w| is_unit(w)) {
            out.push("<duration>".to_owned());
            i += 2;
            // `2 min 3 s`: the seconds belong to the same duration.
            if raw.get(i).and_then(|w| number(w)).is_some()
                && raw.get(i + 1).is_some_and(|w| is_unit(w))
            {
                i += 2;
            }
            continue;
        }
        out.push(raw[i].to_owned());
        i += 1;
    }
    out
}

/// A word's number, less the brackets and punctuation around it.
fn number(word: &str) -> Option<f64> {
    word.trim_start_matches('(')
        .trim_end_matches([')', ',', ';', ':', '%'])
        .parse()
        .ok()
}

/// Whether two words agree: equal, or numbers within the tolerance.
fn same_word(shown: &str, printed: &str) -> bool {
    if shown == printed {
        return true;
    }
    match (number(shown), number(printed)) {
        (Some(a), Some(b)) => (a - b).abs() <= (0.005 * a.abs().max(b.abs())).max(1e-6),
        _ => false,
    }
}

/// Whether a printed line matches a shown one (which may end in `...`).
fn same_line(shown: &str, printed: &str) -> bool {
    let (shown, open) = match shown.trim_end().strip_suffix("...") {
        Some(start) => (start, true),
        None => (shown, false),
    };
    let (a, b) = (words(shown), words(printed));
    if open {
        a.len() <= b.len() && a.iter().zip(&b).all(|(x, y)| same_word(x, y))
    } else {
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_word(x, y))
    }
}

/// Whether `printed` matches `shown`, where a shown line `...` stands for any lines.
fn same_lines(shown: &[String], printed: &[&str]) -> bool {
    match shown.split_first() {
        None => printed.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=printed.len()).any(|skip| same_lines(rest, &printed[skip..]))
        }
        Some((first, rest)) => printed
            .split_first()
            .is_some_and(|(line, more)| same_line(first, line) && same_lines(rest, more)),
    }
}

/// Runs every console example of `page` in a fresh folder and checks what each prints.
fn check_page(page: &str) {
    let examples = examples(page);
    assert!(!examples.is_empty(), "{page} shows no console example");
    let dir: PathBuf = common::scratch().join(page.replace('/', "-"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for example in examples {
        run(&example, &dir);
    }
}

fn run(example: &Example, dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve"))
        .current_dir(dir)
        .args(&example.args)
        .env("RUST_LOG", "warn")
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fails = example
        .expected
        .first()
        .is_some_and(|line| line.starts_with("error:"));
    assert_eq!(
        out.status.success(),
        !fails,
        "{}: `nerve {}` {}:\n{stderr}",
        example.place,
        example.args.join(" "),
        if fails { "should fail" } else { "failed" }
    );
    // A command shown without output (one that makes a run folder for the next) is only
    // checked to succeed.
    if example.expected.iter().all(|l| l.trim().is_empty()) {
        return;
    }
    let printed = if fails { &stderr } else { &stdout };
    let lines: Vec<&str> = printed.lines().collect();
    assert!(
        same_lines(&example.expected, &lines),
        "{}: `nerve {}` printed\n{printed}\nwhere the page shows\n{}",
        example.place,
        example.args.join(" "),
        example.expected.join("\n")
    );
}

#[test]
fn the_matching_rules_hold() {
    assert!(same_line(
        "Trained 293 epochs (gradient norm below tol, 26.9 ms, 92.0 µs/epoch); loss 5.530e-13",
        "Trained 293 epochs (gradient norm below tol, 1.2 s, 4.1 ms/epoch); loss 5.61e-13",
    ));
    assert!(!same_line("accuracy 0.9583", "accuracy 0.9667"));
    assert!(same_line("  fold  trained", "fold   trained"));
    assert!(same_line("0,setosa,0.9951733", "0,setosa,0.9951734"));
    assert!(!same_line("0,setosa,0.99", "0,versicolor,0.99"));
    assert!(same_line("Dead units: ...", "Dead units: 3 of them"));
    assert!(!same_line("a b", "a b c"));
    let printed = ["one", "two", "three", "four"];
    assert!(same_lines(
        &["one".into(), "...".into(), "four".into()],
        &printed
    ));
    assert!(!same_lines(&["one".into(), "four".into()], &printed));
    assert_eq!(
        split_words("nerve serve --model 'a b' \"c\""),
        ["nerve", "serve", "--model", "a b", "c"]
    );
    assert_eq!(
        words("took 2 min 3 s, then"),
        ["took", "<duration>", "then"]
    );
}

#[test]
fn readme_outputs_are_nerves() {
    check_page("README.md");
}

#[test]
fn the_tuning_page_s_outputs_are_nerves() {
    check_page("docs/tuning.md");
}

#[test]
fn the_models_page_s_outputs_are_nerves() {
    check_page("docs/models.md");
}

#[test]
fn the_serving_page_s_outputs_are_nerves() {
    check_page("docs/serving.md");
}

#[test]
fn the_spiking_page_s_outputs_are_nerves() {
    check_page("docs/spiking.md");
}
