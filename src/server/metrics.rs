//! Prometheus text metrics at `/metrics`: request counts and latencies per
//! route, queue depth, running generations, generated tokens and tokens/s,
//! tokens guessed ahead and kept.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    generations: AtomicU64,
    gen_tokens: AtomicU64,
    draft_tokens: AtomicU64,
    draft_accepted: AtomicU64,
    rejected_full: AtomicU64,
    rate_limited: AtomicU64,
    storage_failed: AtomicU64,
    connections_refused: AtomicU64,
    last_tokens_per_s: Mutex<f64>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    /// A generation finished.
    pub fn generation(&self, t: &crate::answer::Timings) {
        self.generations.fetch_add(1, Ordering::Relaxed);
        self.gen_tokens
            .fetch_add(t.gen_tokens as u64, Ordering::Relaxed);
        self.draft_tokens
            .fetch_add(t.draft_tokens as u64, Ordering::Relaxed);
        self.draft_accepted
            .fetch_add(t.draft_accepted as u64, Ordering::Relaxed);
        let tokens_per_s = t.tokens_per_s;
        if let Ok(mut t) = self.last_tokens_per_s.lock() {
            *t = tokens_per_s;
        }
    }

    pub fn queue_full(&self) {
        self.rejected_full.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// An answer could not be stored (the request failed with 503).
    pub fn storage_failed(&self) {
        self.storage_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was refused by the global or per-IP connection cap.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus exposition text.
    pub fn render(&self, queue_depth: usize, running: usize, generators: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP lawbrain_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE lawbrain_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((m, route, s), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "lawbrain_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                    route.replace('"', "")
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP lawbrain_http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE lawbrain_http_request_duration_seconds histogram"
        );
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let route = route.replace('"', "");
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "lawbrain_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "lawbrain_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "lawbrain_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "lawbrain_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let tps = self.last_tokens_per_s.lock().map(|t| *t).unwrap_or(0.0);
        for (name, kind, help, value) in [
            (
                "lawbrain_queue_depth",
                "gauge",
                "Requests waiting for a generator.",
                queue_depth as f64,
            ),
            (
                "lawbrain_generations_running",
                "gauge",
                "Generations running now.",
                running as f64,
            ),
            (
                "lawbrain_generators",
                "gauge",
                "Configured concurrent generations.",
                generators as f64,
            ),
            (
                "lawbrain_generations_total",
                "counter",
                "Finished generations.",
                self.generations.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_generated_tokens_total",
                "counter",
                "Tokens generated.",
                self.gen_tokens.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_draft_tokens_total",
                "counter",
                "Tokens guessed ahead by prompt lookup and checked by the model.",
                self.draft_tokens.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_draft_accepted_total",
                "counter",
                "Guessed tokens the model kept.",
                self.draft_accepted.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_tokens_per_second",
                "gauge",
                "Generation speed of the last answer.",
                tps,
            ),
            (
                "lawbrain_queue_rejected_total",
                "counter",
                "Requests refused because the queue was full.",
                self.rejected_full.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_rate_limited_total",
                "counter",
                "Requests refused by the per-IP rate limit.",
                self.rate_limited.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_storage_failures_total",
                "counter",
                "Answers that could not be stored (answered 503).",
                self.storage_failed.load(Ordering::Relaxed) as f64,
            ),
            (
                "lawbrain_connections_refused_total",
                "counter",
                "Connections refused by the connection caps.",
                self.connections_refused.load(Ordering::Relaxed) as f64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

/// Middleware (route layer): count and time every matched request.
pub async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
