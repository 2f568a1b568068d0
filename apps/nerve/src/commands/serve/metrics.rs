//! [`Metrics`]: what the server counts, exposed at `GET /metrics` in the Prometheus text
//! format (version 0.0.4) by the `prometheus` crate.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The server's counters and histograms.
pub(crate) struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    rows: IntCounterVec,
    ready: IntGaugeVec,
    bodies: IntGauge,
    answers: IntGauge,
}

impl Metrics {
    /// Registers every metric (the names are fixed, so this cannot fail in practice).
    pub(crate) fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "nerve_http_requests_total",
                "HTTP requests answered, by endpoint and status code.",
            ),
            &["endpoint", "status"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "nerve_http_request_errors_total",
                "HTTP requests answered with a 4xx or 5xx status, by endpoint and status code.",
            ),
            &["endpoint", "status"],
        )?;
        // 100 µs to ~6.5 s, doubling.
        let buckets = prometheus::exponential_buckets(0.0001, 2.0, 17)?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "nerve_http_request_duration_seconds",
                "Time from a request's arrival to its response, by endpoint.",
            )
            .buckets(buckets),
            &["endpoint"],
        )?;
        let rows = IntCounterVec::new(
            Opts::new("nerve_rows_predicted_total", "Rows answered, by model."),
            &["model"],
        )?;
        let ready = IntGaugeVec::new(
            Opts::new(
                "nerve_model_ready",
                "1 when the model is loaded and answering, else 0.",
            ),
            &["model"],
        )?;
        let bodies = IntGauge::new(
            "nerve_request_body_bytes_held",
            "Bytes of request bodies held or reserved by requests in flight (bounded by the bodies' budget, the larger of 4 x --max-body and 64 MiB).",
        )?;
        let answers = IntGauge::new(
            "nerve_answer_bytes_held",
            "Bytes of answers written and not yet sent (bounded by the same budget as the bodies').",
        )?;
        registry.register(Box::new(bodies.clone()))?;
        registry.register(Box::new(answers.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(rows.clone()))?;
        registry.register(Box::new(ready.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            errors,
            latency,
            rows,
            ready,
            bodies,
            answers,
        })
    }

    /// Counts one answered request.
    pub(crate) fn request(&self, endpoint: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.requests
            .with_label_values(&[endpoint, status.as_str()])
            .inc();
        if status.starts_with('4') || status.starts_with('5') {
            self.errors
                .with_label_values(&[endpoint, status.as_str()])
                .inc();
        }
        self.latency
            .with_label_values(&[endpoint])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts rows a model answered.
    pub(crate) fn rows(&self, model: &str, n: usize) {
        self.rows.with_label_values(&[model]).inc_by(n as u64);
    }

    /// Sets whether a model is ready.
    pub(crate) fn ready(&self, model: &str, ready: bool) {
        self.ready.with_label_values(&[model]).set(i64::from(ready));
    }

    /// Sets the bytes of request bodies and of answers held.
    pub(crate) fn bodies_held(&self, bodies: usize, answers: usize) {
        self.bodies.set(i64::try_from(bodies).unwrap_or(i64::MAX));
        self.answers.set(i64::try_from(answers).unwrap_or(i64::MAX));
    }

    /// Everything, in the text format, with its content type.
    pub(crate) fn render(&self) -> (String, Vec<u8>) {
        let encoder = TextEncoder::new();
        let mut buffer = Vec::new();
        // Encoding into memory fails only on a malformed metric family, which the fixed names
        // above rule out; an empty scrape is then the honest answer.
        if encoder
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            buffer.clear();
        }
        (encoder.format_type().to_owned(), buffer)
    }
}
