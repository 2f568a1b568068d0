//! [`EarlyStopping`]: the best epoch so far by the monitored loss, and when patience runs out
//! (Keras' `EarlyStopping(restore_best_weights=True)`, scikit-learn's `n_iter_no_change`).

use nerve_model::Mlp;

use crate::EpochReport;

/// Watches the monitored quantity ([`Monitor`](crate::Monitor), lower is better) epoch by epoch.
/// With `patience` 0 it only watches: nothing is kept and the run never stops early.
pub(super) struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    /// The best epoch, its loss and its weights.
    best: Option<(usize, f64, Mlp)>,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without an improvement larger than `min_delta`.
    pub(super) fn new(patience: usize, min_delta: f64) -> Self {
        Self {
            patience,
            min_delta,
            best: None,
        }
    }

    /// Continues from a checkpoint's best epoch and weights; its loss is read from `history`.
    pub(super) fn resumed(
        mut self,
        best: Option<(usize, Mlp)>,
        history: &[EpochReport],
        monitor: crate::Monitor,
    ) -> Self {
        self.best = best.and_then(|(epoch, model)| {
            let loss = monitor.value(history.get(epoch.checked_sub(1)?)?);
            Some((epoch, loss, model))
        });
        self
    }

    /// Records epoch `epoch`'s monitored `loss` and weights; whether patience has run out.
    pub(super) fn observe(&mut self, epoch: usize, loss: f64, model: &Mlp) -> bool {
        if self.patience == 0 {
            return false;
        }
        let improved = match &self.best {
            Some((_, best_loss, _)) => loss < best_loss - self.min_delta,
            // A first epoch without the quantity (NaN) is not a best to keep.
            None => !loss.is_nan(),
        };
        if improved {
            self.best = Some((epoch, loss, model.clone()));
            return false;
        }
        self.best
            .as_ref()
            .is_some_and(|(best_epoch, _, _)| epoch - best_epoch >= self.patience)
    }

    /// The best epoch so far and its weights, for a checkpoint.
    pub(super) fn best(&self) -> Option<(usize, &Mlp)> {
        self.best.as_ref().map(|(epoch, _, model)| (*epoch, model))
    }

    /// The weights a run ends with: the best epoch's when stopping early is on, else the last
    /// (`last_epoch`, `model`).
    pub(super) fn restore(self, last_epoch: usize, model: Mlp) -> (usize, Mlp) {
        match self.best {
            Some((epoch, _, best)) if self.patience > 0 => (epoch, best),
            _ => (last_epoch, model),
        }
    }
}
