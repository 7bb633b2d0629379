//! Per-IP rate limits on public endpoints: a token bucket per client address
//! (`burst` requests at once, refilled at `per_minute`). Over the limit: 429
//! with `Retry-After` and a JSON message.
//!
//! Behind a load balancer every request arrives from the balancer's address;
//! [`TrustedProxies`] names the balancers whose `X-Forwarded-For` is believed,
//! so limits and logs see the citizen's address instead.

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

/// Proxies (addresses or networks) whose `X-Forwarded-For` header is
/// believed. Empty: the header is ignored, as anyone can send it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parse a comma-separated list of addresses (`10.0.0.5`) and networks
    /// (`10.0.0.0/24`, `fd00::/8`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(n) => n,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| format!("not an IP address or network: {item:?}"))?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client address of a request (loopback when unknown, e.g. in-process
/// tests). When the peer is a trusted proxy, the address its
/// `X-Forwarded-For` names: walking from the right (the hop nearest to us),
/// the first address that is not itself a trusted proxy; a malformed entry
/// stops the walk at the hop that added it.
pub fn client_ip(req: &Request, trusted: &TrustedProxies) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// Middleware: refuse requests over the per-IP rate.
pub async fn rate_limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match state
        .limiter
        .check(client_ip(&req, &state.config.trusted_proxies))
    {
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

    fn request(peer: &str, xff: &[&str]) -> Request {
        let mut b = axum::http::Request::builder().uri("/api/search");
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let mut req = b.body(axum::body::Body::empty()).expect("request");
        let addr: SocketAddr = format!("{peer}:40000").parse().expect("addr");
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let lb = TrustedProxies::parse("10.0.0.5, 10.1.0.0/16").expect("parse");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // No trusted proxies: the header is ignored (anyone can send it).
        assert_eq!(
            client_ip(&request("10.0.0.5", &["1.2.3.4"]), &none),
            ip("10.0.0.5")
        );
        // From an untrusted peer: ignored.
        assert_eq!(
            client_ip(&request("8.8.8.8", &["1.2.3.4"]), &lb),
            ip("8.8.8.8")
        );
        // From the balancer: the nearest untrusted hop, not a spoofed left one.
        assert_eq!(
            client_ip(&request("10.0.0.5", &["6.6.6.6, 1.2.3.4"]), &lb),
            ip("1.2.3.4")
        );
        // Chained trusted proxies (two headers) are walked through.
        assert_eq!(
            client_ip(&request("10.0.0.5", &["1.2.3.4", "10.1.2.3"]), &lb),
            ip("1.2.3.4")
        );
        // Garbage stops the walk at the hop that added it.
        assert_eq!(
            client_ip(&request("10.0.0.5", &["1.2.3.4, junk, 10.1.2.3"]), &lb),
            ip("10.1.2.3")
        );
        // No header: the peer.
        assert_eq!(client_ip(&request("10.0.0.5", &[]), &lb), ip("10.0.0.5"));
        assert!(TrustedProxies::parse("10.0.0.5, nonsense").is_err());
    }
}
