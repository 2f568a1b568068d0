//! 08 — a spiking neuron: integrate, leak, fire, reset.
//!
//! Run: `cargo run --release --example 08_spiking_neuron`
//!
//! The tutorial's neuron answers at once with a number. A leaky integrate-and-fire (LIF) neuron
//! answers over time, with spikes: a constant input current `I` charges its membrane potential
//! `U`, which leaks a share `1 − β` every step, `U[t] = β U[t−1] + I`; when `U` passes the
//! threshold `θ` the neuron fires (a spike, 1) and the next step subtracts `θ` (the reset).
//! Before its first spike the membrane follows the closed form `U[t] = I (1 − β^(t+1)) / (1 − β)`,
//! so it fires first at the smallest `t` where that exceeds `θ` — and never, if the limit
//! `I / (1 − β)` stays below `θ`: leak wins, the neuron is silent.
//!
//! Here one LIF neuron of nerve-model (a `1 -> 1 -> 1` spiking network with weight 1 and bias
//! 0, so the input value is the current) is run for 40 steps and checked against the formula
//! at every step, then with reset to zero, where it restarts from rest and fires periodically.

#![allow(clippy::print_stdout)]

use burn::prelude::{Tensor, TensorData};
use nerve_backend::BackendKind;
use nerve_model::spiking::Reset;
use nerve_model::{Mlp, MlpConfig, SpikingConfig};

const BETA: f64 = 0.9;
const THRESHOLD: f64 = 1.0;
const STEPS: usize = 40;

/// The membrane and spikes of one LIF neuron under `current`, from nerve-model.
fn run(current: f32, reset: Reset) -> anyhow::Result<(Vec<f64>, Vec<bool>)> {
    let device = BackendKind::default().device()?;
    let config = MlpConfig::new(1, vec![1], 1).with_spiking(Some(SpikingConfig {
        time_steps: STEPS,
        beta: BETA,
        threshold: THRESHOLD,
        reset,
        ..SpikingConfig::default()
    }));
    let one = |v: f32| Tensor::<1>::from_data(TensorData::new(vec![v], [1]), &device);
    let weight = || Tensor::<2>::from_data(TensorData::new(vec![1.0f32], [1, 1]), &device);
    let neuron = Mlp::from_parameters(&config, vec![(weight(), one(0.0)), (weight(), one(0.0))])?;
    let x = Tensor::<2>::from_data(TensorData::new(vec![current], [1, 1]), &device);
    let trace = neuron
        .spike_trace(x)
        .ok_or_else(|| anyhow::anyhow!("a spiking network has a trace"))?;
    let layer = &trace.layers[0];
    let membrane = layer
        .membrane
        .iter()
        .map(|u| f64::from(nerve_examples::values(u)[0]))
        .collect();
    let spikes = layer
        .spikes
        .iter()
        .map(|s| nerve_examples::values(s)[0] > 0.5)
        .collect();
    Ok((membrane, spikes))
}

fn main() -> anyhow::Result<()> {
    let current = 0.25;
    println!("One LIF neuron: beta {BETA}, threshold {THRESHOLD}, constant current {current}\n");
    let (membrane, spikes) = run(current as f32, Reset::Subtract)?;

    // The same recurrence, by hand: U[t] = beta U[t-1] + I - S[t-1] theta; S[t] = U[t] > theta.
    let mut u = 0.0;
    let mut fired = false;
    let mut worst = 0.0f64;
    println!("  step        U  spike   by hand");
    for (t, (&nerve_u, &nerve_spike)) in membrane.iter().zip(&spikes).enumerate() {
        u = BETA * u + current - if fired { THRESHOLD } else { 0.0 };
        fired = u > THRESHOLD;
        worst = worst.max((u - nerve_u).abs());
        anyhow::ensure!(
            fired == nerve_spike,
            "step {t}: the spike differs from the formula's"
        );
        if t < 12 || nerve_spike {
            println!(
                "  {t:>4}  {nerve_u:>7.4}  {}  {u:>8.4}",
                if nerve_spike { "  |  " } else { "  .  " }
            );
        }
    }
    anyhow::ensure!(worst < 1e-5, "the membrane is {worst} from the formula");
    println!("agrees with the formula at every step (largest difference {worst:.1e})");

    // Before the first spike: the closed form.
    let first = spikes
        .iter()
        .position(|&s| s)
        .ok_or_else(|| anyhow::anyhow!("the neuron never fired"))?;
    let closed = |t: usize| current * (1.0 - BETA.powi(t as i32 + 1)) / (1.0 - BETA);
    for (t, &u) in membrane.iter().enumerate().take(first + 1) {
        anyhow::ensure!(
            (u - closed(t)).abs() < 1e-5,
            "step {t}: {u} vs {}",
            closed(t)
        );
    }
    println!(
        "first spike at step {first}: U = I (1 - beta^{}) / (1 - beta) = {:.4} > {THRESHOLD}",
        first + 1,
        closed(first)
    );
    let count = spikes.iter().filter(|&&s| s).count();
    println!(
        "{count} spikes in {STEPS} steps: a firing rate of {:.3}",
        count as f64 / STEPS as f64
    );

    // Reset to zero restarts from rest: a spike every (first + 1) steps exactly.
    let (_, spikes) = run(current as f32, Reset::Zero)?;
    let period = first + 1;
    for (t, &s) in spikes.iter().enumerate() {
        anyhow::ensure!(s == ((t + 1) % period == 0), "reset to zero: step {t}");
    }
    println!("reset to zero: a spike every {period} steps, as the closed form says");

    // Too weak to reach threshold: I / (1 - beta) = 0.9 < 1, leak wins.
    let (membrane, spikes) = run(0.09, Reset::Subtract)?;
    anyhow::ensure!(!spikes.iter().any(|&s| s), "0.09 should never fire");
    println!(
        "current 0.09: U creeps to {:.4} (limit {:.1}) and never fires: a silent neuron",
        membrane[STEPS - 1],
        0.09 / (1.0 - BETA)
    );
    Ok(())
}
