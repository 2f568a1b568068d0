//! Building a network for prepared data and what its training needs, shared by `nerve train`
//! and cross-validation (`nerve cv`, `nerve tune`): the table a config names, the output
//! width, class weights from the training rows, a spiking network's input range, and a new
//! seeded network.

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use nerve_data::{Dataset, Prepared, Preprocessor, Table, prepare};
use nerve_loss::Loss;
use nerve_model::Mlp;
use nerve_model::spiking::InputRange;

use crate::run_config::{DataSource, RunConfig, resolve_data};

/// Reads the table the config names, and records its resolved location in the config.
/// Reads the run's table; records the data's absolute path in `config` and settles its
/// early stopping for the table's size ([`RunConfig::settle_early_stopping`]).
pub(crate) fn load_table(config: &mut RunConfig) -> Result<Table> {
    let options = config.data.csv_options();
    let source = resolve_data(&config.data.path)?;
    if let DataSource::File(path) = &source
        && let Ok(absolute) = std::path::absolute(path)
    {
        // The saved config must work from any folder, so it records an absolute path.
        config.data.path = absolute.display().to_string();
    }
    let table = source.reader(&options)?.read_all()?;
    // The rows that can train: those with a target (a row without one is always left out).
    let target = config
        .data
        .target
        .as_deref()
        .and_then(|name| table.column(name).ok())
        .or_else(|| table.columns().last());
    let rows = target.map_or(table.num_rows(), |column| {
        table.num_rows() - column.missing_count()
    });
    config.settle_early_stopping(rows);
    Ok(table)
}

/// The network's output width: one logit per class for cross-entropy, one output otherwise
/// (binary cross-entropy needs exactly two classes).
pub(crate) fn output_width(loss: Loss, preprocessor: &Preprocessor, source: &str) -> Result<usize> {
    nerve_train::output_width(loss, preprocessor.labels()).map_err(|message| {
        anyhow::anyhow!(
            "{source}, target column `{}`: {message}",
            preprocessor.target_name()
        )
    })
}

/// The smallest and largest value of each input over `rows`.
pub(crate) fn input_range(rows: &Dataset, device: &burn::prelude::Device) -> InputRange {
    let d = rows.d_input();
    let mut low = vec![f32::INFINITY; d];
    let mut high = vec![f32::NEG_INFINITY; d];
    for i in 0..rows.len() {
        for (j, &v) in rows.features_of(i).iter().enumerate() {
            low[j] = low[j].min(v);
            high[j] = high[j].max(v);
        }
    }
    // No rows: a unit range (every probability from the value itself).
    if rows.is_empty() {
        low.fill(0.0);
        high.fill(1.0);
    }
    InputRange::new(low, high, device)
}

/// The class weights `--class-weight` asks for, one per class, from the training rows
/// (`balanced` counts `train`'s classes).
pub(crate) fn class_weights(
    config: &RunConfig,
    preprocessor: &Preprocessor,
    train: &Dataset,
) -> Result<Option<Vec<f64>>> {
    let Some(spec) = &config.loss.class_weight else {
        return Ok(None);
    };
    let Some(labels) = preprocessor.labels() else {
        bail!(
            "--class-weight weighs classes, but `{}` is a regression target",
            preprocessor.target_name()
        );
    };
    if config.loss() == Loss::BinaryCrossEntropy && labels.len() != 2 {
        bail!("--class-weight with bce needs two classes");
    }
    spec.resolve(labels, train.targets()).map(Some)
}

/// A new network for rows prepared by `preprocessor` (`train` being its training rows),
/// seeded by the config's training seed: what `nerve train` starts from without `--init`.
///
/// # Errors
///
/// A loss that does not fit the target, or an invalid `[model]`.
pub(crate) fn new_network(
    config: &RunConfig,
    preprocessor: &Preprocessor,
    train: &Dataset,
    source: &str,
    device: &Device,
) -> Result<Mlp> {
    let d_output = output_width(config.loss(), preprocessor, source)?;
    let mlp_config = config.architecture(preprocessor.d_input(), d_output);
    mlp_config.validate().context("invalid [model]")?;
    nerve_backend::seed(device, config.training.seed);
    let model = mlp_config.init(device);
    // A spiking network maps features to spike probabilities by the training rows' range
    // (rate and latency coding); it is part of the model.
    Ok(if model.is_spiking() {
        model.with_input_range(input_range(train, device))
    } else {
        model
    })
}

/// The table `config` names, prepared by its data settings, with what was inferred recorded
/// in `config` (the target, the task, the loss for it): where `cv` and `tune` start.
///
/// # Errors
///
/// The data cannot be read or prepared, or the loss does not fit the task.
pub(crate) fn prepare_settled(config: &mut RunConfig) -> Result<Prepared> {
    let table = load_table(config)?;
    let prepared = prepare(table, &config.data.prepare_options())?;
    let target = prepared.preprocessor.target_name().to_owned();
    config.data.target = Some(target.clone());
    config.data.task = Some(prepared.task());
    config.settle_loss(prepared.task(), prepared.table.source_name(), &target)?;
    Ok(prepared)
}
