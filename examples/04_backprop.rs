//! 04 — backpropagation: the gradient of the loss with respect to every weight, three ways.
//!
//! Run: `cargo run --release --example 04_backprop`
//!
//! For the tutorial's 4 -> 5 (ReLU) -> 1 network and the MSE on its table, with
//! z1 = x W1 + b1, h = relu(z1), y = h W2 + b2 and L = (1/n) Σ (y − t)², the chain rule gives
//!
//! ```text
//! δ2 = ∂L/∂y = 2 (y − t) / n              ∂L/∂W2 = hᵀ δ2      ∂L/∂b2 = Σ_rows δ2
//! δ1 = (δ2 W2ᵀ) ⊙ relu'(z1)               ∂L/∂W1 = xᵀ δ1      ∂L/∂b1 = Σ_rows δ1
//! relu'(z) = 1 where z > 0, else 0
//! ```
//!
//! The example prints, for every parameter, the gradient from central finite differences (an
//! independent check: nudge the weight, watch the loss), from burn's autodiff (what nerve trains
//! with) and from the formulas above — and from the two slips a hand derivation typically makes,
//! which the tutorial's hand-written backward pass makes too: dropping relu'(z1) from the
//! hidden layer's gradient (as if the hidden layer were linear), and using the sigmoid's
//! derivative h (1 − h) for ReLU. Autodiff and the correct formulas agree with the finite
//! differences; the slips do not, and only where a neuron is active (slip B) or silent (slip A).

#![allow(clippy::print_stdout)]
// Index loops mirror the formulas' subscripts (W1[i, j], δ1[r, j]), which is the point here.
#![allow(clippy::needless_range_loop)]

use nerve_backend::BackendKind;
use nerve_examples::{TABLE, tutorial_table, values};
use nerve_loss::Loss;
use nerve_model::MlpConfig;

const ROWS: usize = 4;
const D_IN: usize = 4;
const D_HIDDEN: usize = 5;

/// The network's parameters on the host in f64: W1 [4, 5], b1 [5], W2 [5] (one output), b2.
#[derive(Clone)]
struct Params {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: f64,
}

/// How the hidden layer's gradient is derived.
#[derive(Clone, Copy, PartialEq)]
enum Derivation {
    Correct,
    /// δ1 = δ2 W2ᵀ, without relu'(z1).
    NoActivationDerivative,
    /// relu'(z) replaced by the sigmoid's h (1 − h).
    SigmoidDerivative,
}

/// The forward pass on the host: z1 [rows, 5], h [rows, 5], y [rows].
fn forward(p: &Params) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut z1 = vec![0.0; ROWS * D_HIDDEN];
    for (r, (x, _)) in TABLE.iter().enumerate() {
        for j in 0..D_HIDDEN {
            z1[r * D_HIDDEN + j] = p.b1[j]
                + (0..D_IN)
                    .map(|i| f64::from(x[i]) * p.w1[i * D_HIDDEN + j])
                    .sum::<f64>();
        }
    }
    let h: Vec<f64> = z1.iter().map(|&z| z.max(0.0)).collect();
    let y = (0..ROWS)
        .map(|r| {
            p.b2 + (0..D_HIDDEN)
                .map(|j| h[r * D_HIDDEN + j] * p.w2[j])
                .sum::<f64>()
        })
        .collect();
    (z1, h, y)
}

fn loss(p: &Params) -> f64 {
    let (_, _, y) = forward(p);
    y.iter()
        .zip(TABLE)
        .map(|(y, (_, t))| (y - f64::from(t)).powi(2))
        .sum::<f64>()
        / ROWS as f64
}

/// Every gradient, in the order W2, b2, W1, b1, by the chain rule.
fn by_hand(p: &Params, derivation: Derivation) -> Vec<f64> {
    let (z1, h, y) = forward(p);
    let delta2: Vec<f64> = y
        .iter()
        .zip(TABLE)
        .map(|(y, (_, t))| 2.0 * (y - f64::from(t)) / ROWS as f64)
        .collect();
    let mut w2 = vec![0.0; D_HIDDEN];
    for j in 0..D_HIDDEN {
        w2[j] = (0..ROWS).map(|r| h[r * D_HIDDEN + j] * delta2[r]).sum();
    }
    let b2: f64 = delta2.iter().sum();
    let mut delta1 = [0.0; ROWS * D_HIDDEN];
    for r in 0..ROWS {
        for j in 0..D_HIDDEN {
            let k = r * D_HIDDEN + j;
            let derivative = match derivation {
                Derivation::Correct => f64::from(u8::from(z1[k] > 0.0)),
                Derivation::NoActivationDerivative => 1.0,
                Derivation::SigmoidDerivative => h[k] * (1.0 - h[k]),
            };
            delta1[k] = delta2[r] * p.w2[j] * derivative;
        }
    }
    let mut w1 = vec![0.0; D_IN * D_HIDDEN];
    for i in 0..D_IN {
        for j in 0..D_HIDDEN {
            w1[i * D_HIDDEN + j] = (0..ROWS)
                .map(|r| f64::from(TABLE[r].0[i]) * delta1[r * D_HIDDEN + j])
                .sum();
        }
    }
    let b1: Vec<f64> = (0..D_HIDDEN)
        .map(|j| (0..ROWS).map(|r| delta1[r * D_HIDDEN + j]).sum())
        .collect();
    [w2, vec![b2], w1, b1].concat()
}

/// Every gradient by central finite differences, (L(θ + ε) − L(θ − ε)) / 2ε.
fn finite_differences(p: &Params) -> Vec<f64> {
    let eps = 1e-6;
    let mut gradients = Vec::new();
    let count = [D_HIDDEN, 1, D_IN * D_HIDDEN, D_HIDDEN];
    for (group, &n) in count.iter().enumerate() {
        for k in 0..n {
            let nudged = |delta: f64| {
                let mut q = p.clone();
                match group {
                    0 => q.w2[k] += delta,
                    1 => q.b2 += delta,
                    2 => q.w1[k] += delta,
                    _ => q.b1[k] += delta,
                }
                loss(&q)
            };
            gradients.push((nudged(eps) - nudged(-eps)) / (2.0 * eps));
        }
    }
    gradients
}

fn names() -> Vec<String> {
    let mut names: Vec<String> = (0..D_HIDDEN).map(|j| format!("W2[{j}]")).collect();
    names.push("b2".to_owned());
    for i in 0..D_IN {
        names.extend((0..D_HIDDEN).map(|j| format!("W1[{i},{j}]")));
    }
    names.extend((0..D_HIDDEN).map(|j| format!("b1[{j}]")));
    names
}

fn main() -> anyhow::Result<()> {
    let device = BackendKind::default().autodiff_device()?;
    nerve_backend::seed(&device, 7);
    let model = MlpConfig::new(D_IN, vec![D_HIDDEN], 1).init(&device);
    let (x, t) = tutorial_table(&device);

    // burn's autodiff: forward, loss, backward, then each parameter's gradient.
    let mse = Loss::Mse;
    let targets = mse.targets(t, 1)?;
    let value = mse.forward(model.forward(x), &targets)?;
    let grads = value.backward();
    let [hidden, output] = model.layers() else {
        anyhow::bail!("expected two layers");
    };
    let grad = |tensor: Option<burn::prelude::Tensor<2>>| -> Vec<f64> {
        tensor.map_or_else(Vec::new, |g| {
            values(&g).into_iter().map(f64::from).collect()
        })
    };
    let bias_grad = |layer: &burn::nn::Linear| -> Vec<f64> {
        layer
            .bias
            .as_ref()
            .and_then(|b| b.val().grad(&grads))
            .map_or_else(Vec::new, |g| {
                values(&g).into_iter().map(f64::from).collect()
            })
    };
    let autodiff = [
        grad(output.weight.val().grad(&grads)),
        bias_grad(output),
        grad(hidden.weight.val().grad(&grads)),
        bias_grad(hidden),
    ]
    .concat();

    let host = |t: burn::prelude::Tensor<2>| -> Vec<f64> {
        values(&t).into_iter().map(f64::from).collect()
    };
    let bias = |layer: &burn::nn::Linear| -> Vec<f64> {
        layer.bias.as_ref().map_or_else(Vec::new, |b| {
            values(&b.val().reshape([1, -1]))
                .into_iter()
                .map(f64::from)
                .collect()
        })
    };
    let params = Params {
        w1: host(hidden.weight.val()),
        b1: bias(hidden),
        w2: host(output.weight.val()),
        b2: bias(output).first().copied().unwrap_or(0.0),
    };
    anyhow::ensure!(
        autodiff.len() == 31,
        "31 gradients, found {}",
        autodiff.len()
    );

    let reference = finite_differences(&params);
    let columns = [
        ("autodiff", autodiff),
        ("formulas", by_hand(&params, Derivation::Correct)),
        (
            "slip A",
            by_hand(&params, Derivation::NoActivationDerivative),
        ),
        ("slip B", by_hand(&params, Derivation::SigmoidDerivative)),
    ];
    let (_, h, _) = forward(&params);
    let silent: Vec<usize> = (0..D_HIDDEN)
        .filter(|&j| (0..ROWS).all(|r| h[r * D_HIDDEN + j] == 0.0))
        .collect();
    println!(
        "Loss {:.6}; hidden neurons silent (relu = 0) on every row: {silent:?}\n",
        loss(&params)
    );
    println!(
        "{:<8} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "param", "finite diff", "autodiff", "formulas", "slip A", "slip B"
    );
    for (k, name) in names().iter().enumerate() {
        print!("{name:<8} {:>11.6}", reference[k]);
        for (_, column) in &columns {
            let mark = if (column[k] - reference[k]).abs() > 1e-4 {
                "*"
            } else {
                " "
            };
            print!(" {:>10.6}{mark}", column[k]);
        }
        println!();
    }
    println!("\n(* : differs from the finite difference by more than 1e-4)\n");
    for (name, column) in &columns {
        let worst = column
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        println!("{name:<9} largest |difference| from finite differences: {worst:.2e}");
    }
    let worst = |c: &[f64]| {
        c.iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    anyhow::ensure!(
        worst(&columns[0].1) < 1e-4,
        "autodiff disagrees with finite differences"
    );
    anyhow::ensure!(
        worst(&columns[1].1) < 1e-6,
        "the formulas disagree with finite differences"
    );
    println!(
        "\nSlip A gives the silent neurons' incoming weights a gradient they do not have (a ReLU \
         that outputs 0 passes nothing back); slip B shrinks the active ones' by h (1 − h). \
         Autodiff needs no derivation at all, which is why nerve uses it for every gradient."
    );
    Ok(())
}
