//! Reading and preprocessing throughput: `just bench-data` (or
//! `cargo bench -p nerve-data --bench csv_throughput`).
//!
//! Generates a ~100 MB numeric CSV (1.2 million rows × 12 columns, deterministic), then times
//! `Table::open` (MB/s) and `prepare` (rows/s: split, fit, transform), and reports the peak
//! resident memory against the size of the parsed data as f32. Prints one JSON line per
//! measurement, then a summary. `NERVE_BENCH_ROWS` changes the row count.

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::io::{BufWriter, Write};
use std::time::Instant;

use nerve_data::{CsvOptions, PrepareOptions, Table, Task, prepare};

const COLUMNS: usize = 12;

/// Peak resident set size of this process so far, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Writes `rows` rows of 11 features in [-5, 5) and a noisy linear target, with a cheap
/// deterministic generator (the bytes are what matters, not their statistics).
fn generate(path: &std::path::Path, rows: usize) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let header: Vec<String> = (0..COLUMNS - 1).map(|j| format!("x{j}")).collect();
    writeln!(out, "{},y", header.join(",")).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..rows {
        let mut y = 0.0;
        for j in 0..COLUMNS - 1 {
            let x = next() * 10.0 - 5.0;
            y += x * (j as f64 - 5.0);
            write!(out, "{x:.5},").unwrap();
        }
        writeln!(out, "{:.4}", y + next()).unwrap();
    }
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn main() {
    let rows: usize = std::env::var("NERVE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200_000);
    let path = std::env::temp_dir().join(format!("nerve-bench-{}.csv", std::process::id()));
    let bytes = generate(&path, rows);
    let mb = bytes as f64 / 1e6;
    let parsed_mb = (rows * COLUMNS * 4) as f64 / 1e6;
    let rss_before = peak_rss_mb();

    let start = Instant::now();
    let table = Table::open(&path, &CsvOptions::default()).unwrap();
    let read_s = start.elapsed().as_secs_f64();
    let rss_read = peak_rss_mb();
    assert_eq!(table.num_rows(), rows);
    println!(
        r#"{{"bench":"csv_read","rows":{rows},"columns":{COLUMNS},"file_mb":{mb:.1},"seconds":{read_s:.3},"mb_per_s":{:.1},"peak_rss_mb":{rss_read:.1},"parsed_f32_mb":{parsed_mb:.1}}}"#,
        mb / read_s
    );

    let start = Instant::now();
    let options = PrepareOptions {
        task: Some(Task::Regression),
        ..PrepareOptions::default()
    };
    let prepared = prepare(table, &options).unwrap();
    let prepare_s = start.elapsed().as_secs_f64();
    let rss_prepare = peak_rss_mb();
    assert_eq!(
        prepared.train.len() + prepared.test.map_or(0, |t| t.len()),
        rows
    );
    println!(
        r#"{{"bench":"prepare","rows":{rows},"seconds":{prepare_s:.3},"rows_per_s":{:.0},"peak_rss_mb":{rss_prepare:.1}}}"#,
        rows as f64 / prepare_s
    );
    std::fs::remove_file(&path).unwrap();

    println!(
        "read {mb:.1} MB in {read_s:.2} s: {:.1} MB/s; prepare (split, fit, transform) {:.2} M rows/s",
        mb / read_s,
        rows as f64 / prepare_s / 1e6
    );
    println!(
        "peak memory: {rss_read:.0} MB after reading, {rss_prepare:.0} MB after preparing \
         ({rss_before:.0} MB before), for {parsed_mb:.0} MB of parsed f32 data: {:.2}x / {:.2}x",
        (rss_read - rss_before) / parsed_mb,
        (rss_prepare - rss_before) / parsed_mb
    );
}
