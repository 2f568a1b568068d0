//! The same config, seed and backend give bit-identical histories and weights: mini-batches
//! with a seeded shuffle, Adam, a cosine schedule, clipping, validation and early stopping, run
//! twice on each backend.

#![allow(clippy::unwrap_used)]

use nerve_data::{PrepareOptions, SplitOptions, Table, prepare};
use nerve_model::{Mlp, MlpConfig};
use nerve_tests::{backends, init_seeded};
use nerve_train::{
    BatchSize, NoopObserver, OptimizerConfig, ScheduleConfig, ScheduleKind, TrainConfig,
    TrainOutcome, Trainer,
};

fn train(kind: nerve_backend::BackendKind) -> TrainOutcome {
    let table = Table::from_csv_str("iris", include_str!("../../datasets/iris.csv")).unwrap();
    let options = PrepareOptions {
        split: SplitOptions {
            test: 0.2,
            validation: 0.2,
            seed: 1,
        },
        ..PrepareOptions::default()
    };
    let data = prepare(table, &options).unwrap();
    let config = TrainConfig {
        num_epochs: 25,
        batch_size: BatchSize::Rows(16),
        loss: nerve_loss::Loss::CrossEntropy,
        optimizer: OptimizerConfig::adam(0.01),
        schedule: ScheduleConfig {
            name: ScheduleKind::Cosine,
            warmup_epochs: 2,
            ..ScheduleConfig::default()
        },
        patience: 5,
        clip_grad_norm: Some(1.0),
        seed: 3,
        ..TrainConfig::default()
    };
    let device = kind.autodiff_device().unwrap();
    let model = init_seeded(&MlpConfig::new(4, vec![16], 3), &device, 3);
    Trainer::new(config)
        .fit(
            model,
            &data.train,
            data.validation.as_ref(),
            &device,
            &mut NoopObserver,
        )
        .unwrap()
}

/// Every weight and bias, bit for bit.
fn weights(model: &Mlp) -> Vec<Vec<u32>> {
    model
        .layers()
        .iter()
        .flat_map(|layer| {
            let bias = layer.bias.as_ref().map(|b| b.val().into_data());
            std::iter::once(layer.weight.val().into_data()).chain(bias)
        })
        .map(|data| {
            data.try_to_vec::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .collect()
}

#[test]
fn the_same_config_and_seed_repeat_bit_for_bit() {
    for kind in backends() {
        let (a, b) = (train(kind), train(kind));
        assert_eq!(a.history.len(), b.history.len(), "{kind}");
        for (x, y) in a.history.iter().zip(&b.history) {
            // Everything but the wall-clock time.
            assert_eq!(
                (x.epoch, x.lr, &x.train, &x.validation, x.grad_norm),
                (y.epoch, y.lr, &y.train, &y.validation, y.grad_norm),
                "{kind}"
            );
        }
        assert_eq!(a.best_epoch, b.best_epoch, "{kind}");
        assert_eq!(weights(&a.model), weights(&b.model), "{kind}");
        assert_eq!(a.final_loss.to_bits(), b.final_loss.to_bits(), "{kind}");
    }
}
