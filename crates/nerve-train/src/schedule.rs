//! [`ScheduleConfig`]: how the learning rate changes from epoch to epoch — burn's step, cosine
//! and linear schedulers, an optional linear warm-up, and reduce-on-plateau (which burn lacks).

use crate::InvalidSetting;
use std::fmt;

use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use serde::{Deserialize, Serialize};

/// Which schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The learning rate never changes.
    #[default]
    Constant,
    /// Multiplied by `gamma` every `step_size` epochs (PyTorch's `StepLR`).
    Step,
    /// Cosine annealing from the learning rate to `min_lr` over the run (`CosineAnnealingLR`).
    Cosine,
    /// A straight line from the learning rate to `min_lr` over the run.
    Linear,
    /// Multiplied by `factor` when the monitored loss (validation, else training) has not
    /// improved for `patience` epochs (`ReduceLROnPlateau`).
    Plateau,
}

impl ScheduleKind {
    /// Every schedule, in the order help texts list them.
    pub const ALL: [ScheduleKind; 5] = [
        ScheduleKind::Constant,
        ScheduleKind::Step,
        ScheduleKind::Cosine,
        ScheduleKind::Linear,
        ScheduleKind::Plateau,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScheduleKind::Constant => "constant",
            ScheduleKind::Step => "step",
            ScheduleKind::Cosine => "cosine",
            ScheduleKind::Linear => "linear",
            ScheduleKind::Plateau => "plateau",
        }
    }
}

nerve_choice::named_choice!(ScheduleKind, "schedule");

/// The `[schedule]` table of a run config. The learning rate is set once per epoch; every
/// count is in epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// The schedule.
    pub name: ScheduleKind,
    /// Epochs of linear warm-up before the schedule starts: the rate climbs from `lr / n` in
    /// steps of `lr (1 - 1/n) / n` (PyTorch's `LinearLR(start_factor = 1/n, total_iters = n)`).
    pub warmup_epochs: usize,
    /// `step`: epochs between reductions.
    pub step_size: usize,
    /// `step`: the factor of each reduction.
    pub gamma: f64,
    /// `cosine` and `linear`: the final rate; `plateau`: the floor.
    pub min_lr: f64,
    /// `plateau`: the factor of each reduction.
    pub factor: f64,
    /// `plateau`: epochs without improvement before a reduction.
    pub patience: usize,
    /// `plateau`: an improvement must beat the best loss by this fraction of it.
    pub threshold: f64,
    /// `plateau`: epochs to wait after a reduction before counting again.
    pub cooldown: usize,
}

impl ScheduleConfig {
    /// Whether the learning rate stays at its initial value every epoch: the constant schedule
    /// without warm-up. (`plateau` may cut it, so it counts as moving.)
    pub fn is_constant(&self) -> bool {
        self.name == ScheduleKind::Constant && self.warmup_epochs == 0
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        // PyTorch's defaults for StepLR (gamma 0.1) and ReduceLROnPlateau.
        Self {
            name: ScheduleKind::Constant,
            warmup_epochs: 0,
            step_size: 30,
            gamma: 0.1,
            min_lr: 0.0,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
        }
    }
}

impl ScheduleConfig {
    /// Checks the settings, naming the first that is out of range.
    ///
    /// # Errors
    ///
    /// The first setting out of its range.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.problem().map_err(InvalidSetting)
    }

    /// [`ScheduleConfig::validate`]'s checks, in words.
    fn problem(&self) -> Result<(), String> {
        if self.step_size == 0 {
            return Err("`step_size` must be at least 1".to_owned());
        }
        for (name, value) in [("gamma", self.gamma), ("factor", self.factor)] {
            if !(value > 0.0 && value < 1.0) {
                return Err(format!("`{name}` must be in (0, 1), got {value}"));
            }
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return Err(format!(
                "`min_lr` must be 0 or positive, got {}",
                self.min_lr
            ));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(format!(
                "`threshold` must be 0 or positive, got {}",
                self.threshold
            ));
        }
        Ok(())
    }
}

/// A running schedule: [`Schedule::next_lr`] before each epoch, [`Schedule::observe`] after it.
#[derive(Clone)]
pub struct Schedule {
    learning_rate: f64,
    warmup_epochs: usize,
    epoch: usize,
    main: Main,
}

#[derive(Clone)]
enum Main {
    Constant,
    Burn(ModuleLrScheduler),
    Plateau(ReduceOnPlateau),
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("learning_rate", &self.learning_rate)
            .field("warmup_epochs", &self.warmup_epochs)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl Schedule {
    /// The schedule of `config` for a run of `num_epochs` epochs starting at `learning_rate`.
    pub fn new(
        config: &ScheduleConfig,
        learning_rate: f64,
        num_epochs: usize,
    ) -> Result<Schedule, InvalidSetting> {
        Self::build(config, learning_rate, num_epochs).map_err(InvalidSetting)
    }

    /// [`Schedule::new`], its refusal in words.
    fn build(
        config: &ScheduleConfig,
        learning_rate: f64,
        num_epochs: usize,
    ) -> Result<Schedule, String> {
        config.problem()?;
        let span = num_epochs.saturating_sub(config.warmup_epochs).max(1);
        let limit = |result: Result<ModuleLrScheduler, String>| {
            result.map(Main::Burn).map_err(|err| {
                format!(
                    "the {} schedule: {err} (learning rate {learning_rate})",
                    config.name
                )
            })
        };
        let main = match config.name {
            ScheduleKind::Constant => Main::Constant,
            ScheduleKind::Step => limit(
                StepLrSchedulerConfig::new(learning_rate, config.step_size)
                    .with_gamma(config.gamma)
                    .init(),
            )?,
            ScheduleKind::Cosine => limit(
                CosineAnnealingLrSchedulerConfig::new(learning_rate, span)
                    .with_min_lr(config.min_lr)
                    .init(),
            )?,
            ScheduleKind::Linear => {
                limit(LinearLrSchedulerConfig::new(learning_rate, config.min_lr, span).init())?
            }
            ScheduleKind::Plateau => Main::Plateau(ReduceOnPlateau::new(config, learning_rate)),
        };
        Ok(Schedule {
            learning_rate,
            warmup_epochs: config.warmup_epochs,
            epoch: 0,
            main,
        })
    }

    /// The learning rate for the next epoch.
    pub fn next_lr(&mut self) -> f64 {
        self.epoch += 1;
        let warmup = self.warmup_epochs;
        if self.epoch <= warmup {
            let start = 1.0 / warmup as f64;
            return self.learning_rate
                * (start + (self.epoch - 1) as f64 * (1.0 - start) / warmup as f64);
        }
        match &mut self.main {
            Main::Constant => self.learning_rate,
            Main::Burn(scheduler) => scheduler.step().base(),
            Main::Plateau(plateau) => plateau.lr,
        }
    }

    /// Reports the epoch's monitored loss (for reduce-on-plateau; the others ignore it).
    pub fn observe(&mut self, loss: f64) {
        if self.epoch > self.warmup_epochs
            && let Main::Plateau(plateau) = &mut self.main
        {
            plateau.step(loss);
        }
    }
}

/// PyTorch's `ReduceLROnPlateau` in `min` mode with a relative threshold: after `patience`
/// epochs in which the loss did not fall below `best × (1 − threshold)`, the rate is multiplied
/// by `factor` (not below `min_lr`), then `cooldown` epochs pass before counting again.
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceOnPlateau {
    lr: f64,
    factor: f64,
    patience: usize,
    threshold: f64,
    cooldown: usize,
    min_lr: f64,
    best: f64,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl ReduceOnPlateau {
    /// Starts at `learning_rate` with the plateau settings of `config`.
    pub fn new(config: &ScheduleConfig, learning_rate: f64) -> Self {
        Self {
            lr: learning_rate,
            factor: config.factor,
            patience: config.patience,
            threshold: config.threshold,
            cooldown: config.cooldown,
            min_lr: config.min_lr,
            best: f64::INFINITY,
            bad_epochs: 0,
            cooldown_left: 0,
        }
    }

    /// Takes one epoch's loss and returns the learning rate for the next epoch.
    pub fn step(&mut self, loss: f64) -> f64 {
        if loss < self.best * (1.0 - self.threshold) {
            self.best = loss;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            self.lr = (self.lr * self.factor).max(self.min_lr);
            self.cooldown_left = self.cooldown;
            self.bad_epochs = 0;
        }
        self.lr
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_constant_schedule_without_warm_up_keeps_the_rate() {
        let mut config = ScheduleConfig::default();
        assert!(config.is_constant());
        config.warmup_epochs = 2;
        assert!(!config.is_constant());
        config.warmup_epochs = 0;
        config.name = ScheduleKind::Plateau;
        assert!(!config.is_constant());
    }

    fn rates(config: ScheduleConfig, lr: f64, epochs: usize) -> Vec<f64> {
        let mut schedule = Schedule::new(&config, lr, epochs).expect("valid");
        (0..epochs).map(|_| schedule.next_lr()).collect()
    }

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!((a - e).abs() < 1e-12, "epoch {}: {a} != {e}", i + 1);
        }
    }

    #[test]
    fn step_cosine_and_linear_match_the_formulas() {
        let step = ScheduleConfig {
            name: ScheduleKind::Step,
            step_size: 2,
            gamma: 0.5,
            ..ScheduleConfig::default()
        };
        assert_close(&rates(step, 0.1, 5), &[0.1, 0.1, 0.05, 0.05, 0.025]);
        // PyTorch's CosineAnnealingLR: min + (max - min)(1 + cos(π t / T)) / 2, t = 0, 1, ...
        let cosine = ScheduleConfig {
            name: ScheduleKind::Cosine,
            min_lr: 0.01,
            ..ScheduleConfig::default()
        };
        let expected: Vec<f64> = (0..4)
            .map(|t| 0.01 + 0.09 * (1.0 + (std::f64::consts::PI * t as f64 / 4.0).cos()) / 2.0)
            .collect();
        assert_close(&rates(cosine, 0.1, 4), &expected);
        let linear = ScheduleConfig {
            name: ScheduleKind::Linear,
            ..ScheduleConfig::default()
        };
        assert_close(&rates(linear, 0.1, 4), &[0.1, 0.075, 0.05, 0.025]);
        assert_close(&rates(ScheduleConfig::default(), 5.0, 3), &[5.0; 3]);
    }

    #[test]
    fn warmup_climbs_then_hands_over() {
        let config = ScheduleConfig {
            name: ScheduleKind::Step,
            warmup_epochs: 4,
            step_size: 1,
            gamma: 0.5,
            ..ScheduleConfig::default()
        };
        // LinearLR(start_factor = 1/4, total_iters = 4): factors 1/4, 7/16, 5/8, 13/16.
        assert_close(
            &rates(config, 0.1, 7),
            &[0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.05, 0.025],
        );
    }

    #[test]
    fn plateau_reduces_after_patience_and_waits_out_the_cooldown() {
        let config = ScheduleConfig {
            name: ScheduleKind::Plateau,
            factor: 0.5,
            patience: 2,
            cooldown: 1,
            min_lr: 0.02,
            ..ScheduleConfig::default()
        };
        let mut plateau = ReduceOnPlateau::new(&config, 0.1);
        let losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5];
        let lrs: Vec<f64> = losses.iter().map(|&l| plateau.step(l)).collect();
        // Bad epochs 3..5 trip the reduction at epoch 5; the cooldown swallows epoch 6; bad
        // epochs 7..9 reduce again at 9; epoch 12 improves.
        assert_close(
            &lrs,
            &[
                0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025,
            ],
        );
        let mut schedule = Schedule::new(&config, 0.1, 20).expect("valid");
        assert_eq!(schedule.next_lr(), 0.1);
        for _ in 0..4 {
            schedule.observe(1.0);
        }
        assert_eq!(schedule.next_lr(), 0.05);
        for _ in 0..10 {
            schedule.observe(1.0);
        }
        assert_eq!(schedule.next_lr(), 0.02, "never below min_lr");
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = ScheduleConfig {
            gamma: 1.5,
            ..ScheduleConfig::default()
        };
        assert!(bad.validate().unwrap_err().0.contains("`gamma`"));
        let cosine = ScheduleConfig {
            name: ScheduleKind::Cosine,
            ..ScheduleConfig::default()
        };
        let err = Schedule::new(&cosine, 2.0, 10).unwrap_err();
        assert!(err.0.contains("cosine"), "{err}");
        assert_eq!("Plateau".parse::<ScheduleKind>(), Ok(ScheduleKind::Plateau));
        assert!("exp".parse::<ScheduleKind>().is_err());
    }
}
