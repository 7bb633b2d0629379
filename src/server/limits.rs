//! Per-IP rate limits on public endpoints: a token bucket per client address
//! (`burst` requests at once, refilled at `per_minute`). Over the limit: 429
//! with `Retry-After` and a JSON message.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use super::AppState;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by client IP.
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_sec: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `ip`; `Err(seconds to wait)` when none is left.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() > 50_000 {
            // Forget clients whose bucket has refilled.
            let (per_sec, burst) = (self.per_sec, self.burst);
            b.retain(|_, v| v.tokens + now.duration_since(v.last).as_secs_f64() * per_sec < burst);
        }
        let bucket = b.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.last).as_secs_f64() * self.per_sec)
            .min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// The client address of a request (loopback when unknown, e.g. in-process tests).
pub fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Middleware: refuse requests over the per-IP rate.
pub async fn rate_limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match state.limiter.check(client_ip(&req)) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            state.metrics.rate_limited();
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("请求过于频繁，请 {wait} 秒后再试"),
            )
            .retry_after(wait)
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let l = RateLimiter::new(60, 3);
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(l.check(ip), Ok(()));
        }
        let wait = l.check(ip).expect_err("over the limit");
        assert!((1..=2).contains(&wait), "{wait}");
        assert_eq!(l.check(other), Ok(()), "other clients are not affected");
    }
}
