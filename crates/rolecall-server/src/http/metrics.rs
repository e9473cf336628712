//! `/metrics` in the Prometheus text format: request counts by status
//! class, check counts, and the state's size and revision. A handful of
//! atomics, written out by hand: the format is a few lines of text.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Counters, updated without locks.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Responses by status class: 1xx .. 5xx.
    responses: [AtomicU64; 5],
    /// Checks answered (each entry of a batch counts).
    pub checks: AtomicU64,
    /// Checks answered "allowed".
    pub allowed: AtomicU64,
}

impl Metrics {
    /// Counts answered checks.
    pub fn record_checks(&self, total: u64, allowed: u64) {
        self.checks.fetch_add(total, Ordering::Relaxed);
        self.allowed.fetch_add(allowed, Ordering::Relaxed);
    }
}

/// Middleware counting every response by status class.
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = usize::from(response.status().as_u16() / 100).clamp(1, 5) - 1;
    state.metrics.responses[class].fetch_add(1, Ordering::Relaxed);
    response
}

/// `GET /metrics`
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let live = state.service.live();
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP rolecall_http_responses_total HTTP responses by status class."
    );
    let _ = writeln!(out, "# TYPE rolecall_http_responses_total counter");
    for (i, counter) in m.responses.iter().enumerate() {
        let _ = writeln!(
            out,
            "rolecall_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            counter.load(Ordering::Relaxed)
        );
    }
    let counters = [
        (
            "rolecall_checks_total",
            "Checks answered.",
            m.checks.load(Ordering::Relaxed),
        ),
        (
            "rolecall_checks_allowed_total",
            "Checks answered allowed.",
            m.allowed.load(Ordering::Relaxed),
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let gauges = [
        (
            "rolecall_revision",
            "The last revision this replica applied.",
            live.revision,
        ),
        (
            "rolecall_users",
            "Users in the snapshot.",
            len(live.model.users.len()),
        ),
        (
            "rolecall_organizations",
            "Organizations in the snapshot.",
            len(live.model.orgs.len()),
        ),
        (
            "rolecall_snapshot_bytes",
            "Bytes held by the compiled check structures.",
            len(live.snapshot.compiled_bytes()),
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

fn len(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
