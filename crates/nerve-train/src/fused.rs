//! Fused optimizer steps: SGD (momentum, Nesterov, L2 weight decay), Adam (L2 weight decay) and
//! AdamW update each parameter tensor in **one pass over its memory**, in place when the buffer
//! is not shared, and measure the gradient's squared norm in that same pass.
//!
//! burn's optimizers (burn-optim 0.22) compute an update as a chain of element-wise tensor
//! operations: Adam's is about a dozen (`moment_1 · β₁`, `g · (1 − β₁)`, their sum, `g²`, …),
//! each a pass over the parameter that writes a freshly allocated buffer; the squared gradient
//! norm was three more per parameter. On W6 (1.9 M parameters) those passes and the page faults
//! of their new buffers were most of the 41 % of a step spent outside the matrix products
//! (BENCHMARKS.md). PyTorch runs a fused multi-tensor Adam for the same reason.
//!
//! How: each rule implements burn's [`burn::optim::Optimizer`] trait, so burn's
//! [`ModuleOptimizer`](burn::optim::ModuleOptimizer) still walks the module and keeps one state
//! per parameter, and its record (a checkpoint's `optimizer.bpk`) has burn's layout: Adam and
//! AdamW keep burn's own [`AdamState`], SGD a state with the leaf names of burn's `SgdState`. A
//! step takes the parameter, its gradient and the state's tensors as host slices
//! ([`Tensor::into_data`] hands a uniquely owned CPU buffer over without copying, and
//! [`Tensor::from_data`] takes it back; a shared buffer — one a kept copy of the model still
//! reads — is copied first, so nothing else ever sees a change), runs the arithmetic once per
//! element, and gives the buffers back. Tensors of 32 Ki elements and more are split into fixed
//! chunks updated on rayon's pool (the one burn's CPU backends use).
//!
//! The arithmetic is burn's, operation for operation in f32 with the same scalar conversions, so
//! the parameters after a step are bit-identical to burn's unfused optimizers (the `tests` module
//! below; PyTorch parity in the workspace's tests). Every choice of a rule (first step, AdamW,
//! L2, momentum, Nesterov) is a const parameter of its loop: a runtime branch inside the loop
//! stops it vectorizing (W3's update took 4.7× the instructions). The squared norm is summed per
//! fixed chunk and the chunks in order, so it does not depend on how rayon splits work.
//!
//! Not fused: RMSprop (burn's own, with the gradient norm as separate operations) and AMSGrad
//! (nerve does not offer it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use burn::optim::{
    AdamState, AdaptiveMomentumState, LearningRate, RecordState, StateSink, StateSource, join_path,
};
use burn::prelude::{Device, Tensor, TensorData};
use burn::tensor::DType;
use rayon::iter::{IndexedParallelIterator, IntoParallelRefMutIterator, ParallelIterator};
use rayon::slice::{ParallelSlice, ParallelSliceMut};

/// Elements per chunk of the update: each chunk's squared-norm partial sum is its own, and large
/// tensors are updated chunk by chunk in parallel.
const CHUNK: usize = 1 << 14;

/// Tensors with fewer elements are updated on the calling thread: handing work to the pool costs
/// more than it saves on small layers.
const PARALLEL_FROM: usize = 2 * CHUNK;

/// Lanes of the squared-norm accumulator: independent partial sums the compiler can keep in
/// vector registers (one running sum would make every element wait for the one before).
const LANES: usize = 16;

/// What a step shares with its caller besides the new parameters: the factor every gradient is
/// multiplied by before the update (clipping by the global norm; 1 otherwise), and the squared
/// L2 norm of the scaled gradients, summed over the parameters as they are updated.
#[derive(Debug, Default)]
pub(crate) struct GradGauge {
    /// The gradient scale, as f32 bits.
    scale: AtomicU32,
    /// `Σ (scale · g)²` of the step so far, as f64 bits.
    squared_norm: AtomicU64,
}

impl GradGauge {
    /// Starts a step whose gradients are multiplied by `scale`.
    pub(crate) fn begin(&self, scale: f32) {
        self.scale.store(scale.to_bits(), Ordering::Relaxed);
        self.squared_norm.store(0f64.to_bits(), Ordering::Relaxed);
    }

    /// The squared norm of the scaled gradients the step has applied so far.
    pub(crate) fn squared_norm(&self) -> f64 {
        f64::from_bits(self.squared_norm.load(Ordering::Relaxed))
    }

    fn scale(&self) -> f32 {
        f32::from_bits(self.scale.load(Ordering::Relaxed))
    }

    fn add(&self, squared: f64) {
        // burn's module mapper steps the parameters one after another, so a load and a store
        // do not race.
        let total = self.squared_norm() + squared;
        self.squared_norm.store(total.to_bits(), Ordering::Relaxed);
    }
}

/// A parameter-shaped tensor's values as f32 host data (a uniquely owned f32 CPU buffer is
/// handed over, not copied), with its dtype to convert back to. nerve trains in f32 (burn's
/// default float); another float dtype would be updated in f32 and converted back, so only f32
/// is bit-identical to burn's optimizers.
fn host<const D: usize>(tensor: Tensor<D>) -> (TensorData, DType) {
    let dtype = tensor.dtype();
    let data = tensor.into_data();
    if dtype == DType::F32 {
        (data, dtype)
    } else {
        (data.convert::<f32>(), dtype)
    }
}

/// Host data back into a tensor of `dtype` on `device` (an f32 CPU buffer is taken over).
fn device_tensor<const D: usize>(data: TensorData, dtype: DType, device: &Device) -> Tensor<D> {
    let data = if dtype == DType::F32 {
        data
    } else {
        data.convert_dtype(dtype)
    };
    Tensor::from_data(data, device)
}

fn f32_mut(data: &mut TensorData) -> &mut [f32] {
    data.as_mut_slice::<f32>()
        .expect("`host` converted the data to f32")
}

fn f32_ref(data: &TensorData) -> &[f32] {
    data.as_slice::<f32>()
        .expect("`host` converted the data to f32")
}

/// Whether a state buffer read back from a step (or a loaded record) matches the parameter's
/// size. One that does not — a record of another model — is dropped and the state starts
/// afresh, as burn's `ModuleOptimizer` does for a state it cannot rebuild, with a warning.
fn fits(state: &TensorData, param: &TensorData) -> bool {
    let fits = state.num_elements() == param.num_elements();
    if !fits {
        tracing::warn!(
            state = state.num_elements(),
            parameter = param.num_elements(),
            "optimizer state does not match its parameter's size; starting it afresh"
        );
    }
    fits
}

/// Zeros shaped like `like`: a state buffer's value before the first step.
fn zeros_like(like: &TensorData) -> TensorData {
    TensorData::new(vec![0f32; like.num_elements()], like.shape().clone())
}

/// `Σ (scale · g)²` over `g`, in [`LANES`] f32 partial sums added up in f64.
fn squared_sum(g: &[f32], scale: f32) -> f64 {
    let mut lanes = [0f32; LANES];
    let mut blocks = g.chunks_exact(LANES);
    for block in &mut blocks {
        for (lane, &g) in lanes.iter_mut().zip(block) {
            let g = g * scale;
            *lane += g * g;
        }
    }
    for (lane, &g) in lanes.iter_mut().zip(blocks.remainder()) {
        let g = g * scale;
        *lane += g * g;
    }
    lanes.iter().map(|&x| f64::from(x)).sum()
}

/// Runs `update` over matching [`CHUNK`]s of the parameter `p`, its state buffers `s1` and
/// `s2` (each as long as `p`, or empty when the rule keeps none) and its gradient `g`; returns
/// `Σ (scale · g)²`, summed per chunk and the chunks in order, so the value does not depend on
/// the thread count.
fn for_chunks<U>(
    p: &mut [f32],
    s1: &mut [f32],
    s2: &mut [f32],
    g: &[f32],
    scale: f32,
    update: U,
) -> f64
where
    U: Fn(&mut [f32], &mut [f32], &mut [f32], &[f32]) + Sync,
{
    let chunks = g.len().div_ceil(CHUNK);
    fn split(s: &mut [f32], chunks: usize) -> Vec<&mut [f32]> {
        if s.is_empty() {
            (0..chunks).map(|_| Default::default()).collect()
        } else {
            s.chunks_mut(CHUNK).collect()
        }
    }
    let (mut s1, mut s2) = (split(s1, chunks), split(s2, chunks));
    let work = |p: &mut [f32], s1: &mut [f32], s2: &mut [f32], g: &[f32]| {
        let squared = squared_sum(g, scale);
        update(p, s1, s2, g);
        squared
    };
    let partials: Vec<f64> = if g.len() < PARALLEL_FROM {
        p.chunks_mut(CHUNK)
            .zip(s1.iter_mut())
            .zip(s2.iter_mut())
            .zip(g.chunks(CHUNK))
            .map(|(((p, s1), s2), g)| work(p, s1, s2, g))
            .collect()
    } else {
        p.par_chunks_mut(CHUNK)
            .zip(s1.par_iter_mut())
            .zip(s2.par_iter_mut())
            .zip(g.par_chunks(CHUNK))
            .map(|(((p, s1), s2), g)| work(p, s1, s2, g))
            .collect()
    };
    partials.iter().sum()
}

/// SGD, fused: burn-optim's `Sgd` — L2 weight decay `d = λθ + g`, momentum `v = d` on the first
/// step and `v = (1 − dampening) d + μ v` after, Nesterov `d = μ v + d` (else `d = v`), then
/// `θ ← θ − α d` (PyTorch's `torch.optim.SGD`, the same formulas).
#[derive(Clone, Debug)]
pub(crate) struct FusedSgd {
    /// `(μ, 1 − dampening)`, or none.
    pub(crate) momentum: Option<(f32, f32)>,
    /// Nesterov momentum instead of classical.
    pub(crate) nesterov: bool,
    /// The L2 penalty λ, or none.
    pub(crate) weight_decay: Option<f32>,
    pub(crate) gauge: Arc<GradGauge>,
}

/// [`FusedSgd`]'s state for one parameter: the momentum's velocity (none without momentum),
/// recorded under burn's `SgdState` leaf name `{param}.momentum.velocity`.
#[derive(Clone, Debug)]
pub(crate) struct SgdState<const D: usize> {
    velocity: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        if let Some(velocity) = &self.velocity {
            out.push_tensor(
                &join_path(prefix, "momentum"),
                "velocity",
                velocity.to_data(),
            );
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let momentum = join_path(prefix, "momentum");
        let velocity = if src.has_under(&momentum) {
            Some(Tensor::from_data(
                src.take_tensor(&momentum, "velocity")?,
                device,
            ))
        } else {
            None
        };
        Some(SgdState { velocity })
    }
}

impl burn::optim::Optimizer for FusedSgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<SgdState<D>>,
    ) -> (Tensor<D>, Option<SgdState<D>>) {
        let device = tensor.device();
        let (mut param, dtype) = host(tensor);
        let (grad, _) = host(grad);
        let previous = state
            .and_then(|s| s.velocity)
            .map(|v| host(v).0)
            .filter(|v| fits(v, &param));
        let first = previous.is_none();
        let mut velocity = self
            .momentum
            .map(|_| previous.unwrap_or_else(|| zeros_like(&param)));
        let scale = self.gauge.scale();
        let (mu, keep) = self.momentum.unwrap_or((0.0, 1.0));
        let (decay, nesterov) = (self.weight_decay, self.nesterov);
        let step = SgdStep {
            scale,
            lr: lr as f32,
            mu,
            keep,
            penalty: decay.unwrap_or(0.0),
        };
        let none: &mut [f32] = &mut [];
        let squared = for_chunks(
            f32_mut(&mut param),
            velocity.as_mut().map_or(none, f32_mut),
            &mut [],
            f32_ref(&grad),
            scale,
            |p, v, _, g| {
                // Every choice is a const parameter, so each loop is branch-free.
                let momentum = self.momentum.is_some();
                let l2 = decay.is_some();
                match (momentum, first, nesterov, l2) {
                    (false, _, _, false) => step.run::<false, false, false, false>(p, v, g),
                    (false, _, _, true) => step.run::<false, false, false, true>(p, v, g),
                    (true, true, false, false) => step.run::<true, true, false, false>(p, v, g),
                    (true, true, false, true) => step.run::<true, true, false, true>(p, v, g),
                    (true, true, true, false) => step.run::<true, true, true, false>(p, v, g),
                    (true, true, true, true) => step.run::<true, true, true, true>(p, v, g),
                    (true, false, false, false) => step.run::<true, false, false, false>(p, v, g),
                    (true, false, false, true) => step.run::<true, false, false, true>(p, v, g),
                    (true, false, true, false) => step.run::<true, false, true, false>(p, v, g),
                    (true, false, true, true) => step.run::<true, false, true, true>(p, v, g),
                }
            },
        );
        self.gauge.add(squared);
        let state = SgdState {
            velocity: velocity.map(|data| device_tensor(data, dtype, &device)),
        };
        (device_tensor(param, dtype, &device), Some(state))
    }

    fn to_device<const D: usize>(state: SgdState<D>, device: &Device) -> SgdState<D> {
        SgdState {
            velocity: state.velocity.map(|v| v.to_device(device)),
        }
    }
}

/// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), fused: burn-optim's `Adam`
/// and `AdamW` without AMSGrad. With `t` the step, `m = β₁ m + (1 − β₁) g`,
/// `v = β₂ v + (1 − β₂) g²`; Adam (L2 `g = λθ + g` first) takes
/// `θ ← θ − α · m c / (√v + ε √(1 − β₂ᵗ))` with `c = √(1 − β₂ᵗ) / (1 − β₁ᵗ)`; AdamW takes
/// `θ ← θ (1 − αλ) − α · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)`. The state is burn's
/// [`AdamState`], so a record of either is the other's too.
#[derive(Clone, Debug)]
pub(crate) struct FusedAdam {
    pub(crate) beta_1: f32,
    pub(crate) beta_2: f32,
    pub(crate) epsilon: f32,
    /// Adam's L2 penalty or AdamW's decoupled decay.
    pub(crate) decay: AdamDecay,
    pub(crate) gauge: Arc<GradGauge>,
}

/// [`FusedAdam`]'s rule and weight decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum AdamDecay {
    /// Adam without weight decay.
    None,
    /// Adam with the L2 penalty λ added to the gradient (`g = λθ + g`), as burn's
    /// `WeightDecay`: whenever the configured decay is above 0.
    L2(f32),
    /// AdamW with decoupled weight decay λ (`θ ← θ (1 − αλ)`; λ may be 0).
    Decoupled(f32),
}

impl burn::optim::Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let device = tensor.device();
        let (mut param, dtype) = host(tensor);
        let (grad, _) = host(grad);
        let previous = state
            .map(|AdamState { momentum }| {
                let (m, v) = (host(momentum.moment_1).0, host(momentum.moment_2).0);
                (momentum.time, m, v)
            })
            .filter(|(_, m, v)| fits(m, &param) && fits(v, &param));
        let first = previous.is_none();
        let (time, mut m, mut v) =
            previous.unwrap_or_else(|| (0, zeros_like(&param), zeros_like(&param)));
        let time = time + 1;
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let t = time as i32;
        let (correction_1, correction_2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let root_2 = correction_2.sqrt();
        let step = AdamStep {
            scale: self.gauge.scale(),
            lr: lr as f32,
            b1,
            b2,
            f1,
            f2,
            eps,
            correction_1,
            correction_2,
            combined: root_2 / correction_1,
            eps_root: eps * root_2,
            penalty: match self.decay {
                AdamDecay::L2(penalty) => penalty,
                _ => 0.0,
            },
            // burn skips the multiplication when αλ is 0; multiplying by exactly 1 is the same.
            keep: match self.decay {
                AdamDecay::Decoupled(decay) => (1.0 - lr * f64::from(decay)) as f32,
                _ => 1.0,
            },
        };
        // Every choice is a const parameter, so each loop is branch-free and vectorizes.
        let update =
            |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| match (first, self.decay) {
                (true, AdamDecay::Decoupled(_)) => step.run::<true, true, false>(p, m, v, g),
                (false, AdamDecay::Decoupled(_)) => step.run::<false, true, false>(p, m, v, g),
                (true, AdamDecay::L2(_)) => step.run::<true, false, true>(p, m, v, g),
                (true, AdamDecay::None) => step.run::<true, false, false>(p, m, v, g),
                (false, AdamDecay::L2(_)) => step.run::<false, false, true>(p, m, v, g),
                (false, AdamDecay::None) => step.run::<false, false, false>(p, m, v, g),
            };
        let squared = for_chunks(
            f32_mut(&mut param),
            f32_mut(&mut m),
            f32_mut(&mut v),
            f32_ref(&grad),
            step.scale,
            update,
        );
        self.gauge.add(squared);
        let momentum = AdaptiveMomentumState::new(
            time,
            device_tensor(m, dtype, &device),
            device_tensor(v, dtype, &device),
        );
        (
            device_tensor(param, dtype, &device),
            Some(AdamState::new(momentum)),
        )
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        AdamState::new(state.momentum.to_device(device))
    }
}

/// One SGD step's scalars (see [`FusedSgd`]).
struct SgdStep {
    scale: f32,
    lr: f32,
    /// Momentum μ.
    mu: f32,
    /// `1 − dampening`.
    keep: f32,
    /// The L2 penalty (used when `L2`).
    penalty: f32,
}

impl SgdStep {
    /// The update of one chunk, `v` the velocity (empty without `MOMENTUM`); `FIRST` sets the
    /// velocity to the direction as burn does, `NESTEROV` looks ahead, `L2` adds the penalty.
    #[inline]
    fn run<const MOMENTUM: bool, const FIRST: bool, const NESTEROV: bool, const L2: bool>(
        &self,
        p: &mut [f32],
        v: &mut [f32],
        g: &[f32],
    ) {
        let direction = |p: f32, g: f32| {
            let g = g * self.scale;
            if L2 { p * self.penalty + g } else { g }
        };
        if !MOMENTUM {
            for (p, &g) in p.iter_mut().zip(g) {
                *p -= direction(*p, g) * self.lr;
            }
            return;
        }
        for ((p, v), &g) in p.iter_mut().zip(v.iter_mut()).zip(g) {
            let d = direction(*p, g);
            *v = if FIRST {
                d
            } else {
                d * self.keep + *v * self.mu
            };
            let d = if NESTEROV { *v * self.mu + d } else { *v };
            *p -= d * self.lr;
        }
    }
}

/// One Adam or AdamW step's scalars (see [`FusedAdam`]).
struct AdamStep {
    scale: f32,
    lr: f32,
    b1: f32,
    b2: f32,
    f1: f32,
    f2: f32,
    eps: f32,
    correction_1: f32,
    correction_2: f32,
    /// Adam: `√(1 − β₂ᵗ) / (1 − β₁ᵗ)`.
    combined: f32,
    /// Adam: `ε √(1 − β₂ᵗ)`.
    eps_root: f32,
    /// Adam's L2 penalty (used when `L2`).
    penalty: f32,
    /// AdamW: `1 − αλ`.
    keep: f32,
}

impl AdamStep {
    /// The update of one chunk: `FIRST` starts the moments from the gradient as burn does
    /// (`g (1 − β₁)`, not `0 β₁ + g (1 − β₁)`, which differs in the sign of a zero), `DECOUPLED`
    /// is AdamW, `L2` adds Adam's penalty to the gradient.
    #[inline]
    fn run<const FIRST: bool, const DECOUPLED: bool, const L2: bool>(
        &self,
        p: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        g: &[f32],
    ) {
        for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
            let g = g * self.scale;
            let g = if L2 { *p * self.penalty + g } else { g };
            if FIRST {
                *m = g * self.f1;
                *v = (g * g) * self.f2;
            } else {
                *m = *m * self.b1 + g * self.f1;
                *v = *v * self.b2 + (g * g) * self.f2;
            }
            if DECOUPLED {
                let update =
                    (*m / self.correction_1) / ((*v / self.correction_2).sqrt() + self.eps);
                *p = *p * self.keep - update * self.lr;
            } else {
                *p -= (*m * self.combined) / (v.sqrt() + self.eps_root) * self.lr;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fused rules against burn's own optimizers, step for step, on both backends.

    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
    use burn::prelude::{Device, Tensor};
    use nerve_backend::BackendKind;
    use nerve_model::{Mlp, MlpConfig};

    use crate::{OptimizerConfig, OptimizerKind, global_grad_norm_squared};

    /// burn's optimizer for `config`, built as nerve did before the fused steps.
    fn burn_reference(config: &OptimizerConfig) -> ModuleOptimizer {
        let decay = config.effective_weight_decay();
        let l2 = (decay > 0.0).then(|| WeightDecayConfig::new(decay as f32));
        match config.kind {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum((config.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(config.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(config.nesterov)
                }))
                .with_weight_decay(l2)
                .init(),
            OptimizerKind::Adam => AdamConfig::new()
                .with_beta_1(config.beta_1)
                .with_beta_2(config.beta_2)
                .with_epsilon(config.epsilon)
                .with_weight_decay(l2)
                .init(),
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_beta_1(config.beta_1)
                .with_beta_2(config.beta_2)
                .with_epsilon(config.epsilon)
                .with_weight_decay(decay as f32)
                .init(),
            OptimizerKind::RmsProp => unreachable!("RMSprop is burn's own"),
        }
    }

    /// Every parameter value of `model`, in visiting order.
    fn values(model: &Mlp) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let data = param.val().into_data().convert::<f32>();
                self.0.extend(data.as_slice::<f32>().expect("f32"));
            }
        }
        let mut collect = Collect(Vec::new());
        model.visit(&mut collect);
        collect.0
    }

    /// The gradients of a squared error on a fixed batch whose inputs depend on `step`.
    fn gradients(model: &Mlp, step: usize, device: &Device) -> GradientsParams {
        let d_input = model.config().d_input;
        let rows = 8;
        let x: Vec<f32> = (0..rows * d_input)
            .map(|i| (((i * 7 + step * 13) % 23) as f32 - 11.0) / 7.0)
            .collect();
        let x = Tensor::<1>::from_floats(x.as_slice(), device).reshape([rows, d_input]);
        let output = model.forward(x);
        let target = output.clone().detach().mul_scalar(-0.5).add_scalar(0.25);
        let loss = (output - target).powi_scalar(2).mean();
        GradientsParams::from_grads(loss.backward(), model)
    }

    fn model(config: MlpConfig, device: &Device) -> Mlp {
        nerve_backend::seed(device, 7);
        config.init(device)
    }

    /// Runs `steps` updates with burn's optimizer and with nerve's from the same start, and
    /// returns the largest difference between their parameters and between the gradient norms.
    fn compare(
        config: &OptimizerConfig,
        net: MlpConfig,
        clip: Option<f64>,
        steps: usize,
    ) -> (f32, f64) {
        let mut worst = (0f32, 0f64);
        for kind in BackendKind::available() {
            let device = kind.autodiff_device().expect("compiled in");
            let start = model(net.clone(), &device);
            let (mut reference, mut fused) = (start.clone(), start);
            let mut burn_optimizer = burn_reference(config);
            let mut nerve_optimizer = config.init();
            for step in 0..steps {
                let lr = config.learning_rate * (1.0 + step as f64 / 10.0);
                let mut grads = gradients(&reference, step, &device);
                let mut norm_squared =
                    global_grad_norm_squared(&reference, &grads, &device).into_scalar::<f64>();
                if let Some(max) = clip {
                    let scale = crate::optimizer::clip_scale(norm_squared, max);
                    grads = crate::optimizer::scale_gradients(&reference, grads, scale);
                    norm_squared *= f64::from(scale) * f64::from(scale);
                }
                reference = burn_optimizer.step(lr, reference, grads);
                let grads = gradients(&fused, step, &device);
                let (next, fused_norm) = nerve_optimizer.step(lr, fused, grads, clip, &device);
                fused = next;
                let difference = values(&reference)
                    .iter()
                    .zip(values(&fused))
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                worst.0 = worst.0.max(difference);
                worst.1 = worst
                    .1
                    .max((fused_norm - norm_squared).abs() / norm_squared.max(1e-30));
            }
        }
        worst
    }

    fn small() -> MlpConfig {
        MlpConfig::new(3, vec![5, 4], 2)
    }

    /// Large enough (200 × 200 weights) for the chunked, parallel path.
    fn large() -> MlpConfig {
        MlpConfig::new(200, vec![200], 3)
    }

    fn sgd(momentum: f64, nesterov: bool, weight_decay: f64) -> OptimizerConfig {
        OptimizerConfig {
            nesterov,
            weight_decay: Some(weight_decay),
            ..OptimizerConfig::sgd(0.05, momentum)
        }
    }

    fn adam(kind: OptimizerKind, weight_decay: Option<f64>) -> OptimizerConfig {
        OptimizerConfig {
            kind,
            weight_decay,
            ..OptimizerConfig::adam(0.01)
        }
    }

    fn every_rule() -> Vec<(&'static str, OptimizerConfig)> {
        vec![
            ("sgd", sgd(0.0, false, 0.0)),
            ("sgd momentum", sgd(0.9, false, 0.0)),
            ("sgd nesterov", sgd(0.9, true, 0.0)),
            ("sgd momentum + L2", sgd(0.5, false, 0.01)),
            ("sgd L2", sgd(0.0, false, 0.1)),
            ("adam", adam(OptimizerKind::Adam, None)),
            ("adam + L2", adam(OptimizerKind::Adam, Some(0.05))),
            // Above 0 in f64 but 0 in f32: burn still adds its L2 term (`0 θ + g`).
            (
                "adam + L2 below f32",
                adam(OptimizerKind::Adam, Some(1e-50)),
            ),
            ("adamw", adam(OptimizerKind::AdamW, None)),
            ("adamw no decay", adam(OptimizerKind::AdamW, Some(0.0))),
        ]
    }

    #[test]
    fn every_fused_rule_matches_burns_optimizer_bit_for_bit() {
        for (name, config) in every_rule() {
            for (net_name, net) in [("small", small()), ("large", large())] {
                let (difference, norm) = compare(&config, net, None, 6);
                assert_eq!(difference, 0.0, "{name} on the {net_name} network");
                assert!(
                    norm < 1e-5,
                    "{name} on the {net_name} network: norm off by {norm}"
                );
            }
        }
    }

    #[test]
    fn clipping_by_the_global_norm_matches_scaling_the_gradients_first() {
        for (name, config) in every_rule() {
            let (difference, norm) = compare(&config, small(), Some(0.01), 4);
            assert_eq!(difference, 0.0, "{name}");
            assert!(norm < 1e-5, "{name}: norm off by {norm}");
        }
    }

    #[test]
    fn a_copy_of_the_model_kept_before_a_step_is_not_changed_by_it() {
        for kind in BackendKind::available() {
            let device = kind.autodiff_device().expect("compiled in");
            for (name, config) in every_rule() {
                let mut optimizer = config.init();
                let mut current = model(large(), &device);
                for step in 0..3 {
                    let kept = current.clone();
                    let before = values(&kept);
                    let grads = gradients(&current, step, &device);
                    current = optimizer.step(0.1, current, grads, None, &device).0;
                    assert_eq!(values(&kept), before, "{name}: the kept copy changed");
                    assert_ne!(values(&current), before, "{name}: the step changed nothing");
                }
            }
        }
    }

    #[test]
    fn a_saved_state_resumes_as_the_uninterrupted_run_and_reads_burns_records() {
        let device = BackendKind::Flex.autodiff_device().expect("compiled in");
        for (name, config) in every_rule() {
            // Two steps by burn's optimizer, its record loaded into nerve's: the continuation
            // matches burn's own, so checkpoints written before the fused steps still resume.
            let mut burn_optimizer = burn_reference(&config);
            let mut model_a = model(small(), &device);
            for step in 0..2 {
                let grads = gradients(&model_a, step, &device);
                model_a = burn_optimizer.step(0.05, model_a, grads);
            }
            let bytes = burn_optimizer.into_bytes().expect("record");
            let mut resumed = config
                .init()
                .from_bytes(bytes)
                .expect("burn's record reads");
            let mut model_b = model_a.clone();
            for step in 2..5 {
                let grads = gradients(&model_a, step, &device);
                model_a = burn_optimizer.step(0.05, model_a, grads);
                let grads = gradients(&model_b, step, &device);
                model_b = resumed.step(0.05, model_b, grads, None, &device).0;
            }
            assert_eq!(
                values(&model_a),
                values(&model_b),
                "{name}: from burn's record"
            );
            // nerve's own record, saved mid-run, resumes bit for bit.
            let bytes = resumed.into_bytes().expect("record");
            let mut again = config.init().from_bytes(bytes).expect("reads");
            let mut model_c = model_b.clone();
            for step in 5..7 {
                let grads = gradients(&model_b, step, &device);
                model_b = resumed.step(0.05, model_b, grads, None, &device).0;
                let grads = gradients(&model_c, step, &device);
                model_c = again.step(0.05, model_c, grads, None, &device).0;
            }
            assert_eq!(
                values(&model_b),
                values(&model_c),
                "{name}: from nerve's record"
            );
        }
    }
}
