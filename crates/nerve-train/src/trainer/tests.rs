//! The epoch loop's tests: convergence, early stopping, divergence, resuming.

use super::evaluation::evaluate;
use super::*;
use crate::NoopObserver;
use crate::*;
use nerve_backend::BackendKind;
use nerve_data::Table;
use nerve_loss::Loss;
use nerve_model::MlpConfig;

fn line() -> Dataset {
    // y = 2x + 1 on eight points.
    let csv: String = std::iter::once("x,y".to_owned())
        .chain((0..8).map(|i| format!("{},{}", i as f32 / 4.0, 2.0 * i as f32 / 4.0 + 1.0)))
        .collect::<Vec<_>>()
        .join("\n");
    Table::from_csv_str("line.csv", &csv)
        .expect("valid csv")
        .into_dataset(None)
        .expect("two columns")
}

/// Full-batch gradient descent, the tutorial's rule, at `lr`.
fn gradient_descent(lr: f64) -> TrainConfig {
    TrainConfig {
        batch_size: BatchSize::Full,
        optimizer: OptimizerConfig::sgd(lr, 0.0),
        ..TrainConfig::default()
    }
}

fn fit(config: TrainConfig, observer: &mut dyn Observer) -> Result<TrainOutcome, TrainError> {
    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    let model = MlpConfig::new(1, vec![], 1).init(&device);
    Trainer::new(config).fit(model, &line(), None, &device, observer)
}

#[derive(Default)]
struct Recorder {
    plan: Option<TrainPlan>,
    epochs: Vec<usize>,
}

impl Observer for Recorder {
    fn on_start(&mut self, plan: &TrainPlan) {
        self.plan = Some(plan.clone());
    }
    fn on_epoch(&mut self, report: &EpochReport) {
        self.epochs.push(report.epoch);
    }
}

#[test]
fn stops_when_the_gradient_norm_falls_below_tol() {
    let config = TrainConfig {
        num_epochs: 5000,
        tol: 1e-3,
        ..gradient_descent(0.1)
    };
    let outcome = fit(config, &mut NoopObserver).expect("trains");
    assert_eq!(outcome.stop_reason, StopReason::Converged);
    assert!(outcome.history.len() < 5000);
    let last = outcome.history.last().expect("at least one epoch");
    assert!(last.grad_norm < 1e-3, "{last:?}");
    assert!(outcome.final_loss < 1e-4, "{}", outcome.final_loss);
}

#[test]
fn mini_batches_report_every_epoch_to_the_observer() {
    let config = TrainConfig {
        num_epochs: 3,
        batch_size: BatchSize::Rows(3),
        ..TrainConfig::default()
    };
    let mut recorder = Recorder::default();
    let outcome = fit(config, &mut recorder).expect("trains");
    assert_eq!(outcome.stop_reason, StopReason::EpochLimit);
    let plan = recorder.plan.expect("on_start was called");
    assert_eq!(
        (plan.num_rows, plan.steps_per_epoch, plan.num_epochs),
        (8, 3, 3)
    );
    assert_eq!(recorder.epochs, vec![1, 2, 3]);
}

#[test]
fn divergence_is_an_error_naming_the_epoch_and_the_learning_rate() {
    let config = TrainConfig {
        num_epochs: 500,
        ..gradient_descent(10.0)
    };
    let err = fit(config, &mut NoopObserver).unwrap_err();
    let mut err = err;
    let last_good = err
        .take_last_good()
        .expect("divergence keeps the last good state");
    let TrainError::Diverged { epoch, .. } = &err else {
        panic!("expected divergence, got {err}")
    };
    assert!(*epoch > 1);
    // The last good weights are those of the epoch before, or of the one before that when
    // the epoch before's last update already overflowed; either way with a finite loss.
    assert!(
        [epoch - 1, epoch - 2].contains(&last_good.best_epoch),
        "{} of {epoch}",
        last_good.best_epoch
    );
    assert_eq!(last_good.history.len(), last_good.best_epoch);
    assert!(last_good.final_loss.is_finite(), "{}", last_good.final_loss);
    assert_eq!(last_good.stop_reason, StopReason::Diverged);
    assert!(
        err.to_string()
            .contains("try a smaller learning rate (now 10)"),
        "{err}"
    );
}

#[test]
fn a_model_of_the_wrong_width_is_refused() {
    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    let model = MlpConfig::new(3, vec![], 1).init(&device);
    let err = Trainer::new(TrainConfig::default())
        .fit(model, &line(), None, &device, &mut NoopObserver)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line.csv: the model takes 3 inputs, but the data has 1 feature column(s)"
    );
}

#[test]
fn invalid_settings_name_the_field() {
    let bad = TrainConfig {
        batch_size: BatchSize::Rows(0),
        ..TrainConfig::default()
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("`batch_size`")
    );
    let bad = TrainConfig {
        optimizer: OptimizerConfig::sgd(0.1, 1.5),
        ..TrainConfig::default()
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("`momentum`")
    );
}

fn dataset(name: &str, slope: f32) -> Dataset {
    let csv: String = std::iter::once("x,y".to_owned())
        .chain((0..8).map(|i| format!("{},{}", i as f32 / 4.0, slope * i as f32 / 4.0 + 1.0)))
        .collect::<Vec<_>>()
        .join("\n");
    Table::from_csv_str(name, &csv)
        .expect("valid csv")
        .into_dataset(None)
        .expect("two columns")
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    nerve_backend::seed(&device, 1);
    let model = MlpConfig::new(1, vec![], 1).init(&device);
    // The validation rows follow the opposite slope: fitting the training rows makes the
    // validation loss worse, soon after the first epochs.
    let validation = dataset("valid.csv", -2.0);
    let config = TrainConfig {
        num_epochs: 500,
        patience: 5,
        ..gradient_descent(0.1)
    };
    let outcome = Trainer::new(config)
        .fit(
            model,
            &line(),
            Some(&validation),
            &device,
            &mut NoopObserver,
        )
        .expect("trains");
    assert_eq!(outcome.stop_reason, StopReason::EarlyStopped);
    assert_eq!(outcome.history.len(), outcome.best_epoch + 5);
    let best = &outcome.history[outcome.best_epoch - 1];
    let best_loss = best.validation.as_ref().expect("validation").loss;
    for report in &outcome.history {
        assert!(report.monitored_loss() >= best_loss);
    }
    // The returned weights are the best epoch's: their validation loss is that epoch's.
    let plain = device.without_autodiff();
    let restored = evaluate(&outcome.model, Loss::Mse, &validation, &plain).expect("valid");
    assert!(
        (restored - best_loss).abs() < 1e-6,
        "{restored} vs {best_loss}"
    );
}

#[test]
fn clipping_bounds_the_global_gradient_norm() {
    let config = TrainConfig {
        num_epochs: 20,
        clip_grad_norm: Some(0.01),
        ..gradient_descent(0.1)
    };
    let outcome = fit(config, &mut NoopObserver).expect("trains");
    for report in &outcome.history {
        assert!(report.grad_norm <= 0.01 * (1.0 + 1e-4), "{report:?}");
    }
    let unclipped = fit(
        TrainConfig {
            num_epochs: 20,
            ..gradient_descent(0.1)
        },
        &mut NoopObserver,
    )
    .expect("trains");
    assert!(unclipped.history[0].grad_norm > 0.1);
}

#[test]
fn the_observer_can_stop_training() {
    struct StopAtThree(usize);
    impl Observer for StopAtThree {
        fn on_epoch(&mut self, report: &EpochReport) {
            self.0 = report.epoch;
        }
        fn should_stop(&mut self) -> bool {
            self.0 >= 3
        }
    }
    let outcome = fit(TrainConfig::default(), &mut StopAtThree(0)).expect("trains");
    assert_eq!(outcome.stop_reason, StopReason::Interrupted);
    assert_eq!(outcome.history.len(), 3);
}

#[test]
fn every_optimizer_and_schedule_trains() {
    use crate::{OptimizerKind, ScheduleConfig, ScheduleKind};
    for kind in OptimizerKind::ALL {
        for schedule in ScheduleKind::ALL {
            let config = TrainConfig {
                num_epochs: 300,
                batch_size: BatchSize::Full,
                optimizer: OptimizerConfig {
                    kind,
                    learning_rate: 0.05,
                    momentum: if kind == OptimizerKind::Adam {
                        0.0
                    } else {
                        0.5
                    },
                    nesterov: kind == OptimizerKind::Sgd,
                    ..OptimizerConfig::default()
                },
                schedule: ScheduleConfig {
                    name: schedule,
                    warmup_epochs: 5,
                    step_size: 100,
                    gamma: 0.5,
                    ..ScheduleConfig::default()
                },
                ..TrainConfig::default()
            };
            let outcome = fit(config, &mut NoopObserver).expect("trains");
            let first = outcome.history[0].loss();
            assert!(
                outcome.final_loss < first * 0.1,
                "{kind} with {schedule}: {first} -> {}",
                outcome.final_loss
            );
            assert!(
                (outcome.history[0].lr - 0.01).abs() < 1e-12,
                "warm-up starts at lr / 5"
            );
        }
    }
}

#[test]
fn a_resumed_run_ends_exactly_like_an_uninterrupted_one() {
    use crate::{Checkpoint, ScheduleConfig, ScheduleKind};

    /// Model file bytes, optimizer bytes, history, best epoch.
    type Saved = (Vec<u8>, Vec<u8>, Vec<EpochReport>, Option<usize>);

    /// Keeps the latest checkpoint, as files would, and stops after `stop_at` epochs.
    struct Saver {
        stop_at: usize,
        saved: Option<Saved>,
    }
    impl Observer for Saver {
        fn on_checkpoint(&mut self, c: &Checkpoint<'_>) -> bool {
            let mut extra = serde_json::Map::new();
            extra.insert("param_ids".into(), serde_json::json!(c.model.param_ids()));
            let model = c.model.to_safetensors(&extra).expect("serializes");
            let optimizer = c.optimizer.into_bytes().expect("serializes").to_vec();
            let best = c.best.map(|(epoch, _)| epoch);
            self.saved = Some((model, optimizer, c.history.to_vec(), best));
            true
        }
        fn should_stop(&mut self) -> bool {
            self.saved
                .as_ref()
                .is_some_and(|s| s.2.len() >= self.stop_at)
        }
    }

    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    let config = TrainConfig {
        num_epochs: 12,
        batch_size: BatchSize::Rows(3),
        optimizer: OptimizerConfig::adam(0.05),
        schedule: ScheduleConfig {
            name: ScheduleKind::Cosine,
            warmup_epochs: 2,
            ..ScheduleConfig::default()
        },
        seed: 9,
        ..TrainConfig::default()
    };
    // One initial network for both runs: the backend's generator is process-wide, and
    // other tests draw from it concurrently.
    let initial = MlpConfig::new(1, vec![6], 1).init(&device);
    let _ = initial.forward(line().features_tensor(&device));
    let init = |_: &Device| initial.clone();
    let trainer = Trainer::new(config);
    let whole = trainer
        .fit(init(&device), &line(), None, &device, &mut NoopObserver)
        .expect("trains");

    let mut saver = Saver {
        stop_at: 5,
        saved: None,
    };
    let first = trainer
        .fit(init(&device), &line(), None, &device, &mut saver)
        .expect("trains");
    assert_eq!(first.stop_reason, StopReason::Interrupted);
    let (model, optimizer, history, _) = saver.saved.expect("checkpointed");
    let (model, info) = Mlp::from_safetensors(&model, "checkpoint", &device).expect("reads");
    let ids: Vec<u64> = serde_json::from_value(info.extra["param_ids"].clone()).expect("ids");
    let model = model.with_param_ids(&ids).expect("same layers");
    let resumed = trainer
        .resume(
            model,
            Resume {
                optimizer,
                history,
                best: None,
            },
            &line(),
            None,
            &device,
            &mut NoopObserver,
        )
        .expect("resumes");
    assert_eq!(resumed.history.len(), 12);
    for (a, b) in whole.history.iter().zip(&resumed.history) {
        assert_eq!(
            (a.lr, &a.train, a.grad_norm),
            (b.lr, &b.train, b.grad_norm),
            "epoch {}",
            a.epoch
        );
    }
    let plain = device.without_autodiff();
    let x = line().features_tensor(&plain);
    let outputs = |m: &Mlp| {
        m.forward(x.clone())
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32")
    };
    assert_eq!(outputs(&whole.model), outputs(&resumed.model));
}

/// `monitor = val_r2` keeps the epoch of the highest validation R², which for an MSE loss is the
/// epoch of the lowest validation loss (R² = 1 − SSE / SS_tot falls as the loss rises): the
/// same best epoch and the same stop as `val_loss`.
#[test]
fn monitoring_r2_keeps_the_epoch_of_the_best_r2() {
    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    let validation = dataset("valid.csv", -2.0);
    let fit = |monitor: crate::Monitor| {
        nerve_backend::seed(&device, 1);
        let model = MlpConfig::new(1, vec![], 1).init(&device);
        let config = TrainConfig {
            num_epochs: 500,
            patience: 5,
            monitor,
            ..gradient_descent(0.1)
        };
        Trainer::new(config)
            .fit(
                model,
                &line(),
                Some(&validation),
                &device,
                &mut NoopObserver,
            )
            .expect("trains")
    };
    let by_r2 = fit(crate::Monitor::ValR2);
    let by_loss = fit(crate::Monitor::ValLoss);
    assert_eq!(by_r2.best_epoch, by_loss.best_epoch);
    let r2 = |report: &EpochReport| match &report.validation.as_ref().expect("validation").scores {
        crate::Scores::Regression(m) => m.r2,
        crate::Scores::Classification(_) => unreachable!("a regression run"),
    };
    let best = r2(&by_r2.history[by_r2.best_epoch - 1]);
    assert!(by_r2.history.iter().all(|report| r2(report) <= best));
}

/// A score the run does not have is refused before training, by name.
#[test]
fn a_monitor_the_run_cannot_watch_is_refused() {
    let device = BackendKind::default()
        .autodiff_device()
        .expect("compiled in");
    let model = MlpConfig::new(1, vec![], 1).init(&device);
    for (monitor, validation, expected) in [
        (crate::Monitor::ValAccuracy, true, "classification score"),
        (crate::Monitor::ValR2, false, "this run has none"),
    ] {
        let config = TrainConfig {
            num_epochs: 2,
            monitor,
            ..gradient_descent(0.1)
        };
        let valid = dataset("valid.csv", -2.0);
        let err = Trainer::new(config)
            .fit(
                model.clone(),
                &line(),
                validation.then_some(&valid),
                &device,
                &mut NoopObserver,
            )
            .expect_err("refused")
            .to_string();
        assert!(err.contains(expected), "{monitor}: {err}");
    }
}
