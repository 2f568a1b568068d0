#!/usr/bin/env bash
# Runs every numbered example (examples/*.rs) and checks what each promises to print. The
# examples check their own numbers too (autodiff against finite differences, the losses against
# their formulas, ...) and exit non-zero when they disagree.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
    local name=$1
    cargo run --release -q -p nerve-examples --example "$name" -- "${@:2}"
}

expect() {
    local name=$1 output=$2 pattern=$3
    if ! grep -qE -- "$pattern" <<<"$output"; then
        echo "examples/$name.rs: expected a line matching /$pattern/ in:" >&2
        echo "$output" >&2
        exit 1
    fi
}

out=$(run 01_neuron)
expect 01_neuron "$out" "agrees with the hand computation on every row"
out=$(run 02_forward_pass)
expect 02_forward_pass "$out" "^y = h W2 \+ b2: the network's output  \[4, 1\]"
out=$(run 03_losses)
expect 03_losses "$out" "cross-entropy +formula 0\.175456 +nerve-loss 0\.175456"
out=$(run 04_backprop)
expect 04_backprop "$out" "^autodiff +largest \|difference\| from finite differences: [0-9.]+e-([5-9]|[1-9][0-9])$"
expect 04_backprop "$out" "^slip A +largest \|difference\| from finite differences: [0-9.]+e-[0-2]$"
out=$(run 05_gradient_descent)
expect 05_gradient_descent "$out" "Stopped after [0-9]+ iterations: the gradient norm fell below 1e-6"
hand=$(grep -oE "Stopped after [0-9]+" <<<"$out")
out=$(run 06_trainer)
expect 06_trainer "$out" "Stopped after [0-9]+ epochs: gradient norm below tol"
# The trainer runs exactly the loop 05 writes by hand.
trainer=$(grep -oE "Stopped after [0-9]+" <<<"$out")
[[ "$hand" == "$trainer" ]] || { echo "05 ($hand) and 06 ($trainer) differ" >&2; exit 1; }
out=$(run 07_your_csv)
expect 07_your_csv "$out" "^test accuracy (0\.9[0-9]*|1\.0000)$"
expect 07_your_csv "$out" "saved and reloaded"
out=$(run 08_spiking_neuron)
expect 08_spiking_neuron "$out" "^agrees with the formula at every step"
expect 08_spiking_neuron "$out" "^reset to zero: a spike every 5 steps"
expect 08_spiking_neuron "$out" "never fires: a silent neuron$"
out=$(run 09_spiking_network)
expect 09_spiking_network "$out" "^  spiking \(lif, T = 25\) +0\.9[0-9]+ "
expect 09_spiking_network "$out" "^break-even firing rate 1/T = 0\.040"
echo "examples: all 9 ran and printed what they promise"
