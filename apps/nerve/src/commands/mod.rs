//! One module per command. Commands share the modules above them (output, model input, charts,
//! the run folder) and never import one another: `tests/tests/dependencies.rs` checks it.

pub(crate) mod bench;
pub(crate) mod calibrate;
pub(crate) mod cv;
pub(crate) mod datasets;
pub(crate) mod eval;
pub(crate) mod explain;
pub(crate) mod export;
pub(crate) mod inspect;
pub(crate) mod plot;
pub(crate) mod predict;
pub(crate) mod serve;
pub(crate) mod train;
pub(crate) mod tune;
