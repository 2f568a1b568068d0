#!/usr/bin/env bash
# Regenerates configs/NAME.toml of the built-in data sets (all but xor, the tutorial's fixed
# network: see configs/README.md) from a search of spaces/NAME.toml:
#   nerve tune --config configs/NAME.toml --space spaces/NAME.toml --repeats 3
# configs/NAME.toml becomes its description (its first comment lines, up to a bare `#` or a
# blank line) followed by the search's best.toml. Each search runs afresh in
# runs/tune-configs/NAME. Usage: scripts/tune_configs.sh [NAME ...] (default: all five).
set -euo pipefail
cd "$(dirname "$0")/.."
nerve() {
    cargo run --release -q -p nerve -- "$@"
}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(iris wine breast_cancer diabetes digits)
fi
for name in "${names[@]}"; do
    config=configs/$name.toml
    space=spaces/$name.toml
    if [ ! -f "$config" ] || [ ! -f "$space" ]; then
        echo "tune_configs.sh: $name needs $config and $space" >&2
        exit 1
    fi
    out=runs/tune-configs/$name
    rm -rf "$out"
    nerve tune --config "$config" --space "$space" --repeats 3 --out "$out"
    description=$(awk '/^#$/ || /^$/ || !/^#/ {exit} {print}' "$config")
    {
        printf '%s\n#\n' "$description"
        echo "# Made by \`just tune-configs $name\` (configs/README.md): the best trial of"
        echo "#   nerve tune --config configs/$name.toml --space spaces/$name.toml --repeats 3"
        echo "# Run it with \`nerve train --config $name\` (flags override any setting)."
        grep -v '^# Repeat it with' "$out/best.toml"
    } >"$config.new"
    mv "$config.new" "$config"
    echo "wrote $config"
done
