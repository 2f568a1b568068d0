#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora under fuzz/corpus/ from the repository's own files:
# every CSV in tests/data/ and the small built-in data sets (behind a 0x00 options byte, the
# defaults: see fuzz/targets.rs), the run configs in configs/, and a few small models trained
# by `nerve` (classification, regression, one output for BCE, categorical and missing inputs).
# Usage: fuzz/seed_corpus.sh [path/to/nerve]   (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
nerve=${1:-${CARGO_TARGET_DIR:-target}/release/nerve}
corpus=fuzz/corpus
mkdir -p "$corpus/csv" "$corpus/config" "$corpus/model_file"

for file in tests/data/bad/*.csv tests/data/bad/*.bin tests/data/quirky/*.csv datasets/xor.csv datasets/iris.csv; do
    name=$(echo "$file" | tr '/' '_')
    { printf '\x00'; cat "$file"; } > "$corpus/csv/seed_$name"
done
for file in configs/*.toml; do
    cp "$file" "$corpus/config/seed_$(basename "$file")"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model() {
    local name=$1
    shift
    "$nerve" train --quiet --out "$work/$name" --epochs 2 "$@" > /dev/null
    cp "$work/$name/model.safetensors" "$corpus/model_file/seed_$name.safetensors"
    cp "$work/$name/config.toml" "$corpus/config/seed_run_$name.toml"
}
model iris --data iris --hidden 4
model diabetes --data diabetes --hidden 3,2 --activation tanh
model xor_bce --data xor --loss bce --hidden 2
(cd tests/data/quirky && "$nerve" train --quiet --out "$work/penguins" --data penguins.csv --epochs 2 --hidden 3 \
    $(cat penguins.args) > /dev/null)
cp "$work/penguins/model.safetensors" "$corpus/model_file/seed_penguins.safetensors"
ls "$corpus"/* | wc -l
