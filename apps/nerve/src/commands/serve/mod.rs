//! `nerve serve`: models behind HTTP, speaking the Open Inference Protocol (KServe V2) and
//! MLflow's scoring protocol, with Prometheus metrics.
//!
//! Each request's rows go through the [`Predictor`](nerve_run::Predictor) that `nerve
//! predict` uses, on a blocking thread (never the async runtime's), at most `--workers` at a
//! time; a request's body is read only once the bytes it declares fit in a budget shared by
//! every request (`body_budget`), and its work is skipped if its client has gone by the time a
//! worker is free. So what many large requests at once can take is bounded. A request that fails gets a 4xx with `{"error": ...}` naming the field, row and
//! column; a panic while answering one is a 500 for that request only.

mod api_error;
mod extract;
mod json;
mod metrics;
mod mlflow;
mod open_inference;
mod routes;
mod send_timeout;
mod served_model;
mod state;
mod work;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use nerve_backend::BackendKind;

use self::routes::router;
use self::served_model::{ServedModel, Slot};
use self::state::{AppState, Shared};
use crate::choice;

const EXAMPLES: &str = "\
Examples:
  nerve serve -m runs/iris/model.safetensors
  nerve serve -m iris=runs/iris/model.safetensors -m wine=runs/wine/model.safetensors --addr 0.0.0.0:8080
  curl -s localhost:8080/invocations -H 'Content-Type: application/json' \\
    -d '{\"dataframe_records\": [{\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}]}'";

/// Flags of `nerve serve`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ServeArgs {
    /// A model file written by `nerve train`, served under NAME: the file's stem, or for
    /// `model.safetensors` its run folder's name (`runs/iris/model.safetensors` is `iris`).
    /// Repeat for several models.
    #[arg(short, long = "model", value_name = "[NAME=]FILE", required = true)]
    models: Vec<String>,
    /// The address and port to listen on (0.0.0.0 for every interface; port 0 picks a free one).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// The largest request body taken, in bytes (suffixes KB, MB, KiB, MiB); larger ones get a
    /// 413. Bodies held at once, by all requests together, are bounded by 4 × SIZE or 64 MiB,
    /// whichever is larger: more requests wait their turn (within --timeout) unread.
    #[arg(long, value_name = "SIZE", default_value = "8MiB", value_parser = crate::numbers::parse_size)]
    max_body: usize,
    /// The most rows one request may hold; more get a 413.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_rows: usize,
    /// How long a request may take, from its first byte to its answer (a slow client gets a
    /// 408; a client that never finishes its headers is disconnected).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Requests answered at once, each on its own thread [default: the CPU's cores].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// CPU backend (see `nerve backends`).
    #[arg(long, value_name = "NAME", value_parser = choice::<BackendKind>(), default_value_t = BackendKind::default())]
    backend: BackendKind,
}

/// Runs `nerve serve` until Ctrl-C or SIGTERM (requests in flight finish), or a model fails to
/// load.
pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode> {
    let specs = model_specs(&args.models)?;
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        anyhow::anyhow!(
            "--addr `{}`: expected IP:PORT, such as 127.0.0.1:8080 or 0.0.0.0:8080",
            args.addr
        )
    })?;
    if args.max_rows == 0 || args.max_body == 0 {
        bail!("--max-rows and --max-body must be at least 1");
    }
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    // The backend is checked before anything listens.
    args.backend.device()?;
    let slots = specs
        .into_iter()
        .map(|(name, path)| Slot {
            name,
            path,
            loaded: OnceLock::new(),
        })
        .collect();
    let state = Arc::new(AppState::new(
        slots,
        args.max_body,
        args.max_rows,
        args.timeout,
        workers,
    )?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nerve-serve")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(state, addr, args.backend))
}

/// Listens, loads the models in the background, serves until told to stop.
async fn run(state: Shared, addr: SocketAddr, backend: BackendKind) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let names: Vec<&str> = state.slots.iter().map(|s| s.name.as_str()).collect();
    eprintln!(
        "nerve serve: listening on http://{local} (loading {}; Ctrl-C stops)",
        names.join(", ")
    );
    let (failed_tx, mut failed_rx) = tokio::sync::watch::channel(None::<String>);
    let loader = {
        let state = state.clone();
        tokio::spawn(async move {
            for (i, slot) in state.slots.iter().enumerate() {
                state.metrics.ready(&slot.name, false);
                let (name, path) = (slot.name.clone(), slot.path.clone());
                let loaded =
                    tokio::task::spawn_blocking(move || ServedModel::load(&name, &path, backend))
                        .await;
                let loaded = match loaded {
                    Ok(Ok(model)) => Ok(Arc::new(model)),
                    Ok(Err(err)) => Err(format!("{err:#}")),
                    Err(err) => Err(format!("loading it failed: {err}")),
                };
                let slot = &state.slots[i];
                match &loaded {
                    Ok(_) => state.metrics.ready(&slot.name, true),
                    Err(err) => {
                        let _ = failed_tx.send(Some(format!(
                            "cannot serve `{}` ({}): {err}",
                            slot.name,
                            slot.path.display()
                        )));
                    }
                }
                let _ = slot.loaded.set(loaded);
            }
            if state.slots.iter().all(|s| s.ready().is_some()) {
                let described: Vec<String> = state
                    .slots
                    .iter()
                    .filter_map(Slot::ready)
                    .map(|m| {
                        format!(
                            "{} ({}, {} inputs) at http://{local}/v2/models/{}/infer",
                            m.name,
                            m.predictor
                                .saved()
                                .preprocessor
                                .task()
                                .to_string()
                                .to_lowercase(),
                            m.columns.len(),
                            m.name
                        )
                    })
                    .collect();
                eprintln!("nerve serve: ready: {}", described.join("; "));
            }
        })
    };
    let app = router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.timeout)
        .keep_alive(true)
        // A client that sends its request and then shuts its side (`nc -N`, some HTTP/1.0
        // clients) still gets the answer.
        .half_close(true);
    let mut stop = std::pin::pin!(shutdown_signal());
    // Resolves with the first load failure, never otherwise: once loading is over (the sender
    // dropped), it waits forever rather than answering `changed()`'s error again and again.
    let mut load_failure = std::pin::pin!(async move {
        loop {
            if failed_rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
            if let Some(message) = failed_rx.borrow().clone() {
                return message;
            }
        }
    });
    let failure = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // Out of file descriptors and the like: wait, then go on serving.
                        tracing::warn!("cannot accept a connection: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Answers go out as soon as they are written (no Nagle delay on small ones).
                let _ = stream.set_nodelay(true);
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                // An answer the client does not read is dropped after --timeout.
                let stream = send_timeout::SendTimeout::new(stream, state.timeout);
                let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut stop => break None,
            message = &mut load_failure => break Some(message),
        }
    };
    drop(listener);
    loader.abort();
    eprintln!("nerve serve: stopping; answering the requests in flight");
    // In-flight requests finish (each is bounded by --timeout); idle connections close now.
    if tokio::time::timeout(state.timeout + Duration::from_secs(1), graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("nerve serve: some connections were still open after --timeout; closed them");
    }
    match failure {
        Some(message) => bail!(message),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// `--model` values as (name, path): `NAME=FILE`, or the name taken from the file.
fn model_specs(values: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let mut specs: Vec<(String, PathBuf)> = Vec::new();
    for value in values {
        let (name, path) = match value.split_once('=') {
            Some((name, path)) if !std::path::Path::new(value).exists() => {
                (name.to_owned(), PathBuf::from(path))
            }
            _ => {
                let path = PathBuf::from(value);
                (default_name(&path), path)
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            bail!(
                "--model {value}: the name `{name}` must be letters, digits, `-`, `_` or `.` (it goes in URLs); give one as NAME=FILE"
            );
        }
        // RFC 3986 §5.2.4: clients remove `.` and `..` segments before sending, so
        // /v2/models/../infer would reach /v2/infer.
        if name == "." || name == ".." {
            bail!(
                "--model {value}: the name `{name}` is not a URL segment (clients read it as the folder it names); give another as NAME=FILE"
            );
        }
        if !path.is_file() {
            bail!(
                "--model {value}: {} is not a file; give a model file written by `nerve train`",
                path.display()
            );
        }
        if let Some((_, other)) = specs.iter().find(|(n, _)| *n == name) {
            bail!(
                "--model {value}: the name `{name}` is already taken by {}; name them apart with NAME=FILE",
                other.display()
            );
        }
        specs.push((name, path));
    }
    Ok(specs)
}

/// A model's default name: its file's stem, or its folder's name for `model.safetensors`
/// (what `nerve train` writes into each run folder).
fn default_name(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem == "model"
        && let Some(folder) = path.canonicalize().ok().and_then(|p| {
            p.parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
    {
        return folder;
    }
    stem
}

#[cfg(test)]
mod tests;
