//! nerve-data against pandas, column by column (issue 13): `tests/fixtures/csv_differential.py`
//! writes a few hundred seeded small CSV files mixing missing-value spellings, quoted and
//! formatted numbers, int/float spellings, truth values, signs, exponents, empty names,
//! trailing delimiters, CRLF, byte-order marks and UTF-16, reads each with
//! `pandas.read_csv`, and records what nerve must make of every column: pandas' reading, or
//! the difference README.md documents (thousands / currency / percent stripped, dates,
//! truth values and equal numbers as one level, long integers and numbers with leading zeros
//! as codes, date-times with their offsets dropped, `na` in any case, unnamed columns). This
//! test reads each file with nerve (detecting the delimiter, which pandas is given) and
//! compares; it also checks that every cell shows as the file writes it, and that row-number
//! columns (pandas' `index=True`, R's `rownames`), read as pandas reads them, are then left
//! out of the features (issue 34).
//!
//! Needs `python3` with pandas; skips (saying so) without, unless `NERVE_REQUIRE_PANDAS=1`
//! (set by `.ci/run`, which installs pandas).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use nerve_data::{
    ColumnData, ColumnRole, CsvOptions, Missing, Note, PrepareOptions, SplitOptions, Table,
    TableReader, Task, prepare,
};
use serde_json::Value;

fn pandas_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pandas"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var("NERVE_REQUIRE_PANDAS").is_err(),
            "NERVE_REQUIRE_PANDAS is set but python3 cannot import pandas"
        );
        eprintln!("skipped: python3 with pandas is not installed (pip install pandas)");
    }
    found
}

/// The first cell of a column that nerve does not show as the file writes it.
fn shown_as_written(table: &Table, expected: &Value) -> Result<(), String> {
    let name = expected["name"].as_str().unwrap();
    let column = table.column(name).map_err(|e| e.to_string())?;
    for (row, written) in expected["written"].as_array().unwrap().iter().enumerate() {
        if let Some(written) = written.as_str()
            && column.display(row) != written
        {
            return Err(format!(
                "row {row} shows as `{}`, the file writes `{written}`",
                column.display(row)
            ));
        }
    }
    Ok(())
}

/// Why the columns' roles differ from what is expected, if they do: a row-number column is
/// left out as one, no other column is. `None` when the file cannot be prepared at all (a
/// generated file may hold nothing to train on).
fn roles_differ(table: &Table, columns: &[Value]) -> Option<Result<(), String>> {
    let options = PrepareOptions {
        target: Some("y".to_owned()),
        task: Some(Task::Regression),
        missing: Missing::Impute,
        split: SplitOptions {
            test: 0.0,
            ..SplitOptions::default()
        },
        ..PrepareOptions::default()
    };
    let prepared = prepare(table.clone(), &options).ok()?;
    let flagged: Vec<&str> = prepared
        .notes
        .iter()
        .filter_map(|note| match note {
            Note::RowNumbers { column, .. } => Some(column.as_str()),
            _ => None,
        })
        .collect();
    for column in columns {
        let Some(name) = column["name"].as_str() else {
            continue;
        };
        let expected = column["row_numbers"].as_bool() == Some(true);
        let role = prepared.roles.columns.iter().find(|(n, _)| n == name);
        if expected
            && (role.map(|(_, r)| r) != Some(&ColumnRole::RowNumbers) || !flagged.contains(&name))
        {
            return Some(Err(format!(
                "`{name}` holds row numbers, but its role is {role:?}"
            )));
        }
        if !expected && flagged.contains(&name) {
            return Some(Err(format!("`{name}` was taken for row numbers")));
        }
    }
    Some(Ok(()))
}

/// Why nerve's column differs from what the expectation says, if it does.
fn compare(table: &Table, expected: &Value) -> Result<(), String> {
    let name = expected["name"].as_str().unwrap();
    let column = table
        .column(name)
        .map_err(|e| format!("no column `{name}` ({e})"))?;
    let missing: Vec<bool> = expected["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_bool().unwrap())
        .collect();
    let nerve_missing: Vec<bool> = (0..column.len()).map(|r| column.is_missing(r)).collect();
    if nerve_missing != missing {
        return Err(format!(
            "missing cells: nerve {nerve_missing:?}, expected {missing:?}"
        ));
    }
    match (expected["kind"].as_str().unwrap(), column.data()) {
        ("numeric", ColumnData::Numeric(numbers)) => {
            let want = expected["values"].as_array().unwrap();
            for (row, (&got, want)) in numbers.values().iter().zip(want).enumerate() {
                let Some(want) = want.as_f64() else { continue };
                if (got - want).abs() > 1e-12 * want.abs().max(1.0) {
                    return Err(format!("row {row}: nerve {got}, expected {want}"));
                }
            }
            Ok(())
        }
        ("categorical", ColumnData::Categorical(c)) => {
            let groups: Vec<i64> = expected["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_i64().unwrap())
                .collect();
            let first: Vec<&str> = expected["first"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            // The same partition of rows into levels, each level under the group's first spelling
            // (truth values compared without case: pandas gives them back as Python bools).
            let booleans = expected["reason"].as_str().unwrap().starts_with("booleans");
            let mut level_of_group: HashMap<i64, u32> = HashMap::new();
            for (row, (&group, &code)) in groups.iter().zip(c.codes()).enumerate() {
                if group < 0 {
                    continue;
                }
                let known = *level_of_group.entry(group).or_insert(code);
                if known != code {
                    return Err(format!(
                        "row {row}: level {code}, expected the level of row group {group}"
                    ));
                }
                let (level, want) = (&c.levels()[code as usize], first[group as usize]);
                let same = if booleans {
                    level.eq_ignore_ascii_case(want)
                } else {
                    level == want
                };
                if !same {
                    return Err(format!("row {row}: level `{level}`, expected `{want}`"));
                }
            }
            let distinct: std::collections::HashSet<u32> =
                level_of_group.values().copied().collect();
            if distinct.len() != level_of_group.len() {
                return Err("two groups share one level".to_owned());
            }
            Ok(())
        }
        ("date", ColumnData::Date(dates)) => {
            let want = expected["days"].as_array().unwrap();
            for (row, (&got, want)) in dates.days().iter().zip(want).enumerate() {
                if let Some(want) = want.as_f64()
                    && got != want
                {
                    return Err(format!("row {row}: day {got}, expected {want}"));
                }
            }
            Ok(())
        }
        (kind, data) => Err(format!(
            "expected {kind}, nerve read {}",
            match data {
                ColumnData::Numeric(_) => "numbers",
                ColumnData::Categorical(_) => "categories",
                ColumnData::Date(_) => "dates",
            }
        )),
    }
}

#[test]
fn nerve_reads_csv_columns_as_pandas_does_but_for_documented_differences() {
    if !pandas_available() {
        return;
    }
    let dir =
        std::env::temp_dir().join(format!("nerve-pandas-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = &nerve_tests::repo_path("tests/fixtures/csv_differential.py")
        .display()
        .to_string();
    let out = Command::new("python3")
        .args([
            script,
            dir.to_str().unwrap(),
            "--files",
            "300",
            "--seed",
            "13",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let files = expected.as_array().unwrap();
    let mut columns = 0;
    let (mut row_number_files, mut unprepared) = (0, 0);
    for file in files {
        let path = file["file"].as_str().unwrap();
        // nerve detects the delimiter; pandas was told it.
        let options = CsvOptions::default();
        let table = match TableReader::open(path, &options).and_then(TableReader::read_all) {
            Ok(table) => table,
            Err(err) => {
                failures.push(format!("{path}: {err}"));
                continue;
            }
        };
        let mut kept = Vec::new();
        for column in file["columns"].as_array().unwrap() {
            columns += 1;
            if column["dropped"].as_bool() == Some(true) {
                *by_reason
                    .entry("unnamed and empty: dropped".to_owned())
                    .or_default() += 1;
                continue;
            }
            kept.push(column["name"].as_str().unwrap().to_owned());
            match compare(&table, column).and_then(|()| shown_as_written(&table, column)) {
                Ok(()) => {
                    *by_reason
                        .entry(column["reason"].as_str().unwrap().to_owned())
                        .or_default() += 1;
                }
                Err(why) => failures.push(format!("{path}, column `{}`: {why}", column["name"])),
            }
        }
        let names: Vec<&str> = table.column_names();
        if names != kept {
            failures.push(format!(
                "{path}: nerve's columns {names:?}, expected {kept:?}"
            ));
        }
        let columns = file["columns"].as_array().unwrap();
        let indexed = columns
            .iter()
            .any(|c| c["row_numbers"].as_bool() == Some(true));
        match roles_differ(&table, columns) {
            Some(Ok(())) if indexed => row_number_files += 1,
            Some(Ok(())) => {}
            Some(Err(why)) => failures.push(format!("{path}: {why}")),
            None => unprepared += 1,
        }
    }
    let agree = by_reason.get("same").copied().unwrap_or(0);
    eprintln!(
        "{} files, {columns} columns: {agree} read as pandas reads them, the rest as documented: {by_reason:?}; row numbers left out in {row_number_files} files; {unprepared} files with nothing to train on",
        files.len()
    );
    assert!(
        row_number_files >= 40 && unprepared * 10 < files.len(),
        "too few files had their roles checked: {row_number_files} with row numbers, {unprepared} unprepared"
    );
    assert!(
        failures.is_empty(),
        "{} of {columns} columns differ from pandas beyond the documented differences:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
