//! [`AppState`]: what every handler shares — the served models, the metrics, the limits, and
//! the worker permits and byte budgets that bound what requests hold.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::Semaphore;

use super::api_error::{ApiError, ErrorKind};
use super::metrics::Metrics;
use super::served_model::{ServedModel, Slot};

/// What every handler shares.
pub(crate) struct AppState {
    pub(super) slots: Vec<Slot>,
    pub(super) metrics: Metrics,
    pub(super) max_body: usize,
    pub(super) max_rows: usize,
    pub(super) timeout: Duration,
    /// `--workers` permits: one is held by each request being answered, until its work ends.
    pub(super) workers: Arc<Semaphore>,
    /// One permit per byte of request bodies that may be held at once ([`body_budget`]).
    pub(super) bodies: Arc<Semaphore>,
    /// One permit per byte of answers written and not yet sent (the same budget's size).
    pub(super) answers: Arc<Semaphore>,
    /// The bodies' budget in bytes (and the answers').
    pub(super) budget: usize,
}

impl AppState {
    /// The state of a server answering for `slots`.
    pub(super) fn new(
        slots: Vec<Slot>,
        max_body: usize,
        max_rows: usize,
        timeout: Duration,
        workers: usize,
    ) -> Result<Self> {
        let budget = body_budget(max_body);
        Ok(AppState {
            slots,
            metrics: Metrics::new().context("cannot set up the metrics")?,
            max_body,
            max_rows,
            timeout,
            workers: Arc::new(Semaphore::new(workers)),
            bodies: Arc::new(Semaphore::new(budget)),
            answers: Arc::new(Semaphore::new(budget)),
            budget,
        })
    }
}

/// The bytes of request bodies held at once: 4 × `max_body` or 64 MiB, whichever is larger
/// (a permit count must fit in 32 bits, so at most 4 GiB).
fn body_budget(max_body: usize) -> usize {
    max_body
        .saturating_mul(4)
        .max(64 << 20)
        .min(u32::MAX as usize)
}

/// The state as handlers hold it.
pub(crate) type Shared = Arc<AppState>;

impl AppState {
    /// The slot of the model called `name`.
    pub(super) fn slot(&self, name: &str) -> Result<&Slot, ApiError> {
        self.slots.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.slots.iter().map(|s| s.name.as_str()).collect();
            ApiError::not_found(format!(
                "no model `{name}`; this server has: {}",
                names.join(", ")
            ))
        })
    }

    /// The model called `name`, if it is ready: 404 for an unknown name, 503 while it loads.
    pub(super) fn model(&self, name: &str) -> Result<Arc<ServedModel>, ApiError> {
        let slot = self.slot(name)?;
        match slot.loaded.get() {
            Some(Ok(model)) => Ok(model.clone()),
            Some(Err(err)) => Err(ApiError::new(
                ErrorKind::Unavailable,
                format!("model `{name}` failed to load: {err}"),
            )),
            None => Err(ApiError::new(
                ErrorKind::Unavailable,
                format!(
                    "model `{name}` is still loading; try again (GET /v2/models/{name}/ready says when)"
                ),
            )),
        }
    }
}
